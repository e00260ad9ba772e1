//! IP range → autonomous system table, loaded from ip-location-db `asn-*.csv` files.
//!
//! Input rows are `first_ip,last_ip,asn,org` with no header (org quoted when it holds a comma,
//! `""` for a quote inside it), parsed with the `csv` crate. Rows of both families may appear in
//! any file, in any order. Overlapping rows are resolved, not rejected (the 2026 IPv4 file has
//! one: `214.95.0.0–215.0.255.255` AS749 and `215.0.0.0–215.1.3.255` AS721): the range that
//! starts later wins from its start on, so a nested range wins inside its bounds and the
//! enclosing one resumes after it.
//!
//! Compact form, chosen for a 64 MB process budget on a Pi Zero 2 W: one [`RangeTable`] per
//! family stored as three parallel boxed slices (`starts`, `ends`, `as_idx`: 12 bytes a range for
//! IPv4, 36 for IPv6 — no padding, unlike an array of structs holding a `u128`). Adjacent ranges
//! of the same AS and organisation are merged. `as_idx` points into a table of distinct
//! (ASN, organisation) pairs, whose organisation is a span of one deduplicated `String` arena.
//! Lookup is one binary search over `starts`: no allocation.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::BufReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use super::GeoError;

/// Most ranges accepted over all ASN files; bounds memory against an oversized or hostile file
/// (the 2026 ip-location-db files hold ~515,000 rows).
pub const MAX_ASN_RANGES: usize = 4_000_000;

/// Longest organisation name accepted, in bytes (the longest real one is under 200).
pub const MAX_ORG_LEN: usize = 1024;

/// Most bytes of distinct organisation names kept; bounds the name arena.
pub const MAX_ORG_ARENA: usize = 16 * 1024 * 1024;

/// Sorted, disjoint `[start, end]` ranges of one address family, each with an AS index.
#[derive(Debug, Default)]
pub(crate) struct RangeTable<K> {
    starts: Box<[K]>,
    ends: Box<[K]>,
    as_idx: Box<[u32]>,
}

impl<K: Copy + Ord> RangeTable<K> {
    /// The AS index of the range holding `key`, if any.
    pub(crate) fn find(&self, key: K) -> Option<u32> {
        let i = self.starts.partition_point(|&s| s <= key).checked_sub(1)?;
        if key <= *self.ends.get(i)? {
            self.as_idx.get(i).copied()
        } else {
            None
        }
    }

    /// Number of ranges after merging.
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    fn heap_bytes(&self) -> usize {
        self.starts.len() * (2 * size_of::<K>() + size_of::<u32>())
    }
}

/// One (ASN, organisation) pair; `org` indexes `AsnTable::org_spans`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct AsRecord {
    asn: u32,
    org: u32,
}

/// The loaded ASN database: both families and the shared AS and organisation tables.
#[derive(Debug, Default)]
pub(crate) struct AsnTable {
    pub(crate) v4: RangeTable<u32>,
    pub(crate) v6: RangeTable<u128>,
    ases: Box<[AsRecord]>,
    org_spans: Box<[(u32, u32)]>,
    orgs: Box<str>,
}

impl AsnTable {
    /// ASN and organisation of AS index `i`.
    pub(crate) fn as_info(&self, i: u32) -> Option<(u32, &str)> {
        let rec = self.ases.get(usize::try_from(i).ok()?)?;
        let &(start, end) = self.org_spans.get(usize::try_from(rec.org).ok()?)?;
        let org = self.orgs.get(start as usize..end as usize)?;
        Some((rec.asn, org))
    }

    /// Bytes this table holds on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.v4.heap_bytes()
            + self.v6.heap_bytes()
            + self.ases.len() * size_of::<AsRecord>()
            + self.org_spans.len() * size_of::<(u32, u32)>()
            + self.orgs.len()
    }

    /// Number of distinct (ASN, organisation) pairs.
    pub(crate) fn as_count(&self) -> usize {
        self.ases.len()
    }

    /// Loads and compacts every file in `paths`.
    pub(crate) fn load(paths: &[PathBuf]) -> Result<AsnTable, GeoError> {
        let mut b = Builder::default();
        for path in paths {
            b.load_file(path)?;
        }
        Ok(b.finish())
    }
}

/// Accumulates rows before they are sorted, merged and boxed.
#[derive(Default)]
struct Builder {
    v4: Vec<(u32, u32, u32)>,
    v6: Vec<(u128, u128, u32)>,
    ases: Vec<AsRecord>,
    as_ids: FxHashMap<AsRecord, u32>,
    orgs: String,
    org_spans: Vec<(u32, u32)>,
    org_ids: FxHashMap<Box<str>, u32>,
}

fn bad(path: &Path, line: u64, reason: impl Into<String>) -> GeoError {
    GeoError::Csv {
        path: path.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

impl Builder {
    fn load_file(&mut self, path: &Path) -> Result<(), GeoError> {
        let file = File::open(path).map_err(|source| GeoError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::new(file));
        let mut rec = csv::ByteRecord::new();
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Err(bad(path, line, e.to_string()));
                }
            }
            let line = rec.position().map_or(0, |p| p.line());
            let field = |i: usize| -> Result<&str, GeoError> {
                let raw = rec
                    .get(i)
                    .ok_or_else(|| bad(path, line, "expected 4 fields"))?;
                std::str::from_utf8(raw).map_err(|_| bad(path, line, "not UTF-8"))
            };
            if rec.len() != 4 {
                return Err(bad(
                    path,
                    line,
                    format!("expected 4 fields, found {}", rec.len()),
                ));
            }
            let (first, last) = (field(0)?, field(1)?);
            let asn: u32 = field(2)?
                .parse()
                .map_err(|_| bad(path, line, "AS number is not a 32-bit integer"))?;
            let org = field(3)?;
            if org.len() > MAX_ORG_LEN {
                return Err(bad(
                    path,
                    line,
                    format!("organisation longer than {MAX_ORG_LEN} bytes"),
                ));
            }
            let parse = |s: &str| -> Result<IpAddr, GeoError> {
                s.parse()
                    .map_err(|_| bad(path, line, "range bound is not an IP address"))
            };
            let idx = self.as_index(asn, org).ok_or_else(|| {
                bad(
                    path,
                    line,
                    format!("organisation names exceed {MAX_ORG_ARENA} bytes"),
                )
            })?;
            if self.v4.len() + self.v6.len() >= MAX_ASN_RANGES {
                return Err(bad(
                    path,
                    line,
                    format!("more than {MAX_ASN_RANGES} ranges"),
                ));
            }
            match (parse(first)?, parse(last)?) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    let (a, b) = (u32::from(a), u32::from(b));
                    check_order(path, line, a, b)?;
                    self.v4.push((a, b, idx));
                }
                (IpAddr::V6(a), IpAddr::V6(b)) => {
                    let (a, b) = (u128::from(a), u128::from(b));
                    check_order(path, line, a, b)?;
                    self.v6.push((a, b, idx));
                }
                _ => return Err(bad(path, line, "range bounds of different families")),
            }
        }
        Ok(())
    }

    /// Interns (asn, org); `None` when the name arena would exceed [`MAX_ORG_ARENA`].
    fn as_index(&mut self, asn: u32, org: &str) -> Option<u32> {
        let org_id = match self.org_ids.get(org) {
            Some(&id) => id,
            None => {
                if self.orgs.len() + org.len() > MAX_ORG_ARENA {
                    return None;
                }
                let start = u32::try_from(self.orgs.len()).ok()?;
                self.orgs.push_str(org);
                let end = u32::try_from(self.orgs.len()).ok()?;
                let id = u32::try_from(self.org_spans.len()).ok()?;
                self.org_spans.push((start, end));
                self.org_ids.insert(org.into(), id);
                id
            }
        };
        let rec = AsRecord { asn, org: org_id };
        if let Some(&id) = self.as_ids.get(&rec) {
            return Some(id);
        }
        let id = u32::try_from(self.ases.len()).ok()?;
        self.ases.push(rec);
        self.as_ids.insert(rec, id);
        Some(id)
    }

    fn finish(self) -> AsnTable {
        let Builder {
            v4,
            v6,
            ases,
            as_ids,
            orgs,
            org_spans,
            org_ids,
        } = self;
        // The interning maps are not needed any more: free them before compaction peaks.
        drop((as_ids, org_ids));
        AsnTable {
            v4: compact(v4),
            v6: compact(v6),
            ases: ases.into_boxed_slice(),
            org_spans: org_spans.into_boxed_slice(),
            orgs: orgs.into_boxed_str(),
        }
    }
}

/// Rejects a reversed range.
fn check_order<K: Ord>(path: &Path, line: u64, first: K, last: K) -> Result<(), GeoError> {
    if first > last {
        return Err(bad(path, line, "range ends before it starts"));
    }
    Ok(())
}

/// A range being placed: start, end, AS index, priority (position in the sorted input; fits
/// a `u32` because of [`MAX_ASN_RANGES`]).
type Piece<K> = (K, K, u32, u32);

/// Sorts rows, resolves overlaps and merges touching ranges of the same AS index.
///
/// Overlaps: of two rows holding an address, the one that starts later wins (for equal starts,
/// the later row of the input — the sort is stable), so a nested range wins inside its bounds
/// and the enclosing one resumes after it. A piece cut off by a winner waits in `pending` until
/// its new start comes up.
fn compact<K>(mut rows: Vec<(K, K, u32)>) -> RangeTable<K>
where
    K: Copy + Ord + Step,
{
    rows.sort_by_key(|r| r.0);
    let mut placed: Vec<Piece<K>> = Vec::with_capacity(rows.len());
    let mut pending: BinaryHeap<Reverse<Piece<K>>> = BinaryHeap::new();
    let mut rows = rows
        .into_iter()
        .zip(0u32..)
        .map(|((s, e, i), prio)| (s, e, i, prio))
        .peekable();
    loop {
        let from_pending = match (pending.peek(), rows.peek()) {
            (Some(Reverse(t)), Some(r)) => t.0 <= r.0,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let next = if from_pending {
            pending.pop().map(|Reverse(t)| t)
        } else {
            rows.next()
        };
        let Some(piece) = next else { break };
        place(&mut placed, &mut pending, piece);
    }
    drop(rows);
    placed.dedup_by(|cur, prev| {
        let touch = prev.2 == cur.2 && prev.1.next() == Some(cur.0);
        if touch {
            prev.1 = cur.1;
        }
        touch
    });
    RangeTable {
        starts: placed.iter().map(|r| r.0).collect(),
        ends: placed.iter().map(|r| r.1).collect(),
        as_idx: placed.iter().map(|r| r.2).collect(),
    }
}

/// Places `piece`, whose start is at or after every start in `placed` (so it can only overlap
/// the last placed piece); the losing side of an overlap is cut and its remainder re-queued.
fn place<K>(
    placed: &mut Vec<Piece<K>>,
    pending: &mut BinaryHeap<Reverse<Piece<K>>>,
    piece: Piece<K>,
) where
    K: Copy + Ord + Step,
{
    let (start, end, _, prio) = piece;
    if let Some(last) = placed.last_mut() {
        if start <= last.1 {
            if prio < last.3 {
                // The placed piece wins; what sticks out past it comes back later.
                if let Some(resume) = last.1.next().filter(|_| end > last.1) {
                    pending.push(Reverse((resume, end, piece.2, prio)));
                }
                return;
            }
            if let Some(resume) = end.next().filter(|_| end < last.1) {
                pending.push(Reverse((resume, last.1, last.2, last.3)));
            }
            match start.prev() {
                Some(cut) if cut >= last.0 => last.1 = cut,
                _ => {
                    placed.pop();
                }
            }
        }
    }
    placed.push(piece);
}

/// The next integer, if it exists: used to find ranges that touch.
trait Step: Sized {
    fn next(self) -> Option<Self>;
    fn prev(self) -> Option<Self>;
}

impl Step for u32 {
    fn next(self) -> Option<u32> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<u32> {
        self.checked_sub(1)
    }
}

impl Step for u128 {
    fn next(self) -> Option<u128> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<u128> {
        self.checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn compact_merges_touching_ranges_of_one_as_only() {
        let t = compact(vec![(20u32, 29, 1), (0, 9, 0), (10, 19, 0), (31, 40, 1)]);
        assert_eq!(&*t.starts, &[0, 20, 31]);
        assert_eq!(&*t.ends, &[19, 29, 40]);
        assert_eq!(&*t.as_idx, &[0, 1, 1]);
        assert_eq!(t.find(0), Some(0));
        assert_eq!(t.find(19), Some(0));
        assert_eq!(t.find(29), Some(1));
        assert_eq!(t.find(30), None);
        assert_eq!(t.find(41), None);
        assert_eq!(t.find(u32::MAX), None);
    }

    #[test]
    fn compact_resolves_partial_and_nested_overlaps() {
        // The real DoD case: a later-starting range cuts the earlier one.
        let t = compact(vec![(0u32, 20, 7), (10, 30, 8)]);
        assert_eq!(
            (&*t.starts, &*t.ends, &*t.as_idx),
            (&[0, 10][..], &[9, 30][..], &[7, 8][..])
        );
        // Nested: inner wins, outer resumes after it.
        let t = compact(vec![(0u32, 100, 1), (10, 19, 2), (12, 13, 3)]);
        assert_eq!(&*t.starts, &[0, 10, 12, 14, 20]);
        assert_eq!(&*t.ends, &[9, 11, 13, 19, 100]);
        assert_eq!(&*t.as_idx, &[1, 2, 3, 2, 1]);
        // Equal starts: the later row wins.
        let t = compact(vec![(5u32, 9, 1), (5, 9, 2)]);
        assert_eq!(t.find(7), Some(2));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn compact_handles_the_ends_of_the_address_space() {
        let t = compact(vec![(u128::MAX - 1, u128::MAX, 3), (0, u128::MAX, 4)]);
        assert_eq!(t.find(u128::MAX), Some(3));
        assert_eq!(t.find(0), Some(4));
        assert_eq!(RangeTable::<u32>::default().find(5), None);
    }

    /// What `compact` promises, by brute force: among the rows holding `x`, the one with the
    /// greatest start, and for equal starts the last in input order.
    fn reference(rows: &[(u32, u32, u32)], x: u32) -> Option<u32> {
        let mut best: Option<(u32, u32)> = None;
        for &(s, e, i) in rows {
            if s <= x && x <= e && best.is_none_or(|(bs, _)| s >= bs) {
                best = Some((s, i));
            }
        }
        best.map(|(_, i)| i)
    }

    proptest! {
        #[test]
        fn compact_matches_brute_force(
            raw in proptest::collection::vec((0u32..64, 0u32..16, 0u32..4), 0..12)
        ) {
            let rows: Vec<(u32, u32, u32)> = raw.iter().map(|&(s, l, i)| (s, s + l, i)).collect();
            let t = compact(rows.clone());
            for w in t.starts.windows(2) {
                prop_assert!(w[0] < w[1]);
            }
            for x in 0..82 {
                prop_assert_eq!(t.find(x), reference(&rows, x), "x = {}", x);
            }
        }
    }
}
