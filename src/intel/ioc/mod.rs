//! Indicators of compromise (IOCs): loading the lists people already share, and matching DNS
//! names, SNIs, HTTP hosts, URLs, addresses, e-mail addresses and JA4 fingerprints against them
//! (the `ioc_match` alerts of issue 3).
//!
//! Formats (detected by content, see [`format`]): STIX 2.1 bundles as MVT and Amnesty publish
//! them, Echap's `ioc.yaml`/`watchware.yaml`, `network.csv` and
//! `indicators-for-tinycheck.json`, hosts files (`127.0.0.1 host`, `0.0.0.0 host`, bare
//! `host`) and plain lists of domains, addresses/networks, URLs, e-mail addresses or JA4s.
//! [`IocSet::builtin`] holds the MVT/Amnesty and Echap network indicators compiled into the
//! binary (`data/ioc/indicators.csv`, made by `tools/gen-ioc.py`).
//!
//! Invariants:
//! - An [`IocSet`] is immutable once built; a reload (SIGHUP) builds a new one. Matching does
//!   no I/O and, for domains and addresses, no allocation: a domain costs one hash lookup per
//!   label (`a.b.evil.com` tries `a.b.evil.com`, `b.evil.com`, `evil.com`, `com`), an address
//!   one lookup per distinct prefix length loaded (one when only addresses are loaded).
//! - Every indicator value is stored once, in canonical form ([`normalize`]); a value listed by
//!   several files keeps the record of the richest source ([`format::Rank`]), then the
//!   strongest kind (C2 over website), then the first loaded.
//! - At most [`MAX_INDICATORS`] indicators; files are read up to [`MAX_FILE_BYTES`].
//! - Hash maps use FxHash: keys come from the user's own indicator files, and lookups of
//!   hostile names cannot add keys, so no flooding is possible.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

mod build;
mod echap;
mod format;
mod load;
mod normalize;
mod pattern;
mod stix;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::path::PathBuf;

use rustc_hash::FxHashMap;
use serde::Serialize;

pub use load::{IocLoadError, BUILTIN_SOURCE, MAX_DIR_DEPTH, MAX_FILES, MAX_FILE_BYTES};
use normalize::{IpNet, MAX_NAME_LEN};

/// Most indicators in one set (≈ 70 bytes each: ~35 MB at the cap, within a 512 MB Pi; the
/// largest public lists, e.g. StevenBlack's 85 k hosts, fit several times over).
pub const MAX_INDICATORS: usize = 500_000;

/// What an indicator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// A host name used by malware (C2, exploit delivery, app distribution); covers its
    /// subdomains.
    Domain,
    /// A stalkerware vendor's own website (Echap `websites`): weaker evidence than
    /// [`IndicatorKind::Domain`]; covers its subdomains.
    Website,
    /// An IP address or network.
    Ip,
    /// A URL; covers longer paths below it.
    Url,
    /// An e-mail address (e.g. an iMessage exploit sender).
    Email,
    /// A JA4 TLS client fingerprint.
    Ja4,
}

impl IndicatorKind {
    /// Every kind, in the order of [`IocSet::counts`].
    pub const ALL: [IndicatorKind; 6] = [
        IndicatorKind::Domain,
        IndicatorKind::Website,
        IndicatorKind::Ip,
        IndicatorKind::Url,
        IndicatorKind::Email,
        IndicatorKind::Ja4,
    ];

    /// The snake_case name stored in alert details.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Domain => "domain",
            IndicatorKind::Website => "website",
            IndicatorKind::Ip => "ip",
            IndicatorKind::Url => "url",
            IndicatorKind::Email => "email",
            IndicatorKind::Ja4 => "ja4",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One match, borrowed from the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IocHit<'a> {
    /// The indicator as loaded, in canonical form: for a subdomain match, the listed parent
    /// (`evil.com` for `a.evil.com`); for an address, the listed address or network.
    pub indicator: &'a str,
    pub kind: IndicatorKind,
    /// The file the indicator was loaded from, as given to [`IocSet::load`].
    pub source: &'a str,
    /// Malware or app name (STIX malware object, Echap app name), when the source gives one.
    pub family: Option<&'a str>,
}

/// What a load read and deliberately left out (errors are returned apart).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Files that contributed indicators.
    pub files_loaded: usize,
    /// Files recognised and skipped, with the reason (MVT's index, Echap's APK sample list,
    /// documentation found while walking a folder).
    pub files_skipped: Vec<(PathBuf, &'static str)>,
    /// STIX patterns or comparisons on paths not seen on a network (`process:name`,
    /// `file:*`, `app:id` …) or of an unmatchable shape (conjunctions, sequences).
    pub skipped_patterns: usize,
    /// Entries left out on purpose: localhost lines, single-label names, loopback or
    /// unspecified addresses, record types that are not network indicators.
    pub skipped_entries: usize,
    /// Values listed more than once (across or within files), merged into one indicator.
    pub duplicates: usize,
}

/// Per-indicator record; the value itself is the map key (or `text` for networks).
#[derive(Clone, Copy, Debug)]
struct Meta {
    kind: IndicatorKind,
    rank: format::Rank,
    source: u32,
    /// Index into `families`, or [`NO_FAMILY`].
    family: u32,
}

const NO_FAMILY: u32 = u32::MAX;

/// The loaded indicators, indexed for matching.
#[derive(Debug, Default)]
pub struct IocSet {
    /// Domains and websites, canonical form.
    domains: FxHashMap<Box<str>, Meta>,
    /// Networks, with their text form.
    nets: FxHashMap<IpNet, (Box<str>, Meta)>,
    /// Distinct IPv4 / IPv6 prefix lengths present, longest first.
    v4_lens: Vec<u8>,
    v6_lens: Vec<u8>,
    urls: FxHashMap<Box<str>, Meta>,
    emails: FxHashMap<Box<str>, Meta>,
    ja4: FxHashMap<Box<str>, Meta>,
    sources: Vec<Box<str>>,
    families: Vec<Box<str>>,
    counts: [usize; 6],
    stats: LoadStats,
}

impl IocSet {
    /// Number of indicators.
    pub fn len(&self) -> usize {
        self.counts.iter().sum()
    }

    /// True when nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of indicators of one kind.
    pub fn count(&self, kind: IndicatorKind) -> usize {
        self.counts.get(kind.index()).copied().unwrap_or(0)
    }

    /// Indicators per kind, in [`IndicatorKind::ALL`] order.
    pub fn counts(&self) -> [(IndicatorKind, usize); 6] {
        IndicatorKind::ALL.map(|k| (k, self.count(k)))
    }

    /// What the load read and left out.
    pub fn stats(&self) -> &LoadStats {
        &self.stats
    }

    /// Estimated heap bytes held (hash tables, keys, names).
    pub fn heap_bytes(&self) -> usize {
        fn table<K, V>(m: &FxHashMap<K, V>) -> usize {
            // hashbrown: buckets ≈ capacity × 8/7, each a (K, V) slot plus one control byte.
            m.capacity().saturating_mul(8) / 7 * (std::mem::size_of::<(K, V)>() + 1)
        }
        let keys = |m: &FxHashMap<Box<str>, Meta>| m.keys().map(|k| k.len()).sum::<usize>();
        let strs = |v: &[Box<str>]| v.iter().map(|s| s.len()).sum::<usize>();
        table(&self.domains)
            + keys(&self.domains)
            + table(&self.nets)
            + self.nets.values().map(|(t, _)| t.len()).sum::<usize>()
            + table(&self.urls)
            + keys(&self.urls)
            + table(&self.emails)
            + keys(&self.emails)
            + table(&self.ja4)
            + keys(&self.ja4)
            + strs(&self.sources)
            + strs(&self.families)
            + (self.sources.capacity() + self.families.capacity()) * std::mem::size_of::<Box<str>>()
    }

    fn hit<'a>(&'a self, indicator: &'a str, m: &Meta) -> IocHit<'a> {
        let idx = |i: u32| usize::try_from(i).ok();
        IocHit {
            indicator,
            kind: m.kind,
            source: idx(m.source)
                .and_then(|i| self.sources.get(i))
                .map_or("", |s| s),
            family: idx(m.family)
                .and_then(|i| self.families.get(i))
                .map(|s| &**s),
        }
    }

    /// Matches a host name (DNS name, SNI, HTTP Host without port) or any parent of it;
    /// case-insensitive, a trailing dot ignored. The most specific listed name wins.
    pub fn match_domain(&self, name: &str) -> Option<IocHit<'_>> {
        let name = name.strip_suffix('.').unwrap_or(name);
        if self.domains.is_empty() || name.is_empty() || name.len() > MAX_NAME_LEN {
            return None;
        }
        let mut buf = [0u8; MAX_NAME_LEN];
        let dst = buf.get_mut(..name.len())?;
        dst.copy_from_slice(name.as_bytes());
        dst.make_ascii_lowercase();
        let mut rest = std::str::from_utf8(dst).ok()?;
        loop {
            if let Some((k, m)) = self.domains.get_key_value(rest) {
                return Some(self.hit(k, m));
            }
            rest = rest.split_once('.')?.1;
        }
    }

    /// Matches an address against the listed addresses and networks (most specific first);
    /// an IPv4-mapped IPv6 address is matched as IPv4.
    pub fn match_ip(&self, ip: IpAddr) -> Option<IocHit<'_>> {
        let ip = ip.to_canonical();
        let lens = if ip.is_ipv4() {
            &self.v4_lens
        } else {
            &self.v6_lens
        };
        lens.iter().find_map(|&len| {
            let (text, m) = self.nets.get(&IpNet::new(ip, len)?)?;
            Some(self.hit(text, m))
        })
    }

    /// Matches a URL (with or without scheme) against the listed URLs: the whole URL, then
    /// without its query, then each shorter path at a `/` boundary (`evil.com/x` covers
    /// `http://evil.com/x/y?z`, not `evil.com/xy`). Host names alone are [`Self::match_domain`]'s.
    pub fn match_url(&self, url: &str) -> Option<IocHit<'_>> {
        if self.urls.is_empty() {
            return None;
        }
        let key = normalize::url_key(url)?;
        let hit = normalize::url_prefixes(&key).find_map(|k| {
            let (k, m) = self.urls.get_key_value(k)?;
            Some(self.hit(k, m))
        });
        hit
    }

    /// Matches an e-mail address (case-insensitive; `<addr>` and `mailto:` accepted).
    pub fn match_email(&self, addr: &str) -> Option<IocHit<'_>> {
        if self.emails.is_empty() {
            return None;
        }
        let key = normalize::email(addr).ok()?;
        let (k, m) = self.emails.get_key_value(key.as_str())?;
        Some(self.hit(k, m))
    }

    /// Matches a JA4 TLS client fingerprint (case-insensitive).
    pub fn match_ja4(&self, ja4: &str) -> Option<IocHit<'_>> {
        if self.ja4.is_empty() {
            return None;
        }
        let key = normalize::ja4(ja4)?;
        let (k, m) = self.ja4.get_key_value(key.as_str())?;
        Some(self.hit(k, m))
    }
}
