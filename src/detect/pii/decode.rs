//! Bounded decoders that turn a body or URI into what the server reads: inflate (gzip, zlib,
//! raw deflate via `flate2`), percent/plus decoding, and whole-body base64 (via `base64`).
//!
//! Invariants: every decoder writes into a caller's buffer and stops at a named bound, so a
//! compression bomb or a huge body costs at most [`MAX_INFLATED`] bytes of memory; corrupt or
//! truncated input yields what was decoded before the error (bodies are kept truncated).
//! Percent decoding is hand-rolled: it is ten lines, must also map `+` to a space for forms,
//! and must never fail (a stray `%` stays as it is).

use std::io::Read;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// Compressed input looked at (bytes): the pipeline keeps at most 64 KiB of a body anyway.
pub const MAX_INFLATE_INPUT: usize = 64 * 1024;

/// Decompressed output kept (bytes): bounds the memory a gzip/deflate bomb can take.
pub const MAX_INFLATED: usize = 256 * 1024;

/// Shortest body tried as base64 (characters): shorter runs are as likely plain words.
pub const MIN_BASE64_BODY: usize = 16;

/// Longest body tried as base64 (characters); its decoded form is 3/4 of this.
pub const MAX_BASE64_BODY: usize = MAX_INFLATED;

/// Base64 engines that accept padded and unpadded input, and stray trailing bits.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const B64_STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const B64_URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// How a body was compressed (its Content-Encoding, or gzip's magic bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    /// `deflate`: zlib-wrapped per RFC 9110, but some clients send raw deflate; both are tried.
    Deflate,
}

impl Compression {
    /// From a Content-Encoding value (`gzip`, `x-gzip`, `deflate`; case-insensitive), else
    /// from gzip's magic bytes `1f 8b` at the start of the body.
    pub fn detect(content_encoding: Option<&str>, body: &[u8]) -> Option<Compression> {
        let ce = content_encoding.map(str::trim).unwrap_or("");
        if ce.eq_ignore_ascii_case("gzip") || ce.eq_ignore_ascii_case("x-gzip") {
            Some(Compression::Gzip)
        } else if ce.eq_ignore_ascii_case("deflate") {
            Some(Compression::Deflate)
        } else if body.starts_with(&[0x1f, 0x8b, 0x08]) {
            Some(Compression::Gzip)
        } else {
            None
        }
    }
}

/// Inflates `input` (its first [`MAX_INFLATE_INPUT`] bytes) into `out`, at most
/// [`MAX_INFLATED`] bytes. Returns false when nothing could be decoded.
pub fn inflate(c: Compression, input: &[u8], out: &mut Vec<u8>) -> bool {
    let input = input.get(..MAX_INFLATE_INPUT).unwrap_or(input);
    out.clear();
    match c {
        Compression::Gzip => read_bounded(flate2::read::GzDecoder::new(input), out),
        Compression::Deflate => {
            read_bounded(flate2::read::ZlibDecoder::new(input), out) || {
                out.clear();
                read_bounded(flate2::read::DeflateDecoder::new(input), out)
            }
        }
    }
}

/// Reads at most [`MAX_INFLATED`] bytes; keeps what was read before an error.
fn read_bounded(r: impl Read, out: &mut Vec<u8>) -> bool {
    // A read error (corrupt or truncated stream) still leaves the bytes decoded so far in
    // `out`, which is what a truncated body should yield.
    let _ = r.take(MAX_INFLATED as u64).read_to_end(out);
    !out.is_empty()
}

/// Percent-decodes `input` into `out` (`+` becomes a space when `plus_is_space`). Returns true
/// when the output differs from the input.
pub fn percent_decode(input: &[u8], plus_is_space: bool, out: &mut Vec<u8>) -> bool {
    out.clear();
    out.reserve(input.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        let escaped = match (b, input.get(i + 1), input.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex_pair(h, l),
            _ => None,
        };
        if let Some(v) = escaped {
            out.push(v);
            i += 3;
            changed = true;
        } else if b == b'+' && plus_is_space {
            out.push(b' ');
            i += 1;
            changed = true;
        } else {
            out.push(b);
            i += 1;
        }
    }
    changed
}

fn hex_pair(h: u8, l: u8) -> Option<u8> {
    Some(super::validate::hex_val(h)? << 4 | super::validate::hex_val(l)?)
}

/// True when the body looks like an `application/x-www-form-urlencoded` form: `k=v` pairs.
pub fn looks_like_form(body: &[u8]) -> bool {
    let first = body.split(|&b| b == b'&').next().unwrap_or(body);
    first.contains(&b'=') && !body.iter().any(|&b| b.is_ascii_whitespace() || b == b'{')
}

/// Decodes a body that is wholly base64 (standard or URL-safe alphabet, padding optional,
/// optionally surrounded by whitespace or quotes, line breaks allowed) into `out`. Returns
/// false when the body is not such a body. `scratch` receives the characters without
/// whitespace.
pub fn whole_base64(body: &[u8], scratch: &mut Vec<u8>, out: &mut Vec<u8>) -> bool {
    let t = trim(body, |b| b.is_ascii_whitespace() || b == b'"' || b == b'\'');
    if t.len() < MIN_BASE64_BODY || t.len() > MAX_BASE64_BODY {
        return false;
    }
    scratch.clear();
    let (mut url, mut std, mut lower, mut upper) = (false, false, false, false);
    for &b in t {
        match b {
            b'a'..=b'z' => lower = true,
            b'A'..=b'Z' => upper = true,
            b'0'..=b'9' | b'=' => {}
            b'+' | b'/' => std = true,
            b'-' | b'_' => url = true,
            b'\r' | b'\n' => continue,
            _ => return false,
        }
        scratch.push(b);
    }
    // Both alphabets mixed is not base64; one letter case only is more likely hex or a word.
    if (url && std) || !(lower && upper) {
        return false;
    }
    let engine = if url { &B64_URL } else { &B64_STD };
    out.clear();
    engine.decode_vec(scratch.as_slice(), out).is_ok() && !out.is_empty()
}

fn trim(b: &[u8], strip: impl Fn(u8) -> bool) -> &[u8] {
    let s = b.iter().position(|&c| !strip(c)).unwrap_or(b.len());
    let e = b.iter().rposition(|&c| !strip(c)).map_or(s, |p| p + 1);
    b.get(s..e).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn percent_and_plus() {
        let mut o = Vec::new();
        assert!(percent_decode(b"a%3Ab+c%zz%4", true, &mut o));
        assert_eq!(o, b"a:b c%zz%4");
        assert!(!percent_decode(b"abc", true, &mut o));
        assert!(!percent_decode(b"a+b", false, &mut o));
    }

    #[test]
    fn inflate_gzip_zlib_raw_and_bomb() {
        let data = b"{\"imei\":\"352099001761481\"}".repeat(3);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        raw.write_all(&data).unwrap();
        let raw = raw.finish().unwrap();
        let mut out = Vec::new();
        assert!(inflate(Compression::Gzip, &gz, &mut out));
        assert_eq!(out, data);
        assert!(inflate(Compression::Deflate, &raw, &mut out));
        assert_eq!(out, data);
        assert!(!inflate(Compression::Gzip, b"not gzip at all", &mut out));
        // A bomb: 16 MiB of zeros compress to ~16 KiB; only MAX_INFLATED come out.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; 16 << 20]).unwrap();
        let z = z.finish().unwrap();
        assert!(z.len() <= MAX_INFLATE_INPUT);
        assert!(inflate(Compression::Deflate, &z, &mut out));
        assert_eq!(out.len(), MAX_INFLATED);
    }

    #[test]
    fn base64_bodies() {
        let (mut s, mut o) = (Vec::new(), Vec::new());
        assert!(whole_base64(
            b" \"eyJpbWVpIjoiMzUyMDk5MDAxNzYxNDgxIn0=\"\n",
            &mut s,
            &mut o
        ));
        assert_eq!(o, b"{\"imei\":\"352099001761481\"}");
        assert!(!whole_base64(b"imei=352099001761481&x=1", &mut s, &mut o));
        assert!(!whole_base64(b"0123456789abcdef0123", &mut s, &mut o)); // hex, one case
        assert!(!whole_base64(b"short", &mut s, &mut o));
    }
}
