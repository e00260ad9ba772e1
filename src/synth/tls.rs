//! TLS ClientHello and record builders (RFC 8446 §4.1.2, RFC 8701 GREASE).
//!
//! Hand-rolled: tls-parser's serialiser (its `serialize` feature) is not enabled and would
//! not reproduce a given client's exact extension layout, which is the point here. Two client
//! shapes are modelled on real captures in /work/shared/corpus:
//! - [`HelloStyle::Chrome`]: current Chrome (BoringSSL) with GREASE cipher, groups, versions
//!   and two GREASE extensions, ALPS, certificate compression and BoringSSL's padding to 512
//!   bytes; its JA4 is `t13d1516h2_8daaf6152771_e5627efa2ab1`, the most frequent Chrome
//!   fingerprint of the corpus (`tls-many-sni-chrome-with-quic`).
//! - [`HelloStyle::OkHttp`]: OkHttp over Android's Conscrypt (BoringSSL without GREASE), with
//!   the cipher and extension lists of the Android phone in `phone-android9-mixed`
//!   (`semanticlocation-pa.googleapis.com`) and ALPN h2 + http/1.1: JA4
//!   `t13d1712h2_5b57614c22b0_3f5d972527c0`.
//!
//! Random, session id, key share and GREASE values are derived from the SNI with SHA-256, so
//! output is deterministic. Invariants: the SNI is cut to [`MAX_SNI_LEN`] bytes (an empty SNI
//! omits the extension), and every length field matches the bytes that follow it.

use super::pseudo_random;

/// Longest host name put in the SNI extension (a DNS name is at most 253 characters).
pub const MAX_SNI_LEN: usize = 253;
/// Largest TLS plaintext record fragment (RFC 8446 §5.1); longer payloads span records.
pub const MAX_RECORD_PAYLOAD: usize = 16_384;
/// Record content type: handshake.
pub const CONTENT_HANDSHAKE: u8 = 22;
/// Record content type: application data.
pub const CONTENT_APPLICATION_DATA: u8 = 23;
/// Record content type: change_cipher_spec.
pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;

/// Which client's ClientHello to imitate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelloStyle {
    /// Chrome on Android (BoringSSL, GREASE, ALPS).
    Chrome,
    /// OkHttp on Android (Conscrypt, no GREASE).
    OkHttp,
}

/// Chrome's cipher suites after the leading GREASE value.
const CHROME_CIPHERS: [u16; 15] = [
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
    0x009d, 0x002f, 0x0035,
];
/// Conscrypt's cipher suites on Android.
const OKHTTP_CIPHERS: [u16; 17] = [
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8, 0xc009, 0xc00a, 0xc013,
    0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
];
/// Chrome's signature algorithms.
const CHROME_SIGALGS: [u16; 8] = [
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
];
/// Conscrypt's signature algorithms (Chrome's plus rsa_pkcs1_sha1).
const OKHTTP_SIGALGS: [u16; 9] = [
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201,
];

/// Appends a big-endian u16.
fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends `body` behind a 16-bit length (bodies here are far below 64 KiB).
fn put_vec16(out: &mut Vec<u8>, body: &[u8]) {
    put16(out, u16::try_from(body.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(body);
}

/// A list of u16 values behind a 16-bit byte length.
fn u16_list(values: &[u16]) -> Vec<u8> {
    let mut b = Vec::with_capacity(2 + 2 * values.len());
    put16(&mut b, u16::try_from(2 * values.len()).unwrap_or(u16::MAX));
    for v in values {
        put16(&mut b, *v);
    }
    b
}

/// Appends one extension (type, 16-bit length, data).
fn ext(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
    put16(out, ty);
    put_vec16(out, data);
}

/// server_name extension data for `host` (RFC 6066 §3).
fn sni_data(host: &[u8]) -> Vec<u8> {
    let mut entry = vec![0u8]; // host_name
    put_vec16(&mut entry, host);
    let mut d = Vec::with_capacity(2 + entry.len());
    put_vec16(&mut d, &entry);
    d
}

/// ALPN extension data for h2 and http/1.1 (RFC 7301).
fn alpn_data() -> Vec<u8> {
    let mut list = Vec::new();
    for p in [&b"h2"[..], b"http/1.1"] {
        list.push(p.len() as u8);
        list.extend_from_slice(p);
    }
    let mut d = Vec::new();
    put_vec16(&mut d, &list);
    d
}

/// key_share extension data: optional GREASE share (1 byte) then x25519 (32 bytes).
fn key_share_data(grease: Option<u16>, x25519: &[u8]) -> Vec<u8> {
    let mut shares = Vec::new();
    if let Some(g) = grease {
        put16(&mut shares, g);
        put_vec16(&mut shares, &[0]);
    }
    put16(&mut shares, 0x001d);
    put_vec16(&mut shares, x25519);
    let mut d = Vec::new();
    put_vec16(&mut d, &shares);
    d
}

/// A GREASE value (0x?a?a) picked by `b`.
fn grease(b: u8) -> u16 {
    let hi = u16::from((b & 0xf0) | 0x0a);
    (hi << 8) | hi
}

/// The ClientHello handshake message (type 1, 24-bit length, body) for `sni` in `style`.
pub fn client_hello_handshake(sni: &str, style: HelloStyle) -> Vec<u8> {
    let host = sni.as_bytes();
    let host = host.get(..MAX_SNI_LEN).unwrap_or(host);
    let seed = pseudo_random(&[b"client-hello:", host].concat(), 96 + 8);
    let (random, rest) = seed.split_at(32);
    let (session_id, rest) = rest.split_at(32);
    let (x25519, g) = rest.split_at(32);
    let g: Vec<u16> = g.iter().map(|b| grease(*b)).collect();
    // GREASE slots: cipher, group, first extension, last extension, version.
    let (g_cipher, g_group, g_ext1, g_version) = (g[0], g[1], g[2], g[4]);
    let g_ext2 = if g[3] == g_ext1 { g[3] ^ 0x1010 } else { g[3] };

    let mut body = Vec::with_capacity(512);
    put16(&mut body, 0x0303);
    body.extend_from_slice(random);
    body.push(32);
    body.extend_from_slice(session_id);
    let mut exts = Vec::with_capacity(400);
    match style {
        HelloStyle::Chrome => {
            let ciphers: Vec<u16> = std::iter::once(g_cipher).chain(CHROME_CIPHERS).collect();
            body.extend_from_slice(&u16_list(&ciphers));
            ext(&mut exts, g_ext1, &[]);
            ext(&mut exts, 0xff01, &[0]);
            ext(&mut exts, 0x0033, &key_share_data(Some(g_group), x25519));
            ext(&mut exts, 0x002d, &[1, 1]);
            ext(&mut exts, 0x0005, &[1, 0, 0, 0, 0]);
            ext(&mut exts, 0x4469, &[0, 3, 2, b'h', b'2']);
            ext(&mut exts, 0x000d, &u16_list(&CHROME_SIGALGS));
            ext(&mut exts, 0x0010, &alpn_data());
            ext(&mut exts, 0x0023, &[]);
            ext(&mut exts, 0x001b, &[2, 0, 2]);
            let versions = u16_list(&[g_version, 0x0304, 0x0303]);
            ext(&mut exts, 0x002b, versions.get(1..).unwrap_or_default());
            if !host.is_empty() {
                ext(&mut exts, 0x0000, &sni_data(host));
            }
            ext(&mut exts, 0x0012, &[]);
            ext(
                &mut exts,
                0x000a,
                &u16_list(&[g_group, 0x001d, 0x0017, 0x0018]),
            );
            ext(&mut exts, 0x0017, &[]);
            ext(&mut exts, 0x000b, &[1, 0]);
            ext(&mut exts, g_ext2, &[0]);
        }
        HelloStyle::OkHttp => {
            body.extend_from_slice(&u16_list(&OKHTTP_CIPHERS));
            if !host.is_empty() {
                ext(&mut exts, 0x0000, &sni_data(host));
            }
            ext(&mut exts, 0x0017, &[]);
            ext(&mut exts, 0xff01, &[0]);
            ext(&mut exts, 0x000a, &u16_list(&[0x001d, 0x0017, 0x0018]));
            ext(&mut exts, 0x000b, &[1, 0]);
            ext(&mut exts, 0x0010, &alpn_data());
            ext(&mut exts, 0x0005, &[1, 0, 0, 0, 0]);
            ext(&mut exts, 0x000d, &u16_list(&OKHTTP_SIGALGS));
            ext(&mut exts, 0x0033, &key_share_data(None, x25519));
            ext(&mut exts, 0x002d, &[1, 1]);
            let versions = u16_list(&[0x0304, 0x0303, 0x0302, 0x0301]);
            ext(&mut exts, 0x002b, versions.get(1..).unwrap_or_default());
        }
    }
    body.extend_from_slice(&[1, 0]); // compression methods: null only
                                     // BoringSSL pads hellos of 256..511 bytes (handshake header included) up to 512, so
                                     // that buggy F5 middleboxes do not choke on them; the pad's own 4-byte header counts.
    let unpadded = 4 + body.len() + 2 + exts.len();
    if (0x100..0x200).contains(&unpadded) {
        let pad = (0x200 - unpadded)
            .checked_sub(4)
            .filter(|p| *p >= 1)
            .unwrap_or(1);
        ext(&mut exts, 0x0015, &vec![0; pad]);
    }
    put_vec16(&mut body, &exts);

    let mut msg = Vec::with_capacity(4 + body.len());
    msg.push(1);
    let len = u32::try_from(body.len()).unwrap_or(0).to_be_bytes();
    msg.extend_from_slice(len.get(1..).unwrap_or_default());
    msg.extend_from_slice(&body);
    msg
}

/// TLS records of `content_type` carrying `payload`, split at [`MAX_RECORD_PAYLOAD`]. The
/// record version is 0x0301 for handshakes (as clients send their first flight) and 0x0303
/// otherwise. An empty payload gives no record.
pub fn tls_records(content_type: u8, payload: &[u8]) -> Vec<u8> {
    let version: u16 = if content_type == CONTENT_HANDSHAKE {
        0x0301
    } else {
        0x0303
    };
    records(content_type, version, payload)
}

/// Records of `content_type` and record `version` carrying `payload`.
fn records(content_type: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 5 * (1 + payload.len() / MAX_RECORD_PAYLOAD));
    for chunk in payload.chunks(MAX_RECORD_PAYLOAD) {
        out.push(content_type);
        put16(&mut out, version);
        put_vec16(&mut out, chunk);
    }
    out
}

/// The TLS record bytes of a ClientHello for `sni`, shaped like `style`'s client.
pub fn tls_client_hello(sni: &str, style: HelloStyle) -> Vec<u8> {
    tls_records(CONTENT_HANDSHAKE, &client_hello_handshake(sni, style))
}

/// A TLS 1.3 ServerHello record (x25519 key share, TLS_AES_128_GCM_SHA256) echoing the
/// session id of the ClientHello `client_hello` (record bytes), followed by the
/// middlebox-compatibility change_cipher_spec record; key and random derive from `label`.
pub fn tls_server_hello(client_hello: &[u8], label: &str) -> Vec<u8> {
    // Record header 5, handshake header 4, version 2, random 32, then the session id.
    let sid = client_hello
        .get(43)
        .and_then(|n| client_hello.get(44..44 + usize::from(*n)))
        .unwrap_or_default();
    let r = pseudo_random(&[b"server-hello:", label.as_bytes()].concat(), 64);
    let (random, key) = r.split_at(32);
    let mut body = Vec::with_capacity(128);
    put16(&mut body, 0x0303);
    body.extend_from_slice(random);
    body.push(sid.len() as u8); // at most 255: read through a one-byte length
    body.extend_from_slice(sid);
    put16(&mut body, 0x1301);
    body.push(0);
    let mut exts = Vec::new();
    ext(&mut exts, 0x002b, &[0x03, 0x04]);
    let mut share = Vec::new();
    put16(&mut share, 0x001d);
    put_vec16(&mut share, key);
    ext(&mut exts, 0x0033, &share);
    put_vec16(&mut body, &exts);
    let mut msg = vec![2u8];
    let len = u32::try_from(body.len()).unwrap_or(0).to_be_bytes();
    msg.extend_from_slice(len.get(1..).unwrap_or_default());
    msg.extend_from_slice(&body);
    let mut out = records(CONTENT_HANDSHAKE, 0x0303, &msg);
    out.extend_from_slice(&[CONTENT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1]);
    out
}

/// Application-data records whose `len` payload bytes look encrypted (deterministic from
/// `label`).
pub fn tls_application_data(label: &str, len: usize) -> Vec<u8> {
    tls_records(
        CONTENT_APPLICATION_DATA,
        &pseudo_random(label.as_bytes(), len),
    )
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
