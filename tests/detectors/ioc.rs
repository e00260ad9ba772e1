//! Scenario 2: indicators from the real Echap stalkerware list and MVT's Pegasus STIX bundle,
//! loaded through `[ioc] paths`, matched on a TLS server name and a DNS lookup.

use phonehome::event::{Alert, AlertKind, Event, Severity, MICROS};

use crate::harness::*;

const CONFIG: &str = r#"
[ioc]
paths = [
  "../shared/ioc/stalkerware-indicators/ioc.yaml",
  "../shared/ioc/mvt/pegasus.stix2",
]
"#;

/// A C2 domain of FlexiSpy (ioc.yaml `c2.domains` of `name: FlexiSpy`).
const FLEXISPY_C2: &str = "api.flexispy.com";
/// Pegasus domains (pegasus.stix2 `domain-name:value` indicators of the Pegasus malware).
const PEGASUS_DNS: &str = "weather4free.com";
const PEGASUS_SNI: &str = "smscentro.com";

fn ioc_for<'a>(events: &'a [Event], domain: &str, proto: &str) -> Vec<&'a Alert> {
    of_kind(events, AlertKind::IocMatch)
        .into_iter()
        .filter(|a| a.domain.as_deref() == Some(domain) && a.proto.as_deref() == Some(proto))
        .collect()
}

#[test]
fn stalkerware_c2_and_pegasus_domains_raise_ioc_match_with_their_family() {
    let cfg = config(CONFIG);
    let mut c = Capture::new();
    c.dns_a(T0, PEGASUS_DNS, &["185.141.63.120"]);
    c.tls(T0 + MICROS, "104.21.48.3", FLEXISPY_C2);
    c.tls(T0 + 2 * MICROS, "185.141.63.121", PEGASUS_SNI);
    let events = c.run(detectors(&cfg));
    let all = at_least(&events, Severity::Info);

    let flexi = ioc_for(&events, FLEXISPY_C2, "tcp");
    assert_eq!(flexi.len(), 1, "{all:#?}");
    let a = flexi[0];
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.device_mac, Some(PHONE_MAC));
    assert_eq!(a.server_port, Some(443));
    assert_eq!(detail_str(a, "family"), Some("FlexiSpy"));
    assert_eq!(detail_str(a, "indicator"), Some(FLEXISPY_C2));
    assert_eq!(detail_str(a, "source"), Some("ioc.yaml"));
    assert!(a.summary.contains("TLS server name"), "{}", a.summary);

    for (domain, proto, how) in [
        (PEGASUS_DNS, "dns", "DNS lookup"),
        (PEGASUS_SNI, "tcp", "TLS server name"),
    ] {
        let hits = ioc_for(&events, domain, proto);
        assert_eq!(hits.len(), 1, "{domain}: {all:#?}");
        let a = hits[0];
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(detail_str(a, "family"), Some("Pegasus"));
        assert_eq!(detail_str(a, "indicator"), Some(domain));
        assert_eq!(detail_str(a, "source"), Some("pegasus.stix2"));
        assert!(a.summary.starts_with(how), "{}", a.summary);
        assert!(
            detail_str(a, "evidence").is_some(),
            "critical alerts keep evidence"
        );
    }
    assert_eq!(of_kind(&events, AlertKind::IocMatch).len(), 3, "{all:#?}");
}

#[test]
fn the_same_names_without_those_files_match_only_the_builtin_set() {
    // The built-in set (no path configured, no packaged folder) also carries MVT's Pegasus
    // and Echap's stalkerware indicators: the families must be the same.
    let cfg = config("");
    if cfg.detect.ioc_paths.iter().any(|p| p.exists()) {
        eprintln!("skipped: a packaged indicator folder is installed, the built-in set is unused");
        return;
    }
    let mut c = Capture::new();
    c.tls(T0, "104.21.48.3", FLEXISPY_C2);
    c.tls(T0 + MICROS, "185.141.63.121", PEGASUS_SNI);
    c.tls(T0 + 2 * MICROS, "142.250.74.36", "www.google.com");
    let events = c.run(detectors(&cfg));
    let fams: Vec<(Option<&str>, Option<&str>)> = of_kind(&events, AlertKind::IocMatch)
        .iter()
        .map(|a| (a.domain.as_deref(), detail_str(a, "family")))
        .collect();
    assert_eq!(
        fams,
        [
            (Some(FLEXISPY_C2), Some("FlexiSpy")),
            (Some(PEGASUS_SNI), Some("Pegasus"))
        ]
    );
}
