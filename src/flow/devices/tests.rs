//! Tests of the device table: corpus DHCP exchanges, ARP, routers, bounds, reporting policy.

use std::net::IpAddr;

use super::*;

fn mac(s: &str) -> MacAddr {
    MacAddr::parse(s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const S: Ts = MICROS;

fn dhcp<'a>(mac: MacAddr, msg_type: u8) -> DhcpObservation<'a> {
    DhcpObservation {
        client_mac: mac,
        msg_type: Some(msg_type),
        ciaddr: None,
        yiaddr: None,
        requested_ip: None,
        hostname: None,
        vendor_class: None,
        param_list: &[],
        client_id: None,
    }
}

/// Feeds the `dhcp_messages` of a corpus case, in capture order, to a fresh table.
fn replay_corpus_dhcp(case: &str) -> (DeviceTable, Vec<DeviceSighting>) {
    let path = format!("/work/shared/corpus/expected/{case}.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut table = DeviceTable::new();
    let mut out = Vec::new();
    for m in v["dhcp_messages"].as_array().unwrap() {
        let ipf = |k: &str| m.get(k).and_then(|x| x.as_str()).map(ip);
        let msg_type = match m["msg_type"].as_str().unwrap() {
            "DISCOVER" => 1,
            "OFFER" => 2,
            "REQUEST" => 3,
            "DECLINE" => 4,
            "ACK" => 5,
            "NAK" => 6,
            "RELEASE" => 7,
            "INFORM" => 8,
            other => panic!("msg_type {other}"),
        };
        let obs = DhcpObservation {
            client_mac: mac(m["client_mac"].as_str().unwrap()),
            msg_type: Some(msg_type),
            ciaddr: ipf("ciaddr"),
            yiaddr: ipf("yiaddr"),
            requested_ip: ipf("requested_ip"),
            hostname: m.get("hostname").and_then(|h| h.as_str()),
            vendor_class: m.get("vendor_class").and_then(|h| h.as_str()),
            param_list: &[],
            client_id: None,
        };
        let ts = (m["ts"].as_f64().unwrap() * 1e6) as Ts;
        out.extend(table.observe_dhcp(ts, obs));
    }
    (table, out)
}

#[test]
fn corpus_android9_dhcp_ack_binds_yiaddr_to_chaddr() {
    let (table, sightings) = replay_corpus_dhcp("phone-android9-mixed");
    let nokia = mac("4c:6a:f6:9f:f6:27");
    let imac = mac("d8:30:62:56:00:1c");
    assert_eq!(table.mac_for(ip("192.168.2.16")), Some(nokia));
    // The OFFER alone did not bind; the ACK (frame 72) did.
    let bound: Vec<_> = sightings.iter().filter(|s| s.ip.is_some()).collect();
    assert_eq!(bound.len(), 1);
    assert_eq!(bound[0].ts, 1_582_454_866_538_292);
    assert_eq!(bound[0].mac, nokia);
    assert_eq!(bound[0].vendor.as_deref(), Some("HMD Global Oy"));
    assert!(!bound[0].randomized);
    // The iMac only sent DISCOVERs: a device with a hostname and no address, reported once
    // (then refreshed at most once a minute of packet time).
    let imac_view = table.device(imac).unwrap();
    assert_eq!(imac_view.hostname(), Some("Lucas-iMac"));
    assert_eq!(imac_view.ips().count(), 0);
    let first = sightings.iter().find(|s| s.mac == imac).unwrap();
    assert_eq!(first.vendor.as_deref(), Some("Apple, Inc."));
    assert_eq!(first.hostname.as_deref(), Some("Lucas-iMac"));
    assert_eq!(first.ip, None);
    let imac_reports: Vec<Ts> = sightings
        .iter()
        .filter(|s| s.mac == imac)
        .map(|s| s.ts)
        .collect();
    assert!(imac_reports
        .windows(2)
        .all(|w| w[1] - w[0] >= REFRESH_INTERVAL));
    assert_eq!(table.len(), 2);
}

#[test]
fn corpus_full_exchange_ack_release_and_public_yiaddr() {
    let (table, sightings) = replay_corpus_dhcp("dhcp-full-exchange-all-types");
    let client = mac("90:b1:1c:99:49:29");
    // DHCP evidence binds even a public address (this capture's network is public).
    assert!(sightings
        .iter()
        .any(|s| s.ip == Some(ip("128.2.6.189")) && s.mac == client));
    assert_eq!(sightings[0].hostname.as_deref(), Some("btest.is.cool"));
    assert_eq!(sightings[0].vendor.as_deref(), Some("Dell Inc."));
    // REQUEST for 192.168.211.194 was NAKed: never bound.
    assert_eq!(table.mac_for(ip("192.168.211.194")), None);
    assert_eq!(table.mac_for(ip("128.2.6.189")), Some(client));
}

#[test]
fn corpus_inform_binds_ciaddr() {
    let (table, _) = replay_corpus_dhcp("dhcp-inform");
    assert_eq!(
        table.mac_for(ip("128.2.6.122")),
        Some(mac("90:b1:1c:99:49:29"))
    );
}

#[test]
fn release_and_decline_unbind() {
    let mut t = DeviceTable::new();
    let m = mac("00:0b:82:01:fc:42");
    let ack = DhcpObservation {
        yiaddr: Some(ip("192.168.0.10")),
        ..dhcp(m, 5)
    };
    assert!(t.observe_dhcp(0, ack).is_some());
    assert_eq!(t.mac_for(ip("192.168.0.10")), Some(m));
    let release = DhcpObservation {
        ciaddr: Some(ip("192.168.0.10")),
        ..dhcp(m, 7)
    };
    assert_eq!(t.observe_dhcp(S, release), None);
    assert_eq!(t.mac_for(ip("192.168.0.10")), None);
    t.observe_dhcp(2 * S, ack);
    let decline = DhcpObservation {
        requested_ip: Some(ip("192.168.0.10")),
        ..dhcp(m, 4)
    };
    t.observe_dhcp(3 * S, decline);
    assert_eq!(t.mac_for(ip("192.168.0.10")), None);
}

#[test]
fn arp_binds_sender_and_ignores_probes_and_group_macs() {
    let mut t = DeviceTable::new();
    let m = mac("3c:5a:b4:00:00:01");
    // ARP probe: sender 0.0.0.0 — a device, no binding.
    let s = t.observe_arp(0, m, ip("0.0.0.0")).unwrap();
    assert_eq!((s.ip, s.vendor.as_deref()), (None, Some("Google, Inc.")));
    let s = t.observe_arp(S, m, ip("192.168.4.20")).unwrap();
    assert_eq!(s.ip, Some(ip("192.168.4.20")));
    assert_eq!(t.mac_for(ip("192.168.4.20")), Some(m));
    for bad in [
        "ff:ff:ff:ff:ff:ff",
        "01:00:5e:00:00:fb",
        "33:33:00:00:00:01",
        "00:00:00:00:00:00",
    ] {
        assert_eq!(
            t.observe_arp(S, mac(bad), ip("192.168.4.21")),
            None,
            "{bad}"
        );
        assert_eq!(
            t.observe_traffic(S, mac(bad), ip("192.168.4.21")),
            None,
            "{bad}"
        );
    }
    assert_eq!(t.mac_for(ip("192.168.4.21")), None);
    assert_eq!(t.len(), 1);
}

#[test]
fn randomised_mac_reported_without_vendor() {
    let mut t = DeviceTable::new();
    let s = t
        .observe_traffic(0, mac("da:a1:19:5e:00:07"), ip("10.3.0.42"))
        .unwrap();
    assert!(s.randomized);
    assert_eq!(s.vendor, None);
    assert_eq!(s.ip, Some(ip("10.3.0.42")));
}

#[test]
fn router_mac_is_not_bound_to_public_addresses() {
    let mut t = DeviceTable::new();
    let router = mac("f8:e4:3b:00:00:01");
    let phone = mac("a4:83:e7:00:00:02");
    // Inbound IPv4 from the internet: never bound, and the MAC is not reported as a device.
    assert_eq!(t.observe_traffic(0, router, ip("93.184.216.34")), None);
    assert_eq!(t.mac_for(ip("93.184.216.34")), None);
    assert!(t.device(router).is_some());
    // IPv6 globals from several networks: the first ones bind, then the MAC is a router.
    assert!(t
        .observe_traffic(S, router, ip("2a00:1450:4001:81c::1"))
        .is_some());
    assert_eq!(
        t.observe_traffic(2 * S, router, ip("2606:4700::1111")),
        Some(DeviceSighting {
            ts: 2 * S,
            mac: router,
            vendor: Some("ASIX Electronics Corporation".into()),
            randomized: false,
            hostname: None,
            ip: Some(ip("2606:4700::1111")),
            identity: crate::event::DeviceIdentity {
                label: Some("ASIX Electronics Corporation 0001".into()),
                ..Default::default()
            },
        })
    );
    assert_eq!(t.observe_traffic(3 * S, router, ip("2620:fe::fe")), None);
    assert!(t.is_router(router));
    assert_eq!(t.mac_for(ip("2a00:1450:4001:81c::1")), None);
    assert_eq!(t.mac_for(ip("2606:4700::1111")), None);
    assert_eq!(t.observe_traffic(4 * S, router, ip("192.168.1.1")), None);
    assert_eq!(t.observe_arp(5 * S, router, ip("192.168.1.1")), None);
    assert_eq!(t.mac_for(ip("192.168.1.1")), None);
    assert!(t.device(router).is_none());
    assert_eq!(t.stats().routers, 1);
    // A phone with its own IPv6 global address keeps it.
    t.observe_traffic(6 * S, phone, ip("192.168.1.23"));
    t.observe_traffic(6 * S, phone, ip("2a01:e0a:1:2::23"));
    assert_eq!(t.mac_for(ip("2a01:e0a:1:2::23")), Some(phone));
    assert!(!t.is_router(phone));
}

#[test]
fn declared_router_loses_bindings() {
    let mut t = DeviceTable::new();
    let gw = mac("3c:5a:b4:99:00:01");
    t.observe_arp(0, gw, ip("192.168.1.1"));
    assert_eq!(t.mac_for(ip("192.168.1.1")), Some(gw));
    t.set_router(S, gw);
    assert_eq!(t.mac_for(ip("192.168.1.1")), None);
    assert_eq!(t.observe_arp(2 * S, gw, ip("192.168.1.1")), None);
}

#[test]
fn sighting_only_on_news_or_once_a_minute() {
    let mut t = DeviceTable::new();
    let m = mac("a4:83:e7:12:34:56");
    let a = ip("192.168.1.50");
    assert!(t.observe_traffic(0, m, a).is_some());
    for i in 1..1000 {
        assert_eq!(t.observe_traffic(i * 10_000, m, a), None);
    }
    // Out-of-order (earlier) packets never refresh.
    assert_eq!(t.observe_traffic(-5 * S, m, a), None);
    let r = t.observe_traffic(REFRESH_INTERVAL, m, a).unwrap();
    assert_eq!((r.ts, r.ip), (REFRESH_INTERVAL, Some(a)));
    assert_eq!(t.observe_traffic(REFRESH_INTERVAL + S, m, a), None);
    // A new address and a new hostname are news at once.
    let b = ip("fe80::1c2a:3bff:fe4d:5e6f");
    assert_eq!(
        t.observe_traffic(REFRESH_INTERVAL + 2 * S, m, b)
            .unwrap()
            .ip,
        Some(b)
    );
    let named = DhcpObservation {
        hostname: Some("Lucas-iPhone"),
        ..dhcp(m, 3)
    };
    let s = t.observe_dhcp(REFRESH_INTERVAL + 3 * S, named).unwrap();
    assert_eq!(s.hostname.as_deref(), Some("Lucas-iPhone"));
    assert_eq!(t.observe_dhcp(REFRESH_INTERVAL + 4 * S, named), None);
    let view = t.device(m).unwrap();
    assert_eq!(view.ips().collect::<Vec<_>>(), vec![a, b]);
    assert_eq!(
        (view.first_seen(), view.last_seen()),
        (0, REFRESH_INTERVAL + 4 * S)
    );
}

#[test]
fn address_moves_on_dhcp_but_traffic_does_not_steal_it() {
    let mut t = DeviceTable::new();
    let (old, new) = (mac("a4:83:e7:00:00:01"), mac("a4:83:e7:00:00:02"));
    let a = ip("192.168.1.60");
    t.observe_dhcp(
        0,
        DhcpObservation {
            yiaddr: Some(a),
            ..dhcp(old, 5)
        },
    );
    // Spoofed or misattributed traffic within the lease: the DHCP binding stays.
    assert_eq!(t.observe_traffic(S, new, a), None);
    assert_eq!(t.mac_for(a), Some(old));
    // A new ACK moves it.
    t.observe_dhcp(
        2 * S,
        DhcpObservation {
            yiaddr: Some(a),
            ..dhcp(new, 5)
        },
    );
    assert_eq!(t.mac_for(a), Some(new));
    assert_eq!(t.device(old).unwrap().ips().count(), 0);
    // Much later, traffic evidence can take a stale binding over.
    let later = 2 * S + TRAFFIC_TAKEOVER_AFTER;
    assert_eq!(t.observe_traffic(later, old, a).unwrap().ip, Some(a));
    assert_eq!(t.mac_for(a), Some(old));
}

#[test]
fn per_device_addresses_are_bounded_oldest_evicted() {
    let mut t = DeviceTable::new();
    let m = mac("a4:83:e7:00:00:03");
    for i in 0..=MAX_IPS_PER_DEVICE {
        let a = IpAddr::from([10, 0, 0, i as u8 + 1]);
        assert!(t.observe_traffic(i as Ts * S, m, a).is_some());
    }
    assert_eq!(t.device(m).unwrap().ips().count(), MAX_IPS_PER_DEVICE);
    assert_eq!(t.mac_for(ip("10.0.0.1")), None);
    assert_eq!(t.mac_for(ip("10.0.0.2")), Some(m));
    assert_eq!(t.stats().evicted_bindings, 1);
}

#[test]
fn device_count_is_bounded_stalest_evicted() {
    let mut t = DeviceTable::new();
    for i in 0..MAX_DEVICES as u32 {
        let b = i.to_be_bytes();
        let m = MacAddr([0x02, 0, b[0], b[1], b[2], b[3]]);
        t.observe_arp(Ts::from(i), m, IpAddr::from([10, 1, b[2], b[3]]));
    }
    assert_eq!(t.len(), MAX_DEVICES);
    let first = MacAddr([0x02, 0, 0, 0, 0, 0]);
    assert_eq!(t.mac_for(ip("10.1.0.0")), Some(first));
    let newcomer = mac("a4:83:e7:00:00:04");
    assert!(t.observe_arp(1_000_000, newcomer, ip("10.2.0.1")).is_some());
    assert_eq!(t.len(), MAX_DEVICES - EVICT_BATCH + 1);
    assert_eq!(t.stats().evicted_devices, EVICT_BATCH as u64);
    assert!(t.device(first).is_none());
    assert_eq!(t.mac_for(ip("10.1.0.0")), None);
    let last = MacAddr([0x02, 0, 0, 0, 0x0f, 0xff]);
    assert_eq!(t.mac_for(ip("10.1.15.255")), Some(last));
    assert_eq!(t.by_ip.len(), t.len());
}

#[test]
fn long_hostname_is_capped_on_a_char_boundary() {
    let mut t = DeviceTable::new();
    let long = "é".repeat(200); // 400 bytes
    let s = t
        .observe_dhcp(
            0,
            DhcpObservation {
                hostname: Some(&long),
                ..dhcp(mac("a4:83:e7:00:00:05"), 1)
            },
        )
        .unwrap();
    let h = s.hostname.unwrap();
    assert_eq!(h.len(), 254);
    assert!(long.starts_with(&h));
}

#[test]
#[ignore = "measurement: cargo test --lib flow::devices -- --ignored --nocapture"]
fn measure_hot_path() {
    let mut t = DeviceTable::new();
    let macs: Vec<MacAddr> = (0..64u8)
        .map(|i| MacAddr([0xa4, 0x83, 0xe7, 0, 0, i]))
        .collect();
    for (i, m) in macs.iter().enumerate() {
        t.observe_traffic(0, *m, IpAddr::from([192, 168, 1, i as u8]));
    }
    let start = std::time::Instant::now();
    let mut n = 0usize;
    for k in 0..1_000_000usize {
        let i = k % 64;
        n += usize::from(
            t.observe_traffic(k as Ts, macs[i], IpAddr::from([192, 168, 1, i as u8]))
                .is_some(),
        );
    }
    eprintln!(
        "devices: 1M known-device observe_traffic in {:?} ({n} sightings)",
        start.elapsed()
    );
}

#[test]
fn label_links_are_bounded_under_a_client_id_flood() {
    let mut t = DeviceTable::new();
    for i in 0..(MAX_DEVICES as u32 + 500) {
        let b = i.to_be_bytes();
        let m = MacAddr([0x02, 0, b[0], b[1], b[2], b[3]]);
        let cid = format!("ff{i:08x}");
        let mut obs = dhcp(m, 1);
        obs.hostname = Some("flood");
        obs.client_id = Some(&cid);
        t.observe_dhcp(i64::from(i) * S, obs);
    }
    assert!(t.links.len() <= MAX_DEVICES, "{}", t.links.len());
    assert!(t.len() <= MAX_DEVICES);
}
