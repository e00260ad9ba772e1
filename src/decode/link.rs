//! Link-layer decoding: Ethernet II (802.1Q/802.1ad tags, 802.3 LLC/SNAP), Linux cooked
//! SLL/SLL2, NFLOG, BSD NULL/LOOP, raw IP, and (via [`super::wifi`]) 802.11/radiotap; then
//! ARP or IP, looking through tunnels (via [`super::gtp`]).
//!
//! Every link type is first reduced to a [`Frame`] (link addresses, VLAN, EtherType, bytes);
//! [`decode`] then resolves VLAN tags (at most [`MAX_VLAN_TAGS`]) and one LLC/SNAP header and
//! dispatches on the EtherType. Invariants: no allocation, no recursion on input, every slice
//! borrowed from the frame; a frame shorter than its link header is
//! [`DecodeError::TruncatedLink`], a protocol we do not decode is `Net::Other`.
//! Hand-rolled: pnet_packet has no SLL2, NFLOG or radiotap views, and for the headers it does
//! cover we must check every length field ourselves first (libpnet#221), which leaves its
//! views nothing to add over fixed-offset reads (see [`super::transport`]).

use super::transport::be16;
use super::{gtp, ip, wifi, Arp, DecodeError, LinkType, Net, Packet};
use crate::event::MacAddr;

/// Tunnel layers (GTP-U, IP-in-IP) looked through at most: bounds the work on crafted
/// nesting; deeper is [`DecodeError::TooDeep`].
pub const MAX_TUNNEL_DEPTH: u8 = 4;

/// VLAN tags (802.1Q / 802.1ad / legacy 0x9100) read at most: QinQ uses two, some carriers
/// three; more is [`DecodeError::TooDeep`] rather than an unbounded walk.
pub const MAX_VLAN_TAGS: usize = 4;

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// EtherType of an 802.1Q (customer) VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// EtherType of an 802.1ad (service, QinQ) VLAN tag.
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
/// Pre-standard QinQ service tag EtherType, still sent by some switches.
pub const ETHERTYPE_QINQ_LEGACY: u16 = 0x9100;
/// EtherType values up to 1500 are 802.3 lengths: the payload starts with an LLC header.
const MAX_8023_LENGTH: u16 = 0x05dc;

const ETHERNET_HEADER: usize = 14;
const SLL_HEADER: usize = 16;
const SLL2_HEADER: usize = 20;
const NULL_HEADER: usize = 4;
const NFLOG_HEADER: usize = 4;
const NFLOG_TLV_HEADER: usize = 4;
/// NFLOG attribute type of the packet payload (NFULA_PAYLOAD).
const NFULA_PAYLOAD: u16 = 9;
/// Netlink attribute flag bits (nested, net byte order) masked off the NFLOG TLV type.
const NLA_TYPE_MASK: u16 = 0x3fff;
/// ARP over Ethernet/IPv4: fixed 28-byte body.
const ARP_LEN: usize = 28;
/// Linux ARPHRD values in cooked headers.
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_IEEE80211: u16 = 801;
const ARPHRD_IEEE80211_RADIOTAP: u16 = 803;
const ARPHRD_NETLINK: u16 = 824;
/// Address families of NULL/LOOP/NFLOG headers: AF_INET everywhere; AF_INET6 on Linux (10),
/// NetBSD/OpenBSD (24), FreeBSD (28) and Darwin (30).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

/// A link layer reduced to what the network layer needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// Link-layer source (see [`Packet::src_mac`]).
    pub(crate) src_mac: Option<MacAddr>,
    /// Link-layer destination.
    pub(crate) dst_mac: Option<MacAddr>,
    /// Outermost VLAN id, once tags are resolved.
    pub(crate) vlan: Option<u16>,
    /// EtherType of `payload`; 0 (with an empty payload) when there is no network layer.
    pub(crate) ethertype: u16,
    /// The bytes after the link header (and FCS, when one was stripped).
    pub(crate) payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// A frame with no addresses and no network layer.
    pub(crate) fn other() -> Frame<'a> {
        Frame {
            src_mac: None,
            dst_mac: None,
            vlan: None,
            ethertype: 0,
            payload: &[],
        }
    }

    /// A frame without link addresses carrying `payload` of `ethertype`.
    fn bare(ethertype: u16, payload: &'a [u8]) -> Frame<'a> {
        Frame {
            ethertype,
            payload,
            ..Frame::other()
        }
    }
}

/// See [`super::decode_frame`].
pub fn decode(link: LinkType, data: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let frame = match link {
        LinkType::Ethernet => ethernet(data)?,
        LinkType::RawIp => raw_ip(data)?,
        LinkType::Ipv4 => Frame::bare(ETHERTYPE_IPV4, data),
        LinkType::Ipv6 => Frame::bare(ETHERTYPE_IPV6, data),
        LinkType::LinuxSll => sll(data)?,
        LinkType::LinuxSll2 => sll2(data)?,
        LinkType::Nflog => nflog(data)?,
        LinkType::Ieee80211 => wifi::dot11(data)?,
        LinkType::Ieee80211Radiotap => wifi::radiotap(data)?,
        LinkType::Null => null_loop(data, false)?,
        LinkType::Loop => null_loop(data, true)?,
    };
    network(frame)
}

/// Resolves VLAN tags and LLC/SNAP, then decodes ARP or IP (through tunnels).
fn network(mut f: Frame<'_>) -> Result<Packet<'_>, DecodeError> {
    let mut tags = 0;
    while matches!(
        f.ethertype,
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_LEGACY
    ) {
        if tags == MAX_VLAN_TAGS {
            return Err(DecodeError::TooDeep);
        }
        tags += 1;
        let tci = be16(f.payload, 0).ok_or(DecodeError::TruncatedLink)?;
        let inner = be16(f.payload, 2).ok_or(DecodeError::TruncatedLink)?;
        f.vlan = f.vlan.or(Some(tci & 0x0fff));
        f.ethertype = inner;
        f.payload = f.payload.get(4..).ok_or(DecodeError::TruncatedLink)?;
    }
    if f.ethertype <= MAX_8023_LENGTH {
        let llc = wifi::llc_snap(f.payload);
        f.ethertype = llc.ethertype;
        f.payload = llc.payload;
    }
    let mut tunnel_depth = 0;
    let net = match f.ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => {
            let outer = if f.ethertype == ETHERTYPE_IPV4 {
                ip::parse_ipv4(f.payload)?
            } else {
                ip::parse_ipv6(f.payload)?
            };
            let (inner, depth) = gtp::innermost(outer)?;
            tunnel_depth = depth;
            Net::Ip(inner)
        }
        ETHERTYPE_ARP => arp(f.payload).map_or(Net::Other, Net::Arp),
        _ => Net::Other,
    };
    Ok(Packet {
        src_mac: f.src_mac,
        dst_mac: f.dst_mac,
        vlan: f.vlan,
        tunnel_depth,
        net,
    })
}

/// Ethernet II: destination, source, EtherType (or 802.3 length).
fn ethernet(data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    if data.len() < ETHERNET_HEADER {
        return Err(DecodeError::TruncatedLink);
    }
    Ok(Frame {
        dst_mac: MacAddr::from_slice(&data[0..6]),
        src_mac: MacAddr::from_slice(&data[6..12]),
        vlan: None,
        ethertype: u16::from_be_bytes([data[12], data[13]]),
        payload: &data[ETHERNET_HEADER..],
    })
}

/// Raw IP: the version nibble picks IPv4 or IPv6.
fn raw_ip(data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    let ethertype = match data.first().ok_or(DecodeError::TruncatedLink)? >> 4 {
        4 => ETHERTYPE_IPV4,
        6 => ETHERTYPE_IPV6,
        _ => return Err(DecodeError::BadIp),
    };
    Ok(Frame::bare(ethertype, data))
}

/// Linux cooked capture v1: packet type, ARPHRD, address length, address (8), protocol.
fn sll(data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    if data.len() < SLL_HEADER {
        return Err(DecodeError::TruncatedLink);
    }
    let arphrd = u16::from_be_bytes([data[2], data[3]]);
    let addr_len = u16::from_be_bytes([data[4], data[5]]);
    let protocol = u16::from_be_bytes([data[14], data[15]]);
    cooked(
        arphrd,
        addr_len,
        &data[6..14],
        protocol,
        &data[SLL_HEADER..],
    )
}

/// Linux cooked capture v2: protocol, reserved, interface index, ARPHRD, packet type,
/// address length, address (8).
fn sll2(data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    if data.len() < SLL2_HEADER {
        return Err(DecodeError::TruncatedLink);
    }
    let protocol = u16::from_be_bytes([data[0], data[1]]);
    let arphrd = u16::from_be_bytes([data[8], data[9]]);
    let addr_len = u16::from(data[11]);
    cooked(
        arphrd,
        addr_len,
        &data[12..20],
        protocol,
        &data[SLL2_HEADER..],
    )
}

/// The common part of SLL and SLL2. The address is the packet's link-layer source; it is a
/// MAC only on Ethernet-type devices with a 6-byte address. The protocol is an EtherType
/// except on netlink and 802.11 monitor devices.
fn cooked<'a>(
    arphrd: u16,
    addr_len: u16,
    addr: &[u8],
    protocol: u16,
    payload: &'a [u8],
) -> Result<Frame<'a>, DecodeError> {
    match arphrd {
        ARPHRD_IEEE80211 => return wifi::dot11(payload),
        ARPHRD_IEEE80211_RADIOTAP => return wifi::radiotap(payload),
        ARPHRD_NETLINK => return Ok(Frame::other()),
        _ => {}
    }
    let src_mac = if arphrd == ARPHRD_ETHER && addr_len == 6 {
        MacAddr::from_slice(addr)
    } else {
        None
    };
    Ok(Frame {
        src_mac,
        ..Frame::bare(protocol, payload)
    })
}

/// BSD NULL (host-order family: either byte order accepted, as the writer's is unknown) and
/// OpenBSD LOOP (network-order family).
fn null_loop(data: &[u8], network_order: bool) -> Result<Frame<'_>, DecodeError> {
    let head: [u8; 4] = data
        .get(..NULL_HEADER)
        .and_then(|h| h.try_into().ok())
        .ok_or(DecodeError::TruncatedLink)?;
    let payload = &data[NULL_HEADER..];
    let mut family = if network_order {
        u32::from_be_bytes(head)
    } else {
        u32::from_le_bytes(head)
    };
    if !network_order && family > 0xffff {
        family = u32::from_be_bytes(head);
    }
    Ok(family_frame(family, payload))
}

/// The frame of an IP packet identified by an address family.
fn family_frame(family: u32, payload: &[u8]) -> Frame<'_> {
    if family == AF_INET {
        Frame::bare(ETHERTYPE_IPV4, payload)
    } else if AF_INET6.contains(&family) {
        Frame::bare(ETHERTYPE_IPV6, payload)
    } else {
        Frame::other()
    }
}

/// NFLOG: family, version, resource id, then netlink TLVs (length LE u16 including the 4-byte
/// TLV header, type LE u16, value, padding to 4 bytes). The packet is the NFULA_PAYLOAD TLV.
/// Each step advances at least 4 bytes, so the walk ends within the frame.
fn nflog(data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    if data.len() < NFLOG_HEADER {
        return Err(DecodeError::TruncatedLink);
    }
    let family = data[0];
    let mut pos = NFLOG_HEADER;
    while pos < data.len() {
        let tlv = data
            .get(pos..pos + NFLOG_TLV_HEADER)
            .ok_or(DecodeError::TruncatedLink)?;
        let len = usize::from(u16::from_le_bytes([tlv[0], tlv[1]]));
        let kind = u16::from_le_bytes([tlv[2], tlv[3]]) & NLA_TYPE_MASK;
        if len < NFLOG_TLV_HEADER {
            return Err(DecodeError::TruncatedLink);
        }
        if kind == NFULA_PAYLOAD {
            let end = pos.saturating_add(len).min(data.len());
            let payload = data.get(pos + NFLOG_TLV_HEADER..end).unwrap_or_default();
            return Ok(match family_frame(u32::from(family), payload) {
                f if f.ethertype != 0 => f,
                // Other families (bridge, netdev): trust the IP version nibble.
                _ => raw_ip(payload).unwrap_or_else(|_| Frame::other()),
            });
        }
        pos = pos.saturating_add(len.next_multiple_of(4));
    }
    Ok(Frame::other())
}

/// ARP (RFC 826) for Ethernet hardware and IPv4 protocol addresses; anything else is None.
fn arp(b: &[u8]) -> Option<Arp> {
    let b = b.get(..ARP_LEN)?;
    let hw_ok = be16(b, 0)? == ARPHRD_ETHER && b[4] == 6;
    let proto_ok = be16(b, 2)? == ETHERTYPE_IPV4 && b[5] == 4;
    if !(hw_ok && proto_ok) {
        return None;
    }
    Some(Arp {
        op: be16(b, 6)?,
        sender_mac: MacAddr::from_slice(&b[8..14])?,
        sender_ip: std::net::Ipv4Addr::new(b[14], b[15], b[16], b[17]),
        target_mac: MacAddr::from_slice(&b[18..24])?,
        target_ip: std::net::Ipv4Addr::new(b[24], b[25], b[26], b[27]),
    })
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
