//! IPv4 and IPv6 fragment reassembly, bounded.
//!
//! A [`Defragmenter`] collects the fragments of each datagram, keyed by (source, destination,
//! protocol, identification), and returns the whole transport payload (e.g. UDP header + DNS
//! message) once every byte from offset 0 to the end given by the last fragment is present.
//!
//! Invariants and policy:
//! - Bounded: at most [`MAX_DATAGRAMS`] datagrams in progress and [`MAX_BUFFERED_BYTES`] bytes
//!   buffered over all of them (the oldest datagram is dropped to make room), at most
//!   [`MAX_FRAGMENTS`] fragments per datagram, no datagram beyond [`MAX_DATAGRAM_LEN`] bytes,
//!   and a datagram is abandoned [`DEFRAG_TIMEOUT`] after its first fragment (packet time).
//! - Overlaps: bytes that overlap an earlier fragment must be identical (retransmitted
//!   duplicates are harmless); a conflicting overlap drops the whole datagram, as Linux does
//!   for IPv4 and RFC 5722 requires for IPv6, so what we decode never differs from what the
//!   receiving host could have accepted.
//! - A fragment that contradicts the known total length (a second, different last fragment,
//!   or bytes past the end) drops the datagram.
//! - Every drop is counted in [`DefragStats`]; nothing panics on any offset or length.
//!
//! Hand-rolled: no maintained crate reassembles IP fragments from borrowed slices with these
//! limits (smoltcp's reassembly is tied to its interface and buffers).

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::decode::Fragment;
use crate::event::{Ts, MICROS};

/// Time a datagram may take to complete after its first fragment (Linux `ipfrag_time`):
/// bounds how long an unfinished datagram holds memory.
pub const DEFRAG_TIMEOUT: Ts = 30 * MICROS;

/// Datagrams in progress at most: bounds the table against floods of first fragments.
pub const MAX_DATAGRAMS: usize = 1024;

/// Largest reassembled payload: the IP length fields cannot describe more.
pub const MAX_DATAGRAM_LEN: usize = 65_535;

/// Fragments accepted per datagram: bounds the range bookkeeping and the work per fragment
/// (a 64 KiB datagram of 1280-byte IPv6 fragments needs 52).
pub const MAX_FRAGMENTS: usize = 64;

/// Bytes buffered over all datagrams in progress (4 MiB): bounds memory on a Pi under a flood
/// of large partial datagrams.
pub const MAX_BUFFERED_BYTES: usize = 4 << 20;

/// Counters of a [`Defragmenter`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Datagrams completed and returned.
    pub reassembled: u64,
    /// Datagrams abandoned after [`DEFRAG_TIMEOUT`].
    pub timed_out: u64,
    /// Datagrams dropped over a limit (size, fragment count, table or byte budget).
    pub dropped_limits: u64,
    /// Datagrams dropped for conflicting overlaps or inconsistent lengths.
    pub dropped_invalid: u64,
    /// Fragments (partly) duplicating bytes already held, with identical content.
    pub duplicates: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

/// One datagram in progress.
struct Partial {
    first_ts: Ts,
    serial: u64,
    buf: Vec<u8>,
    /// Received byte ranges [start, end), sorted and merged.
    ranges: Vec<(usize, usize)>,
    /// Payload length, known once the last fragment (more = false) arrived.
    total: Option<usize>,
    fragments: usize,
}

/// What a fragment did to its datagram.
enum Outcome {
    Pending,
    Complete,
    Drop(DropReason),
}

enum DropReason {
    Limit,
    Invalid,
}

/// Bounded IPv4/IPv6 fragment reassembler driven by packet time.
#[derive(Default)]
pub struct Defragmenter {
    map: FxHashMap<Key, Partial>,
    /// Datagrams by creation order (serial, key); entries whose serial no longer matches are
    /// stale and skipped.
    order: VecDeque<(u64, Key)>,
    next_serial: u64,
    buffered: usize,
    stats: DefragStats,
}

impl Defragmenter {
    /// An empty reassembler.
    pub fn new() -> Self {
        Defragmenter::default()
    }

    /// Adds one fragment (`payload` = the bytes after the IP/fragment headers). Returns the
    /// whole transport payload when this fragment completes its datagram. A fragment that is
    /// the whole datagram (offset 0, no more fragments) is returned as is.
    pub fn push(
        &mut self,
        ts: Ts,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        frag: Fragment,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        let key = Key {
            src,
            dst,
            proto,
            id: frag.id,
        };
        let start = usize::try_from(frag.offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(payload.len());
        if end > MAX_DATAGRAM_LEN {
            self.drop_datagram(&key, DropReason::Limit);
            return None;
        }
        if start == 0 && !frag.more && !self.map.contains_key(&key) {
            return Some(payload.to_vec());
        }
        if let Some(p) = self.map.get(&key) {
            if p.first_ts.saturating_add(DEFRAG_TIMEOUT) <= ts {
                self.discard(&key);
                self.stats.timed_out += 1;
            }
        }
        if !self.map.contains_key(&key) {
            self.start_datagram(key, ts);
        }
        let p = self.map.get_mut(&key)?;
        let before = p.buf.len();
        let outcome = p.add(start, end, frag.more, payload, &mut self.stats);
        self.buffered = self
            .buffered
            .saturating_add(p.buf.len().saturating_sub(before));
        match outcome {
            Outcome::Pending => {
                while self.buffered > MAX_BUFFERED_BYTES && self.evict_oldest() {}
                None
            }
            Outcome::Drop(reason) => {
                self.drop_datagram(&key, reason);
                None
            }
            Outcome::Complete => {
                let mut p = self.discard(&key)?;
                self.stats.reassembled += 1;
                p.buf.truncate(p.total.unwrap_or(p.buf.len()));
                Some(p.buf)
            }
        }
    }

    /// Abandons every datagram whose first fragment is [`DEFRAG_TIMEOUT`] old at `now`.
    pub fn expire(&mut self, now: Ts) {
        while let Some(&(serial, key)) = self.order.front() {
            match self.map.get(&key) {
                Some(p) if p.serial == serial => {
                    if p.first_ts.saturating_add(DEFRAG_TIMEOUT) > now {
                        break;
                    }
                    self.discard(&key);
                    self.stats.timed_out += 1;
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
    }

    /// Counters.
    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Datagrams in progress.
    pub fn in_progress(&self) -> usize {
        self.map.len()
    }

    /// Bytes buffered for datagrams in progress.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    fn start_datagram(&mut self, key: Key, ts: Ts) {
        while self.map.len() >= MAX_DATAGRAMS && self.evict_oldest() {}
        let serial = self.next_serial;
        self.next_serial += 1;
        self.map.insert(
            key,
            Partial {
                first_ts: ts,
                serial,
                buf: Vec::new(),
                ranges: Vec::new(),
                total: None,
                fragments: 0,
            },
        );
        self.order.push_back((serial, key));
        if self.order.len() > 2 * MAX_DATAGRAMS {
            // Drop entries of completed datagrams so the queue stays O(MAX_DATAGRAMS).
            let map = &self.map;
            self.order
                .retain(|(s, k)| map.get(k).is_some_and(|p| p.serial == *s));
        }
    }

    /// Drops the oldest datagram in progress (counted); false when there is none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((serial, key)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|p| p.serial == serial) {
                self.discard(&key);
                self.stats.dropped_limits += 1;
                return true;
            }
        }
        false
    }

    fn drop_datagram(&mut self, key: &Key, reason: DropReason) {
        let known = self.discard(key).is_some();
        match reason {
            // An oversized fragment counts even when it would have started a datagram.
            DropReason::Limit => self.stats.dropped_limits += 1,
            DropReason::Invalid if known => self.stats.dropped_invalid += 1,
            DropReason::Invalid => {}
        }
    }

    /// Removes a datagram and releases its byte budget (its `order` entry goes stale).
    fn discard(&mut self, key: &Key) -> Option<Partial> {
        let p = self.map.remove(key)?;
        self.buffered = self.buffered.saturating_sub(p.buf.len());
        Some(p)
    }
}

impl Partial {
    /// Adds bytes [start, end) of the datagram; `end <= MAX_DATAGRAM_LEN` is checked by the
    /// caller.
    fn add(
        &mut self,
        start: usize,
        end: usize,
        more: bool,
        payload: &[u8],
        stats: &mut DefragStats,
    ) -> Outcome {
        self.fragments += 1;
        if self.fragments > MAX_FRAGMENTS {
            return Outcome::Drop(DropReason::Limit);
        }
        let covered_end = self.ranges.last().map_or(0, |r| r.1);
        if !more {
            if self.total.is_some_and(|t| t != end) || covered_end > end {
                return Outcome::Drop(DropReason::Invalid);
            }
            self.total = Some(end);
        } else if self.total.is_some_and(|t| end > t) {
            return Outcome::Drop(DropReason::Invalid);
        }
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        // Copy the bytes no earlier fragment gave; compare the ones it did.
        let mut cursor = start;
        let mut duplicate = false;
        for &(a, b) in &self.ranges {
            if b <= cursor {
                continue;
            }
            if a >= end {
                break;
            }
            if a > cursor && !copy(&mut self.buf, payload, start, cursor, a) {
                return Outcome::Drop(DropReason::Invalid);
            }
            let (os, oe) = (a.max(cursor), b.min(end));
            let same = match (self.buf.get(os..oe), payload.get(os - start..oe - start)) {
                (Some(old), Some(new)) => old == new,
                _ => false,
            };
            if !same {
                return Outcome::Drop(DropReason::Invalid);
            }
            duplicate = true;
            cursor = b.min(end);
        }
        if cursor < end && !copy(&mut self.buf, payload, start, cursor, end) {
            return Outcome::Drop(DropReason::Invalid);
        }
        if duplicate {
            stats.duplicates += 1;
        }
        insert_range(&mut self.ranges, start, end);
        match (self.total, self.ranges.as_slice()) {
            (Some(t), [(0, e)]) if *e == t => Outcome::Complete,
            (Some(0), []) => Outcome::Complete,
            _ => Outcome::Pending,
        }
    }
}

/// Copies datagram bytes [from, to) out of a fragment starting at `start`.
fn copy(buf: &mut [u8], payload: &[u8], start: usize, from: usize, to: usize) -> bool {
    match (
        buf.get_mut(from..to),
        payload.get(from.wrapping_sub(start)..to.wrapping_sub(start)),
    ) {
        (Some(dst), Some(src)) => {
            dst.copy_from_slice(src);
            true
        }
        _ => false,
    }
}

/// Inserts [start, end) into sorted, merged `ranges`, merging touching neighbours.
fn insert_range(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    if start >= end {
        return;
    }
    let mut s = start;
    let mut e = end;
    ranges.retain(|&(a, b)| {
        if b < s || a > e {
            true
        } else {
            s = s.min(a);
            e = e.max(b);
            false
        }
    });
    let pos = ranges.partition_point(|&(a, _)| a < s);
    ranges.insert(pos, (s, e));
}
