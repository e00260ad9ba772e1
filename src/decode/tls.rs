//! TLS ClientHello decoding (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).
//! STUB: to be implemented.

/// What the client stream (from its first byte) holds so far.
#[derive(Clone, Debug, PartialEq)]
pub enum TlsScan {
    /// Not a TLS handshake stream: stop inspecting.
    NotTls,
    /// Looks like TLS; at least this many bytes (from the stream start) are needed.
    NeedMore(usize),
    /// A complete ClientHello.
    ClientHello(ClientHello),
}

/// The parts of a ClientHello that records and fingerprints need. GREASE values are kept as
/// sent; the fingerprint functions in [`crate::decode::ja`] filter them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: u16,
    pub cipher_suites: Vec<u16>,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    pub sni: Option<String>,
    /// ALPN protocol names, raw bytes, in order.
    pub alpn: Vec<Vec<u8>>,
    pub supported_versions: Vec<u16>,
    pub signature_algorithms: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
}

/// Scans the start of a TCP client stream for a TLS ClientHello, which may span several
/// TLS records and TCP segments.
pub fn scan_client_stream(_stream: &[u8]) -> TlsScan {
    TlsScan::NotTls
}

/// Parses a handshake message (starting at its type byte, 1 = client_hello).
pub fn parse_client_hello(_handshake: &[u8]) -> Option<ClientHello> {
    None
}
