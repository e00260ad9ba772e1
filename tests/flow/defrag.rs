//! Defragmenter: order, duplicates, overlaps, timeout, limits; plus a random-fragment property.

use std::net::IpAddr;

use phonehome::decode::Fragment;
use phonehome::event::MICROS;
use phonehome::flow::defrag::{
    DefragStats, Defragmenter, DEFRAG_TIMEOUT, MAX_DATAGRAMS, MAX_DATAGRAM_LEN, MAX_FRAGMENTS,
};
use proptest::prelude::*;

const UDP: u8 = 17;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn datagram(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// Pushes bytes [start, end) of `d` as one fragment of datagram `id`.
fn push(
    df: &mut Defragmenter,
    ts: i64,
    id: u32,
    d: &[u8],
    start: usize,
    end: usize,
) -> Option<Vec<u8>> {
    let frag = Fragment {
        id,
        offset: start as u32,
        more: end < d.len(),
    };
    df.push(
        ts,
        ip("8.8.8.8"),
        ip("192.168.8.23"),
        UDP,
        frag,
        &d[start..end],
    )
}

#[test]
fn ipv4_in_order() {
    let d = datagram(3000);
    let mut df = Defragmenter::new();
    assert_eq!(push(&mut df, 0, 7, &d, 0, 1480), None);
    assert_eq!(push(&mut df, 1, 7, &d, 1480, 2960), None);
    assert_eq!(push(&mut df, 2, 7, &d, 2960, 3000), Some(d));
    assert_eq!(
        df.stats(),
        DefragStats {
            reassembled: 1,
            ..DefragStats::default()
        }
    );
    assert_eq!((df.in_progress(), df.buffered_bytes()), (0, 0));
}

#[test]
fn ipv4_reversed() {
    let d = datagram(3000);
    let mut df = Defragmenter::new();
    assert_eq!(push(&mut df, 0, 7, &d, 2960, 3000), None);
    assert_eq!(push(&mut df, 1, 7, &d, 1480, 2960), None);
    assert_eq!(push(&mut df, 2, 7, &d, 0, 1480), Some(d));
}

#[test]
fn duplicate_fragment_is_harmless() {
    let d = datagram(2000);
    let mut df = Defragmenter::new();
    assert_eq!(push(&mut df, 0, 1, &d, 0, 1480), None);
    assert_eq!(push(&mut df, 0, 1, &d, 0, 1480), None);
    assert_eq!(push(&mut df, 1, 1, &d, 1480, 2000), Some(d));
    assert_eq!(df.stats().duplicates, 1);
}

#[test]
fn consistent_overlap_reassembles_conflicting_overlap_drops() {
    let d = datagram(2000);
    let mut df = Defragmenter::new();
    push(&mut df, 0, 1, &d, 0, 1000);
    push(&mut df, 0, 1, &d, 800, 1600);
    assert_eq!(push(&mut df, 0, 1, &d, 1200, 2000), Some(d.clone()));

    let mut evil = d.clone();
    evil[900] ^= 0xff;
    push(&mut df, 0, 2, &d, 0, 1000);
    let frag = Fragment {
        id: 2,
        offset: 800,
        more: true,
    };
    assert_eq!(
        df.push(
            0,
            ip("8.8.8.8"),
            ip("192.168.8.23"),
            UDP,
            frag,
            &evil[800..1600]
        ),
        None
    );
    assert_eq!(push(&mut df, 0, 2, &d, 1600, 2000), None);
    assert_eq!(df.stats().dropped_invalid, 1);
    assert_eq!(df.stats().reassembled, 1);
}

#[test]
fn keys_separate_datagrams() {
    let d = datagram(100);
    let mut df = Defragmenter::new();
    push(&mut df, 0, 1, &d, 0, 48);
    // Same id from another source, and another protocol: different datagrams.
    let frag = Fragment {
        id: 1,
        offset: 48,
        more: false,
    };
    assert_eq!(
        df.push(0, ip("9.9.9.9"), ip("192.168.8.23"), UDP, frag, &d[48..]),
        None
    );
    assert_eq!(
        df.push(0, ip("8.8.8.8"), ip("192.168.8.23"), 6, frag, &d[48..]),
        None
    );
    assert_eq!(df.in_progress(), 3);
    assert_eq!(push(&mut df, 0, 1, &d, 48, 100), Some(d));
}

#[test]
fn timeout_abandons_incomplete_datagrams() {
    let d = datagram(2000);
    let mut df = Defragmenter::new();
    push(&mut df, 0, 1, &d, 0, 1480);
    push(&mut df, 10 * MICROS, 2, &d, 0, 1480);
    df.expire(DEFRAG_TIMEOUT - 1);
    assert_eq!(df.in_progress(), 2);
    df.expire(DEFRAG_TIMEOUT);
    assert_eq!((df.in_progress(), df.stats().timed_out), (1, 1));
    // The late tail of datagram 1 no longer completes anything.
    assert_eq!(push(&mut df, DEFRAG_TIMEOUT, 1, &d, 1480, 2000), None);
    // Datagram 2 also expires lazily when its next fragment comes too late.
    assert_eq!(
        push(&mut df, 10 * MICROS + DEFRAG_TIMEOUT, 2, &d, 1480, 2000),
        None
    );
    assert_eq!(df.stats().timed_out, 2);
}

#[test]
fn limits_size_fragment_count_and_table() {
    let mut df = Defragmenter::new();
    // Past MAX_DATAGRAM_LEN = 65535 bytes ("ping of death").
    let frag = Fragment {
        id: 1,
        offset: 65_528,
        more: false,
    };
    assert_eq!(
        df.push(0, ip("1.1.1.1"), ip("2.2.2.2"), UDP, frag, &[0; 16]),
        None
    );
    assert_eq!(df.stats().dropped_limits, 1);

    // Too many fragments in one datagram.
    let d = datagram(8 * (MAX_FRAGMENTS + 2));
    for i in 0..=MAX_FRAGMENTS {
        push(&mut df, 0, 3, &d, i * 8, i * 8 + 8);
    }
    assert_eq!(df.stats().dropped_limits, 2);
    assert_eq!(df.in_progress(), 0);

    // Table full: the oldest datagram makes room.
    let d = datagram(16);
    for id in 0..=MAX_DATAGRAMS as u32 {
        push(&mut df, i64::from(id), 100 + id, &d, 0, 8);
    }
    assert_eq!(df.in_progress(), MAX_DATAGRAMS);
    assert_eq!(df.stats().dropped_limits, 3);
    assert_eq!(push(&mut df, 5000, 101, &d, 8, 16), Some(d.clone()));
    assert_eq!(push(&mut df, 5000, 100, &d, 8, 16), None); // the evicted one
}

#[test]
fn unfragmented_datagram_passes_through() {
    let mut df = Defragmenter::new();
    let frag = Fragment {
        id: 9,
        offset: 0,
        more: false,
    };
    assert_eq!(
        df.push(0, ip("::1"), ip("::2"), UDP, frag, b"abc"),
        Some(b"abc".to_vec())
    );
    assert_eq!(df.in_progress(), 0);
}

proptest! {
    // Few cases: each one zero-fills up to four 64 KiB buffers many times in a debug build.
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_fragments_never_panic_or_exceed_limits(
        frags in prop::collection::vec((0u32..4, 0u32..70_000, 0usize..2000, any::<bool>(), 0i64..100), 0..200),
    ) {
        let mut df = Defragmenter::new();
        let payload = vec![0x5au8; 2000];
        let mut ts = 0;
        for (id, offset, len, more, dt) in frags {
            ts += dt * MICROS;
            let frag = Fragment { id, offset: offset & !7, more };
            if let Some(d) = df.push(ts, ip("10.0.0.1"), ip("10.0.0.2"), UDP, frag, &payload[..len]) {
                prop_assert!(d.len() <= MAX_DATAGRAM_LEN);
                prop_assert!(d.iter().all(|&b| b == 0x5a));
            }
            df.expire(ts);
            prop_assert!(df.in_progress() <= 4);
            prop_assert!(df.buffered_bytes() <= 4 * MAX_DATAGRAM_LEN);
        }
    }

    #[test]
    fn any_arrival_order_reassembles(
        order in Just((0..10usize).collect::<Vec<_>>()).prop_shuffle(),
        dup in 0usize..10,
    ) {
        let d = datagram(10 * 136 - 50);
        let mut df = Defragmenter::new();
        let mut out = None;
        let bounds = |i: usize| (i * 136, ((i + 1) * 136).min(d.len()));
        let (ds, de) = bounds(dup);
        push(&mut df, 0, 1, &d, ds, de);
        for i in order {
            let (s, e) = bounds(i);
            if let Some(r) = push(&mut df, 0, 1, &d, s, e) {
                out = Some(r);
            }
        }
        prop_assert_eq!(out, Some(d));
    }
}
