//! Required literals of a regex: a set of byte strings at least one of which occurs in every
//! string the regex matches. The User-Agent parser uses them as a prefilter: a pattern none of
//! whose literals occurs in a User-Agent cannot match it, so it is neither compiled nor run.
//!
//! Literals are ASCII-lowercased and meant for a case-insensitive search, so `(?i:opera)`
//! (classes `[Oo][Pp]…` in the HIR) yields `opera`. Lowercasing only widens the filter: it may
//! let through a pattern that then fails, never stop one that matches. Any construct the
//! analysis does not understand gives no literal, which makes the pattern always a candidate.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Most alternatives kept in one literal set (a cross product or an alternation of literals).
const MAX_SET: usize = 64;
/// Most alternatives of an alternation of required sets (e.g. a list of model names).
const MAX_ALTERNATIVES: usize = 512;
/// Most distinct bytes a class may stand for to count as a literal (`[AFR]`, `[Ss]`).
const MAX_CLASS: usize = 4;
/// Longest fixed repetition expanded (`\s{2}`, `[0-9]{3}` is not a literal anyway).
const MAX_REPEAT: u32 = 4;
/// Shortest useful literal: a one-byte one (`;`, `/`) occurs in nearly every User-Agent.
const MIN_USEFUL: usize = 2;

/// A set of alternatives, lowercased.
type Set = Vec<Vec<u8>>;

/// The literals one of which every match of `hir` contains, or None when no useful set is
/// known (the pattern must then always be tried).
pub(super) fn required(hir: &Hir) -> Option<Set> {
    let set = req(hir)?;
    (score(&set).1 >= MIN_USEFUL).then_some(set)
}

/// The exact, finite set of strings `hir` matches (look-arounds count as empty), if small.
fn exact(hir: &Hir) -> Option<Set> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(lit) => Some(vec![lit.0.to_ascii_lowercase()]),
        HirKind::Class(class) => {
            class_bytes(class).map(|b| b.into_iter().map(|c| vec![c]).collect())
        }
        HirKind::Capture(cap) => exact(&cap.sub),
        HirKind::Repetition(rep) if Some(rep.min) == rep.max && rep.min <= MAX_REPEAT => {
            let one = exact(&rep.sub)?;
            (0..rep.min).try_fold(vec![Vec::new()], |acc, _| cross(&acc, &one))
        }
        HirKind::Repetition(_) => None,
        HirKind::Concat(subs) => subs
            .iter()
            .try_fold(vec![Vec::new()], |acc, s| cross(&acc, &exact(s)?)),
        HirKind::Alternation(subs) => {
            let mut out = Set::new();
            for s in subs {
                union(&mut out, exact(s)?);
                if out.len() > MAX_SET {
                    return None;
                }
            }
            Some(out)
        }
    }
}

fn req(hir: &Hir) -> Option<Set> {
    if let Some(set) = exact(hir) {
        // An exact set holding the empty string requires nothing.
        return set.iter().all(|s| !s.is_empty()).then_some(set);
    }
    match hir.kind() {
        HirKind::Capture(cap) => req(&cap.sub),
        HirKind::Repetition(rep) if rep.min >= 1 => req(&rep.sub),
        HirKind::Concat(subs) => concat(subs),
        HirKind::Alternation(subs) => {
            let mut out = Set::new();
            for s in subs {
                union(&mut out, req(s)?);
                if out.len() > MAX_ALTERNATIVES {
                    return None;
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// The best required set of a concatenation: the longest literals found in any run of
/// consecutive exact parts (their cross product, while it stays small), or in one part.
fn concat(subs: &[Hir]) -> Option<Set> {
    let exacts: Vec<Option<Set>> = subs.iter().map(exact).collect();
    let mut best: Option<(Score, Set)> = None;
    let mut consider = |set: Set| {
        if set.iter().all(|s| !s.is_empty()) {
            let sc = score(&set);
            if best.as_ref().map_or(true, |(b, _)| sc > *b) {
                best = Some((sc, set));
            }
        }
    };
    for (i, sub) in subs.iter().enumerate() {
        let Some(first) = exacts.get(i).cloned().flatten() else {
            if let Some(set) = req(sub) {
                consider(set);
            }
            continue;
        };
        let mut run = first;
        consider(run.clone());
        for next in exacts.iter().skip(i + 1) {
            match next.as_ref().and_then(|n| cross(&run, n)) {
                Some(longer) => {
                    run = longer;
                    consider(run.clone());
                }
                None => break,
            }
        }
    }
    best.map(|(_, set)| set)
}

/// The skeletons of everyday phone User-Agents, lowercased. A literal found in them
/// (`mozilla`, `) applewebkit`, ` build`) would make its pattern a candidate on nearly every
/// User-Agent, so where a pattern offers a choice, a literal not found here is preferred
/// (e.g. the model names of `; {0,2}(IS01|IS03)(?: Build|\) AppleWebKit)`).
const EVERYDAY: &[u8] = b"mozilla/5.0 (linux; u; android 13; k build/tp1a; wv) applewebkit/537.36 \
    (khtml, like gecko) version/4.0 chrome/119.0.0.0 mobile safari/537.36\n\
    mozilla/5.0 (iphone; cpu iphone os 17_1 like mac os x) applewebkit/605.1.15 (khtml, like \
    gecko) version/17.1 mobile/15e148 safari/604.1\n\
    dalvik/2.1.0 (linux; u; android 11; ";

fn everyday(set: &Set) -> bool {
    set.iter()
        .any(|lit| memchr::memmem::find(EVERYDAY, lit).is_some())
}

/// A set's [`score`].
type Score = (bool, usize, std::cmp::Reverse<usize>);

/// How good a set is as a filter: none of its literals in everyday User-Agents, then its
/// shortest literal, then fewer alternatives.
fn score(set: &Set) -> Score {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (!everyday(set), shortest, std::cmp::Reverse(set.len()))
}

/// Every `a` followed by every `b`; None past [`MAX_SET`].
fn cross(a: &Set, b: &Set) -> Option<Set> {
    if a.len().saturating_mul(b.len()) > MAX_SET {
        return None;
    }
    let mut out = Set::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Some(out)
}

fn union(into: &mut Set, from: Set) {
    for s in from {
        if !into.contains(&s) {
            into.push(s);
        }
    }
}

/// The lowercased bytes a small class stands for (`[Ss]` → `s`), None for a large one.
fn class_bytes(class: &Class) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut add = |lo: u32, hi: u32| -> Option<()> {
        if hi.saturating_sub(lo) >= 2 * MAX_CLASS as u32 {
            return None;
        }
        for c in lo..=hi {
            let b = u8::try_from(c)
                .ok()
                .filter(u8::is_ascii)?
                .to_ascii_lowercase();
            if !out.contains(&b) {
                out.push(b);
            }
        }
        (out.len() <= MAX_CLASS).then_some(())
    };
    match class {
        Class::Bytes(c) => {
            for r in c.ranges() {
                add(r.start().into(), r.end().into())?;
            }
        }
        Class::Unicode(c) => {
            for r in c.ranges() {
                add(r.start().into(), r.end().into())?;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_automata::util::syntax;

    fn lits(pattern: &str) -> Option<Vec<String>> {
        let cfg = syntax::Config::new().unicode(false).utf8(false);
        let hir = syntax::parse_with(pattern, &cfg).unwrap();
        required(&hir).map(|s| {
            let mut v: Vec<String> = s
                .into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect();
            v.sort();
            v
        })
    }

    fn v(s: &[&str]) -> Option<Vec<String>> {
        Some(s.iter().map(|x| x.to_string()).collect())
    }

    #[test]
    fn literals_of_typical_uap_patterns() {
        assert_eq!(lits(r"(Opera Mini)/(\d+)"), v(&["opera mini/"]));
        assert_eq!(lits(r"(?i:opera mini)"), v(&["opera mini"]));
        assert_eq!(
            lits(r"(UC? ?Browser|UCWEB)[ /]?(\d+)"),
            v(&["browser", "ucweb"])
        );
        assert_eq!(
            lits(r"; {0,2}(IS01|IS03|IS\d{2}SH)(?: Build|\) AppleWebKit)"),
            v(&["is", "is01", "is03"]),
            "the model names, not the everyday \" Build\""
        );
        assert_eq!(lits(r"(iPhone|iPad)"), v(&["ipad", "iphone"]));
        assert_eq!(lits(r"(?:Android|)(\d+)"), None);
        assert_eq!(lits(r"[^;]{0,200}"), None);
        assert_eq!(lits(r"\d+"), None);
        assert_eq!(lits(r";"), None, "one byte is not worth filtering on");
        assert_eq!(
            lits(r"Mozilla.{1,200}Android.{1,200}(GSA)/(\d+)"),
            v(&["gsa/"])
        );
        // Only everyday literals: still the longest of them.
        assert_eq!(lits(r"Mozilla.{1,200}Android"), v(&["mozilla"]));
        assert_eq!(lits(r"(Black[bB]erry)\s?(\d+)"), v(&["blackberry"]));
    }

    #[test]
    fn every_alternative_must_have_a_literal() {
        assert_eq!(lits(r"(Firefox|\d+x)"), None);
        assert_eq!(lits(r"(Firefox/|Fennec/)\d"), v(&["fennec/", "firefox/"]));
    }
}
