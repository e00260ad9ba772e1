//! HTTP/1.x request-head decoding with `httparse`, plus a streaming chunked-body decoder
//! ([`ChunkedDecoder`]).
//!
//! [`parse_request_head`] is tried on the first client payload of every TCP flow, so it first
//! runs a cheap pre-check ([`MAX_METHOD_LEN`] token bytes then a space) that rejects TLS,
//! binary and most other protocols within one or two compares and without allocating.
//! Request lines `httparse` refuses but peers (tshark, Zeek) still report as requests are
//! decoded by a small fallback: HTTP/0.9-style lines without a version ("GET /x", version
//! "0.9"), a malformed version token ("HTTP/1." is kept as "1."), and non-UTF-8 targets
//! (kept lossily).
//!
//! Invariants: only the first [`MAX_HEAD`] bytes are ever looked at; at most [`MAX_HEADERS`]
//! headers (a longer head is `NotHttp`); header values are kept verbatim (lossy UTF-8); of
//! `Authorization` only the scheme word is kept, never the credentials.

mod chunked;

pub use chunked::{ChunkError, ChunkedDecoder, MAX_CHUNK_LINE, MAX_TRAILER_BYTES};

/// Bytes of a request body kept for detectors.
pub const MAX_BODY_KEPT: usize = 64 * 1024;
/// Largest request head we wait for before giving up on a stream.
pub const MAX_HEAD: usize = 16 * 1024;
/// Most header fields decoded in one head (the `httparse` header array lives on the stack,
/// 32 bytes each). A head with more is reported `NotHttp`.
pub const MAX_HEADERS: usize = 96;
/// Longest method token the pre-check accepts (the longest registered method,
/// VERSION-CONTROL, has 15 characters).
pub const MAX_METHOD_LEN: usize = 24;
/// Longest Authorization scheme word kept; anything longer is reported as
/// [`AUTH_SCHEME_UNKNOWN`].
pub const MAX_AUTH_SCHEME_LEN: usize = 32;
/// `auth_scheme` value when an Authorization header is present but its scheme cannot be told
/// apart from the credentials (a bare token, or an over-long or non-token first word).
pub const AUTH_SCHEME_UNKNOWN: &str = "(unknown)";

/// A parsed request head.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// Request method: any token ("GET", "CCM_POST", …).
    pub method: String,
    /// Request target verbatim, query string included.
    pub uri: String,
    /// "1.0", "1.1", "0.9" for a request line without a version, or the malformed version
    /// digits as sent (e.g. "1.").
    pub version: String,
    /// Host header verbatim (may include `:port`).
    pub host: Option<String>,
    /// User-Agent header verbatim.
    pub user_agent: Option<String>,
    /// Referer header verbatim.
    pub referrer: Option<String>,
    /// Content-Type header verbatim.
    pub content_type: Option<String>,
    /// Content-Encoding header verbatim.
    pub content_encoding: Option<String>,
    /// Scheme word of the Authorization header ("Basic", "Bearer", …) or
    /// [`AUTH_SCHEME_UNKNOWN`]; the credentials are never kept.
    pub auth_scheme: Option<String>,
    /// A Cookie header is present (its value is not kept).
    pub cookie_present: bool,
    /// Content-Length, when present and a valid decimal number.
    pub content_length: Option<u64>,
    /// Transfer-Encoding lists `chunked`.
    pub chunked: bool,
    /// Length of the head including the blank line.
    pub head_len: usize,
}

/// Result of trying to parse a request head at the start of `buf`.
// Returned by value once per head and consumed at once; boxing `Complete` would only add an
// allocation per request.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadParse {
    /// A whole head; the body (if any) starts at `head_len`.
    Complete(RequestHead),
    /// Could be a request; wait for more bytes.
    Partial,
    /// Not an HTTP request.
    NotHttp,
}

/// Parses a request head at the start of `buf`.
///
/// `Partial` while the head may still complete within [`MAX_HEAD`] bytes, `NotHttp` once it
/// cannot (or when the bytes are not a request at all).
pub fn parse_request_head(buf: &[u8]) -> HeadParse {
    let buf = buf.get(..MAX_HEAD).unwrap_or(buf);
    match method_precheck(buf) {
        Precheck::No => return HeadParse::NotHttp,
        Precheck::NeedMore => return HeadParse::Partial,
        Precheck::Yes => {}
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let mut config = httparse::ParserConfig::default();
    config
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .ignore_invalid_headers_in_requests(true);
    match config.parse_request(&mut req, buf) {
        Ok(httparse::Status::Complete(head_len)) => {
            let (Some(method), Some(uri), Some(minor)) = (req.method, req.path, req.version) else {
                return HeadParse::NotHttp;
            };
            let mut head = RequestHead {
                method: method.to_owned(),
                uri: uri.to_owned(),
                version: format!("1.{minor}"),
                head_len,
                ..RequestHead::default()
            };
            apply_headers(&mut head, req.headers);
            HeadParse::Complete(head)
        }
        Ok(httparse::Status::Partial) => partial(buf),
        Err(httparse::Error::TooManyHeaders) => HeadParse::NotHttp,
        Err(_) => parse_legacy(buf),
    }
}

enum Precheck {
    Yes,
    NeedMore,
    No,
}

/// A request starts with 1..=[`MAX_METHOD_LEN`] token bytes and a space.
fn method_precheck(buf: &[u8]) -> Precheck {
    for (i, &b) in buf.iter().take(MAX_METHOD_LEN + 1).enumerate() {
        if b == b' ' {
            return if i == 0 { Precheck::No } else { Precheck::Yes };
        }
        if !is_tchar(b) {
            return Precheck::No;
        }
    }
    if buf.len() > MAX_METHOD_LEN {
        Precheck::No
    } else {
        Precheck::NeedMore
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn partial(buf: &[u8]) -> HeadParse {
    if buf.len() >= MAX_HEAD {
        HeadParse::NotHttp
    } else {
        HeadParse::Partial
    }
}

/// Request lines `httparse` refuses: "METHOD target" (HTTP/0.9 style), "METHOD target
/// HTTP/<digits and dots>" with a malformed version, or a non-UTF-8 target. Headers are then
/// parsed by `httparse::parse_headers`.
fn parse_legacy(buf: &[u8]) -> HeadParse {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        return partial(buf);
    };
    let Some(line) = buf.get(..nl) else {
        return HeadParse::NotHttp;
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(uri)) = (parts.next(), parts.next()) else {
        return HeadParse::NotHttp;
    };
    let version = match parts.next() {
        None => "0.9".to_owned(),
        Some(v) => match v.strip_prefix(b"HTTP/") {
            Some(d) if !d.is_empty() && d.iter().all(|&b| b.is_ascii_digit() || b == b'.') => {
                String::from_utf8_lossy(d).into_owned()
            }
            _ => return HeadParse::NotHttp,
        },
    };
    let method_ok = !method.is_empty() && method.iter().all(|&b| is_tchar(b));
    let uri_ok = !uri.is_empty() && uri.iter().all(|&b| b > b' ' && b != 0x7F);
    if parts.next().is_some() || !method_ok || !uri_ok {
        return HeadParse::NotHttp;
    }
    let Some(rest) = buf.get(nl + 1..) else {
        return HeadParse::NotHttp;
    };
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(rest, &mut headers) {
        Ok(httparse::Status::Complete((n, hdrs))) => {
            let mut head = RequestHead {
                method: String::from_utf8_lossy(method).into_owned(),
                uri: String::from_utf8_lossy(uri).into_owned(),
                version,
                head_len: nl + 1 + n,
                ..RequestHead::default()
            };
            apply_headers(&mut head, hdrs);
            HeadParse::Complete(head)
        }
        Ok(httparse::Status::Partial) => partial(buf),
        Err(_) => HeadParse::NotHttp,
    }
}

/// Fills the header-derived fields; the first occurrence of each header wins.
fn apply_headers(head: &mut RequestHead, headers: &[httparse::Header<'_>]) {
    for h in headers {
        let name = h.name;
        let set = |slot: &mut Option<String>| {
            if slot.is_none() {
                *slot = Some(String::from_utf8_lossy(h.value).into_owned());
            }
        };
        if name.eq_ignore_ascii_case("host") {
            set(&mut head.host);
        } else if name.eq_ignore_ascii_case("user-agent") {
            set(&mut head.user_agent);
        } else if name.eq_ignore_ascii_case("referer") {
            set(&mut head.referrer);
        } else if name.eq_ignore_ascii_case("content-type") {
            set(&mut head.content_type);
        } else if name.eq_ignore_ascii_case("content-encoding") {
            set(&mut head.content_encoding);
        } else if name.eq_ignore_ascii_case("authorization") {
            if head.auth_scheme.is_none() {
                head.auth_scheme = Some(auth_scheme(h.value));
            }
        } else if name.eq_ignore_ascii_case("cookie") {
            head.cookie_present = true;
        } else if name.eq_ignore_ascii_case("content-length") {
            if head.content_length.is_none() {
                head.content_length = parse_decimal(h.value);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked |= h
                .value
                .split(|&b| b == b',')
                .any(|c| c.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        }
    }
}

/// The scheme word of an Authorization value, never the credentials after it.
fn auth_scheme(value: &[u8]) -> String {
    let value = value.trim_ascii_start();
    let word_end = value.iter().position(|b| b.is_ascii_whitespace());
    match word_end.and_then(|i| value.get(..i)) {
        Some(w) if w.len() <= MAX_AUTH_SCHEME_LEN && w.iter().all(|&b| is_tchar(b)) => {
            String::from_utf8_lossy(w).into_owned()
        }
        _ => AUTH_SCHEME_UNKNOWN.to_owned(),
    }
}

/// A decimal u64 (surrounding blanks allowed); None for anything else or overflow.
fn parse_decimal(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii();
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precheck_rejects_non_methods_fast() {
        assert_eq!(parse_request_head(&[0x16, 0x03, 0x01]), HeadParse::NotHttp);
        assert_eq!(parse_request_head(b" GET / HTTP/1.1"), HeadParse::NotHttp);
        assert_eq!(
            parse_request_head(b"GET/ HTTP/1.1\r\n\r\n"),
            HeadParse::NotHttp
        );
        assert_eq!(
            parse_request_head(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            HeadParse::NotHttp
        );
        assert_eq!(parse_request_head(b""), HeadParse::Partial);
        assert_eq!(parse_request_head(b"GE"), HeadParse::Partial);
    }

    #[test]
    fn auth_scheme_never_keeps_credentials() {
        assert_eq!(auth_scheme(b"Basic dXNlcjpwYXNz"), "Basic");
        assert_eq!(auth_scheme(b"  Bearer abc.def"), "Bearer");
        assert_eq!(auth_scheme(b"sk_live_secret"), AUTH_SCHEME_UNKNOWN);
        assert_eq!(auth_scheme(b"a:b c"), AUTH_SCHEME_UNKNOWN);
    }

    #[test]
    fn decimal_parsing() {
        assert_eq!(parse_decimal(b" 11 "), Some(11));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
        assert_eq!(parse_decimal(b"-1"), None);
        assert_eq!(parse_decimal(b""), None);
    }
}
