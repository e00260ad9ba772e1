//! Echap's stalkerware formats: the `ioc.yaml`/`watchware.yaml` app lists and `network.csv`.
//!
//! YAML: one record per app; `name` is the family. Loaded: `c2.domains`, `c2.ips` (also the
//! misspelt `c2.ip` found in ioc.yaml), `distribution` (where the app is downloaded from) as
//! full-strength indicators, and `websites` as [`super::IndicatorKind::Website`]: they are the
//! vendors' own sites (sales pages, the buyer's dashboard). A phone reaching them is weaker
//! evidence than C2 traffic (anyone may browse them) but still worth an alert: stalkerware is
//! usually installed by someone holding the victim's phone, who downloads it from there.
//! Packages, certificates and iOS bundle ids are not seen on a network and are ignored.
//!
//! A value that is not a host name or address is an error at its line, from the YAML parser's
//! position. YAML files are limited to [`MAX_YAML_BYTES`] because the parser holds the whole
//! event list in memory.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::format::{csv_fields, FileError, Outcome, ParsedFile, Rank};
use super::normalize::{self, Value};

/// Largest YAML file parsed (Echap's ioc.yaml is ~95 KB): serde_norway keeps every parser
/// event of the document in memory, several times the file size.
pub const MAX_YAML_BYTES: usize = 4 * 1024 * 1024;

/// A host or address from an Echap list, classified while parsing so that a bad value is
/// reported at its own line.
struct NetValue(Value);

impl<'de> Deserialize<'de> for NetValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<NetValue, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NetValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a host name or IP address")
            }
            // Failing inside the scalar's own visit lets the parser stamp its line.
            fn visit_str<E: de::Error>(self, s: &str) -> Result<NetValue, E> {
                normalize::host_value(s).map(NetValue).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Deserialize)]
struct App {
    name: String,
    websites: Option<Vec<NetValue>>,
    distribution: Option<Vec<NetValue>>,
    c2: Option<C2>,
}

#[derive(Deserialize)]
struct C2 {
    #[serde(alias = "ip")]
    ips: Option<Vec<NetValue>>,
    domains: Option<Vec<NetValue>>,
}

/// Parses an Echap app list, or recognises MVT's index file and skips it.
pub fn parse_yaml(text: &str) -> Result<Outcome, FileError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(FileError::whole("YAML file larger than 4 MiB"));
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---");
    if first.is_some_and(|l| l.starts_with("indicators:")) {
        return Ok(Outcome::Skipped(
            "MVT indicator index (names files to download)",
        ));
    }
    let apps: Option<Vec<App>> = serde_norway::from_str(text).map_err(yaml_error)?;
    let mut out = ParsedFile::new(Rank::Structured);
    for app in apps.unwrap_or_default() {
        let fam = out.family(&app.name);
        let (ips, domains) = app.c2.map_or((None, None), |c| (c.ips, c.domains));
        let strong = [ips, domains, app.distribution]
            .into_iter()
            .flatten()
            .flatten();
        for NetValue(v) in strong {
            out.push(v, false, fam).map_err(FileError::whole)?;
        }
        for NetValue(v) in app.websites.into_iter().flatten() {
            out.push(v, true, fam).map_err(FileError::whole)?;
        }
    }
    Ok(Outcome::Indicators(out))
}

fn yaml_error(e: serde_norway::Error) -> FileError {
    let loc = e.location();
    let msg = e.to_string();
    // serde_norway appends " at line L column C"; the position is kept as fields instead.
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(&msg).to_string(),
        None => msg,
    };
    FileError {
        line: loc.as_ref().map(|l| l.line()),
        column: loc.as_ref().map(|l| l.column()),
        message: format!("invalid YAML: {msg}"),
    }
}

/// Parses Echap's `network.csv` (`type,indicator,app`; types `domain`, `ipv4`, `ipv6`, `url`,
/// and, as written by `tools/gen-ioc.py` for the built-in set, `email` and `website`; other
/// types are skipped and counted).
pub fn parse_network_csv(text: &str) -> Result<ParsedFile, FileError> {
    let mut out = ParsedFile::new(Rank::Csv);
    for (i, line) in text.lines().enumerate().skip(1) {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let f = csv_fields(line).ok_or_else(|| FileError::at(line_no, "unterminated quote"))?;
        let [ty, value, app] = f.as_slice() else {
            return Err(FileError::at(
                line_no,
                "expected 3 fields: type,indicator,app",
            ));
        };
        let ty = ty.trim();
        let v = match ty {
            "domain" | "website" => normalize::host_value(value),
            "email" => normalize::email(value).map(Value::Email),
            "ipv4" | "ipv6" => normalize::parse_net(value.trim())
                .map(Value::Net)
                .ok_or("not an IP address or network"),
            "url" => normalize::url_key(value)
                .map(Value::Url)
                .ok_or("not a URL with a valid host"),
            _ => {
                out.skipped_entries += 1;
                continue;
            }
        };
        let v = v.map_err(|m| FileError::at(line_no, m))?;
        let fam = out.family(app);
        out.push(v, ty == "website", fam)
            .map_err(|m| FileError::at(line_no, m))?;
    }
    Ok(out)
}
