//! Bidirectional flow table keyed by the canonical 5-tuple.
//!
//! Role: find or create the flow of every packet, orient it (which side is the device), count
//! bytes and packets per direction, follow the TCP handshake/teardown and end flows on idle
//! timeouts, FIN/RST, port reuse or when the table is full.
//!
//! Invariants and costs:
//! - Both directions of a conversation map to one [`FlowKey`] (endpoints ordered), so a packet
//!   of an existing flow costs one FxHash lookup and no allocation.
//! - Flows live in a slab (`slots`) indexed by `u32`; `map` values are always live slot
//!   indices. Each live flow sits in exactly one of three intrusive LRU lists, one per timeout
//!   class (open TCP, closing TCP, UDP/other), most recently touched at the head. Within a
//!   class every flow has the same timeout, so [`FlowTable::expire`] only walks list tails and
//!   does work proportional to the flows it ends (plus three checks), and the stalest flow of
//!   the table is the oldest of three tails (O(1) eviction).
//! - Time is packet time only. Timestamps that go backwards are accepted (`last_ts` keeps the
//!   maximum); the lists are then ordered by arrival, which may delay a few expiries to a
//!   later `expire` call but never loses a flow.
//! - Memory is bounded by `max_flows` (clamped to [`MAX_FLOWS_LIMIT`]).
//!
//! - Orientation, counters and the TCP state machine of one flow live in [`super::conn`].
//!
//! Hand-rolled rather than a crate (e.g. `lru`): we need three lists over one slab with the
//! flow handed out by value on removal, and no per-packet allocation.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::conn::{blank_flow, Class, FlowKey, Lists, Node, NIL};
use crate::decode::tcp_flags::{ACK, SYN};
use crate::event::{FlowEnd, FlowRecord, MacAddr, TcpState, Transport, Ts};

pub use super::conn::is_service_port;

/// Upper bound on `FlowConfig::max_flows`: slab indices are `u32`, and 16 M flows is far above
/// what a Pi can hold; bounds memory if a config asks for more.
pub const MAX_FLOWS_LIMIT: usize = 1 << 24;

/// Which way a packet travels relative to the flow's orientation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client (device) → server.
    Up,
    /// Server → client.
    Down,
}

/// Limits and timeouts of a [`FlowTable`].
#[derive(Clone, Copy, Debug)]
pub struct FlowConfig {
    /// Flows kept at most; beyond it the stalest are evicted (counted).
    pub max_flows: usize,
    /// Idle timeout of an established TCP flow, microseconds.
    pub tcp_idle: Ts,
    /// Idle timeout of a TCP flow after FIN/RST, microseconds.
    pub tcp_closed_idle: Ts,
    /// Idle timeout of UDP and other flows, microseconds.
    pub udp_idle: Ts,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 65_536,
            tcp_idle: 300 * crate::event::MICROS,
            tcp_closed_idle: 10 * crate::event::MICROS,
            udp_idle: 60 * crate::event::MICROS,
        }
    }
}

/// Counters of a flow table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Flows created.
    pub created: u64,
    /// Flows ended by [`FlowTable::expire`] (idle, or quiet after FIN/RST).
    pub expired: u64,
    /// Flows pushed out of a full table.
    pub evicted: u64,
    /// Flows currently in the table.
    pub active: u64,
    /// Closed/reset TCP flows ended early because a new SYN reused their ports.
    pub reused: u64,
}

/// One flow. `A` is the caller's per-flow application state (inspection buffers, parsers).
#[derive(Debug)]
pub struct Flow<A> {
    /// Transport protocol.
    pub transport: Transport,
    /// Device side address.
    pub client_ip: IpAddr,
    /// Device side port.
    pub client_port: u16,
    /// Remote side address.
    pub server_ip: IpAddr,
    /// Remote side port.
    pub server_port: u16,
    /// Timestamp of the first packet.
    pub first_ts: Ts,
    /// Latest packet timestamp seen.
    pub last_ts: Ts,
    /// Captured frame bytes client → server.
    pub bytes_up: u64,
    /// Captured frame bytes server → client.
    pub bytes_down: u64,
    /// Packets client → server.
    pub packets_up: u64,
    /// Packets server → client.
    pub packets_down: u64,
    /// Link source of the client's packets (or destination of the server's).
    pub client_mac: Option<MacAddr>,
    /// Name that led the device here; set by the caller.
    pub domain: Option<String>,
    /// TCP state ([`TcpState::None`] for other transports).
    pub tcp_state: TcpState,
    /// Caller's per-flow state.
    pub app: A,
}

impl<A> Flow<A> {
    /// The record of this flow as it stands.
    pub fn record(&self, device_mac: Option<MacAddr>, end: FlowEnd) -> FlowRecord {
        FlowRecord {
            ts: self.first_ts,
            last_ts: self.last_ts,
            device_mac,
            transport: self.transport,
            client_ip: self.client_ip,
            client_port: self.client_port,
            server_ip: self.server_ip,
            server_port: self.server_port,
            bytes_up: self.bytes_up,
            bytes_down: self.bytes_down,
            packets_up: self.packets_up,
            packets_down: self.packets_down,
            domain: self.domain.clone(),
            country: None,
            asn: None,
            as_org: None,
            tcp_state: self.tcp_state,
            end,
        }
    }
}

/// What a packet tells the flow table.
#[derive(Clone, Copy, Debug)]
pub struct PacketMeta {
    /// Packet timestamp.
    pub ts: Ts,
    /// Transport protocol.
    pub transport: Transport,
    /// Source address.
    pub src_ip: IpAddr,
    /// Source port (0 when the transport has none).
    pub src_port: u16,
    /// Destination address.
    pub dst_ip: IpAddr,
    /// Destination port.
    pub dst_port: u16,
    /// TCP flags (0 for UDP).
    pub tcp_flags: u8,
    /// Captured frame length, counted into bytes_up/down.
    pub frame_len: u32,
    /// Link source, when the link type has one.
    pub src_mac: Option<MacAddr>,
    /// Link destination, when the link type has one.
    pub dst_mac: Option<MacAddr>,
}

/// The flow table.
pub struct FlowTable<A> {
    cfg: FlowConfig,
    max_flows: usize,
    map: FxHashMap<FlowKey, u32>,
    slots: Vec<Option<Node<A>>>,
    free: Vec<u32>,
    lists: Lists,
    stats: FlowStats,
    /// Target of a lookup that breaks the slab invariant (never expected); avoids a panic path.
    spare: Flow<A>,
}

impl<A: Default> FlowTable<A> {
    /// An empty table with limits and timeouts from `cfg`.
    pub fn new(cfg: FlowConfig) -> Self {
        FlowTable {
            cfg,
            max_flows: cfg.max_flows.clamp(1, MAX_FLOWS_LIMIT),
            map: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            lists: Lists::default(),
            stats: FlowStats::default(),
            spare: blank_flow(),
        }
    }

    /// Finds or creates the flow of `pkt`, updates its counters and TCP state, and returns it
    /// with the packet's direction. A flow pushed out to make room is handed to `ended`.
    pub fn track(
        &mut self,
        pkt: &PacketMeta,
        ended: &mut dyn FnMut(Flow<A>, FlowEnd),
    ) -> (&mut Flow<A>, Dir) {
        let key = FlowKey::of(pkt);
        let mut found = self.map.get(&key).copied();
        if let Some(idx) = found {
            if self.is_port_reuse(idx, pkt) {
                if let Some(node) = self.remove(idx) {
                    self.stats.reused += 1;
                    ended(node.flow, FlowEnd::Closed);
                }
                found = None;
            }
        }
        let idx = match found {
            Some(idx) => idx,
            None => self.create(key, pkt, ended),
        };
        let (dir, class_changed_to) = match self.slots.get_mut(idx as usize) {
            Some(Some(node)) => {
                let dir = node.update(pkt);
                let class = Class::of(node.flow.transport, node.flow.tcp_state);
                (dir, (class != node.class).then_some(class))
            }
            _ => (Dir::Up, None),
        };
        self.unlink(idx);
        if let Some(class) = class_changed_to {
            if let Some(Some(node)) = self.slots.get_mut(idx as usize) {
                node.class = class;
            }
        }
        self.push_front(idx);
        match self.slots.get_mut(idx as usize) {
            Some(Some(node)) => (&mut node.flow, dir),
            _ => {
                debug_assert!(false, "flow table: map points at a free slot");
                (&mut self.spare, dir)
            }
        }
    }

    /// Ends every flow idle at `now` (packet time), handing each to `ended`: flows after
    /// FIN/RST quiet for `tcp_closed_idle` end as [`FlowEnd::Closed`], others idle for their
    /// timeout as [`FlowEnd::Idle`]. Work is proportional to the flows ended.
    pub fn expire(&mut self, now: Ts, ended: &mut dyn FnMut(Flow<A>, FlowEnd)) {
        for class in [Class::TcpOpen, Class::TcpClosing, Class::Other] {
            let timeout = match class {
                Class::TcpOpen => self.cfg.tcp_idle,
                Class::TcpClosing => self.cfg.tcp_closed_idle,
                Class::Other => self.cfg.udp_idle,
            };
            let reason = match class {
                Class::TcpClosing => FlowEnd::Closed,
                _ => FlowEnd::Idle,
            };
            loop {
                let idx = self.lists.get(class).tail;
                let due = match self.slots.get(idx as usize) {
                    Some(Some(node)) => node.flow.last_ts.saturating_add(timeout) <= now,
                    _ => false,
                };
                if !due {
                    break;
                }
                match self.remove(idx) {
                    Some(node) => {
                        self.stats.expired += 1;
                        ended(node.flow, reason);
                    }
                    None => break,
                }
            }
        }
    }

    /// Ends every flow (end of capture, shutdown), stalest first, as [`FlowEnd::Flushed`].
    pub fn flush(&mut self, ended: &mut dyn FnMut(Flow<A>, FlowEnd)) {
        while let Some(idx) = self.stalest() {
            match self.remove(idx) {
                Some(node) => ended(node.flow, FlowEnd::Flushed),
                None => break,
            }
        }
        self.slots.clear();
        self.free.clear();
        self.map.clear();
        self.lists = Lists::default();
    }

    /// Counters; `active` is the current number of flows.
    pub fn stats(&self) -> FlowStats {
        FlowStats {
            active: self.map.len() as u64,
            ..self.stats
        }
    }

    /// Number of flows in the table.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when the table holds no flow.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A closed or reset TCP flow that sees a new SYN (without ACK) is a new connection.
    fn is_port_reuse(&self, idx: u32, pkt: &PacketMeta) -> bool {
        let syn_only = pkt.tcp_flags & (SYN | ACK) == SYN;
        match self.slots.get(idx as usize) {
            Some(Some(node)) => {
                pkt.transport == Transport::Tcp
                    && syn_only
                    && matches!(node.flow.tcp_state, TcpState::Closed | TcpState::Reset)
            }
            _ => false,
        }
    }

    /// Makes room if needed and inserts a new, oriented flow (not yet linked or counted).
    fn create(
        &mut self,
        key: FlowKey,
        pkt: &PacketMeta,
        ended: &mut dyn FnMut(Flow<A>, FlowEnd),
    ) -> u32 {
        while self.map.len() >= self.max_flows {
            let Some(victim) = self.stalest() else { break };
            match self.remove(victim) {
                Some(node) => {
                    self.stats.evicted += 1;
                    ended(node.flow, FlowEnd::Evicted);
                }
                None => break,
            }
        }
        let node = Node::new(key, pkt);
        let idx = match self.free.pop() {
            Some(idx) => {
                if let Some(slot) = self.slots.get_mut(idx as usize) {
                    *slot = Some(node);
                }
                idx
            }
            None => {
                // max_flows ≤ MAX_FLOWS_LIMIT < u32::MAX, so the new index fits and is not NIL.
                let idx = self.slots.len() as u32;
                self.slots.push(Some(node));
                idx
            }
        };
        self.map.insert(key, idx);
        self.stats.created += 1;
        idx
    }

    /// The least recently touched flow of the whole table: the oldest of the list tails.
    fn stalest(&self) -> Option<u32> {
        [Class::TcpOpen, Class::TcpClosing, Class::Other]
            .into_iter()
            .map(|c| self.lists.get(c).tail)
            .filter_map(|idx| match self.slots.get(idx as usize) {
                Some(Some(node)) => Some((node.flow.last_ts, idx)),
                _ => None,
            })
            .min()
            .map(|(_, idx)| idx)
    }

    /// Unlinks and frees a slot, returning its node.
    fn remove(&mut self, idx: u32) -> Option<Node<A>> {
        self.unlink(idx);
        let node = self.slots.get_mut(idx as usize)?.take()?;
        self.map.remove(&node.key);
        self.free.push(idx);
        Some(node)
    }

    /// Takes a slot out of its class list (no-op for an unlinked slot).
    fn unlink(&mut self, idx: u32) {
        let Some(Some(node)) = self.slots.get_mut(idx as usize) else {
            return;
        };
        let (prev, next, class) = (node.prev, node.next, node.class);
        node.prev = NIL;
        node.next = NIL;
        match self.slots.get_mut(prev as usize) {
            Some(Some(p)) => p.next = next,
            _ if self.lists.get(class).head == idx => self.lists.get_mut(class).head = next,
            _ => {}
        }
        match self.slots.get_mut(next as usize) {
            Some(Some(n)) => n.prev = prev,
            _ if self.lists.get(class).tail == idx => self.lists.get_mut(class).tail = prev,
            _ => {}
        }
    }

    /// Links an unlinked slot at the head (most recent end) of its class list.
    fn push_front(&mut self, idx: u32) {
        let Some(Some(node)) = self.slots.get_mut(idx as usize) else {
            return;
        };
        let class = node.class;
        let old_head = self.lists.get(class).head;
        node.prev = NIL;
        node.next = old_head;
        if let Some(Some(h)) = self.slots.get_mut(old_head as usize) {
            h.prev = idx;
        }
        let list = self.lists.get_mut(class);
        list.head = idx;
        if list.tail == NIL {
            list.tail = idx;
        }
    }
}
