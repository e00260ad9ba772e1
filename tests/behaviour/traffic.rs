//! Real traffic through the pipeline and the detectors: a synthetic Nokia-7-Plus-like boot,
//! and every capture of the shared corpus.

use super::*;

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
