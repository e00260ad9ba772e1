//! Counters of the analysis core, reported by `phonehome status` and stored per run, and the
//! sizes of the state it holds ([`Held`]).

use crate::decode::DecodeError;
use crate::event::Transport;

/// What the core saw and what it could not decode. Plain integers: cheap to bump per packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames handed to the pipeline.
    pub frames: u64,
    /// Captured bytes handed to the pipeline.
    pub bytes: u64,
    /// Frames decoded to a network layer.
    pub decoded: u64,
    pub truncated_link: u64,
    pub bad_ip: u64,
    pub bad_transport: u64,
    pub unsupported_link: u64,
    pub too_deep: u64,
    pub arp: u64,
    pub other_net: u64,
    pub ipv4: u64,
    pub ipv6: u64,
    /// IP fragments seen, and datagrams rebuilt from them.
    pub fragments: u64,
    pub reassembled: u64,
    pub icmp: u64,
    pub other_transport: u64,
    pub tcp_flows: u64,
    pub udp_flows: u64,
    pub dns_messages: u64,
    pub http_requests: u64,
    pub tls_client_hellos: u64,
    /// QUIC flows not decoded because `quic::MAX_QUIC_PENDING` hellos were in progress.
    pub quic_not_inspected: u64,
    pub dhcp: u64,
    /// Application payloads that looked like a protocol but did not parse.
    pub app_errors: u64,
    /// Flow-table counters (copied from the table by [`super::Pipeline::counters`]).
    pub flows_created: u64,
    pub flows_evicted: u64,
    pub flows_active: u64,
}

impl Counters {
    /// Total frames that could not be decoded.
    pub fn decode_errors(&self) -> u64 {
        self.truncated_link
            + self.bad_ip
            + self.bad_transport
            + self.unsupported_link
            + self.too_deep
    }

    pub(super) fn count_decode_error(&mut self, e: DecodeError) {
        match e {
            DecodeError::TruncatedLink => self.truncated_link += 1,
            DecodeError::BadIp => self.bad_ip += 1,
            DecodeError::BadTransport => self.bad_transport += 1,
            DecodeError::UnsupportedLink => self.unsupported_link += 1,
            DecodeError::TooDeep => self.too_deep += 1,
        }
    }

    pub(super) fn count_new_flow(&mut self, t: Transport) {
        match t {
            Transport::Tcp => self.tcp_flows += 1,
            Transport::Udp | Transport::Quic => self.udp_flows += 1,
        }
    }
}

/// How much state the core holds right now; each size is bounded by a named limit of the
/// module that owns it (flow table `max_flows`, `defrag::MAX_DATAGRAMS` and
/// `MAX_BUFFERED_BYTES`, `dns::MAX_PENDING` and `MAX_PENDING_RECORDS`, `quic::MAX_QUIC_PENDING`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// Flows in the table.
    pub flows: usize,
    /// IP datagrams being reassembled, and their buffered bytes.
    pub fragment_datagrams: usize,
    pub fragment_bytes: usize,
    /// DNS queries waiting for a response, and the records they hold.
    pub dns_queries: usize,
    pub dns_records: usize,
    /// QUIC connections whose ClientHello is being collected (`quic::MAX_QUIC_PENDING`).
    pub quic_connections: usize,
}
