//! DNS depth (issue 6, item 4), on traffic built with `phonehome::synth` and run through the
//! product's pipeline and detectors:
//! - a CNAME chain names flows to its address with the query name, bounded in length, and
//!   stray address records teach nothing; the client's SNI or Host replaces the DNS name guessed by address;
//! - mDNS and LLMNR answers never name a flow and never count as cleartext-resolver DNS;
//! - DNS over TCP (length-prefixed, several messages per connection, split and reordered
//!   segments) gives the same records as over UDP and teaches the domain map;
//! - encrypted_dns: DoH by SNI, by address (TCP and QUIC), DoT by port, once per device and
//!   resolver; quiet on ordinary HTTPS and on the network's own resolvers.
//!
//! `corpus_domain_share_by_bytes` prints the closing-note measurement (run with
//! `cargo test --test dns_depth -- --nocapture`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome::config::Config;
use phonehome::decode::LinkType;
use phonehome::detect::setup;
use phonehome::event::{
    Alert, AlertKind, DnsProtocol, DnsRecord, Event, FlowRecord, MacAddr, Transport, Ts, MICROS,
};
use phonehome::pipeline::{Pipeline, PipelineConfig};
use phonehome::synth::net::udp_frame;
use phonehome::synth::{
    dns_query, dns_response, tls_client_hello, DnsAnswer, Endpoint, HelloStyle, RData,
    TcpConversation,
};

const PHONE_MAC: MacAddr = MacAddr([0x04, 0xf1, 0x28, 0x01, 0x02, 0x03]);
const GW_MAC: MacAddr = MacAddr([0xdc, 0xa6, 0x32, 0x00, 0x00, 0x01]);
const T0: Ts = 1_700_000_000 * MICROS;
const PHONE_IP: &str = "192.168.8.23";
const RESOLVER_IP: &str = "192.168.8.1";

fn ep(mac: MacAddr, ip: &str, port: u16) -> Endpoint {
    Endpoint {
        mac,
        ip: ip.parse().unwrap(),
        port,
        ttl: 64,
    }
}

fn phone(port: u16) -> Endpoint {
    ep(PHONE_MAC, PHONE_IP, port)
}

fn server(ip: &str, port: u16) -> Endpoint {
    ep(GW_MAC, ip, port)
}

/// Frames of one capture, in order.
#[derive(Default)]
struct Capture {
    frames: Vec<(Ts, Vec<u8>)>,
    next: Ts,
}

impl Capture {
    fn at(&mut self) -> Ts {
        self.next += 10_000;
        T0 + self.next
    }

    fn udp(&mut self, src: &Endpoint, dst: &Endpoint, payload: &[u8]) {
        let ts = self.at();
        self.frames
            .push((ts, udp_frame(src, dst, 1, payload).unwrap()));
    }

    /// A classic DNS exchange over UDP between the phone and the AP's resolver.
    fn dns_udp(&mut self, id: u16, qname: &str, answers: &[DnsAnswer<'_>]) {
        let q = dns_query(id, qname, 1);
        let r = dns_response(id, qname, 1, answers);
        self.udp(&phone(40_000 + id), &server(RESOLVER_IP, 53), &q);
        self.udp(&server(RESOLVER_IP, 53), &phone(40_000 + id), &r);
    }

    /// A TCP connection from the phone; `script` adds its data.
    fn tcp(
        &mut self,
        port: u16,
        srv: &str,
        srv_port: u16,
        script: impl FnOnce(&mut TcpConversation),
    ) {
        let start = self.at();
        let mut c = TcpConversation::new(phone(port), server(srv, srv_port), start).unwrap();
        c.handshake();
        script(&mut c);
        c.close();
        self.next = c.now() - T0;
        self.frames.extend(c.frames().iter().cloned());
    }

    fn tls(&mut self, port: u16, srv: &str, srv_port: u16, sni: &str) {
        let hello = tls_client_hello(sni, HelloStyle::Chrome);
        self.tcp(port, srv, srv_port, |c| {
            c.client_data(&hello);
        });
    }
}

fn pipeline_events(cap: &Capture, mut p: Pipeline) -> Vec<Event> {
    let mut out = Vec::new();
    let mut sink = |e: Event| out.push(e);
    for (ts, f) in &cap.frames {
        p.ingest(*ts, LinkType::Ethernet, f, &mut sink);
    }
    p.finish(&mut sink);
    out
}

fn run(cap: &Capture) -> Vec<Event> {
    pipeline_events(cap, Pipeline::new(PipelineConfig::default()))
}

/// Runs `cap` with every detector the product builds from `toml`.
fn run_detect(cap: &Capture, toml: &str) -> Vec<Event> {
    let cfg = Config::parse(toml, Path::new("/etc/phonehome/phonehome.toml")).unwrap();
    let d = setup::detectors(&cfg).unwrap();
    pipeline_events(cap, Pipeline::with_detectors(PipelineConfig::default(), d))
}

fn flows(ev: &[Event]) -> Vec<&FlowRecord> {
    ev.iter()
        .filter_map(|e| {
            if let Event::Flow(f) = e {
                Some(f)
            } else {
                None
            }
        })
        .collect()
}

fn flow_to<'a>(ev: &'a [Event], ip: &str, port: u16) -> &'a FlowRecord {
    let ip: IpAddr = ip.parse().unwrap();
    flows(ev)
        .into_iter()
        .find(|f| f.server_ip == ip && f.server_port == port)
        .unwrap_or_else(|| panic!("no flow to {ip}:{port}"))
}

fn dns_records(ev: &[Event]) -> Vec<&DnsRecord> {
    ev.iter()
        .filter_map(|e| if let Event::Dns(d) = e { Some(d) } else { None })
        .collect()
}

fn alerts(ev: &[Event], kind: AlertKind) -> Vec<&Alert> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Alert(a) if a.kind == kind => Some(a),
            _ => None,
        })
        .collect()
}

fn a(name: &str, ip: &str) -> DnsAnswer<'static> {
    DnsAnswer {
        name: Box::leak(name.to_string().into_boxed_str()),
        ttl: 60,
        data: RData::A(ip.parse().unwrap()),
    }
}

fn cname(name: &str, target: &str) -> DnsAnswer<'static> {
    DnsAnswer {
        name: Box::leak(name.to_string().into_boxed_str()),
        ttl: 60,
        data: RData::Cname(Box::leak(target.to_string().into_boxed_str())),
    }
}

// ---------------------------------------------------------------------------------------
// 1. CNAME chains and precedence

#[test]
fn cname_chain_names_the_flow_with_the_query_name() {
    let mut cap = Capture::default();
    cap.dns_udp(
        1,
        "A.Example",
        &[
            cname("A.Example", "b.cdn.net"),
            cname("b.cdn.net", "c.edge.net"),
            a("c.edge.net", "198.51.100.10"),
            // An extra record off the chain: it must not be credited to a.example.
            a("unrelated.example", "203.0.113.66"),
        ],
    );
    cap.tcp(41_000, "198.51.100.10", 8443, |_| {});
    cap.tcp(41_001, "203.0.113.66", 8443, |_| {});
    let ev = run(&cap);
    assert_eq!(
        flow_to(&ev, "198.51.100.10", 8443).domain.as_deref(),
        Some("a.example"),
        "the name the device asked for, lowered, not the CDN name"
    );
    assert_eq!(flow_to(&ev, "203.0.113.66", 8443).domain, None);
    let rec = dns_records(&ev)[0];
    assert_eq!(rec.qname, "A.Example");
    assert_eq!(
        rec.answers,
        ["b.cdn.net", "c.edge.net", "198.51.100.10", "203.0.113.66"]
    );
}

#[test]
fn cname_chain_longer_than_the_bound_teaches_nothing_past_it() {
    let max = phonehome::flow::domains::MAX_CNAME_CHAIN;
    let names: Vec<String> = (0..=max + 4)
        .map(|i| format!("n{i}.chain.example"))
        .collect();
    let mut answers: Vec<DnsAnswer> = names.windows(2).map(|w| cname(&w[0], &w[1])).collect();
    answers.push(a(&names[max], "198.51.100.20"));
    answers.push(a(&names[max + 4], "198.51.100.21"));
    let mut cap = Capture::default();
    cap.dns_udp(2, &names[0], &answers);
    cap.tcp(41_002, "198.51.100.20", 8443, |_| {});
    cap.tcp(41_003, "198.51.100.21", 8443, |_| {});
    let ev = run(&cap);
    assert_eq!(
        flow_to(&ev, "198.51.100.20", 8443).domain.as_deref(),
        Some("n0.chain.example"),
        "{max} links are followed"
    );
    assert_eq!(flow_to(&ev, "198.51.100.21", 8443).domain, None);
}

/// The precedence in force (documented in `flow::domains` and the README's flows table): the
/// DNS answer's name wins, SNI names the flows no answer named.
#[test]
fn sni_beats_the_dns_guess_by_address() {
    let mut cap = Capture::default();
    cap.dns_udp(3, "app.example", &[a("app.example", "198.51.100.30")]);
    // The same (CDN) address, asked for another name: the client's SNI names the flow.
    cap.tls(41_004, "198.51.100.30", 443, "api.other.example");
    cap.tls(41_005, "198.51.100.31", 443, "sni-only.example");
    // No SNI: the DNS name stays.
    cap.tcp(41_006, "198.51.100.30", 8443, |_| {});
    let ev = run(&cap);
    assert_eq!(
        flow_to(&ev, "198.51.100.30", 443).domain.as_deref(),
        Some("api.other.example")
    );
    assert_eq!(
        flow_to(&ev, "198.51.100.30", 8443).domain.as_deref(),
        Some("app.example")
    );
    assert_eq!(
        flow_to(&ev, "198.51.100.31", 443).domain.as_deref(),
        Some("sni-only.example")
    );
}

// ---------------------------------------------------------------------------------------
// 2. mDNS and LLMNR

#[test]
fn mdns_and_llmnr_never_name_flows_and_are_not_resolver_dns() {
    let mut cap = Capture::default();
    // mDNS: a phone asks, a printer answers to the group (question included).
    let mdns_group = ep(MacAddr([0x01, 0x00, 0x5e, 0, 0, 0xfb]), "224.0.0.251", 5353);
    let q = dns_query(0, "printer.local", 1);
    cap.udp(&phone(5353), &mdns_group, &q);
    let r = dns_response(0, "printer.local", 1, &[a("printer.local", "192.168.8.50")]);
    cap.udp(&ep(GW_MAC, "192.168.8.50", 5353), &mdns_group, &r);
    // LLMNR: unicast answer from the host that owns the name.
    let q = dns_query(9, "nas", 1);
    let llmnr_group = ep(MacAddr([0x01, 0x00, 0x5e, 0, 0, 0xfc]), "224.0.0.252", 5355);
    cap.udp(&phone(50_000), &llmnr_group, &q);
    let r = dns_response(9, "nas", 1, &[a("nas", "192.168.8.60")]);
    cap.udp(&ep(GW_MAC, "192.168.8.60", 5355), &phone(50_000), &r);
    // LLMNR sent to a public address: still not resolver DNS.
    cap.udp(&phone(50_001), &server("203.0.113.53", 5355), &q);
    // Control: the same kind of answer over classic DNS to a foreign resolver does count.
    let q = dns_query(10, "nas2.example", 1);
    cap.udp(&phone(50_002), &server("203.0.113.53", 53), &q);
    let r = dns_response(10, "nas2.example", 1, &[a("nas2.example", "198.51.100.60")]);
    cap.udp(&server("203.0.113.53", 53), &phone(50_002), &r);
    cap.tcp(41_010, "192.168.8.50", 631, |_| {});
    cap.tcp(41_011, "192.168.8.60", 445, |_| {});
    cap.tcp(41_012, "198.51.100.60", 445, |_| {});
    let ev = run_detect(&cap, "[policy]\nlocal_resolvers = [\"192.168.8.1\"]\n");
    let protocols: Vec<(&str, DnsProtocol)> = dns_records(&ev)
        .iter()
        .map(|d| (d.qname.as_str(), d.protocol))
        .collect();
    assert!(
        protocols.contains(&("printer.local", DnsProtocol::Mdns)),
        "{protocols:?}"
    );
    assert!(
        protocols.contains(&("nas", DnsProtocol::Llmnr)),
        "{protocols:?}"
    );
    assert!(protocols.contains(&("nas2.example", DnsProtocol::Dns)));
    assert_eq!(
        flow_to(&ev, "192.168.8.50", 631).domain,
        None,
        "mDNS answer"
    );
    assert_eq!(
        flow_to(&ev, "192.168.8.60", 445).domain,
        None,
        "LLMNR answer"
    );
    assert_eq!(
        flow_to(&ev, "198.51.100.60", 445).domain.as_deref(),
        Some("nas2.example"),
        "classic DNS does teach the map"
    );
    let cleartext: Vec<_> = alerts(&ev, AlertKind::CleartextProtocol)
        .into_iter()
        .filter(|a| a.proto.as_deref() == Some("dns"))
        .collect();
    assert_eq!(cleartext.len(), 1, "{cleartext:?}");
    assert_eq!(cleartext[0].server_port, Some(53));
}

/// `phonehome dns` shows the protocol of each record (real mDNS capture of the corpus).
#[test]
fn dns_listing_shows_the_protocol_column() {
    let pcap = corpus_dir().join("mdns-queries-ipv4-ipv6.pcap");
    if !pcap.exists() {
        println!("skipped: {} not present", pcap.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let cfg = dir.path().join("phonehome.toml");
    std::fs::write(&cfg, "").unwrap();
    let bin = env!("CARGO_BIN_EXE_phonehome");
    let st = Command::new(bin)
        .arg("--db")
        .arg(&db)
        .arg("--config")
        .arg(&cfg)
        .arg("analyze")
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    let out = Command::new(bin)
        .arg("--db")
        .arg(&db)
        .arg("--config")
        .arg(&cfg)
        .arg("dns")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text.lines().next().unwrap_or_default();
    assert!(header.contains("protocol"), "{header}");
    let rows: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("20"))
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        rows.iter()
            .all(|l| l.split_whitespace().any(|w| w == "mdns")),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// 3. DNS over TCP

fn framed(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.extend_from_slice(&(m.len() as u16).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

#[test]
fn dns_over_tcp_several_messages_split_and_reordered_give_the_records() {
    let queries = [
        dns_query(0x0101, "one.example", 1),
        dns_query(0x0202, "two.example", 1),
        dns_query(0x0303, "three.example", 1),
    ];
    let responses = [
        dns_response(
            0x0101,
            "one.example",
            1,
            &[a("one.example", "198.51.100.41")],
        ),
        dns_response(
            0x0202,
            "two.example",
            1,
            &[
                cname("two.example", "edge.cdn.net"),
                a("edge.cdn.net", "198.51.100.42"),
            ],
        ),
        dns_response(
            0x0303,
            "three.example",
            1,
            &[a("three.example", "198.51.100.43")],
        ),
    ];
    let up = framed(&queries[..2]);
    let down = framed(&responses[..2]);
    let mut cap = Capture::default();
    cap.tcp(42_000, RESOLVER_IP, 53, |c| {
        // Two queries in one stream, cut in three segments delivered out of order (one cut
        // falls inside a length prefix).
        c.client_data_split(&up, 3, &[1, 2, 0]);
        // Two answers, the first cut inside its message.
        c.server_data(&down[..7]);
        c.server_data(&down[7..]);
        c.client_data(&framed(&queries[2..]));
        c.server_data(&framed(&responses[2..]));
    });
    cap.tcp(42_001, "198.51.100.42", 8443, |_| {});
    let ev = run(&cap);
    let recs = dns_records(&ev);
    let got: Vec<(&str, u16, Option<u8>, Vec<&str>)> = recs
        .iter()
        .map(|r| {
            (
                r.qname.as_str(),
                r.trans_id,
                r.rcode,
                r.answers.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("one.example", 0x0101, Some(0), vec!["198.51.100.41"]),
            (
                "two.example",
                0x0202,
                Some(0),
                vec!["edge.cdn.net", "198.51.100.42"]
            ),
            ("three.example", 0x0303, Some(0), vec!["198.51.100.43"]),
        ]
    );
    for r in &recs {
        assert_eq!(r.transport, Transport::Tcp);
        assert_eq!(r.protocol, DnsProtocol::Dns);
        assert!(!r.response_only);
        assert_eq!(r.server_port, 53);
        assert_eq!(r.client_port, 42_000);
        assert_eq!(r.device_mac, Some(PHONE_MAC));
    }
    assert_eq!(
        flow_to(&ev, "198.51.100.42", 8443).domain.as_deref(),
        Some("two.example"),
        "answers over TCP teach the domain map, CNAME chain included"
    );
}

// ---------------------------------------------------------------------------------------
// 4. encrypted_dns

const POLICY: &str = "[policy]\nlocal_resolvers = [\"192.168.8.1\", \"9.9.9.9\"]\n";

#[test]
fn encrypted_dns_by_sni_address_and_port_once_per_resolver() {
    let mut cap = Capture::default();
    // DoH by SNI, twice, to an address that is not on the list.
    cap.tls(43_000, "203.0.113.77", 443, "dns.google");
    cap.tls(43_001, "203.0.113.77", 443, "dns.google");
    // The same resolver by address: still the one dns.google alert for this device.
    cap.tcp(43_002, "8.8.8.8", 443, |c| {
        c.client_data(b"\x17\x03\x03\x00\x05hello");
    });
    // DoH by address only (no ClientHello seen).
    cap.tcp(43_003, "1.1.1.1", 443, |c| {
        c.client_data(b"\x17\x03\x03\x00\x05hello");
    });
    // DoH over HTTP/3: a QUIC short-header datagram to a listed address.
    cap.udp(&phone(43_004), &server("94.140.14.14", 443), &[0x40; 40]);
    // DoT by port to a resolver on no list, with its SNI.
    cap.tls(43_005, "198.51.100.53", 853, "dot.example.net");
    cap.tls(43_006, "198.51.100.53", 853, "dot.example.net");
    let ev = run_detect(&cap, POLICY);
    let got = alerts(&ev, AlertKind::EncryptedDns);
    let mut summary: Vec<(Option<&str>, &str, &str, &str)> = got
        .iter()
        .map(|a| {
            (
                a.domain.as_deref(),
                a.detail["protocol"].as_str().unwrap(),
                a.detail["matched_by"].as_str().unwrap(),
                a.proto.as_deref().unwrap(),
            )
        })
        .collect();
    summary.sort();
    assert_eq!(
        summary,
        [
            (Some("dns.adguard-dns.com"), "doh", "address", "quic"),
            (Some("dns.google"), "doh", "sni", "tcp"),
            (Some("dot.example.net"), "dot", "port", "tcp"),
            (Some("one.one.one.one"), "doh", "address", "tcp"),
        ],
        "one alert per resolver: the second dns.google hello and the flow to 8.8.8.8 add none"
    );
    for a in &got {
        assert_eq!(a.severity, phonehome::event::Severity::Info);
        assert_eq!(a.device_mac, Some(PHONE_MAC));
        assert!(
            a.summary.contains(a.domain.as_deref().unwrap()),
            "{}",
            a.summary
        );
        assert!(a.summary.contains("…0203"), "masked device: {}", a.summary);
    }
    let text = |d: &str| {
        got.iter()
            .find(|a| a.domain.as_deref() == Some(d))
            .map(|a| a.summary.clone())
            .unwrap_or_default()
    };
    assert!(text("dns.google").contains("DNS over HTTPS"));
    assert!(text("dot.example.net").contains("DNS over TLS"));
}

#[test]
fn encrypted_dns_quiet_on_ordinary_https_and_local_resolvers() {
    let mut cap = Capture::default();
    cap.tls(44_000, "142.250.185.78", 443, "www.google.com");
    cap.tls(44_001, "142.250.185.78", 443, "google.com");
    cap.tls(44_002, "104.16.132.229", 443, "www.cloudflare.com");
    cap.tls(44_003, "104.16.132.229", 443, "dns.google.evil.example");
    // The network's own resolvers: the AP, and a public one the user configured.
    cap.tls(44_004, RESOLVER_IP, 853, "ap.lan");
    cap.tls(44_005, "9.9.9.9", 853, "dns.quad9.net");
    cap.tls(44_006, "9.9.9.9", 443, "dns.quad9.net");
    // A resolver on the LAN is not a bypass of the network either.
    cap.tls(44_007, "192.168.8.2", 853, "pihole.lan");
    let ev = run_detect(&cap, POLICY);
    assert!(
        alerts(&ev, AlertKind::EncryptedDns).is_empty(),
        "{:?}",
        alerts(&ev, AlertKind::EncryptedDns)
    );
    // Without the policy entry, 9.9.9.9 is a public resolver like any other.
    let ev = run_detect(&cap, "");
    let got = alerts(&ev, AlertKind::EncryptedDns);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].domain.as_deref(), Some("dns.quad9.net"));
}

// ---------------------------------------------------------------------------------------
// 5. Closing-note measurement

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pcaps")
}

/// Bytes of all flows and of flows with a domain, per capture, as `bin analyze` stores them.
fn domain_bytes(bin: &Path, pcaps: &[PathBuf]) -> Vec<(u64, u64)> {
    pcaps
        .iter()
        .map(|pcap| {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("m.db");
            let cfg = dir.path().join("phonehome.toml");
            std::fs::write(&cfg, "").unwrap();
            let _ = Command::new(bin)
                .arg("--db")
                .arg(&db)
                .arg("--config")
                .arg(&cfg)
                .arg("analyze")
                .arg("--no-detect")
                .arg(pcap)
                .output()
                .unwrap();
            let Ok(conn) = rusqlite::Connection::open(&db) else {
                return (0, 0);
            };
            conn.query_row(
                "SELECT coalesce(sum(bytes_up + bytes_down), 0), \
                 coalesce(sum(CASE WHEN domain IS NOT NULL THEN bytes_up + bytes_down END), 0) \
                 FROM flows",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .unwrap_or((0, 0))
        })
        .collect()
}

fn share(v: &[(u64, u64)]) -> (u64, u64, f64) {
    let total: u64 = v.iter().map(|x| x.0).sum();
    let named: u64 = v.iter().map(|x| x.1).sum();
    (total, named, 100.0 * named as f64 / total.max(1) as f64)
}

/// Share of corpus flow bytes with a known domain, after (this build) and before (a build of
/// commit ce6bcd2, before issue 6: `PHONEHOME_BEFORE_BIN`, default
/// `/tmp/dnsdepth-before/target/debug/phonehome`; skipped with a message when absent).
#[test]
fn corpus_domain_share_by_bytes() {
    let dir = corpus_dir();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        println!("skipped: {} not present", dir.display());
        return;
    };
    let mut pcaps: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    pcaps.sort();
    let after = domain_bytes(Path::new(env!("CARGO_BIN_EXE_phonehome")), &pcaps);
    let (total, named, pct) = share(&after);
    assert!(total > 0 && named > 0 && named <= total);
    println!(
        "after  (this build): {named} of {total} flow bytes have a domain = {pct:.2} % ({} captures)",
        pcaps.len()
    );
    let before_bin = std::env::var_os("PHONEHOME_BEFORE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/dnsdepth-before/target/debug/phonehome"));
    if !before_bin.exists() {
        println!(
            "before: skipped ({} absent; build commit ce6bcd2 there or set PHONEHOME_BEFORE_BIN)",
            before_bin.display()
        );
        return;
    }
    let before = domain_bytes(&before_bin, &pcaps);
    let (btotal, bnamed, bpct) = share(&before);
    println!("before (ce6bcd2):    {bnamed} of {btotal} flow bytes have a domain = {bpct:.2} %");
    for ((p, b), a) in pcaps.iter().zip(&before).zip(&after) {
        if b != a {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            println!("  {name}: {} → {} of {} → {} bytes", b.1, a.1, b.0, a.0);
        }
    }
}
