//! IEEE 802.11 frames (LINKTYPE 105) and radiotap-prefixed 802.11 (LINKTYPE 127), down to the
//! EtherType of an LLC/SNAP-encapsulated data frame.
//!
//! Invariants: only data frames (QoS data included) reach the network layer; `src_mac` and
//! `dst_mac` are the SA and DA chosen by the ToDS/FromDS bits (for an A-MSDU, those of its
//! first subframe); protected (encrypted) frames, null-data frames and non-SNAP payloads are
//! `Net::Other`. The radiotap walk reads at most [`MAX_RADIOTAP_PRESENT_WORDS`] presence
//! words. Hand-rolled: the radiotap crates on crates.io allocate per header or are
//! unmaintained, and we need only two fields (the header length and the FCS flag).

use super::link::Frame;
use super::transport::be16;
use super::DecodeError;
use crate::event::MacAddr;

/// Radiotap presence bitmaps read at most (each bit 31 announces another): bounds the walk on
/// a header whose every word sets the extension bit.
pub const MAX_RADIOTAP_PRESENT_WORDS: usize = 8;

/// Radiotap fixed header: version, pad, length (LE), first presence word.
const RADIOTAP_MIN: usize = 8;
/// Radiotap presence bit of the TSFT field (u64, 8-byte aligned) and of the Flags field (u8).
const RT_TSFT: u32 = 1 << 0;
const RT_FLAGS: u32 = 1 << 1;
/// Presence bit 31: another presence word follows.
const RT_EXT: u32 = 1 << 31;
/// Radiotap Flags bit: the frame ends with a 4-byte FCS.
const RT_FLAG_FCS: u8 = 0x10;
/// Frame check sequence length.
const FCS_LEN: usize = 4;

/// 802.11 MAC header without Address 4, QoS Control or HT Control.
const DOT11_HEADER: usize = 24;
/// Frame-control type value of data frames.
const TYPE_DATA: u8 = 2;
/// Frame-control type value of management frames.
const TYPE_MGMT: u8 = 0;
/// Frame-control flag bits (second byte).
const FC_TO_DS: u8 = 0x01;
const FC_FROM_DS: u8 = 0x02;
const FC_PROTECTED: u8 = 0x40;
const FC_ORDER: u8 = 0x80;
/// QoS Control bit 7: the body is an A-MSDU.
const QOS_AMSDU: u8 = 0x80;
/// A-MSDU subframe header: DA, SA, length.
const AMSDU_SUBFRAME_HEADER: usize = 14;
/// LLC/SNAP header with the RFC 1042 OUI (00-00-00), before the EtherType.
const LLC_SNAP: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];
/// LLC/SNAP with the 802.1H bridge-tunnel OUI (00-00-F8), used for some EtherTypes.
const LLC_SNAP_BRIDGE_TUNNEL: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0xf8];

/// Strips a radiotap header (and the trailing FCS when its Flags field says there is one),
/// then decodes the 802.11 frame.
pub(crate) fn radiotap(data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    if data.len() < RADIOTAP_MIN {
        return Err(DecodeError::TruncatedLink);
    }
    let rt_len = usize::from(u16::from_le_bytes([data[2], data[3]]));
    if rt_len < RADIOTAP_MIN || rt_len > data.len() {
        return Err(DecodeError::TruncatedLink);
    }
    let header = &data[..rt_len];
    let mut frame = &data[rt_len..];
    if radiotap_flags(header).is_some_and(|f| f & RT_FLAG_FCS != 0) {
        let end = frame
            .len()
            .checked_sub(FCS_LEN)
            .ok_or(DecodeError::TruncatedLink)?;
        frame = &frame[..end];
    }
    dot11(frame)
}

/// The radiotap Flags field, if present (RFC-like spec at radiotap.org: fields follow the
/// presence words in bit order, each aligned to its natural size from the header start).
fn radiotap_flags(header: &[u8]) -> Option<u8> {
    let present = u32::from_le_bytes(header.get(4..8)?.try_into().ok()?);
    if present & RT_FLAGS == 0 {
        return None;
    }
    let mut pos = 4;
    let mut word = present;
    let mut words = 1;
    while word & RT_EXT != 0 {
        if words == MAX_RADIOTAP_PRESENT_WORDS {
            return None;
        }
        pos += 4;
        word = u32::from_le_bytes(header.get(pos..pos + 4)?.try_into().ok()?);
        words += 1;
    }
    pos += 4;
    if present & RT_TSFT != 0 {
        pos = pos.next_multiple_of(8) + 8;
    }
    header.get(pos).copied()
}

/// Decodes a bare 802.11 frame (no FCS expected; trailing bytes after an IP packet are
/// trimmed by the IP length anyway).
pub(crate) fn dot11(data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    if data.len() < DOT11_HEADER {
        // Control frames (ACK, CTS: 10 bytes) are shorter than a data header and carry no
        // payload; they are not errors.
        return if data.len() >= 10 {
            Ok(Frame::other())
        } else {
            Err(DecodeError::TruncatedLink)
        };
    }
    let fc0 = data[0];
    let fc1 = data[1];
    let ftype = (fc0 >> 2) & 0x03;
    let subtype = fc0 >> 4;
    let a1 = MacAddr::from_slice(&data[4..10]);
    let a2 = MacAddr::from_slice(&data[10..16]);
    let a3 = MacAddr::from_slice(&data[16..22]);
    if fc0 & 0x03 != 0 {
        return Ok(Frame::other());
    }
    if ftype == TYPE_MGMT {
        return Ok(Frame {
            src_mac: a2,
            dst_mac: a1,
            ..Frame::other()
        });
    }
    if ftype != TYPE_DATA {
        return Ok(Frame::other());
    }
    let to_ds = fc1 & FC_TO_DS != 0;
    let from_ds = fc1 & FC_FROM_DS != 0;
    let qos = subtype & 0x08 != 0;
    let mut header_len = DOT11_HEADER;
    let (mut src, mut dst) = match (to_ds, from_ds) {
        (false, false) => (a2, a1),
        (false, true) => (a3, a1),
        (true, false) => (a2, a3),
        (true, true) => {
            header_len += 6;
            (data.get(24..30).and_then(MacAddr::from_slice), a3)
        }
    };
    let mut amsdu = false;
    if qos {
        amsdu = data.get(header_len).ok_or(DecodeError::TruncatedLink)? & QOS_AMSDU != 0;
        header_len += 2;
        if fc1 & FC_ORDER != 0 {
            header_len += 4; // HT Control
        }
    }
    let frame = Frame {
        src_mac: src,
        dst_mac: dst,
        ..Frame::other()
    };
    // Null-data subtypes (bit 2 of the subtype) carry no body.
    if fc1 & FC_PROTECTED != 0 || subtype & 0x04 != 0 {
        return Ok(frame);
    }
    let mut body = data.get(header_len..).ok_or(DecodeError::TruncatedLink)?;
    if amsdu {
        // First subframe only: DA, SA, length, then its LLC/SNAP body.
        let sub = body
            .get(..AMSDU_SUBFRAME_HEADER)
            .ok_or(DecodeError::TruncatedLink)?;
        dst = MacAddr::from_slice(&sub[0..6]);
        src = MacAddr::from_slice(&sub[6..12]);
        let len = usize::from(u16::from_be_bytes([sub[12], sub[13]]));
        let end = AMSDU_SUBFRAME_HEADER.saturating_add(len).min(body.len());
        body = body.get(AMSDU_SUBFRAME_HEADER..end).unwrap_or_default();
    }
    Ok(Frame {
        src_mac: src,
        dst_mac: dst,
        ..llc_snap(body)
    })
}

/// LLC/SNAP (RFC 1042 / 802.1H) + EtherType → the network-layer bytes; anything else (plain
/// LLC, truncated) is `Net::Other`.
pub(crate) fn llc_snap(body: &[u8]) -> Frame<'_> {
    let Some(head) = body.get(..LLC_SNAP.len()) else {
        return Frame::other();
    };
    if head != LLC_SNAP && head != LLC_SNAP_BRIDGE_TUNNEL {
        return Frame::other();
    }
    match (be16(body, 6), body.get(8..)) {
        (Some(ethertype), Some(payload)) => Frame {
            ethertype,
            payload,
            ..Frame::other()
        },
        _ => Frame::other(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{link, LinkType, Net, Transport};

    const STA: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    const AP: [u8; 6] = [0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e];
    const GW: [u8; 6] = [0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc];

    /// IPv4/UDP 10.0.0.2:5353 → 10.0.0.1:53, 1 data byte.
    const IP_UDP: [u8; 29] = [
        0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1, 0x14, 0xe9, 0, 53, 0,
        9, 0, 0, b'!',
    ];

    /// QoS data, ToDS (station → AP): A1 = BSSID, A2 = SA, A3 = DA.
    fn qos_data_to_ds(fc1: u8) -> Vec<u8> {
        let mut f = vec![0x88, fc1, 0x2c, 0x00];
        f.extend_from_slice(&AP);
        f.extend_from_slice(&STA);
        f.extend_from_slice(&GW);
        f.extend_from_slice(&[0x10, 0x00, 0x00, 0x00]); // seq ctl, QoS ctl TID 0
        f.extend_from_slice(&LLC_SNAP);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&IP_UDP);
        f
    }

    fn radiotap_header(flags: u8) -> Vec<u8> {
        // Present: TSFT | Flags | Rate; TSFT at 8 (aligned), Flags at 16, Rate at 17; len 18.
        let mut h = vec![0, 0, 18, 0, 0x07, 0, 0, 0];
        h.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, flags, 0x0c]);
        h
    }

    fn expect_udp(p: &crate::decode::Packet<'_>) {
        assert_eq!(p.src_mac, Some(MacAddr(STA)));
        assert_eq!(p.dst_mac, Some(MacAddr(GW)));
        let Net::Ip(ip) = &p.net else {
            panic!("not ip: {:?}", p.net)
        };
        assert_eq!(ip.src.to_string(), "10.0.0.2");
        assert_eq!(ip.dst.to_string(), "10.0.0.1");
        let Transport::Udp(u) = ip.transport else {
            panic!("not udp")
        };
        assert_eq!((u.src_port, u.dst_port, u.payload), (5353, 53, &b"!"[..]));
    }

    #[test]
    fn radiotap_qos_data_llc_snap_with_fcs() {
        let mut frame = radiotap_header(RT_FLAG_FCS);
        frame.extend_from_slice(&qos_data_to_ds(FC_TO_DS));
        frame.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]); // FCS
        let p = link::decode(LinkType::Ieee80211Radiotap, &frame).unwrap();
        expect_udp(&p);
        assert_eq!(radiotap_flags(&frame[..18]), Some(RT_FLAG_FCS));
    }

    #[test]
    fn bare_dot11_from_ds_and_wds() {
        // FromDS (AP → station): A1 = DA, A2 = BSSID, A3 = SA.
        let mut f = vec![0x08, FC_FROM_DS, 0, 0];
        f.extend_from_slice(&GW);
        f.extend_from_slice(&AP);
        f.extend_from_slice(&STA);
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&LLC_SNAP);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&IP_UDP);
        expect_udp(&link::decode(LinkType::Ieee80211, &f).unwrap());
        // WDS (ToDS+FromDS): A3 = DA, A4 = SA.
        let mut f = vec![0x08, FC_TO_DS | FC_FROM_DS, 0, 0];
        f.extend_from_slice(&AP);
        f.extend_from_slice(&AP);
        f.extend_from_slice(&GW);
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&STA);
        f.extend_from_slice(&LLC_SNAP);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&IP_UDP);
        expect_udp(&link::decode(LinkType::Ieee80211, &f).unwrap());
    }

    #[test]
    fn protected_and_non_data_are_other() {
        let f = qos_data_to_ds(FC_TO_DS | FC_PROTECTED);
        let p = link::decode(LinkType::Ieee80211, &f).unwrap();
        assert_eq!((p.src_mac, p.net), (Some(MacAddr(STA)), Net::Other));
        // Beacon (management): addresses, no network layer.
        let mut b = vec![0x80, 0, 0, 0];
        b.extend_from_slice(&[0xff; 6]);
        b.extend_from_slice(&AP);
        b.extend_from_slice(&AP);
        b.extend_from_slice(&[0; 14]);
        let p = link::decode(LinkType::Ieee80211, &b).unwrap();
        assert_eq!((p.src_mac, p.net), (Some(MacAddr(AP)), Net::Other));
        // ACK (control, 10 bytes).
        let p = link::decode(LinkType::Ieee80211, &[0xd4, 0, 0, 0, 1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!((p.src_mac, p.net), (None, Net::Other));
        assert_eq!(
            link::decode(LinkType::Ieee80211, &[0x08, 0]),
            Err(DecodeError::TruncatedLink)
        );
    }

    #[test]
    fn amsdu_first_subframe() {
        let mut f = qos_data_to_ds(FC_TO_DS);
        f[24] = QOS_AMSDU;
        let body = f.split_off(26);
        let mut sub = GW.to_vec();
        sub.extend_from_slice(&STA);
        sub.extend_from_slice(&(body.len() as u16).to_be_bytes());
        f.extend_from_slice(&sub);
        f.extend_from_slice(&body);
        expect_udp(&link::decode(LinkType::Ieee80211, &f).unwrap());
    }

    #[test]
    fn radiotap_bad_lengths_and_extended_presence() {
        assert_eq!(
            link::decode(LinkType::Ieee80211Radiotap, &[0, 0, 40, 0, 0, 0, 0, 0]),
            Err(DecodeError::TruncatedLink)
        );
        assert_eq!(
            link::decode(LinkType::Ieee80211Radiotap, &[0, 0, 4, 0, 0, 0, 0, 0]),
            Err(DecodeError::TruncatedLink)
        );
        // Two presence words (bit 31 in the first), no TSFT, Flags at offset 12.
        let h = [0, 0, 13, 0, 0x02, 0, 0, 0x80, 0, 0, 0, 0, RT_FLAG_FCS];
        assert_eq!(radiotap_flags(&h), Some(RT_FLAG_FCS));
        // Every word sets the extension bit: the walk stops.
        let mut h = vec![0, 0, 0, 0];
        for _ in 0..20 {
            h.extend_from_slice(&[0x02, 0, 0, 0x80]);
        }
        assert_eq!(radiotap_flags(&h), None);
    }
}
