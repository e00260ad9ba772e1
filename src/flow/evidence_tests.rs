// Tests index what they just asserted to exist.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::*;

const T: Ts = 1_700_000_000_000_000;

fn frame(len: usize, fill: u8) -> Vec<u8> {
    vec![fill; len]
}

#[test]
fn keeps_frames_in_order_with_ts_link_dir_and_len() {
    let budget = EvidenceBudget::default();
    let mut f = FlowFrames::new(&budget);
    f.push(T, LinkType::Ethernet, &frame(74, 1), Dir::Up);
    f.push(T + 5, LinkType::Ethernet, &frame(60, 2), Dir::Down);
    f.push(T + 9, LinkType::RawIp, &[], Dir::Up);
    assert_eq!(f.len(), 3);
    assert_eq!(f.kept_bytes(Dir::Up), 74 + 2 * RECORD_OVERHEAD);
    assert_eq!(f.kept_bytes(Dir::Down), 60 + RECORD_OVERHEAD);
    let kept = f.take();
    assert_eq!(
        kept,
        vec![
            KeptFrame {
                ts: T,
                link: LinkType::Ethernet,
                dir: Dir::Up,
                orig_len: 74,
                data: frame(74, 1)
            },
            KeptFrame {
                ts: T + 5,
                link: LinkType::Ethernet,
                dir: Dir::Down,
                orig_len: 60,
                data: frame(60, 2)
            },
            KeptFrame {
                ts: T + 9,
                link: LinkType::RawIp,
                dir: Dir::Up,
                orig_len: 0,
                data: vec![]
            },
        ]
    );
    assert_eq!(budget.used(), 0, "take gives the budget back");
}

#[test]
fn direction_cap_cuts_the_first_frame_that_does_not_fit_then_closes() {
    let mut f = FlowFrames::new(&EvidenceBudget::default());
    for i in 0..50u8 {
        f.push(
            T + i64::from(i),
            LinkType::Ethernet,
            &frame(1514, i),
            Dir::Up,
        );
    }
    f.push(T + 99, LinkType::Ethernet, &frame(60, 0xdd), Dir::Down);
    // 42 whole records of 16 + 1514 = 64,260 bytes; the 43rd is cut to the 1,276 bytes left
    // (16 of them its record header); the 7 after it are dropped.
    assert_eq!(f.kept_bytes(Dir::Up), MAX_BYTES_PER_DIR);
    assert_eq!(
        f.kept_bytes(Dir::Down),
        76,
        "the other direction is independent"
    );
    assert_eq!(f.dropped(), 7);
    let kept = f.take();
    assert_eq!(kept.len(), 44);
    let up: Vec<&KeptFrame> = kept.iter().filter(|k| k.dir == Dir::Up).collect();
    assert_eq!(up.len(), 43);
    assert!(up.iter().all(|k| k.orig_len == 1514));
    assert_eq!(up.iter().filter(|k| k.data.len() == 1514).count(), 42);
    let cut = up.last().expect("43 frames");
    assert_eq!((cut.data.len(), cut.ts, cut.data[0]), (1260, T + 42, 42));
}

#[test]
fn a_remainder_below_min_partial_closes_the_direction_without_a_stub() {
    let mut f = FlowFrames::new(&EvidenceBudget::default());
    // Records of 2,046 bytes: 32 fill 65,472 and leave 64, of which 48 for a frame < 128.
    for _ in 0..33 {
        f.push(T, LinkType::Ethernet, &frame(2030, 7), Dir::Up);
    }
    f.push(T, LinkType::Ethernet, &frame(60, 7), Dir::Up);
    assert_eq!(f.len(), 32);
    assert_eq!(f.kept_bytes(Dir::Up), 32 * 2046);
    assert_eq!(
        f.dropped(),
        2,
        "the 33rd, and the small one after: a prefix only"
    );
}

#[test]
fn empty_frames_are_bounded_by_their_record_headers() {
    let mut f = FlowFrames::new(&EvidenceBudget::default());
    for _ in 0..10_000 {
        f.push(T, LinkType::Ethernet, &[], Dir::Down);
    }
    assert_eq!(f.len(), MAX_BYTES_PER_DIR / RECORD_OVERHEAD);
    assert_eq!(f.dropped(), 10_000 - 4096);
}

#[test]
fn oversized_frame_is_cut_keeping_orig_len() {
    let mut f = FlowFrames::new(&EvidenceBudget::default());
    f.push(T, LinkType::Ethernet, &frame(200_000, 3), Dir::Up);
    let kept = f.take();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].orig_len, 200_000);
    assert_eq!(kept[0].data.len(), MAX_BYTES_PER_DIR - RECORD_OVERHEAD);
    assert!(kept[0].data.len() <= SNAP_LEN);
}

#[test]
fn budget_refuses_new_flows_when_exhausted_and_recovers_on_drop() {
    let first_push = INITIAL_DATA_CAPACITY + INITIAL_HEADS_CAPACITY * std::mem::size_of::<Head>();
    let budget = EvidenceBudget::new(first_push);
    let mut a = FlowFrames::new(&budget);
    a.push(T, LinkType::Ethernet, &frame(1000, 1), Dir::Up);
    assert_eq!(budget.used(), first_push);
    assert_eq!(a.charged(), first_push);

    // Growing a's byte buffer would pass the cap: a stops, counted once.
    a.push(T, LinkType::Ethernet, &frame(1500, 1), Dir::Up);
    a.push(T, LinkType::Ethernet, &frame(10, 1), Dir::Down);
    assert!(a.is_stopped());
    assert_eq!((a.len(), a.dropped(), budget.flows_cut()), (1, 2, 1));

    let mut b = FlowFrames::new(&budget);
    b.push(T, LinkType::Ethernet, &frame(60, 2), Dir::Up);
    assert!(b.is_stopped() && b.is_empty());
    assert_eq!(budget.flows_refused(), 1);
    assert_eq!(b.dropped(), 1);

    drop(a);
    assert_eq!(budget.used(), 0);
    let mut c = FlowFrames::new(&budget);
    c.push(T, LinkType::Ethernet, &frame(60, 3), Dir::Up);
    assert_eq!(c.len(), 1);
    assert_eq!(budget.flows_refused(), 1);
}

#[test]
fn one_flow_never_holds_more_than_both_directions_allow() {
    let budget = EvidenceBudget::default();
    let mut f = FlowFrames::new(&budget);
    for i in 0..2000usize {
        let dir = if i % 3 == 0 { Dir::Down } else { Dir::Up };
        f.push(T, LinkType::Ethernet, &frame(i % 1600, 0), dir);
    }
    assert!(f.kept_bytes(Dir::Up) <= MAX_BYTES_PER_DIR);
    assert!(f.kept_bytes(Dir::Down) <= MAX_BYTES_PER_DIR);
    let heads = 2 * MAX_BYTES_PER_DIR / RECORD_OVERHEAD * std::mem::size_of::<Head>();
    assert!(f.charged() <= MAX_DATA_CAPACITY + heads, "{}", f.charged());
    assert_eq!(budget.used(), f.charged());
}
