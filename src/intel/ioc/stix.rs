//! JSON indicator files: STIX 2.1 bundles (as MVT and Amnesty publish them) and TinyCheck's
//! `{"iocs": […]}` export.
//!
//! STIX: every `indicator` whose pattern is a disjunction of network comparisons
//! (`domain-name:value`, `ipv4-addr:value`, `ipv6-addr:value`, `url:value`,
//! `email-addr:value`) yields those values; comparisons on other paths (`process:name`,
//! `file:*`, `app:id`, …) and patterns of other shapes are skipped and counted; a pattern
//! that does not parse is an error at the position serde_json reports (the end of that
//! indicator object). An indicator's family is the name of the object its `indicates`
//! relationship targets (a `malware` preferred), else the bundle's first `malware` name,
//! else its first named `intrusion-set`/`campaign`/`threat-actor`/`tool`/`report`.
//!
//! Invariants: objects are deserialised into small typed records (unknown fields are
//! skipped, not stored), and at most [`MAX_JSON_ITEMS`] are kept per file.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fmt;
use std::marker::PhantomData;

use rustc_hash::FxHashMap;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::format::{FileError, Outcome, ParsedFile, Rank};
use super::normalize::{self, Value};
use super::pattern::{self, Pattern};
use super::MAX_INDICATORS;

/// Most objects (STIX) or entries (TinyCheck) kept from one JSON file: bounds memory for a
/// file of millions of tiny objects (each STIX indicator comes with a relationship, hence 2×).
pub const MAX_JSON_ITEMS: usize = 2 * MAX_INDICATORS;

/// STIX object types whose `name` can serve as a family.
const NAMED_TYPES: &[&str] = &[
    "malware",
    "intrusion-set",
    "campaign",
    "threat-actor",
    "tool",
    "report",
];

#[derive(Deserialize)]
struct JsonDoc {
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(default, deserialize_with = "bounded_vec")]
    objects: Option<Vec<Obj>>,
    #[serde(default, deserialize_with = "bounded_vec")]
    iocs: Option<Vec<TinyIoc>>,
}

/// A STIX object reduced to what matching needs.
#[derive(Deserialize)]
#[serde(try_from = "RawObj")]
enum Obj {
    Indicator {
        id: String,
        values: Vec<Value>,
        skipped: usize,
    },
    /// An indicator whose pattern is malformed; reported once the position is found.
    Bad {
        id: String,
        pattern: Option<String>,
        message: String,
    },
    Named {
        id: String,
        ty: String,
        name: String,
    },
    Relationship {
        source: String,
        target: String,
    },
    Other,
}

#[derive(Deserialize)]
struct RawObj {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    id: String,
    name: Option<String>,
    pattern: Option<String>,
    pattern_type: Option<String>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
}

impl TryFrom<RawObj> for Obj {
    type Error = String;

    fn try_from(r: RawObj) -> Result<Obj, String> {
        match r.ty.as_str() {
            "indicator" => {
                if r.pattern_type.as_deref().is_some_and(|t| t != "stix") {
                    return Ok(Obj::Indicator {
                        id: r.id,
                        values: Vec::new(),
                        skipped: 1,
                    });
                }
                let Some(pat) = r.pattern else {
                    let message = "STIX indicator without a pattern".to_string();
                    return Ok(Obj::Bad {
                        id: r.id,
                        pattern: None,
                        message,
                    });
                };
                match network_values(&pat) {
                    Ok((values, skipped)) => Ok(Obj::Indicator {
                        id: r.id,
                        values,
                        skipped,
                    }),
                    Err(message) => Ok(Obj::Bad {
                        id: r.id,
                        pattern: Some(pat),
                        message,
                    }),
                }
            }
            "relationship" if r.relationship_type.as_deref() == Some("indicates") => {
                match (r.source_ref, r.target_ref) {
                    (Some(source), Some(target)) => Ok(Obj::Relationship { source, target }),
                    _ => Err("STIX relationship without source_ref or target_ref".into()),
                }
            }
            ty if NAMED_TYPES.contains(&ty) => match r.name {
                Some(name) => Ok(Obj::Named {
                    id: r.id,
                    ty: r.ty,
                    name,
                }),
                None => Ok(Obj::Other),
            },
            _ => Ok(Obj::Other),
        }
    }
}

/// The network values of one pattern, and how many comparisons (or whole patterns) it skips.
fn network_values(pat: &str) -> Result<(Vec<Value>, usize), String> {
    let comps = match pattern::parse(pat)? {
        Pattern::AnyOf(c) => c,
        Pattern::Unsupported => return Ok((Vec::new(), 1)),
    };
    let mut values = Vec::new();
    let mut skipped = 0;
    for (path, v) in comps {
        let value = match path.as_str() {
            "domain-name:value" => {
                normalize::host_value(&v).map_err(|m| format!("domain-name value: {m}"))?
            }
            "ipv4-addr:value" | "ipv6-addr:value" => normalize::parse_net(&v)
                .map(Value::Net)
                .ok_or_else(|| format!("{path} is not an IP address or network"))?,
            "url:value" => normalize::url_key(&v)
                .map(Value::Url)
                .ok_or("url:value is not a URL with a valid host")?,
            "email-addr:value" => {
                Value::Email(normalize::email(&v).map_err(|m| format!("email-addr value: {m}"))?)
            }
            _ => {
                skipped += 1;
                continue;
            }
        };
        values.push(value);
    }
    Ok((values, skipped))
}

/// One TinyCheck entry: `{"type": "domain"|"ip4addr"|…, "value": …}`.
#[derive(Deserialize)]
#[serde(try_from = "RawTiny")]
struct TinyIoc(Option<Value>);

#[derive(Deserialize)]
struct RawTiny {
    #[serde(rename = "type")]
    ty: String,
    value: String,
}

impl TryFrom<RawTiny> for TinyIoc {
    type Error = String;

    fn try_from(r: RawTiny) -> Result<TinyIoc, String> {
        let v = match r.ty.as_str() {
            "domain" | "freedns" => normalize::host_value(&r.value).map_err(String::from)?,
            "ip4addr" | "ip6addr" | "cidr" => normalize::parse_net(&r.value)
                .map(Value::Net)
                .ok_or("TinyCheck address entry is not an IP address or network")?,
            _ => return Ok(TinyIoc(None)),
        };
        Ok(TinyIoc(Some(v)))
    }
}

/// Parses a JSON indicator file (STIX bundle or TinyCheck export).
pub fn parse_json(text: &str) -> Result<Outcome, FileError> {
    let doc: JsonDoc = serde_json::from_str(text).map_err(json_error)?;
    if let Some(iocs) = doc.iocs {
        let mut out = ParsedFile::new(Rank::TinyCheck);
        for TinyIoc(v) in iocs {
            match v {
                Some(v) => out.push(v, false, None).map_err(FileError::whole)?,
                None => out.skipped_entries += 1,
            }
        }
        return Ok(Outcome::Indicators(out));
    }
    match (doc.ty.as_deref(), doc.objects) {
        (Some("bundle"), Some(objects)) => bundle(text, objects).map(Outcome::Indicators),
        (Some("bundle"), None) => Ok(Outcome::Indicators(ParsedFile::new(Rank::Structured))),
        _ => Err(FileError::at(
            1,
            "JSON is neither a STIX 2.1 bundle nor a TinyCheck `iocs` list",
        )),
    }
}

fn bundle(text: &str, objects: Vec<Obj>) -> Result<ParsedFile, FileError> {
    if let Some(Obj::Bad {
        id,
        pattern,
        message,
    }) = objects.iter().find(|o| matches!(o, Obj::Bad { .. }))
    {
        return Err(bad_indicator(text, id, pattern.as_deref(), message));
    }
    let mut names: FxHashMap<&str, (&str, bool)> = FxHashMap::default();
    let mut fallback: Option<(&str, bool)> = None;
    for o in &objects {
        if let Obj::Named { id, ty, name } = o {
            let is_malware = ty == "malware";
            names.insert(id, (name, is_malware));
            if fallback.map_or(true, |(_, m)| is_malware && !m) {
                fallback = Some((name, is_malware));
            }
        }
    }
    // Indicator id → family name, a malware target preferred over other named targets.
    let mut family_of: FxHashMap<&str, (&str, bool)> = FxHashMap::default();
    for o in &objects {
        if let Obj::Relationship { source, target } = o {
            if let Some(&(name, is_malware)) = names.get(target.as_str()) {
                let e = family_of.entry(source).or_insert((name, is_malware));
                if is_malware && !e.1 {
                    *e = (name, is_malware);
                }
            }
        }
    }
    let mut out = ParsedFile::new(Rank::Structured);
    for o in &objects {
        if let Obj::Indicator {
            id,
            values,
            skipped,
        } = o
        {
            out.skipped_patterns += skipped;
            let fam = family_of
                .get(id.as_str())
                .or(fallback.as_ref())
                .map(|&(n, _)| n);
            let fam = fam.and_then(|n| out.family(n));
            for v in values {
                out.push(v.clone(), false, fam).map_err(FileError::whole)?;
            }
        }
    }
    Ok(out)
}

/// The error of a malformed indicator, at the line of its pattern string in `text` (its JSON
/// form searched for), else of its id. serde_json only knows where the enclosing list ended.
fn bad_indicator(text: &str, id: &str, pattern: Option<&str>, message: &str) -> FileError {
    let needle = |s: &str| serde_json::to_string(s).ok();
    let at = pattern
        .and_then(needle)
        .and_then(|n| text.find(&n))
        .or_else(|| {
            needle(id)
                .and_then(|n| text.find(&n))
                .filter(|_| !id.is_empty())
        });
    let before = at.and_then(|i| text.get(..i));
    FileError {
        line: before.map(|b| b.matches('\n').count() + 1),
        column: before.map(|b| b.len() - b.rfind('\n').map_or(0, |n| n + 1) + 1),
        message: message.to_string(),
    }
}

/// A serde_json error as a positioned file error, without serde_json's own position suffix.
fn json_error(e: serde_json::Error) -> FileError {
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(&msg).to_string(),
        None => msg,
    };
    FileError {
        line: (e.line() > 0).then_some(e.line()),
        column: (e.column() > 0).then_some(e.column()),
        message: format!("invalid JSON: {msg}"),
    }
}

/// Deserialises an optional list, keeping only the elements worth keeping ([`Keep`]); fails
/// once more than [`MAX_JSON_ITEMS`] would be kept.
pub fn bounded_vec<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Keep,
{
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de> + Keep> Visitor<'de> for V<T> {
        type Value = Option<Vec<T>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<T>()? {
                if !item.keep() {
                    continue;
                }
                if out.len() >= MAX_JSON_ITEMS {
                    return Err(de::Error::custom(format!(
                        "more than {MAX_JSON_ITEMS} entries in one list"
                    )));
                }
                out.push(item);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_any(V(PhantomData))
}

/// Whether a deserialised list element is worth keeping in memory.
pub trait Keep {
    fn keep(&self) -> bool;
}

impl Keep for Obj {
    /// Objects that matter for matching, and malformed indicators (to report them).
    fn keep(&self) -> bool {
        !matches!(self, Obj::Other)
    }
}

impl Keep for TinyIoc {
    fn keep(&self) -> bool {
        true
    }
}
