//! HTTP: corpus request heads, hostile heads and chunked bodies.

use phonehome::decode::http::{
    parse_request_head, ChunkError, ChunkedDecoder, HeadParse, RequestHead, MAX_HEAD, MAX_HEADERS,
};
use proptest::prelude::*;

use crate::fixture;

fn complete(buf: &[u8]) -> RequestHead {
    match parse_request_head(buf) {
        HeadParse::Complete(h) => h,
        other => panic!("expected a complete head, got {other:?}"),
    }
}

#[test]
fn get_basic() {
    let buf = fixture("http-get-basic.f4");
    let h = complete(&buf);
    assert_eq!(h.method, "GET");
    assert_eq!(h.uri, "/download/CHANGES.bro-aux.txt");
    assert_eq!(h.version, "1.1");
    assert_eq!(h.host.as_deref(), Some("bro.org"));
    assert_eq!(h.user_agent.as_deref(), Some("Wget/1.14 (darwin12.2.0)"));
    assert_eq!(h.referrer, None);
    assert_eq!(h.content_type, None);
    assert_eq!(h.auth_scheme, None);
    assert!(!h.cookie_present);
    assert_eq!(h.content_length, None);
    assert!(!h.chunked);
    assert_eq!(h.head_len, buf.len());
}

#[test]
fn post_small_body() {
    let buf = fixture("http-post-small-body.f4");
    let h = complete(&buf);
    assert_eq!(h.method, "POST");
    assert_eq!(h.uri, "/post");
    assert_eq!(h.version, "1.1");
    assert_eq!(h.host.as_deref(), Some("httpbin.org"));
    assert_eq!(h.user_agent.as_deref(), Some("curl/7.29.0"));
    assert_eq!(
        h.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(h.content_length, Some(11));
    assert_eq!(&buf[h.head_len..], b"hello world");
}

#[test]
fn many_methods_well_formed_and_legacy_lines() {
    // (frame, method, uri, version); host is www.google.com in all of them.
    let cases = [
        ("f4", "OPTIONS", "*", "1.1"),
        ("f44", "GET", "/", "1.1"),
        ("f609", "HEAD", "/", "1.1"),
        // "GET /HTTP/1.1": no version token, reported as HTTP/0.9 like tshark.
        ("f172", "GET", "/HTTP/1.1", "0.9"),
        // "GET / HTTP/1.": the malformed version is kept as sent.
        ("f108", "GET", "/", "1."),
        ("f319", "CCM_POST", "/", "1."),
        // "OPTIONS HTTP/1.1": the only word after the method is the target.
        ("f14", "OPTIONS", "HTTP/1.1", "0.9"),
    ];
    for (f, method, uri, version) in cases {
        let h = complete(&fixture(&format!("http-many-methods.{f}")));
        assert_eq!(
            (h.method.as_str(), h.uri.as_str(), h.version.as_str()),
            (method, uri, version),
            "{f}"
        );
        assert_eq!(h.host.as_deref(), Some("www.google.com"), "{f}");
    }
}

#[test]
fn many_methods_not_requests() {
    // "GET/ HTTP/1.1", a non-ASCII method, "OPTIONS" alone: neither peer reports them.
    for f in ["f182", "f269", "f34"] {
        assert_eq!(
            parse_request_head(&fixture(&format!("http-many-methods.{f}"))),
            HeadParse::NotHttp,
            "{f}"
        );
    }
}

#[test]
fn every_prefix_of_a_head_is_partial() {
    for name in [
        "http-get-basic.f4",
        "http-many-methods.f172",
        "http-many-methods.f108",
    ] {
        let buf = fixture(name);
        let h = complete(&buf);
        for n in 0..h.head_len {
            assert_eq!(
                parse_request_head(&buf[..n]),
                HeadParse::Partial,
                "{name} at {n}"
            );
        }
    }
}

#[test]
fn header_count_limit() {
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..MAX_HEADERS {
        head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    let mut full = head.clone();
    full.extend_from_slice(b"\r\n");
    assert!(matches!(parse_request_head(&full), HeadParse::Complete(_)));
    head.extend_from_slice(b"X-last: v\r\n\r\n");
    assert_eq!(parse_request_head(&head), HeadParse::NotHttp);
}

#[test]
fn head_longer_than_max_head_is_given_up() {
    let mut buf = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    buf.resize(MAX_HEAD - 1, b'a');
    assert_eq!(parse_request_head(&buf), HeadParse::Partial);
    buf.resize(MAX_HEAD * 2, b'a');
    assert_eq!(parse_request_head(&buf), HeadParse::NotHttp);
    // A head that completes only after MAX_HEAD bytes is not looked at beyond them.
    buf.extend_from_slice(b"\r\n\r\n");
    assert_eq!(parse_request_head(&buf), HeadParse::NotHttp);
}

#[test]
fn sensitive_headers_reduced() {
    let buf =
        b"POST /api HTTP/1.1\r\nHost: a.example:8080\r\nAuthorization: Basic dXNlcjpzZWNyZXQ=\r\n\
Cookie: sid=SECRET\r\nReferer: http://b.example/\r\nContent-Encoding: gzip\r\n\
Transfer-Encoding: gzip, Chunked\r\n\r\n";
    let h = complete(buf);
    assert_eq!(h.host.as_deref(), Some("a.example:8080"));
    assert_eq!(h.auth_scheme.as_deref(), Some("Basic"));
    assert!(h.cookie_present);
    assert_eq!(h.referrer.as_deref(), Some("http://b.example/"));
    assert_eq!(h.content_encoding.as_deref(), Some("gzip"));
    assert!(h.chunked);
    let shown = format!("{h:?}");
    assert!(!shown.contains("dXNlcjpzZWNyZXQ") && !shown.contains("SECRET"));
}

#[test]
fn non_utf8_values_are_lossy() {
    let h = complete(b"GET /\xff HTTP/1.1\r\nUser-Agent: caf\xe9\r\n\r\n");
    assert_eq!(h.uri, "/\u{FFFD}");
    assert_eq!(h.user_agent.as_deref(), Some("caf\u{FFFD}"));
}

#[test]
fn chunked_body_split_anywhere() {
    let body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    for split in 0..=body.len() {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        let a = d.feed(&body[..split], &mut out, 64).expect("valid");
        let b = d.feed(&body[split..], &mut out, 64).expect("valid");
        assert_eq!(a + b, body.len());
        assert!(d.is_done());
        assert_eq!(out, b"hello world", "split at {split}");
    }
}

#[test]
fn chunked_absurd_sizes() {
    let mut d = ChunkedDecoder::new();
    let mut out = Vec::new();
    assert_eq!(d.feed(b"FFFFFFFFFFFFFFFF\r\n", &mut out, 16), Ok(18));
    assert_eq!(d.feed(&[b'x'; 100], &mut out, 16), Ok(100));
    assert_eq!(out.len(), 16);
    assert_eq!(d.body_len(), 100);
    let mut d = ChunkedDecoder::new();
    assert_eq!(
        d.feed(b"10000000000000000\r\n", &mut out, 16),
        Err(ChunkError::SizeOverflow)
    );
}

proptest! {
    #[test]
    fn random_heads_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let HeadParse::Complete(h) = parse_request_head(&b) {
            prop_assert!(h.head_len <= b.len());
        }
    }

    #[test]
    fn random_after_request_line_never_panics(
        b in proptest::collection::vec(any::<u8>(), 0..400)
    ) {
        let mut buf = b"GET / HTTP/1.1\r\n".to_vec();
        buf.extend_from_slice(&b);
        if let HeadParse::Complete(h) = parse_request_head(&buf) {
            prop_assert!(h.head_len <= buf.len());
        }
    }

    #[test]
    fn random_chunked_input_is_bounded(
        parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
        cap in 0usize..32,
    ) {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        for p in &parts {
            match d.feed(p, &mut out, cap) {
                Ok(n) => prop_assert!(n <= p.len()),
                Err(_) => break,
            }
        }
        prop_assert!(out.len() <= cap);
    }
}
