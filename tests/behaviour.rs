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

// ---------------------------------------------------------------- boot_phone_home

#[test]
fn boot_window_without_leak_is_one_info_alert() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let events = vec![
        Event::Dhcp(dhcp(T0 - S / 2, 3, None)), // REQUEST: the first packet
        Event::Dhcp(dhcp(T0, 5, None)),         // ACK
        Event::Tls(tls(T0 + 5 * S, "203.0.113.10", "api.example")),
        Event::Flow(geo(
            flow(T0 + 5 * S, "203.0.113.10", 443, Some("api.example")),
            "US",
            15169,
            "GOOGLE",
        )),
        Event::Flow(flow(T0 + 2 * S, "198.51.100.4", 443, None)),
        Event::Flow(flow(T0 + 3 * S, "192.168.8.1", 53, None)), // the LAN: not listed
        Event::Flow(flow(
            T0 + 150 * S,
            "198.51.100.99",
            443,
            Some("late.example"),
        )),
    ];
    let mut alerts = run(&mut b, events, None);
    assert!(
        of_kind(&alerts, AlertKind::BootPhoneHome).is_empty(),
        "window still open"
    );
    b.tick(closed(T0 - S / 2) - 1, &mut |a| alerts.push(a));
    assert!(
        of_kind(&alerts, AlertKind::BootPhoneHome).is_empty(),
        "grace not over"
    );
    b.tick(closed(T0 - S / 2), &mut |a| alerts.push(a));
    let boot = of_kind(&alerts, AlertKind::BootPhoneHome);
    assert_eq!(boot.len(), 1);
    let a = boot[0];
    assert_eq!(a.severity, Severity::Info);
    assert_eq!(
        a.ts,
        T0 - S / 2,
        "the window opened at the exchange's first packet"
    );
    assert_eq!(a.device_mac, Some(PHONE));
    assert_eq!(a.client_ip, Some(ip("192.168.8.23")));
    assert_eq!(a.dedup_key, format!("join:{}", T0 - S / 2));
    assert_eq!(
        a.summary,
        "Device …0203 contacted 2 destinations in its first 120 s after joining the network \
         (198.51.100.4, api.example)."
    );
    assert_eq!(a.detail["joined_by"], "dhcp_ack");
    assert_eq!(a.detail["window_secs"], 120);
    assert_eq!(a.detail["destination_count"], 2);
    assert_eq!(a.detail["pii_leak"], false);
    assert_eq!(a.detail["watched_destination"], false);
    assert_eq!(
        a.detail["destinations"],
        json!([
            {"domain": null, "server_ip": "198.51.100.4", "server_port": 443, "country": null,
             "asn": null, "as_org": null, "first_ts": T0 + 2 * S},
            {"domain": "api.example", "server_ip": "203.0.113.10", "server_port": 443,
             "country": "US", "asn": 15169, "as_org": "GOOGLE", "first_ts": T0 + 5 * S},
        ])
    );
    assert!(!a.summary.contains("04:f1:28"), "no MAC in clear");
}

#[test]
fn boot_window_with_a_pii_leak_fed_back_is_critical() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let leak = Alert {
        ts: T0 + 10 * S,
        severity: Severity::Critical,
        kind: AlertKind::PiiLeak,
        device_mac: Some(PHONE),
        client_ip: None,
        server_ip: Some(ip("203.0.113.80")),
        server_port: Some(80),
        proto: Some("http".into()),
        domain: Some("zzhc.vnet.cn".into()),
        country: None,
        asn: None,
        summary: "IMEI …7518 sent in clear.".into(),
        detail: json!({"identifier": "imei"}),
        dedup_key: "imei".into(),
    };
    let events = vec![
        Event::Dhcp(dhcp(T0, 5, None)),
        Event::Http(http(T0 + 10 * S, "203.0.113.80", "zzhc.vnet.cn", None)),
        Event::Alert(leak),
    ];
    let alerts = run(&mut b, events, Some(closed(T0)));
    let boot = of_kind(&alerts, AlertKind::BootPhoneHome);
    assert_eq!(boot.len(), 1);
    assert_eq!(boot[0].severity, Severity::Critical);
    assert_eq!(boot[0].detail["pii_leak"], true);
    assert_eq!(boot[0].detail["watched_destination"], false);
    assert_eq!(
        boot[0].summary,
        "Device …0203 contacted 1 destination in its first 120 s after joining the network \
         (zzhc.vnet.cn), sending a personal identifier."
    );
}

#[test]
fn boot_window_with_a_watched_destination_is_critical() {
    let mut b = Behaviour::new(watch_cn());
    let events = vec![
        Event::Dhcp(dhcp(T0, 5, None)),
        Event::Flow(geo(
            flow(T0 + 4 * S, "203.0.113.80", 80, Some("zzhc.vnet.cn")),
            "CN",
            4134,
            "CHINANET-BACKBONE",
        )),
    ];
    let alerts = run(&mut b, events, None);
    let mut all = alerts.clone();
    b.flush(T0 + 30 * S, &mut |a| all.push(a));
    let boot = of_kind(&all, AlertKind::BootPhoneHome);
    assert_eq!(boot.len(), 1, "flush closes the open window");
    assert_eq!(boot[0].severity, Severity::Critical);
    assert_eq!(boot[0].detail["watched_destination"], true);
    assert_eq!(boot[0].detail["destinations"][0]["country"], "CN");
    assert_eq!(boot[0].detail["destinations"][0]["asn"], 4134);
    assert!(boot[0]
        .summary
        .ends_with("(zzhc.vnet.cn), reaching a watched destination."));
}

#[test]
fn one_boot_alert_per_join_and_a_rejoin_starts_a_new_one() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let later = T0 + 3600 * S;
    let events = vec![
        Event::Dhcp(dhcp(T0, 5, None)),
        Event::Dhcp(dhcp(T0 + 30 * S, 5, None)), // same join: window still open
        Event::Tls(tls(T0 + 40 * S, "203.0.113.10", "a.example")),
        Event::Dhcp(dhcp(T0 + 1800 * S, 5, Some("192.168.8.23"))), // renewal: not a join
        Event::Dhcp(dhcp(later, 5, None)),                         // re-join
        Event::Tls(tls(later + S, "203.0.113.11", "b.example")),
    ];
    let mut alerts = run(&mut b, events, Some(closed(later)));
    b.flush(closed(later) + S, &mut |a| alerts.push(a));
    let boot = of_kind(&alerts, AlertKind::BootPhoneHome);
    assert_eq!(boot.len(), 2);
    assert_eq!((boot[0].ts, boot[1].ts), (T0, later));
    assert_ne!(
        boot[0].dedup_key, boot[1].dedup_key,
        "two joins are two store rows"
    );
    assert_eq!(boot[0].detail["destinations"][0]["domain"], "a.example");
    assert_eq!(boot[1].detail["destinations"][0]["domain"], "b.example");
    assert_eq!(boot[1].detail["destination_count"], 1);
}

#[test]
fn first_packet_join_reports_only_when_something_left_the_lan() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let lan_only = vec![
        Event::Dns(dns(T0, "192.168.8.1", DnsProtocol::Dns)),
        Event::Flow(flow(T0, "192.168.8.1", 53, None)),
    ];
    assert!(run(&mut b, lan_only, Some(closed(T0))).is_empty());

    let mut b = Behaviour::new(BehaviourConfig::default());
    let alerts = run(
        &mut b,
        vec![Event::Tls(tls(T0, "203.0.113.10", "a.example"))],
        Some(closed(T0)),
    );
    let boot = of_kind(&alerts, AlertKind::BootPhoneHome);
    assert_eq!(boot.len(), 1);
    assert_eq!(boot[0].detail["joined_by"], "first_packet");
    assert!(boot[0].summary.contains("after it was first seen"));
}

#[test]
fn boot_destination_list_is_bounded() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let mut events = vec![Event::Dhcp(dhcp(T0, 5, None))];
    for i in 0..200u32 {
        let server = format!("198.51.{}.{}", 100 + i / 250, i % 250 + 1);
        events.push(Event::Tls(tls(
            T0 + S + Ts::from(i),
            &server,
            &format!("h{i}.example"),
        )));
    }
    let alerts = run(&mut b, events, Some(closed(T0)));
    let boot = of_kind(&alerts, AlertKind::BootPhoneHome);
    assert_eq!(
        boot[0].detail["destinations"].as_array().unwrap().len(),
        MAX_BOOT_DESTINATIONS
    );
    assert_eq!(boot[0].detail["destination_count"], 200);
    assert_eq!(boot[0].detail["destinations_truncated"], true);
    assert!(boot[0].summary.contains("200 destinations") && boot[0].summary.contains(", …)"));
}

// ---------------------------------------------------------------- watched_destination

#[test]
fn watched_destination_by_country_or_as() {
    let mut b = Behaviour::new(watch_cn());
    let cn = geo(
        flow(T0, "203.0.113.80", 80, Some("zzhc.vnet.cn")),
        "CN",
        4134,
        "CHINANET",
    );
    let as_only = geo(
        flow(T0 + S, "198.51.100.80", 443, None),
        "HK",
        4134,
        "CHINANET",
    );
    let other = geo(
        flow(T0 + 2 * S, "198.51.100.81", 443, Some("x.example")),
        "DE",
        3320,
        "DTAG",
    );
    let alerts = run(
        &mut b,
        vec![Event::Flow(cn), Event::Flow(as_only), Event::Flow(other)],
        None,
    );
    let w = of_kind(&alerts, AlertKind::WatchedDestination);
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].severity, Severity::Warn);
    assert_eq!(
        w[0].summary,
        "Device …0203 connected to zzhc.vnet.cn (CN, AS4134), a destination in a watched \
         country and AS."
    );
    assert_eq!(w[0].domain.as_deref(), Some("zzhc.vnet.cn"));
    assert_eq!(
        (w[0].country.as_deref(), w[0].asn),
        (Some("CN"), Some(4134))
    );
    assert_eq!(w[0].detail["watched_country"], "CN");
    assert_eq!(w[0].detail["watched_asn"], 4134);
    assert_eq!(w[0].detail["as_org"], "CHINANET");
    assert_eq!(w[1].detail["watched_country"], json!(null));
    assert!(w[1]
        .summary
        .ends_with("198.51.100.80:443 (HK, AS4134), a destination in a watched AS."));
}

#[test]
fn allowlisted_domain_silences_watched_and_cleartext_but_not_the_boot_alert() {
    let cfg = BehaviourConfig {
        allow: vec!["vnet.cn".into(), "tracker.example".into()],
        ..watch_cn()
    };
    let mut b = Behaviour::new(cfg);
    let events = vec![
        Event::Dhcp(dhcp(T0, 5, None)),
        Event::Flow(geo(
            flow(T0 + S, "203.0.113.80", 80, Some("zzhc.vnet.cn")),
            "CN",
            4134,
            "",
        )),
        Event::Http(http(
            T0 + 2 * S,
            "203.0.113.90",
            "ads.tracker.example",
            Some("Basic"),
        )),
    ];
    let alerts = run(&mut b, events, Some(closed(T0)));
    let kinds: Vec<AlertKind> = alerts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [AlertKind::BootPhoneHome]);
    assert_eq!(
        alerts[0].severity,
        Severity::Info,
        "an allowlisted watch does not escalate"
    );
    assert_eq!(alerts[0].detail["destination_count"], 0);
}

// ---------------------------------------------------------------- cleartext_protocol

#[test]
fn dns_to_a_foreign_resolver_is_cleartext_protocol() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let alerts = run(
        &mut b,
        vec![Event::Dns(dns(T0, "8.8.8.8", DnsProtocol::Dns))],
        None,
    );
    let c = of_kind(&alerts, AlertKind::CleartextProtocol);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].severity, Severity::Info);
    assert_eq!(c[0].dedup_key, "dns");
    assert_eq!(c[0].proto.as_deref(), Some("dns"));
    assert_eq!(c[0].server_ip, Some(ip("8.8.8.8")));
    assert_eq!(
        c[0].summary,
        "Device …0203 sent DNS queries in clear text to the resolver 8.8.8.8, not the network's own."
    );
    assert_eq!(
        c[0].detail,
        json!({"protocol": "dns", "resolver": "8.8.8.8", "transport": "udp"})
    );
}

#[test]
fn dns_to_the_local_resolver_or_mdns_is_not() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let events = vec![
        Event::Dns(dns(T0, "192.168.8.1", DnsProtocol::Dns)),
        Event::Dns(dns(T0, "fd00:c0a8:8::1", DnsProtocol::Dns)),
        Event::Dns(dns(T0, "224.0.0.251", DnsProtocol::Mdns)),
    ];
    assert!(of_kind(&run(&mut b, events, None), AlertKind::CleartextProtocol).is_empty());

    // With the AP's resolver configured, another private resolver is foreign.
    let cfg = BehaviourConfig {
        local_resolvers: vec![ip("192.168.8.1")],
        ..BehaviourConfig::default()
    };
    let mut b = Behaviour::new(cfg);
    let events = vec![
        Event::Dns(dns(T0, "192.168.8.1", DnsProtocol::Dns)),
        Event::Dns(dns(T0, "10.0.0.1", DnsProtocol::Dns)),
    ];
    let c = run(&mut b, events, None);
    assert_eq!(of_kind(&c, AlertKind::CleartextProtocol).len(), 1);
    assert_eq!(c[0].server_ip, Some(ip("10.0.0.1")));
}

#[test]
fn http_request_is_cleartext_protocol() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let alerts = run(
        &mut b,
        vec![Event::Http(http(
            T0,
            "203.0.113.80",
            "ZZHC.vnet.cn:80",
            None,
        ))],
        None,
    );
    let c = of_kind(&alerts, AlertKind::CleartextProtocol);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].dedup_key, "http");
    assert_eq!(c[0].domain.as_deref(), Some("zzhc.vnet.cn"));
    assert_eq!(
        c[0].summary,
        "Device …0203 sent an HTTP request to zzhc.vnet.cn without encryption."
    );
    assert_eq!(
        c[0].detail,
        json!({"protocol": "http", "method": "POST", "server_port": 80})
    );
    assert!(
        !serde_json::to_string(c[0])
            .unwrap()
            .contains("490154203237518"),
        "no URI kept"
    );
}

#[test]
fn mail_ftp_telnet_mqtt_flows_are_cleartext_unless_upgraded() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let mut out = Vec::new();
    let f587 = flow(T0, "203.0.113.25", 587, Some("smtp.example"));
    b.observe_client_bytes(
        &ClientBytes {
            ts: T0,
            device_mac: Some(PHONE),
            client_ip: f587.client_ip,
            client_port: f587.client_port,
            server_ip: f587.server_ip,
            server_port: 587,
            domain: Some("smtp.example"),
            bytes: b"EHLO phone\r\nSTARTTLS\r\n",
        },
        &mut |a| out.push(a),
    );
    b.observe(&Event::Flow(f587), &mut |a| out.push(a));
    assert!(out.is_empty(), "STARTTLS: no alert");

    let mut syn_only = flow(T0, "203.0.113.21", 21, None);
    syn_only.tcp_state = TcpState::SynSent;
    b.observe(&Event::Flow(syn_only), &mut |a| out.push(a));
    assert!(
        of_kind(&out, AlertKind::CleartextProtocol).is_empty(),
        "nothing was sent"
    );

    for (port, proto) in [
        (21, "ftp"),
        (23, "telnet"),
        (110, "pop3"),
        (143, "imap"),
        (1883, "mqtt"),
    ] {
        let f = geo(
            flow(T0 + S, "203.0.113.30", port, Some("svc.example")),
            "NL",
            1136,
            "KPN",
        );
        out.clear();
        b.observe(&Event::Flow(f), &mut |a| out.push(a));
        let c = of_kind(&out, AlertKind::CleartextProtocol);
        assert_eq!(c.len(), 1, "{proto}");
        assert_eq!(c[0].dedup_key, proto);
        assert_eq!(c[0].proto.as_deref(), Some(proto));
        assert_eq!(
            c[0].summary,
            format!(
                "Device …0203 used {} without encryption with svc.example (NL, AS1136).",
                proto.to_uppercase()
            )
        );
        assert_eq!(c[0].detail["client_bytes_checked"], false);
    }
}

// ---------------------------------------------------------------- cleartext_credentials

fn client_bytes(port: u16, bytes: &[u8]) -> Vec<Alert> {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let mut out = Vec::new();
    b.observe_client_bytes(
        &ClientBytes {
            ts: T0,
            device_mac: Some(PHONE),
            client_ip: ip("192.168.8.23"),
            client_port: 40300,
            server_ip: ip("203.0.113.40"),
            server_port: port,
            domain: Some("mail.example"),
            bytes,
        },
        &mut |a| out.push(a),
    );
    out
}

#[test]
fn http_basic_and_digest_auth_are_credentials() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let events = vec![
        Event::Http(http(T0, "203.0.113.80", "cam.example", Some("Basic"))),
        Event::Http(http(T0, "203.0.113.80", "cam.example", Some("digest"))),
        Event::Http(http(T0, "203.0.113.80", "api.example", Some("Bearer"))),
    ];
    let alerts = run(&mut b, events, None);
    let c = of_kind(&alerts, AlertKind::CleartextCredentials);
    assert_eq!(c.len(), 2, "Bearer is not a password scheme");
    assert_eq!(c[0].severity, Severity::Warn);
    assert_eq!(
        c[0].summary,
        "Device …0203 sent HTTP Basic credentials in clear text to cam.example."
    );
    assert_eq!(
        c[0].detail,
        json!({"protocol": "http", "scheme": "basic", "username": null})
    );
    assert_eq!(c[1].detail["scheme"], "digest");
}

#[test]
fn ftp_user_pass_never_carries_the_password() {
    let alerts = client_bytes(21, b"USER alice\r\nPASS Sup3rSecret!\r\nRETR x\r\n");
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(
        (a.kind, a.severity),
        (AlertKind::CleartextCredentials, Severity::Warn)
    );
    assert_eq!(a.dedup_key, "ftp");
    assert_eq!(
        a.summary,
        "Device …0203 sent login credentials for FTP (user …ce) in clear text to mail.example."
    );
    assert_eq!(
        a.detail,
        json!({"protocol": "ftp", "username": "…ce", "password_seen": true})
    );
    let text = serde_json::to_string(a).unwrap();
    assert!(!text.contains("Sup3rSecret") && !text.contains("alice"));
    assert!(client_bytes(21, b"USER anonymous\r\nPASS guest@\r\n").is_empty());
}

#[test]
fn imap_login_and_smtp_auth_plain_are_credentials() {
    let imap = client_bytes(143, b"a1 CAPABILITY\r\na2 LOGIN bob.smith hunter22\r\n");
    assert_eq!(imap.len(), 1);
    assert_eq!(
        imap[0].detail,
        json!({"protocol": "imap", "username": "…mith", "password_seen": true})
    );
    assert!(!serde_json::to_string(&imap[0])
        .unwrap()
        .contains("hunter22"));

    // AUTH PLAIN base64("\0carol@example.org\0pw-42-pw")
    let smtp = client_bytes(
        587,
        b"EHLO x\r\nAUTH PLAIN AGNhcm9sQGV4YW1wbGUub3JnAHB3LTQyLXB3\r\n",
    );
    assert_eq!(smtp.len(), 1);
    assert_eq!(smtp[0].proto.as_deref(), Some("smtp"));
    assert_eq!(
        smtp[0].detail,
        json!({"protocol": "smtp", "username": "….org", "password_seen": true})
    );
    let text = serde_json::to_string(&smtp[0]).unwrap();
    assert!(!text.contains("pw-42-pw") && !text.contains("carol"));

    assert!(client_bytes(587, b"EHLO x\r\nSTARTTLS\r\n").is_empty());
    assert!(
        client_bytes(443, b"USER x\r\nPASS y\r\n").is_empty(),
        "not a cleartext port"
    );
}

// ---------------------------------------------------------------- no_dns_contact

#[test]
fn public_address_without_dns_is_no_dns_contact() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let f = geo(
        flow(T0, "198.51.100.77", 8443, None),
        "RU",
        12389,
        "ROSTELECOM",
    );
    let alerts = run(&mut b, vec![Event::Flow(f)], None);
    let n = of_kind(&alerts, AlertKind::NoDnsContact);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].severity, Severity::Info);
    assert_eq!(n[0].server_ip, Some(ip("198.51.100.77")));
    assert_eq!(
        n[0].summary,
        "Device …0203 contacted 198.51.100.77:8443 (RU, AS12389) without a DNS lookup naming it."
    );
    assert_eq!(
        n[0].detail,
        json!({"server_ip": "198.51.100.77", "server_port": 8443, "transport": "tcp",
               "as_org": "ROSTELECOM"})
    );
}

#[test]
fn named_local_ntp_and_midstream_flows_are_not_no_dns_contact() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let mut ntp = flow(T0, "198.51.100.123", 123, None);
    ntp.transport = Transport::Udp;
    let mut mid = flow(T0, "198.51.100.5", 443, None);
    mid.tcp_state = TcpState::Midstream;
    let events = vec![
        Event::Flow(flow(T0, "203.0.113.7", 443, Some("example.com"))),
        Event::Flow(flow(T0, "192.168.8.1", 8080, None)),
        Event::Flow(flow(T0, "fe80::1", 8080, None)),
        Event::Flow(ntp),
        Event::Flow(mid),
        Event::Flow(flow(T0, "8.8.8.8", 53, None)),
    ];
    assert!(of_kind(&run(&mut b, events, None), AlertKind::NoDnsContact).is_empty());
}

// ---------------------------------------------------------------- beacon

/// Flows to `server` every `period` seconds, each start moved by `jitter(i)` microseconds.
fn series(n: usize, period: Ts, jitter: impl Fn(usize) -> Ts) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let ts = T0 + i as Ts * period * S + jitter(i);
            Event::Flow(flow(ts, "203.0.113.66", 443, Some("c2.example")))
        })
        .collect()
}

#[test]
fn periodic_connections_are_a_beacon() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    // ±1 s around a 60 s period (within ±5 %), 11 connections = 10 intervals, then more.
    let jitter = |i: usize| [0, 1, 0, -1][i % 4] * S;
    let alerts = run(&mut b, series(20, 60, jitter), None);
    let beacons = of_kind(&alerts, AlertKind::Beacon);
    assert_eq!(beacons.len(), 1, "raised once, not once per connection");
    let a = beacons[0];
    assert_eq!(a.severity, Severity::Warn);
    assert_eq!(
        a.ts,
        T0 + 10 * 60 * S + jitter(10),
        "at the 11th connection"
    );
    assert_eq!(a.domain.as_deref(), Some("c2.example"));
    assert_eq!(a.detail["period_secs"], 60.0);
    assert_eq!(a.detail["intervals"], 10);
    assert_eq!(a.detail["destination"], "c2.example");
    assert_eq!(a.detail["max_deviation"], 0.0167);
    assert_eq!(
        a.summary,
        "Device …0203 connected to c2.example every 60 s (±1.7 %) over 10 intervals."
    );
}

#[test]
fn jittery_or_short_series_are_not_beacons() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    // ±12 s around 60 s: each connection is machine-like, the series is not periodic.
    let jittery = |i: usize| [0, 12, -9, 5, -12, 8][i % 6] * S;
    assert!(of_kind(
        &run(&mut b, series(30, 60, jittery), None),
        AlertKind::Beacon
    )
    .is_empty());
    let mut b = Behaviour::new(BehaviourConfig::default());
    assert!(of_kind(&run(&mut b, series(10, 60, |_| 0), None), AlertKind::Beacon).is_empty());
    let mut b = Behaviour::new(BehaviourConfig::default());
    assert!(
        of_kind(&run(&mut b, series(20, 2, |_| 0), None), AlertKind::Beacon).is_empty(),
        "a 2 s period is under min_period_secs"
    );
}

#[test]
fn beacon_series_out_of_order_is_still_found() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let mut ev = series(11, 300, |_| 0);
    ev.swap(3, 7); // records come when flows end, not in start order
    ev.swap(0, 10);
    let alerts = run(&mut b, ev, None);
    assert_eq!(of_kind(&alerts, AlertKind::Beacon).len(), 1);
}

// ---------------------------------------------------------------- bounded state

#[test]
fn state_stays_bounded_under_floods() {
    let mut b = Behaviour::new(BehaviourConfig::default());
    let mut n_alerts = 0usize;
    for i in 0..(MAX_DEVICES as u32 * 3) {
        let b4 = i.to_be_bytes();
        let mac = MacAddr([0x02, 0, b4[0], b4[1], b4[2], b4[3]]);
        let mut f = flow(T0 + Ts::from(i), "203.0.113.9", 443, Some("x.example"));
        f.device_mac = Some(mac);
        b.observe(&Event::Flow(f), &mut |_| n_alerts += 1);
    }
    let (devices, open, _, _) = b.held();
    assert!(devices <= MAX_DEVICES && open <= MAX_DEVICES);
    assert_eq!(
        n_alerts,
        2 * MAX_DEVICES,
        "evicted devices' windows are reported early"
    );

    for i in 0..(MAX_SERIES as u32 + 500) {
        let mut f = flow(T0 + Ts::from(i) * S, "203.0.113.9", 443, None);
        f.client_port = 1024 + (i % 60000) as u16;
        f.domain = Some(format!("d{i}.example"));
        b.observe(&Event::Flow(f), &mut |_| {});
        let bytes = ClientBytes {
            ts: T0,
            device_mac: Some(PHONE),
            client_ip: ip("192.168.8.23"),
            client_port: (i % 65536) as u16,
            server_ip: ip("203.0.113.40"),
            server_port: 25,
            domain: None,
            bytes: b"EHLO x\r\n",
        };
        b.observe_client_bytes(&bytes, &mut |_| {});
    }
    let (devices, _, series, notes) = b.held();
    assert!(devices <= MAX_DEVICES);
    assert_eq!(series, MAX_SERIES);
    assert_eq!(notes, MAX_SCANNED_FLOWS);
}

// ---------------------------------------------------------------- through the pipeline

/// Every event of `frames` through a fresh pipeline, in order.
fn pipeline_events(frames: &[(Ts, Vec<u8>)]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut p = Pipeline::new(PipelineConfig::default());
    for (ts, f) in frames {
        p.ingest(*ts, LinkType::Ethernet, f, &mut |e| out.push(e));
    }
    p.finish(&mut |e| out.push(e));
    out
}

#[test]
fn nokia_like_boot_through_the_pipeline() {
    use phonehome::synth::dhcp::{dhcp as dhcp_msg, DhcpSpec, ACK, DISCOVER, OFFER, REQUEST};
    use phonehome::synth::net::udp_frame;
    use phonehome::synth::TcpConversation;
    use phonehome::synth::{dns_query, dns_response, http_post, DnsAnswer, Endpoint, RData};

    let gw_mac = MacAddr([0xdc, 0xa6, 0x32, 0, 0, 1]);
    let ep = |mac, ip: &str, port| Endpoint {
        mac,
        ip: ip.parse().unwrap(),
        port,
        ttl: 64,
    };
    let mut frames = Vec::new();
    for (i, t) in [DISCOVER, OFFER, REQUEST, ACK].into_iter().enumerate() {
        let mut spec = DhcpSpec::new(t, 0xabcd, PHONE);
        if spec.is_reply() {
            spec.yiaddr = "192.168.8.23".parse().unwrap();
        }
        let (src, dst) = if spec.is_reply() {
            (
                ep(gw_mac, "192.168.8.1", 67),
                ep(MacAddr([0xff; 6]), "255.255.255.255", 68),
            )
        } else {
            (
                ep(PHONE, "0.0.0.0", 68),
                ep(MacAddr([0xff; 6]), "255.255.255.255", 67),
            )
        };
        let f = udp_frame(&src, &dst, i as u16, &dhcp_msg(&spec)).unwrap();
        frames.push((T0 + i as Ts * 1000, f));
    }
    let phone = |port| ep(PHONE, "192.168.8.23", port);
    let resolver = ep(gw_mac, "192.168.8.1", 53);
    let answer = [DnsAnswer {
        name: "zzhc.vnet.cn",
        ttl: 60,
        data: RData::A("203.0.113.80".parse().unwrap()),
    }];
    frames.push((
        T0 + S,
        udp_frame(&phone(5000), &resolver, 9, &dns_query(7, "zzhc.vnet.cn", 1)).unwrap(),
    ));
    frames.push((
        T0 + S + 2000,
        udp_frame(
            &resolver,
            &phone(5000),
            10,
            &dns_response(7, "zzhc.vnet.cn", 1, &answer),
        )
        .unwrap(),
    ));
    let body = b"{\"imei\":\"490154203237518\"}";
    let mut c =
        TcpConversation::new(phone(40500), ep(gw_mac, "203.0.113.80", 80), T0 + 2 * S).unwrap();
    c.handshake()
        .client_data(&http_post(
            "zzhc.vnet.cn",
            "/register",
            "Dalvik/2.1.0",
            "application/json",
            body,
        ))
        .close();
    frames.extend(c.frames().iter().cloned());

    let mut b = Behaviour::new(watch_cn());
    let mut alerts = Vec::new();
    for mut e in pipeline_events(&frames) {
        if let Event::Flow(f) = &mut e {
            // The lead's geo lookup fills these in the real pipeline.
            if f.server_ip == ip("203.0.113.80") {
                f.country = Some("CN".into());
                f.asn = Some(4134);
                f.as_org = Some("CHINANET-BACKBONE".into());
            }
        }
        b.observe(&e, &mut |a| alerts.push(a));
    }
    b.flush(T0 + 10 * S, &mut |a| alerts.push(a));

    let kinds: Vec<(AlertKind, Severity)> = alerts.iter().map(|a| (a.kind, a.severity)).collect();
    assert!(
        kinds.contains(&(AlertKind::CleartextProtocol, Severity::Info)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(AlertKind::WatchedDestination, Severity::Warn)),
        "{kinds:?}"
    );
    let boot = of_kind(&alerts, AlertKind::BootPhoneHome);
    assert_eq!(boot.len(), 1, "{kinds:?}");
    assert_eq!(boot[0].severity, Severity::Critical);
    assert_eq!(boot[0].detail["joined_by"], "dhcp_ack");
    assert_eq!(boot[0].detail["destination_count"], 1);
    assert_eq!(boot[0].detail["destinations"][0]["domain"], "zzhc.vnet.cn");
    assert_eq!(boot[0].detail["destinations"][0]["asn"], 4134);
    assert!(
        of_kind(&alerts, AlertKind::NoDnsContact).is_empty(),
        "the flow was DNS-named"
    );
    for a in &alerts {
        assert!(!a.summary.contains("490154203237518"));
    }
}

/// Alerts of every corpus capture, run through the pipeline and the detectors.
fn corpus_alerts(path: &Path) -> Vec<Alert> {
    let mut events = Vec::new();
    let mut p = Pipeline::new(PipelineConfig::default());
    if let Ok(mut src) = FileSource::open(path) {
        while let Some(Ok(f)) = src.next_frame() {
            p.ingest(f.ts, f.link, f.data, &mut |e| events.push(e));
        }
    }
    p.finish(&mut |e| events.push(e));
    let mut b = Behaviour::new(BehaviourConfig::default());
    let mut alerts = Vec::new();
    for e in &events {
        b.observe(e, &mut |a| alerts.push(a));
    }
    b.flush(Ts::MIN, &mut |a| alerts.push(a));
    alerts
}

#[test]
fn corpus_credentials_only_where_a_password_scheme_is_sent() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/pcaps"
    ));
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    };
    let mut seen = 0;
    for e in entries.flatten() {
        let path = e.path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let alerts = corpus_alerts(&path);
        seen += 1;
        let mut per_kind: Vec<(&str, usize)> = AlertKind::ALL
            .iter()
            .map(|k| (k.as_str(), of_kind(&alerts, *k).len()))
            .filter(|(_, n)| *n > 0)
            .collect();
        per_kind.sort();
        eprintln!("{name}: {per_kind:?}");
        let creds = of_kind(&alerts, AlertKind::CleartextCredentials);
        if name == "http-digest-auth" {
            assert!(!creds.is_empty(), "{name}");
            for a in &creds {
                assert_eq!(
                    a.detail,
                    json!({"protocol": "http", "scheme": "digest", "username": null})
                );
                assert_eq!(a.severity, Severity::Warn);
            }
        } else {
            assert!(creds.is_empty(), "{name}: {creds:?}");
        }
        for a in &alerts {
            assert!(
                a.severity <= Severity::Warn || a.kind == AlertKind::BootPhoneHome,
                "{name}"
            );
            assert!(a.detail.is_object(), "{name}");
        }
    }
    assert!(seen >= 40, "corpus has its captures");
}
