//! Known identifiers (config `[[identifiers]]`): every encoded form of every configured value
//! compiled into ONE Aho-Corasick automaton, so a payload is searched once for all of them.
//!
//! Forms per value: plain; URL-encoded (when that differs); base64 in the standard and URL-safe
//! alphabets at the three byte alignments a value can have inside a longer base64 stream; hex of
//! the bytes; md5, sha1 and sha256 hex digests; hex in lower and upper case. A MAC is searched
//! as `aa:bb:…`, `AA:BB:…`, `aa-bb-…`, `AA-BB-…` and bare `aabb…`/`AABB…`; an e-mail also in
//! lower case. Base64 patterns hold only the characters that depend on the value alone, so a
//! value is found wherever it sits in an encoded stream.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{Encoding, Identifier, KnownIdentifier, PiiError};
use crate::event::MacAddr;

/// Shortest value accepted (characters): shorter ones would match unrelated bytes.
pub const MIN_KNOWN_LEN: usize = 6;

/// Longest value accepted (bytes): bounds the automaton's size per identifier.
pub const MAX_KNOWN_LEN: usize = 256;

/// Most known identifiers accepted: bounds the automaton (each one adds ~40 patterns).
pub const MAX_KNOWN: usize = 1024;

/// What one automaton pattern stands for.
#[derive(Clone, Debug)]
pub(crate) struct PatternInfo {
    /// Index into [`Known::ids`].
    pub id: usize,
    pub encoding: Encoding,
    /// True when the pattern is all ASCII digits: a match must not sit inside a longer run.
    pub digits: bool,
}

/// The compiled automaton and what each pattern means.
#[derive(Clone, Debug)]
pub(crate) struct Known {
    pub ac: Option<AhoCorasick>,
    pub patterns: Vec<PatternInfo>,
    /// Per identifier: kind, masked value, device.
    pub ids: Vec<(Identifier, String, Option<MacAddr>)>,
}

impl Known {
    /// Builds the automaton over every form of every identifier.
    pub(crate) fn build(known: &[KnownIdentifier]) -> Result<Known, PiiError> {
        if known.len() > MAX_KNOWN {
            return Err(PiiError::TooMany { max: MAX_KNOWN });
        }
        let mut pats: Vec<Vec<u8>> = Vec::new();
        let mut patterns = Vec::new();
        let mut ids = Vec::new();
        for (id, k) in known.iter().enumerate() {
            let v = k.value.trim();
            let masked = super::validate::mask(v);
            if v.chars().count() < MIN_KNOWN_LEN || v.len() > MAX_KNOWN_LEN {
                return Err(PiiError::BadValue {
                    kind: k.kind,
                    masked,
                });
            }
            let variants = variants(k.kind, v).ok_or(PiiError::BadValue {
                kind: k.kind,
                masked: masked.clone(),
            })?;
            ids.push((k.kind, masked, k.device));
            for var in &variants {
                for (encoding, p) in forms(var.as_bytes()) {
                    if !pats.contains(&p) {
                        let digits = p.iter().all(u8::is_ascii_digit);
                        pats.push(p);
                        patterns.push(PatternInfo {
                            id,
                            encoding,
                            digits,
                        });
                    }
                }
            }
        }
        let ac = if pats.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&pats)
                    .map_err(|e| PiiError::Automaton(e.to_string()))?,
            )
        };
        Ok(Known { ac, patterns, ids })
    }
}

/// The spellings a value is searched under (before encoding).
fn variants(kind: Identifier, v: &str) -> Option<Vec<String>> {
    Some(match kind {
        Identifier::Mac => {
            let m = MacAddr::parse(v).or_else(|| {
                let b = v.as_bytes();
                (b.len() == 12)
                    .then(|| super::validate::device_mac(b))
                    .flatten()
                    .map(MacAddr)
            })?;
            let colon = m.to_string();
            let dash = colon.replace(':', "-");
            let bare = colon.replace(':', "");
            let mut out = Vec::new();
            for s in [colon, dash, bare] {
                out.push(s.to_ascii_uppercase());
                out.push(s);
            }
            out
        }
        Identifier::Email if v != v.to_ascii_lowercase() => {
            vec![v.to_string(), v.to_ascii_lowercase()]
        }
        _ => vec![v.to_string()],
    })
}

/// Every encoded form of one spelling, with its encoding.
fn forms(v: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
    let mut out = vec![(Encoding::Plain, v.to_vec())];
    let url = urlencode(v);
    if url != v {
        out.push((Encoding::Urlencoded, url));
    }
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for align in 0..3 {
            if let Some(p) = base64_core(engine, v, align) {
                out.push((Encoding::Base64, p));
            }
        }
    }
    for (enc, digest) in [
        (Encoding::Hex, v.to_vec()),
        (Encoding::Md5, Md5::digest(v).to_vec()),
        (Encoding::Sha1, Sha1::digest(v).to_vec()),
        (Encoding::Sha256, Sha256::digest(v).to_vec()),
    ] {
        out.push((enc, hex::encode(&digest).into_bytes()));
        out.push((enc, hex::encode_upper(&digest).into_bytes()));
    }
    out
}

/// Percent-encodes every byte outside RFC 3986's unreserved set (upper-case hex).
fn urlencode(v: &[u8]) -> Vec<u8> {
    let mut o = Vec::with_capacity(v.len() * 3);
    for &b in v {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            o.push(b);
        } else {
            o.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    o
}

/// The base64 characters that encode `v` alone when `v` starts `align` bytes (0–2) after a
/// 3-byte boundary of a longer stream: characters mixing in bits of the bytes before or after
/// are dropped. None when fewer than [`MIN_KNOWN_LEN`] characters remain.
fn base64_core(engine: &impl Engine, v: &[u8], align: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; align];
    buf.extend_from_slice(v);
    let enc = engine.encode(&buf).into_bytes();
    // Character i covers bits [6i, 6i+6); the value covers [8*align, 8*(align+len)).
    let (lo, hi) = (8 * align, 8 * (align + v.len()));
    let first = lo.div_ceil(6);
    let last = hi / 6; // exclusive: characters ending at or before `hi`
    let core = enc.get(first..last)?.to_vec();
    (core.len() >= MIN_KNOWN_LEN).then_some(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_cores_are_found_in_any_alignment() {
        let v = b"352099001761481";
        for prefix in [&b""[..], b"x", b"xy", b"xyz", b"{\"imei\":\""] {
            let mut s = prefix.to_vec();
            s.extend_from_slice(v);
            s.extend_from_slice(b"\"}");
            let enc = STANDARD_NO_PAD.encode(&s);
            let hit = (0..3).any(|a| {
                let core = base64_core(&STANDARD_NO_PAD, v, a).unwrap();
                enc.as_bytes()
                    .windows(core.len())
                    .any(|w| w == core.as_slice())
            });
            assert!(hit, "prefix {prefix:?}");
        }
    }

    #[test]
    fn forms_of_a_value() {
        let f = forms(b"a b@x.io");
        assert!(f.contains(&(Encoding::Urlencoded, b"a%20b%40x.io".to_vec())));
        assert!(f.contains(&(Encoding::Hex, b"61206240782e696f".to_vec())));
        assert!(f.contains(&(
            Encoding::Md5,
            hex::encode(Md5::digest(b"a b@x.io")).into_bytes()
        )));
        assert_eq!(f.len(), 1 + 1 + 6 + 8);
    }
}
