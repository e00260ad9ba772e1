//! [`TcpConversation`]: a scripted TCP connection between two endpoints, rendered as
//! Ethernet frames with deterministic timestamps.
//!
//! Covers what analysers must cope with: the three-way handshake (MSS on both SYNs), client
//! and server data cut at the MSS, one client payload split into N segments and delivered in
//! any order, cumulative ACKs, and a FIN teardown. Initial sequence numbers and IPv4 ids are
//! derived from the endpoints with SHA-256 unless set, so the same script always gives the
//! same bytes.
//!
//! Invariants: sequence and acknowledgement numbers advance modulo 2^32 by exactly the bytes
//! sent (SYN and FIN count one); no segment carries more than the MSS ([`MSS_V4`] or
//! [`MSS_V6`]), so frames stay within a 1500-byte MTU; each frame is
//! stamped `step` microseconds after the previous one, plus any [`TcpConversation::pause`].

use crate::decode::tcp_flags::{ACK, FIN, PSH, SYN};
use crate::event::Ts;

use super::net::{self, Endpoint, IpPair, TcpFields, IPPROTO_TCP};
use super::pcap::PcapBuilder;
use super::pseudo_random;

/// Maximum segment size over IPv4, advertised on SYNs and used to cut payloads (Ethernet MTU
/// 1500 minus 40 bytes of IPv4 and TCP headers).
pub const MSS_V4: u16 = 1460;
/// Maximum segment size over IPv6 (MTU 1500 minus 60 bytes of IPv6 and TCP headers).
pub const MSS_V6: u16 = 1440;
/// Most segments one payload is split into by [`TcpConversation::client_data_split`].
pub const MAX_SPLIT_PARTS: usize = 64;
/// Default time between consecutive frames, in microseconds.
pub const DEFAULT_STEP: Ts = 1_000;
/// Receive window both sides advertise.
const WINDOW: u16 = 65_535;

/// Which side sends a segment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// A scripted TCP connection; methods append frames in call order.
#[derive(Clone, Debug)]
pub struct TcpConversation {
    client: Endpoint,
    server: Endpoint,
    ips: IpPair,
    mss: u16,
    client_next: u32,
    server_next: u32,
    client_ip_id: u16,
    server_ip_id: u16,
    now: Ts,
    step: Ts,
    frames: Vec<(Ts, Vec<u8>)>,
}

impl TcpConversation {
    /// A connection from `client` to `server` whose first frame is stamped `start`; None when
    /// the two addresses are of different families.
    pub fn new(client: Endpoint, server: Endpoint, start: Ts) -> Option<TcpConversation> {
        let ips = IpPair::new(client.ip, server.ip)?;
        let seed = format!(
            "tcp:{}:{}>{}:{}",
            client.ip, client.port, server.ip, server.port
        );
        let r = pseudo_random(seed.as_bytes(), 12);
        let word = |i: usize| {
            r.get(i..i + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
        };
        Some(TcpConversation {
            client,
            server,
            ips,
            mss: if matches!(ips, IpPair::V4 { .. }) {
                MSS_V4
            } else {
                MSS_V6
            },
            client_next: word(0).unwrap_or(0),
            server_next: word(4).unwrap_or(0),
            client_ip_id: word(8).unwrap_or(0) as u16,
            server_ip_id: (word(8).unwrap_or(0) >> 16) as u16,
            now: start,
            step: DEFAULT_STEP,
            frames: Vec::new(),
        })
    }

    /// Sets both initial sequence numbers (before the handshake).
    pub fn with_isns(mut self, client: u32, server: u32) -> TcpConversation {
        self.client_next = client;
        self.server_next = server;
        self
    }

    /// Sets the time between consecutive frames (negative values count as 0).
    pub fn with_step(mut self, step: Ts) -> TcpConversation {
        self.step = step.max(0);
        self
    }

    /// Timestamp the next frame will carry, less one step.
    pub fn now(&self) -> Ts {
        self.now
    }

    /// Lets `micros` pass before the next frame (think time, round trips).
    pub fn pause(&mut self, micros: Ts) -> &mut TcpConversation {
        self.now = self.now.saturating_add(micros.max(0));
        self
    }

    /// Appends one segment from `side` with `flags`, carrying `payload` at sequence `seq`.
    fn segment(&mut self, side: Side, flags: u8, seq: u32, payload: &[u8]) {
        let (src, dst, ips, ack, id) = match side {
            Side::Client => {
                self.client_ip_id = self.client_ip_id.wrapping_add(1);
                (
                    &self.client,
                    &self.server,
                    self.ips,
                    self.server_next,
                    self.client_ip_id,
                )
            }
            Side::Server => {
                self.server_ip_id = self.server_ip_id.wrapping_add(1);
                (
                    &self.server,
                    &self.client,
                    self.ips.reversed(),
                    self.client_next,
                    self.server_ip_id,
                )
            }
        };
        let fields = TcpFields {
            seq,
            ack: if flags & ACK != 0 { ack } else { 0 },
            flags,
            window: WINDOW,
            mss: (flags & SYN != 0).then_some(self.mss),
        };
        let seg = net::tcp(ips, src.port, dst.port, &fields, payload);
        let pkt = net::ip(ips, IPPROTO_TCP, id, src.ttl, &seg);
        let frame = net::ethernet(dst.mac, src.mac, ips.ethertype(), &pkt);
        self.now = self.now.saturating_add(self.step);
        self.frames.push((self.now, frame));
    }

    /// Sends `payload` from `side` in MSS-sized segments (PSH on the last), then the other
    /// side's cumulative ACK.
    fn data(&mut self, side: Side, payload: &[u8]) {
        let mss = usize::from(self.mss);
        for (i, chunk) in payload.chunks(mss).enumerate() {
            let last = (i + 1) * mss >= payload.len();
            let flags = if last { PSH | ACK } else { ACK };
            self.send(side, flags, chunk);
        }
        if !payload.is_empty() {
            let other = if side == Side::Client {
                Side::Server
            } else {
                Side::Client
            };
            self.send(other, ACK, &[]);
        }
    }

    /// Sends one in-order segment from `side` and advances its sequence number.
    fn send(&mut self, side: Side, flags: u8, payload: &[u8]) {
        let seq = if side == Side::Client {
            self.client_next
        } else {
            self.server_next
        };
        self.segment(side, flags, seq, payload);
        // Chunks never exceed the MSS, SYN/FIN count one.
        let used = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        match side {
            Side::Client => self.client_next = self.client_next.wrapping_add(used),
            Side::Server => self.server_next = self.server_next.wrapping_add(used),
        }
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) -> &mut TcpConversation {
        self.send(Side::Client, SYN, &[]);
        self.send(Side::Server, SYN | ACK, &[]);
        self.send(Side::Client, ACK, &[]);
        self
    }

    /// Client data in MSS-sized segments, then the server's ACK.
    pub fn client_data(&mut self, payload: &[u8]) -> &mut TcpConversation {
        self.data(Side::Client, payload);
        self
    }

    /// Server data in MSS-sized segments, then the client's ACK.
    pub fn server_data(&mut self, payload: &[u8]) -> &mut TcpConversation {
        self.data(Side::Server, payload);
        self
    }

    /// Client data split into `parts` nearly equal segments (at least one, at most
    /// [`MAX_SPLIT_PARTS`], and more if a part would exceed the MSS), delivered in `order`
    /// (indices into the parts); an `order` that is not a permutation of all parts is
    /// replaced by the natural order. The server ACKs everything once all parts are sent.
    pub fn client_data_split(
        &mut self,
        payload: &[u8],
        parts: usize,
        order: &[usize],
    ) -> &mut TcpConversation {
        if payload.is_empty() {
            return self;
        }
        let len = payload.len();
        let need = len.div_ceil(usize::from(self.mss));
        let parts = parts.clamp(need.max(1), len.min(MAX_SPLIT_PARTS).max(need));
        let mut seen = vec![false; parts];
        let permutation = order.len() == parts
            && order
                .iter()
                .all(|&i| i < parts && !std::mem::replace(&mut seen[i], true));
        let natural: Vec<usize> = (0..parts).collect();
        let order = if permutation { order } else { &natural[..] };
        let base = self.client_next;
        for &i in order {
            let (from, to) = (i * len / parts, (i + 1) * len / parts);
            let flags = if to == len { PSH | ACK } else { ACK };
            let seq = base.wrapping_add(from as u32); // sequence space is modulo 2^32
            self.segment(
                Side::Client,
                flags,
                seq,
                payload.get(from..to).unwrap_or_default(),
            );
        }
        self.client_next = base.wrapping_add(len as u32);
        self.send(Side::Server, ACK, &[]);
        self
    }

    /// Client FIN, server FIN, client's final ACK.
    pub fn close(&mut self) -> &mut TcpConversation {
        self.send(Side::Client, FIN | ACK, &[]);
        self.send(Side::Server, FIN | ACK, &[]);
        self.send(Side::Client, ACK, &[]);
        self
    }

    /// The frames so far, in sending order.
    pub fn frames(&self) -> &[(Ts, Vec<u8>)] {
        &self.frames
    }

    /// Moves the frames into `pcap`.
    pub fn write_to(self, pcap: &mut PcapBuilder) {
        for (ts, f) in self.frames {
            pcap.push(ts, f);
        }
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
