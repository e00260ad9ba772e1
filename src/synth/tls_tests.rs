//! Tests of the ClientHello builder: an independent parser (tls-parser) accepts it, length
//! fields are consistent, and the JA4 of each style is the real client's.

use super::*;
use sha2::{Digest, Sha256};
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

/// Walks the raw extension block: (type, data) pairs, asserting the lengths tile it exactly.
fn raw_extensions(block: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < block.len() {
        let ty = u16::from_be_bytes([block[i], block[i + 1]]);
        let len = u16::from_be_bytes([block[i + 2], block[i + 3]]) as usize;
        out.push((ty, block[i + 4..i + 4 + len].to_vec()));
        i += 4 + len;
    }
    assert_eq!(i, block.len(), "extension lengths tile the block");
    out
}

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// JA4 (FoxIO spec) for TCP, computed independently of phonehome's own `decode::ja`.
fn ja4(record: &[u8]) -> String {
    let hs = &record[5..];
    let body = &hs[4..];
    let sid_len = body[34] as usize;
    let mut i = 35 + sid_len;
    let cs_len = u16::from_be_bytes([body[i], body[i + 1]]) as usize;
    let ciphers: Vec<u16> = body[i + 2..i + 2 + cs_len]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .filter(|c| !is_grease(*c))
        .collect();
    i += 2 + cs_len;
    i += 1 + body[i] as usize;
    let ext_len = u16::from_be_bytes([body[i], body[i + 1]]) as usize;
    assert_eq!(i + 2 + ext_len, body.len(), "extensions end the hello");
    let exts = raw_extensions(&body[i + 2..]);
    let types: Vec<u16> = exts
        .iter()
        .map(|e| e.0)
        .filter(|t| !is_grease(*t))
        .collect();
    let sigalgs: Vec<String> = exts
        .iter()
        .find(|e| e.0 == 0x000d)
        .map(|e| {
            e.1[2..]
                .chunks(2)
                .map(|c| format!("{:02x}{:02x}", c[0], c[1]))
                .collect()
        })
        .unwrap_or_default();
    let alpn = exts.iter().find(|e| e.0 == 0x0010).map(|e| {
        let first = &e.1[3..3 + e.1[2] as usize];
        format!("{}{}", first[0] as char, first[first.len() - 1] as char)
    });
    let sni = if types.contains(&0) { 'd' } else { 'i' };
    let mut cs: Vec<String> = ciphers.iter().map(|c| format!("{c:04x}")).collect();
    cs.sort();
    let mut es: Vec<String> = types
        .iter()
        .filter(|t| **t != 0 && **t != 0x10)
        .map(|t| format!("{t:04x}"))
        .collect();
    es.sort();
    let h = |s: String| hex::encode(Sha256::digest(s.as_bytes()))[..12].to_string();
    format!(
        "t13{sni}{:02}{:02}{}_{}_{}",
        ciphers.len(),
        types.len(),
        alpn.unwrap_or_else(|| "00".into()),
        h(cs.join(",")),
        h(format!("{}_{}", es.join(","), sigalgs.join(",")))
    )
}

#[test]
fn chrome_hello_has_chromes_ja4() {
    let r = tls_client_hello("www.google.com", HelloStyle::Chrome);
    assert_eq!(ja4(&r), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    // BoringSSL padding brings the handshake message to 512 bytes.
    assert_eq!(r.len(), 5 + 512);
}

#[test]
fn okhttp_hello_has_conscrypts_ja4() {
    let r = tls_client_hello("android.googleapis.com", HelloStyle::OkHttp);
    assert_eq!(ja4(&r), "t13d1712h2_5b57614c22b0_3f5d972527c0");
}

#[test]
fn record_and_handshake_lengths_are_consistent() {
    for style in [HelloStyle::Chrome, HelloStyle::OkHttp] {
        for sni in [
            "a.io",
            "connectivitycheck.gstatic.com",
            &"x".repeat(400),
            "",
        ] {
            let r = tls_client_hello(sni, style);
            assert_eq!(r[0], CONTENT_HANDSHAKE);
            assert_eq!(u16::from_be_bytes([r[3], r[4]]) as usize, r.len() - 5);
            assert_eq!(r[5], 1, "client_hello");
            let hs_len = u32::from_be_bytes([0, r[6], r[7], r[8]]) as usize;
            assert_eq!(hs_len, r.len() - 9);
        }
    }
}

#[test]
fn tls_parser_reads_sni_alpn_versions_and_key_share() {
    let r = tls_client_hello("connectivitycheck.gstatic.com", HelloStyle::Chrome);
    let (rest, rec) = tls_parser::parse_tls_plaintext(&r).expect("parses");
    assert!(rest.is_empty());
    let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch))) = rec.msg.first() else {
        panic!("not a ClientHello: {:?}", rec.msg);
    };
    assert_eq!(ch.version.0, 0x0303);
    assert_eq!(ch.session_id.map(<[u8]>::len), Some(32));
    assert!(is_grease(ch.ciphers[0].0));
    let (_, exts) =
        tls_parser::parse_tls_client_hello_extensions(ch.ext.expect("ext")).expect("exts");
    let mut saw = 0;
    for e in &exts {
        match e {
            TlsExtension::SNI(names) => {
                assert_eq!(names[0].1, b"connectivitycheck.gstatic.com");
                saw |= 1;
            }
            TlsExtension::ALPN(p) => {
                assert_eq!(p, &vec![&b"h2"[..], b"http/1.1"]);
                saw |= 2;
            }
            TlsExtension::SupportedVersions(v) => {
                let v: Vec<u16> = v.iter().map(|x| x.0).collect();
                assert!(is_grease(v[0]));
                assert_eq!(v[1..], [0x0304, 0x0303]);
                saw |= 4;
            }
            TlsExtension::KeyShare(ks) => {
                // GREASE share (2+2+1) then x25519: group 0x001d, length 32.
                assert_eq!(ks.len(), 2 + 5 + 4 + 32);
                assert_eq!(ks[7..11], [0x00, 0x1d, 0x00, 0x20]);
                saw |= 8;
            }
            _ => {}
        }
    }
    assert_eq!(saw, 15);
}

#[test]
fn hellos_are_deterministic_and_sni_dependent() {
    let a = tls_client_hello("www.google.com", HelloStyle::Chrome);
    assert_eq!(a, tls_client_hello("www.google.com", HelloStyle::Chrome));
    assert_ne!(
        a[11..43],
        tls_client_hello("www.google.co", HelloStyle::Chrome)[11..43]
    );
}

#[test]
fn empty_sni_omits_the_extension_and_long_sni_is_cut() {
    // Without SNI the hello is under 256 bytes, so BoringSSL adds no padding either.
    let r = tls_client_hello("", HelloStyle::OkHttp);
    assert!(ja4(&r).starts_with("t13i1710h2_"), "{}", ja4(&r));
    let long = tls_client_hello(&"y".repeat(1000), HelloStyle::OkHttp);
    assert_eq!(
        long.windows(MAX_SNI_LEN + 1)
            .filter(|w| w.iter().all(|b| *b == b'y'))
            .count(),
        0
    );
    assert_eq!(
        long.windows(MAX_SNI_LEN)
            .filter(|w| w.iter().all(|b| *b == b'y'))
            .count(),
        1
    );
}

#[test]
fn application_data_splits_into_records() {
    let r = tls_application_data("x", MAX_RECORD_PAYLOAD + 10);
    assert_eq!(r.len(), MAX_RECORD_PAYLOAD + 10 + 10);
    assert_eq!(r[..5], [23, 3, 3, 0x40, 0x00]);
    assert_eq!(r[5 + MAX_RECORD_PAYLOAD..][..5], [23, 3, 3, 0, 10]);
}

#[test]
fn server_hello_echoes_session_id_and_parses() {
    let ch = tls_client_hello("www.google.com", HelloStyle::Chrome);
    let sh = tls_server_hello(&ch, "www.google.com");
    let (rest, rec) = tls_parser::parse_tls_plaintext(&sh).expect("parses");
    assert_eq!(rest, &[20, 3, 3, 0, 1, 1]);
    assert_eq!(sh[..3], [22, 3, 3], "servers write record version 0x0303");
    let Some(TlsMessage::Handshake(TlsMessageHandshake::ServerHello(h))) = rec.msg.first() else {
        panic!("not a ServerHello: {:?}", rec.msg);
    };
    assert_eq!(h.session_id, Some(&ch[44..76]));
    assert_eq!(h.cipher.0, 0x1301);
}
