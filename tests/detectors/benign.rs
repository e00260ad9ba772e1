//! Scenario 5: false positives. An ordinary phone session — DHCP join, the captive-portal
//! check, NTP, mDNS, TLS to several servers, cleartext JSON full of millisecond timestamps,
//! UUIDs and a 15-digit number that fails the Luhn check — raises nothing above info, with
//! the product's detectors and a watch list in force.

use std::net::{IpAddr, Ipv4Addr};

use phonehome::event::{AlertKind, DnsProtocol, Event, MacAddr, Severity, MICROS};
use phonehome::synth::http::{http_get, http_post, http_response};
use phonehome::synth::{dns_query, pseudo_random, Endpoint};

use crate::harness::*;

/// (name, address) of each lookup, all answered by the AP's resolver.
const LOOKUPS: [(&str, &str); 7] = [
    ("connectivitycheck.gstatic.com", "142.250.74.99"),
    ("time.android.com", "216.239.35.4"),
    ("www.google.com", "142.250.74.36"),
    ("android.googleapis.com", "142.250.74.42"),
    ("play.googleapis.com", "142.250.74.74"),
    ("www.wikipedia.org", "185.15.59.224"),
    ("api.example-news.com", "151.101.1.195"),
];

/// A 15-digit number that is not an IMEI (Luhn fails) nor an IMSI (no such MCC/MNC).
const NOT_AN_IMEI: &str = "352099001761482";

fn telemetry() -> Vec<u8> {
    format!(
        concat!(
            r#"{{"session":"3f1c9a2e-8b7d-4c5e-9f10-2a6b7c8d9e0f","seq":{seq},"#,
            r#""build":"10.0.3.17","sent_at":1710406812004,"events":["#,
            r#"{{"ts":1710406805123,"name":"app_open","id":"b7e24c1d-05a9-4f3e-8c6b-91d2e7f04a38"}},"#,
            r#"{{"ts":1710406809871,"name":"screen_view","screen":"home","#,
            r#""id":"0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f","duration_ms":4748}},"#,
            r#"{{"ts":1710406811002,"name":"article_read","article":1710406000,"#,
            r#""id":"e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"}}]}}"#
        ),
        seq = NOT_AN_IMEI
    )
    .into_bytes()
}

/// An SNTP client request (mode 3, version 4) and the server's reply.
fn ntp(c: &mut Capture, t: i64) {
    let mut req = vec![0x23, 0, 6, 0xe8];
    req.resize(40, 0);
    req.extend_from_slice(&pseudo_random(b"ntp transmit", 8));
    let mut reply = vec![0x24, 1, 6, 0xe9];
    reply.extend_from_slice(&pseudo_random(b"ntp reply", 44));
    let port = c.port();
    c.udp(t, &phone(port), &server("216.239.35.4", 123), &req);
    c.udp(
        t + 21_000,
        &server("216.239.35.4", 123),
        &phone(port),
        &reply,
    );
}

/// An mDNS PTR question for Chromecasts on the LAN.
fn mdns(c: &mut Capture, t: i64) {
    let group = Endpoint {
        mac: MacAddr([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]),
        ip: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 251)),
        port: 5353,
        ttl: 255,
    };
    let q = dns_query(0, "_googlecast._tcp.local", 12);
    c.udp(t, &phone(5353), &group, &q);
}

#[test]
fn an_ordinary_phone_session_raises_nothing_above_info() {
    let geo = geo_present();
    let cfg = config(&format!(
        "[policy]\nwatch_countries = [\"CN\", \"RU\"]\nwatch_asns = [4134]\n{GEO_SECTION}"
    ));
    let mut c = Capture::new();
    c.dhcp_join(T0);
    for (i, (name, ip)) in LOOKUPS.iter().enumerate() {
        c.dns_a(T0 + MICROS + i as i64 * 40_000, name, &[ip]);
    }
    mdns(&mut c, T0 + 1_500_000);
    ntp(&mut c, T0 + 1_600_000);
    let ok204 = http_response("204 No Content", b"");
    c.tcp(
        T0 + 2 * MICROS,
        server("142.250.74.99", 80),
        &http_get("connectivitycheck.gstatic.com", "/generate_204", DALVIK_UA),
        &ok204,
    );
    for (i, (name, ip)) in LOOKUPS[2..6].iter().enumerate() {
        c.tls(T0 + 3 * MICROS + i as i64 * 700_000, ip, name);
    }
    c.tcp(
        T0 + 8 * MICROS,
        server("151.101.1.195", 80),
        &http_get(
            "api.example-news.com",
            "/v2/headlines?since=1710406000123&lang=en&page=1",
            "okhttp/4.12.0",
        ),
        &http_response("200 OK", br#"{"items":[],"next":1710406812999}"#),
    );
    let post = http_post(
        "api.example-news.com",
        "/v2/telemetry",
        "okhttp/4.12.0",
        "application/json; charset=utf-8",
        &telemetry(),
    );
    c.tcp(T0 + 9 * MICROS, server("151.101.1.195", 80), &post, &ok204);
    let events = c.run(detectors(&cfg));

    assert_eq!(at_least(&events, Severity::Warn), Vec::<String>::new());
    assert!(of_kind(&events, AlertKind::PiiLeak).is_empty());

    // Not vacuous: everything above reached the detectors, and the info alerts that should
    // come did.
    let posted = events.iter().any(|e| {
        matches!(e, Event::Http(h) if h.method == "POST"
            && h.body.windows(NOT_AN_IMEI.len()).any(|w| w == NOT_AN_IMEI.as_bytes()))
    });
    assert!(posted, "the telemetry body was decoded and scanned");
    assert!(events.iter().any(
        |e| matches!(e, Event::Dns(d) if d.protocol == DnsProtocol::Mdns && d.qname == "_googlecast._tcp.local")
    ));
    let tls = events.iter().filter(|e| matches!(e, Event::Tls(_))).count();
    assert_eq!(tls, 4);
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Flow(f) if f.server_port == 123)));
    let boot = of_kind(&events, AlertKind::BootPhoneHome);
    assert_eq!(boot.len(), 1);
    assert_eq!(boot[0].severity, Severity::Info);
    let dests = boot[0].detail["destinations"].as_array().unwrap();
    let mut names: Vec<&str> = dests.iter().filter_map(|d| d["domain"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "android.googleapis.com",
            "api.example-news.com",
            "connectivitycheck.gstatic.com",
            "play.googleapis.com",
            "time.android.com",
            "www.google.com",
            "www.wikipedia.org",
        ]
    );
    if geo {
        assert!(
            dests.iter().all(|d| d["country"].is_string()),
            "geo filled every destination: {dests:#?}"
        );
    }
    let http_clear = of_kind(&events, AlertKind::CleartextProtocol);
    assert!(http_clear
        .iter()
        .all(|a| a.severity == Severity::Info && detail_str(a, "protocol") == Some("http")));
    assert_eq!(http_clear.len(), 3, "one per HTTP request");
}
