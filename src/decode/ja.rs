//! JA3 and JA4 TLS client fingerprints of a decoded [`ClientHello`].
//!
//! JA3 is Wireshark's `tls.handshake.ja3` / `ja3_full`: decimal
//! `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`, values joined with
//! `-`, GREASE values (RFC 8701) removed, MD5 of that string.
//!
//! JA4 follows the FoxIO specification (FoxIO-LLC/ja4 `technical_details/JA4.md`) and its
//! reference implementation (`python/ja4.py`, whose output the corpus expects), including its
//! choices where the prose is silent:
//! - version: highest non-GREASE supported_versions value, else legacy_version;
//! - counts exclude GREASE and are capped at 99; the extension count includes SNI and ALPN;
//! - ALPN: first and last character of the first ALPN value, `00` when there is none (or it is
//!   empty), `99` when its first byte is not ASCII (the reference's rule);
//! - hashes are the first 12 hex digits of SHA-256, and an empty list hashes to `000000000000`;
//! - the signature algorithms (GREASE removed, original order) follow the sorted extensions
//!   after `_` only when there are any.
//!
//! Our own choices where the reference has no defined output: an ALPN value of one byte gives
//! that character then `0` (as FoxIO's Rust implementation), and a non-printable ASCII first or
//! last byte is rendered `9`, so a fingerprint never carries control characters into logs or
//! terminals; a supported_versions list of only GREASE falls back to legacy_version.
//!
//! Both functions allocate only their output strings and a few small vectors bounded by the
//! ClientHello's own lists; they cannot panic.

use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::tls::ClientHello;

/// Extension types JA4 leaves out of its sorted extension list: server_name and ALPN.
const JA4_EXCLUDED_EXTENSIONS: [u16; 2] = [0x0000, 0x0010];
/// JA4's two-digit counts saturate at this value.
const JA4_MAX_COUNT: usize = 99;
/// JA4's hash of an empty list.
const JA4_EMPTY_HASH: &str = "000000000000";

/// True for a GREASE value (RFC 8701): both bytes equal and of the form 0x?A.
pub fn is_grease(v: u16) -> bool {
    let [hi, lo] = v.to_be_bytes();
    hi == lo && lo & 0x0f == 0x0a
}

/// Appends `values` in decimal, joined by `-`.
fn push_decimal<T: std::fmt::Display>(out: &mut String, values: impl Iterator<Item = T>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push('-');
        }
        let _ = write!(out, "{v}");
    }
}

/// Non-GREASE values of `list`, in order.
fn no_grease(list: &[u16]) -> impl Iterator<Item = u16> + '_ {
    list.iter().copied().filter(|&v| !is_grease(v))
}

/// JA3: returns (md5 hex, the JA3 string), GREASE removed.
pub fn ja3(ch: &ClientHello) -> (String, String) {
    let mut s = String::with_capacity(256);
    let _ = write!(s, "{},", ch.legacy_version);
    push_decimal(&mut s, no_grease(&ch.cipher_suites));
    s.push(',');
    push_decimal(&mut s, no_grease(&ch.extensions));
    s.push(',');
    push_decimal(&mut s, no_grease(&ch.supported_groups));
    s.push(',');
    push_decimal(&mut s, ch.ec_point_formats.iter());
    let digest = Md5::digest(s.as_bytes());
    (hex::encode(digest), s)
}

/// JA4's two-character TLS version code.
fn ja4_version(ch: &ClientHello) -> &'static str {
    let v = no_grease(&ch.supported_versions)
        .max()
        .unwrap_or(ch.legacy_version);
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0200 => "s2",
        0x0100 => "s1",
        _ => "00",
    }
}

/// JA4's two ALPN characters (see the module header for the rules).
fn ja4_alpn(ch: &ClientHello) -> [char; 2] {
    let Some(value) = ch.alpn.first() else {
        return ['0', '0'];
    };
    let (Some(&first), Some(&last)) = (value.first(), value.last()) else {
        return ['0', '0'];
    };
    if !first.is_ascii() {
        return ['9', '9'];
    }
    let shown = |b: u8| {
        if b.is_ascii_graphic() {
            char::from(b)
        } else {
            '9'
        }
    };
    if value.len() == 1 {
        [shown(first), '0']
    } else {
        [shown(first), shown(last)]
    }
}

/// Appends `values` as 4-digit lowercase hex, joined by `,`.
fn push_hex_list(out: &mut String, values: &[u16]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{v:04x}");
    }
}

/// First 12 hex digits of the SHA-256 of `s`; [`JA4_EMPTY_HASH`] for an empty string.
fn hash12(s: &str) -> String {
    if s.is_empty() {
        return JA4_EMPTY_HASH.to_owned();
    }
    let mut h = hex::encode(Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

/// JA4 (FoxIO spec): returns (ja4, ja4_r). `transport` is 't' (TCP), 'q' (QUIC) or 'd' (DTLS).
pub fn ja4(ch: &ClientHello, transport: char) -> (String, String) {
    let mut ciphers: Vec<u16> = no_grease(&ch.cipher_suites).collect();
    ciphers.sort_unstable();
    let ext_count = no_grease(&ch.extensions).count();
    let mut exts: Vec<u16> = no_grease(&ch.extensions)
        .filter(|e| !JA4_EXCLUDED_EXTENSIONS.contains(e))
        .collect();
    exts.sort_unstable();
    let sigs: Vec<u16> = no_grease(&ch.signature_algorithms).collect();

    let sni = if ch.extensions.contains(&JA4_EXCLUDED_EXTENSIONS[0]) {
        'd'
    } else {
        'i'
    };
    let [a0, a1] = ja4_alpn(ch);
    let prefix = format!(
        "{transport}{}{sni}{:02}{:02}{a0}{a1}",
        ja4_version(ch),
        ciphers.len().min(JA4_MAX_COUNT),
        ext_count.min(JA4_MAX_COUNT),
    );

    let mut cipher_part = String::with_capacity(ciphers.len() * 5);
    push_hex_list(&mut cipher_part, &ciphers);
    let mut ext_part = String::with_capacity((exts.len() + sigs.len() + 1) * 5);
    push_hex_list(&mut ext_part, &exts);
    if !sigs.is_empty() {
        ext_part.push('_');
        push_hex_list(&mut ext_part, &sigs);
    }

    let ja4 = format!("{prefix}_{}_{}", hash12(&cipher_part), hash12(&ext_part));
    let ja4_r = format!("{prefix}_{cipher_part}_{ext_part}");
    (ja4, ja4_r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        let grease: Vec<u16> = (0..=0xffffu16).filter(|&v| is_grease(v)).collect();
        assert_eq!(grease.len(), 16);
        assert_eq!(grease[0], 0x0a0a);
        assert_eq!(grease[15], 0xfafa);
        assert!(!is_grease(0x0a1a));
    }

    #[test]
    fn empty_hello_fingerprints() {
        let ch = ClientHello::default();
        let (ja4, ja4_r) = ja4(&ch, 't');
        assert_eq!(ja4, "t00i000000_000000000000_000000000000");
        assert_eq!(ja4_r, "t00i000000__");
        let (md5, s) = ja3(&ch);
        assert_eq!(s, "0,,,,");
        assert_eq!(md5, "2432bebf06532faf89aae784a9aae4ef");
    }

    #[test]
    fn alpn_edge_cases() {
        let with = |v: &[u8]| ClientHello {
            alpn: vec![v.to_vec()],
            ..ClientHello::default()
        };
        assert_eq!(ja4_alpn(&with(b"http/1.1")), ['h', '1']);
        assert_eq!(ja4_alpn(&with(b"h")), ['h', '0']);
        assert_eq!(ja4_alpn(&with(b"")), ['0', '0']);
        assert_eq!(ja4_alpn(&with(&[0xba, 0xad])), ['9', '9']);
        assert_eq!(ja4_alpn(&with(b"a\n")), ['a', '9']);
    }

    #[test]
    fn counts_cap_at_99_and_version_falls_back() {
        let ch = ClientHello {
            legacy_version: 0x0301,
            cipher_suites: (1..=150).collect(),
            extensions: (100..250).collect(),
            supported_versions: vec![0x1a1a],
            ..ClientHello::default()
        };
        let (ja4, _) = ja4(&ch, 'q');
        assert!(ja4.starts_with("q10i999900_"), "{ja4}");
    }
}
