//! Per-flow bookkeeping behind [`super::table::FlowTable`]: the canonical key, orientation of a
//! new flow (who is the device), per-direction counters, the TCP state machine and the LRU
//! list links.
//!
//! Orientation of a flow's first packet: a SYN (without ACK) makes its sender the client, a
//! SYN+ACK its receiver; otherwise a DHCP client port (68, 546) marks the client, a lone
//! service port (see [`is_service_port`]) marks the server, and when both or neither side has
//! one the sender is the client. The client MAC is
//! the source of the client's packets, or, until the client sends one, the destination of
//! the server's; group and all-zero MACs are never taken.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};

use super::table::{Dir, Flow, PacketMeta};
use crate::decode::tcp_flags::{ACK, FIN, RST, SYN};
use crate::event::{MacAddr, TcpState, Transport};

/// Service ports above 1023 that identify the server side (DNS/NTP/HTTPS/DoT/DHCP are below
/// 1024): MQTT, XMPP/WhatsApp, Apple push, Google FCM, HTTP and HTTPS alternates.
const HIGH_SERVICE_PORTS: [u16; 6] = [1883, 5222, 5223, 5228, 8080, 8443];

/// Sentinel "no slot" link.
pub(super) const NIL: u32 = u32::MAX;

/// Ports only clients send from although they are below 1024: DHCPv4 (68) and DHCPv6 (546)
/// clients. A server's reply to one of them (67 → 68, 547 → 546) has service ports on both
/// sides, and without this the server would be taken for the client.
const CLIENT_ONLY_PORTS: [u16; 2] = [68, 546];

/// True when `port` identifies a server: any port ≤ 1023 or a known higher service port.
pub fn is_service_port(port: u16) -> bool {
    port <= 1023 || HIGH_SERVICE_PORTS.contains(&port)
}

/// Orientation of a non-SYN first packet: true when its sender is the client.
fn sender_is_client(src_port: u16, dst_port: u16) -> bool {
    let (src_client, dst_client) = (
        CLIENT_ONLY_PORTS.contains(&src_port),
        CLIENT_ONLY_PORTS.contains(&dst_port),
    );
    if src_client != dst_client {
        return src_client;
    }
    // Only a lone service port on the sender's side makes the receiver the client.
    !is_service_port(src_port) || is_service_port(dst_port)
}

/// Canonical 5-tuple: the endpoint pair ordered so both directions give the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct FlowKey {
    transport: Transport,
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
}

impl FlowKey {
    pub(super) fn of(pkt: &PacketMeta) -> FlowKey {
        let s = (pkt.src_ip, pkt.src_port);
        let d = (pkt.dst_ip, pkt.dst_port);
        let (lo, hi) = if s <= d { (s, d) } else { (d, s) };
        FlowKey {
            transport: pkt.transport,
            lo,
            hi,
        }
    }
}

/// Timeout class of a flow; each class has its own LRU list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    TcpOpen,
    TcpClosing,
    Other,
}

impl Class {
    pub(super) fn of(transport: Transport, state: TcpState) -> Class {
        match (transport, state) {
            (Transport::Tcp, TcpState::FinWait | TcpState::Closed | TcpState::Reset) => {
                Class::TcpClosing
            }
            (Transport::Tcp, _) => Class::TcpOpen,
            _ => Class::Other,
        }
    }
}

/// Ends of one intrusive LRU list: `head` most recently touched, `tail` stalest.
#[derive(Clone, Copy)]
pub(super) struct List {
    pub(super) head: u32,
    pub(super) tail: u32,
}

/// One LRU list per timeout class.
#[derive(Clone, Copy)]
pub(super) struct Lists {
    tcp_open: List,
    tcp_closing: List,
    other: List,
}

impl Default for Lists {
    fn default() -> Self {
        let empty = List {
            head: NIL,
            tail: NIL,
        };
        Lists {
            tcp_open: empty,
            tcp_closing: empty,
            other: empty,
        }
    }
}

impl Lists {
    pub(super) fn get(&self, c: Class) -> &List {
        match c {
            Class::TcpOpen => &self.tcp_open,
            Class::TcpClosing => &self.tcp_closing,
            Class::Other => &self.other,
        }
    }
    pub(super) fn get_mut(&mut self, c: Class) -> &mut List {
        match c {
            Class::TcpOpen => &mut self.tcp_open,
            Class::TcpClosing => &mut self.tcp_closing,
            Class::Other => &mut self.other,
        }
    }
}

/// A live flow with its table bookkeeping.
pub(super) struct Node<A> {
    pub(super) key: FlowKey,
    pub(super) flow: Flow<A>,
    pub(super) prev: u32,
    pub(super) next: u32,
    pub(super) class: Class,
    pub(super) fin_up: bool,
    pub(super) fin_down: bool,
    /// `client_mac` came from a client packet (a server packet's destination is only a guess).
    pub(super) mac_from_client: bool,
}

impl<A: Default> Node<A> {
    /// A new flow oriented from its first packet, with no packet counted yet.
    pub(super) fn new(key: FlowKey, pkt: &PacketMeta) -> Node<A> {
        let tcp = pkt.transport == Transport::Tcp;
        let syn = tcp && pkt.tcp_flags & SYN != 0;
        let sender_is_client = if syn {
            // SYN: the sender opens the connection; SYN+ACK: the receiver did.
            pkt.tcp_flags & ACK == 0
        } else {
            sender_is_client(pkt.src_port, pkt.dst_port)
        };
        let (client, server) = if sender_is_client {
            ((pkt.src_ip, pkt.src_port), (pkt.dst_ip, pkt.dst_port))
        } else {
            ((pkt.dst_ip, pkt.dst_port), (pkt.src_ip, pkt.src_port))
        };
        let tcp_state = match (tcp, syn) {
            (false, _) => TcpState::None,
            (true, true) => TcpState::SynSent,
            (true, false) => TcpState::Midstream,
        };
        Node {
            key,
            flow: Flow {
                transport: pkt.transport,
                client_ip: client.0,
                client_port: client.1,
                server_ip: server.0,
                server_port: server.1,
                first_ts: pkt.ts,
                last_ts: pkt.ts,
                bytes_up: 0,
                bytes_down: 0,
                packets_up: 0,
                packets_down: 0,
                client_mac: None,
                domain: None,
                tcp_state,
                app: A::default(),
            },
            prev: NIL,
            next: NIL,
            class: Class::of(pkt.transport, tcp_state),
            fin_up: false,
            fin_down: false,
            mac_from_client: false,
        }
    }
}

impl<A> Node<A> {
    /// Counts one packet and advances the TCP state; returns its direction.
    pub(super) fn update(&mut self, pkt: &PacketMeta) -> Dir {
        let f = &mut self.flow;
        let dir = if pkt.src_ip == f.client_ip && pkt.src_port == f.client_port {
            Dir::Up
        } else {
            Dir::Down
        };
        f.last_ts = f.last_ts.max(pkt.ts);
        let len = u64::from(pkt.frame_len);
        match dir {
            Dir::Up => {
                f.bytes_up = f.bytes_up.saturating_add(len);
                f.packets_up = f.packets_up.saturating_add(1);
                if !self.mac_from_client {
                    if let Some(mac) = pkt.src_mac.filter(is_unicast) {
                        f.client_mac = Some(mac);
                        self.mac_from_client = true;
                    }
                }
            }
            Dir::Down => {
                f.bytes_down = f.bytes_down.saturating_add(len);
                f.packets_down = f.packets_down.saturating_add(1);
                if f.client_mac.is_none() {
                    f.client_mac = pkt.dst_mac.filter(is_unicast);
                }
            }
        }
        if f.transport == Transport::Tcp {
            let flags = pkt.tcp_flags;
            if flags & FIN != 0 {
                match dir {
                    Dir::Up => self.fin_up = true,
                    Dir::Down => self.fin_down = true,
                }
            }
            f.tcp_state = next_tcp_state(f.tcp_state, flags, self.fin_up, self.fin_down);
        }
        dir
    }
}

/// TCP state after a packet with `flags`, given which directions have sent a FIN so far.
fn next_tcp_state(state: TcpState, flags: u8, fin_up: bool, fin_down: bool) -> TcpState {
    if flags & RST != 0 || state == TcpState::Reset {
        return TcpState::Reset;
    }
    if fin_up && fin_down {
        return TcpState::Closed;
    }
    if fin_up || fin_down {
        return TcpState::FinWait;
    }
    match state {
        TcpState::SynSent if flags & (SYN | ACK) == ACK => TcpState::Established,
        other => other,
    }
}

/// A MAC that can belong to one device (not group, not all-zero).
fn is_unicast(mac: &MacAddr) -> bool {
    !mac.is_multicast() && !mac.is_zero()
}

/// A flow value for the spare slot.
pub(super) fn blank_flow<A: Default>() -> Flow<A> {
    Flow {
        transport: Transport::Udp,
        client_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        client_port: 0,
        server_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        server_port: 0,
        first_ts: 0,
        last_ts: 0,
        bytes_up: 0,
        bytes_down: 0,
        packets_up: 0,
        packets_down: 0,
        client_mac: None,
        domain: None,
        tcp_state: TcpState::None,
        app: A::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a DHCP server's unicast OFFER/ACK (67 → 68) opened a flow with the access
    /// point as its client, so the AP showed up as a device with a flow to every phone.
    #[test]
    fn dhcp_reply_to_port_68_is_oriented_to_the_phone() {
        assert!(!sender_is_client(67, 68));
        assert!(sender_is_client(68, 67));
        assert!(!sender_is_client(547, 546));
        assert!(sender_is_client(546, 547));
        // Unchanged elsewhere: a lone service port marks the server, a tie keeps the sender.
        assert!(!sender_is_client(53, 40_000));
        assert!(sender_is_client(40_000, 443));
        assert!(sender_is_client(123, 123));
        assert!(sender_is_client(68, 68));
    }
}
