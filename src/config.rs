//! `phonehome.toml`: raw serde structs turned into a validated [`Config`].
//!
//! Loading is two steps. The `toml` crate deserialises the file (through
//! `serde_path_to_error`, which names the key of a failure) into raw structs whose every
//! field is an optional `Spanned<toml::Value>` under `#[serde(deny_unknown_fields)]`: unknown
//! sections and keys are errors, and each value keeps its byte span. Validation then checks
//! types and ranges and fills defaults. Every error names the file, the 1-based line (the
//! column is kept in [`ConfigError::Invalid`]) and the key, e.g.
//! `/etc/phonehome/phonehome.toml:7: [store] retention_days: expected a positive integer, got -3`.
//!
//! The file is optional: without `--config`/`PHONEHOME_CONFIG` (read by the CLI) the daemon
//! reads [`DEFAULT_PATH`] and falls back to built-in defaults when it does not exist; an
//! explicitly named file that is missing is an error. The database path given by
//! `--db`/`PHONEHOME_DB` (CLI) takes precedence over `[store] path`.
//!
//! To add a section: a `Raw*` struct, a field of [`RawConfig`], an entry in [`SECTIONS`], a
//! validated struct with its `Default`, and rows in [`CONFIG_REFERENCE`].

use std::fmt::Write as _;
use std::io::Read as _;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Spanned, Value};

use crate::event::{Ts, MICROS};
use crate::flow::table::FlowConfig;

/// Configuration file read when none is named explicitly.
pub const DEFAULT_PATH: &str = "/etc/phonehome/phonehome.toml";

/// Largest configuration file read: the real one is under 1 KiB; this bounds memory if the
/// path names something else (a log, a device).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Markdown reference of every section and key, included in the README.
pub const CONFIG_REFERENCE: &str = "\
| key | type, unit | default | meaning |
|---|---|---|---|
| `[capture] interface` | string | `\"br0\"` | Network interface the daemon captures on (the access point's bridge); 1–15 characters, no `/` or whitespace. |
| `[capture] promiscuous` | boolean | `true` | Open the interface in promiscuous mode (needed to see bridged traffic between clients and the uplink). |
| `[capture] rcvbuf_mib` | integer, MiB | `16` | Capture socket receive buffer, 1–1024; too small a buffer drops packets in bursts. |
| `[store] path` | string, file path | `\"/var/lib/phonehome/phonehome.db\"` | SQLite database; `--db` / `PHONEHOME_DB` take precedence. |
| `[store] retention_days` | integer, days | `30` | Records older than this are deleted, 1–3650. |
| `[store] queue_capacity` | integer, records | `65536` | Records queued between analysis and the database writer, 1024–4194304; when full, records are dropped and counted (capture never blocks). |
| `[store] batch_max` | integer, records | `2000` | Records written per database transaction, 1–100000 and at most `queue_capacity`. |
| `[flows] max_flows` | integer, flows | `65536` | Connections tracked at once, 1024–4194304; beyond it the stalest are evicted. |
| `[flows] tcp_idle_secs` | integer, seconds | `300` | A TCP connection idle this long is closed and written, 1–86400. |
| `[flows] udp_idle_secs` | integer, seconds | `60` | A UDP flow idle this long is closed and written, 1–86400. |
| `[flows] inspect_bytes` | integer, bytes | `16384` | Bytes of each direction of a flow reassembled and inspected (TLS ClientHello, HTTP headers), 1024–1048576. |
";

/// Sections and their keys, as the raw structs accept them (kept in step by a test).
pub const SECTIONS: &[(&str, &[&str])] = &[
    ("capture", &["interface", "promiscuous", "rcvbuf_mib"]),
    (
        "store",
        &["path", "retention_days", "queue_capacity", "batch_max"],
    ),
    (
        "flows",
        &[
            "max_flows",
            "tcp_idle_secs",
            "udp_idle_secs",
            "inspect_bytes",
        ],
    ),
];

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

/// The validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// File the configuration was read from; None for built-in defaults.
    pub source: Option<PathBuf>,
    /// `[capture]`.
    pub capture: CaptureConfig,
    /// `[store]`.
    pub store: StoreConfig,
    /// `[flows]`.
    pub flows: FlowsConfig,
}

/// `[capture]`: live capture on the access point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Interface to capture on.
    pub interface: String,
    /// Open the interface in promiscuous mode.
    pub promiscuous: bool,
    /// Socket receive buffer, MiB.
    pub rcvbuf_mib: u32,
}

/// `[store]`: the SQLite log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// Database file (overridden by `--db` / `PHONEHOME_DB`).
    pub path: PathBuf,
    /// Days records are kept.
    pub retention_days: u32,
    /// Capacity of the analysis → writer queue, records.
    pub queue_capacity: usize,
    /// Records written per transaction.
    pub batch_max: usize,
}

/// `[flows]`: the flow table and per-flow inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowsConfig {
    /// Flows tracked at once.
    pub max_flows: usize,
    /// Idle timeout of TCP flows, seconds.
    pub tcp_idle_secs: u32,
    /// Idle timeout of UDP flows, seconds.
    pub udp_idle_secs: u32,
    /// Per-direction reassembly and inspection cap, bytes.
    pub inspect_bytes: usize,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            interface: "br0".to_owned(),
            promiscuous: true,
            rcvbuf_mib: 16,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("/var/lib/phonehome/phonehome.db"),
            retention_days: 30,
            queue_capacity: 65_536,
            batch_max: 2000,
        }
    }
}

impl Default for FlowsConfig {
    fn default() -> Self {
        FlowsConfig {
            max_flows: 65_536,
            tcp_idle_secs: 300,
            udp_idle_secs: 60,
            inspect_bytes: 16_384,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: None,
            capture: CaptureConfig::default(),
            store: StoreConfig::default(),
            flows: FlowsConfig::default(),
        }
    }
}

impl FlowsConfig {
    /// The flow-table limits these settings describe (the post-FIN timeout keeps its default).
    pub fn flow_config(&self) -> FlowConfig {
        FlowConfig {
            max_flows: self.max_flows,
            tcp_idle: Ts::from(self.tcp_idle_secs).saturating_mul(MICROS),
            udp_idle: Ts::from(self.udp_idle_secs).saturating_mul(MICROS),
            ..FlowConfig::default()
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An explicitly named file (`--config`, `PHONEHOME_CONFIG`) does not exist.
    #[error("config file {}: not found (named by --config or PHONEHOME_CONFIG)", path.display())]
    NotFound {
        /// The file named.
        path: PathBuf,
    },
    /// The file exists but cannot be read (permissions, not UTF-8, larger than
    /// [`MAX_CONFIG_BYTES`]).
    #[error("config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a section, key or value is not accepted.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending key or value.
        line: usize,
        /// 1-based column (characters) of the offending key or value.
        column: usize,
        /// `section.key` (or `section`) concerned, when one is.
        key: Option<String>,
        /// What is wrong, starting with `[section] key:` when a key is concerned.
        message: String,
    },
}

impl Config {
    /// Loads `explicit` (must exist) or, when None, [`DEFAULT_PATH`] (defaults if absent).
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_or_default(explicit, Path::new(DEFAULT_PATH))
    }

    /// [`Config::load`] with another default path (for tests and packaging).
    pub fn load_or_default(explicit: Option<&Path>, default: &Path) -> Result<Config, ConfigError> {
        let path = explicit.unwrap_or(default);
        match read_bounded(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match explicit {
                Some(p) => Err(ConfigError::NotFound { path: p.into() }),
                None => Ok(Config::default()),
            },
            Err(source) => Err(ConfigError::Read {
                path: path.into(),
                source,
            }),
        }
    }

    /// Parses and validates the text of a configuration file; `path` is used in errors and
    /// recorded as [`Config::source`].
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let ctx = Ctx { path, text };
        let de = toml::Deserializer::new(text);
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| ctx.from_toml(e))?;
        raw.validate(&ctx)
    }
}

/// Reads at most [`MAX_CONFIG_BYTES`] of UTF-8 text.
fn read_bounded(path: &Path) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    Ok(text)
}

type Field = Option<Spanned<Value>>;

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
        Ok(Config {
            source: Some(ctx.path.to_path_buf()),
            capture,
            store,
            flows,
        })
    }
}

/// The file being validated: turns spans into lines for error messages.
struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    /// An integer in `range`, converted to the target type; `default` when absent.
    fn int<T: TryFrom<i64>>(
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

    fn boolean(
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

    fn string(
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

    fn bad_value(
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
    fn from_toml(&self, e: serde_path_to_error::Error<toml::de::Error>) -> ConfigError {
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
