//! watched_destination, the allowlist, cleartext_protocol, cleartext_credentials and
//! no_dns_contact: each fires with exact values, and stays silent where it must.

use super::*;

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
