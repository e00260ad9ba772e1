//! Robustness of the lower-layer decoders: `decode_frame` and `transport::parse` must never
//! panic, and every slice they return must lie inside the input, whatever the bytes.
//!
//! Two sources of input: proptest-generated frames for every link type (pure random bytes,
//! and random bytes behind a valid link/IP header so the deeper layers are reached), and
//! every frame of every corpus capture mutated deterministically (truncation at every
//! length, every bit of the headers flipped, a byte inserted at every header offset) and
//! randomly. The corpus part is skipped, with a message, when `../shared/corpus` is absent.

use std::path::{Path, PathBuf};

use phonehome::decode::link::MAX_TUNNEL_DEPTH;
use phonehome::decode::{decode_frame, transport, LinkType, Net, Packet, Transport};
use proptest::prelude::*;

/// Every link type the decoder accepts.
const LINKS: [LinkType; 11] = [
    LinkType::Ethernet,
    LinkType::RawIp,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Nflog,
    LinkType::Ieee80211,
    LinkType::Ieee80211Radiotap,
    LinkType::Null,
    LinkType::Loop,
];

/// Header bytes mutated exhaustively (bit flips, insertions): covers link + IP + transport
/// headers of every corpus frame (SLL 16 + IPv4 20 + UDP 8 + GTP 12 + IPv6 40 + TCP 32).
const HEADER_SPAN: usize = 128;

/// True when `inner` lies within `outer` (same allocation, in bounds).
fn within(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    inner.is_empty() || (o.start <= i.start && i.end <= o.end)
}

fn check_transport(frame: &[u8], t: &Transport<'_>) {
    match t {
        Transport::Tcp(s) => assert!(within(frame, s.payload)),
        Transport::Udp(d) => assert!(within(frame, d.payload)),
        _ => {}
    }
}

/// Decodes `frame` and checks the invariants of a successful result.
fn decode_checked(link: LinkType, frame: &[u8]) {
    if let Ok(p) = decode_frame(link, frame) {
        check_packet(frame, &p);
    }
}

fn check_packet(frame: &[u8], p: &Packet<'_>) {
    assert!(p.tunnel_depth <= MAX_TUNNEL_DEPTH);
    if let Net::Ip(ip) = &p.net {
        assert!(within(frame, ip.payload));
        check_transport(frame, &ip.transport);
        assert_eq!(ip.fragment.is_some(), ip.transport == Transport::Fragment);
        // The flow layer re-parses reassembled payloads with the lenient entry point.
        let t = transport::parse(ip.proto, ip.payload);
        check_transport(frame, &t);
    }
}

/// A valid header for `link` that leads to an IPv4 (`v6` false) or IPv6 packet, so random
/// bytes after it exercise the IP and transport decoders.
fn header_for(link: LinkType, v6: bool) -> Vec<u8> {
    let et: [u8; 2] = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
    let af = if v6 { 10u8 } else { 2 };
    match link {
        LinkType::Ethernet => [&[0x02; 12][..], &et].concat(),
        LinkType::LinuxSll => [&[0, 0, 0, 1, 0, 6][..], &[0x02; 8], &et].concat(),
        LinkType::LinuxSll2 => [&et[..], &[0, 0, 0, 0, 0, 1, 0, 1, 0, 6], &[0x02; 8]].concat(),
        LinkType::Nflog => vec![af, 0, 0, 0, 0xff, 0x7f, 9, 0],
        LinkType::Null => vec![af, 0, 0, 0],
        LinkType::Loop => vec![0, 0, 0, af],
        LinkType::Ieee80211 | LinkType::Ieee80211Radiotap => {
            let rt: &[u8] = if link == LinkType::Ieee80211 {
                &[]
            } else {
                &[0, 0, 9, 0, 2, 0, 0, 0, 0x10]
            };
            [
                rt,
                &[0x88, 0x01, 0, 0],
                &[0x02; 18],
                &[0; 4],
                &[0xaa, 0xaa, 3, 0, 0, 0],
                &et,
            ]
            .concat()
        }
        LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => Vec::new(),
    }
}

/// Random bytes that start like an IPv4 (IHL 5, length from the bytes) or IPv6 packet.
fn ip_like() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..160),
    )
        .prop_map(|(v6, mut b)| {
            if let Some(first) = b.first_mut() {
                *first = if v6 { 0x60 } else { 0x45 };
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_every_link_type(link in 0..LINKS.len(), data in proptest::collection::vec(any::<u8>(), 0..300)) {
        decode_checked(LINKS[link], &data);
    }

    #[test]
    fn random_ip_behind_valid_link_header(link in 0..LINKS.len(), ip in ip_like(), proto in any::<u8>()) {
        let v6 = ip.first() == Some(&0x60);
        let mut frame = header_for(LINKS[link], v6);
        let mut ip = ip;
        // Steer the protocol field towards TCP/UDP/ICMP/GTP-carrying headers.
        let proto_at = if v6 { 6 } else { 9 };
        if let Some(p) = ip.get_mut(proto_at) {
            *p = [6, 17, 1, 58, 0, 44, 4, 41, proto][usize::from(proto % 9)];
        }
        frame.extend_from_slice(&ip);
        decode_checked(LINKS[link], &frame);
    }

    #[test]
    fn random_transport(proto in any::<u8>(), data in proptest::collection::vec(any::<u8>(), 0..80)) {
        let t = transport::parse(proto, &data);
        check_transport(&data, &t);
    }
}

// ---- Corpus mutations ----------------------------------------------------------------------

/// `../shared/corpus` beside the repository, or two levels up (a git worktree).
fn corpus() -> Option<PathBuf> {
    let candidates = [
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"),
    ];
    let found = candidates.iter().map(PathBuf::from).find(|d| d.is_dir());
    if found.is_none() {
        println!(
            "skipping corpus mutation tests: no corpus at {}",
            candidates[0]
        );
    }
    found
}

/// Every frame of every capture in the corpus, with its link type.
fn corpus_frames(dir: &Path) -> Vec<(LinkType, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("pcaps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        if path.extension().is_some_and(|e| e == "pcapng") {
            let mut r = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).unwrap();
            let mut frames = Vec::new();
            while let Some(block) = r.next_block() {
                if let Some(epb) = block.unwrap().into_enhanced_packet() {
                    frames.push(epb.data.into_owned());
                }
            }
            let link = LinkType::from_linktype(u32::from(r.interfaces()[0].linktype)).unwrap();
            out.extend(frames.into_iter().map(|f| (link, f)));
        } else {
            let mut r = pcap_file::pcap::PcapReader::new(&bytes[..]).unwrap();
            let link = LinkType::from_linktype(u32::from(r.header().datalink)).unwrap();
            while let Some(p) = r.next_raw_packet() {
                out.push((link, p.unwrap().data.into_owned()));
            }
        }
    }
    out
}

#[test]
fn corpus_frames_truncated_at_every_length() {
    let Some(dir) = corpus() else { return };
    let frames = corpus_frames(&dir);
    assert!(frames.len() >= 2600, "{} frames", frames.len());
    for (link, f) in &frames {
        for len in 0..=f.len() {
            decode_checked(*link, &f[..len]);
        }
    }
}

#[test]
fn corpus_frames_with_every_header_bit_flipped() {
    let Some(dir) = corpus() else { return };
    for (link, mut f) in corpus_frames(&dir) {
        for byte in 0..f.len().min(HEADER_SPAN) {
            for bit in 0..8 {
                f[byte] ^= 1 << bit;
                decode_checked(link, &f);
                f[byte] ^= 1 << bit;
            }
        }
    }
}

#[test]
fn corpus_frames_with_a_byte_inserted_at_every_header_offset() {
    let Some(dir) = corpus() else { return };
    let mut buf = Vec::new();
    for (link, f) in corpus_frames(&dir) {
        for at in 0..=f.len().min(HEADER_SPAN) {
            for value in [0x00, 0x45, 0xff] {
                buf.clear();
                buf.extend_from_slice(&f[..at]);
                buf.push(value);
                buf.extend_from_slice(&f[at..]);
                decode_checked(link, &buf);
            }
        }
    }
}

/// Random compound mutations (several flips, an overwrite, a cut) of random corpus frames.
#[test]
fn corpus_frames_randomly_mutated() {
    let Some(dir) = corpus() else { return };
    let frames = corpus_frames(&dir);
    let n = frames.len();
    let strategy = (
        0..n,
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        any::<prop::sample::Index>(),
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 4096,
        ..ProptestConfig::default()
    });
    runner
        .run(&strategy, |(i, edits, cut)| {
            let (link, ref frame) = frames[i];
            let mut f = frame.clone();
            if !f.is_empty() {
                for (at, v) in &edits {
                    let at = at.index(f.len().min(HEADER_SPAN));
                    f[at] ^= v;
                }
                f.truncate(cut.index(f.len() + 1));
            }
            decode_checked(link, &f);
            Ok(())
        })
        .unwrap();
}
