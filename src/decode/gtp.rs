//! Tunnels: GTP-U (3GPP TS 29.281, UDP port 2152) and IP-in-IP (protocols 4 and 41), looked
//! through so that the flow layer sees the phone's own packets.
//!
//! Invariants: at most [`MAX_TUNNEL_DEPTH`] layers are peeled (deeper nesting is
//! [`DecodeError::TooDeep`]), GTP extension-header chains are walked at most
//! [`MAX_GTP_EXT_HEADERS`] long, and the loop is iterative (no recursion on input).
//! A UDP/2152 payload that is not a GTPv1-U G-PDU carrying IPv4/IPv6 (echo, error
//! indication, non-IP PDU sessions, or unrelated traffic on that port) leaves the outer
//! packet as the result; a G-PDU whose inner IP packet is broken is an error like any broken
//! IP packet. Hand-rolled: no maintained crate parses GTP-U user-plane headers zero-copy.

use super::link::MAX_TUNNEL_DEPTH;
use super::transport::be16;
use super::{ip, DecodeError, IpPacket, Transport};

/// GTP-U registered UDP port (either side).
pub const GTP_U_PORT: u16 = 2152;

/// GTP extension headers walked at most: each costs a few bytes to forge; real traffic
/// carries one or two (PDU session container, UDP port).
pub const MAX_GTP_EXT_HEADERS: usize = 8;

/// Mandatory GTPv1 header: flags, message type, length, TEID.
const GTP_HEADER: usize = 8;
/// Optional fields present when any of E/S/PN is set: sequence, N-PDU number, next ext type.
const GTP_OPTIONAL: usize = 4;
/// Message type of a G-PDU (user data).
const MSG_G_PDU: u8 = 0xff;
/// IP protocol numbers of IPv4-in-IP and IPv6-in-IP encapsulation.
const PROTO_IPIP: u8 = 4;
const PROTO_IPV6_IN_IP: u8 = 41;

/// Peels tunnel layers off `outer`, returning the innermost IP packet and the number of
/// layers peeled.
pub fn innermost(outer: IpPacket<'_>) -> Result<(IpPacket<'_>, u8), DecodeError> {
    let mut pkt = outer;
    let mut depth = 0u8;
    while let Some(inner) = tunnel_payload(&pkt) {
        if depth >= MAX_TUNNEL_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        pkt = ip::parse(inner)?;
        depth += 1;
    }
    Ok((pkt, depth))
}

/// The encapsulated IP packet of `pkt`, if it is a tunnel we look through.
fn tunnel_payload<'a>(pkt: &IpPacket<'a>) -> Option<&'a [u8]> {
    let inner = match pkt.transport {
        Transport::Udp(u) if u.src_port == GTP_U_PORT || u.dst_port == GTP_U_PORT => {
            g_pdu_payload(u.payload)?
        }
        Transport::Other if pkt.fragment.is_none() => match pkt.proto {
            PROTO_IPIP | PROTO_IPV6_IN_IP => pkt.payload,
            _ => return None,
        },
        _ => return None,
    };
    matches!(inner.first().map(|b| b >> 4), Some(4 | 6)).then_some(inner)
}

/// The T-PDU of a GTPv1-U G-PDU, trimmed to the GTP length field (never past `b`).
///
/// Header (TS 29.281 §5.1): flags (version 3 bits = 1, PT = 1, spare, E, S, PN), message
/// type, length (bytes after the first 8), TEID; then, if E, S or PN is set, sequence (2),
/// N-PDU number (1), next extension header type (1); then extension headers, each
/// `length` (in 4-octet units, including itself) … `next type`, until type 0.
pub fn g_pdu_payload(b: &[u8]) -> Option<&[u8]> {
    let flags = *b.first()?;
    if flags >> 5 != 1 || flags & 0x10 == 0 || *b.get(1)? != MSG_G_PDU {
        return None;
    }
    let length = usize::from(be16(b, 2)?);
    let end = GTP_HEADER.checked_add(length)?.min(b.len());
    let mut pos = GTP_HEADER;
    if flags & 0x07 != 0 {
        pos += GTP_OPTIONAL;
        let mut next_type = *b.get(pos - 1)?;
        let mut walked = 0;
        while next_type != 0 {
            if walked == MAX_GTP_EXT_HEADERS {
                return None;
            }
            walked += 1;
            let units = usize::from(*b.get(pos)?);
            if units == 0 {
                return None;
            }
            pos = pos.checked_add(units * 4)?;
            next_type = *b.get(pos.checked_sub(1)?)?;
        }
    }
    b.get(pos..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{link, LinkType, Net};

    /// Inner IPv4/UDP packet 192.168.3.129:57801 → 192.168.168.1:53 with 2 data bytes.
    const INNER: [u8; 30] = [
        0x45, 0, 0, 30, 0, 1, 0, 0, 64, 17, 0, 0, 192, 168, 3, 129, 192, 168, 168, 1, 0xe1, 0xc9,
        0x00, 0x35, 0, 10, 0, 0, b'h', b'i',
    ];

    /// Outer IPv4 127.0.1.1 → 127.0.1.100, UDP 2152 → 2152, carrying `gtp`.
    fn outer(gtp: &[u8]) -> Vec<u8> {
        let udp_len = 8 + gtp.len();
        let total = 20 + udp_len;
        let mut p = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ];
        p.extend_from_slice(&[127, 0, 1, 1, 127, 0, 1, 100, 0x08, 0x68, 0x08, 0x68]);
        p.extend_from_slice(&[(udp_len >> 8) as u8, udp_len as u8, 0, 0]);
        p.extend_from_slice(gtp);
        p
    }

    fn gtp(flags: u8, opt_and_ext: &[u8], inner: &[u8]) -> Vec<u8> {
        let len = opt_and_ext.len() + inner.len();
        let mut g = vec![
            flags,
            MSG_G_PDU,
            (len >> 8) as u8,
            len as u8,
            0x7e,
            0x10,
            0xb5,
            0x68,
        ];
        g.extend_from_slice(opt_and_ext);
        g.extend_from_slice(inner);
        g
    }

    fn inner_udp(p: &IpPacket<'_>) -> (u16, u16, usize) {
        match p.transport {
            Transport::Udp(u) => (u.src_port, u.dst_port, u.payload.len()),
            ref t => panic!("not udp: {t:?}"),
        }
    }

    #[test]
    fn plain_g_pdu() {
        let frame = outer(&gtp(0x30, &[], &INNER));
        let p = link::decode(LinkType::Ipv4, &frame).unwrap();
        assert_eq!(p.tunnel_depth, 1);
        let Net::Ip(ip) = p.net else { panic!("not ip") };
        assert_eq!(ip.src.to_string(), "192.168.3.129");
        assert_eq!(ip.dst.to_string(), "192.168.168.1");
        assert_eq!(inner_udp(&ip), (57801, 53, 2));
    }

    #[test]
    fn g_pdu_with_sequence_and_extension_header() {
        // E and S set; seq 0x0102, N-PDU 0, next ext 0x85 (PDU session container, 1 unit)
        // then a 2-unit header of type 0x40 (UDP port), then end.
        let ext = [
            0x01, 0x02, 0x00, 0x85, //
            0x01, 0x10, 0x09, 0x40, //
            0x02, 0x08, 0x68, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let g = gtp(0x36, &ext, &INNER);
        assert_eq!(g_pdu_payload(&g), Some(&INNER[..]));
        let frame = outer(&g);
        let p = link::decode(LinkType::RawIp, &frame).unwrap();
        assert_eq!(p.tunnel_depth, 1);
        let Net::Ip(ip) = p.net else { panic!("not ip") };
        assert_eq!(ip.src.to_string(), "192.168.3.129");
        assert_eq!(inner_udp(&ip), (57801, 53, 2));
    }

    #[test]
    fn non_g_pdu_keeps_outer_packet() {
        // Echo request (type 1) on port 2152.
        let mut g = gtp(0x32, &[0, 1, 0, 0], &[]);
        g[1] = 1;
        let frame = outer(&g);
        let p = link::decode(LinkType::Ipv4, &frame).unwrap();
        assert_eq!(p.tunnel_depth, 0);
        let Net::Ip(ip) = p.net else { panic!("not ip") };
        assert_eq!(ip.src.to_string(), "127.0.1.1");
        assert_eq!(inner_udp(&ip), (2152, 2152, 12));
        // GTPv2 (version 2) is control plane: not a tunnel.
        assert_eq!(g_pdu_payload(&gtp(0x48, &[], &INNER)), None);
    }

    #[test]
    fn bad_extension_chains() {
        // Extension header of length 0 units: invalid.
        assert_eq!(
            g_pdu_payload(&gtp(0x34, &[0, 0, 0, 0x85, 0, 0, 0, 0], &INNER)),
            None
        );
        // Chain longer than the limit: nine 1-unit headers each pointing to another.
        let mut ext = vec![0, 0, 0, 0x85];
        for _ in 0..9 {
            ext.extend_from_slice(&[1, 0, 0, 0x85]);
        }
        assert_eq!(g_pdu_payload(&gtp(0x34, &ext, &INNER)), None);
        // Truncated before the optional fields.
        assert_eq!(g_pdu_payload(&[0x32, 0xff, 0, 4, 0, 0, 0, 0, 0]), None);
    }

    #[test]
    fn nesting_is_bounded() {
        let mut pkt = INNER.to_vec();
        for _ in 0..MAX_TUNNEL_DEPTH {
            pkt = outer(&gtp(0x30, &[], &pkt));
        }
        let p = link::decode(LinkType::Ipv4, &pkt).unwrap();
        assert_eq!(p.tunnel_depth, MAX_TUNNEL_DEPTH);
        let pkt = outer(&gtp(0x30, &[], &pkt));
        assert_eq!(
            link::decode(LinkType::Ipv4, &pkt),
            Err(DecodeError::TooDeep)
        );
    }

    #[test]
    fn broken_inner_ip_is_error() {
        let mut bad = INNER;
        bad[0] = 0x41; // IHL 1
        let frame = outer(&gtp(0x30, &[], &bad));
        assert_eq!(
            link::decode(LinkType::Ipv4, &frame),
            Err(DecodeError::BadIp)
        );
    }

    #[test]
    fn ipv6_in_ipv4() {
        let mut v6 = vec![0x60, 0, 0, 0, 0, 0, 59, 64];
        v6.extend_from_slice(&[0xfd; 32]);
        let mut p = vec![0x45, 0, 0, 60, 0, 0, 0, 0, 64, PROTO_IPV6_IN_IP, 0, 0];
        p.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        p.extend_from_slice(&v6);
        let pkt = link::decode(LinkType::Ipv4, &p).unwrap();
        assert_eq!(pkt.tunnel_depth, 1);
        let Net::Ip(ip) = pkt.net else {
            panic!("not ip")
        };
        assert_eq!(
            (ip.src.to_string(), ip.proto),
            ("fdfd:fdfd:fdfd:fdfd:fdfd:fdfd:fdfd:fdfd".into(), 59)
        );
    }
}
