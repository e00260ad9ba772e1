//! TLS ClientHello decoding and JA3/JA4 against real captures.
//!
//! Fixtures (`tests/fixtures/tls/<case>-<n>.hex`) are client stream prefixes extracted from the
//! shared corpus by `tests/fixtures/tls/extract.py`; the `.json` beside each carries the peer
//! tools' expectations (tshark for ja3/sni/alpn/versions, FoxIO ja4.py for ja4/ja4_r).

use std::path::PathBuf;
use std::sync::OnceLock;

use phonehome::decode::ja::{ja3, ja4};
use phonehome::decode::tls::{
    alpn_display, parse_client_hello, scan_client_stream, scan_retry_hello, ClientHello, TlsScan,
    MAX_CLIENT_HELLO_STREAM,
};
use proptest::prelude::*;
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls")
}

/// (name, stream bytes, expectations) of every fixture, sorted by name, read once.
fn fixtures() -> &'static [(String, Vec<u8>, Value)] {
    static ALL: OnceLock<Vec<(String, Vec<u8>, Value)>> = OnceLock::new();
    ALL.get_or_init(read_fixtures)
}

fn read_fixtures() -> Vec<(String, Vec<u8>, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("hex") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let bytes = hex::decode(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
        let exp: Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        out.push((name, bytes, exp));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn fixture(name: &str) -> Vec<u8> {
    fixtures()
        .iter()
        .find(|f| f.0 == name)
        .unwrap_or_else(|| panic!("fixture {name} missing"))
        .1
        .clone()
}

fn scan_ok(stream: &[u8]) -> ClientHello {
    match scan_client_stream(stream) {
        TlsScan::ClientHello(ch) => ch,
        other => panic!("expected a ClientHello, got {other:?}"),
    }
}

/// Wraps a handshake message into TLS records whose fragments end at `cuts`.
fn records(msg: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&msg.len())) {
        let frag = &msg[start..end];
        out.extend([22, 3, 1]);
        out.extend((frag.len() as u16).to_be_bytes());
        out.extend(frag);
        start = end;
    }
    out
}

/// The handshake message of a single-record fixture stream.
fn handshake_of(stream: &[u8]) -> Vec<u8> {
    let len = u16::from_be_bytes([stream[3], stream[4]]) as usize;
    stream[5..5 + len].to_vec()
}

#[test]
fn corpus_hellos_match_peer_tools() {
    let all = fixtures();
    for required in [
        "tls-firefox-single-client-hello-0",
        "tls-non-ascii-alpn-0",
        "tls12-no-sni-0",
        "tls10-rc4-github-0",
        "tls13-ech-cloudflare-0",
        "tls13-ech-cloudflare-1",
        "tls-many-sni-chrome-with-quic-0",
        "tls-many-sni-chrome-with-quic-6",
        "tls-many-sni-chrome-with-quic-31",
        "tls-many-sni-chrome-with-quic-40",
    ] {
        assert!(all.iter().any(|f| f.0 == required), "{required} missing");
    }
    assert_eq!(all.len(), 25);
    let mut failures = Vec::new();
    for (name, stream, exp) in all {
        let ch = if exp["hello_in_flow"] == 1 {
            match scan_retry_hello(stream) {
                TlsScan::ClientHello(ch) => ch,
                other => panic!("{name}: expected a retry ClientHello, got {other:?}"),
            }
        } else {
            assert_eq!(
                scan_retry_hello(stream),
                TlsScan::NeedMore(stream.len() + 5),
                "{name}"
            );
            scan_ok(stream)
        };
        let (ja3_hash, ja3_string) = ja3(&ch);
        let (ja4, ja4_r) = ja4(&ch, 't');
        let got = serde_json::json!({
            "ja3": ja3_hash,
            "ja3_string": ja3_string,
            "ja4": ja4,
            "ja4_r": ja4_r,
            "sni": ch.sni,
            "alpn": ch.alpn.iter().map(|a| alpn_display(a)).collect::<Vec<_>>(),
            "supported_versions": ch
                .supported_versions
                .iter()
                .map(|v| format!("0x{v:04x}"))
                .collect::<Vec<_>>(),
            "handshake_version": format!("0x{:04x}", ch.legacy_version),
        });
        for key in [
            "ja3",
            "ja3_string",
            "ja4",
            "ja4_r",
            "sni",
            "alpn",
            "supported_versions",
            "handshake_version",
        ] {
            let want = exp.get(key).cloned().unwrap_or(Value::Null);
            if got[key] != want {
                failures.push(format!("{name} {key}: got {} want {want}", got[key]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn exact_fields_of_firefox_hello() {
    let ch = scan_ok(&fixture("tls-firefox-single-client-hello-0"));
    assert_eq!(ch.legacy_version, 0x0303);
    assert_eq!(ch.cipher_suites.len(), 17);
    assert_eq!(&ch.cipher_suites[..3], &[0x1301, 0x1303, 0x1302]);
    assert_eq!(
        ch.extensions,
        vec![0, 23, 65281, 10, 11, 35, 16, 5, 34, 51, 43, 13, 45, 28, 21]
    );
    assert_eq!(ch.sni.as_deref(), Some("contile.services.mozilla.com"));
    assert_eq!(ch.alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!(ch.supported_versions, vec![0x0304, 0x0303]);
    assert_eq!(ch.supported_groups, vec![29, 23, 24, 25, 256, 257]);
    assert_eq!(ch.ec_point_formats, vec![0]);
    assert_eq!(
        ch.signature_algorithms,
        vec![
            0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201
        ]
    );
}

#[test]
fn grease_is_kept_in_the_hello_and_dropped_from_fingerprints() {
    let ch = scan_ok(&fixture("tls-non-ascii-alpn-0"));
    assert_eq!(ch.supported_versions, vec![0x0a0a, 0x0304, 0x0303]);
    assert!(ch.cipher_suites.iter().any(|&c| c & 0x0f0f == 0x0a0a));
    assert_eq!(ch.alpn[0], vec![0xba, 0xad]);
    assert_eq!(&ja4(&ch, 't').0[..10], "t13d151699");
    assert_eq!(&ja4(&ch, 'q').0[..1], "q");
}

/// Independent check of the hand-rolled parser: tls-parser must read the same legacy version,
/// cipher suites and extension block length from every real hello.
#[test]
fn agrees_with_tls_parser_on_corpus() {
    use tls_parser::{parse_tls_message_handshake, TlsMessage, TlsMessageHandshake};
    for (name, stream, _) in fixtures() {
        let ch = scan_ok(stream);
        let msg = handshake_of(stream);
        assert_eq!(
            msg.len() - 4,
            u32::from_be_bytes([0, msg[1], msg[2], msg[3]]) as usize
        );
        let (_, parsed) = parse_tls_message_handshake(&msg).expect(name);
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(theirs)) = parsed else {
            panic!("{name}: tls-parser saw no ClientHello");
        };
        assert_eq!(ch.legacy_version, theirs.version.0, "{name}");
        let ciphers: Vec<u16> = theirs.ciphers.iter().map(|c| c.0).collect();
        assert_eq!(ch.cipher_suites, ciphers, "{name}");
        let ext_bytes = theirs.ext.map_or(0, <[u8]>::len);
        assert_eq!(ext_bytes == 0, ch.extensions.is_empty(), "{name}");
    }
}

#[test]
fn hello_split_across_records_and_segments() {
    let stream = fixture("tls-firefox-single-client-hello-0");
    let whole = scan_ok(&stream);
    let msg = handshake_of(&stream);
    // Two records, three records, and a handshake header itself split over records.
    for cuts in [vec![200], vec![1, 300], vec![2, 3, 511], vec![4]] {
        let multi = records(&msg, &cuts);
        assert_eq!(scan_ok(&multi), whole, "cuts {cuts:?}");
        // Fed segment by segment as the flow layer would: every prefix asks for more bytes.
        let mut have = 0;
        loop {
            match scan_client_stream(&multi[..have]) {
                TlsScan::NeedMore(n) => {
                    assert!(n > have && n <= multi.len(), "cuts {cuts:?}: {n} at {have}");
                    have = n;
                }
                TlsScan::ClientHello(ch) => {
                    assert_eq!(ch, whole);
                    assert_eq!(have, multi.len());
                    break;
                }
                TlsScan::NotTls => panic!("NotTls at {have} for cuts {cuts:?}"),
            }
        }
    }
}

/// Chrome retried after a HelloRetryRequest on this flow: CH1, a ChangeCipherSpec record, CH2
/// without the padding extension (tshark and ja4.py report both hellos).
#[test]
fn second_hello_after_hello_retry_request() {
    let stream = fixture("tls-many-sni-chrome-with-quic-40");
    let first = scan_ok(&stream);
    assert_eq!(first.extensions.last(), Some(&21));
    let TlsScan::ClientHello(second) = scan_retry_hello(&stream) else {
        panic!("no retry hello");
    };
    assert_eq!(second.sni.as_deref(), Some("mem.gfx.ms"));
    assert!(!second.extensions.contains(&21));
    let ch1_end = 5 + u16::from_be_bytes([stream[3], stream[4]]) as usize;
    assert_eq!(stream[ch1_end], 20);
    for len in ch1_end..stream.len() {
        match scan_retry_hello(&stream[..len]) {
            TlsScan::NeedMore(n) => assert!(n > len && n <= stream.len(), "at {len}"),
            other => panic!("truncated at {len}: {other:?}"),
        }
    }
    // A TLS 1.2 client going on with ClientKeyExchange: no retry hello.
    let mut tls12 = fixture("tls12-no-sni-0");
    tls12.extend([22, 3, 3, 0, 6, 16, 0, 0, 2, 1, 0]);
    assert_eq!(scan_retry_hello(&tls12), TlsScan::NotTls);
    // TLS 1.3 without a retry: ChangeCipherSpec then encrypted application data.
    let mut tls13 = fixture("tls-firefox-single-client-hello-0");
    tls13.extend([20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xab, 0xcd]);
    assert_eq!(scan_retry_hello(&tls13), TlsScan::NotTls);
}

#[test]
fn records_after_the_hello_are_ignored() {
    let stream = fixture("tls12-no-sni-0");
    let mut longer = stream.clone();
    longer.extend([20, 3, 3, 0, 1, 1]); // a ChangeCipherSpec record
    assert_eq!(scan_ok(&longer), scan_ok(&stream));
}

#[test]
fn every_truncation_needs_more_and_never_panics() {
    for (name, stream, _) in fixtures() {
        let full = records(&handshake_of(stream), &[100]);
        for len in 0..full.len() {
            match scan_client_stream(&full[..len]) {
                TlsScan::NeedMore(n) => assert!(n > len && n <= full.len(), "{name} at {len}"),
                other => panic!("{name} truncated at {len}: {other:?}"),
            }
        }
        let msg = handshake_of(stream);
        for len in 0..msg.len() {
            assert_eq!(parse_client_hello(&msg[..len]), None, "{name} at {len}");
        }
    }
}

#[test]
fn non_tls_streams_are_rejected() {
    let sslv2_hello = [0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15];
    let server_hello = [22, 3, 3, 0, 4, 2, 0, 0, 0];
    let alert = [21, 3, 3, 0, 2, 2, 40];
    let zero_record = [22, 3, 1, 0, 0];
    let huge_record = [22, 3, 1, 0x48, 0x01, 1];
    let huge_handshake = [22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff];
    let bad_version = [22, 4, 1, 0, 4];
    let cases: [&[u8]; 9] = [
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        &sslv2_hello,
        &server_hello,
        &alert,
        &zero_record,
        &huge_record,
        &huge_handshake,
        &bad_version,
    ];
    for c in cases {
        assert_eq!(scan_client_stream(c), TlsScan::NotTls, "{c:02x?}");
    }
    // A hello that continues in an application-data record instead of a handshake record.
    let msg = handshake_of(&fixture("tls12-no-sni-0"));
    let mut mixed = records(&msg[..100], &[]);
    mixed.extend([23, 3, 3, 0, 1, 0]);
    assert_eq!(scan_client_stream(&mixed), TlsScan::NotTls);
    // A garbage handshake body inside well-formed framing.
    assert_eq!(
        scan_client_stream(&records(&[1, 0, 0, 2, 3, 3], &[])),
        TlsScan::NotTls
    );
}

#[test]
fn hellos_beyond_the_cap_are_not_tls() {
    // A handshake claiming 70000 bytes, sent in maximal records: rejected at the header.
    let mut msg = vec![1, 0x01, 0x11, 0x70];
    msg.resize(70_000 + 4, 0);
    let stream = records(&msg, &[16_000, 32_000, 48_000, 64_000]);
    assert_eq!(scan_client_stream(&stream[..20]), TlsScan::NotTls);
    // A small hello spread over tiny records that would need more than the cap.
    let msg = handshake_of(&fixture("tls12-no-sni-0"));
    let mut padded = vec![1, 0, 0x40, 0];
    padded.extend(&msg[4..]);
    padded.resize(0x4000 + 4, 0);
    let cuts: Vec<usize> = (1..padded.len()).collect();
    let stream = records(&padded, &cuts);
    assert!(stream.len() > MAX_CLIENT_HELLO_STREAM);
    assert_eq!(scan_client_stream(&stream), TlsScan::NotTls);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_client_hello_never_panics(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let _ = parse_client_hello(&data);
        let mut hello = vec![1u8];
        hello.extend(&data);
        if let Some(ch) = parse_client_hello(&hello) {
            let _ = (ja3(&ch), ja4(&ch, 't'));
        }
    }

    #[test]
    fn scan_never_panics(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let _ = scan_client_stream(&data);
        let mut stream = vec![22u8, 3, 1];
        stream.extend(&data);
        let _ = scan_client_stream(&stream);
    }

    /// Real hellos with random bytes overwritten reach deep into the extension parsing.
    #[test]
    fn mutated_real_hellos_never_panic(
        pick in 0usize..25,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let all = fixtures();
        let mut stream = all[pick % all.len()].1.clone();
        for (at, byte) in edits {
            let i = at % stream.len();
            stream[i] = byte;
        }
        if let TlsScan::ClientHello(ch) = scan_client_stream(&stream) {
            let _ = (ja3(&ch), ja4(&ch, 't'));
        }
        let _ = scan_retry_hello(&stream);
    }
}
