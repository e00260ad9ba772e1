//! Every real capture of the shared corpus through the pipeline with every detector on, as the
//! product builds them (built-in indicators and trackers, the real geo databases when present):
//! no capture may raise a pii_leak or an ioc_match (none of them carries a real identifier or
//! talks to spyware), and the only warn/critical alerts allowed are the ones listed in
//! [`EXPECTED_WARNINGS`], each with the reason it is right. Prints the alerts per kind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use phonehome::capture::file::FileSource;
use phonehome::config::Config;
use phonehome::detect::setup;
use phonehome::event::{Event, Severity};
use phonehome::pipeline::{Pipeline, PipelineConfig};

/// (case, kind): warn/critical alerts the corpus rightly raises.
const EXPECTED_WARNINGS: &[(&str, &str, &str)] = &[(
    "http-digest-auth",
    "cleartext_credentials",
    "the capture is an HTTP request with an Authorization: Digest header sent in clear",
)];

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

#[test]
fn corpus_raises_no_false_alarm() {
    let corpus = shared().join("corpus");
    if !corpus.join("index.json").exists() {
        println!("skipped: ../shared/corpus not present");
        return;
    }
    let geo = shared().join("geo");
    let toml = if geo.join("asn-ipv4.csv").exists() {
        format!(
            "[geo]\ncountry_db = \"{0}/geo-whois-asn-country.mmdb\"\nasn_db = [\"{0}/asn-ipv4.csv\", \"{0}/asn-ipv6.csv\"]\n",
            geo.display()
        )
    } else {
        println!("note: ../shared/geo absent: flows carry no country");
        String::new()
    };
    let cfg = Config::parse(&toml, Path::new("/etc/phonehome/phonehome.toml")).unwrap();
    let mut detectors = Some(setup::detectors(&cfg).unwrap());
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("index.json")).unwrap()).unwrap();
    let mut per_kind: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut problems = Vec::new();
    for case in index.as_array().unwrap() {
        let name = case["case"].as_str().unwrap();
        let mut pipe =
            Pipeline::with_detectors(PipelineConfig::default(), detectors.take().unwrap());
        let mut alerts = Vec::new();
        let mut sink = |ev: Event| {
            if let Event::Alert(a) = ev {
                alerts.push(a);
            }
        };
        if let Ok(mut src) = FileSource::open(corpus.join(case["pcap"].as_str().unwrap())) {
            while let Some(Ok(f)) = src.next_frame() {
                pipe.ingest(f.ts, f.link, f.data, &mut sink);
            }
        }
        pipe.finish(&mut sink);
        detectors = pipe.take_detectors();
        for a in &alerts {
            let e = per_kind.entry(a.kind.as_str().to_owned()).or_default();
            e.0 += 1;
            if a.severity >= Severity::Warn {
                e.1 += 1;
                let expected = EXPECTED_WARNINGS
                    .iter()
                    .any(|(c, k, _)| *c == name && *k == a.kind.as_str());
                if !expected {
                    problems.push(format!(
                        "{name}: {} {}: {}",
                        a.severity.as_str(),
                        a.kind.as_str(),
                        a.summary
                    ));
                }
            }
        }
    }
    for p in &problems {
        println!("UNEXPECTED {p}");
    }
    println!("alerts on the corpus (all / warn or critical):");
    for (k, (all, warn)) in &per_kind {
        println!("  {k:22} {all:4} / {warn}");
    }
    assert!(
        !per_kind.contains_key("pii_leak"),
        "a pii_leak on real corpus traffic"
    );
    assert!(
        !per_kind.contains_key("ioc_match"),
        "an ioc_match on real corpus traffic"
    );
    assert!(
        problems.is_empty(),
        "unexpected warn/critical alerts:\n{}",
        problems.join("\n")
    );
    assert_eq!(
        per_kind.get("cleartext_credentials").map(|c| c.1),
        Some(1),
        "the digest-auth capture must raise its credentials alert"
    );
}
