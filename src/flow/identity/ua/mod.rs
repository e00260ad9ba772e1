//! HTTP User-Agent → OS, device model and app, with ua-parser's uap-core regex set
//! (`data/uap-core-regexes.yaml`, Apache-2.0, embedded).
//!
//! uap-core's rule is "the first regex of a list that matches wins". Compiling all ~1,270
//! regexes up front costs ~20 MB (the Rust ua-parser ports: more, with Unicode tables), too
//! much for a 64 MB process on a Pi. So at load ([`UaParser::get`]) each pattern is only
//! parsed, to find literals one of which every match must contain ([`literals`]); one
//! case-insensitive Aho-Corasick search of a User-Agent for all of them then names the
//! candidate patterns, and only those are compiled (on first use, then cached) and tried in
//! file order. A pattern with no such literal is always a candidate. The filter never changes
//! an answer: a pattern that matches always contains one of its literals (tested over every
//! pattern with strings generated from it).
//!
//! Invariants: patterns are compiled without Unicode classes (User-Agents are ASCII); a
//! pattern the engine refuses is left out and counted ([`UaParser::skipped`]); input longer
//! than [`MAX_UA_LEN`] is cut first, which bounds the matching time. Callers parse a string
//! once per device (see `flow::devices`), never per packet.

mod literals;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex_automata::nfa::thompson::pikevm::PikeVM;
use regex_automata::util::syntax;
use serde::Deserialize;

/// The shipped uap-core regex file.
const REGEXES: &str = include_str!("../../../../data/uap-core-regexes.yaml");

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

/// One uap-core list: its accepted patterns, in file order.
struct List {
    /// Index of the list's first pattern among all patterns (candidate flags are global).
    offset: usize,
    /// Per pattern: the entry, and its regex compiled on first use (None if refused).
    entries: Vec<(Entry, OnceLock<Option<PikeVM>>)>,
}

/// The uap-core lists with a literal prefilter over all their patterns.
pub struct UaParser {
    ua: List,
    os: List,
    device: List,
    /// Case-insensitive search for every pattern's required literals ([`literals`]).
    literals: Option<AhoCorasick>,
    /// Literal `i` admits the patterns `admits[admit_start[i]..admit_start[i + 1]]`.
    admit_start: Vec<u32>,
    admits: Vec<u32>,
    /// Patterns with no required literal: tried on every User-Agent.
    always: Vec<bool>,
    /// Patterns refused by the regex parser at load or by the compiler on first use.
    skipped: usize,
    refused: AtomicUsize,
    /// Answers by User-Agent (cut): the phones of one model and app send the same string.
    answers: Mutex<HashMap<Box<str>, UaInfo>>,
}

/// Most answers kept; the cache is emptied when full (at most ~150 KB).
const MAX_ANSWERS: usize = 256;

/// A pattern runs on the PikeVM alone, its NFA kept once compiled (a few KB; only patterns
/// the prefilter let through are ever compiled) and its search cache made for the one search
/// and dropped. The meta regex's faster engines, bounded backtracker and prefilter (over a
/// list of model names) each cost tens to hundreds of KB per pattern, kept for the process,
/// to speed up a search that runs once per new User-Agent of a device.
fn compile(pattern: &str) -> Option<PikeVM> {
    PikeVM::builder()
        .syntax(syntax_config())
        .build(pattern)
        .ok()
}

fn syntax_config() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

fn pattern(e: &Entry) -> String {
    if e.regex_flag.as_deref() == Some("i") {
        format!("(?i:{})", e.regex)
    } else {
        e.regex.clone()
    }
}

/// What [`UaParser::from_yaml`] collects while reading the lists: the literal table.
#[derive(Default)]
struct LiteralTable {
    /// Distinct literals, and for each the patterns it admits.
    literals: Vec<Vec<u8>>,
    admitted: Vec<Vec<u32>>,
    index: HashMap<Vec<u8>, usize>,
    always: Vec<bool>,
}

impl LiteralTable {
    fn add(&mut self, pattern: u32, required: Option<Vec<Vec<u8>>>) {
        self.always.push(required.is_none());
        for lit in required.unwrap_or_default() {
            let i = *self.index.entry(lit).or_insert_with_key(|lit| {
                self.literals.push(lit.clone());
                self.admitted.push(Vec::new());
                self.literals.len() - 1
            });
            if let Some(a) = self.admitted.get_mut(i) {
                a.push(pattern);
            }
        }
    }
}

impl List {
    fn build(entries: Vec<Entry>, table: &mut LiteralTable, skipped: &mut usize) -> List {
        let offset = table.always.len();
        let mut kept = Vec::with_capacity(entries.len());
        for e in entries {
            match syntax::parse_with(&pattern(&e), &syntax_config()) {
                Ok(hir) => {
                    let global = u32::try_from(table.always.len()).unwrap_or(u32::MAX);
                    table.add(global, literals::required(&hir));
                    kept.push((e, OnceLock::new()));
                }
                Err(_) => *skipped += 1,
            }
        }
        List {
            offset,
            entries: kept,
        }
    }

    /// The first entry (in file order) among the candidates that matches `s`, with its
    /// capture groups.
    fn first_match<'s>(
        &self,
        s: &'s str,
        candidates: &[bool],
        refused: &AtomicUsize,
    ) -> Option<(&Entry, Vec<Option<&'s str>>)> {
        let flags = candidates.get(self.offset..)?;
        for ((entry, own), &candidate) in self.entries.iter().zip(flags) {
            if !candidate {
                continue;
            }
            let compiled = own.get_or_init(|| {
                let vm = compile(&pattern(entry));
                if vm.is_none() {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
                vm
            });
            let Some(vm) = compiled else { continue };
            let mut cache = vm.create_cache();
            let mut caps = vm.create_captures();
            vm.captures(&mut cache, s, &mut caps);
            if caps.is_match() {
                let groups = (0..caps.group_len())
                    .map(|i| caps.get_group(i).and_then(|sp| s.get(sp.range())))
                    .collect();
                return Some((entry, groups));
            }
        }
        None
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
    /// The process-wide parser, loaded on first use (~60 ms on x86-64; then kept).
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
        let mut table = LiteralTable::default();
        let ua = List::build(file.user_agent_parsers, &mut table, &mut skipped);
        let os = List::build(file.os_parsers, &mut table, &mut skipped);
        let device = List::build(file.device_parsers, &mut table, &mut skipped);
        let literals = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&table.literals)
            .inspect_err(|e| tracing::warn!("User-Agent literal prefilter: {e}"))
            .ok();
        let mut admit_start = Vec::with_capacity(table.admitted.len() + 1);
        let mut admits = Vec::new();
        for a in &table.admitted {
            admit_start.push(u32::try_from(admits.len()).unwrap_or(u32::MAX));
            admits.extend_from_slice(a);
        }
        admit_start.push(u32::try_from(admits.len()).unwrap_or(u32::MAX));
        UaParser {
            ua,
            os,
            device,
            // Without the prefilter every pattern is tried: slower, same answers.
            always: if literals.is_some() {
                table.always
            } else {
                vec![true; table.always.len()]
            },
            literals,
            admit_start,
            admits,
            skipped,
            refused: AtomicUsize::new(0),
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// Which patterns may match `ua`: those without a required literal, and those one of
    /// whose literals occurs in it.
    fn candidates(&self, ua: &str) -> Vec<bool> {
        let mut flags = self.always.clone();
        if let Some(ac) = &self.literals {
            for m in ac.find_overlapping_iter(ua) {
                let i = m.pattern().as_usize();
                let (Some(&a), Some(&b)) = (self.admit_start.get(i), self.admit_start.get(i + 1))
                else {
                    continue;
                };
                for &p in self.admits.get(a as usize..b as usize).unwrap_or_default() {
                    if let Some(f) = flags.get_mut(p as usize) {
                        *f = true;
                    }
                }
            }
        }
        flags
    }

    /// Patterns left out because the regex engine refused them (so far: a pattern is compiled
    /// the first time a User-Agent needs it).
    pub fn skipped(&self) -> usize {
        self.skipped + self.refused.load(Ordering::Relaxed)
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
        // A poisoned lock only means another thread panicked mid-insert: the map is still a
        // valid cache.
        let answers = || self.answers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = answers().get(ua) {
            return known.clone();
        }
        let info = self.parse_uncached(ua);
        let mut map = answers();
        if map.len() >= MAX_ANSWERS {
            map.clear();
        }
        map.insert(ua.into(), info.clone());
        info
    }

    /// [`UaParser::parse`] without its answer cache, on a string already cut (benchmarks).
    pub fn parse_uncached(&self, ua: &str) -> UaInfo {
        let candidates = self.candidates(ua);
        let mut info = UaInfo::default();
        if let Some((e, g)) = self.ua.first_match(ua, &candidates, &self.refused) {
            info.app = fill(e.family_replacement.as_deref(), &g, 1).filter(|f| f != "Other");
        }
        if let Some((e, g)) = self.os.first_match(ua, &candidates, &self.refused) {
            let family = fill(e.os_replacement.as_deref(), &g, 1);
            let major = fill(e.os_v1_replacement.as_deref(), &g, 2);
            info.os = match (&family, major) {
                (Some(f), Some(v)) => Some(format!("{f} {v}")),
                (f, _) => f.clone(),
            };
            info.os_family = family;
        }
        if let Some((e, g)) = self.device.first_match(ua, &candidates, &self.refused) {
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

    /// A small deterministic generator (xorshift64*), enough to pick branches and bytes.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
        }
    }

    /// Appends a random string of the language of `hir` (look-arounds ignored, so the result
    /// may still fail to match; the caller checks).
    fn generate(hir: &regex_syntax::hir::Hir, rng: &mut Rng, out: &mut Vec<u8>) {
        use regex_syntax::hir::{Class, HirKind};
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(lit) => out.extend_from_slice(&lit.0),
            HirKind::Class(Class::Bytes(c)) => {
                if let Some(r) = c.ranges().get(rng.below(c.ranges().len())) {
                    let span = usize::from(r.end() - r.start()) + 1;
                    out.push(r.start() + rng.below(span) as u8);
                }
            }
            HirKind::Class(Class::Unicode(c)) => {
                if let Some(r) = c.ranges().get(rng.below(c.ranges().len())) {
                    let span = (r.end() as u32 - r.start() as u32) as usize + 1;
                    let ch = char::from_u32(r.start() as u32 + rng.below(span) as u32);
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.unwrap_or('a').encode_utf8(&mut buf).as_bytes());
                }
            }
            HirKind::Repetition(rep) => {
                let most = rep.max.unwrap_or(rep.min + 3).min(rep.min + 3);
                let n = rep.min as usize + rng.below((most - rep.min) as usize + 1);
                for _ in 0..n {
                    generate(&rep.sub, rng, out);
                }
            }
            HirKind::Capture(cap) => generate(&cap.sub, rng, out),
            HirKind::Concat(subs) => subs.iter().for_each(|s| generate(s, rng, out)),
            HirKind::Alternation(subs) => {
                if let Some(s) = subs.get(rng.below(subs.len())) {
                    generate(s, rng, out);
                }
            }
        }
    }

    /// The prefilter's one promise, for every pattern of the file: a string the pattern
    /// matches makes it a candidate. Strings come from the pattern itself (random branches,
    /// repetition counts and class members), in the middle of filler text.
    #[test]
    fn prefilter_admits_every_pattern_on_strings_it_matches() {
        let p = UaParser::get();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut matched, mut patterns_hit) = (0, 0);
        for list in [&p.ua, &p.os, &p.device] {
            for (i, (entry, _)) in list.entries.iter().enumerate() {
                let pat = pattern(entry);
                let hir = syntax::parse_with(&pat, &syntax_config()).unwrap();
                let vm = compile(&pat).unwrap();
                let mut hit = false;
                for round in 0..12 {
                    let mut bytes = if round % 2 == 0 {
                        Vec::new()
                    } else {
                        b"Mozilla/5.0 (".to_vec()
                    };
                    generate(&hir, &mut rng, &mut bytes);
                    bytes.extend_from_slice(b") x");
                    let s = String::from_utf8_lossy(&bytes);
                    let mut cache = vm.create_cache();
                    if !vm.is_match(&mut cache, s.as_bytes()) {
                        continue;
                    }
                    matched += 1;
                    hit = true;
                    assert!(
                        p.candidates(&s)[list.offset + i],
                        "pattern {pat:?} matches {s:?} but was filtered out"
                    );
                }
                patterns_hit += usize::from(hit);
            }
        }
        // Not vacuous: nearly every pattern was exercised on strings it matches.
        assert!(
            patterns_hit * 100 >= p.patterns() * 95,
            "{patterns_hit} of {} patterns matched",
            p.patterns()
        );
        assert!(matched > 5 * p.patterns(), "{matched}");
    }

    /// With the filter and without it (every pattern a candidate), the same answers.
    #[test]
    fn prefilter_never_changes_an_answer() {
        let p = UaParser::get();
        let all = vec![true; p.patterns()];
        let uas = [
            "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/119.0.6045.109 Mobile/15E148 Safari/604.1",
            "Instagram 309.1.0.41.113 Android (33/13; 420dpi; 1080x2340; samsung; SM-A536B; a53x; s5e8825; en_GB; 541635890)",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/420.0.0.32.106;FBBV/512345;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/16.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]",
            "WhatsApp/2.23.20.76 A",
            "com.google.android.gms/233615022 (Linux; U; Android 12; en_US; Pixel 6; Build/SQ3A.220705.004; Cronet/116.0.5845.92)",
            "Dalvik/2.1.0 (Linux; U; Android 11; Nokia 7 plus Build/RKQ1.200928.002)",
            "okhttp/4.9.2",
            "MobileSafari/8616.1.6.11.2 CFNetwork/1410.0.3 Darwin/22.6.0",
            "Spotify/8.8.60 iOS/16.6 (iPhone14,2)",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.58",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0",
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
            "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
            "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/119.3.1 like Chrome/119.0.6045.193 Safari/537.36",
            "Mozilla/5.0 (Linux; Android 12; 2201117TG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 11; moto g(30)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
            "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54",
            "Mozilla/5.0 (Mobile; ALCATEL4044T; rv:37.0) Gecko/37.0 Firefox/37.0 KaiOS/1.0",
            "Chrome/72.0.3626.109 Intel Mac OS X 10_14_3",
            "Lynx/2.8.6rel.2 libwww-FM/2.14 SSL-MM/1.4.1 OpenSSL/0.9.8b",
            "Wget/1.14 (darwin12.2.0)",
            "curl/7.29.0",
            "xxxxxxxxxxxxxxxxxx",
            "",
        ];
        for ua in uas {
            let got = p.parse(ua);
            let want = |list: &List| {
                list.first_match(ua, &all, &p.refused).map(|(e, g)| {
                    (
                        e.regex.clone(),
                        g.iter().map(|x| x.map(str::to_owned)).collect::<Vec<_>>(),
                    )
                })
            };
            let have = |list: &List| {
                list.first_match(ua, &p.candidates(ua), &p.refused)
                    .map(|(e, g)| {
                        (
                            e.regex.clone(),
                            g.iter().map(|x| x.map(str::to_owned)).collect::<Vec<_>>(),
                        )
                    })
            };
            for list in [&p.ua, &p.os, &p.device] {
                assert_eq!(have(list), want(list), "{ua}");
            }
            assert!(
                got.app.is_some() || ua.len() < 20 || ua.starts_with("xxx"),
                "{ua}: {got:?}"
            );
        }
        assert_eq!(p.skipped(), 0);
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
