//! Scenario 4: each rule fires on the traffic it is about and stays quiet on its near miss,
//! through the pipeline: cleartext_credentials, tracker, no_dns_contact, beacon, and the
//! allowlist (silences a tracker, never a pii_leak).

use phonehome::event::{AlertKind, Event, Severity, Ts, MICROS};
use phonehome::synth::http::{http_post, http_response};
use phonehome::synth::pseudo_random;

use crate::harness::*;

fn request(lines: &[&str]) -> Vec<u8> {
    let mut r = lines.join("\r\n");
    r.push_str("\r\n\r\n");
    r.into_bytes()
}

#[test]
fn http_basic_credentials_fire_and_a_request_without_authorization_does_not() {
    let mut c = Capture::new();
    c.dns_a(T0, "cam.example-dvr.net", &["81.169.145.90"]);
    let ok = http_response("200 OK", b"");
    let with = c.tcp(
        T0 + MICROS,
        server("81.169.145.90", 8080),
        &request(&[
            "GET /cgi-bin/snapshot.cgi HTTP/1.1",
            "Host: cam.example-dvr.net:8080",
            "Authorization: Basic YWRtaW46aHVudGVyMg==",
            "User-Agent: okhttp/4.12.0",
        ]),
        &ok,
    );
    let without = c.tcp(
        T0 + 2 * MICROS,
        server("81.169.145.90", 8080),
        &request(&[
            "GET /cgi-bin/status.cgi HTTP/1.1",
            "Host: cam.example-dvr.net:8080",
            "User-Agent: okhttp/4.12.0",
        ]),
        &ok,
    );
    let events = c.run(detectors(&config("")));
    let creds = of_kind(&events, AlertKind::CleartextCredentials);
    assert_eq!(creds.len(), 1, "{creds:#?}");
    let a = creds[0];
    assert_eq!(a.client_port, Some(with));
    assert_eq!(a.severity, Severity::Warn);
    assert_eq!(a.domain.as_deref(), Some("cam.example-dvr.net"));
    assert_eq!(detail_str(a, "scheme"), Some("basic"));
    assert_eq!(detail_str(a, "protocol"), Some("http"));
    assert!(!a.detail.to_string().contains("hunter2") && !a.summary.contains("YWRtaW4"));
    // Both requests were decoded: the second one is the near miss, not a lost request.
    let http: Vec<u16> = events
        .iter()
        .filter_map(|e| match e {
            Event::Http(h) => Some(h.client_port),
            _ => None,
        })
        .collect();
    assert_eq!(http, [with, without]);
}

#[test]
fn a_builtin_tracker_lookup_fires_info_and_wikipedia_does_not() {
    let mut c = Capture::new();
    c.dns_a(T0, "t.appsflyer.com", &["52.85.151.36"]);
    c.dns_a(T0 + MICROS, "www.wikipedia.org", &["185.15.59.224"]);
    let events = c.run(detectors(&config("")));
    let trackers = of_kind(&events, AlertKind::Tracker);
    assert_eq!(trackers.len(), 1, "{trackers:#?}");
    let a = trackers[0];
    assert_eq!(a.severity, Severity::Info);
    assert_eq!(a.domain.as_deref(), Some("t.appsflyer.com"));
    assert_eq!(a.proto.as_deref(), Some("dns"));
    assert_eq!(detail_str(a, "tracker"), Some("AppsFlyer"));
    assert_eq!(detail_str(a, "source"), Some("exodus"));
    assert_eq!(a.device_mac, Some(PHONE_MAC));
    let dns = events
        .iter()
        .filter(|e| matches!(e, Event::Dns(d) if d.qname == "www.wikipedia.org"))
        .count();
    assert_eq!(dns, 1, "the wikipedia lookup went through the detectors");
}

/// A TCP connection to Google's push port carrying bytes no decoder claims.
fn push_connection(c: &mut Capture, t: Ts) -> u16 {
    c.tcp(
        t,
        server("142.250.102.188", 5228),
        &pseudo_random(b"gcm login", 300),
        &pseudo_random(b"gcm reply", 200),
    )
}

#[test]
fn a_public_address_without_dns_fires_no_dns_contact_and_with_an_answer_does_not() {
    let mut c = Capture::new();
    let port = push_connection(&mut c, T0);
    let events = c.run(detectors(&config("")));
    let nodns = of_kind(&events, AlertKind::NoDnsContact);
    assert_eq!(nodns.len(), 1, "{nodns:#?}");
    let a = nodns[0];
    assert_eq!(a.severity, Severity::Info);
    assert_eq!((a.client_port, a.server_port), (Some(port), Some(5228)));
    assert_eq!(detail_str(a, "server_ip"), Some("142.250.102.188"));
    assert_eq!(a.domain, None);

    let mut c = Capture::new();
    c.dns_a(T0, "mtalk.google.com", &["142.250.102.188"]);
    push_connection(&mut c, T0 + MICROS);
    let events = c.run(detectors(&config("")));
    assert!(of_kind(&events, AlertKind::NoDnsContact).is_empty());
    let flow = events
        .iter()
        .find_map(|e| match e {
            Event::Flow(f) if f.server_port == 5228 => Some(f),
            _ => None,
        })
        .unwrap();
    assert_eq!(flow.domain.as_deref(), Some("mtalk.google.com"));
}

/// TLS connections to `domain` starting at `starts_ms` (milliseconds after T0).
fn series(domain: &str, ip: &str, starts_ms: &[i64]) -> Vec<Event> {
    let mut c = Capture::new();
    c.dns_a(T0 - MICROS, domain, &[ip]);
    for ms in starts_ms {
        c.tls(T0 + ms * 1000, ip, domain);
    }
    c.run(detectors(&config("")))
}

#[test]
fn twelve_connections_a_minute_apart_fire_beacon_and_jittery_ones_do_not() {
    // 60 s ± at most 0.55 s (< 1 %).
    let jitter_ms = [0, 310, -420, 150, 550, -80, -530, 260, 0, -300, 440, -190];
    let regular: Vec<i64> = (0..12)
        .map(|k| k * 60_000 + jitter_ms[k as usize])
        .collect();
    let events = series("sync.example-tracker.io", "45.60.12.34", &regular);
    let beacons = of_kind(&events, AlertKind::Beacon);
    assert_eq!(beacons.len(), 1, "{beacons:#?}");
    let a = beacons[0];
    assert_eq!(a.severity, Severity::Warn);
    assert_eq!(a.domain.as_deref(), Some("sync.example-tracker.io"));
    assert_eq!(
        detail_str(a, "destination"),
        Some("sync.example-tracker.io")
    );
    assert_eq!(a.detail["intervals"], 10);
    let period = a.detail["period_secs"].as_f64().unwrap();
    assert!((59.4..=60.6).contains(&period), "{period}");
    let dev = a.detail["max_deviation"].as_f64().unwrap();
    assert!(dev > 0.0 && dev <= 0.02, "{dev}");

    // The same number of connections, 30 to 95 s apart: a person, not a timer.
    let gaps_s = [0, 35, 80, 52, 95, 41, 70, 60, 30, 88, 47, 66];
    let jittery: Vec<i64> = gaps_s
        .iter()
        .scan(0, |t, g| {
            *t += g * 1000;
            Some(*t)
        })
        .collect();
    let events = series("sync.example-tracker.io", "45.60.12.34", &jittery);
    assert!(of_kind(&events, AlertKind::Beacon).is_empty());
    let flows = events
        .iter()
        .filter(|e| matches!(e, Event::Flow(f) if f.server_port == 443))
        .count();
    assert_eq!(flows, 12, "every connection reached the detectors");
}

/// A lookup of an AppsFlyer host, then an HTTP POST to it carrying a Luhn-valid IMEI.
fn tracker_with_leak() -> Capture {
    let mut c = Capture::new();
    c.dns_a(T0, "t.appsflyer.com", &["52.85.151.36"]);
    let body = br#"{"imei":"353910091234560","app":"com.example.game"}"#;
    let post = http_post(
        "t.appsflyer.com",
        "/api/v4/androidevent",
        DALVIK_UA,
        "application/json",
        body,
    );
    c.tcp(
        T0 + MICROS,
        server("52.85.151.36", 80),
        &post,
        &http_response("200 OK", b"ok"),
    );
    c
}

#[test]
fn the_allowlist_silences_a_tracker_but_never_a_pii_leak() {
    let plain = tracker_with_leak().run(detectors(&config("")));
    assert_eq!(
        of_kind(&plain, AlertKind::Tracker).len(),
        2,
        "DNS and HTTP host"
    );
    assert_eq!(of_kind(&plain, AlertKind::PiiLeak).len(), 1);

    let cfg = config("[policy]\nallow = [\"appsflyer.com\"]\n");
    let allowed = tracker_with_leak().run(detectors(&cfg));
    assert!(of_kind(&allowed, AlertKind::Tracker).is_empty());
    assert!(of_kind(&allowed, AlertKind::CleartextProtocol).is_empty());
    let leaks = of_kind(&allowed, AlertKind::PiiLeak);
    assert_eq!(leaks.len(), 1, "{leaks:#?}");
    assert_eq!(leaks[0].severity, Severity::Critical);
    assert_eq!(detail_str(leaks[0], "identifier"), Some("imei"));
    assert_eq!(leaks[0].domain.as_deref(), Some("t.appsflyer.com"));
}

#[test]
fn ftp_login_fires_through_the_payload_sample_and_keeps_no_password() {
    let mut c = Capture::new();
    let login = b"USER anna.k\r\nPASS s3cret-pass\r\nSYST\r\nQUIT\r\n";
    let banner = b"220 ready\r\n331 password please\r\n230 logged in\r\n";
    let port = c.tcp(T0, server("81.169.145.91", 21), login, banner);
    let anonymous = c.tcp(
        T0 + MICROS,
        server("81.169.145.91", 21),
        b"USER anonymous\r\nPASS guest@\r\nQUIT\r\n",
        banner,
    );
    let events = c.run(detectors(&config("")));
    let creds = of_kind(&events, AlertKind::CleartextCredentials);
    assert_eq!(creds.len(), 1, "{creds:#?}");
    let a = creds[0];
    assert_eq!(a.client_port, Some(port));
    assert_ne!(
        a.client_port,
        Some(anonymous),
        "anonymous FTP is no credential"
    );
    assert_eq!(a.severity, Severity::Warn);
    assert_eq!(detail_str(a, "protocol"), Some("ftp"));
    let shown = format!("{} {}", a.summary, a.detail);
    assert!(!shown.contains("s3cret"), "password stored: {shown}");
    assert!(!shown.contains("anna.k"), "user name not masked: {shown}");
    // The FTP flows are cleartext protocol too.
    assert!(of_kind(&events, AlertKind::CleartextProtocol)
        .iter()
        .any(|a| a.client_port == Some(port)));
}
