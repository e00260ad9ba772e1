//! TCP, UDP and ICMP/ICMPv6 decoding of an IP payload into a borrowed [`Transport`] view.
//!
//! Invariants: every returned `payload` is a sub-slice of the input, never longer than it;
//! header-length fields are checked against the captured bytes before use (a TCP data offset
//! below 5 words or past the end is an error, not a panic — pnet's views do not check this,
//! libpnet#221). Checksums are not verified: captures taken on the sending host carry
//! offloaded, invalid checksums.
//!
//! Hand-rolled rather than wrapping `pnet_packet` views: we must do the length checks
//! ourselves anyway, and what remains is a handful of big-endian reads that return borrowed
//! slices with no allocation, which is the hot path of every packet.

use super::{DecodeError, TcpSegment, Transport, UdpDatagram};

/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IP protocol number (IPv6 next header) of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;

/// Fixed TCP header length (data offset 5).
const TCP_MIN_HEADER: usize = 20;
/// UDP header length.
const UDP_HEADER: usize = 8;
/// ICMP/ICMPv6 header: type, code, checksum.
const ICMP_HEADER: usize = 4;

/// Reads a big-endian u16 at `at`, if the two bytes are there.
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let s = b.get(at..end)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Reads a big-endian u32 at `at`, if the four bytes are there.
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let s = b.get(at..end)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Decodes the transport layer of a (reassembled) IP payload.
///
/// Lenient form of [`decode`]: a truncated or invalid TCP/UDP/ICMP header gives
/// [`Transport::Other`].
pub fn parse(proto: u8, payload: &[u8]) -> Transport<'_> {
    decode(proto, payload).unwrap_or(Transport::Other)
}

/// Decodes the transport layer of an IP payload.
///
/// Unknown protocols give `Ok(Transport::Other)`; a TCP/UDP/ICMP header that is truncated or
/// has an impossible length field gives [`DecodeError::BadTransport`].
pub fn decode(proto: u8, payload: &[u8]) -> Result<Transport<'_>, DecodeError> {
    match proto {
        PROTO_TCP => tcp(payload).map(Transport::Tcp),
        PROTO_UDP => udp(payload).map(Transport::Udp),
        PROTO_ICMP | PROTO_ICMPV6 => {
            if payload.len() < ICMP_HEADER {
                return Err(DecodeError::BadTransport);
            }
            Ok(Transport::Icmp {
                icmp_type: payload[0],
                code: payload[1],
            })
        }
        _ => Ok(Transport::Other),
    }
}

/// TCP (RFC 9293 §3.1): ports, seq, ack, data offset (4 bits, in 32-bit words), flags,
/// window, checksum, urgent pointer, options, data.
fn tcp(b: &[u8]) -> Result<TcpSegment<'_>, DecodeError> {
    if b.len() < TCP_MIN_HEADER {
        return Err(DecodeError::BadTransport);
    }
    let header_len = usize::from(b[12] >> 4) * 4;
    if header_len < TCP_MIN_HEADER {
        return Err(DecodeError::BadTransport);
    }
    let payload = b.get(header_len..).ok_or(DecodeError::BadTransport)?;
    Ok(TcpSegment {
        src_port: u16::from_be_bytes([b[0], b[1]]),
        dst_port: u16::from_be_bytes([b[2], b[3]]),
        seq: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        ack: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        flags: b[13],
        window: u16::from_be_bytes([b[14], b[15]]),
        payload,
    })
}

/// UDP (RFC 768): ports, length (header included), checksum, data. The payload is trimmed to
/// the length field when it is consistent (8 ≤ length ≤ captured); otherwise (0 for IPv6
/// jumbograms, or larger than captured) all captured bytes are kept.
fn udp(b: &[u8]) -> Result<UdpDatagram<'_>, DecodeError> {
    if b.len() < UDP_HEADER {
        return Err(DecodeError::BadTransport);
    }
    let len = usize::from(u16::from_be_bytes([b[4], b[5]]));
    let end = if (UDP_HEADER..=b.len()).contains(&len) {
        len
    } else {
        b.len()
    };
    Ok(UdpDatagram {
        src_port: u16::from_be_bytes([b[0], b[1]]),
        dst_port: u16::from_be_bytes([b[2], b[3]]),
        payload: b.get(UDP_HEADER..end).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tcp_flags;

    fn tcp_header(doff: u8, extra: &[u8]) -> Vec<u8> {
        let mut h = vec![
            0xc2,
            0x62,
            0x00,
            0x50, // ports 49762 → 80
            0x3f,
            0x32,
            0xba,
            0xd1, // seq
            0x00,
            0x00,
            0x00,
            0x01, // ack
            doff << 4,
            0x12, // data offset, SYN|ACK
            0x72,
            0x10, // window
            0x00,
            0x00,
            0x00,
            0x00, // checksum, urgent
        ];
        h.extend_from_slice(extra);
        h
    }

    #[test]
    fn tcp_with_options_and_data() {
        let mut b = tcp_header(6, &[2, 4, 5, 0xb4]);
        b.extend_from_slice(b"GET");
        let Transport::Tcp(t) = parse(PROTO_TCP, &b) else {
            panic!("not tcp")
        };
        assert_eq!((t.src_port, t.dst_port), (49762, 80));
        assert_eq!(t.seq, 0x3f32_bad1);
        assert_eq!(t.ack, 1);
        assert_eq!(t.flags, tcp_flags::SYN | tcp_flags::ACK);
        assert_eq!(t.window, 0x7210);
        assert_eq!(t.payload, b"GET");
    }

    #[test]
    fn tcp_data_offset_past_end_is_error() {
        // Data offset 15 words = 60 bytes, but only 24 captured (libpnet#221).
        let b = tcp_header(15, &[1, 1, 1, 1]);
        assert_eq!(decode(PROTO_TCP, &b), Err(DecodeError::BadTransport));
        assert_eq!(parse(PROTO_TCP, &b), Transport::Other);
    }

    #[test]
    fn tcp_data_offset_below_five_is_error() {
        let b = tcp_header(4, b"data");
        assert_eq!(decode(PROTO_TCP, &b), Err(DecodeError::BadTransport));
        assert_eq!(decode(PROTO_TCP, &b[..19]), Err(DecodeError::BadTransport));
    }

    #[test]
    fn udp_trims_to_length_when_consistent() {
        let mut b = vec![0x00, 0x35, 0xe1, 0xc9, 0x00, 0x0b, 0x00, 0x00];
        b.extend_from_slice(b"abc\0\0\0"); // 3 bytes of data, 3 of Ethernet padding
        let Transport::Udp(u) = parse(PROTO_UDP, &b) else {
            panic!("not udp")
        };
        assert_eq!((u.src_port, u.dst_port), (53, 57801));
        assert_eq!(u.payload, b"abc");
    }

    #[test]
    fn udp_inconsistent_length_keeps_captured_bytes() {
        // Length 0x0100 exceeds the 11 captured bytes (snap length): keep what is there.
        let b = [0, 1, 0, 2, 0x01, 0x00, 0, 0, b'x', b'y', b'z'];
        let Transport::Udp(u) = parse(PROTO_UDP, &b) else {
            panic!("not udp")
        };
        assert_eq!(u.payload, b"xyz");
        // Length 3 < header: same.
        let b = [0, 1, 0, 2, 0x00, 0x03, 0, 0, b'q'];
        let Transport::Udp(u) = parse(PROTO_UDP, &b) else {
            panic!("not udp")
        };
        assert_eq!(u.payload, b"q");
        assert_eq!(decode(PROTO_UDP, &b[..7]), Err(DecodeError::BadTransport));
    }

    #[test]
    fn icmp_and_icmpv6_type_code() {
        assert_eq!(
            parse(PROTO_ICMP, &[8, 0, 0xf7, 0xff, 0, 1]),
            Transport::Icmp {
                icmp_type: 8,
                code: 0
            }
        );
        assert_eq!(
            parse(PROTO_ICMPV6, &[135, 0, 0, 0]),
            Transport::Icmp {
                icmp_type: 135,
                code: 0
            }
        );
        assert_eq!(
            decode(PROTO_ICMP, &[3, 1, 0]),
            Err(DecodeError::BadTransport)
        );
    }

    #[test]
    fn unknown_protocol_is_other() {
        assert_eq!(decode(132, &[1, 2, 3]), Ok(Transport::Other));
        assert_eq!(decode(50, &[]), Ok(Transport::Other));
    }
}
