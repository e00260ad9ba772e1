//! QUIC Initial decryption: the server name, ALPN and fingerprint of a QUIC connection come
//! from the TLS ClientHello the client sends in its Initial packets, which are encrypted with
//! keys anyone can derive from the packet itself (RFC 9001 §5.2).
//!
//! Layers: [`header`] (long header, varints), [`keys`] (HKDF Initial keys for v1, v2 and
//! drafts 29-32), [`packet`] (header protection, AES-128-GCM), [`frames`] (PADDING, PING,
//! ACK, CRYPTO, CONNECTION_CLOSE), [`crypto`] (CRYPTO stream reassembly), and
//! [`ClientInitials`], which drives them over a connection's first client datagrams and hands
//! the reassembled hello to the same [`tls::parse_client_hello`] the TCP path uses.
//!
//! Invariants: no panic on any input; per connection at most [`MAX_CLIENT_DATAGRAMS`] client
//! datagrams are looked at and at most [`crypto::MAX_CRYPTO_BYTES`] of CRYPTO data kept;
//! short-header (1-RTT) packets are skipped on their first byte.
//!
//! Hand-rolled framing over RustCrypto primitives (`aes`, `aes-gcm`, `hkdf`): QUIC stacks
//! (quinn, quiche, s2n-quic) only open packets inside a full connection state machine as an
//! endpoint, not as a passive observer of someone else's connection, and would pull in a TLS
//! stack. The framing needed here is a few hundred lines and tested against the RFC vectors.

pub mod crypto;
pub mod frames;
pub mod header;
pub mod keys;
pub mod packet;

use std::ops::Range;

use crate::decode::tls::{self, ClientHello};

use crypto::CryptoStream;
use frames::FrameEnd;
use header::{HeaderError, PacketType, MAX_CID_LEN};
use keys::{InitialKeys, Side};

/// Client datagrams of one connection looked at for the ClientHello: a hello spans one or two
/// Initials, plus a few for loss and coalesced ACKs; after that the connection is left alone.
pub const MAX_CLIENT_DATAGRAMS: u8 = 8;

/// QUIC versions whose Initial packets we can decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// QUIC v1 (RFC 9000), 0x00000001.
    V1,
    /// QUIC v2 (RFC 9369), 0x6b3343cf.
    V2,
    /// IETF drafts 29 to 32 (0xff00001d-0xff000020), which share one salt.
    Draft29,
}

impl Version {
    /// The version of a wire version number, if we know its Initial salt.
    pub fn from_wire(v: u32) -> Option<Version> {
        match v {
            0x0000_0001 => Some(Version::V1),
            0x6b33_43cf => Some(Version::V2),
            0xff00_001d..=0xff00_0020 => Some(Version::Draft29),
            _ => None,
        }
    }
}

/// The name of a QUIC wire version we decode: `v1`, `v2`, `draft-29` … `draft-32`.
pub fn version_name(wire: u32) -> Option<&'static str> {
    match wire {
        0x0000_0001 => Some("v1"),
        0x6b33_43cf => Some("v2"),
        0xff00_001d => Some("draft-29"),
        0xff00_001e => Some("draft-30"),
        0xff00_001f => Some("draft-31"),
        0xff00_0020 => Some("draft-32"),
        _ => None,
    }
}

/// Whether `datagram` may begin with a client Initial of a version we decode: a long header
/// whose type bits say Initial and whose version we know. Five byte compares, no parsing.
pub fn may_be_initial(datagram: &[u8]) -> bool {
    let Some(&[first, a, b, c, d]) = datagram.get(..5).and_then(|s| <&[u8; 5]>::try_from(s).ok())
    else {
        return false;
    };
    if first & 0x80 == 0 {
        return false;
    }
    Version::from_wire(u32::from_be_bytes([a, b, c, d]))
        .is_some_and(|v| PacketType::from_bits(v, first >> 4) == PacketType::Initial)
}

/// What feeding a datagram gave.
#[derive(Debug, PartialEq)]
pub enum Progress {
    /// The hello is not complete yet: feed the connection's next client datagram.
    NeedMore,
    /// The complete ClientHello.
    Hello(Box<ClientHello>),
    /// No hello will come (not a ClientHello, too long, closed, or the datagram budget is
    /// spent): stop feeding.
    GiveUp,
}

/// The client side of one QUIC connection while its ClientHello is being collected.
pub struct ClientInitials {
    wire_version: u32,
    version: Version,
    /// Destination connection id the keys were derived from.
    dcid: [u8; MAX_CID_LEN],
    dcid_len: u8,
    keys: InitialKeys,
    largest_pn: Option<u64>,
    crypto: CryptoStream,
    /// Decryption buffer, reused for every packet of the connection.
    scratch: Vec<u8>,
    datagrams: u8,
}

impl std::fmt::Debug for ClientInitials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInitials")
            .field("version", &format_args!("{:#010x}", self.wire_version))
            .field("datagrams", &self.datagrams)
            .field("crypto_bytes", &self.crypto.buffered())
            .finish()
    }
}

impl ClientInitials {
    /// Starts on a connection's first client datagram. `None` unless it begins with an Initial
    /// packet of a known version that decrypts with the keys of its own Destination Connection
    /// ID, i.e. unless it is really QUIC.
    pub fn start(datagram: &[u8]) -> Option<(ClientInitials, Progress)> {
        if !may_be_initial(datagram) {
            return None;
        }
        let h = header::parse_long_header(datagram).ok()?;
        let mut dcid = [0u8; MAX_CID_LEN];
        dcid.get_mut(..h.dcid.len())?.copy_from_slice(h.dcid);
        let mut c = ClientInitials {
            wire_version: h.wire_version,
            version: h.version,
            dcid,
            dcid_len: h.dcid.len() as u8,
            keys: keys::initial_keys(h.version, h.dcid, Side::Client),
            largest_pn: None,
            crypto: CryptoStream::new(),
            scratch: Vec::new(),
            datagrams: 0,
        };
        let (opened, progress) = c.feed_counted(datagram);
        (opened > 0).then_some((c, progress))
    }

    /// The QUIC version on the wire (e.g. 0x00000001, 0x6b3343cf).
    pub fn wire_version(&self) -> u32 {
        self.wire_version
    }

    /// Feeds the connection's next client datagram.
    pub fn feed(&mut self, datagram: &[u8]) -> Progress {
        self.feed_counted(datagram).1
    }

    /// Feeds a datagram; also returns how many Initial packets in it decrypted.
    fn feed_counted(&mut self, datagram: &[u8]) -> (usize, Progress) {
        if self.datagrams >= MAX_CLIENT_DATAGRAMS {
            return (0, Progress::GiveUp);
        }
        self.datagrams += 1;
        let mut opened = 0;
        let mut rest = datagram;
        // Each step consumes at least the header: terminates.
        while !rest.is_empty() {
            let h = match header::parse_long_header(rest) {
                Ok(h) => h,
                // A 1-RTT packet: the client is past its Initials.
                Err(HeaderError::ShortHeader) if opened == 0 => return (0, Progress::GiveUp),
                Err(_) => break,
            };
            let (packet, tail) = rest.split_at_checked(h.packet_len).unwrap_or((rest, &[]));
            rest = tail;
            if h.wire_version != self.wire_version || h.packet_type != PacketType::Initial {
                continue;
            }
            let Some(range) = self.open(packet, &h) else {
                continue;
            };
            opened += 1;
            let crypto = &mut self.crypto;
            let mut too_long = false;
            let payload = self.scratch.get(range).unwrap_or_default();
            let end = frames::walk(payload, |off, data| {
                too_long |= crypto.insert(off, data).is_err();
            });
            if too_long || end == FrameEnd::ConnectionClose {
                return (opened, Progress::GiveUp);
            }
        }
        (opened, self.hello())
    }

    /// Opens one Initial packet into the scratch buffer. After a Retry the client derives new
    /// keys from the Retry's connection id: a packet that fails with the current keys and
    /// carries another DCID is tried once with keys from that DCID.
    fn open(&mut self, packet: &[u8], h: &header::LongHeader<'_>) -> Option<Range<usize>> {
        if let Some(o) = packet::open(packet, h, &self.keys, self.largest_pn, &mut self.scratch) {
            let (pn, len) = (o.packet_number, o.payload.len());
            let range = payload_range(len, self.scratch.len());
            self.largest_pn = Some(self.largest_pn.map_or(pn, |l| l.max(pn)));
            return Some(range);
        }
        let current = self
            .dcid
            .get(..usize::from(self.dcid_len))
            .unwrap_or_default();
        if h.dcid == current {
            return None;
        }
        let keys = keys::initial_keys(self.version, h.dcid, Side::Client);
        let o = packet::open(packet, h, &keys, None, &mut self.scratch)?;
        let (pn, len) = (o.packet_number, o.payload.len());
        let range = payload_range(len, self.scratch.len());
        self.keys = keys;
        self.largest_pn = Some(pn);
        self.dcid = [0; MAX_CID_LEN];
        self.dcid.get_mut(..h.dcid.len())?.copy_from_slice(h.dcid);
        self.dcid_len = h.dcid.len() as u8;
        // A new connection attempt restarts the CRYPTO stream at offset 0.
        self.crypto = CryptoStream::new();
        Some(range)
    }

    /// The ClientHello, if the contiguous CRYPTO data holds all of it.
    fn hello(&self) -> Progress {
        let data = self.crypto.contiguous();
        let Some(&[ty, a, b, c]) = data.get(..4).and_then(|s| <&[u8; 4]>::try_from(s).ok()) else {
            return Progress::NeedMore;
        };
        if ty != 1 {
            return Progress::GiveUp;
        }
        let len = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
        if len > crypto::MAX_CRYPTO_BYTES {
            return Progress::GiveUp;
        }
        match data.get(..len) {
            None => Progress::NeedMore,
            Some(msg) => tls::parse_client_hello(msg)
                .map_or(Progress::GiveUp, |ch| Progress::Hello(Box::new(ch))),
        }
    }
}

/// Where a payload of `len` bytes sits in a scratch buffer of `total` bytes holding the opened
/// packet (the tag is last).
fn payload_range(len: usize, total: usize) -> Range<usize> {
    let end = total.saturating_sub(packet::TAG_LEN);
    end.saturating_sub(len)..end
}
