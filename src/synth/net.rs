//! Link, network and transport layer builders: Ethernet II, ARP, IPv4, IPv6, UDP and TCP.
//!
//! Every builder is a pure function returning a fresh `Vec<u8>` whose length fields and
//! checksums are consistent with its contents. Checksums (RFC 1071, with the RFC 768/793/8200
//! pseudo-headers) come from `pnet_packet::util`; the headers themselves are written by hand
//! because a `Vec` append is shorter and clearer than pnet's mutable packet views.
//!
//! Invariant: no input can make a builder panic or write an inconsistent length field.
//! Payloads longer than [`MAX_TRANSPORT_PAYLOAD`] are cut to that length; IPv4 packets are
//! always sent with Don't Fragment set.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_packet::ip::IpNextHeaderProtocol;
use pnet_packet::util;

use crate::event::MacAddr;

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const IPPROTO_UDP: u8 = 17;
/// Shortest Ethernet frame on the wire without its FCS; shorter frames are zero-padded, as a
/// NIC does, so decoders meet real trailing padding.
pub const MIN_ETHERNET_FRAME: usize = 60;
/// Largest transport payload any builder writes: an IPv4 total length (20-byte header plus
/// a TCP header of up to 60 bytes) and a UDP length must fit in 16 bits. Longer payloads are
/// cut to this length.
pub const MAX_TRANSPORT_PAYLOAD: usize = 65_535 - 20 - 60;
/// The broadcast MAC address.
pub const BROADCAST_MAC: MacAddr = MacAddr([0xff; 6]);

/// Length of an IPv4 header without options.
const IPV4_HEADER: usize = 20;
/// Length of the fixed IPv6 header.
const IPV6_HEADER: usize = 40;

/// Source and destination of an IP packet, of one family by construction (so a pseudo-header
/// can always be formed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpPair {
    /// IPv4 source and destination.
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
    },
    /// IPv6 source and destination.
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
    },
}

impl IpPair {
    /// Pairs two addresses; None when their families differ.
    pub fn new(src: IpAddr, dst: IpAddr) -> Option<IpPair> {
        match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => Some(IpPair::V4 { src, dst }),
            (IpAddr::V6(src), IpAddr::V6(dst)) => Some(IpPair::V6 { src, dst }),
            _ => None,
        }
    }

    /// The same pair seen from the other side.
    pub fn reversed(self) -> IpPair {
        match self {
            IpPair::V4 { src, dst } => IpPair::V4 { src: dst, dst: src },
            IpPair::V6 { src, dst } => IpPair::V6 { src: dst, dst: src },
        }
    }

    /// EtherType of packets between these addresses.
    pub fn ethertype(self) -> u16 {
        match self {
            IpPair::V4 { .. } => ETHERTYPE_IPV4,
            IpPair::V6 { .. } => ETHERTYPE_IPV6,
        }
    }

    /// RFC 768/793 (IPv4) or RFC 8200 §8.1 (IPv6) transport checksum of `segment`, whose
    /// checksum field (16-bit word index `skipword`) is treated as zero.
    fn transport_checksum(self, proto: u8, segment: &[u8], skipword: usize) -> u16 {
        let proto = IpNextHeaderProtocol(proto);
        match self {
            IpPair::V4 { src, dst } => {
                util::ipv4_checksum(segment, skipword, &[], &src, &dst, proto)
            }
            IpPair::V6 { src, dst } => {
                util::ipv6_checksum(segment, skipword, &[], &src, &dst, proto)
            }
        }
    }
}

/// RFC 1071 Internet checksum of `data` (as written into an IPv4 header whose checksum field
/// is zero).
pub fn internet_checksum(data: &[u8]) -> u16 {
    // usize::MAX words: no word is skipped.
    util::checksum(data, usize::MAX)
}

/// Cuts `payload` to at most `max` bytes.
fn capped(payload: &[u8], max: usize) -> &[u8] {
    payload.get(..max).unwrap_or(payload)
}

/// Length as a 16-bit field; callers cap lengths first, so saturation never triggers.
fn len16(n: usize) -> [u8; 2] {
    u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes()
}

/// An Ethernet II frame, zero-padded to [`MIN_ETHERNET_FRAME`] bytes.
pub fn ethernet(dst: MacAddr, src: MacAddr, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity((14 + payload.len()).max(MIN_ETHERNET_FRAME));
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    if f.len() < MIN_ETHERNET_FRAME {
        f.resize(MIN_ETHERNET_FRAME, 0);
    }
    f
}

/// An ARP packet for Ethernet/IPv4 (RFC 826); `op` 1 is a request, 2 a reply.
pub fn arp(
    op: u16,
    sender_mac: MacAddr,
    sender_ip: Ipv4Addr,
    target_mac: MacAddr,
    target_ip: Ipv4Addr,
) -> Vec<u8> {
    let mut p = Vec::with_capacity(28);
    p.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
    p.extend_from_slice(&op.to_be_bytes());
    p.extend_from_slice(&sender_mac.0);
    p.extend_from_slice(&sender_ip.octets());
    p.extend_from_slice(&target_mac.0);
    p.extend_from_slice(&target_ip.octets());
    p
}

/// An IPv4 packet (RFC 791) with a 20-byte header, Don't Fragment set and a valid header
/// checksum. Payloads beyond 65,515 bytes are cut.
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let payload = capped(payload, usize::from(u16::MAX) - IPV4_HEADER);
    let mut p = Vec::with_capacity(IPV4_HEADER + payload.len());
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&len16(IPV4_HEADER + payload.len()));
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x40, 0, ttl, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let sum = internet_checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An IPv6 packet (RFC 8200) without extension headers, flow label 0. Payloads beyond 65,535
/// bytes are cut.
pub fn ipv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    hop_limit: u8,
    payload: &[u8],
) -> Vec<u8> {
    let payload = capped(payload, usize::from(u16::MAX));
    let mut p = Vec::with_capacity(IPV6_HEADER + payload.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&len16(payload.len()));
    p.extend_from_slice(&[next_header, hop_limit]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// An IP packet between `ips`; `id` is used for IPv4 only, `ttl` is the TTL or hop limit.
pub fn ip(ips: IpPair, proto: u8, id: u16, ttl: u8, payload: &[u8]) -> Vec<u8> {
    match ips {
        IpPair::V4 { src, dst } => ipv4(src, dst, proto, id, ttl, payload),
        IpPair::V6 { src, dst } => ipv6(src, dst, proto, ttl, payload),
    }
}

/// A UDP datagram (RFC 768) with its checksum over the pseudo-header of `ips` (a computed
/// zero is sent as 0xffff, as the RFC requires).
pub fn udp(ips: IpPair, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let payload = capped(payload, MAX_TRANSPORT_PAYLOAD);
    let mut s = Vec::with_capacity(8 + payload.len());
    s.extend_from_slice(&src_port.to_be_bytes());
    s.extend_from_slice(&dst_port.to_be_bytes());
    s.extend_from_slice(&len16(8 + payload.len()));
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    let sum = match ips.transport_checksum(IPPROTO_UDP, &s, 3) {
        0 => 0xffff,
        x => x,
    };
    s[6..8].copy_from_slice(&sum.to_be_bytes());
    s
}

/// The header fields of a TCP segment other than its ports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFields {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful with the ACK flag).
    pub ack: u32,
    /// Flag bits, see [`crate::decode::tcp_flags`].
    pub flags: u8,
    /// Receive window (unscaled).
    pub window: u16,
    /// Maximum segment size option, sent on SYNs.
    pub mss: Option<u16>,
}

/// A TCP segment (RFC 9293) with its checksum over the pseudo-header of `ips`. The only
/// option written is MSS (4 bytes, so no padding is needed).
pub fn tcp(ips: IpPair, src_port: u16, dst_port: u16, f: &TcpFields, payload: &[u8]) -> Vec<u8> {
    let payload = capped(payload, MAX_TRANSPORT_PAYLOAD);
    let header_len: u8 = if f.mss.is_some() { 24 } else { 20 };
    let mut s = Vec::with_capacity(usize::from(header_len) + payload.len());
    s.extend_from_slice(&src_port.to_be_bytes());
    s.extend_from_slice(&dst_port.to_be_bytes());
    s.extend_from_slice(&f.seq.to_be_bytes());
    s.extend_from_slice(&f.ack.to_be_bytes());
    s.extend_from_slice(&[(header_len / 4) << 4, f.flags]);
    s.extend_from_slice(&f.window.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    if let Some(mss) = f.mss {
        s.extend_from_slice(&[2, 4]);
        s.extend_from_slice(&mss.to_be_bytes());
    }
    s.extend_from_slice(payload);
    let sum = ips.transport_checksum(IPPROTO_TCP, &s, 8);
    s[16..18].copy_from_slice(&sum.to_be_bytes());
    s
}

/// One side of a conversation as it appears in frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Link-layer address frames from/to this endpoint carry on the captured segment (for a
    /// remote server: the gateway's MAC).
    pub mac: MacAddr,
    /// IP address.
    pub ip: IpAddr,
    /// Transport port.
    pub port: u16,
    /// TTL / hop limit of packets it sends, as seen at the capture point.
    pub ttl: u8,
}

/// A whole Ethernet frame carrying a UDP datagram from `src` to `dst`; None when their
/// address families differ.
pub fn udp_frame(src: &Endpoint, dst: &Endpoint, ip_id: u16, payload: &[u8]) -> Option<Vec<u8>> {
    let ips = IpPair::new(src.ip, dst.ip)?;
    let seg = udp(ips, src.port, dst.port, payload);
    let pkt = ip(ips, IPPROTO_UDP, ip_id, src.ttl, &seg);
    Some(ethernet(dst.mac, src.mac, ips.ethertype(), &pkt))
}

/// A whole Ethernet frame carrying a TCP segment from `src` to `dst`; None when their
/// address families differ.
pub fn tcp_frame(
    src: &Endpoint,
    dst: &Endpoint,
    ip_id: u16,
    fields: &TcpFields,
    payload: &[u8],
) -> Option<Vec<u8>> {
    let ips = IpPair::new(src.ip, dst.ip)?;
    let seg = tcp(ips, src.port, dst.port, fields, payload);
    let pkt = ip(ips, IPPROTO_TCP, ip_id, src.ttl, &seg);
    Some(ethernet(dst.mac, src.mac, ips.ethertype(), &pkt))
}

#[cfg(test)]
#[path = "net_tests.rs"]
mod tests;
