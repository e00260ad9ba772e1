//! A classic-pcap writer for synthetic Ethernet captures.
//!
//! Writes the 24-byte global header and 16-byte record headers itself (little-endian,
//! LINKTYPE_ETHERNET, microsecond timestamps) rather than through `pcap-file`'s `PcapWriter`:
//! writing into a `Vec` then cannot fail, so [`PcapBuilder::finish`] returns plain bytes, and
//! the byte order is fixed whatever the host, which keeps committed fixtures reproducible.
//! Tests read the output back with `pcap-file` as an independent check.
//!
//! Invariant: records come out sorted by timestamp (stable, so frames pushed with equal
//! timestamps keep their order); frames longer than [`SNAPLEN`] are cut, with the original
//! length kept in the record header as a capture tool would.

use crate::event::{Ts, MICROS};

/// pcap LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Snapshot length written in the header; longer frames are truncated to it.
pub const SNAPLEN: u32 = 262_144;
/// Classic pcap magic for microsecond timestamps.
const MAGIC_MICROS: u32 = 0xa1b2_c3d4;

/// Collects Ethernet frames with their timestamps and renders a classic pcap file.
#[derive(Clone, Debug, Default)]
pub struct PcapBuilder {
    frames: Vec<(Ts, Vec<u8>)>,
}

impl PcapBuilder {
    /// An empty capture.
    pub fn new() -> PcapBuilder {
        PcapBuilder::default()
    }

    /// Adds one Ethernet frame captured at `ts` (microseconds since the Unix epoch).
    pub fn push(&mut self, ts: Ts, frame: Vec<u8>) {
        self.frames.push((ts, frame));
    }

    /// Number of frames collected.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when no frame was collected.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The frames collected so far, in push order.
    pub fn frames(&self) -> &[(Ts, Vec<u8>)] {
        &self.frames
    }

    /// Renders the pcap file. Timestamps before 1970 are written as 0 and those past 2106 as
    /// the last representable second.
    pub fn finish(mut self) -> Vec<u8> {
        self.frames.sort_by_key(|(ts, _)| *ts);
        let body: usize = self.frames.iter().map(|(_, f)| 16 + f.len()).sum();
        let mut out = Vec::with_capacity(24 + body);
        out.extend_from_slice(&MAGIC_MICROS.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&SNAPLEN.to_le_bytes());
        out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        for (ts, frame) in &self.frames {
            let ts = (*ts).max(0);
            let secs = u32::try_from(ts / MICROS).unwrap_or(u32::MAX);
            let micros = u32::try_from(ts % MICROS).unwrap_or(0);
            let orig_len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
            let incl_len = orig_len.min(SNAPLEN);
            let kept = frame.get(..incl_len as usize).unwrap_or(frame);
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&micros.to_le_bytes());
            out.extend_from_slice(&incl_len.to_le_bytes());
            out.extend_from_slice(&orig_len.to_le_bytes());
            out.extend_from_slice(kept);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_capture_is_the_24_byte_header() {
        let b = PcapBuilder::new().finish();
        assert_eq!(
            hex::encode(&b),
            concat!("d4c3b2a1", "02000400", "00000000", "00000000", "00000400", "01000000")
        );
    }

    #[test]
    fn records_sorted_and_read_back_by_pcap_file() {
        let mut b = PcapBuilder::new();
        b.push(1_700_000_000_250_000, vec![2u8; 60]);
        b.push(1_700_000_000_000_001, vec![1u8; 61]);
        b.push(-5, vec![0u8; 1]);
        let bytes = b.finish();
        let mut r = pcap_file::pcap::PcapReader::new(&bytes[..]).expect("header");
        assert_eq!(r.header().datalink, pcap_file::DataLink::ETHERNET);
        assert_eq!(
            r.header().ts_resolution,
            pcap_file::TsResolution::MicroSecond
        );
        let mut got = Vec::new();
        while let Some(p) = r.next_packet() {
            let p = p.expect("record");
            got.push((
                p.timestamp.as_micros(),
                p.data.len(),
                p.data.first().copied(),
            ));
        }
        assert_eq!(
            got,
            vec![
                (0, 1, Some(0)),
                (1_700_000_000_000_001, 61, Some(1)),
                (1_700_000_000_250_000, 60, Some(2))
            ]
        );
    }

    #[test]
    fn frames_over_snaplen_are_cut_keeping_orig_len() {
        let mut b = PcapBuilder::new();
        b.push(0, vec![7u8; SNAPLEN as usize + 10]);
        let bytes = b.finish();
        assert_eq!(bytes.len(), 24 + 16 + SNAPLEN as usize);
        assert_eq!(bytes[32..36], SNAPLEN.to_le_bytes());
        assert_eq!(bytes[36..40], (SNAPLEN + 10).to_le_bytes());
    }
}
