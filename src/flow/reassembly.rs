//! TCP stream reassembly for the bytes an application decoder inspects.
//!
//! A [`StreamBuf`] is one direction of a TCP stream from its first byte (SYN seq + 1, or the
//! first seen segment's seq when the SYN was not captured), meant for the few KB a decoder
//! reads (HTTP request heads, a TLS ClientHello), not for whole transfers.
//!
//! Invariants:
//! - Sequence numbers wrap: positions are compared by signed 32-bit distance from `next_seq`
//!   (the sequence number of the next byte wanted), as TCP itself does.
//! - The in-order buffer never holds more than `cap` bytes; bytes that do not fit are dropped
//!   and counted, and the stream is then *capped* for good (later bytes could not be
//!   contiguous with what is buffered).
//! - Out-of-order segments are kept, at most [`MAX_OOO_SEGMENTS`] of them and
//!   [`MAX_OOO_BYTES`] (and `cap`) bytes in total, within [`MAX_OOO_WINDOW`] bytes ahead.
//!   When a limit is hit the missing gap is declared lost: the stream jumps to the earliest
//!   pending segment and the gap is counted ([`StreamBuf::gap_bytes`], [`StreamBuf::gaps`]),
//!   so a lost packet never wedges the stream; a decoder that sees `gaps()` change knows the
//!   data is no longer contiguous.
//! - [`StreamBuf::skip`] discards bytes without buffering them (request bodies); holes inside
//!   a skipped region do not count as gaps.
//! - Nothing is allocated until data is buffered.
//!
//! Hand-rolled: the reassembly crates of the ecosystem (e.g. smoltcp's `Assembler`) track
//! ranges for a socket window rather than buffer a capped prefix with skip and gap give-up.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// Out-of-order segments kept at most per direction: bounds per-flow memory and the work of
/// merging when a crafted stream sends many tiny disjoint segments.
pub const MAX_OOO_SEGMENTS: usize = 16;

/// Out-of-order bytes kept at most per direction (also never more than `cap`).
pub const MAX_OOO_BYTES: usize = 32 * 1024;

/// How far ahead of the next wanted byte a segment may start and still be kept; segments
/// further ahead are bogus or belong to data we would give up on anyway.
pub const MAX_OOO_WINDOW: u32 = 256 * 1024;

/// One direction of a TCP stream, from its first byte, up to a byte cap.
#[derive(Debug, Default)]
pub struct StreamBuf {
    cap: usize,
    /// In-order bytes not yet consumed; `buf.len() <= cap`.
    buf: Vec<u8>,
    /// Sequence number of the next byte wanted; None before the first segment.
    next_seq: Option<u32>,
    /// Bytes still to discard as they arrive in order (see [`StreamBuf::skip`]).
    skip_pending: u64,
    /// Out-of-order segments (seq of the first byte, bytes), unsorted.
    ooo: Vec<(u32, Vec<u8>)>,
    ooo_bytes: usize,
    capped: bool,
    dropped: u64,
    gap_bytes: u64,
    gaps: u64,
}

impl StreamBuf {
    /// A buffer that keeps at most `cap` bytes in order (plus bounded out-of-order segments).
    pub fn new(cap: usize) -> Self {
        StreamBuf {
            cap,
            ..StreamBuf::default()
        }
    }

    /// Adds a segment. `syn` marks the SYN segment, whose seq+1 is the stream's first byte.
    pub fn push(&mut self, seq: u32, syn: bool, data: &[u8]) {
        let seq = if syn {
            let first = seq.wrapping_add(1);
            if self.next_seq.is_none() {
                self.next_seq = Some(first);
            }
            first
        } else {
            seq
        };
        if data.is_empty() {
            return;
        }
        let next = *self.next_seq.get_or_insert(seq);
        let ahead = seq.wrapping_sub(next) as i32;
        if ahead <= 0 {
            // Starts at or before the next wanted byte: trim what we already have.
            let trim = ahead.unsigned_abs() as usize;
            if let Some(fresh) = data.get(trim..).filter(|d| !d.is_empty()) {
                self.append(fresh);
                self.merge_pending();
            }
            return;
        }
        let ahead = ahead.unsigned_abs();
        if u64::from(ahead) <= self.skip_pending {
            // The hole lies inside bytes we were told to discard: no need to wait for it.
            self.skip_pending -= u64::from(ahead);
            self.next_seq = Some(seq);
            self.append(data);
            self.merge_pending();
            return;
        }
        if ahead > MAX_OOO_WINDOW {
            self.dropped = self.dropped.saturating_add(data.len() as u64);
            return;
        }
        self.store_pending(seq, data);
    }

    /// The contiguous bytes available from the current read position.
    pub fn data(&self) -> &[u8] {
        &self.buf
    }

    /// Drops `n` bytes from the front (consumed by a decoder).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
    }

    /// Discards the next `n` bytes of the stream (e.g. a request body): buffered bytes first,
    /// then bytes as they arrive, without buffering them.
    pub fn skip(&mut self, n: u64) {
        let buffered = usize::try_from(n).unwrap_or(usize::MAX).min(self.buf.len());
        self.buf.drain(..buffered);
        self.skip_pending = self
            .skip_pending
            .saturating_add(n.saturating_sub(buffered as u64));
    }

    /// True once bytes were dropped because the buffer was full: no more data will arrive.
    pub fn is_capped(&self) -> bool {
        self.capped
    }

    /// Bytes dropped because the buffer was full or the segment lay too far ahead.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped
    }

    /// Bytes never seen, jumped over when a gap was given up.
    pub fn gap_bytes(&self) -> u64 {
        self.gap_bytes
    }

    /// Number of gaps given up (each makes the data non-contiguous at that point).
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    /// Bytes held in out-of-order segments.
    pub fn pending_bytes(&self) -> usize {
        self.ooo_bytes
    }

    /// Bytes still to be discarded by an earlier [`StreamBuf::skip`].
    pub fn skip_pending(&self) -> u64 {
        self.skip_pending
    }

    /// Appends in-order bytes (after any pending skip), advancing `next_seq` over all of them.
    fn append(&mut self, data: &[u8]) {
        if let Some(next) = self.next_seq {
            // Wrapping: a stream position only needs its low 32 bits.
            self.next_seq = Some(next.wrapping_add(data.len() as u32));
        }
        let skip = usize::try_from(self.skip_pending)
            .unwrap_or(usize::MAX)
            .min(data.len());
        self.skip_pending -= skip as u64;
        let Some(rest) = data.get(skip..) else { return };
        if rest.is_empty() {
            return;
        }
        if self.capped {
            self.dropped = self.dropped.saturating_add(rest.len() as u64);
            return;
        }
        let room = self.cap.saturating_sub(self.buf.len());
        let (keep, over) = rest.split_at(room.min(rest.len()));
        self.buf.extend_from_slice(keep);
        if !over.is_empty() {
            self.capped = true;
            self.dropped = self.dropped.saturating_add(over.len() as u64);
        }
    }

    /// Keeps a segment that starts ahead of `next_seq`, giving up gaps when limits are hit.
    fn store_pending(&mut self, seq: u32, data: &[u8]) {
        let limit = MAX_OOO_BYTES.min(self.cap);
        if data.len() > limit {
            // Only an offloaded super-segment gets here; its tail will show up as a gap.
            let over = data.len() - limit;
            self.dropped = self.dropped.saturating_add(over as u64);
        }
        let data = data.get(..data.len().min(limit)).unwrap_or_default();
        if self
            .ooo
            .iter()
            .any(|(s, d)| *s == seq && d.len() >= data.len())
        {
            return; // retransmission of a pending segment
        }
        while !self.ooo.is_empty()
            && (self.ooo.len() >= MAX_OOO_SEGMENTS
                || self.ooo_bytes.saturating_add(data.len()) > limit)
        {
            let before = self.ooo.len();
            self.give_up_gap();
            if self.ooo.len() >= before {
                break; // no progress possible (cannot happen with next_seq set)
            }
        }
        // give_up_gap may have moved next_seq up to or past this segment.
        let next = self.next_seq.unwrap_or(seq);
        let ahead = seq.wrapping_sub(next) as i32;
        if ahead <= 0 {
            let trim = ahead.unsigned_abs() as usize;
            if let Some(fresh) = data.get(trim..).filter(|d| !d.is_empty()) {
                self.append(fresh);
                self.merge_pending();
            }
            return;
        }
        if self.ooo.len() >= MAX_OOO_SEGMENTS || data.len() > limit.saturating_sub(self.ooo_bytes) {
            self.dropped = self.dropped.saturating_add(data.len() as u64);
            return;
        }
        self.ooo_bytes += data.len();
        self.ooo.push((seq, data.to_vec()));
    }

    /// Jumps over the hole before the earliest pending segment, counting it as lost.
    fn give_up_gap(&mut self) {
        let Some(next) = self.next_seq else { return };
        let Some(first) = self
            .ooo
            .iter()
            .map(|(s, _)| *s)
            .min_by_key(|s| s.wrapping_sub(next))
        else {
            return;
        };
        let hole = first.wrapping_sub(next);
        if (hole as i32) > 0 {
            let skipped = u64::from(hole).min(self.skip_pending);
            self.skip_pending -= skipped;
            let lost = u64::from(hole) - skipped;
            if lost > 0 {
                self.gap_bytes = self.gap_bytes.saturating_add(lost);
                self.gaps += 1;
            }
            self.next_seq = Some(first);
        }
        self.merge_pending();
    }

    /// Appends every pending segment that now touches or overlaps `next_seq`; drops those
    /// entirely behind it.
    fn merge_pending(&mut self) {
        while let Some(next) = self.next_seq {
            let mut progressed = false;
            let mut i = 0;
            while i < self.ooo.len() {
                let (seq, len) = match self.ooo.get(i) {
                    Some((s, d)) => (*s, d.len()),
                    None => break,
                };
                let ahead = seq.wrapping_sub(next) as i32;
                if ahead > 0 {
                    i += 1;
                    continue;
                }
                let (_, seg) = self.ooo.swap_remove(i);
                self.ooo_bytes = self.ooo_bytes.saturating_sub(len);
                if let Some(fresh) = seg.get(ahead.unsigned_abs() as usize..) {
                    if !fresh.is_empty() {
                        self.append(fresh);
                        progressed = true;
                        break; // next_seq moved: rescan from the start
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        if self.ooo.is_empty() && self.ooo.capacity() > 0 {
            self.ooo = Vec::new();
        }
    }
}
