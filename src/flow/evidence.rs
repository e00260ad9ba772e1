//! Evidence keeping: the first frames of a flow, bounded, so that a warn or critical alert can
//! be backed by a pcap of the packets that raised it (issue 3, "Evidence").
//!
//! [`FlowFrames`] keeps the frames of one flow in one contiguous byte buffer plus a small
//! fixed-size header per frame; [`FlowFrames::take`] hands them out as [`KeptFrame`]s when the
//! flow ends or an alert asks. [`EvidenceBudget`] is shared by every flow of a pipeline and caps
//! the heap all of them hold together.
//!
//! Invariants and costs:
//! - Per direction, kept records (a [`RECORD_OVERHEAD`]-byte pcap record header plus the kept
//!   frame bytes) never exceed [`MAX_BYTES_PER_DIR`]; each frame is cut to at most [`SNAP_LEN`]
//!   bytes, its wire length kept in `orig_len`. What is kept is a prefix of each direction:
//!   the first frame that does not fit is cut to the room left (when at least
//!   [`MIN_PARTIAL`] bytes remain) and closes that direction. So one flow's pcap holds at most
//!   24 + 2 × [`MAX_BYTES_PER_DIR`] bytes.
//! - The budget is charged with the real capacity of a flow's two buffers, so the heap held by
//!   all flows stays under the cap (plus at most one buffer growth). Buffers grow by doubling
//!   under our control, so the shared counter is touched only when a buffer grows (a handful
//!   of times per flow), never per frame. A flow created while the budget is exhausted keeps
//!   nothing; a flow that cannot grow stops keeping; both are counted in the budget.
//! - [`FlowFrames::push`] on the common path is two `Vec` appends (frame bytes, header) and a
//!   few comparisons; no allocation beyond buffer growth, no I/O, no panics.
//! - Dropping a `FlowFrames` (or taking its frames) gives its bytes back to the budget.
//!
//! Hand-rolled: no crate of the field keeps per-flow bounded packet buffers; the pcap file is
//! written by [`crate::store::evidence`].

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::table::Dir;
use crate::decode::LinkType;
use sha2::{Digest, Sha256};

use crate::event::{Ts, MICROS};

/// Hex digits of the flow hash in an evidence file name (64 bits: collisions between flows
/// of the same second are negligible).
pub const HASH_HEX: usize = 16;

/// Pcap bytes kept per direction of a flow (record headers included): the issue's "first
/// 64 KiB each way". Bounds one flow's memory and one evidence file.
pub const MAX_BYTES_PER_DIR: usize = 64 * 1024;

/// Longest frame prefix kept, in bytes (also the snap length written in evidence files).
/// Offloaded frames reach 64 KiB; the per-direction cap cuts further.
pub const SNAP_LEN: usize = 65_535;

/// Size of a classic pcap record header, charged per frame against [`MAX_BYTES_PER_DIR`]: it
/// also bounds the number of frames (empty frames cannot pile up headers for free).
pub const RECORD_OVERHEAD: usize = 16;

/// Fewest frame bytes worth keeping as a cut frame at the end of a direction: enough for
/// Ethernet + IPv6 + TCP headers with options, so the cut frame still shows its flow.
pub const MIN_PARTIAL: usize = 128;

/// Default global cap on the heap all flows' evidence buffers hold together, in bytes.
pub const DEFAULT_BUDGET_BYTES: usize = 8 * 1024 * 1024;

/// First capacity of a flow's byte buffer: a handshake plus a request head fit without
/// regrowth, and a flow that never sends much costs little.
pub const INITIAL_DATA_CAPACITY: usize = 2048;

/// First capacity of a flow's header list.
pub const INITIAL_HEADS_CAPACITY: usize = 16;

/// Largest byte buffer one flow can need: both directions full of frame bytes.
const MAX_DATA_CAPACITY: usize = 2 * MAX_BYTES_PER_DIR;

/// Most frames one flow can keep: both directions full of empty records.
const MAX_HEADS: usize = 2 * MAX_BYTES_PER_DIR / RECORD_OVERHEAD;

/// Counters and cap shared by every [`FlowFrames`] of a pipeline.
#[derive(Debug)]
struct BudgetInner {
    cap: usize,
    used: AtomicUsize,
    flows_refused: AtomicU64,
    flows_cut: AtomicU64,
}

/// The global memory cap for evidence, shared by all flows (cheap to clone: one `Arc`).
///
/// Beyond the cap, new flows keep nothing and growing flows stop keeping; both are counted so
/// the operator sees evidence was lost to a flood.
#[derive(Clone, Debug)]
pub struct EvidenceBudget {
    inner: Arc<BudgetInner>,
}

impl Default for EvidenceBudget {
    fn default() -> Self {
        EvidenceBudget::new(DEFAULT_BUDGET_BYTES)
    }
}

impl EvidenceBudget {
    /// A budget of `cap_bytes` of buffer heap for all flows together.
    pub fn new(cap_bytes: usize) -> EvidenceBudget {
        EvidenceBudget {
            inner: Arc::new(BudgetInner {
                cap: cap_bytes,
                used: AtomicUsize::new(0),
                flows_refused: AtomicU64::new(0),
                flows_cut: AtomicU64::new(0),
            }),
        }
    }

    /// The cap, in bytes.
    pub fn cap(&self) -> usize {
        self.inner.cap
    }

    /// Bytes currently held by live [`FlowFrames`].
    pub fn used(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Flows that kept nothing because the budget was exhausted when they started.
    pub fn flows_refused(&self) -> u64 {
        self.inner.flows_refused.load(Ordering::Relaxed)
    }

    /// Flows that stopped keeping early because the budget could not grow their buffers.
    pub fn flows_cut(&self) -> u64 {
        self.inner.flows_cut.load(Ordering::Relaxed)
    }

    /// Reserves `n` bytes if the total stays within the cap.
    fn try_charge(&self, n: usize) -> bool {
        let cap = self.inner.cap;
        self.inner
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                u.checked_add(n).filter(|&t| t <= cap)
            })
            .is_ok()
    }

    /// Gives `n` bytes back.
    fn release(&self, n: usize) {
        let _ = self
            .inner
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(n))
            });
    }
}

/// Header of one kept frame; its bytes are `data[start..start + len]`.
#[derive(Clone, Copy, Debug)]
struct Head {
    ts: Ts,
    start: u32,
    len: u32,
    orig_len: u32,
    link: LinkType,
    dir: Dir,
}

/// One kept frame, as handed to the pcap writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptFrame {
    /// Capture time, microseconds since the Unix epoch.
    pub ts: Ts,
    /// Link-layer type of `data`.
    pub link: LinkType,
    /// Direction relative to the flow's orientation.
    pub dir: Dir,
    /// Length of the frame as captured (before any cut made here).
    pub orig_len: u32,
    /// The kept bytes: a prefix of the frame, at most [`SNAP_LEN`].
    pub data: Vec<u8>,
}

/// The bounded frame keeper of one flow. See the module header for the limits.
#[derive(Debug)]
pub struct FlowFrames {
    budget: EvidenceBudget,
    data: Vec<u8>,
    heads: Vec<Head>,
    /// Bytes of buffer capacity charged to the budget.
    charged: usize,
    /// Record bytes kept per direction (Up, Down).
    used: [usize; 2],
    /// Direction closed: it hit its cap; nothing more is kept that way.
    closed: [bool; 2],
    /// Nothing more is kept at all (refused at start, or the budget ran out).
    stopped: bool,
    /// Frames seen but not kept (caps or budget).
    dropped: u64,
}

impl FlowFrames {
    /// A keeper for a new flow. When `budget` cannot hold even this flow's first buffers
    /// ([`INITIAL_DATA_CAPACITY`] bytes and [`INITIAL_HEADS_CAPACITY`] headers) the flow keeps
    /// nothing and is counted in [`EvidenceBudget::flows_refused`].
    pub fn new(budget: &EvidenceBudget) -> FlowFrames {
        let first = INITIAL_DATA_CAPACITY
            .saturating_add(INITIAL_HEADS_CAPACITY.saturating_mul(std::mem::size_of::<Head>()));
        let stopped = budget.used().saturating_add(first) > budget.cap();
        if stopped {
            budget.inner.flows_refused.fetch_add(1, Ordering::Relaxed);
        }
        FlowFrames {
            budget: budget.clone(),
            data: Vec::new(),
            heads: Vec::new(),
            charged: 0,
            used: [0; 2],
            closed: [false; 2],
            stopped,
            dropped: 0,
        }
    }

    /// Keeps `frame` (captured at `ts`, of `link` type, travelling `dir`) if the caps allow,
    /// cut to [`SNAP_LEN`] or to the room left in its direction. Never fails; frames that are
    /// not kept are counted in [`FlowFrames::dropped`].
    pub fn push(&mut self, ts: Ts, link: LinkType, frame: &[u8], dir: Dir) {
        let d = dir_index(dir);
        let (Some(&used), Some(&closed)) = (self.used.get(d), self.closed.get(d)) else {
            return;
        };
        if self.stopped || closed {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        let Some(room) = MAX_BYTES_PER_DIR
            .checked_sub(used)
            .and_then(|r| r.checked_sub(RECORD_OVERHEAD))
        else {
            self.close(d);
            self.dropped = self.dropped.saturating_add(1);
            return;
        };
        let want = frame.len().min(SNAP_LEN);
        let keep = want.min(room);
        let cut_by_room = keep < want;
        if cut_by_room && keep < MIN_PARTIAL {
            self.close(d);
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        if !self.reserve(keep) {
            self.stopped = true;
            self.budget.inner.flows_cut.fetch_add(1, Ordering::Relaxed);
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        let Some(bytes) = frame.get(..keep) else {
            return;
        };
        // `start` and `len` are below MAX_DATA_CAPACITY; a frame longer than 4 GiB (not
        // possible from a capture source) would record a saturated orig_len.
        let head = Head {
            ts,
            start: u32::try_from(self.data.len()).unwrap_or(u32::MAX),
            len: u32::try_from(keep).unwrap_or(u32::MAX),
            orig_len: u32::try_from(frame.len()).unwrap_or(u32::MAX),
            link,
            dir,
        };
        self.data.extend_from_slice(bytes);
        self.heads.push(head);
        if let Some(u) = self.used.get_mut(d) {
            *u = u.saturating_add(RECORD_OVERHEAD).saturating_add(keep);
        }
        if cut_by_room {
            self.close(d);
        }
    }

    fn close(&mut self, d: usize) {
        if let Some(c) = self.closed.get_mut(d) {
            *c = true;
        }
    }

    /// Makes room for one more header and `n` more bytes, growing the buffers by doubling
    /// (capped at one flow's maximum) and charging the budget first. False when the budget
    /// refuses.
    fn reserve(&mut self, n: usize) -> bool {
        let need = self.data.len().saturating_add(n);
        if need > self.data.capacity() {
            let target = self
                .data
                .capacity()
                .saturating_mul(2)
                .max(INITIAL_DATA_CAPACITY)
                .max(need)
                .min(MAX_DATA_CAPACITY.max(need));
            if !self.grow_data(target) {
                return false;
            }
        }
        if self.heads.len() == self.heads.capacity() {
            let target = self
                .heads
                .capacity()
                .saturating_mul(2)
                .clamp(INITIAL_HEADS_CAPACITY, MAX_HEADS);
            // The per-direction caps keep `len` below MAX_HEADS; refuse rather than grow past.
            if target <= self.heads.len() || !self.grow_heads(target) {
                return false;
            }
        }
        true
    }

    fn grow_data(&mut self, target: usize) -> bool {
        let old = self.data.capacity();
        let extra = target.saturating_sub(old);
        if !self.budget.try_charge(extra) {
            return false;
        }
        self.data
            .reserve_exact(target.saturating_sub(self.data.len()));
        self.settle(self.data.capacity().saturating_sub(old), extra);
        true
    }

    fn grow_heads(&mut self, target: usize) -> bool {
        let size = std::mem::size_of::<Head>();
        let old = self.heads.capacity();
        let extra = target.saturating_sub(old).saturating_mul(size);
        if !self.budget.try_charge(extra) {
            return false;
        }
        self.heads
            .reserve_exact(target.saturating_sub(self.heads.len()));
        self.settle(
            self.heads
                .capacity()
                .saturating_sub(old)
                .saturating_mul(size),
            extra,
        );
        true
    }

    /// Records what a growth really cost: `reserved` bytes were charged before growing, the
    /// allocator gave `real` (it may give more than asked; the budget then goes over its cap
    /// by at most this one growth, and gets it back when the flow is dropped).
    fn settle(&mut self, real: usize, reserved: usize) {
        if real > reserved {
            self.budget
                .inner
                .used
                .fetch_add(real - reserved, Ordering::Relaxed);
        } else {
            self.budget.release(reserved - real);
        }
        self.charged = self.charged.saturating_add(real);
    }

    /// Number of frames kept.
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    /// True when no frame is kept.
    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// Pcap record bytes kept in direction `dir` (headers included), ≤ [`MAX_BYTES_PER_DIR`].
    pub fn kept_bytes(&self, dir: Dir) -> usize {
        self.used.get(dir_index(dir)).copied().unwrap_or(0)
    }

    /// Frames seen but not kept (direction full, budget exhausted, flow refused).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// True when this flow keeps nothing more (refused at start or cut by the budget).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Bytes of budget this flow holds now.
    pub fn charged(&self) -> usize {
        self.charged
    }

    /// The kept frames in push order; the flow's budget is given back.
    pub fn take(mut self) -> Vec<KeptFrame> {
        let data = std::mem::take(&mut self.data);
        let heads = std::mem::take(&mut self.heads);
        let mut out = Vec::with_capacity(heads.len());
        for h in &heads {
            let start = h.start as usize;
            let end = start.saturating_add(h.len as usize);
            if let Some(bytes) = data.get(start..end) {
                out.push(KeptFrame {
                    ts: h.ts,
                    link: h.link,
                    dir: h.dir,
                    orig_len: h.orig_len,
                    data: bytes.to_vec(),
                });
            }
        }
        out
    }
}

impl Drop for FlowFrames {
    fn drop(&mut self) {
        self.budget.release(self.charged);
        self.charged = 0;
    }
}

fn dir_index(dir: Dir) -> usize {
    match dir {
        Dir::Up => 0,
        Dir::Down => 1,
    }
}

/// The file name for an alert at `alert_ts` on the flow `flow_id` (any string naming the
/// flow, e.g. its 5-tuple; only its hash is used): UTC second of the alert, then the first
/// [`HASH_HEX`] hex digits of SHA-256(`flow_id`).
pub fn evidence_name(alert_ts: Ts, flow_id: &str) -> String {
    let secs = alert_ts.div_euclid(MICROS);
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let hash = hex::encode(Sha256::digest(flow_id.as_bytes()));
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{}.pcap",
        t.year().clamp(0, 9999),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        hash.get(..HASH_HEX).unwrap_or_default()
    )
}

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
