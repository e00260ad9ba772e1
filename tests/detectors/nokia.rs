//! Scenario 1: a Nokia 7 Plus at power-on (the 2019 case reported by NRK): it joins by DHCP,
//! resolves zzhc.vnet.cn to a China Telecom (AS4134) address and POSTs, in clear, a
//! base64-wrapped JSON report of its IMEI, IMSI, ICCID, serial and cell — the shape of China
//! Telecom's self-registration request.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use phonehome::event::{flow_id, AlertKind, Event, Severity, Transport, MICROS};
use phonehome::flow::evidence::evidence_name;
use phonehome::flow::table::Dir;
use phonehome::synth::http::{http_post, http_response};

use crate::harness::*;

/// A Chinanet address (asn-ipv4.csv: 202.96.96.0–202.96.137.255, AS4134, Chinanet).
const ZZHC_IP: &str = "202.96.104.12";
const IMEI: &str = "353910091234560";
/// China Telecom LTE (MCC 460, MNC 11).
const IMSI: &str = "460110123456789";
/// China (86), China Telecom (11), Luhn-valid, 20 digits.
const ICCID: &str = "89861103123456789010";
const SERIAL: &str = "B2NGAA8831502185";

/// The report as the phone writes it: JSON, then base64.
fn report() -> Vec<u8> {
    let json = format!(
        concat!(
            r#"{{"REGVER":"5.0","IMEI1":"{imei}","MODEL":"TA-1062","SWVER":"00WW_3_22C","#,
            r#""UETYPE":"1","SIM1ICCID":"{iccid}","SIM1LTEIMSI":"{imsi}","SIM1TYPE":"2","#,
            r#""SIM1CELLID":"123456789","MEID":"A1000049C5E2F1","ACCESSTYPE":"1","#,
            r#""REGDATE":"2024-03-14 09:00:03","MACID":"04f1285c3a7e","SN":"{sn}"}}"#
        ),
        iccid = ICCID,
        imsi = IMSI,
        imei = IMEI,
        sn = SERIAL
    );
    STANDARD.encode(json).into_bytes()
}

fn nokia_boot() -> (Capture, u16) {
    let mut c = Capture::new();
    c.dhcp_join(T0);
    c.dns_a(T0 + MICROS, "zzhc.vnet.cn", &[ZZHC_IP]);
    let post = http_post(
        "zzhc.vnet.cn",
        "/",
        DALVIK_UA,
        "application/encrypted-json",
        &report(),
    );
    let port = c.tcp(
        T0 + 2 * MICROS,
        server(ZZHC_IP, 80),
        &post,
        &http_response("200 OK", b"{\"resultCode\":\"0\"}"),
    );
    (c, port)
}

const CONFIG: &str = r#"
[policy]
watch_countries = ["CN"]
watch_asns = [4134]
"#;

#[test]
fn nokia_power_on_leaks_identifiers_to_china_telecom() {
    assert!(
        luhn_ok(IMEI) && luhn_ok(ICCID),
        "test identifiers are valid"
    );
    let geo = geo_present();
    let cfg = config(&format!("{CONFIG}{GEO_SECTION}"));
    let (capture, port) = nokia_boot();
    let events = capture.run(detectors(&cfg));
    let phone = PHONE_IP.into();
    let zzhc = ZZHC_IP.parse().unwrap();

    // pii_leak: one per identifier kind, all from the base64-wrapped body.
    let leaks = of_kind(&events, AlertKind::PiiLeak);
    let mut kinds: Vec<(&str, Severity)> = leaks
        .iter()
        .map(|a| (detail_str(a, "identifier").unwrap(), a.severity))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("iccid", Severity::Critical),
            ("imei", Severity::Critical),
            ("imsi", Severity::Critical),
            ("location", Severity::Critical),
            ("mac", Severity::Warn),
            ("serial", Severity::Critical),
        ],
        "{:#?}",
        at_least(&events, Severity::Info)
    );
    for a in &leaks {
        assert_eq!(a.device_mac, Some(PHONE_MAC));
        assert_eq!(a.domain.as_deref(), Some("zzhc.vnet.cn"));
        assert_eq!(a.proto.as_deref(), Some("http"));
        assert_eq!((a.server_ip, a.server_port), (Some(zzhc), Some(80)));
        assert_eq!(detail_str(a, "encoding"), Some("base64"), "{a:?}");
        assert_eq!(detail_str(a, "place"), Some("body"));
        assert_eq!(a.detail["known"], false);
    }
    let value = |id: &str| {
        let a = leaks
            .iter()
            .find(|a| detail_str(a, "identifier") == Some(id))
            .unwrap();
        (detail_str(a, "value").unwrap(), detail_str(a, "key"))
    };
    assert_eq!(value("imei"), ("…4560", Some("IMEI1")));
    assert_eq!(value("imsi"), ("…6789", Some("SIM1LTEIMSI")));
    assert_eq!(value("iccid"), ("…9010", Some("SIM1ICCID")));
    assert_eq!(value("serial"), ("…2185", Some("SN")));
    assert_eq!(value("location").1, Some("SIM1CELLID"));
    for a in alerts(&events) {
        for secret in [IMEI, IMSI, ICCID, SERIAL] {
            assert!(!a.summary.contains(secret) && !a.detail.to_string().contains(secret));
        }
    }

    // Evidence: the leak names the pcap of its flow, and the flow's frames come out for it.
    let flow = flow_id(Transport::Tcp, phone, port, zzhc, 80);
    let imei_leak = leaks
        .iter()
        .find(|a| detail_str(a, "identifier") == Some("imei"))
        .unwrap();
    let name = evidence_name(imei_leak.ts, &flow);
    assert_eq!(detail_str(imei_leak, "evidence"), Some(name.as_str()));
    let evidence: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Evidence(f) => Some(f),
            _ => None,
        })
        .collect();
    let file = evidence
        .iter()
        .find(|f| f.flow_id == flow)
        .expect("the leaking flow's evidence");
    assert_eq!(evidence_name(file.alert_ts, &file.flow_id), name);
    assert!(file.frames.len() >= 4, "{}", file.frames.len());
    assert_eq!(file.frames[0].dir, Dir::Up, "starts with the SYN");
    assert!(file
        .frames
        .iter()
        .any(|f| f.dir == Dir::Up && f.data.windows(6).any(|w| w == b"POST /")));

    // cleartext_protocol: the request went over plain HTTP.
    let clear = of_kind(&events, AlertKind::CleartextProtocol);
    assert!(
        clear
            .iter()
            .any(|a| detail_str(a, "protocol") == Some("http")
                && a.domain.as_deref() == Some("zzhc.vnet.cn")
                && a.severity == Severity::Info),
        "{clear:#?}"
    );
    assert!(
        of_kind(&events, AlertKind::NoDnsContact).is_empty(),
        "DNS named it"
    );
    assert!(of_kind(&events, AlertKind::IocMatch).is_empty());

    // One boot alert for the DHCP join, listing the destination.
    let boot = of_kind(&events, AlertKind::BootPhoneHome);
    assert_eq!(boot.len(), 1, "{boot:#?}");
    let boot = boot[0];
    assert_eq!(boot.severity, Severity::Critical);
    assert_eq!(boot.device_mac, Some(PHONE_MAC));
    assert_eq!(detail_str(boot, "joined_by"), Some("dhcp_ack"));
    assert_eq!(boot.detail["pii_leak"], true);
    let dests = boot.detail["destinations"].as_array().unwrap();
    assert_eq!(dests.len(), 1, "{dests:#?}");
    assert_eq!(dests[0]["domain"], "zzhc.vnet.cn");
    assert_eq!(dests[0]["server_ip"], ZZHC_IP);

    if !geo {
        eprintln!("skipping the watched-destination assertions: ../shared/geo is absent");
        return;
    }
    let watched = of_kind(&events, AlertKind::WatchedDestination);
    assert_eq!(watched.len(), 1, "{watched:#?}");
    let w = watched[0];
    assert_eq!(w.severity, Severity::Warn);
    assert_eq!((w.country.as_deref(), w.asn), (Some("CN"), Some(4134)));
    assert_eq!(detail_str(w, "watched_country"), Some("CN"));
    assert_eq!(w.detail["watched_asn"], 4134);
    assert_eq!(w.domain.as_deref(), Some("zzhc.vnet.cn"));
    assert_eq!(boot.detail["watched_destination"], true);
    assert_eq!(dests[0]["country"], "CN");
    assert_eq!(dests[0]["asn"], 4134);
    for a in &leaks {
        assert_eq!((a.country.as_deref(), a.asn), (Some("CN"), Some(4134)));
    }
    let flow_rec = events
        .iter()
        .find_map(|e| match e {
            Event::Flow(f) if f.server_port == 80 => Some(f),
            _ => None,
        })
        .unwrap();
    assert_eq!(flow_rec.as_org.as_deref(), Some("Chinanet"));
}
