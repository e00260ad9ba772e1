//! beacon (periodic, jittery, short and out-of-order series) and bounded state under floods.

use super::*;

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
