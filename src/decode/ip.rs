//! IPv4 and IPv6 decoding into a borrowed [`IpPacket`] (one IP layer; tunnels are looked
//! through by [`super::gtp`]).
//!
//! Invariants: `payload` is trimmed to the IP length fields and never extends past the
//! captured bytes; a header that does not fit, an IPv4 IHL below 5 or a total length shorter
//! than the header is [`DecodeError::BadIp`] (except total length 0 on an offload
//! super-frame, see [`IPV4_TSO_MIN_LEN`]). IPv6 extension headers are walked at most
//! [`MAX_IPV6_EXT_HEADERS`] deep. Any fragment (first or not) gets `fragment: Some(..)` and
//! `Transport::Fragment`; atomic fragments (offset 0, no more fragments) are not fragments.
//! Checksums are not verified.
//!
//! Hand-rolled (see [`super::transport`] for why): fixed-offset reads with explicit guards,
//! no allocation.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::transport::{self, be16, be32};
use super::{DecodeError, Fragment, IpPacket, Transport};

/// IPv6 extension headers walked at most: a chain of 8-byte options headers is cheap to forge,
/// so bound the work per packet. Real packets carry 0–3.
pub const MAX_IPV6_EXT_HEADERS: usize = 8;

/// An IPv4 packet longer than this (a standard Ethernet MTU) with total length 0 is a
/// segmentation-offload super-frame captured on the sending host (Windows LSO, Linux BIG TCP):
/// its real length is the captured length, as Wireshark and Zeek assume. A shorter one cannot
/// be, and stays an error.
pub const IPV4_TSO_MIN_LEN: usize = 1500;

/// Minimum IPv4 header (IHL 5).
const IPV4_MIN_HEADER: usize = 20;
/// Fixed IPv6 header.
const IPV6_HEADER: usize = 40;
/// IPv6 Fragment extension header length.
const IPV6_FRAG_HEADER: usize = 8;

/// IPv6 next-header values walked as extension headers.
const NH_HOP_BY_HOP: u8 = 0;
const NH_ROUTING: u8 = 43;
const NH_FRAGMENT: u8 = 44;
const NH_AH: u8 = 51;
const NH_DEST_OPTS: u8 = 60;

/// Decodes an IPv4 or IPv6 packet, choosing by the version nibble.
pub fn parse(data: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
    match data.first().map(|b| b >> 4) {
        Some(4) => parse_ipv4(data),
        Some(6) => parse_ipv6(data),
        _ => Err(DecodeError::BadIp),
    }
}

/// Decodes an IPv4 packet (RFC 791) and its transport layer.
pub fn parse_ipv4(data: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
    if data.len() < IPV4_MIN_HEADER || data[0] >> 4 != 4 {
        return Err(DecodeError::BadIp);
    }
    let header_len = usize::from(data[0] & 0x0f) * 4;
    let total_len = match usize::from(u16::from_be_bytes([data[2], data[3]])) {
        0 if data.len() > IPV4_TSO_MIN_LEN => data.len(),
        n => n,
    };
    if header_len < IPV4_MIN_HEADER || header_len > data.len() || total_len < header_len {
        return Err(DecodeError::BadIp);
    }
    let end = total_len.min(data.len());
    let payload = data.get(header_len..end).ok_or(DecodeError::BadIp)?;
    let id = u16::from_be_bytes([data[4], data[5]]);
    let flags_offset = u16::from_be_bytes([data[6], data[7]]);
    let more = flags_offset & 0x2000 != 0;
    let offset = u32::from(flags_offset & 0x1fff) * 8;
    let proto = data[9];
    let (fragment, transport) = if more || offset != 0 {
        let f = Fragment {
            id: u32::from(id),
            offset,
            more,
        };
        (Some(f), Transport::Fragment)
    } else {
        (None, transport::decode(proto, payload)?)
    };
    let src = Ipv4Addr::new(data[12], data[13], data[14], data[15]);
    let dst = Ipv4Addr::new(data[16], data[17], data[18], data[19]);
    Ok(IpPacket {
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        proto,
        ttl: data[8],
        fragment,
        payload,
        transport,
    })
}

/// Decodes an IPv6 packet (RFC 8200), walking its extension headers, and its transport layer.
///
/// A payload length of 0 with a hop-by-hop header (RFC 2675 jumbogram, Linux BIG TCP) keeps
/// all captured bytes.
pub fn parse_ipv6(data: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
    if data.len() < IPV6_HEADER || data[0] >> 4 != 6 {
        return Err(DecodeError::BadIp);
    }
    let payload_len = usize::from(u16::from_be_bytes([data[4], data[5]]));
    let first_nh = data[6];
    let end = if payload_len == 0 && first_nh == NH_HOP_BY_HOP {
        data.len()
    } else {
        IPV6_HEADER.saturating_add(payload_len).min(data.len())
    };
    let body = data.get(IPV6_HEADER..end).ok_or(DecodeError::BadIp)?;
    let (proto, fragment, payload) = walk_extensions(first_nh, body)?;
    let transport = match fragment {
        Some(_) => Transport::Fragment,
        None => transport::decode(proto, payload)?,
    };
    let src: [u8; 16] = data
        .get(8..24)
        .and_then(|s| s.try_into().ok())
        .ok_or(DecodeError::BadIp)?;
    let dst: [u8; 16] = data
        .get(24..40)
        .and_then(|s| s.try_into().ok())
        .ok_or(DecodeError::BadIp)?;
    Ok(IpPacket {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        proto,
        ttl: data[7],
        fragment,
        payload,
        transport,
    })
}

/// Walks IPv6 extension headers from `nh` over `body` (the bytes after the fixed header).
///
/// Returns the final next-header, the fragment info if a (non-atomic) Fragment header was
/// met, and the bytes after the last header walked. The walk stops at a real fragment (what
/// follows its header is fragment data), at ESP (50, encrypted) and at no-next-header (59),
/// as at any upper-layer protocol.
fn walk_extensions(
    mut nh: u8,
    mut body: &[u8],
) -> Result<(u8, Option<Fragment>, &[u8]), DecodeError> {
    for _ in 0..MAX_IPV6_EXT_HEADERS {
        let len = match nh {
            NH_HOP_BY_HOP | NH_ROUTING | NH_DEST_OPTS => {
                // Hdr Ext Len in 8-octet units, not counting the first 8.
                let units = body.get(1).ok_or(DecodeError::BadIp)?;
                (usize::from(*units) + 1) * 8
            }
            NH_AH => {
                // RFC 4302: Payload Len in 4-octet units, minus 2.
                let units = body.get(1).ok_or(DecodeError::BadIp)?;
                (usize::from(*units) + 2) * 4
            }
            NH_FRAGMENT => {
                let next = *body.first().ok_or(DecodeError::BadIp)?;
                let off_flags = be16(body, 2).ok_or(DecodeError::BadIp)?;
                let id = be32(body, 4).ok_or(DecodeError::BadIp)?;
                let rest = body.get(IPV6_FRAG_HEADER..).ok_or(DecodeError::BadIp)?;
                let offset = u32::from(off_flags >> 3) * 8;
                let more = off_flags & 1 != 0;
                if offset != 0 || more {
                    return Ok((next, Some(Fragment { id, offset, more }), rest));
                }
                // Atomic fragment (RFC 6946): the whole packet; keep walking.
                nh = next;
                body = rest;
                continue;
            }
            _ => return Ok((nh, None, body)),
        };
        let next = *body.first().ok_or(DecodeError::BadIp)?;
        body = body.get(len..).ok_or(DecodeError::BadIp)?;
        nh = next;
    }
    match nh {
        NH_HOP_BY_HOP | NH_ROUTING | NH_FRAGMENT | NH_AH | NH_DEST_OPTS => Err(DecodeError::BadIp),
        _ => Ok((nh, None, body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IPv4 header (IHL 5) for 10.0.2.15 → 93.184.216.34 followed by `payload`.
    fn v4(total_len: u16, flags_off: u16, proto: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0xe8, 0xef, 0, 0, 64, proto, 0, 0];
        p[2..4].copy_from_slice(&total_len.to_be_bytes());
        p[6..8].copy_from_slice(&flags_off.to_be_bytes());
        p.extend_from_slice(&[10, 0, 2, 15, 93, 184, 216, 34]);
        p.extend_from_slice(payload);
        p
    }

    const UDP_53: [u8; 10] = [0xe1, 0xc9, 0x00, 0x35, 0x00, 0x0a, 0, 0, b'h', b'i'];

    #[test]
    fn ipv4_udp_trimmed_to_total_length() {
        let mut p = v4(30, 0x4000, 17, &UDP_53);
        p.extend_from_slice(&[0; 6]); // Ethernet padding
        let ip = parse(&p).unwrap();
        assert_eq!(ip.src, "10.0.2.15".parse::<IpAddr>().unwrap());
        assert_eq!(ip.dst, "93.184.216.34".parse::<IpAddr>().unwrap());
        assert_eq!((ip.proto, ip.ttl, ip.fragment), (17, 64, None));
        assert_eq!(ip.payload.len(), 10);
        let Transport::Udp(u) = ip.transport else {
            panic!("not udp")
        };
        assert_eq!((u.src_port, u.dst_port, u.payload), (57801, 53, &b"hi"[..]));
    }

    #[test]
    fn ipv4_fragments_are_not_transport_decoded() {
        // MF set, offset 0: the first fragment.
        let p = v4(30, 0x2000, 17, &UDP_53);
        let ip = parse(&p).unwrap();
        let frag = Fragment {
            id: 0xe8ef,
            offset: 0,
            more: true,
        };
        assert_eq!(ip.fragment, Some(frag));
        assert_eq!(ip.transport, Transport::Fragment);
        assert_eq!(ip.payload.len(), 10);
        // Offset 185 × 8 = 1480, last fragment.
        let p = v4(24, 185, 17, &[1, 2, 3, 4]);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.fragment.map(|f| (f.offset, f.more)), Some((1480, false)));
        assert_eq!(ip.payload, &[1, 2, 3, 4]);
    }

    #[test]
    fn ipv4_bad_headers() {
        let mut p = v4(30, 0, 17, &UDP_53);
        p[0] = 0x40; // IHL 0
        assert_eq!(parse(&p), Err(DecodeError::BadIp));
        p[0] = 0x4f; // IHL 15 = 60 bytes > 30 captured
        assert_eq!(parse(&p), Err(DecodeError::BadIp));
        let p = v4(19, 0, 17, &UDP_53); // total length below the header
        assert_eq!(parse(&p), Err(DecodeError::BadIp));
        assert_eq!(parse(&p[..19]), Err(DecodeError::BadIp));
        assert_eq!(parse(&[]), Err(DecodeError::BadIp));
        assert_eq!(parse_ipv4(&[0x65; 40]), Err(DecodeError::BadIp));
    }

    #[test]
    fn ipv4_total_length_beyond_capture_keeps_captured() {
        let p = v4(1500, 0, 17, &UDP_53);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.payload.len(), 10);
    }

    #[test]
    fn ipv4_total_length_zero_only_on_offload_superframes() {
        let mut big = v4(0, 0x4000, 17, &UDP_53);
        big.resize(IPV4_TSO_MIN_LEN + 1, 0);
        assert_eq!(
            parse(&big).unwrap().payload.len(),
            IPV4_TSO_MIN_LEN + 1 - 20
        );
        let small = v4(0, 0x4000, 17, &UDP_53);
        assert_eq!(parse(&small), Err(DecodeError::BadIp));
    }

    #[test]
    fn ipv4_truncated_tcp_is_bad_transport() {
        let p = v4(30, 0, 6, &UDP_53);
        assert_eq!(parse(&p), Err(DecodeError::BadTransport));
    }

    /// IPv6 fe80::1 → ff02::fb with next header `nh`, payload length `plen`, then `rest`.
    fn v6(nh: u8, plen: u16, rest: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&plen.to_be_bytes());
        p.extend_from_slice(&[nh, 255]);
        p.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&"ff02::fb".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(rest);
        p
    }

    #[test]
    fn ipv6_hop_by_hop_then_fragment() {
        let mut rest = vec![NH_FRAGMENT, 0, 5, 2, 0, 0, 1, 0]; // hop-by-hop, router alert
        rest.extend_from_slice(&[17, 0, 0x05, 0xa9, 0xde, 0xad, 0xbe, 0xef]); // offset 181×8, M
        rest.extend_from_slice(&[9; 16]);
        let p = v6(NH_HOP_BY_HOP, 32, &rest);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.src, "fe80::1".parse::<IpAddr>().unwrap());
        assert_eq!(ip.dst, "ff02::fb".parse::<IpAddr>().unwrap());
        assert_eq!((ip.proto, ip.ttl), (17, 255));
        let frag = Fragment {
            id: 0xdead_beef,
            offset: 1448,
            more: true,
        };
        assert_eq!(ip.fragment, Some(frag));
        assert_eq!(ip.transport, Transport::Fragment);
        assert_eq!(ip.payload, &[9; 16]);
    }

    #[test]
    fn ipv6_atomic_fragment_and_dest_opts_reach_udp() {
        let mut rest = vec![NH_DEST_OPTS, 0, 0, 0, 0, 0, 0, 7]; // atomic fragment
        rest.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]); // dest opts, PadN
        rest.extend_from_slice(&UDP_53);
        let p = v6(NH_FRAGMENT, 26, &rest);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.proto, ip.fragment), (17, None));
        let Transport::Udp(u) = ip.transport else {
            panic!("not udp")
        };
        assert_eq!((u.dst_port, u.payload), (53, &b"hi"[..]));
    }

    #[test]
    fn ipv6_esp_and_no_next_stop() {
        let p = v6(50, 4, &[1, 2, 3, 4]);
        let ip = parse(&p).unwrap();
        assert_eq!(
            (ip.proto, ip.transport, ip.payload),
            (50, Transport::Other, &[1, 2, 3, 4][..])
        );
        let p = v6(59, 0, &[]);
        assert_eq!(parse(&p).unwrap().proto, 59);
    }

    #[test]
    fn ipv6_ext_chain_bounded_and_truncation() {
        // Nine hop-by-hop-sized destination options headers chained: over the limit.
        let mut rest = Vec::new();
        for _ in 0..9 {
            rest.extend_from_slice(&[NH_DEST_OPTS, 0, 1, 4, 0, 0, 0, 0]);
        }
        let p = v6(NH_DEST_OPTS, 72, &rest);
        assert_eq!(parse(&p), Err(DecodeError::BadIp));
        // Extension header longer than the payload.
        let p = v6(NH_ROUTING, 8, &[17, 3, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse(&p), Err(DecodeError::BadIp));
        assert_eq!(parse(&p[..39]), Err(DecodeError::BadIp));
    }

    #[test]
    fn ipv6_payload_length_trims_and_jumbo_keeps() {
        let mut p = v6(17, 10, &UDP_53);
        p.extend_from_slice(&[0xff; 4]);
        assert_eq!(parse(&p).unwrap().payload.len(), 10);
        // Payload length 0 with hop-by-hop: jumbogram, keep all captured bytes.
        let mut rest = vec![17, 0, 0xc2, 4, 0, 0, 0, 18];
        rest.extend_from_slice(&UDP_53);
        let p = v6(NH_HOP_BY_HOP, 0, &rest);
        assert_eq!(parse(&p).unwrap().payload.len(), 10);
    }
}
