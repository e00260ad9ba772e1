//! FlowTable: orientation, counters, TCP states, idle expiry, eviction, port reuse.

use std::net::IpAddr;

use phonehome::decode::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use phonehome::event::{FlowEnd, MacAddr, TcpState, Transport, Ts, MICROS};
use phonehome::flow::table::{Dir, Flow, FlowConfig, FlowStats, FlowTable, PacketMeta};

const PHONE: &str = "192.168.8.23";
const SERVER: &str = "93.184.216.34";
const PHONE_MAC: MacAddr = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const AP_MAC: MacAddr = MacAddr([0xb8, 0x27, 0xeb, 0x00, 0x00, 0x01]);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A packet from the phone (`up`) or from the server, with the matching MACs.
#[allow(clippy::too_many_arguments)]
fn pkt(
    ts: Ts,
    t: Transport,
    up: bool,
    phone_port: u16,
    srv_port: u16,
    flags: u8,
    len: u32,
) -> PacketMeta {
    let (src_ip, src_port, dst_ip, dst_port, src_mac, dst_mac) = if up {
        (
            ip(PHONE),
            phone_port,
            ip(SERVER),
            srv_port,
            PHONE_MAC,
            AP_MAC,
        )
    } else {
        (
            ip(SERVER),
            srv_port,
            ip(PHONE),
            phone_port,
            AP_MAC,
            PHONE_MAC,
        )
    };
    PacketMeta {
        ts,
        transport: t,
        src_ip,
        src_port,
        dst_ip,
        dst_port,
        tcp_flags: flags,
        frame_len: len,
        src_mac: Some(src_mac),
        dst_mac: Some(dst_mac),
    }
}

fn tcp(ts: Ts, up: bool, flags: u8, len: u32) -> PacketMeta {
    pkt(ts, Transport::Tcp, up, 50_000, 443, flags, len)
}

type Ended = Vec<(Flow<()>, FlowEnd)>;

/// Tracks `p` and returns (direction, state, client ip, client port).
fn track(t: &mut FlowTable<()>, p: &PacketMeta, ended: &mut Ended) -> (Dir, TcpState, IpAddr, u16) {
    let (f, d) = t.track(p, &mut |f, e| ended.push((f, e)));
    (d, f.tcp_state, f.client_ip, f.client_port)
}

#[test]
fn syn_first_sender_is_client_and_handshake_establishes() {
    let mut t = FlowTable::<()>::new(FlowConfig::default());
    let mut ended = Ended::new();
    assert_eq!(
        track(&mut t, &tcp(0, true, SYN, 74), &mut ended),
        (Dir::Up, TcpState::SynSent, ip(PHONE), 50_000)
    );
    assert_eq!(
        track(&mut t, &tcp(1, false, SYN | ACK, 74), &mut ended).1,
        TcpState::SynSent
    );
    assert_eq!(
        track(&mut t, &tcp(2, true, ACK, 66), &mut ended).1,
        TcpState::Established
    );
    let (f, d) = t.track(&tcp(3, false, ACK | PSH, 1514), &mut |_, _| {});
    assert_eq!(d, Dir::Down);
    assert_eq!(
        (f.packets_up, f.packets_down, f.bytes_up, f.bytes_down),
        (2, 2, 140, 1588)
    );
    assert_eq!((f.first_ts, f.last_ts), (0, 3));
    assert_eq!(f.client_mac, Some(PHONE_MAC));
    assert_eq!((f.server_ip, f.server_port), (ip(SERVER), 443));
    assert!(ended.is_empty());
    assert_eq!(
        t.stats(),
        FlowStats {
            created: 1,
            active: 1,
            ..FlowStats::default()
        }
    );
}

#[test]
fn syn_ack_first_receiver_is_client() {
    let mut t = FlowTable::<()>::new(FlowConfig::default());
    let mut ended = Ended::new();
    // Server port 5000 is no service port: only the SYN-ACK says who is the client.
    let synack = pkt(0, Transport::Tcp, false, 40_000, 5000, SYN | ACK, 74);
    assert_eq!(
        track(&mut t, &synack, &mut ended),
        (Dir::Down, TcpState::SynSent, ip(PHONE), 40_000)
    );
    let ack = pkt(1, Transport::Tcp, true, 40_000, 5000, ACK, 66);
    assert_eq!(
        track(&mut t, &ack, &mut ended),
        (Dir::Up, TcpState::Established, ip(PHONE), 40_000)
    );
}

#[test]
fn midstream_uses_port_heuristic() {
    let mut ended = Ended::new();
    // Server on 443 speaks first: the receiver is the client.
    let mut t = FlowTable::<()>::new(FlowConfig::default());
    let p = pkt(0, Transport::Tcp, false, 51_000, 443, ACK | PSH, 100);
    assert_eq!(
        track(&mut t, &p, &mut ended),
        (Dir::Down, TcpState::Midstream, ip(PHONE), 51_000)
    );
    // Known high service port (Apple push 5223).
    let p = pkt(0, Transport::Tcp, false, 51_001, 5223, ACK, 60);
    assert_eq!(track(&mut t, &p, &mut ended).2, ip(PHONE));
    // Neither side a service port: the first sender is the client (here the server side).
    let p = pkt(0, Transport::Tcp, false, 51_002, 6000, ACK, 60);
    assert_eq!(
        track(&mut t, &p, &mut ended),
        (Dir::Up, TcpState::Midstream, ip(SERVER), 6000)
    );
    // Both service ports: first sender again.
    let p = pkt(0, Transport::Udp, false, 123, 53, 0, 90);
    assert_eq!(
        track(&mut t, &p, &mut ended),
        (Dir::Up, TcpState::None, ip(SERVER), 53)
    );
    // The client MAC of a flow whose client never sent comes from the server's packets.
    let (f, _) = t.track(
        &pkt(1, Transport::Tcp, false, 51_000, 443, ACK, 60),
        &mut |_, _| {},
    );
    assert_eq!(f.client_mac, Some(PHONE_MAC));
    assert_eq!(t.len(), 4);
}

#[test]
fn udp_dns_response_first_is_oriented_to_the_querier() {
    let mut t = FlowTable::<()>::new(FlowConfig::default());
    let mut ended = Ended::new();
    let resp = pkt(10, Transport::Udp, false, 33_333, 53, 0, 120);
    assert_eq!(
        track(&mut t, &resp, &mut ended),
        (Dir::Down, TcpState::None, ip(PHONE), 33_333)
    );
    let q = pkt(11, Transport::Udp, true, 33_333, 53, 0, 80);
    let (f, d) = t.track(&q, &mut |_, _| {});
    assert_eq!(d, Dir::Up);
    assert_eq!(
        (f.bytes_up, f.bytes_down, f.packets_up, f.packets_down),
        (80, 120, 1, 1)
    );
    assert_eq!(f.transport, Transport::Udp);
}

#[test]
fn fin_both_ways_closes_and_ends_after_closed_idle() {
    let cfg = FlowConfig::default();
    let mut t = FlowTable::<()>::new(cfg);
    let mut ended = Ended::new();
    track(&mut t, &tcp(0, true, SYN, 74), &mut ended);
    track(&mut t, &tcp(1, false, SYN | ACK, 74), &mut ended);
    track(&mut t, &tcp(2, true, ACK, 66), &mut ended);
    assert_eq!(
        track(&mut t, &tcp(3, true, FIN | ACK, 66), &mut ended).1,
        TcpState::FinWait
    );
    assert_eq!(
        track(&mut t, &tcp(4, false, ACK, 66), &mut ended).1,
        TcpState::FinWait
    );
    assert_eq!(
        track(&mut t, &tcp(5, false, FIN | ACK, 66), &mut ended).1,
        TcpState::Closed
    );
    t.expire(5 + cfg.tcp_closed_idle - 1, &mut |f, e| ended.push((f, e)));
    assert!(ended.is_empty());
    t.expire(5 + cfg.tcp_closed_idle, &mut |f, e| ended.push((f, e)));
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].1, FlowEnd::Closed);
    assert_eq!(ended[0].0.tcp_state, TcpState::Closed);
    assert_eq!((ended[0].0.packets_up, ended[0].0.packets_down), (3, 3));
    assert_eq!(
        t.stats(),
        FlowStats {
            created: 1,
            expired: 1,
            ..FlowStats::default()
        }
    );
}

#[test]
fn rst_resets_and_stays_reset() {
    let mut t = FlowTable::<()>::new(FlowConfig::default());
    let mut ended = Ended::new();
    track(&mut t, &tcp(0, true, ACK | PSH, 200), &mut ended);
    assert_eq!(
        track(&mut t, &tcp(1, false, RST, 60), &mut ended).1,
        TcpState::Reset
    );
    assert_eq!(
        track(&mut t, &tcp(2, true, ACK, 60), &mut ended).1,
        TcpState::Reset
    );
}

#[test]
fn idle_expiry_follows_packet_time_per_class() {
    let cfg = FlowConfig::default();
    let mut t = FlowTable::<()>::new(cfg);
    let mut ended = Ended::new();
    track(
        &mut t,
        &pkt(0, Transport::Udp, true, 40_000, 53, 0, 80),
        &mut ended,
    );
    track(&mut t, &tcp(0, true, SYN, 74), &mut ended);
    track(&mut t, &tcp(MICROS, false, SYN | ACK, 74), &mut ended);
    t.expire(cfg.udp_idle - 1, &mut |f, e| ended.push((f, e)));
    assert!(ended.is_empty());
    t.expire(cfg.udp_idle, &mut |f, e| ended.push((f, e)));
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (ended[0].0.transport, ended[0].1),
        (Transport::Udp, FlowEnd::Idle)
    );
    t.expire(MICROS + cfg.tcp_idle - 1, &mut |f, e| ended.push((f, e)));
    assert_eq!(ended.len(), 1);
    t.expire(MICROS + cfg.tcp_idle, &mut |f, e| ended.push((f, e)));
    assert_eq!(ended.len(), 2);
    assert_eq!(
        (ended[1].0.transport, ended[1].1, ended[1].0.last_ts),
        (Transport::Tcp, FlowEnd::Idle, MICROS)
    );
    assert_eq!(
        t.stats(),
        FlowStats {
            created: 2,
            expired: 2,
            ..FlowStats::default()
        }
    );
}

#[test]
fn full_table_evicts_the_stalest_flow() {
    let cfg = FlowConfig {
        max_flows: 2,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::<()>::new(cfg);
    let mut ended = Ended::new();
    track(
        &mut t,
        &pkt(0, Transport::Udp, true, 1001 + 40_000, 53, 0, 80),
        &mut ended,
    );
    track(
        &mut t,
        &pkt(1, Transport::Udp, true, 1002 + 40_000, 53, 0, 80),
        &mut ended,
    );
    // Touch the first flow: the second becomes the stalest.
    track(
        &mut t,
        &pkt(2, Transport::Udp, false, 1001 + 40_000, 53, 0, 90),
        &mut ended,
    );
    track(&mut t, &tcp(3, true, SYN, 74), &mut ended);
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (ended[0].0.client_port, ended[0].1),
        (41_002, FlowEnd::Evicted)
    );
    assert_eq!(
        t.stats(),
        FlowStats {
            created: 3,
            evicted: 1,
            active: 2,
            ..FlowStats::default()
        }
    );
    let mut flushed = Ended::new();
    t.flush(&mut |f, e| flushed.push((f, e)));
    let ports: Vec<_> = flushed.iter().map(|(f, e)| (f.client_port, *e)).collect();
    assert_eq!(
        ports,
        [(41_001, FlowEnd::Flushed), (50_000, FlowEnd::Flushed)]
    );
    assert!(t.is_empty());
}

#[test]
fn syn_after_close_ends_old_flow_and_starts_new_one() {
    let mut t = FlowTable::<()>::new(FlowConfig::default());
    let mut ended = Ended::new();
    track(&mut t, &tcp(0, true, SYN, 74), &mut ended);
    track(&mut t, &tcp(1, false, RST | ACK, 60), &mut ended);
    let r = track(&mut t, &tcp(2, true, SYN, 74), &mut ended);
    assert_eq!(r, (Dir::Up, TcpState::SynSent, ip(PHONE), 50_000));
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (ended[0].0.tcp_state, ended[0].1, ended[0].0.packets_down),
        (TcpState::Reset, FlowEnd::Closed, 1)
    );
    let (f, _) = t.track(&tcp(3, false, SYN | ACK, 74), &mut |_, _| {});
    assert_eq!((f.first_ts, f.packets_up, f.packets_down), (2, 1, 1));
    assert_eq!(
        t.stats(),
        FlowStats {
            created: 2,
            reused: 1,
            active: 1,
            ..FlowStats::default()
        }
    );
}

#[test]
fn expire_only_ends_due_flows_among_many() {
    let cfg = FlowConfig::default();
    let mut t = FlowTable::<()>::new(cfg);
    let mut ended = Ended::new();
    for i in 0..1000u16 {
        let p = pkt(
            Ts::from(i) * MICROS,
            Transport::Udp,
            true,
            20_000 + i,
            53,
            0,
            70,
        );
        track(&mut t, &p, &mut ended);
    }
    t.expire(cfg.udp_idle + 99 * MICROS, &mut |f, e| ended.push((f, e)));
    assert_eq!(ended.len(), 100);
    assert_eq!(ended[0].0.client_port, 20_000);
    assert_eq!(ended[99].0.client_port, 20_099);
    assert_eq!(t.len(), 900);
}
