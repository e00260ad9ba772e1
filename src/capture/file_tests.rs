//! Unit tests of [`super::FileSource`] on synthetic files built byte by byte here: every pcap
//! magic, pcapng with several interfaces / resolutions / byte orders / block kinds, and the
//! error paths. Corpus files are exercised by `tests/capture_file.rs`.

use super::*;
use crate::capture::CaptureError;

/// A record for the synthetic writers: (seconds, fraction, data, orig_len).
type Rec<'a> = (u32, u32, &'a [u8], u32);

fn u16b(v: u16, be: bool) -> [u8; 2] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}
fn u32b(v: u32, be: bool) -> [u8; 4] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// A classic pcap file.
fn pcap(be: bool, nanos: bool, linktype: u32, recs: &[Rec<'_>]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u32b(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }, be));
    v.extend(u16b(2, be));
    v.extend(u16b(4, be));
    v.extend([0u8; 8]);
    v.extend(u32b(65535, be));
    v.extend(u32b(linktype, be));
    for (s, f, data, orig) in recs {
        v.extend(u32b(*s, be));
        v.extend(u32b(*f, be));
        v.extend(u32b(data.len() as u32, be));
        v.extend(u32b(*orig, be));
        v.extend(*data);
    }
    v
}

/// One pcapng block: type, body (padded here), trailing length.
fn block(be: bool, ty: u32, body: &[u8]) -> Vec<u8> {
    let mut padded = body.to_vec();
    while padded.len() % 4 != 0 {
        padded.push(0);
    }
    let total = 12 + padded.len() as u32;
    let mut v = Vec::new();
    v.extend(u32b(ty, be));
    v.extend(u32b(total, be));
    v.extend(padded);
    v.extend(u32b(total, be));
    v
}

fn shb(be: bool) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(u32b(0x1a2b_3c4d, be));
    b.extend(u16b(1, be));
    b.extend(u16b(0, be));
    b.extend([0xffu8; 8]);
    block(be, 0x0a0d_0d0a, &b)
}

/// An IDB with optional if_tsresol and if_tsoffset options.
fn idb(be: bool, linktype: u16, snaplen: u32, tsresol: Option<u8>, offset: Option<i64>) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(u16b(linktype, be));
    b.extend([0, 0]);
    b.extend(u32b(snaplen, be));
    if let Some(r) = tsresol {
        b.extend(u16b(9, be));
        b.extend(u16b(1, be));
        b.extend([r, 0, 0, 0]);
    }
    if let Some(o) = offset {
        b.extend(u16b(14, be));
        b.extend(u16b(8, be));
        b.extend(if be { o.to_be_bytes() } else { o.to_le_bytes() });
    }
    if tsresol.is_some() || offset.is_some() {
        b.extend([0u8; 4]); // opt_endofopt
    }
    block(be, 1, &b)
}

fn epb(be: bool, if_id: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(u32b(if_id, be));
    b.extend(u32b((ts >> 32) as u32, be));
    b.extend(u32b(ts as u32, be));
    b.extend(u32b(data.len() as u32, be));
    b.extend(u32b(orig, be));
    b.extend(data);
    block(be, 6, &b)
}

fn spb(be: bool, data: &[u8]) -> Vec<u8> {
    let mut b = u32b(data.len() as u32, be).to_vec();
    b.extend(data);
    block(be, 3, &b)
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Reads every frame as (ts, link, data, orig_len), plus the final error if any.
type Frames = Vec<(Ts, LinkType, Vec<u8>, u32)>;
fn read_all(src: &mut FileSource) -> (Frames, Option<CaptureError>) {
    let mut out = Vec::new();
    while let Some(r) = src.next_frame() {
        match r {
            Ok(f) => out.push((f.ts, f.link, f.data.to_vec(), f.orig_len)),
            Err(e) => {
                assert!(src.next_frame().is_none(), "source must end after an error");
                return (out, Some(e));
            }
        }
    }
    (out, None)
}

#[test]
fn pcap_all_magics_and_byte_orders() {
    let dir = tempfile::tempdir().unwrap();
    for be in [false, true] {
        for nanos in [false, true] {
            let frac = if nanos { 123_456_789 } else { 123_456 };
            let bytes = pcap(
                be,
                nanos,
                1,
                &[
                    (1_700_000_000, frac, b"abcdefghijklmn", 60),
                    (1_700_000_001, 0, b"xy", 2),
                ],
            );
            let p = write(&dir, "a.pcap", &bytes);
            let mut src = FileSource::open(&p).unwrap();
            let (frames, err) = read_all(&mut src);
            assert!(err.is_none(), "be={be} nanos={nanos}: {err:?}");
            assert_eq!(
                frames,
                vec![
                    (
                        1_700_000_000_123_456,
                        LinkType::Ethernet,
                        b"abcdefghijklmn".to_vec(),
                        60
                    ),
                    (1_700_000_001_000_000, LinkType::Ethernet, b"xy".to_vec(), 2),
                ],
                "be={be} nanos={nanos}"
            );
            assert_eq!(src.packets(), 2);
        }
    }
}

#[test]
fn pcapng_interfaces_resolutions_and_skipped_blocks() {
    let dir = tempfile::tempdir().unwrap();
    for be in [false, true] {
        let mut f = shb(be);
        f.extend(idb(be, 1, 0, None, None)); // Ethernet, µs
        f.extend(idb(be, 101, 0, Some(9), Some(100))); // raw IP, ns, +100 s
        f.extend(idb(be, 113, 0, Some(0x80 | 20), None)); // SLL, 2^-20 s
        f.extend(epb(be, 0, 1_600_000_000_250_000, b"eth-frame", 100));
        f.extend(block(be, 4, &[0u8; 8])); // name resolution block: skipped
        f.extend(epb(be, 1, 1_600_000_000_000_000_999, b"ip", 2));
        f.extend(block(be, 5, &[0u8; 16])); // interface statistics: skipped
        f.extend(block(be, 0x0000_0bad, &[0u8; 8])); // custom block: skipped
        f.extend(epb(be, 2, 3 << 20, b"sll!", 4));
        f.extend(spb(be, b"simple"));
        let p = write(&dir, "a.pcapng", &f);
        let mut src = FileSource::open(&p).unwrap();
        let (frames, err) = read_all(&mut src);
        assert!(err.is_none(), "be={be}: {err:?}");
        assert_eq!(
            frames,
            vec![
                (
                    1_600_000_000_250_000,
                    LinkType::Ethernet,
                    b"eth-frame".to_vec(),
                    100
                ),
                (1_600_000_100_000_000, LinkType::RawIp, b"ip".to_vec(), 2),
                (3_000_000, LinkType::LinuxSll, b"sll!".to_vec(), 4),
                (0, LinkType::Ethernet, b"simple".to_vec(), 6),
            ],
            "be={be}"
        );
    }
}

#[test]
fn pcapng_new_section_resets_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, None, None));
    f.extend(epb(false, 0, 1, b"one", 3));
    f.extend(shb(true));
    f.extend(idb(true, 101, 0, None, None));
    f.extend(epb(true, 0, 2, b"two", 3));
    f.extend(epb(true, 1, 3, b"bad", 3)); // interface 1 is not declared in this section
    let p = write(&dir, "s.pcapng", &f);
    let mut src = FileSource::open(&p).unwrap();
    let (frames, err) = read_all(&mut src);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].1, LinkType::RawIp);
    match err {
        Some(CaptureError::Packet { packet, msg, .. }) => {
            assert_eq!(packet, 3);
            assert!(msg.contains("undeclared interface 1"), "{msg}");
        }
        other => panic!("expected a packet error, got {other:?}"),
    }
}

#[test]
fn unsupported_link_types_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "usb.pcap", &pcap(false, false, 189, &[]));
    let e = FileSource::open(&p)
        .err()
        .expect("link type 189 must be refused");
    let msg = e.to_string();
    assert!(
        msg.contains("usb.pcap") && msg.contains("unsupported link type 189"),
        "{msg}"
    );

    let mut f = shb(false);
    f.extend(idb(false, 1, 0, None, None));
    f.extend(idb(false, 147, 0, None, None));
    f.extend(epb(false, 0, 1, b"ok", 2));
    f.extend(epb(false, 1, 2, b"user", 4));
    let p = write(&dir, "mixed.pcapng", &f);
    let mut src = FileSource::open(&p).unwrap();
    let (frames, err) = read_all(&mut src);
    assert_eq!(frames.len(), 1);
    let msg = err.expect("unsupported interface").to_string();
    assert!(
        msg.contains("mixed.pcapng")
            && msg.contains("link type 147")
            && msg.contains("interface 1"),
        "{msg}"
    );
}

#[test]
fn oversized_record_is_an_error_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = pcap(false, false, 1, &[(1, 0, b"first", 5)]);
    // A record header claiming 300 KiB, followed by that many bytes.
    bytes.extend(1u32.to_le_bytes());
    bytes.extend(0u32.to_le_bytes());
    bytes.extend((300u32 * 1024).to_le_bytes());
    bytes.extend((300u32 * 1024).to_le_bytes());
    bytes.extend(vec![0u8; 300 * 1024]);
    let p = write(&dir, "big.pcap", &bytes);
    let (frames, err) = read_all(&mut FileSource::open(&p).unwrap());
    assert_eq!(frames.len(), 1);
    match err {
        Some(CaptureError::Packet { packet: 2, msg, .. }) => {
            assert!(msg.contains("307200"), "{msg}")
        }
        other => panic!("expected packet 2 error, got {other:?}"),
    }

    // A length far beyond the read buffer: refused without reading on.
    let mut bytes = pcap(false, false, 1, &[]);
    bytes.extend([0u8; 8]);
    bytes.extend(u32::MAX.to_le_bytes());
    bytes.extend(u32::MAX.to_le_bytes());
    let p = write(&dir, "huge.pcap", &bytes);
    let (frames, err) = read_all(&mut FileSource::open(&p).unwrap());
    assert!(frames.is_empty());
    assert!(
        matches!(err, Some(CaptureError::Packet { packet: 1, .. })),
        "{err:?}"
    );
}

#[test]
fn not_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, want) in [
        ("empty.pcap", &b""[..], "only 0 bytes"),
        ("short.pcap", &b"\xd4\xc3"[..], "only 2 bytes"),
        (
            "text.pcap",
            &b"hello world, not a pcap"[..],
            "magic 0x6c6c6568",
        ),
        ("head.pcap", &b"\xd4\xc3\xb2\xa1\x02\x00"[..], "header"),
    ] {
        let p = write(&dir, name, bytes);
        let msg = FileSource::open(&p).err().expect(name).to_string();
        assert!(msg.contains(name) && msg.contains(want), "{msg}");
    }
    let missing = dir.path().join("missing.pcap");
    let msg = FileSource::open(&missing).err().unwrap().to_string();
    assert!(
        msg.contains("missing.pcap") && msg.contains("cannot open"),
        "{msg}"
    );
}

#[test]
fn resolution_and_timestamp_arithmetic() {
    assert_eq!(units_per_second(6), Some(1_000_000));
    assert_eq!(units_per_second(9), Some(1_000_000_000));
    assert_eq!(units_per_second(0x80 | 10), Some(1024));
    assert_eq!(units_per_second(20), None);
    assert_eq!(units_per_second(0x80 | 64), None);
    assert_eq!(ng_micros(1_500, 1_000, 0), 1_500_000);
    assert_eq!(ng_micros(u64::MAX, 1, i64::MAX), i64::MAX);
    assert_eq!(ng_micros(0, 1_000_000, i64::MIN), i64::MIN);
}

/// Every single-byte corruption and every truncation of a small pcapng and pcap ends in frames
/// or an error: no panic, no endless loop.
#[test]
fn corrupted_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut ng = shb(false);
    ng.extend(idb(false, 1, 0, Some(9), Some(5)));
    ng.extend(epb(false, 0, 77, b"0123456789", 10));
    ng.extend(spb(false, b"abc"));
    let pc = pcap(
        true,
        true,
        1,
        &[(5, 6, b"0123456789", 10), (7, 8, b"xyz", 3)],
    );
    for (i, base) in [ng, pc].iter().enumerate() {
        for pos in 0..base.len() {
            for val in [0x00u8, 0xff, 0x7f, 0x80] {
                let mut bytes = base.clone();
                bytes[pos] = val;
                let p = write(&dir, &format!("m{i}.cap"), &bytes);
                if let Ok(mut src) = FileSource::open_with_buffer(&p, 4096) {
                    let mut n = 0;
                    while src.next_frame().is_some() {
                        n += 1;
                        assert!(n < 100, "runaway iterator at byte {pos}");
                    }
                }
            }
            let p = write(&dir, &format!("t{i}.cap"), &base[..pos]);
            if let Ok(mut src) = FileSource::open_with_buffer(&p, 4096) {
                while src.next_frame().is_some() {}
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 256, ..Default::default() })]

    /// Arbitrary bytes after a valid pcap header or pcapng section+interface: frames or one
    /// error, each frame within its limits, and an end.
    #[test]
    fn arbitrary_bodies_end_cleanly(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600), ng in proptest::bool::ANY) {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = if ng {
            let mut b = shb(false);
            b.extend(idb(false, 1, 0, None, None));
            b
        } else {
            pcap(false, false, 1, &[])
        };
        bytes.extend(&tail);
        let p = write(&dir, "p.cap", &bytes);
        let mut src = FileSource::open_with_buffer(&p, 4096).unwrap();
        let mut n = 0;
        while let Some(r) = src.next_frame() {
            if let Ok(f) = r {
                proptest::prop_assert!(f.data.len() <= tail.len());
            }
            n += 1;
            proptest::prop_assert!(n <= tail.len() / 12 + 2, "more frames than records fit");
        }
    }
}
