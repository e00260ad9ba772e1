//! Deserialisation of `phonehome.toml` into raw structs and their validation into
//! [`Config`]; every error is rewritten to name the file, line and key.
//!
//! Raw fields are `Option<Spanned<toml::Value>>` so that a value of the wrong type still
//! deserialises and the validator can report it in the house format with its exact span;
//! `#[serde(deny_unknown_fields)]` rejects unknown sections and keys, and
//! `serde_path_to_error` tells which section such an error belongs to.

use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Spanned, Value};

use super::{CaptureConfig, Config, ConfigError, FlowsConfig, StoreConfig, SECTIONS};

const RCVBUF_MIB: RangeInclusive<i64> = 1..=1024;
const RETENTION_DAYS: RangeInclusive<i64> = 1..=3650;
const QUEUE_CAPACITY: RangeInclusive<i64> = 1024..=4_194_304;
const BATCH_MAX: RangeInclusive<i64> = 1..=100_000;
const MAX_FLOWS: RangeInclusive<i64> = 1024..=4_194_304;
const IDLE_SECS: RangeInclusive<i64> = 1..=86_400;
const INSPECT_BYTES: RangeInclusive<i64> = 1024..=1_048_576;
/// Linux IFNAMSIZ (16) less the terminating NUL.
const MAX_IFNAME_LEN: usize = 15;
/// Longest rendering of an offending value quoted in an error message.
const MAX_QUOTED: usize = 60;

/// Parses and validates `text`, read from `path`.
pub(super) fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let ctx = Ctx { path, text };
    let de = toml::Deserializer::new(text);
    let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| ctx.toml_error(e))?;
    raw.validate(&ctx)
}

pub(super) type Field = Option<Spanned<Value>>;

/// The whole file as written; a missing section means all its defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    capture: RawCapture,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    flows: RawFlows,
    #[serde(default)]
    identifiers: Vec<super::detect::RawIdentifier>,
    #[serde(default)]
    ioc: super::detect::RawPaths,
    #[serde(default)]
    trackers: super::detect::RawPaths,
    #[serde(default)]
    geo: super::detect::RawGeo,
    #[serde(default)]
    policy: super::detect::RawPolicy,
    #[serde(default)]
    indicators: super::indicators::RawIndicators,
    #[serde(default)]
    ap: super::ap::RawAp,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapture {
    interface: Field,
    promiscuous: Field,
    rcvbuf_mib: Field,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Field,
    retention_days: Field,
    queue_capacity: Field,
    batch_max: Field,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlows {
    max_flows: Field,
    tcp_idle_secs: Field,
    udp_idle_secs: Field,
    inspect_bytes: Field,
}

impl RawConfig {
    fn validate(self, ctx: &Ctx<'_>) -> Result<Config, ConfigError> {
        let d = Config::default();
        let (c, s, f) = (self.capture, self.store, self.flows);
        let capture = CaptureConfig {
            interface: ctx.string(
                ("capture", "interface"),
                c.interface,
                d.capture.interface,
                |v| {
                    !v.is_empty()
                        && v.len() <= MAX_IFNAME_LEN
                        && !v
                            .contains(|ch: char| ch == '/' || ch.is_whitespace() || ch.is_control())
                },
                "an interface name (1-15 characters, no '/' or whitespace)",
            )?,
            promiscuous: ctx.boolean(
                ("capture", "promiscuous"),
                c.promiscuous,
                d.capture.promiscuous,
            )?,
            rcvbuf_mib: ctx.int(
                ("capture", "rcvbuf_mib"),
                &c.rcvbuf_mib,
                d.capture.rcvbuf_mib,
                RCVBUF_MIB,
            )?,
        };
        let default_path = d.store.path.to_string_lossy().into_owned();
        let path = ctx.string(
            ("store", "path"),
            s.path,
            default_path,
            |v| !v.is_empty() && !v.contains('\0'),
            "a file path",
        )?;
        let queue_capacity = ctx.int(
            ("store", "queue_capacity"),
            &s.queue_capacity,
            d.store.queue_capacity,
            QUEUE_CAPACITY,
        )?;
        let batch_max: usize = ctx.int(
            ("store", "batch_max"),
            &s.batch_max,
            d.store.batch_max,
            BATCH_MAX,
        )?;
        if batch_max > queue_capacity {
            let span = s.batch_max.as_ref().map(Spanned::span).unwrap_or(0..0);
            return Err(ctx.invalid(
                span,
                Some("store.batch_max"),
                format!(
                    "[store] batch_max: expected at most queue_capacity ({queue_capacity}), got {batch_max}"
                ),
            ));
        }
        let store = StoreConfig {
            path: PathBuf::from(path),
            retention_days: ctx.int(
                ("store", "retention_days"),
                &s.retention_days,
                d.store.retention_days,
                RETENTION_DAYS,
            )?,
            queue_capacity,
            batch_max,
        };
        let flows = FlowsConfig {
            max_flows: ctx.int(
                ("flows", "max_flows"),
                &f.max_flows,
                d.flows.max_flows,
                MAX_FLOWS,
            )?,
            tcp_idle_secs: ctx.int(
                ("flows", "tcp_idle_secs"),
                &f.tcp_idle_secs,
                d.flows.tcp_idle_secs,
                IDLE_SECS,
            )?,
            udp_idle_secs: ctx.int(
                ("flows", "udp_idle_secs"),
                &f.udp_idle_secs,
                d.flows.udp_idle_secs,
                IDLE_SECS,
            )?,
            inspect_bytes: ctx.int(
                ("flows", "inspect_bytes"),
                &f.inspect_bytes,
                d.flows.inspect_bytes,
                INSPECT_BYTES,
            )?,
        };
        let detect = super::detect::validate(
            ctx,
            self.identifiers,
            self.ioc,
            self.trackers,
            self.geo,
            self.policy,
        )?;
        let indicators = super::indicators::validate(ctx, self.indicators)?;
        let ap = super::ap::validate(ctx, self.ap)?;
        Ok(Config {
            source: Some(ctx.path.to_path_buf()),
            capture,
            store,
            flows,
            detect,
            indicators,
            ap,
        })
    }
}

/// The file being validated: turns spans into lines for error messages.
pub(super) struct Ctx<'a> {
    pub(super) path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    /// An integer in `range`, converted to the target type; `default` when absent.
    pub(super) fn int<T: TryFrom<i64>>(
        &self,
        (section, key): (&str, &str),
        field: &Field,
        default: T,
        range: RangeInclusive<i64>,
    ) -> Result<T, ConfigError> {
        let Some(v) = field else { return Ok(default) };
        let expected = match v.get_ref() {
            Value::Integer(n) if range.contains(n) => {
                if let Ok(t) = T::try_from(*n) {
                    return Ok(t);
                }
                format!("an integer from {} to {}", range.start(), range.end())
            }
            Value::Integer(n) if *n > *range.end() => format!("at most {}", range.end()),
            Value::Integer(_) if *range.start() > 1 => format!("at least {}", range.start()),
            _ if *range.start() >= 1 => "a positive integer".to_owned(),
            _ => "an integer".to_owned(),
        };
        Err(self.bad_value(section, key, v, &expected))
    }

    pub(super) fn boolean(
        &self,
        (section, key): (&str, &str),
        field: Field,
        default: bool,
    ) -> Result<bool, ConfigError> {
        match field {
            None => Ok(default),
            Some(v) => match v.get_ref() {
                Value::Boolean(b) => Ok(*b),
                _ => Err(self.bad_value(section, key, &v, "true or false")),
            },
        }
    }

    pub(super) fn string(
        &self,
        (section, key): (&str, &str),
        field: Field,
        default: String,
        valid: impl Fn(&str) -> bool,
        expected: &str,
    ) -> Result<String, ConfigError> {
        let Some(v) = field else { return Ok(default) };
        if let Value::String(s) = v.get_ref() {
            if valid(s) {
                return Ok(s.clone());
            }
        }
        Err(self.bad_value(section, key, &v, expected))
    }

    pub(super) fn bad_value(
        &self,
        section: &str,
        key: &str,
        v: &Spanned<Value>,
        expected: &str,
    ) -> ConfigError {
        let got = quote(v.get_ref());
        self.invalid(
            v.span(),
            Some(&format!("{section}.{key}")),
            format!("[{section}] {key}: expected {expected}, got {got}"),
        )
    }

    /// An error at `span` (for the detector sections).
    pub(super) fn invalid_at(
        &self,
        span: std::ops::Range<usize>,
        key: Option<&str>,
        message: String,
    ) -> ConfigError {
        self.invalid(span, key, message)
    }

    fn invalid(
        &self,
        span: std::ops::Range<usize>,
        key: Option<&str>,
        message: String,
    ) -> ConfigError {
        let (line, column) = line_col(self.text, span.start);
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            key: key.map(str::to_owned),
            message,
        }
    }

    /// True when byte `offset` lies on a `[table]` header line.
    fn is_table_header(&self, offset: usize) -> bool {
        let head = self.text.get(..offset).unwrap_or_default();
        let start = head.rfind('\n').map_or(0, |i| i.saturating_add(1));
        self.text
            .get(start..)
            .is_some_and(|line| line.trim_start().starts_with('['))
    }

    /// Rewrites a deserialisation error: unknown keys and sections, wrong value types, syntax.
    fn toml_error(&self, e: serde_path_to_error::Error<toml::de::Error>) -> ConfigError {
        let segments: Vec<String> = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                _ => None,
            })
            .collect();
        let inner = e.into_inner();
        let span = inner.span().unwrap_or(0..0);
        let msg = inner.message().trim_end();
        let unknown = msg
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next());
        let (key, message) = match (unknown, segments.as_slice()) {
            (Some(name), [.., section, _]) => (
                Some(format!("{section}.{name}")),
                format!(
                    "unknown key '{name}' in [{section}] (expected one of: {})",
                    keys_of(section)
                ),
            ),
            (Some(name), _) if self.is_table_header(span.start) => (
                Some(name.to_owned()),
                format!(
                    "unknown section [{name}] (expected one of: {})",
                    section_names()
                ),
            ),
            (Some(name), _) => (
                Some(name.to_owned()),
                format!(
                    "unknown key '{name}' outside any section (expected a section: {})",
                    section_names()
                ),
            ),
            (None, [section]) => (
                Some(section.clone()),
                format!(
                    "[{section}]: expected a table of settings, got {}",
                    got_of(msg)
                ),
            ),
            (None, [.., section, key]) => (
                Some(format!("{section}.{key}")),
                format!("[{section}] {key}: {}", first_line(msg)),
            ),
            (None, []) => (None, format!("invalid TOML: {}", first_line(msg))),
        };
        self.invalid(span, key.as_deref(), message)
    }
}

/// The offending value named by a serde "invalid type: X, expected Y" message (else the message).
fn got_of(msg: &str) -> &str {
    let msg = first_line(msg);
    msg.strip_prefix("invalid type: ")
        .and_then(|rest| rest.split(", expected").next())
        .unwrap_or(msg)
}

/// The first line of a (possibly multi-line) parser message.
fn first_line(msg: &str) -> &str {
    msg.lines().next().unwrap_or_default()
}

fn section_names() -> String {
    let names: Vec<&str> = SECTIONS.iter().map(|(n, _)| *n).collect();
    names.join(", ")
}

fn keys_of(section: &str) -> String {
    SECTIONS
        .iter()
        .find(|(n, _)| *n == section)
        .map(|(_, keys)| keys.join(", "))
        .unwrap_or_default()
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    let before = text.get(..end).unwrap_or_default();
    let line = before.matches('\n').count().saturating_add(1);
    let line_start = before.rfind('\n').map_or(0, |i| i.saturating_add(1));
    let column = before
        .get(line_start..)
        .map_or(0, |s| s.chars().count())
        .saturating_add(1);
    (line, column)
}

/// A value as written in TOML, shortened for an error message.
fn quote(v: &Value) -> String {
    let mut s = String::new();
    let _ = write!(s, "{v}");
    if s.chars().count() > MAX_QUOTED {
        s = s.chars().take(MAX_QUOTED).collect();
        s.push('…');
    }
    s
}
