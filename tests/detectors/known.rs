//! Scenario 3: an IMEI the user configured (`[[identifiers]]`) found however an SDK encodes
//! it (md5, sha1, base64, percent-encoded), one request each; and not attributed to a device
//! it was not configured for.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};
use sha1::Sha1;

use phonehome::event::{AlertKind, Event, MacAddr, Severity, MICROS};
use phonehome::synth::http::{http_get, http_post, http_response};

use crate::harness::*;

/// A Luhn-valid IMEI (TAC 86491204).
const IMEI: &str = "864912041574337";
const HOST: &str = "api.example-analytics.com";
const HOST_IP: &str = "34.120.62.213";

fn config_for(device: MacAddr) -> String {
    format!("[[identifiers]]\nkind = \"imei\"\nvalue = \"{IMEI}\"\ndevice = \"{device}\"\n")
}

/// One request per encoding; returns (client port, encoding) pairs and the capture.
fn requests() -> (Capture, Vec<(u16, &'static str)>) {
    let md5 = hex::encode(Md5::digest(IMEI));
    let sha1 = hex::encode(Sha1::digest(IMEI));
    let b64 = STANDARD.encode(format!("imei={IMEI}&model=TA-1062&os=10"));
    let pct: String = IMEI.bytes().map(|b| format!("%{b:02X}")).collect();
    let reqs: Vec<(&str, Vec<u8>)> = vec![
        (
            "md5",
            http_get(HOST, &format!("/v1/config?did={md5}&v=3"), DALVIK_UA),
        ),
        (
            "sha1",
            http_post(
                HOST,
                "/v1/events",
                DALVIK_UA,
                "application/json",
                format!(r#"{{"device":"{sha1}","events":[{{"name":"open"}}]}}"#).as_bytes(),
            ),
        ),
        (
            "base64",
            http_get(HOST, &format!("/track?u={b64}"), DALVIK_UA),
        ),
        (
            "urlencoded",
            http_get(HOST, &format!("/collect?id={pct}&t=pageview"), DALVIK_UA),
        ),
    ];
    let mut c = Capture::new();
    c.dns_a(T0, HOST, &[HOST_IP]);
    let mut ports = Vec::new();
    for (i, (enc, req)) in reqs.into_iter().enumerate() {
        let t = T0 + (i as i64 + 1) * MICROS;
        let port = c.tcp(
            t,
            server(HOST_IP, 80),
            &req,
            &http_response("204 No Content", b""),
        );
        ports.push((port, enc));
    }
    (c, ports)
}

#[test]
fn a_configured_imei_is_found_in_every_encoding() {
    let cfg = config(&config_for(PHONE_MAC));
    let (capture, ports) = requests();
    let events = capture.run(detectors(&cfg));
    let all = at_least(&events, Severity::Info);
    for (port, enc) in ports {
        let leaks: Vec<_> = of_kind(&events, AlertKind::PiiLeak)
            .into_iter()
            .filter(|a| a.client_port == Some(port))
            .collect();
        assert_eq!(leaks.len(), 1, "{enc}: {all:#?}");
        let a = leaks[0];
        assert_eq!(a.severity, Severity::Critical, "{enc}");
        assert_eq!(a.detail["known"], true, "{enc}");
        assert_eq!(detail_str(a, "encoding"), Some(enc));
        assert_eq!(detail_str(a, "identifier"), Some("imei"));
        assert_eq!(
            detail_str(a, "value"),
            Some("…4337"),
            "masked, never the value"
        );
        assert_eq!(a.domain.as_deref(), Some(HOST));
        assert_eq!(a.device_mac, Some(PHONE_MAC));
    }
}

#[test]
fn an_imei_configured_for_another_device_is_not_reported_as_known_for_this_one() {
    let cfg = config(&config_for(OTHER_MAC));
    let (capture, ports) = requests();
    let events = capture.run(detectors(&cfg));
    let leaks = of_kind(&events, AlertKind::PiiLeak);
    assert!(
        leaks.iter().all(|a| a.detail["known"] == false),
        "{leaks:#?}"
    );
    // Hashes and base64 inside a URL are found only as a configured value: nothing to report.
    // The percent-encoded one decodes to a valid IMEI in clear, which pattern detection finds
    // for any device, configured or not.
    let by_port: Vec<(&str, Vec<&str>)> = ports
        .iter()
        .map(|(port, enc)| {
            let ids = leaks
                .iter()
                .filter(|a| a.client_port == Some(*port))
                .filter_map(|a| detail_str(a, "identifier"))
                .collect();
            (*enc, ids)
        })
        .collect();
    assert_eq!(
        by_port,
        [
            ("md5", vec![]),
            ("sha1", vec![]),
            ("base64", vec![]),
            ("urlencoded", vec!["imei"]),
        ]
    );
    let events_no_config = {
        let (capture, _) = requests();
        capture.run(detectors(&config("")))
    };
    assert_eq!(
        of_kind(&events_no_config, AlertKind::PiiLeak).len(),
        1,
        "without [[identifiers]], only the percent-encoded IMEI is seen"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Http(h) if h.uri.starts_with("/v1/config?did="))));
}
