//! Fuzz target over the whole analysis core: the input is split into frames, each fed to one
//! `Pipeline` with its own link type and a timestamp that may jump or go backwards, then the
//! pipeline is finished. `ingest` and `finish` must never panic, and the state they hold must
//! stay within its limits (checked after every frame).
//!
//! Input layout, repeated: 1 byte link selector, 1 byte time step selector, 2 bytes frame
//! length (big-endian, cut to what is left), then the frame. A small flow table makes
//! eviction reachable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome::decode::LinkType;
use phonehome::event::Ts;
use phonehome::flow::defrag::{MAX_BUFFERED_BYTES, MAX_DATAGRAMS};
use phonehome::pipeline::{
    Pipeline, PipelineConfig, MAX_DNS_PENDING, MAX_DNS_PENDING_RECORDS, MAX_QUIC_PENDING,
};

/// pcap LINKTYPE numbers of every link type the decoder accepts.
const LINKTYPES: [u32; 11] = [1, 101, 228, 229, 113, 276, 239, 105, 127, 0, 108];
/// Flows kept: small, so that a fuzz input can fill the table.
const MAX_FLOWS: usize = 16;

fuzz_target!(|data: &[u8]| {
    let mut cfg = PipelineConfig::default();
    cfg.flows.max_flows = MAX_FLOWS;
    let mut pipe = Pipeline::new(cfg);
    let mut sink = |_| {};
    let mut ts: Ts = 1_700_000_000_000_000;
    let mut rest = data;
    while let [sel, step, l0, l1, tail @ ..] = rest {
        let n = LINKTYPES[usize::from(*sel) % LINKTYPES.len()];
        let Some(link) = LinkType::from_linktype(n) else {
            return;
        };
        // Small steps mostly; 0xff jumps past every timeout, 0xfe goes back in time.
        ts = match step {
            0xff => ts.saturating_add(3_600_000_000),
            0xfe => ts.saturating_sub(5_000_000),
            s => ts.saturating_add(Ts::from(*s) * 1_000),
        };
        let len = usize::from(u16::from_be_bytes([*l0, *l1])).min(tail.len());
        let (frame, next) = tail.split_at(len);
        pipe.ingest(ts, link, frame, &mut sink);
        let h = pipe.held();
        assert!(h.flows <= MAX_FLOWS);
        assert!(h.fragment_datagrams <= MAX_DATAGRAMS && h.fragment_bytes <= MAX_BUFFERED_BYTES);
        assert!(h.dns_queries <= MAX_DNS_PENDING && h.dns_records <= MAX_DNS_PENDING_RECORDS);
        assert!(h.quic_connections <= MAX_QUIC_PENDING.min(MAX_FLOWS));
        rest = next;
    }
    pipe.finish(&mut sink);
    assert_eq!((pipe.held().flows, pipe.held().quic_connections), (0, 0));
});
