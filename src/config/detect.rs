//! The detector sections of `phonehome.toml`: `[[identifiers]]`, `[ioc]`, `[trackers]`, `[geo]`
//! and `[policy]`, validated like the rest (errors name file, line and key). Relative paths
//! resolve against the folder holding the configuration file.

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Spanned, Value};

use super::raw::{Ctx, Field};
use super::ConfigError;
use crate::event::MacAddr;

/// Identifier kinds a user can configure (the names `pii_leak` alerts use).
pub const IDENTIFIER_KINDS: &[&str] = &[
    "imei",
    "imsi",
    "iccid",
    "serial",
    "mac",
    "phone",
    "email",
    "android_id",
    "advertising_id",
];

/// Longest configured identifier value.
const MAX_IDENTIFIER_LEN: usize = 256;
/// Most `[[identifiers]]` tables: each becomes a dozen automaton patterns.
const MAX_IDENTIFIERS: usize = 256;
/// Most entries of one list (paths, countries, ASNs, allowed domains).
const MAX_LIST: usize = 4096;
const BOOT_WINDOW_SECS: RangeInclusive<i64> = 10..=3600;

/// Where the packaged data lives on the device (installed by the .deb).
pub const DEFAULT_IOC_DIR: &str = "/usr/share/phonehome/ioc";
pub const DEFAULT_COUNTRY_DB: &str = "/usr/share/phonehome/geo/geo-whois-asn-country.mmdb";
pub const DEFAULT_ASN_DBS: [&str; 2] = [
    "/usr/share/phonehome/geo/asn-ipv4.csv",
    "/usr/share/phonehome/geo/asn-ipv6.csv",
];

/// One `[[identifiers]]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifierConfig {
    /// One of [`IDENTIFIER_KINDS`].
    pub kind: String,
    pub value: String,
    /// Only for this device.
    pub device: Option<MacAddr>,
}

/// The detector settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectConfig {
    pub identifiers: Vec<IdentifierConfig>,
    /// Indicator files and folders.
    pub ioc_paths: Vec<PathBuf>,
    /// False when `ioc_paths` is the packaged default (then a missing folder is not an error).
    pub ioc_paths_explicit: bool,
    /// Extra tracker lists.
    pub tracker_paths: Vec<PathBuf>,
    pub country_db: Option<PathBuf>,
    pub asn_dbs: Vec<PathBuf>,
    /// False when the geo paths are the packaged defaults (missing files are skipped).
    pub geo_explicit: bool,
    /// Upper-case ISO 3166 alpha-2 codes.
    pub watch_countries: Vec<String>,
    pub watch_asns: Vec<u32>,
    /// Lower-case domains.
    pub allow: Vec<String>,
    pub boot_window_secs: u32,
    pub local_resolvers: Vec<IpAddr>,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            identifiers: Vec::new(),
            ioc_paths: vec![PathBuf::from(DEFAULT_IOC_DIR)],
            ioc_paths_explicit: false,
            tracker_paths: Vec::new(),
            country_db: Some(PathBuf::from(DEFAULT_COUNTRY_DB)),
            asn_dbs: DEFAULT_ASN_DBS.iter().map(PathBuf::from).collect(),
            geo_explicit: false,
            watch_countries: Vec::new(),
            watch_asns: Vec::new(),
            allow: Vec::new(),
            boot_window_secs: 120,
            local_resolvers: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdentifier {
    kind: Field,
    value: Field,
    device: Field,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPaths {
    paths: Field,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGeo {
    country_db: Field,
    asn_db: Field,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    watch_countries: Field,
    watch_asns: Field,
    allow: Field,
    boot_window_secs: Field,
    local_resolvers: Field,
}

/// Validates the detector sections.
pub(super) fn validate(
    ctx: &Ctx<'_>,
    identifiers: Vec<RawIdentifier>,
    ioc: RawPaths,
    trackers: RawPaths,
    geo: RawGeo,
    policy: RawPolicy,
) -> Result<DetectConfig, ConfigError> {
    let d = DetectConfig::default();
    let base = ctx.path.parent().unwrap_or(Path::new("."));
    if identifiers.len() > MAX_IDENTIFIERS {
        let span = identifiers
            .get(MAX_IDENTIFIERS)
            .and_then(|i| i.kind.as_ref().map(Spanned::span))
            .unwrap_or(0..0);
        return Err(ctx_invalid(
            ctx,
            span,
            "identifiers",
            format!("[[identifiers]]: at most {MAX_IDENTIFIERS} tables"),
        ));
    }
    let mut ids = Vec::with_capacity(identifiers.len());
    for raw in identifiers {
        // Where to point when a key is missing: any key of the same table.
        let near = [&raw.kind, &raw.value, &raw.device]
            .into_iter()
            .flatten()
            .map(Spanned::span)
            .next()
            .unwrap_or(0..0);
        let bad = |v, key: &str, expected: &str| bad(ctx, near.clone(), key, v, expected);
        let kind = required_string(ctx, "identifiers", "kind", raw.kind.as_ref(), |v| {
            IDENTIFIER_KINDS.contains(&v)
        })
        .map_err(|v| {
            bad(
                v,
                "kind",
                &format!("one of {}", IDENTIFIER_KINDS.join(", ")),
            )
        })?;
        let value = required_string(ctx, "identifiers", "value", raw.value.as_ref(), |v| {
            !v.trim().is_empty() && v.len() <= MAX_IDENTIFIER_LEN
        })
        .map_err(|v| bad(v, "value", "a non-empty string of at most 256 bytes"))?;
        let device = match &raw.device {
            None => None,
            Some(v) => match v.get_ref() {
                Value::String(s) if MacAddr::parse(s).is_some() => MacAddr::parse(s),
                _ => return Err(ctx.bad_value("identifiers", "device", v, "a MAC address")),
            },
        };
        ids.push(IdentifierConfig {
            kind,
            value: value.trim().to_owned(),
            device,
        });
    }
    let ioc_paths = string_list(
        ctx,
        ("ioc", "paths"),
        &ioc.paths,
        |s| !s.is_empty(),
        "a list of paths",
    )?;
    let tracker_paths = string_list(
        ctx,
        ("trackers", "paths"),
        &trackers.paths,
        |s| !s.is_empty(),
        "a list of paths",
    )?;
    let country_db = match &geo.country_db {
        None => None,
        Some(v) => match v.get_ref() {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => return Err(ctx.bad_value("geo", "country_db", v, "a path")),
        },
    };
    let asn_db = string_list(
        ctx,
        ("geo", "asn_db"),
        &geo.asn_db,
        |s| !s.is_empty(),
        "a list of paths",
    )?;
    let geo_explicit = geo.country_db.is_some() || geo.asn_db.is_some();
    let watch_countries = string_list(
        ctx,
        ("policy", "watch_countries"),
        &policy.watch_countries,
        |s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()),
        "a list of two-letter country codes",
    )?;
    let watch_asns = int_list(ctx, ("policy", "watch_asns"), &policy.watch_asns)?;
    let allow = string_list(
        ctx,
        ("policy", "allow"),
        &policy.allow,
        |s| !s.is_empty() && s.len() <= 253 && !s.contains(char::is_whitespace),
        "a list of domain names",
    )?;
    let resolvers = string_list(
        ctx,
        ("policy", "local_resolvers"),
        &policy.local_resolvers,
        |s| s.parse::<IpAddr>().is_ok(),
        "a list of IP addresses",
    )?;
    let resolve = |p: String| -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            base.join(p)
        }
    };
    Ok(DetectConfig {
        identifiers: ids,
        ioc_paths_explicit: ioc.paths.is_some(),
        ioc_paths: match ioc_paths {
            Some(l) => l.into_iter().map(resolve).collect(),
            None => d.ioc_paths,
        },
        tracker_paths: tracker_paths
            .unwrap_or_default()
            .into_iter()
            .map(resolve)
            .collect(),
        country_db: if geo_explicit {
            country_db.map(resolve)
        } else {
            d.country_db
        },
        asn_dbs: if geo_explicit {
            asn_db
                .unwrap_or_default()
                .into_iter()
                .map(resolve)
                .collect()
        } else {
            d.asn_dbs
        },
        geo_explicit,
        watch_countries: watch_countries
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        watch_asns: watch_asns.unwrap_or_default(),
        allow: allow
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.trim_end_matches('.').to_ascii_lowercase())
            .collect(),
        boot_window_secs: ctx.int(
            ("policy", "boot_window_secs"),
            &policy.boot_window_secs,
            d.boot_window_secs,
            BOOT_WINDOW_SECS,
        )?,
        local_resolvers: resolvers
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect(),
    })
}

/// A required string field: Ok(value), or Err(the offending field, None when missing).
fn required_string<'f>(
    _ctx: &Ctx<'_>,
    _section: &str,
    _key: &str,
    field: Option<&'f Spanned<Value>>,
    valid: impl Fn(&str) -> bool,
) -> Result<String, Option<&'f Spanned<Value>>> {
    match field {
        None => Err(None),
        Some(v) => match v.get_ref() {
            Value::String(s) if valid(s) => Ok(s.clone()),
            _ => Err(Some(v)),
        },
    }
}

/// An `[[identifiers]]` value error; a missing key points at `near` (the same table).
fn bad(
    ctx: &Ctx<'_>,
    near: std::ops::Range<usize>,
    key: &str,
    v: Option<&Spanned<Value>>,
    expected: &str,
) -> ConfigError {
    match v {
        Some(v) => ctx.bad_value("identifiers", key, v, expected),
        None => ctx_invalid(
            ctx,
            near,
            &format!("identifiers.{key}"),
            format!("[[identifiers]] {key}: missing (expected {expected})"),
        ),
    }
}

fn ctx_invalid(
    ctx: &Ctx<'_>,
    span: std::ops::Range<usize>,
    key: &str,
    message: String,
) -> ConfigError {
    ctx.invalid_at(span, Some(key), message)
}

/// A list of strings, each passing `valid`; None when absent.
fn string_list(
    ctx: &Ctx<'_>,
    (section, key): (&str, &str),
    field: &Field,
    valid: impl Fn(&str) -> bool,
    expected: &str,
) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(v) = field else { return Ok(None) };
    if let Value::Array(items) = v.get_ref() {
        if items.len() <= MAX_LIST {
            let out: Option<Vec<String>> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) if valid(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            if let Some(out) = out {
                return Ok(Some(out));
            }
        }
    }
    Err(ctx.bad_value(section, key, v, expected))
}

/// A list of AS numbers; None when absent.
fn int_list(
    ctx: &Ctx<'_>,
    (section, key): (&str, &str),
    field: &Field,
) -> Result<Option<Vec<u32>>, ConfigError> {
    let Some(v) = field else { return Ok(None) };
    if let Value::Array(items) = v.get_ref() {
        if items.len() <= MAX_LIST {
            let out: Option<Vec<u32>> = items
                .iter()
                .map(|i| match i {
                    Value::Integer(n) => u32::try_from(*n).ok().filter(|n| *n > 0),
                    _ => None,
                })
                .collect();
            if let Some(out) = out {
                return Ok(Some(out));
            }
        }
    }
    Err(ctx.bad_value(section, key, v, "a list of AS numbers (positive integers)"))
}
