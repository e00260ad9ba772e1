//! The behavioural detectors ([`Behaviour`]): each alert kind fires with its exact severity,
//! summary and detail, and stays silent where it must (local resolver, DNS-named flow, jittery
//! timing, allowlisted domain, STARTTLS, mid-stream flow); boot windows per join; credentials
//! never carry a password; state stays bounded under floods. The last tests run real traffic
//! through the pipeline: a Nokia-7-Plus-like boot built with `phonehome::synth`, and the
//! shared corpus (skipped with a message when `../shared` is absent).

use std::net::IpAddr;
use std::path::Path;

use phonehome::capture::file::FileSource;
use phonehome::decode::LinkType;
use phonehome::detect::behaviour::beacon::MAX_SERIES;
use phonehome::detect::behaviour::{
    Behaviour, BehaviourConfig, ClientBytes, BOOT_REPORT_GRACE, MAX_BOOT_DESTINATIONS, MAX_DEVICES,
    MAX_SCANNED_FLOWS,
};
use phonehome::event::{
    Alert, AlertKind, DhcpRecord, DnsProtocol, DnsRecord, Event, FlowEnd, FlowRecord, HttpRecord,
    MacAddr, Severity, TcpState, TlsRecord, Transport, Ts, MICROS,
};
use phonehome::pipeline::{Pipeline, PipelineConfig};
use serde_json::json;

const PHONE: MacAddr = MacAddr([0x04, 0xf1, 0x28, 0x01, 0x02, 0x03]);
const T0: Ts = 1_700_000_000 * MICROS;
const S: Ts = MICROS;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn flow(ts: Ts, server: &str, port: u16, domain: Option<&str>) -> FlowRecord {
    FlowRecord {
        ts,
        last_ts: ts + S,
        device_mac: Some(PHONE),
        transport: Transport::Tcp,
        client_ip: ip("192.168.8.23"),
        client_port: 40000,
        server_ip: ip(server),
        server_port: port,
        bytes_up: 900,
        bytes_down: 4000,
        packets_up: 8,
        packets_down: 6,
        domain: domain.map(String::from),
        country: None,
        asn: None,
        as_org: None,
        tcp_state: TcpState::Closed,
        end: FlowEnd::Closed,
    }
}

fn geo(mut f: FlowRecord, country: &str, asn: u32, org: &str) -> FlowRecord {
    f.country = Some(country.into());
    f.asn = Some(asn);
    f.as_org = Some(org.into());
    f
}

fn http(ts: Ts, server: &str, host: &str, auth: Option<&str>) -> HttpRecord {
    HttpRecord {
        ts,
        device_mac: Some(PHONE),
        client_ip: ip("192.168.8.23"),
        client_port: 40100,
        server_ip: ip(server),
        server_port: 80,
        method: "POST".into(),
        host: Some(host.into()),
        uri: "/upload?imei=490154203237518".into(),
        version: "1.1".into(),
        user_agent: None,
        referrer: None,
        content_type: None,
        content_encoding: None,
        auth_scheme: auth.map(String::from),
        cookie_present: false,
        content_length: None,
        chunked: false,
        body: Vec::new(),
        head: Vec::new(),
    }
}

fn tls(ts: Ts, server: &str, sni: &str) -> TlsRecord {
    TlsRecord {
        ts,
        device_mac: Some(PHONE),
        client_ip: ip("192.168.8.23"),
        client_port: 40200,
        server_ip: ip(server),
        server_port: 443,
        transport: Transport::Tcp,
        sni: Some(sni.into()),
        alpn: vec![],
        version: 0x0303,
        supported_versions: vec![],
        ja3: String::new(),
        ja3_string: String::new(),
        ja4: String::new(),
        ja4_r: String::new(),
        quic_version: None,
    }
}

fn dns(ts: Ts, server: &str, protocol: DnsProtocol) -> DnsRecord {
    DnsRecord {
        ts,
        device_mac: Some(PHONE),
        client_ip: ip("192.168.8.23"),
        client_port: 5555,
        server_ip: ip(server),
        server_port: if protocol == DnsProtocol::Mdns {
            5353
        } else {
            53
        },
        transport: Transport::Udp,
        protocol,
        trans_id: 7,
        opcode: 0,
        qname: "example.com".into(),
        qtype: 1,
        rcode: Some(0),
        answers: vec!["203.0.113.7".into()],
        response_only: false,
    }
}

fn dhcp(ts: Ts, msg_type: u8, ciaddr: Option<&str>) -> DhcpRecord {
    DhcpRecord {
        ts,
        device_mac: Some(PHONE),
        src_ip: ip(if msg_type == 5 {
            "192.168.8.1"
        } else {
            "0.0.0.0"
        }),
        dst_ip: ip("255.255.255.255"),
        op: if matches!(msg_type, 2 | 5 | 6) { 2 } else { 1 },
        xid: 0x1234,
        client_mac: PHONE,
        msg_type: Some(msg_type),
        ciaddr: ciaddr.map(ip),
        yiaddr: Some(ip("192.168.8.23")),
        hostname: None,
        vendor_class: None,
        param_list: vec![],
        requested_ip: None,
        server_id: None,
        client_id: None,
        options_present: vec![53],
    }
}

fn watch_cn() -> BehaviourConfig {
    BehaviourConfig {
        watch_countries: vec!["cn".into()],
        watch_asns: vec![4134],
        ..BehaviourConfig::default()
    }
}

/// Feeds `events` in order, then ticks at `tick` (if any); returns every alert.
fn run(b: &mut Behaviour, events: Vec<Event>, tick: Option<Ts>) -> Vec<Alert> {
    let mut out = Vec::new();
    for e in &events {
        b.observe(e, &mut |a| out.push(a));
    }
    if let Some(t) = tick {
        b.tick(t, &mut |a| out.push(a));
    }
    out
}

fn of_kind(alerts: &[Alert], kind: AlertKind) -> Vec<&Alert> {
    alerts.iter().filter(|a| a.kind == kind).collect()
}

/// The time at which a window opened at `start` (default length) is closed by a tick.
fn closed(start: Ts) -> Ts {
    start + 120 * S + BOOT_REPORT_GRACE
}

#[path = "behaviour/boot.rs"]
mod boot;
#[path = "behaviour/kinds.rs"]
mod kinds;
#[path = "behaviour/timing.rs"]
mod timing;
#[path = "behaviour/traffic.rs"]
mod traffic;
