//! TLS ClientHello decoding (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) from a TCP client stream or a
//! bare handshake message (QUIC CRYPTO data).
//!
//! [`scan_client_stream`] is called on the first payload bytes of every TCP flow, so anything not
//! starting like a TLS handshake record is rejected in a few byte compares, and nothing is
//! allocated unless the ClientHello is spread over several records (then exactly one buffer,
//! bounded by [`MAX_CLIENT_HELLO_STREAM`]). [`parse_client_hello`] never allocates beyond the
//! owned [`ClientHello`] it returns, whose vectors are bounded by the input length.
//!
//! Invariants: no panic on any input (slices are only taken through [`Cursor`], i.e.
//! `split_at_checked`/`split_first`), every length field is checked against the bytes present,
//! and every loop consumes input, so it terminates.
//!
//! Hand-rolled rather than built on `tls-parser`: the fingerprints need every extension type
//! code exactly as sent and in order (GREASE and unknown codes included), while tls-parser turns
//! extensions into typed variants (that would have to be mapped back to codes) and fails the
//! whole extension list when one body is malformed; it also allocates intermediate vectors for
//! every hello. The wire format needed here is small; the tests cross-check ciphers and versions
//! against tls-parser on real captures.

/// TLS record content type of ChangeCipherSpec records.
const CONTENT_TYPE_CHANGE_CIPHER_SPEC: u8 = 20;
/// TLS record content type of handshake records.
const CONTENT_TYPE_HANDSHAKE: u8 = 22;
/// Handshake message type of a ClientHello.
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// Bytes of a TLS record header: type, version (2), length (2).
const RECORD_HEADER_LEN: usize = 5;
/// Bytes of a handshake message header: type, 24-bit length.
const HANDSHAKE_HEADER_LEN: usize = 4;
/// Largest record length accepted (RFC 5246 §6.2.3: 2^14 plus 2048 bytes of expansion). A
/// larger length field means the stream is not TLS.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Most client stream bytes inspected for one ClientHello: bounds the bytes a flow must buffer
/// for us and the one allocation made for a hello fragmented over several records. Real hellos
/// are below 2 KiB (about 8 KiB with post-quantum key shares).
pub const MAX_CLIENT_HELLO_STREAM: usize = 64 * 1024;

/// Extension type codes (IANA "TLS ExtensionType Values") this decoder reads.
mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
}

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
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    /// Cipher suite codes in the order sent.
    pub cipher_suites: Vec<u16>,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    /// First `host_name` (type 0) of the first server_name extension, as sent (bytes that are
    /// not UTF-8 become U+FFFD).
    pub sni: Option<String>,
    /// ALPN protocol names, raw bytes, in order.
    pub alpn: Vec<Vec<u8>>,
    /// supported_versions extension values in order.
    pub supported_versions: Vec<u16>,
    /// signature_algorithms extension values in order.
    pub signature_algorithms: Vec<u16>,
    /// supported_groups (elliptic_curves) extension values in order.
    pub supported_groups: Vec<u16>,
    /// ec_point_formats extension values in order.
    pub ec_point_formats: Vec<u8>,
}

/// A forward-only reader over a byte slice; every read is bounds-checked and returns `None`
/// when the bytes are not there.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        let (&b, tail) = self.0.split_first()?;
        self.0 = tail;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        let b: [u8; 2] = self.take(2)?.try_into().ok()?;
        Some(u16::from_be_bytes(b))
    }
    fn u24(&mut self) -> Option<usize> {
        let b: [u8; 3] = self.take(3)?.try_into().ok()?;
        Some(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
    /// A vector with a one-byte length prefix.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    /// A vector with a two-byte length prefix.
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// Big-endian u16 values of `b` (a trailing odd byte is ignored).
fn u16_list(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// Scans the start of a TCP client stream for a TLS ClientHello, which may span several
/// TLS records and TCP segments.
///
/// `stream` holds the client's bytes from its first one; call again with more bytes after
/// [`TlsScan::NeedMore`]. SSLv2-compatible hellos, alerts, oversized records and hellos needing
/// more than [`MAX_CLIENT_HELLO_STREAM`] bytes are [`TlsScan::NotTls`].
pub fn scan_client_stream(stream: &[u8]) -> TlsScan {
    scan_at(stream, 0)
}

/// Looks for the second ClientHello a client sends after a HelloRetryRequest (RFC 8446
/// §4.1.4), right after the first one and an optional middlebox-compatibility
/// ChangeCipherSpec record. Call it on the same stream (from its first byte) once
/// [`scan_client_stream`] returned a ClientHello, and again with more bytes on
/// [`TlsScan::NeedMore`] (counted from the stream start); [`TlsScan::NotTls`] means the
/// client went on with anything else (ClientKeyExchange, encrypted data), i.e. no retry.
pub fn scan_retry_hello(stream: &[u8]) -> TlsScan {
    let mut pos = match locate_handshake(stream, 0) {
        Located::Complete { end, .. } => end,
        Located::NeedMore(n) => return TlsScan::NeedMore(n),
        Located::NotTls => return TlsScan::NotTls,
    };
    if stream.get(pos) == Some(&CONTENT_TYPE_CHANGE_CIPHER_SPEC) {
        match record_len(stream, pos) {
            None => return TlsScan::NeedMore(pos + RECORD_HEADER_LEN),
            Some(len) if len > MAX_RECORD_LEN => return TlsScan::NotTls,
            Some(len) => pos += RECORD_HEADER_LEN + len,
        }
    }
    scan_at(stream, pos)
}

/// Scans for a ClientHello whose first record starts at `start` (NeedMore counts from 0).
fn scan_at(stream: &[u8], start: usize) -> TlsScan {
    if start >= MAX_CLIENT_HELLO_STREAM {
        return TlsScan::NotTls;
    }
    // Fast rejection of non-TLS flows: record type, major version, handshake type.
    let Some(rest) = stream.get(start..) else {
        return TlsScan::NeedMore(start.saturating_add(RECORD_HEADER_LEN));
    };
    match rest.first() {
        None => return TlsScan::NeedMore(start.saturating_add(RECORD_HEADER_LEN)),
        Some(&t) if t != CONTENT_TYPE_HANDSHAKE => return TlsScan::NotTls,
        Some(_) => {}
    }
    if rest.get(1).is_some_and(|&v| v != 3)
        || rest
            .get(RECORD_HEADER_LEN)
            .is_some_and(|&t| t != HANDSHAKE_CLIENT_HELLO)
    {
        return TlsScan::NotTls;
    }
    match locate_handshake(stream, start) {
        Located::NotTls => TlsScan::NotTls,
        Located::NeedMore(n) => TlsScan::NeedMore(n),
        Located::Complete { total, .. } => {
            // Common case: the whole message sits in the first record; borrow it.
            let single = RECORD_HEADER_LEN
                .checked_add(total)
                .and_then(|end| rest.get(RECORD_HEADER_LEN..end))
                .filter(|_| record_len(rest, 0).is_some_and(|len| len >= total));
            let parsed = match single {
                Some(msg) => parse_client_hello(msg),
                None => parse_client_hello(&gather_fragments(rest, total)),
            };
            parsed.map_or(TlsScan::NotTls, TlsScan::ClientHello)
        }
    }
}

/// Where the handshake message stands in the stream.
enum Located {
    NotTls,
    NeedMore(usize),
    /// The message (header included) is `total` bytes and all its fragments are present; the
    /// record holding its last byte ends at stream offset `end`.
    Complete {
        total: usize,
        end: usize,
    },
}

/// Length field of the record whose header starts at `pos`, if the header is present.
fn record_len(stream: &[u8], pos: usize) -> Option<usize> {
    let b: [u8; 2] = stream
        .get(pos.checked_add(3)?..pos.checked_add(5)?)?
        .try_into()
        .ok()?;
    Some(usize::from(u16::from_be_bytes(b)))
}

/// Walks the handshake records from offset `start` without copying, until the handshake
/// message (its length taken from the first four fragment bytes) is complete.
fn locate_handshake(stream: &[u8], start: usize) -> Located {
    if start > MAX_CLIENT_HELLO_STREAM {
        return Located::NotTls;
    }
    let mut pos = start;
    let mut got = 0usize; // handshake bytes present so far, over all records
    let mut header = [0u8; HANDSHAKE_HEADER_LEN];
    let mut total: Option<usize> = None;
    // Each pass consumes a non-empty record, and the stream cap bounds `pos`: this terminates.
    loop {
        let avail_header = stream.get(pos..).unwrap_or_default();
        if avail_header
            .first()
            .is_some_and(|&t| t != CONTENT_TYPE_HANDSHAKE)
            || avail_header.get(1).is_some_and(|&v| v != 3)
        {
            return Located::NotTls;
        }
        let Some(len) = record_len(stream, pos) else {
            return Located::NeedMore(pos + RECORD_HEADER_LEN);
        };
        if len == 0 || len > MAX_RECORD_LEN {
            return Located::NotTls;
        }
        let body_start = pos + RECORD_HEADER_LEN;
        let body_end = body_start + len;
        if body_end > MAX_CLIENT_HELLO_STREAM {
            return Located::NotTls;
        }
        let body = stream
            .get(body_start..body_end.min(stream.len()))
            .unwrap_or_default();
        for (slot, &b) in header.iter_mut().skip(got).zip(body) {
            *slot = b;
        }
        got += body.len();
        if total.is_none() && got >= HANDSHAKE_HEADER_LEN {
            if header[0] != HANDSHAKE_CLIENT_HELLO {
                return Located::NotTls;
            }
            let len = usize::from(header[1]) << 16 | usize::from(header[2]) << 8;
            let t = HANDSHAKE_HEADER_LEN + (len | usize::from(header[3]));
            if t > MAX_CLIENT_HELLO_STREAM {
                return Located::NotTls;
            }
            total = Some(t);
        }
        if let Some(t) = total {
            if got >= t {
                return Located::Complete {
                    total: t,
                    end: body_end,
                };
            }
        }
        if body.len() < len {
            return Located::NeedMore(body_end);
        }
        pos = body_end;
    }
}

/// Concatenates the handshake fragments of consecutive records into one buffer of at most
/// `total` bytes (already validated by [`locate_handshake`]).
fn gather_fragments(stream: &[u8], total: usize) -> Vec<u8> {
    let mut msg = Vec::with_capacity(total.min(MAX_CLIENT_HELLO_STREAM));
    let mut pos = 0usize;
    while msg.len() < total {
        let Some(len) = record_len(stream, pos) else {
            break;
        };
        let start = pos + RECORD_HEADER_LEN;
        let end = (start + len).min(stream.len());
        let Some(body) = stream.get(start..end) else {
            break;
        };
        if body.is_empty() {
            break;
        }
        let want = (total - msg.len()).min(body.len());
        msg.extend_from_slice(body.get(..want).unwrap_or_default());
        pos = start + len;
    }
    msg
}

/// Parses a handshake message (starting at its type byte, 1 = client_hello).
///
/// Returns `None` when the message is not a ClientHello, is shorter than its length field, or
/// its fixed fields or extension framing overrun the message. An extension whose body is
/// malformed keeps its type in [`ClientHello::extensions`] but contributes no values. Bytes
/// after the message are ignored (a QUIC CRYPTO stream may carry more).
pub fn parse_client_hello(handshake: &[u8]) -> Option<ClientHello> {
    let mut c = Cursor(handshake);
    if c.u8()? != HANDSHAKE_CLIENT_HELLO {
        return None;
    }
    let len = c.u24()?;
    let mut body = Cursor(c.take(len)?);

    let mut ch = ClientHello {
        legacy_version: body.u16()?,
        ..ClientHello::default()
    };
    body.take(32)?; // random
    body.vec8()?; // legacy_session_id
    ch.cipher_suites = u16_list(body.vec16()?);
    body.vec8()?; // legacy_compression_methods
    if body.is_empty() {
        // SSLv3 / early TLS hellos may end here, without an extensions block.
        return Some(ch);
    }
    let mut exts = Cursor(body.vec16()?);
    ch.extensions.reserve(exts.0.len() / 4);
    while !exts.is_empty() {
        let ty = exts.u16()?;
        let data = exts.vec16()?;
        // Only the first occurrence of a repeated extension supplies values.
        if !ch.extensions.contains(&ty) {
            read_extension(&mut ch, ty, data);
        }
        ch.extensions.push(ty);
    }
    Some(ch)
}

/// Fills the ClientHello fields carried by extension `ty`; a malformed body is skipped.
fn read_extension(ch: &mut ClientHello, ty: u16, data: &[u8]) {
    let mut c = Cursor(data);
    match ty {
        ext::SERVER_NAME => ch.sni = read_sni(&mut c),
        ext::ALPN => ch.alpn = read_alpn(&mut c).unwrap_or_default(),
        ext::SUPPORTED_VERSIONS => {
            ch.supported_versions = c.vec8().map(u16_list).unwrap_or_default()
        }
        ext::SIGNATURE_ALGORITHMS => {
            ch.signature_algorithms = c.vec16().map(u16_list).unwrap_or_default()
        }
        ext::SUPPORTED_GROUPS => ch.supported_groups = c.vec16().map(u16_list).unwrap_or_default(),
        ext::EC_POINT_FORMATS => {
            ch.ec_point_formats = c.vec8().map(<[u8]>::to_vec).unwrap_or_default()
        }
        _ => {}
    }
}

/// The first host_name of a server_name list (RFC 6066 §3).
fn read_sni(c: &mut Cursor<'_>) -> Option<String> {
    let mut list = Cursor(c.vec16()?);
    while !list.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == 0 {
            return Some(String::from_utf8_lossy(name).into_owned());
        }
    }
    None
}

/// The protocol names of an ALPN list (RFC 7301 §3.1); `None` when the list is malformed.
fn read_alpn(c: &mut Cursor<'_>) -> Option<Vec<Vec<u8>>> {
    let mut list = Cursor(c.vec16()?);
    let mut out = Vec::new();
    while !list.is_empty() {
        out.push(list.vec8()?.to_vec());
    }
    Some(out)
}

/// Renders an ALPN value for records and display: the text when every byte is printable
/// ASCII, else `0x` followed by lowercase hex (as the corpus prints `0xbaad`).
pub fn alpn_display(value: &[u8]) -> String {
    if value.iter().all(|b| (0x20..0x7f).contains(b)) {
        value.iter().map(|&b| char::from(b)).collect()
    } else {
        format!("0x{}", hex::encode(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ClientHello handshake message with the given extensions block (or none).
    fn hello(exts: Option<&[u8]>) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend([0u8; 32]);
        body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
        if let Some(e) = exts {
            body.extend((e.len() as u16).to_be_bytes());
            body.extend(e);
        }
        let mut m = vec![1, 0, 0, body.len() as u8];
        m.extend(body);
        m
    }

    #[test]
    fn hello_without_extensions_block() {
        let ch = parse_client_hello(&hello(None)).unwrap();
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.cipher_suites, vec![0x1301]);
        assert!(ch.extensions.is_empty());
    }

    #[test]
    fn malformed_extension_body_keeps_type_only() {
        // ALPN whose list length (0x10) overruns its 3-byte body, then a valid SNI.
        let exts = [
            0, 16, 0, 3, 0, 0x10, 2, //
            0, 0, 0, 8, 0, 6, 0, 0, 3, b'a', b'.', b'b',
        ];
        let ch = parse_client_hello(&hello(Some(&exts))).unwrap();
        assert_eq!(ch.extensions, vec![16, 0]);
        assert!(ch.alpn.is_empty());
        assert_eq!(ch.sni.as_deref(), Some("a.b"));
    }

    #[test]
    fn extension_framing_overrun_is_rejected() {
        let exts = [0, 16, 0, 9, 0];
        assert_eq!(parse_client_hello(&hello(Some(&exts))), None);
    }

    #[test]
    fn repeated_extension_first_wins() {
        let exts = [0, 43, 0, 3, 2, 3, 4, 0, 43, 0, 3, 2, 3, 3];
        let ch = parse_client_hello(&hello(Some(&exts))).unwrap();
        assert_eq!(ch.supported_versions, vec![0x0304]);
        assert_eq!(ch.extensions, vec![43, 43]);
    }

    #[test]
    fn alpn_display_forms() {
        assert_eq!(alpn_display(b"h2"), "h2");
        assert_eq!(alpn_display(&[0xba, 0xad]), "0xbaad");
        assert_eq!(alpn_display(b"a\nb"), "0x610a62");
    }
}
