//! boot_phone_home: one alert per join, its severity, its destinations, its bounds.

use super::*;

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
        client_port: None,
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
