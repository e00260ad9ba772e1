//! QUIC long headers (RFC 9000 §17.2, RFC 9369 §3) and variable-length integers (§16).
//!
//! Only what locating a client's Initial packets needs: version, connection ids, token,
//! the Length field and where the protected packet number starts. Invariants: no panic on any
//! input, every length is checked against the bytes present, connection ids longer than
//! [`MAX_CID_LEN`] are rejected.

use super::Version;

/// Longest connection id QUIC v1/v2 allow (RFC 9000 §17.2): a larger length byte (up to 255)
/// means the packet is not one of the versions we decode.
pub const MAX_CID_LEN: usize = 20;

/// Decodes a variable-length integer (RFC 9000 §16): the value and the bytes it took.
pub fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let len = 1usize << (first >> 6);
    let rest = b.get(1..len)?;
    let v = rest
        .iter()
        .fold(u64::from(first & 0x3f), |v, &x| v << 8 | u64::from(x));
    Some((v, len))
}

/// Long-header packet types. The two type bits map differently in v1 and v2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

impl PacketType {
    /// The type named by the two type bits of the first byte under `version`.
    pub fn from_bits(version: Version, bits: u8) -> PacketType {
        match (version, bits & 3) {
            (Version::V2, 0) => PacketType::Retry,
            (Version::V2, 1) => PacketType::Initial,
            (Version::V2, 2) => PacketType::ZeroRtt,
            (Version::V2, _) => PacketType::Handshake,
            (_, 0) => PacketType::Initial,
            (_, 1) => PacketType::ZeroRtt,
            (_, 2) => PacketType::Handshake,
            (_, _) => PacketType::Retry,
        }
    }
}

/// A parsed long header of a known version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongHeader<'a> {
    /// First byte, still header-protected (its low four bits are masked).
    pub first: u8,
    /// The version as on the wire (several draft numbers share one [`Version`]).
    pub wire_version: u32,
    pub version: Version,
    pub packet_type: PacketType,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    /// Address-validation token (Initial packets only; empty otherwise).
    pub token: &'a [u8],
    /// Offset of the protected packet number in the packet.
    pub pn_offset: usize,
    /// Bytes of this packet in its datagram (header + Length); coalesced packets follow.
    /// For Retry, the rest of the datagram.
    pub packet_len: usize,
}

/// Why a datagram does not start with a long header we decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// A short header (1-RTT) packet.
    ShortHeader,
    /// Version negotiation, or a version whose keys we do not know (gQUIC, drafts < 29).
    UnknownVersion(u32),
    /// A connection id longer than [`MAX_CID_LEN`].
    CidTooLong,
    /// Fields run past the bytes present.
    Truncated,
}

/// Parses the long header at the start of `packet` (a datagram or its remaining coalesced
/// packets).
pub fn parse_long_header(packet: &[u8]) -> Result<LongHeader<'_>, HeaderError> {
    let (&first, rest) = packet.split_first().ok_or(HeaderError::Truncated)?;
    if first & 0x80 == 0 {
        return Err(HeaderError::ShortHeader);
    }
    let (v, rest) = rest.split_at_checked(4).ok_or(HeaderError::Truncated)?;
    let wire_version = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    let version =
        Version::from_wire(wire_version).ok_or(HeaderError::UnknownVersion(wire_version))?;
    let (dcid, rest) = cid(rest)?;
    let (scid, rest) = cid(rest)?;
    let packet_type = PacketType::from_bits(version, first >> 4);
    if packet_type == PacketType::Retry {
        return Ok(LongHeader {
            first,
            wire_version,
            version,
            packet_type,
            dcid,
            scid,
            token: &[],
            pn_offset: packet.len(),
            packet_len: packet.len(),
        });
    }
    let (token, rest) = if packet_type == PacketType::Initial {
        let (n, used) = varint(rest).ok_or(HeaderError::Truncated)?;
        let rest = rest.get(used..).ok_or(HeaderError::Truncated)?;
        let n = usize::try_from(n).map_err(|_| HeaderError::Truncated)?;
        rest.split_at_checked(n).ok_or(HeaderError::Truncated)?
    } else {
        (&[][..], rest)
    };
    let (length, used) = varint(rest).ok_or(HeaderError::Truncated)?;
    let pn_offset = packet.len() - rest.len() + used;
    let packet_len = usize::try_from(length)
        .ok()
        .and_then(|l| pn_offset.checked_add(l))
        .filter(|&end| end <= packet.len())
        .ok_or(HeaderError::Truncated)?;
    Ok(LongHeader {
        first,
        wire_version,
        version,
        packet_type,
        dcid,
        scid,
        token,
        pn_offset,
        packet_len,
    })
}

/// A connection id with its one-byte length prefix.
fn cid(b: &[u8]) -> Result<(&[u8], &[u8]), HeaderError> {
    let (&n, rest) = b.split_first().ok_or(HeaderError::Truncated)?;
    if usize::from(n) > MAX_CID_LEN {
        return Err(HeaderError::CidTooLong);
    }
    rest.split_at_checked(usize::from(n))
        .ok_or(HeaderError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_of_rfc9000_appendix_a1() {
        assert_eq!(
            varint(&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]),
            Some((151_288_809_941_952_652, 8))
        );
        assert_eq!(varint(&[0x9d, 0x7f, 0x3e, 0x7d]), Some((494_878_333, 4)));
        assert_eq!(varint(&[0x7b, 0xbd]), Some((15_293, 2)));
        assert_eq!(varint(&[0x25]), Some((37, 1)));
        assert_eq!(varint(&[0x40, 0x25]), Some((37, 2)));
        assert_eq!(varint(&[0xc2, 0x19]), None);
        assert_eq!(varint(&[]), None);
    }

    #[test]
    fn rejects_long_cids_short_headers_and_unknown_versions() {
        let mut p = vec![0xc0, 0, 0, 0, 1, 21];
        p.extend([0u8; 40]);
        assert_eq!(parse_long_header(&p), Err(HeaderError::CidTooLong));
        assert_eq!(
            parse_long_header(&[0x40, 1, 2]),
            Err(HeaderError::ShortHeader)
        );
        assert_eq!(
            parse_long_header(b"\xc0Q043\x08"),
            Err(HeaderError::UnknownVersion(0x5130_3433))
        );
        assert_eq!(
            parse_long_header(&[0xc0, 0, 0]),
            Err(HeaderError::Truncated)
        );
    }

    #[test]
    fn length_past_the_datagram_is_truncated() {
        // Initial, v1, empty cids, no token, Length = 2^62-1.
        let p = [
            0xc0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1,
        ];
        assert_eq!(parse_long_header(&p), Err(HeaderError::Truncated));
    }
}
