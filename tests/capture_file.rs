//! `FileSource` against the real captures of the shared corpus (`../shared/corpus`, see its
//! README): frame counts and first/last timestamps equal tshark's (`capture.packets`,
//! `first_ts`, `last_ts` of each expected JSON), link types match, frame bytes equal an
//! independent walk of the file, and truncated copies of real files fail at the right packet.
//!
//! The corpus path can be overridden with `PHONEHOME_CORPUS`; when it is absent the tests print
//! why and pass without checking.

use std::path::{Path, PathBuf};

use phonehome::capture::{CaptureError, FileSource};
use phonehome::decode::LinkType;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PHONEHOME_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")));
    if dir.join("expected").is_dir() {
        Some(dir)
    } else {
        println!("skipped: corpus not found at {}", dir.display());
        None
    }
}

/// (ts, len, orig_len) of every frame, and the error that ended the file, if any.
type Read = (Vec<(i64, usize, u32)>, Option<CaptureError>);

fn read_all(path: &Path) -> Read {
    let mut src = FileSource::open(path).unwrap_or_else(|e| panic!("open: {e}"));
    let mut frames = Vec::new();
    while let Some(r) = src.next_frame() {
        match r {
            Ok(f) => frames.push((f.ts, f.data.len(), f.orig_len)),
            Err(e) => {
                assert!(src.next_frame().is_none());
                return (frames, Some(e));
            }
        }
    }
    assert_eq!(src.packets(), frames.len() as u64);
    (frames, None)
}

fn micros(v: &serde_json::Value) -> i64 {
    (v.as_f64().expect("timestamp") * 1e6).round() as i64
}

#[test]
fn every_corpus_capture_reads_like_tshark() {
    let Some(dir) = corpus() else { return };
    let mut cases = 0;
    for entry in std::fs::read_dir(dir.join("expected")).unwrap() {
        let path = entry.unwrap().path();
        let exp: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let case = exp["case"].as_str().unwrap().to_string();
        let cap = &exp["capture"];
        let pcap = dir.join(exp["pcap"].as_str().unwrap());
        let (frames, err) = read_all(&pcap);
        assert!(err.is_none(), "{case}: {err:?}");
        assert_eq!(
            frames.len() as u64,
            cap["packets"].as_u64().unwrap(),
            "{case}"
        );
        if let (Some(first), Some(last)) = (frames.first(), frames.last()) {
            assert!(
                (first.0 - micros(&cap["first_ts"])).abs() <= 1,
                "{case}: first {}",
                first.0
            );
            assert!(
                (last.0 - micros(&cap["last_ts"])).abs() <= 1,
                "{case}: last {}",
                last.0
            );
        } else {
            assert!(cap.get("first_ts").is_none(), "{case}");
        }
        let want = match cap["link_type"].as_str().unwrap() {
            "ether" => LinkType::Ethernet,
            "nflog" => LinkType::Nflog,
            "linux-sll" => LinkType::LinuxSll,
            other => panic!("{case}: link type {other} not mapped in this test"),
        };
        let mut src = FileSource::open(&pcap).unwrap();
        while let Some(f) = src.next_frame() {
            assert_eq!(f.unwrap().link, want, "{case}");
        }
        cases += 1;
    }
    assert_eq!(cases, 48, "the corpus README lists 48 cases");
}

/// Record offsets of a little-endian µs pcap (24-byte header, 16-byte record headers), walked
/// independently of the reader under test: (header offset, incl_len).
fn pcap_records(bytes: &[u8]) -> Vec<(usize, usize)> {
    assert_eq!(&bytes[..4], b"\xd4\xc3\xb2\xa1");
    let mut out = Vec::new();
    let mut off = 24;
    while off < bytes.len() {
        let incl = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
        out.push((off, incl));
        off += 16 + incl;
    }
    out
}

#[test]
fn frame_bytes_equal_the_file_records() {
    let Some(dir) = corpus() else { return };
    for name in [
        "http-get-basic.pcap",
        "phone-iphone-gtp-tunnel.pcap",
        "http-nflog-linktype.pcap",
    ] {
        let path = dir.join("pcaps").join(name);
        let bytes = std::fs::read(&path).unwrap();
        let recs = pcap_records(&bytes);
        let mut src = FileSource::open(&path).unwrap();
        for (i, (off, incl)) in recs.iter().enumerate() {
            let f = src.next_frame().expect("frame").unwrap();
            assert_eq!(
                f.data,
                &bytes[off + 16..off + 16 + incl],
                "{name} frame {}",
                i + 1
            );
        }
        assert!(src.next_frame().is_none(), "{name}");
    }
}

/// The corpus "truncated" cases are cut at the packet level (snap length), not at the file
/// level: tshark reads one whole record from each, and so must we, with the short data.
#[test]
fn corpus_snaplen_truncations_are_whole_records() {
    let Some(dir) = corpus() else { return };
    // trunc-capture-record: snaplen 1 in the file header, yet an 8-byte record of a 78-byte
    // frame; trunc-ipv4-header: 20 of 46 bytes.
    for (name, len, orig) in [
        ("trunc-capture-record.pcap", 8, 78),
        ("trunc-ipv4-header.pcap", 20, 46),
    ] {
        let (frames, err) = read_all(&dir.join("pcaps").join(name));
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(
            frames.iter().map(|f| (f.1, f.2)).collect::<Vec<_>>(),
            vec![(len, orig)],
            "{name}"
        );
    }
}

/// Asserts `path` yields `good` frames then a `Packet` error numbered `good + 1` whose message
/// names the file.
fn assert_cut(path: &Path, good: usize, what: &str) {
    let (frames, err) = read_all(path);
    assert_eq!(frames.len(), good, "{what}");
    let err = err.unwrap_or_else(|| panic!("{what}: no error"));
    let msg = err.to_string();
    match err {
        CaptureError::Packet { packet, .. } => assert_eq!(packet, good as u64 + 1, "{what}: {msg}"),
        other => panic!("{what}: wrong error {other:?}"),
    }
    let name = path.display().to_string();
    assert!(
        msg.starts_with(&format!("{name}: packet {}: ", good + 1)),
        "{what}: {msg}"
    );
    assert!(msg.contains("truncated"), "{what}: {msg}");
}

#[test]
fn truncated_copies_of_a_real_pcap_fail_at_the_right_packet() {
    let Some(dir) = corpus() else { return };
    let bytes = std::fs::read(dir.join("pcaps/http-get-basic.pcap")).unwrap();
    let recs = pcap_records(&bytes);
    assert_eq!(recs.len(), 14);
    let tmp = tempfile::tempdir().unwrap();
    for k in [1usize, 2, 7, 14] {
        let (off, incl) = recs[k - 1];
        for (what, cut) in [("mid-header", off + 7), ("mid-data", off + 16 + incl / 2)] {
            let path = tmp.path().join(format!("cut-{k}-{what}.pcap"));
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert_cut(&path, k - 1, &format!("record {k} {what}"));
        }
        // A cut exactly before record k is a valid, shorter file.
        let path = tmp.path().join(format!("whole-{k}.pcap"));
        std::fs::write(&path, &bytes[..off]).unwrap();
        let (frames, err) = read_all(&path);
        assert!(
            err.is_none() && frames.len() == k - 1,
            "boundary {k}: {err:?}"
        );
    }
}

#[test]
fn truncated_copy_of_a_real_pcapng_fails_at_the_right_packet() {
    let Some(dir) = corpus() else { return };
    let bytes = std::fs::read(dir.join("pcaps/tls-many-sni-chrome-with-quic.pcapng")).unwrap();
    // Walk the blocks (little-endian file): remember where each EPB starts.
    let mut epbs = Vec::new();
    let mut off = 0;
    while off < bytes.len() {
        let ty = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as usize;
        if ty == 6 {
            epbs.push((off, len));
        }
        off += len;
    }
    assert_eq!(epbs.len(), 84);
    let tmp = tempfile::tempdir().unwrap();
    for k in [1usize, 40, 84] {
        let (off, len) = epbs[k - 1];
        for (what, cut) in [("mid-header", off + 10), ("mid-data", off + len / 2)] {
            let path = tmp.path().join(format!("cut-{k}-{what}.pcapng"));
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert_cut(&path, k - 1, &format!("pcapng block {k} {what}"));
        }
    }
}
