//! HTTP User-Agent → OS, device model and app, with ua-parser's uap-core regex set
//! (`data/uap-core-regexes.yaml`, Apache-2.0, embedded).
//!
//! uap-core's rule is "the first regex of a list that matches wins". Each of the three lists
//! (user agent, OS, device) is compiled ONCE ([`UaParser::get`]) into one multi-pattern
//! `regex_automata::meta::Regex` that reports every pattern matching a string; the lowest
//! index wins and only that pattern is then compiled on its own (once, cached) to read its
//! capture groups. No ua-parser crate is used: the Rust ports pull in `regex` with Unicode
//! tables and compile all ~1,300 regexes eagerly, which costs seconds and tens of MB on a Pi.
//!
//! Invariants: patterns are compiled without Unicode classes (User-Agents are ASCII); a
//! pattern the engine refuses is left out and counted ([`UaParser::skipped`]); input longer
//! than [`MAX_UA_LEN`] is cut first, which bounds the matching time. Callers parse a string
//! once per device (see `flow::devices`), never per packet.

use std::sync::OnceLock;

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet};
use serde::Deserialize;

/// The shipped uap-core regex file.
const REGEXES: &str = include_str!("../../../data/uap-core-regexes.yaml");

/// Longest User-Agent looked at, in bytes: real ones are < 400; longer ones are cut.
pub const MAX_UA_LEN: usize = 512;
/// Longest field kept from a match (family, model), in bytes.
const MAX_FIELD_LEN: usize = 64;

/// What a User-Agent says about the device that sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UaInfo {
    /// OS family and major version, e.g. `Android 10`, `iOS 17`.
    pub os: Option<String>,
    /// OS family alone, e.g. `Android`.
    pub os_family: Option<String>,
    /// Device brand and model, e.g. `Samsung SM-G960F`, `Apple iPhone`.
    pub model: Option<String>,
    /// Browser or app family, e.g. `Chrome Mobile`, `Facebook`, `okhttp`.
    pub app: Option<String>,
}

#[derive(Deserialize)]
struct File {
    user_agent_parsers: Vec<Entry>,
    os_parsers: Vec<Entry>,
    device_parsers: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    regex: String,
    regex_flag: Option<String>,
    family_replacement: Option<String>,
    os_replacement: Option<String>,
    os_v1_replacement: Option<String>,
    device_replacement: Option<String>,
    brand_replacement: Option<String>,
    model_replacement: Option<String>,
}

/// Patterns per compiled set: one set of a whole list (600 patterns) makes the lazy DFA
/// build thousands of states on the first strings (seconds on a Pi); sets of this size stay
/// small and are searched in order, stopping at the first that matches.
const SET_CHUNK: usize = 32;

/// One uap-core list compiled as sets of [`SET_CHUNK`] patterns.
struct List {
    /// The accepted patterns, in order, as regexes reporting overlapping matches; None for a
    /// chunk the engine refused (its patterns are counted as skipped).
    sets: Vec<Option<Regex>>,
    /// Per set pattern: the entry it came from, and its own regex compiled on first use.
    entries: Vec<(Entry, OnceLock<Option<Regex>>)>,
}

/// The compiled uap-core lists. One per process: see [`UaParser::get`].
pub struct UaParser {
    ua: List,
    os: List,
    device: List,
    skipped: usize,
}

/// The sets only say which pattern matches (its groups are read with the pattern compiled on
/// its own), so they keep no capture groups, and they run on the PikeVM alone: a set is
/// searched once per new User-Agent of a device, never per packet, and the faster engines'
/// tables and caches cost memory (~27 MB resident for all sets with the defaults, ~20 MB so;
/// a parse takes ~2 ms on x86-64).
fn set_config() -> meta::Config {
    meta::Config::new()
        .match_kind(MatchKind::All)
        .which_captures(regex_automata::nfa::thompson::WhichCaptures::None)
        .hybrid(false)
        .dfa(false)
        .onepass(false)
        .backtrack(false)
}

fn syntax_config(case_insensitive: bool) -> syntax::Config {
    syntax::Config::new()
        .unicode(false)
        .utf8(false)
        .case_insensitive(case_insensitive)
}

fn pattern(e: &Entry) -> String {
    if e.regex_flag.as_deref() == Some("i") {
        format!("(?i:{})", e.regex)
    } else {
        e.regex.clone()
    }
}

impl List {
    fn build(entries: Vec<Entry>, skipped: &mut usize) -> List {
        let mut kept = Vec::with_capacity(entries.len());
        for e in entries {
            if syntax::parse_with(&pattern(&e), &syntax_config(false)).is_ok() {
                kept.push((e, OnceLock::new()));
            } else {
                *skipped += 1;
            }
        }
        let patterns: Vec<String> = kept.iter().map(|(e, _)| pattern(e)).collect();
        let sets = patterns
            .chunks(SET_CHUNK)
            .map(|chunk| {
                let set = Regex::builder()
                    .configure(set_config())
                    .syntax(syntax_config(false))
                    .build_many(chunk)
                    .ok();
                if set.is_none() {
                    *skipped += chunk.len();
                }
                set
            })
            .collect();
        List {
            sets,
            entries: kept,
        }
    }

    /// The first entry (in file order) matching `s`, with its capture groups.
    fn first_match<'s>(&self, s: &'s str) -> Option<(&Entry, Vec<Option<&'s str>>)> {
        let first = self.sets.iter().enumerate().find_map(|(i, set)| {
            let set = set.as_ref()?;
            let mut hits = PatternSet::new(set.pattern_len());
            set.which_overlapping_matches(&Input::new(s), &mut hits);
            let p = hits.iter().next()?.as_usize();
            Some(i * SET_CHUNK + p)
        })?;
        let (entry, own) = self.entries.get(first)?;
        let re = own
            .get_or_init(|| {
                Regex::builder()
                    .syntax(syntax_config(false))
                    .build(&pattern(entry))
                    .ok()
            })
            .as_ref()?;
        let mut caps = re.create_captures();
        re.captures(s, &mut caps);
        if !caps.is_match() {
            return None;
        }
        let groups = (0..caps.group_len())
            .map(|i| caps.get_group(i).and_then(|sp| s.get(sp.range())))
            .collect();
        Some((entry, groups))
    }
}

/// uap-core's substitution: `$1`…`$9` in `template` become capture groups (missing ones
/// empty); without a template, group `default`. Trimmed, capped; None when empty.
fn fill(template: Option<&str>, groups: &[Option<&str>], default: usize) -> Option<String> {
    let mut out = String::new();
    match template {
        None => out.push_str(groups.get(default).copied().flatten()?),
        Some(t) => {
            let mut chars = t.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, chars.peek().and_then(|d| d.to_digit(10))) {
                    ('$', Some(d)) => {
                        chars.next();
                        let g = groups.get(d as usize).copied().flatten();
                        out.push_str(g.unwrap_or_default());
                    }
                    _ => out.push(c),
                }
            }
        }
    }
    let t = out.trim();
    let mut end = t.len().min(MAX_FIELD_LEN);
    while !t.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    let t = t.get(..end).unwrap_or_default().trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl UaParser {
    /// The process-wide parser, compiled on first use (about a second on a Pi; then cached).
    pub fn get() -> &'static UaParser {
        static PARSER: OnceLock<UaParser> = OnceLock::new();
        PARSER.get_or_init(|| UaParser::from_yaml(REGEXES))
    }

    /// Compiles a uap-core regex file; an unreadable file gives a parser that finds nothing.
    fn from_yaml(yaml: &str) -> UaParser {
        let mut skipped = 0;
        let file: File = match serde_norway::from_str(yaml) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("uap-core regexes unreadable: {e}");
                File {
                    user_agent_parsers: Vec::new(),
                    os_parsers: Vec::new(),
                    device_parsers: Vec::new(),
                }
            }
        };
        UaParser {
            ua: List::build(file.user_agent_parsers, &mut skipped),
            os: List::build(file.os_parsers, &mut skipped),
            device: List::build(file.device_parsers, &mut skipped),
            skipped,
        }
    }

    /// Patterns left out because the regex engine refused them.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Patterns compiled, over the three lists.
    pub fn patterns(&self) -> usize {
        self.ua.entries.len() + self.os.entries.len() + self.device.entries.len()
    }

    /// Parses one User-Agent (cut to [`MAX_UA_LEN`] bytes).
    pub fn parse(&self, ua: &str) -> UaInfo {
        let mut end = ua.len().min(MAX_UA_LEN);
        while !ua.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        let ua = ua.get(..end).unwrap_or_default();
        let mut info = UaInfo::default();
        if let Some((e, g)) = self.ua.first_match(ua) {
            info.app = fill(e.family_replacement.as_deref(), &g, 1).filter(|f| f != "Other");
        }
        if let Some((e, g)) = self.os.first_match(ua) {
            let family = fill(e.os_replacement.as_deref(), &g, 1);
            let major = fill(e.os_v1_replacement.as_deref(), &g, 2);
            info.os = match (&family, major) {
                (Some(f), Some(v)) => Some(format!("{f} {v}")),
                (f, _) => f.clone(),
            };
            info.os_family = family;
        }
        if let Some((e, g)) = self.device.first_match(ua) {
            let brand = fill(e.brand_replacement.as_deref(), &g, usize::MAX);
            let model = fill(e.model_replacement.as_deref(), &g, 1)
                .or_else(|| fill(e.device_replacement.as_deref(), &g, 1));
            info.model = match (brand, model) {
                (Some(b), Some(m)) if m.starts_with(&b) => Some(m),
                (Some(b), Some(m)) => Some(format!("{b} {m}")),
                (b, m) => m.or(b),
            }
            .filter(|m| !m.starts_with("Generic") && m != "Other");
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution() {
        let g = [Some("all"), Some("Foo"), None, Some("7")];
        assert_eq!(fill(Some("$1 for X"), &g, 1).as_deref(), Some("Foo for X"));
        assert_eq!(fill(Some("$2$3"), &g, 1).as_deref(), Some("7"));
        assert_eq!(fill(None, &g, 1).as_deref(), Some("Foo"));
        assert_eq!(fill(None, &g, 2), None);
        assert_eq!(fill(Some(" $2 "), &g, 1), None);
        assert_eq!(fill(Some("$"), &g, 1).as_deref(), Some("$"));
        let long = "é".repeat(100);
        assert!(fill(Some(&long), &g, 1).is_some_and(|s| s.len() <= MAX_FIELD_LEN));
    }

    #[test]
    fn garbage_and_huge_input_find_nothing_or_stay_bounded() {
        let p = UaParser::get();
        assert_eq!(p.parse(""), UaInfo::default());
        let huge = "Mozilla/5.0 (".repeat(10_000);
        let _ = p.parse(&huge);
        let _ = p.parse("\u{0}\u{ffff}é(((");
    }
}
