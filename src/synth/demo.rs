//! The demo capture: a Nokia 7 plus (Android 10) joins the travel router's Wi-Fi and phones
//! home. It is what the README's first command analyses, committed as `data/demo.pcap`.
//!
//! Script (all times from [`DEMO_START`], 2024-03-14 09:00:00 UTC):
//! 1. DHCP DISCOVER/OFFER/REQUEST/ACK (hostname "Nokia-7-plus", vendor class
//!    "android-dhcp-10", Android 10's option-55 list), then ARP for the gateway.
//! 2. DNS A and AAAA lookups for connectivitycheck.gstatic.com, www.google.com,
//!    android.googleapis.com, zzhc.vnet.cn (no AAAA) and www.hmdglobal.com (answered through
//!    a two-step Akamai-style CNAME chain).
//! 3. The cleartext captive-portal probe `GET /generate_204` with the Dalvik user agent.
//! 4. TLS to www.google.com (Chrome ClientHello), to android.googleapis.com over IPv6 (OkHttp
//!    ClientHello split in two TCP segments delivered out of order), to www.hmdglobal.com
//!    (Chrome) and connectivitycheck.gstatic.com (OkHttp); each with a server flight and
//!    encrypted-looking data both ways.
//! 5. A cleartext POST to zzhc.vnet.cn carrying the IMEI (the GSMA example IMEI
//!    490154203237518), the kind of leak phonehome exists to show.
//!
//! Every connection ends with a FIN teardown. Invariant: deterministic, [`DEMO_PACKETS`]
//! frames, timestamps strictly increasing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::{MacAddr, Ts};

use super::dhcp::{self, DhcpSpec};
use super::dns::{self, DnsAnswer, RData};
use super::net::{self, Endpoint, BROADCAST_MAC, ETHERTYPE_ARP};
use super::tcp::TcpConversation;
use super::tls::{self, HelloStyle};
use super::{http, PcapBuilder};

/// First timestamp of the demo: 2024-03-14 09:00:00 UTC, in microseconds.
pub const DEMO_START: Ts = 1_710_406_800_000_000;
/// Number of frames in the demo capture.
pub const DEMO_PACKETS: usize = 123;
/// The phone's MAC: prefix 04:F1:28 is an IEEE MA-L of HMD Global Oy (Nokia phones). A
/// global address: the owner turned off Android 10's per-network MAC randomisation.
pub const PHONE_MAC: MacAddr = MacAddr([0x04, 0xf1, 0x28, 0x5c, 0x3a, 0x7e]);
/// The access point's MAC: prefix DC:A6:32 is Raspberry Pi Trading Ltd.
pub const AP_MAC: MacAddr = MacAddr([0xdc, 0xa6, 0x32, 0x41, 0x8e, 0x02]);
/// The phone's leased address.
pub const PHONE_V4: Ipv4Addr = Ipv4Addr::new(192, 168, 8, 23);
/// The phone's IPv6 address (a ULA on the AP's LAN).
pub const PHONE_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xc0a8, 8, 0, 0, 0, 0, 0x17);
/// The AP: gateway, DHCP server and DNS resolver.
pub const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(192, 168, 8, 1);
/// Android's user agent for system HTTP clients on this phone.
pub const DALVIK_UA: &str =
    "Dalvik/2.1.0 (Linux; U; Android 10; Nokia 7 plus Build/QKQ1.190828.002)";
/// DHCP transaction id of the join.
const XID: u32 = 0x3903_f326;
/// Hop limit / TTL of packets from remote servers as they reach the AP.
const SERVER_TTL: u8 = 57;

/// A name the phone resolves and what the resolver answers.
struct Lookup {
    name: &'static str,
    /// CNAME chain from `name` (each entry is the next target), empty when none.
    cnames: &'static [&'static str],
    v4: Ipv4Addr,
    v6: Option<Ipv6Addr>,
    /// Phone's source port for the A query; the AAAA query uses the next one.
    port: u16,
}

/// The DNS script, in query order.
const LOOKUPS: [Lookup; 5] = [
    Lookup {
        name: "connectivitycheck.gstatic.com",
        cnames: &[],
        v4: Ipv4Addr::new(192, 0, 2, 34),
        v6: Some(Ipv6Addr::new(0x2001, 0xdb8, 0x4860, 0x4802, 0, 0, 0, 0xe3)),
        port: 38_211,
    },
    Lookup {
        name: "www.google.com",
        cnames: &[],
        v4: Ipv4Addr::new(198, 51, 100, 4),
        v6: Some(Ipv6Addr::new(
            0x2001, 0xdb8, 0x4860, 0x4802, 0, 0, 0, 0x2004,
        )),
        port: 51_873,
    },
    Lookup {
        name: "android.googleapis.com",
        cnames: &[],
        v4: Ipv4Addr::new(198, 51, 100, 42),
        v6: Some(Ipv6Addr::new(
            0x2001, 0xdb8, 0x4860, 0x4802, 0, 0, 0, 0x200a,
        )),
        port: 44_502,
    },
    Lookup {
        name: "zzhc.vnet.cn",
        cnames: &[],
        v4: Ipv4Addr::new(203, 0, 113, 77),
        v6: None,
        port: 60_117,
    },
    Lookup {
        name: "www.hmdglobal.com",
        cnames: &["www.hmdglobal.com.edgekey.net", "e7003.a.akamaiedge.net"],
        v4: Ipv4Addr::new(203, 0, 113, 90),
        v6: Some(Ipv6Addr::new(0x2001, 0xdb8, 0xa4, 0, 0, 0, 0, 0x5f)),
        port: 35_960,
    },
];

/// A TLS connection of the script.
struct TlsVisit {
    /// Index into [`LOOKUPS`] of the server's name.
    lookup: usize,
    /// Connect to the AAAA address (from the phone's ULA) instead of the A address.
    ipv6: bool,
    style: HelloStyle,
    /// Split the ClientHello in two segments, delivered second half first.
    split: bool,
    /// Phone's source port.
    port: u16,
    /// Start, in milliseconds after [`DEMO_START`].
    at_ms: Ts,
}

/// The TLS script: Chrome to www.google.com, OkHttp over IPv6 (split hello) to
/// android.googleapis.com, Chrome to www.hmdglobal.com, OkHttp to connectivitycheck.
const TLS_VISITS: [TlsVisit; 4] = [
    TlsVisit {
        lookup: 1,
        ipv6: false,
        style: HelloStyle::Chrome,
        split: false,
        port: 45_014,
        at_ms: 1_500,
    },
    TlsVisit {
        lookup: 2,
        ipv6: true,
        style: HelloStyle::OkHttp,
        split: true,
        port: 45_016,
        at_ms: 4_500,
    },
    TlsVisit {
        lookup: 4,
        ipv6: false,
        style: HelloStyle::Chrome,
        split: false,
        port: 45_020,
        at_ms: 9_000,
    },
    TlsVisit {
        lookup: 0,
        ipv6: false,
        style: HelloStyle::OkHttp,
        split: false,
        port: 45_022,
        at_ms: 12_000,
    },
];

/// The form the phone POSTs to zzhc.vnet.cn (China Telecom's handset self-registration).
const IMEI_BODY: &[u8] =
    b"imei=490154203237518&model=Nokia%207%20plus&os=Android%2010&mcc=460&mnc=11";
/// Content type of that form.
const FORM: &str = "application/x-www-form-urlencoded";

/// The phone on IPv4 with source port `port`.
fn phone(port: u16) -> Endpoint {
    Endpoint {
        mac: PHONE_MAC,
        ip: IpAddr::V4(PHONE_V4),
        port,
        ttl: 64,
    }
}

/// A remote server reached through the AP (one hop more over IPv6's path).
fn server(ip: IpAddr, port: u16) -> Endpoint {
    let ttl = if ip.is_ipv6() {
        SERVER_TTL - 1
    } else {
        SERVER_TTL
    };
    Endpoint {
        mac: AP_MAC,
        ip,
        port,
        ttl,
    }
}

/// The capture under construction and the phone's IPv4 id counter for UDP.
struct Demo {
    pcap: PcapBuilder,
    ip_id: u16,
}

impl Demo {
    /// Appends a UDP frame at `ts` (same-family endpoints by construction).
    fn udp(&mut self, ts: Ts, src: &Endpoint, dst: &Endpoint, payload: &[u8]) {
        self.ip_id = self.ip_id.wrapping_add(1);
        if let Some(f) = net::udp_frame(src, dst, self.ip_id, payload) {
            self.pcap.push(ts, f);
        }
    }

    /// Step 1: DHCP and ARP.
    fn join(&mut self, t: Ts) {
        let client = Endpoint {
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ..phone(68)
        };
        let bcast = Endpoint {
            mac: BROADCAST_MAC,
            ip: IpAddr::V4(Ipv4Addr::BROADCAST),
            port: 67,
            ttl: 64,
        };
        let ap = Endpoint {
            mac: AP_MAC,
            ip: IpAddr::V4(GATEWAY_V4),
            port: 67,
            ttl: 64,
        };
        let dns_servers = [GATEWAY_V4];
        let client_spec = |msg_type| DhcpSpec {
            max_message_size: Some(1500),
            vendor_class: Some("android-dhcp-10"),
            hostname: Some("Nokia-7-plus"),
            param_list: &dhcp::ANDROID_10_PARAMS,
            ..DhcpSpec::new(msg_type, XID, PHONE_MAC)
        };
        let server_spec = |msg_type| DhcpSpec {
            yiaddr: PHONE_V4,
            server_id: Some(GATEWAY_V4),
            lease_secs: Some(43_200),
            subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            broadcast: Some(Ipv4Addr::new(192, 168, 8, 255)),
            router: Some(GATEWAY_V4),
            dns: &dns_servers,
            ..DhcpSpec::new(msg_type, XID, PHONE_MAC)
        };
        let request = DhcpSpec {
            requested_ip: Some(PHONE_V4),
            server_id: Some(GATEWAY_V4),
            ..client_spec(dhcp::REQUEST)
        };
        let to_phone = phone(68);
        self.udp(
            t,
            &client,
            &bcast,
            &dhcp::dhcp(&client_spec(dhcp::DISCOVER)),
        );
        self.udp(
            t + 2_310,
            &ap,
            &to_phone,
            &dhcp::dhcp(&server_spec(dhcp::OFFER)),
        );
        self.udp(t + 9_870, &client, &bcast, &dhcp::dhcp(&request));
        self.udp(
            t + 12_040,
            &ap,
            &to_phone,
            &dhcp::dhcp(&server_spec(dhcp::ACK)),
        );
        let who_has = net::arp(1, PHONE_MAC, PHONE_V4, MacAddr([0; 6]), GATEWAY_V4);
        let is_at = net::arp(2, AP_MAC, GATEWAY_V4, PHONE_MAC, PHONE_V4);
        self.pcap.push(
            t + 118_500,
            net::ethernet(BROADCAST_MAC, PHONE_MAC, ETHERTYPE_ARP, &who_has),
        );
        self.pcap.push(
            t + 119_020,
            net::ethernet(PHONE_MAC, AP_MAC, ETHERTYPE_ARP, &is_at),
        );
    }

    /// Step 2: one A and one AAAA lookup for `l`, 30 ms apart from the next pair.
    fn lookup(&mut self, t: Ts, id: u16, l: &Lookup) {
        let resolver = |port| Endpoint {
            mac: AP_MAC,
            ip: IpAddr::V4(GATEWAY_V4),
            port,
            ttl: 64,
        };
        let mut chain: Vec<DnsAnswer<'_>> = Vec::new();
        let mut owner = l.name;
        for target in l.cnames {
            chain.push(DnsAnswer {
                name: owner,
                ttl: 300,
                data: RData::Cname(target),
            });
            owner = target;
        }
        let mut a = chain.clone();
        a.push(DnsAnswer {
            name: owner,
            ttl: 180,
            data: RData::A(l.v4),
        });
        let mut aaaa = chain;
        if let Some(v6) = l.v6 {
            aaaa.push(DnsAnswer {
                name: owner,
                ttl: 180,
                data: RData::Aaaa(v6),
            });
        }
        let p6 = l.port.wrapping_add(1);
        self.udp(
            t,
            &phone(l.port),
            &resolver(53),
            &dns::dns_query(id, l.name, dns::TYPE_A),
        );
        self.udp(
            t + 410,
            &phone(p6),
            &resolver(53),
            &dns::dns_query(id ^ 0x5a5a, l.name, dns::TYPE_AAAA),
        );
        let ra = dns::dns_response(id, l.name, dns::TYPE_A, &a);
        let raaaa = dns::dns_response(id ^ 0x5a5a, l.name, dns::TYPE_AAAA, &aaaa);
        self.udp(t + 14_800, &resolver(53), &phone(l.port), &ra);
        self.udp(t + 15_350, &resolver(53), &phone(p6), &raaaa);
    }
}

/// A TLS session: ClientHello (optionally split in two segments delivered second-first),
/// server flight, client Finished + request, server response, teardown.
fn tls_session(
    pcap: &mut PcapBuilder,
    client: Endpoint,
    server: Endpoint,
    t: Ts,
    sni: &str,
    style: HelloStyle,
    split: bool,
) {
    let Some(mut c) = TcpConversation::new(client, server, t) else {
        return;
    };
    let hello = tls::tls_client_hello(sni, style);
    c.handshake().pause(25_000);
    if split {
        c.client_data_split(&hello, 2, &[1, 0]);
    } else {
        c.client_data(&hello);
    }
    let mut flight = tls::tls_server_hello(&hello, sni);
    flight.extend_from_slice(&tls::tls_application_data(&format!("{sni}/ee-cert"), 2_790));
    c.pause(30_000).server_data(&flight).pause(4_000);
    let mut finished = vec![tls::CONTENT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1];
    finished.extend_from_slice(&tls::tls_application_data(&format!("{sni}/finished"), 53));
    finished.extend_from_slice(&tls::tls_application_data(&format!("{sni}/request"), 410));
    c.client_data(&finished).pause(60_000);
    c.server_data(&tls::tls_application_data(
        &format!("{sni}/response"),
        5_200,
    ));
    c.pause(2_000_000).close();
    c.write_to(pcap);
}

/// A cleartext HTTP exchange: `request`, then `response`, then teardown.
fn http_session(
    pcap: &mut PcapBuilder,
    client: Endpoint,
    server: Endpoint,
    t: Ts,
    request: &[u8],
    response: &[u8],
) {
    let Some(mut c) = TcpConversation::new(client, server, t) else {
        return;
    };
    c.handshake()
        .pause(20_000)
        .client_data(request)
        .pause(35_000)
        .server_data(response);
    c.pause(500_000).close();
    c.write_to(pcap);
}

/// The demo capture as classic pcap bytes (deterministic: same bytes on every call).
pub fn demo_capture() -> Vec<u8> {
    let mut d = Demo {
        pcap: PcapBuilder::new(),
        ip_id: 0x1c40,
    };
    d.join(DEMO_START);
    let mut t = DEMO_START + 400_000;
    for (i, l) in LOOKUPS.iter().enumerate() {
        d.lookup(t, 0x8f21_u16.wrapping_add(i as u16 * 0x1111), l);
        t += 30_000;
    }
    let mut pcap = d.pcap;
    let [check, _, _, zzhc, _] = &LOOKUPS;
    let probe = http::http_get(check.name, "/generate_204", DALVIK_UA);
    let no_content = http::http_response("204 No Content", b"");
    let at = |ms: Ts| DEMO_START + ms * 1_000;
    let check_v4 = server(IpAddr::V4(check.v4), 80);
    http_session(
        &mut pcap,
        phone(45_012),
        check_v4,
        at(700),
        &probe,
        &no_content,
    );
    let post = http::http_post(zzhc.name, "/zzhc/register", DALVIK_UA, FORM, IMEI_BODY);
    let ok = http::http_response("200 OK", b"{\"result\":0}");
    let zzhc_v4 = server(IpAddr::V4(zzhc.v4), 80);
    http_session(&mut pcap, phone(45_018), zzhc_v4, at(7_500), &post, &ok);
    for v in &TLS_VISITS {
        let Some(l) = LOOKUPS.get(v.lookup) else {
            continue;
        };
        let (client, ip) = match (v.ipv6, l.v6) {
            (true, Some(v6)) => (
                Endpoint {
                    ip: IpAddr::V6(PHONE_V6),
                    ..phone(v.port)
                },
                IpAddr::V6(v6),
            ),
            _ => (phone(v.port), IpAddr::V4(l.v4)),
        };
        tls_session(
            &mut pcap,
            client,
            server(ip, 443),
            at(v.at_ms),
            l.name,
            v.style,
            v.split,
        );
    }
    pcap.finish()
}
