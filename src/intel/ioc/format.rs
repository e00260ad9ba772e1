//! Format detection and the line-based formats (hosts files, plain lists, CSV).
//!
//! Detection is by content, the file name being a hint only where content is ambiguous:
//! - `{` first → JSON: a STIX 2.1 bundle (`"type": "bundle"`, `objects`) or TinyCheck's
//!   `{"iocs": […]}` ([`super::stix`], [`super::echap`]);
//! - a `.yaml`/`.yml` name, or a first line starting `---`, `- ` or `indicators:` → YAML: an
//!   Echap app list, or MVT's `indicators.yaml` index (which names GitHub files, not
//!   indicators: skipped);
//! - a first line `type,indicator,app` → Echap `network.csv` (also the built-in set's format); a first line starting
//!   `SHA256,Package Name` → Echap `samples.csv` (APK hashes, nothing seen on a network:
//!   skipped);
//! - anything else → a hosts file or a plain list, line by line.
//!
//! Invariants: a file yields at most [`MAX_INDICATORS`] values (a larger file is an error, so
//! a hostile list cannot exhaust memory before the set's own cap); errors carry the 1-based
//! line and never quote the offending text.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rustc_hash::FxHashMap;

use super::normalize::{self, Value};
use super::{echap, stix, MAX_INDICATORS};

/// How much a source knows about its indicators; on a duplicate the richer source's record
/// wins (roles and family names from STIX or Echap's YAML beat flattened exports of the same
/// data: `network.csv`, then TinyCheck's JSON, then bare lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    List = 0,
    TinyCheck = 1,
    Csv = 2,
    Structured = 3,
}

/// One value read from a file.
#[derive(Debug)]
pub struct Pending {
    pub value: Value,
    /// Declared as a vendor's website (Echap `websites`), not as C2 or distribution.
    pub website: bool,
    /// Index into [`ParsedFile::families`].
    pub family: Option<u32>,
}

/// Everything one well-formed file holds.
#[derive(Debug)]
pub struct ParsedFile {
    pub rank: Rank,
    /// Family (malware or app) names, referenced by index.
    pub families: Vec<String>,
    family_ids: FxHashMap<String, u32>,
    pub items: Vec<Pending>,
    /// STIX patterns (or comparisons) on paths not seen on a network, or of a shape that
    /// cannot be matched (conjunctions, sequences).
    pub skipped_patterns: usize,
    /// Entries deliberately not loaded: localhost lines, single-label names, loopback or
    /// unspecified addresses, record types that are not network indicators.
    pub skipped_entries: usize,
}

impl ParsedFile {
    pub fn new(rank: Rank) -> ParsedFile {
        ParsedFile {
            rank,
            families: Vec::new(),
            family_ids: FxHashMap::default(),
            items: Vec::new(),
            skipped_patterns: 0,
            skipped_entries: 0,
        }
    }

    /// Interns a family name for this file.
    pub fn family(&mut self, name: &str) -> Option<u32> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        if let Some(&i) = self.family_ids.get(name) {
            return Some(i);
        }
        let i = u32::try_from(self.families.len()).ok()?;
        self.families.push(name.to_string());
        self.family_ids.insert(name.to_string(), i);
        Some(i)
    }

    /// Adds a value unless it is one never worth matching (see [`worth_matching`]); errors
    /// once the file holds more than [`MAX_INDICATORS`] values.
    pub fn push(&mut self, value: Value, website: bool, family: Option<u32>) -> Result<(), String> {
        if !worth_matching(&value) {
            self.skipped_entries += 1;
            return Ok(());
        }
        if self.items.len() >= MAX_INDICATORS {
            return Err(format!("more than {MAX_INDICATORS} indicators in one file"));
        }
        self.items.push(Pending {
            value,
            website,
            family,
        });
        Ok(())
    }
}

/// Shortest IPv4 prefix loaded: a broader network (`0.0.0.0/0`) would flag the whole Internet.
const MIN_PREFIX_V4: u8 = 8;

/// Shortest IPv6 prefix loaded, for the same reason.
const MIN_PREFIX_V6: u8 = 16;

/// False for values that would match everything or nothing useful: single-label names
/// (`localhost`; a bare TLD would cover a whole top-level domain), loopback or unspecified
/// addresses (hosts-file sinks) and networks broader than [`MIN_PREFIX_V4`]/[`MIN_PREFIX_V6`].
fn worth_matching(v: &Value) -> bool {
    match v {
        Value::Domain(d) => d.contains('.'),
        Value::Net(n) => {
            let min = if n.addr.is_ipv4() {
                MIN_PREFIX_V4
            } else {
                MIN_PREFIX_V6
            };
            n.len >= min && !n.addr.is_loopback() && !n.addr.is_unspecified()
        }
        _ => true,
    }
}

/// A file-level failure: 1-based line (and column) when known.
#[derive(Debug, PartialEq, Eq)]
pub struct FileError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl FileError {
    pub fn at(line: usize, message: impl Into<String>) -> FileError {
        FileError {
            line: Some(line),
            column: None,
            message: message.into(),
        }
    }
    pub fn whole(message: impl Into<String>) -> FileError {
        FileError {
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// What a file turned out to be.
#[derive(Debug)]
pub enum Outcome {
    Indicators(ParsedFile),
    /// A recognised file with no network indicators; the reason says what it is.
    Skipped(&'static str),
}

/// Parses one file's bytes; `path` is a hint (extension) only.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Outcome, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes
            .get(..e.valid_up_to())
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        FileError::at(line + 1, "not UTF-8 text")
    })?;
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    let first = first.unwrap_or("");
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if first.starts_with('{') {
        return stix::parse_json(text);
    }
    if ext == "yaml"
        || ext == "yml"
        || first == "---"
        || first.starts_with("- ")
        || first == "-"
        || first.starts_with("indicators:")
    {
        return echap::parse_yaml(text);
    }
    let header = first.replace(' ', "").to_ascii_lowercase();
    if header == "type,indicator,app" {
        return echap::parse_network_csv(text).map(Outcome::Indicators);
    }
    if header.starts_with("sha256,packagename") {
        return Ok(Outcome::Skipped(
            "Echap APK sample list: no network indicators",
        ));
    }
    parse_list(text).map(Outcome::Indicators)
}

/// A hosts file (`ADDRESS NAME…`) or a plain list (one value a line), `#` comments.
pub fn parse_list(text: &str) -> Result<ParsedFile, FileError> {
    let mut out = ParsedFile::new(Rank::List);
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = strip_comment(raw);
        let mut tokens = line.split_whitespace();
        let Some(first) = tokens.next() else { continue };
        let second = tokens.next();
        let push = |out: &mut ParsedFile, v| {
            out.push(v, false, None)
                .map_err(|m| FileError::at(line_no, m))
        };
        match second {
            None => {
                let v = normalize::any_value(first).map_err(|m| FileError::at(line_no, m))?;
                push(&mut out, v)?;
            }
            Some(name) => {
                // A hosts line: the address is a sink (0.0.0.0, 127.0.0.1, ::1 …), the names
                // after it are the indicators. Zone ids (`fe80::1%lo0`) are allowed.
                let addr = first.split('%').next().unwrap_or(first);
                if addr.parse::<std::net::IpAddr>().is_err() {
                    return Err(FileError::at(
                        line_no,
                        "expected one value per line, or a hosts line `ADDRESS NAME…`",
                    ));
                }
                for name in std::iter::once(name).chain(tokens) {
                    let lower = name.to_ascii_lowercase();
                    if crate::intel::HOSTS_LOCAL_NAMES.contains(&lower.as_str())
                        || normalize::parse_net(name).is_some()
                    {
                        out.skipped_entries += 1;
                        continue;
                    }
                    let v = normalize::domain(name)
                        .map(Value::Domain)
                        .map_err(|m| FileError::at(line_no, m))?;
                    push(&mut out, v)?;
                }
            }
        }
    }
    Ok(out)
}

/// The line without a `#` comment: `#` at the start or after whitespace (a `#` inside a URL is
/// a fragment).
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let cut = b.iter().enumerate().find(|&(i, &c)| {
        c == b'#' && (i == 0 || b.get(i - 1).is_some_and(u8::is_ascii_whitespace))
    });
    match cut {
        Some((i, _)) => line.get(..i).unwrap_or(line),
        None => line,
    }
}

/// Splits one CSV record (RFC 4180 quoting: `"a,b"`, `""` for a quote); None when a quote is
/// unterminated. Records span one line here: indicator CSVs have no multi-line fields.
pub fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ',') => fields.push(std::mem::take(&mut cur)),
            (false, '"') if cur.is_empty() => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (_, c) => cur.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(cur);
    Some(fields)
}
