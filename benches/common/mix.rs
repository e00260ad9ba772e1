//! A synthetic "phones behind the AP" capture for benchmarks, built in-process with
//! `phonehome::synth` so `cargo bench` needs no Python and no data files.
//!
//! The mix imitates the shape of `/work/shared/bench/gen_traffic.py` at a smaller scale: every
//! phone joins with DHCP and ARP; sessions start every [`SESSION_GAP`] µs from phones in turn,
//! each preceded by an A (+ AAAA) lookup; most are TLS 1.3 with a bulk download (Chrome or
//! OkHttp ClientHello, some over IPv6), a few are cleartext HTTP (one in four of those a POST
//! leaking an IMEI), the rest are UDP streams (QUIC/VoIP-like datagrams no decoder parses).
//! Sessions overlap in time, so the flow table holds many flows at once.
//!
//! Invariants: deterministic (same frames on every call), at least [`TARGET_PACKETS`] frames and
//! at most one session's worth more, timestamps sorted (by `PcapBuilder::finish`). Addresses:
//! the LAN is 192.168.8.0/24 and fd00:c0a8:8::/64, servers are in documentation ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use phonehome::event::{MacAddr, Ts};
use phonehome::synth::dhcp::{self, DhcpSpec};
use phonehome::synth::dns::{self, DnsAnswer, RData};
use phonehome::synth::net::{self, Endpoint, BROADCAST_MAC, ETHERTYPE_ARP};
use phonehome::synth::{http, pseudo_random, tls, HelloStyle, PcapBuilder, TcpConversation};

/// Frames the default capture reaches (then the current session completes).
pub const TARGET_PACKETS: usize = 50_000;
/// Phones on the AP.
const PHONES: u16 = 64;
/// Distinct servers (names and addresses) the phones talk to.
const SERVERS: u16 = 48;
/// Time between session starts, µs: ~120 sessions/s as gen_traffic.py's default.
const SESSION_GAP: Ts = 8_000;
/// First timestamp: 2024-03-14 09:00:00 UTC.
const START: Ts = 1_710_406_800_000_000;
/// The AP's MAC (Raspberry Pi prefix), gateway, DHCP server and resolver address.
const AP_MAC: MacAddr = MacAddr([0xdc, 0xa6, 0x32, 0x41, 0x8e, 0x02]);
const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 168, 8, 1);
/// Android's system HTTP user agent.
const UA: &str = "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)";
/// The GSMA example IMEI, posted in cleartext by some sessions.
const IMEI_BODY: &[u8] = b"imei=490154203237518&model=Pixel%207&os=Android%2013";

/// Phone `i`'s MAC: locally administered (per-network randomised, as Android does).
fn phone_mac(i: u16) -> MacAddr {
    let [hi, lo] = i.to_be_bytes();
    MacAddr([0x3a, 0x5f, 0x10, 0x00, hi, lo])
}

fn phone_v4(i: u16) -> Ipv4Addr {
    let [hi, lo] = (10 + i).to_be_bytes();
    Ipv4Addr::new(192, 168, 8 + hi, lo)
}

fn phone_v6(i: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0xc0a8, 8, 0, 0, 0, 0x100, i)
}

/// Server `s`: name, IPv4 (documentation ranges) and IPv6 (2001:db8::/32).
fn server(s: u16) -> (String, Ipv4Addr, Ipv6Addr) {
    let [hi, lo] = s.to_be_bytes();
    let v4 = match s % 3 {
        0 => Ipv4Addr::new(192, 0, 2, lo),
        1 => Ipv4Addr::new(198, 51, 100, lo),
        _ => Ipv4Addr::new(203, 0, 113, lo),
    };
    let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0xff00, u16::from(hi), 0, 0, 0, s);
    (format!("api{s}.cdn{}.example.net", s % 7), v4, v6)
}

fn endpoint(mac: MacAddr, ip: IpAddr, port: u16, ttl: u8) -> Endpoint {
    Endpoint { mac, ip, port, ttl }
}

/// The capture being built.
struct Mix {
    pcap: PcapBuilder,
    ip_id: u16,
}

impl Mix {
    fn udp(&mut self, ts: Ts, src: &Endpoint, dst: &Endpoint, payload: &[u8]) {
        self.ip_id = self.ip_id.wrapping_add(1);
        if let Some(f) = net::udp_frame(src, dst, self.ip_id, payload) {
            self.pcap.push(ts, f);
        }
    }

    /// DHCP DORA then ARP for the gateway.
    fn join(&mut self, t: Ts, i: u16) {
        let mac = phone_mac(i);
        let xid = 0x3903_0000 | u32::from(i);
        let hostname = format!("Pixel-7-{i}");
        let client = endpoint(mac, IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68, 64);
        let bcast = endpoint(BROADCAST_MAC, IpAddr::V4(Ipv4Addr::BROADCAST), 67, 64);
        let ap = endpoint(AP_MAC, IpAddr::V4(GATEWAY), 67, 64);
        let to_phone = endpoint(mac, IpAddr::V4(phone_v4(i)), 68, 64);
        let dns_servers = [GATEWAY];
        let ask = |msg_type| DhcpSpec {
            vendor_class: Some("android-dhcp-13"),
            hostname: Some(&hostname),
            param_list: &dhcp::ANDROID_10_PARAMS,
            requested_ip: (msg_type == dhcp::REQUEST).then_some(phone_v4(i)),
            ..DhcpSpec::new(msg_type, xid, mac)
        };
        let reply = |msg_type| DhcpSpec {
            yiaddr: phone_v4(i),
            server_id: Some(GATEWAY),
            lease_secs: Some(43_200),
            router: Some(GATEWAY),
            dns: &dns_servers,
            ..DhcpSpec::new(msg_type, xid, mac)
        };
        self.udp(t, &client, &bcast, &dhcp::dhcp(&ask(dhcp::DISCOVER)));
        self.udp(t + 2_000, &ap, &to_phone, &dhcp::dhcp(&reply(dhcp::OFFER)));
        self.udp(t + 9_000, &client, &bcast, &dhcp::dhcp(&ask(dhcp::REQUEST)));
        self.udp(t + 11_000, &ap, &to_phone, &dhcp::dhcp(&reply(dhcp::ACK)));
        let who_has = net::arp(1, mac, phone_v4(i), MacAddr([0; 6]), GATEWAY);
        let is_at = net::arp(2, AP_MAC, GATEWAY, mac, phone_v4(i));
        let arp = |dst, src, body: &[u8]| net::ethernet(dst, src, ETHERTYPE_ARP, body);
        self.pcap
            .push(t + 50_000, arp(BROADCAST_MAC, mac, &who_has));
        self.pcap.push(t + 50_400, arp(mac, AP_MAC, &is_at));
    }

    /// A (and AAAA when `v6`) lookup of server `s` by phone `i`.
    fn lookup(&mut self, t: Ts, i: u16, s: u16, id: u16, port: u16, v6: bool) {
        let (name, a, aaaa) = server(s);
        let phone = endpoint(phone_mac(i), IpAddr::V4(phone_v4(i)), port, 64);
        let resolver = endpoint(AP_MAC, IpAddr::V4(GATEWAY), 53, 64);
        let ans = |data| {
            [DnsAnswer {
                name: &name,
                ttl: 300,
                data,
            }]
        };
        self.udp(
            t,
            &phone,
            &resolver,
            &dns::dns_query(id, &name, dns::TYPE_A),
        );
        let ra = dns::dns_response(id, &name, dns::TYPE_A, &ans(RData::A(a)));
        self.udp(t + 9_000, &resolver, &phone, &ra);
        if v6 {
            let id6 = id ^ 0x5a5a;
            let q6 = dns::dns_query(id6, &name, dns::TYPE_AAAA);
            let phone6 = Endpoint {
                port: port.wrapping_add(1),
                ..phone
            };
            self.udp(t + 300, &phone6, &resolver, &q6);
            let r6 = dns::dns_response(id6, &name, dns::TYPE_AAAA, &ans(RData::Aaaa(aaaa)));
            self.udp(t + 9_400, &resolver, &phone6, &r6);
        }
    }

    /// A UDP stream of `n` datagrams alternating directions (QUIC/VoIP-like, opaque).
    fn udp_stream(&mut self, t: Ts, phone: &Endpoint, server: &Endpoint, n: u16, seed: u32) {
        let body = pseudo_random(&seed.to_be_bytes(), 1_200);
        for k in 0..n {
            let len = 160 + usize::from(k % 8) * 130;
            let p = body.get(..len).unwrap_or_default();
            let ts = t + Ts::from(k) * 20_000;
            if k % 2 == 0 {
                self.udp(ts, phone, server, p);
            } else {
                self.udp(ts, server, phone, p);
            }
        }
    }
}

/// TLS: handshake, ClientHello, server flight, Finished + request, `download` bytes of
/// response, teardown.
fn tls_session(pcap: &mut PcapBuilder, c: Endpoint, s: Endpoint, t: Ts, sni: &str, k: u32) {
    let Some(mut conv) = TcpConversation::new(c, s, t) else {
        return;
    };
    let style = if k % 2 == 0 {
        HelloStyle::Chrome
    } else {
        HelloStyle::OkHttp
    };
    let hello = tls::tls_client_hello(sni, style);
    conv.handshake().pause(20_000).client_data(&hello);
    let mut flight = tls::tls_server_hello(&hello, sni);
    flight.extend_from_slice(&tls::tls_application_data(&format!("{sni}/cert"), 2_800));
    conv.pause(25_000).server_data(&flight).pause(3_000);
    conv.client_data(&tls::tls_application_data(&format!("{sni}/req{k}"), 420));
    let download = 4_000 + (k as usize % 16) * 4_000;
    conv.pause(40_000)
        .server_data(&tls::tls_application_data(&format!("{sni}/resp"), download));
    conv.pause(500_000).close();
    conv.write_to(pcap);
}

/// Cleartext HTTP: one request, a response of `body_len` bytes, teardown.
fn http_session(pcap: &mut PcapBuilder, c: Endpoint, s: Endpoint, t: Ts, req: &[u8], len: usize) {
    let Some(mut conv) = TcpConversation::new(c, s, t) else {
        return;
    };
    let body = pseudo_random(b"http-body", len);
    let resp = http::http_response("200 OK", &body);
    conv.handshake().pause(20_000).client_data(req);
    conv.pause(30_000).server_data(&resp).pause(200_000).close();
    conv.write_to(pcap);
}

/// The mix as classic pcap bytes, with at least `target` frames.
pub fn capture(target: usize) -> Vec<u8> {
    let mut m = Mix {
        pcap: PcapBuilder::new(),
        ip_id: 1,
    };
    for i in 0..PHONES {
        m.join(START + Ts::from(i) * 15_000, i);
    }
    let mut k: u32 = 0;
    let mut t = START + Ts::from(PHONES) * 15_000 + 100_000;
    while m.pcap.len() < target {
        let i = (k % u32::from(PHONES)) as u16;
        let s = ((k.wrapping_mul(7)) % u32::from(SERVERS)) as u16;
        let port = 32_768 + (k % 28_000) as u16 * 2;
        let dual = i % 4 == 0;
        m.lookup(t, i, s, k as u16, port, dual);
        let (name, a, aaaa) = server(s);
        let use_v6 = dual && k % 3 == 0;
        let (cip, sip) = if use_v6 {
            (IpAddr::V6(phone_v6(i)), IpAddr::V6(aaaa))
        } else {
            (IpAddr::V4(phone_v4(i)), IpAddr::V4(a))
        };
        let at = t + 12_000;
        let cport = port.wrapping_add(7_000);
        let phone = endpoint(phone_mac(i), cip, cport, 64);
        match k % 16 {
            0..=10 => {
                let srv = endpoint(AP_MAC, sip, 443, 57);
                tls_session(&mut m.pcap, phone, srv, at, &name, k);
            }
            11..=13 => {
                let srv = endpoint(AP_MAC, sip, 80, 57);
                let req = if k % 16 == 13 {
                    http::http_post(
                        &name,
                        "/v1/register",
                        UA,
                        "application/x-www-form-urlencoded",
                        IMEI_BODY,
                    )
                } else {
                    http::http_get(&name, &format!("/assets/{k}.json"), UA)
                };
                http_session(
                    &mut m.pcap,
                    phone,
                    srv,
                    at,
                    &req,
                    1_000 + (k as usize % 8) * 1_000,
                );
            }
            _ => {
                let srv = endpoint(AP_MAC, sip, 443, 57);
                m.udp_stream(at, &phone, &srv, 40, k);
            }
        }
        k = k.wrapping_add(1);
        t += SESSION_GAP;
    }
    m.pcap.finish()
}
