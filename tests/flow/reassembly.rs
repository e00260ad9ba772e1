//! StreamBuf: order, overlap, wraparound, gaps, caps; plus a random-segment property.

use phonehome::flow::reassembly::{StreamBuf, MAX_OOO_BYTES, MAX_OOO_SEGMENTS};
use proptest::prelude::*;

const ISN: u32 = 1_000;

#[test]
fn in_order_after_syn() {
    let mut s = StreamBuf::new(1024);
    s.push(ISN, true, b"");
    s.push(ISN + 1, false, b"GET / ");
    s.push(ISN + 7, false, b"HTTP/1.1\r\n");
    assert_eq!(s.data(), b"GET / HTTP/1.1\r\n");
    s.consume(4);
    assert_eq!(s.data(), b"/ HTTP/1.1\r\n");
    s.consume(100);
    assert_eq!(s.data(), b"");
}

#[test]
fn out_of_order_three_segments_arriving_3_1_2() {
    let mut s = StreamBuf::new(1024);
    s.push(ISN, true, b"");
    s.push(ISN + 9, false, b"ghi");
    assert_eq!(s.data(), b"");
    assert_eq!(s.pending_bytes(), 3);
    s.push(ISN + 1, false, b"abcd");
    assert_eq!(s.data(), b"abcd");
    s.push(ISN + 5, false, b"ef");
    // Bytes ISN+7..ISN+9 are still missing.
    assert_eq!(s.data(), b"abcdef");
    s.push(ISN + 7, false, b"XY");
    assert_eq!(s.data(), b"abcdefXYghi");
    assert_eq!((s.pending_bytes(), s.gaps(), s.dropped_bytes()), (0, 0, 0));
}

#[test]
fn retransmission_and_overlap_are_trimmed() {
    let mut s = StreamBuf::new(1024);
    s.push(ISN, true, b"");
    s.push(ISN + 1, false, b"hello");
    s.push(ISN + 1, false, b"hello");
    s.push(ISN + 4, false, b"lo world");
    s.push(ISN + 2, false, b"ell");
    assert_eq!(s.data(), b"hello world");
}

#[test]
fn without_syn_first_segment_starts_the_stream() {
    let mut s = StreamBuf::new(64);
    s.push(77, false, b"mid");
    s.push(80, false, b"stream");
    s.push(70, false, b"0123456"); // older than the first byte we saw
    assert_eq!(s.data(), b"midstream");
}

#[test]
fn sequence_numbers_wrap_at_2_pow_32() {
    let mut s = StreamBuf::new(64);
    s.push(u32::MAX - 2, true, b""); // first byte at u32::MAX - 1
    s.push(1, false, b"def"); // after the wrap, out of order
    s.push(u32::MAX - 1, false, b"ab");
    s.push(0, false, b"c");
    assert_eq!(s.data(), b"abcdef");
    s.push(u32::MAX, false, b"bcd"); // retransmit across the wrap
    assert_eq!(s.data(), b"abcdef");
}

#[test]
fn permanent_gap_is_given_up_after_the_segment_limit() {
    let mut s = StreamBuf::new(64 * 1024);
    s.push(ISN, true, b"");
    s.push(ISN + 1, false, b"head");
    // Bytes ISN+5..ISN+105 are lost; later segments pile up.
    // The segment after MAX_OOO_SEGMENTS pending ones triggers the give-up.
    for i in 0..=MAX_OOO_SEGMENTS as u32 {
        s.push(ISN + 105 + i * 10, false, b"0123456789");
    }
    assert_eq!(s.gaps(), 1);
    assert_eq!(s.gap_bytes(), 100);
    assert_eq!(s.pending_bytes(), 0);
    assert_eq!(s.data().len(), 4 + 10 * (MAX_OOO_SEGMENTS + 1));
    assert_eq!(&s.data()[..14], b"head0123456789");
}

#[test]
fn pending_bytes_limit_also_gives_up_the_gap() {
    let mut s = StreamBuf::new(1 << 20);
    s.push(0, false, b"a");
    let big = vec![b'x'; MAX_OOO_BYTES];
    s.push(11, false, &big); // 10-byte hole before it
    assert_eq!(s.pending_bytes(), MAX_OOO_BYTES);
    s.push(11 + MAX_OOO_BYTES as u32 + 50, false, b"tail");
    assert_eq!((s.gaps(), s.gap_bytes()), (1, 10));
    assert_eq!(s.data().len(), 1 + MAX_OOO_BYTES);
    assert_eq!(s.pending_bytes(), 4);
}

#[test]
fn cap_drops_and_counts_the_excess() {
    let mut s = StreamBuf::new(8);
    s.push(ISN, true, b"");
    s.push(ISN + 1, false, b"0123456789");
    assert_eq!(s.data(), b"01234567");
    assert!(s.is_capped());
    assert_eq!(s.dropped_bytes(), 2);
    s.consume(8);
    s.push(ISN + 11, false, b"more");
    assert_eq!(s.data(), b"");
    assert_eq!(s.dropped_bytes(), 6);
}

#[test]
fn skip_discards_a_body_without_buffering_it() {
    let mut s = StreamBuf::new(32);
    s.push(ISN, true, b"");
    s.push(ISN + 1, false, b"HEAD|bo");
    s.consume(5);
    s.skip(10); // 2 buffered + 8 still to come
    assert_eq!((s.data(), s.skip_pending()), (&b""[..], 8));
    s.push(ISN + 8, false, b"dybody");
    assert_eq!(s.skip_pending(), 2);
    // A hole inside the skipped region is not waited for.
    s.push(ISN + 16, false, b"NEXT");
    assert_eq!(s.data(), b"NEXT");
    assert_eq!((s.gaps(), s.skip_pending(), s.is_capped()), (0, 0, false));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn random_segments_never_exceed_caps(
        cap in 0usize..4096,
        isn in any::<u32>(),
        ops in prop::collection::vec((any::<u32>(), 0usize..3000, any::<bool>(), 0u8..8), 0..64),
    ) {
        let mut s = StreamBuf::new(cap);
        s.push(isn, true, b"");
        let payload = vec![0xabu8; 3000];
        for (off, len, near, op) in ops {
            // Mostly near the stream start, sometimes anywhere in sequence space.
            let seq = if near { isn.wrapping_add(1).wrapping_add(off % 8192) } else { off };
            match op {
                0 => s.consume(len),
                1 => s.skip(len as u64),
                _ => s.push(seq, op == 2, &payload[..len]),
            }
            prop_assert!(s.data().len() <= cap);
            prop_assert!(s.pending_bytes() <= MAX_OOO_BYTES.min(cap));
        }
    }

    #[test]
    fn shuffled_segments_reassemble_the_stream(
        isn in any::<u32>(),
        order in Just((0..12usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let stream: Vec<u8> = (0..120u8).collect();
        let mut s = StreamBuf::new(4096);
        s.push(isn, true, b"");
        for i in order {
            let seq = isn.wrapping_add(1).wrapping_add(i as u32 * 10);
            s.push(seq, false, &stream[i * 10..i * 10 + 10]);
        }
        prop_assert_eq!(s.data(), &stream[..]);
        prop_assert_eq!(s.gaps(), 0);
    }
}
