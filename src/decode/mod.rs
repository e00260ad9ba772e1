//! Pure, bounds-checked decoders: bytes in, borrowed views or small owned structs out.
//!
//! Nothing here performs I/O or keeps state between packets; state (flows, reassembly, DNS
//! pairing) lives in [`crate::flow`]. Every parser returns `Option`/`Result` and never panics on
//! any input: slices are indexed only through `get` or right after a length check.
//!
//! Layering: [`link`] turns a captured frame of some link type into a [`Packet`] (link-layer
//! addresses plus the innermost IP packet, looking through VLAN tags and GTP-U tunnels);
//! [`ip`] and [`transport`] decode IPv4/IPv6 and TCP/UDP/ICMP; the application decoders
//! ([`dns`], [`http`], [`tls`], [`dhcp`]) take transport payloads; [`quic`] decrypts QUIC
//! Initial packets down to the same TLS ClientHello.

pub mod dhcp;
pub mod dns;
pub mod gtp;
pub mod http;
pub mod ip;
pub mod ja;
pub mod lineproto;
pub mod link;
pub mod quic;
pub mod tls;
pub mod transport;
pub mod wifi;

use std::net::IpAddr;

use crate::event::MacAddr;

/// Link-layer types this decoder understands (pcap LINKTYPE_* values in the comments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// 1: Ethernet II (with optional 802.1Q/802.1ad tags).
    Ethernet,
    /// 101 (and 12/14 on some systems): raw IPv4 or IPv6, version from the first nibble.
    RawIp,
    /// 228: raw IPv4.
    Ipv4,
    /// 229: raw IPv6.
    Ipv6,
    /// 113: Linux cooked capture v1.
    LinuxSll,
    /// 276: Linux cooked capture v2.
    LinuxSll2,
    /// 239: Linux NFLOG.
    Nflog,
    /// 105: bare 802.11 frames.
    Ieee80211,
    /// 127: 802.11 with a radiotap header.
    Ieee80211Radiotap,
    /// 0: BSD loopback (4-byte host-order address family).
    Null,
    /// 108: OpenBSD loopback (4-byte network-order address family).
    Loop,
}

impl LinkType {
    /// Maps a pcap/pcapng LINKTYPE number; None for link types we cannot decode.
    pub fn from_linktype(n: u32) -> Option<LinkType> {
        Some(match n {
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::RawIp,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            239 => LinkType::Nflog,
            105 => LinkType::Ieee80211,
            127 => LinkType::Ieee80211Radiotap,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            _ => return None,
        })
    }
}

/// A decoded frame: link addresses and the network layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Packet<'a> {
    /// Link-layer source (Ethernet source, 802.11 transmitter-side SA, SLL address); None for
    /// link types without one (raw IP, NFLOG).
    pub src_mac: Option<MacAddr>,
    /// Link-layer destination, when the link type has one.
    pub dst_mac: Option<MacAddr>,
    /// Outermost 802.1Q VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// Number of GTP-U (or other) tunnel layers looked through to reach `net`.
    pub tunnel_depth: u8,
    pub net: Net<'a>,
}

/// The network layer of a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Net<'a> {
    /// An ARP request or reply over Ethernet/IPv4.
    Arp(Arp),
    /// The innermost IPv4/IPv6 packet.
    Ip(IpPacket<'a>),
    /// An EtherType / protocol we do not decode (counted, not an error).
    Other,
}

/// ARP over Ethernet/IPv4 (RFC 826).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    /// 1 request, 2 reply.
    pub op: u16,
    pub sender_mac: MacAddr,
    pub sender_ip: std::net::Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: std::net::Ipv4Addr,
}

/// Fragment information of an IP packet (IPv4 flags/offset or IPv6 Fragment header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// IPv4 identification (widened) or IPv6 fragment identification.
    pub id: u32,
    /// Offset of this fragment's payload in bytes.
    pub offset: u32,
    /// More-fragments flag.
    pub more: bool,
}

/// An IPv4 or IPv6 packet with its transport layer.
#[derive(Clone, Debug, PartialEq)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 protocol / IPv6 final next-header (after extension headers).
    pub proto: u8,
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
    /// Set when this packet is a fragment (any fragment, including the first).
    pub fragment: Option<Fragment>,
    /// The IP payload after all extension headers, trimmed to the IP length fields (never past
    /// the captured bytes). For fragments, this fragment's bytes.
    pub payload: &'a [u8],
    /// The transport layer; `Transport::Fragment` when `fragment` is set (reassembly happens
    /// in the flow layer, which then calls [`transport::parse`] on the whole datagram).
    pub transport: Transport<'a>,
}

/// TCP flag bits (low byte of the TCP flags field).
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// A TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    /// See [`tcp_flags`].
    pub flags: u8,
    pub window: u16,
    pub payload: &'a [u8],
}

/// A UDP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

/// The transport layer of an IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    /// ICMPv4 or ICMPv6 type and code.
    Icmp {
        icmp_type: u8,
        code: u8,
    },
    /// A fragment: transport not decoded until reassembled.
    Fragment,
    /// Another protocol, or a header too short to decode (see `DecodeError` counters).
    Other,
}

/// Why a frame could not be decoded. Counted per kind by the pipeline; never fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame shorter than its link-layer header")]
    TruncatedLink,
    #[error("IP header truncated or invalid")]
    BadIp,
    #[error("transport header truncated or invalid")]
    BadTransport,
    #[error("unsupported link type")]
    UnsupportedLink,
    #[error("tunnel nesting too deep")]
    TooDeep,
}

/// Decodes one captured frame of `link` type down to its innermost IP packet and transport.
///
/// Looks through 802.1Q/802.1ad tags and GTP-U (UDP 2152) tunnels, at most
/// [`link::MAX_TUNNEL_DEPTH`] deep. Checksums are not verified (captures taken on the
/// sending host carry offloaded, invalid checksums).
pub fn decode_frame(link: LinkType, data: &[u8]) -> Result<Packet<'_>, DecodeError> {
    link::decode(link, data)
}
