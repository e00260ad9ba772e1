//! JA3 and JA4 TLS client fingerprints.
//! STUB: to be implemented.

use super::tls::ClientHello;

/// JA3: returns (md5 hex, the JA3 string), GREASE removed.
pub fn ja3(_ch: &ClientHello) -> (String, String) {
    (String::new(), String::new())
}

/// JA4 (FoxIO spec): returns (ja4, ja4_r). `transport` is 't' (TCP), 'q' (QUIC) or 'd' (DTLS).
pub fn ja4(_ch: &ClientHello, _transport: char) -> (String, String) {
    (String::new(), String::new())
}
