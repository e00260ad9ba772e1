//! Bidirectional flow table keyed by the 5-tuple.
//! STUB: to be implemented.

use std::net::IpAddr;

use crate::event::{FlowEnd, FlowRecord, MacAddr, TcpState, Transport, Ts};

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
    pub created: u64,
    pub expired: u64,
    pub evicted: u64,
    pub active: u64,
}

/// One flow. `A` is the caller's per-flow application state (inspection buffers, parsers).
#[derive(Debug)]
pub struct Flow<A> {
    pub transport: Transport,
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    pub first_ts: Ts,
    pub last_ts: Ts,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub packets_up: u64,
    pub packets_down: u64,
    /// Link source of the client's packets (or destination of the server's).
    pub client_mac: Option<MacAddr>,
    pub domain: Option<String>,
    pub tcp_state: TcpState,
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
            tcp_state: self.tcp_state,
            end,
        }
    }
}

/// What a packet tells the flow table.
#[derive(Clone, Copy, Debug)]
pub struct PacketMeta {
    pub ts: Ts,
    pub transport: Transport,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dst_ip: IpAddr,
    pub dst_port: u16,
    /// TCP flags (0 for UDP).
    pub tcp_flags: u8,
    /// Captured frame length, counted into bytes_up/down.
    pub frame_len: u32,
    pub src_mac: Option<MacAddr>,
    pub dst_mac: Option<MacAddr>,
}

/// The flow table.
pub struct FlowTable<A> {
    _a: std::marker::PhantomData<A>,
}

impl<A: Default> FlowTable<A> {
    pub fn new(_cfg: FlowConfig) -> Self {
        FlowTable {
            _a: std::marker::PhantomData,
        }
    }

    /// Finds or creates the flow of `pkt`, updates its counters and TCP state, and returns it
    /// with the packet's direction. A flow pushed out to make room is handed to `ended`.
    pub fn track(
        &mut self,
        _pkt: &PacketMeta,
        _ended: &mut dyn FnMut(Flow<A>, FlowEnd),
    ) -> (&mut Flow<A>, Dir) {
        unimplemented!()
    }

    /// Ends every flow idle at `now` (packet time), handing each to `ended`.
    pub fn expire(&mut self, _now: Ts, _ended: &mut dyn FnMut(Flow<A>, FlowEnd)) {}

    /// Ends every flow (end of capture, shutdown).
    pub fn flush(&mut self, _ended: &mut dyn FnMut(Flow<A>, FlowEnd)) {}

    pub fn stats(&self) -> FlowStats {
        FlowStats::default()
    }
}
