//! The integrated core ([`Pipeline::ingest`] / [`Pipeline::finish`]) cannot be made to panic,
//! loop or grow without bound.
//!
//! Three kinds of input: (a) random frames for every link type, raw and behind a valid link
//! header so they reach the IP and transport decoders; (b) every frame of every corpus capture
//! (`../shared/corpus/pcaps`; skipped with a message when absent) mutated — truncated, bit
//! flipped, bytes inserted, frames dropped, duplicated and swapped — plus TCP streams whose
//! segments are reordered and duplicated, which must give exactly the records of the intact
//! capture; (c) adversarial sequences, each checking its bound: flow, DNS and fragment floods,
//! an endless HTTP head, a chunked body with giant chunk sizes, a TLS record claiming 16 MB.
//!
//! Every run checks the invariants in [`check`]: held state within its named limits, counters
//! consistent, and after `finish()` one flow record per flow ever created and nothing held.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;

use phonehome::capture::file::FileSource;
use phonehome::decode::{self, LinkType, Net, Transport as L4};
use phonehome::event::{Event, FlowEnd, MacAddr, Ts};
use phonehome::flow::defrag::{MAX_BUFFERED_BYTES, MAX_DATAGRAMS};
use phonehome::pipeline::{
    Pipeline, PipelineConfig, MAX_DNS_PENDING, MAX_DNS_PENDING_RECORDS, MAX_QUIC_PENDING,
};
use phonehome::synth::net::{udp_frame, Endpoint};
use phonehome::synth::{dns_query, TcpConversation};
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

/// Runs frames through one pipeline, checking the invariants as it goes.
struct Harness {
    cfg: PipelineConfig,
    pipe: Pipeline,
    events: Vec<Event>,
    ingested: u64,
}

impl Harness {
    fn new(cfg: PipelineConfig) -> Harness {
        Harness {
            cfg,
            pipe: Pipeline::new(cfg),
            events: Vec::new(),
            ingested: 0,
        }
    }

    fn ingest(&mut self, ts: Ts, link: LinkType, frame: &[u8]) {
        let events = &mut self.events;
        self.pipe.ingest(ts, link, frame, &mut |e| events.push(e));
        self.ingested += 1;
        self.check();
    }

    /// Held state within its limits and counters consistent with what went in.
    fn check(&self) {
        let h = self.pipe.held();
        let c = self.pipe.counters();
        assert!(h.flows <= self.cfg.flows.max_flows, "{h:?}");
        assert!(h.fragment_datagrams <= MAX_DATAGRAMS, "{h:?}");
        assert!(h.fragment_bytes <= MAX_BUFFERED_BYTES, "{h:?}");
        assert!(h.dns_queries <= MAX_DNS_PENDING, "{h:?}");
        assert!(h.dns_records <= MAX_DNS_PENDING_RECORDS, "{h:?}");
        assert!(h.quic_connections <= h.flows.min(MAX_QUIC_PENDING), "{h:?}");
        assert_eq!(c.frames, self.ingested);
        assert_eq!(c.decoded + c.decode_errors(), c.frames, "{c:?}");
        assert_eq!(c.flows_active, h.flows as u64);
        assert_eq!(c.tcp_flows + c.udp_flows, c.flows_created, "{c:?}");
        assert!(c.reassembled <= c.fragments, "{c:?}");
    }

    fn flows(&self) -> impl Iterator<Item = &phonehome::event::FlowRecord> {
        self.events.iter().filter_map(|e| match e {
            Event::Flow(f) => Some(f),
            _ => None,
        })
    }

    /// Ends the run: every flow ever created has exactly one record, nothing stays held.
    fn finish(mut self) -> Vec<Event> {
        let events = &mut self.events;
        self.pipe.finish(&mut |e| events.push(e));
        let c = self.pipe.counters();
        let h = self.pipe.held();
        assert_eq!(self.flows().count() as u64, c.flows_created, "{c:?}");
        assert_eq!(
            (h.flows, h.dns_queries, h.dns_records, h.quic_connections),
            (0, 0, 0, 0)
        );
        self.events
    }
}

// ---------------------------------------------------------------- (a) random frames

/// A valid link-layer header for `link` announcing an IPv4 packet (or, for the raw IPv6 type,
/// nothing: the body must start with an IPv6 header).
fn link_header(link: LinkType) -> Vec<u8> {
    let mac = [0x02, 0, 0, 0, 0, 1];
    match link {
        LinkType::Ethernet => [&[0xff; 6][..], &mac, &[0x08, 0x00]].concat(),
        LinkType::LinuxSll => [&[0, 4, 0, 1, 0, 6][..], &mac, &[0, 0, 0x08, 0x00]].concat(),
        LinkType::LinuxSll2 => {
            [&[0x08, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6][..], &mac, &[0, 0]].concat()
        }
        // NFLOG header, then a payload TLV whose length covers the rest (set by the caller).
        LinkType::Nflog => vec![2, 0, 0, 0, 0, 0, 9, 0],
        LinkType::Ieee80211 | LinkType::Ieee80211Radiotap => {
            let rt: &[u8] = if link == LinkType::Ieee80211Radiotap {
                &[0, 0, 8, 0, 0, 0, 0, 0]
            } else {
                &[]
            };
            let hdr = [&[0x08, 0x02, 0, 0][..], &mac, &mac, &mac, &[0, 0]].concat();
            [rt, &hdr, &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]].concat()
        }
        LinkType::Null => vec![2, 0, 0, 0],
        LinkType::Loop => vec![0, 0, 0, 2],
        LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => Vec::new(),
    }
}

/// An IP header (v4 unless `link` is raw IPv6) with the given protocol and a length field
/// covering `body`, so random bodies reach the transport and application decoders.
fn ip_header(link: LinkType, proto: u8, frag: u16, body_len: usize) -> Vec<u8> {
    if link == LinkType::Ipv6 {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(body_len as u16).to_be_bytes());
        h.extend_from_slice(&[proto, 64]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(8));
        return h;
    }
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + body_len) as u16).to_be_bytes());
    h.extend_from_slice(&[0x12, 0x34]);
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 2, 192, 0, 2, 1]);
    h
}

fn structured_frame(link: LinkType, proto: u8, frag: u16, body: &[u8]) -> Vec<u8> {
    let mut f = link_header(link);
    if link == LinkType::Nflog {
        let tlv_len = (4 + 20 + body.len()) as u16;
        f[4..6].copy_from_slice(&tlv_len.to_le_bytes());
    }
    f.extend_from_slice(&ip_header(link, proto, frag, body.len()));
    f.extend_from_slice(body);
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Arbitrary bytes as a frame of every link type, a few frames per pipeline.
    #[test]
    fn random_frames_of_every_link_type(
        frames in prop::collection::vec(
            (0..LINKS.len(), prop::collection::vec(any::<u8>(), 0..600)), 1..8)
    ) {
        let mut h = Harness::new(PipelineConfig::default());
        for (i, (l, f)) in frames.iter().enumerate() {
            h.ingest(i as Ts * 1000, LINKS[*l], f);
        }
        h.finish();
    }

    /// Random transport bodies behind valid link and IP headers (TCP, UDP, ICMP, unknown;
    /// sometimes fragments), aimed at the service ports of every application decoder.
    #[test]
    fn random_transport_behind_valid_headers(
        frames in prop::collection::vec((
            0..LINKS.len(),
            prop::sample::select(vec![6u8, 17, 1, 58, 47]),
            prop::sample::select(vec![0u16, 0x2000, 0x2001, 0x0001]),
            prop::sample::select(vec![53u16, 80, 443, 67, 68, 5353, 2152, 8080]),
            prop::collection::vec(any::<u8>(), 0..400),
        ), 1..12)
    ) {
        let mut h = Harness::new(PipelineConfig::default());
        for (i, (l, proto, frag, port, body)) in frames.iter().enumerate() {
            let mut body = body.clone();
            // Point the transport header at a service port when it is long enough.
            if body.len() >= 4 {
                body[2..4].copy_from_slice(&port.to_be_bytes());
            }
            if *proto == 6 && body.len() >= 13 {
                body[12] = 0x50; // data offset 5
            }
            let f = structured_frame(LINKS[*l], *proto, *frag, &body);
            h.ingest(i as Ts * 1000, LINKS[*l], &f);
        }
        h.finish();
    }
}

// ---------------------------------------------------------------- (b) corpus, mutated

/// One corpus capture: its frames with their link types.
struct Capture {
    name: String,
    frames: Vec<TimedFrame>,
}

/// Every readable frame of every corpus capture (frames up to a read error are kept).
fn corpus() -> &'static [Capture] {
    static CORPUS: OnceLock<Vec<Capture>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pcaps");
        let Ok(rd) = std::fs::read_dir(&dir) else {
            println!("skipped: no corpus at {}", dir.display());
            return Vec::new();
        };
        let mut paths: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        let mut out = Vec::new();
        for p in paths {
            let Ok(mut src) = FileSource::open(&p) else {
                continue;
            };
            let mut frames = Vec::new();
            while let Some(Ok(f)) = src.next_frame() {
                frames.push((f.ts, f.link, f.data.to_vec()));
            }
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            out.push(Capture { name, frames });
        }
        out
    })
}

/// splitmix64: a tiny deterministic generator driven by the proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
}

/// The capture with each frame mutated with probability `rate` ‰ per kind of mutation.
fn mutate(cap: &Capture, seed: u64, rate: u64) -> Vec<TimedFrame> {
    let mut rng = Rng(seed);
    let mut out: Vec<TimedFrame> = Vec::with_capacity(cap.frames.len());
    for (ts, link, f) in &cap.frames {
        let mut f = f.clone();
        if rng.chance(rate) {
            f.truncate(rng.below(f.len() + 1));
        }
        if rng.chance(rate) && !f.is_empty() {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(f.len());
                f[i] ^= 1 << rng.below(8);
            }
        }
        if rng.chance(rate / 2) {
            let at = rng.below(f.len() + 1);
            let ins: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
            f.splice(at..at, ins);
        }
        if rng.chance(rate / 4) {
            continue; // dropped
        }
        if rng.chance(rate / 4) {
            out.push((*ts, *link, f.clone())); // duplicated
        }
        out.push((*ts, *link, f));
        if rng.chance(rate / 2) && out.len() >= 2 {
            let n = out.len();
            let back = rng.below((n - 2).min(6) + 1);
            out.swap(n - 1, n - 2 - back); // moves the frame up to 7 places earlier
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Every corpus capture, mutated: no panic, bounded state, every flow ends.
    #[test]
    fn corpus_frames_mutated(seed in any::<u64>(), rate in prop::sample::select(vec![5u64, 30, 150, 600])) {
        for cap in corpus() {
            let mut h = Harness::new(PipelineConfig::default());
            for (ts, link, f) in mutate(cap, seed ^ cap.name.len() as u64, rate) {
                h.ingest(ts, link, &f);
            }
            h.finish();
        }
    }
}

/// TLS, HTTP and DNS records without their timestamps, as a comparable set.
fn app_records(events: &[Event]) -> BTreeSet<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Tls(r) => Some(format!(
                "tls {}:{} {:?} {}",
                r.client_ip, r.client_port, r.sni, r.ja4
            )),
            Event::Http(r) => Some(format!(
                "http {}:{} {} {} {:?} {}",
                r.client_ip,
                r.client_port,
                r.method,
                r.uri,
                r.host,
                r.body.len()
            )),
            Event::Dns(r) => Some(format!(
                "dns {}:{} {} {} {:?}",
                r.client_ip, r.client_port, r.qname, r.qtype, r.rcode
            )),
            _ => None,
        })
        .collect()
}

/// (src, sport, dst, dport) of a TCP segment carrying data, or of a SYN (`syn` = true).
type Dir = (IpAddr, u16, IpAddr, u16);
/// A captured frame with its time and link type.
type TimedFrame = (Ts, LinkType, Vec<u8>);
fn tcp_dir(link: LinkType, f: &[u8]) -> Option<(Dir, bool, bool)> {
    let p = decode::decode_frame(link, f).ok()?;
    let Net::Ip(ip) = p.net else { return None };
    let L4::Tcp(t) = ip.transport else {
        return None;
    };
    let syn = t.flags & decode::tcp_flags::SYN != 0;
    Some((
        (ip.src, t.src_port, ip.dst, t.dst_port),
        syn,
        !t.payload.is_empty(),
    ))
}

/// Reorders and duplicates data segments of each TCP direction whose SYN was captured (the
/// stream start is then known): a segment may move up to 5 data segments of its own stream
/// later, but never past data of the other direction (causality: a server cannot answer bytes
/// it has not received). Other frames keep their places.
fn shuffle_streams(cap: &Capture, seed: u64) -> Vec<TimedFrame> {
    let mut rng = Rng(seed);
    let mut started: BTreeSet<Dir> = BTreeSet::new();
    let mut out: Vec<TimedFrame> = Vec::new();
    // Data segments held back: (dir, segments of the same dir still to pass, frame).
    let mut held: Vec<(Dir, usize, TimedFrame)> = Vec::new();
    for (ts, link, f) in &cap.frames {
        let item = (*ts, *link, f.clone());
        match tcp_dir(*link, f) {
            Some((d, true, false)) => {
                started.insert(d);
                out.push(item);
            }
            Some((d, false, true)) if started.contains(&d) => {
                // The peer's data answers what it received: what is held the other way
                // goes out first (a response never precedes its request).
                let back = (d.2, d.3, d.0, d.1);
                let (due, keep): (Vec<_>, Vec<_>) = held.drain(..).partition(|h| h.0 == back);
                held = keep;
                out.extend(due.into_iter().map(|h| h.2));
                if rng.chance(200) {
                    out.push(item.clone()); // duplicate now, original later or now
                }
                for h in held.iter_mut().filter(|h| h.0 == d) {
                    h.1 = h.1.saturating_sub(1);
                }
                if rng.chance(300) {
                    held.push((d, 1 + rng.below(5), item));
                } else {
                    out.push(item);
                }
                let (due, keep): (Vec<_>, Vec<_>) = held.drain(..).partition(|h| h.1 == 0);
                held = keep;
                out.extend(due.into_iter().map(|h| h.2));
            }
            _ => out.push(item),
        }
    }
    out.extend(held.into_iter().map(|h| h.2));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Reordered and duplicated TCP segments give exactly the records of the intact capture.
    #[test]
    fn corpus_tcp_streams_reordered_and_duplicated(seed in any::<u64>()) {
        let mut changed = false;
        for cap in corpus() {
            let intact: Vec<_> = cap.frames.iter().map(|(t, l, f)| (*t, *l, f.clone())).collect();
            let run_all = |frames: &[TimedFrame]| {
                let mut h = Harness::new(PipelineConfig::default());
                for (ts, link, f) in frames {
                    h.ingest(*ts, *link, f);
                }
                app_records(&h.finish())
            };
            let shuffled = shuffle_streams(cap, seed);
            changed |= shuffled != intact;
            prop_assert_eq!(run_all(&shuffled), run_all(&intact), "{}", cap.name);
        }
        prop_assert!(changed || corpus().is_empty(), "the shuffle moved nothing");
    }
}

// ---------------------------------------------------------------- (c) adversarial sequences

const PHONE_MAC: MacAddr = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const GW_MAC: MacAddr = MacAddr([0xdc, 0xa6, 0x32, 0x00, 0x00, 0x01]);

fn ep(mac: MacAddr, ip: &str, port: u16) -> Endpoint {
    Endpoint {
        mac,
        ip: ip.parse().unwrap(),
        port,
        ttl: 64,
    }
}

fn phone(port: u16) -> Endpoint {
    ep(PHONE_MAC, "10.0.0.2", port)
}

fn server(port: u16) -> Endpoint {
    ep(GW_MAC, "192.0.2.80", port)
}

fn udp(from: &Endpoint, to: &Endpoint, payload: &[u8]) -> Vec<u8> {
    udp_frame(from, to, 1, payload).unwrap()
}

/// Frames of a TCP connection: handshake, then each client payload as one segment.
fn tcp_client_stream(port: u16, dport: u16, payloads: &[&[u8]]) -> Vec<(Ts, Vec<u8>)> {
    let mut c = TcpConversation::new(phone(port), server(dport), 1_000_000).unwrap();
    c.handshake();
    for p in payloads {
        c.client_data(p);
    }
    c.frames().to_vec()
}

#[test]
fn flood_of_new_flows_evicts_and_stays_bounded() {
    let mut cfg = PipelineConfig::default();
    cfg.flows.max_flows = 1_000;
    let mut h = Harness::new(cfg);
    let to = server(9999);
    for i in 0..10_000u32 {
        let from = ep(
            PHONE_MAC,
            &format!("10.1.{}.{}", i / 250, i % 250 + 1),
            40_000,
        );
        h.ingest(
            1_000_000 + i64::from(i),
            LinkType::Ethernet,
            &udp(&from, &to, b"x"),
        );
    }
    let c = h.pipe.counters();
    assert_eq!(
        (c.flows_created, c.flows_evicted, c.flows_active),
        (10_000, 9_000, 1_000)
    );
    let events = h.finish();
    let ends: Vec<FlowEnd> = events
        .iter()
        .filter_map(|e| match e {
            Event::Flow(f) => Some(f.end),
            _ => None,
        })
        .collect();
    assert_eq!(
        ends.iter().filter(|e| **e == FlowEnd::Evicted).count(),
        9_000
    );
    assert_eq!(
        ends.iter().filter(|e| **e == FlowEnd::Flushed).count(),
        1_000
    );
}

fn dns_records(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e, Event::Dns(_))).count()
}

#[test]
fn flood_of_unanswered_dns_queries_keeps_pending_bounded() {
    let mut h = Harness::new(PipelineConfig::default());
    let resolver = ep(GW_MAC, "10.0.0.1", 53);
    let n = MAX_DNS_PENDING + 5_000;
    for i in 0..n {
        let q = dns_query(i as u16, &format!("q{i}.flood.example"), 1);
        let from = phone(1024 + (i / 65_536) as u16 * 7 + (i % 3) as u16);
        h.ingest(
            1_000_000 + i as Ts,
            LinkType::Ethernet,
            &udp(&from, &resolver, &q),
        );
    }
    assert_eq!(h.pipe.held().dns_queries, MAX_DNS_PENDING);
    // Past the limit every new query is emitted at once, unanswered.
    assert_eq!(dns_records(&h.events), n - MAX_DNS_PENDING);
    let events = h.finish();
    assert_eq!(dns_records(&events), n);
}

/// A query carrying the same question `questions` times.
fn multi_question_query(id: u16, qname: &str, questions: u16) -> Vec<u8> {
    let one = dns_query(id, qname, 1);
    let mut q = one[..12].to_vec();
    q[4..6].copy_from_slice(&questions.to_be_bytes());
    for _ in 0..questions {
        q.extend_from_slice(&one[12..]);
    }
    q
}

/// Regression: pending DNS was bounded in queries (8192) only; each may hold 16 records of
/// long names (8-question messages, retransmitted), so a flood could hold ~60 MB.
#[test]
fn dns_flood_of_multi_question_queries_holds_bounded_records() {
    let mut h = Harness::new(PipelineConfig::default());
    let resolver = ep(GW_MAC, "10.0.0.1", 53);
    let long = format!("{}.{}.example", "a".repeat(63), "b".repeat(63));
    for i in 0..4_000u16 {
        let q = multi_question_query(i, &long, 8);
        let from = phone(2000 + i);
        for copy in 0..2 {
            let ts = 1_000_000 + Ts::from(i) * 10 + copy;
            h.ingest(ts, LinkType::Ethernet, &udp(&from, &resolver, &q));
        }
    }
    let held = h.pipe.held();
    assert!(held.dns_records <= MAX_DNS_PENDING_RECORDS, "{held:?}");
    assert_eq!(held.dns_records, MAX_DNS_PENDING_RECORDS);
    assert_eq!(dns_records(&h.finish()), 4_000 * 2 * 8);
}

/// An IPv4 fragment in an Ethernet frame (checksums are not verified by the decoder).
fn fragment(id: u16, offset: usize, more: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = link_header(LinkType::Ethernet);
    let flags = (u16::from(more) << 13) | (offset / 8) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(&flags.to_be_bytes());
    f.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
    f.extend_from_slice(payload);
    f
}

#[test]
fn flood_of_fragments_keeps_defrag_bounded_and_working() {
    let mut h = Harness::new(PipelineConfig::default());
    let junk = [0x5a; 1480];
    for i in 0..20_000u32 {
        let ts = 1_000_000 + Ts::from(i);
        // First fragments that never complete, and fragments at the largest offsets.
        h.ingest(ts, LinkType::Ethernet, &fragment(i as u16, 0, true, &junk));
        h.ingest(
            ts,
            LinkType::Ethernet,
            &fragment(i as u16, 65_528, i % 2 == 0, &junk[..8]),
        );
    }
    let held = h.pipe.held();
    assert!(held.fragment_datagrams <= MAX_DATAGRAMS && held.fragment_bytes <= MAX_BUFFERED_BYTES);
    // A real fragmented DNS query still gets through after the flood.
    let q = dns_query(7, "after.flood.example", 1);
    let dgram = udp(&phone(5000), &ep(GW_MAC, "10.0.0.1", 53), &q)[34..].to_vec();
    let before = h.pipe.counters().reassembled;
    h.ingest(
        2_000_000,
        LinkType::Ethernet,
        &fragment(9, 0, true, &dgram[..16]),
    );
    h.ingest(
        2_000_001,
        LinkType::Ethernet,
        &fragment(9, 16, false, &dgram[16..]),
    );
    assert_eq!(h.pipe.counters().reassembled, before + 1);
    let events = h.finish();
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Dns(r) if r.qname == "after.flood.example")));
}

#[test]
fn endless_http_head_is_abandoned() {
    let line = format!("X-Pad: {}\r\n", "a".repeat(990));
    let head = b"GET /endless HTTP/1.1\r\nHost: x.example\r\n".to_vec();
    let mut payloads: Vec<&[u8]> = vec![&head];
    payloads.extend(std::iter::repeat_n(line.as_bytes(), 2_000)); // 2 MB, no blank line
    let mut h = Harness::new(PipelineConfig::default());
    for (ts, f) in tcp_client_stream(40_001, 80, &payloads) {
        h.ingest(ts, LinkType::Ethernet, &f);
    }
    // A normal request on another flow afterwards is still decoded.
    for (ts, f) in tcp_client_stream(40_002, 80, &[b"GET /ok HTTP/1.1\r\nHost: y\r\n\r\n"]) {
        h.ingest(ts + 10_000_000, LinkType::Ethernet, &f);
    }
    let events = h.finish();
    let uris: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Http(r) => Some(r.uri.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(uris, ["/ok"]);
    let f = events.iter().find_map(|e| match e {
        Event::Flow(f) if f.client_port == 40_001 => Some(f),
        _ => None,
    });
    assert_eq!(f.map(|f| f.packets_up), Some(2 + 2_001)); // SYN, ACK, then the head and 2,000 lines
}

fn http_records(events: &[Event]) -> Vec<&phonehome::event::HttpRecord> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Http(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn chunked_body_with_giant_chunk_sizes_is_bounded() {
    let head = b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let data = [b'z'; 1400];
    // A chunk claiming 2^60 bytes: the body never ends; what is kept stays capped.
    let mut payloads: Vec<&[u8]> = vec![head, b"1000000000000000\r\n"];
    payloads.extend(std::iter::repeat_n(&data[..], 100));
    let mut h = Harness::new(PipelineConfig::default());
    for (ts, f) in tcp_client_stream(40_003, 80, &payloads) {
        h.ingest(ts, LinkType::Ethernet, &f);
    }
    assert!(http_records(&h.events).is_empty(), "body still open");
    let events = h.finish();
    let r = http_records(&events);
    assert_eq!(r.len(), 1);
    assert!(r[0].chunked);
    assert_eq!(r[0].body.len(), phonehome::decode::http::MAX_BODY_KEPT);

    // A chunk size beyond u64: reported at once, the stream abandoned.
    let mut h = Harness::new(PipelineConfig::default());
    let overflow: &[&[u8]] = &[head, b"fffffffffffffffff\r\n", &data];
    for (ts, f) in tcp_client_stream(40_004, 80, overflow) {
        h.ingest(ts, LinkType::Ethernet, &f);
    }
    assert_eq!(http_records(&h.events).len(), 1);
    assert_eq!(h.pipe.counters().app_errors, 1);
    h.finish();
}

#[test]
fn tls_record_claiming_16_mb_is_not_buffered() {
    // Handshake record of 16384 bytes whose ClientHello claims 16 MB (24-bit length).
    let mut hello = vec![0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff];
    hello.extend_from_slice(&[0x03; 1400]);
    let more = [0x42; 1400];
    let mut payloads: Vec<&[u8]> = vec![&hello];
    payloads.extend(std::iter::repeat_n(&more[..], 200));
    // And a record header whose length exceeds any TLS record.
    let huge_record: &[u8] = &[0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0, 0xff, 0xfb];
    let mut h = Harness::new(PipelineConfig::default());
    for (ts, f) in tcp_client_stream(40_005, 443, &payloads) {
        h.ingest(ts, LinkType::Ethernet, &f);
    }
    for (ts, f) in tcp_client_stream(40_006, 443, &[huge_record, &more]) {
        h.ingest(ts, LinkType::Ethernet, &f);
    }
    assert_eq!(h.pipe.counters().tls_client_hellos, 0);
    let events = h.finish();
    assert!(!events.iter().any(|e| matches!(e, Event::Tls(_))));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Flow(_)))
            .count(),
        2
    );
}
