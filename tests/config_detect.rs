//! The detector sections of `phonehome.toml`: identifiers, indicator and tracker paths, geo
//! databases and the policy, with relative paths resolved against the config's folder and
//! errors naming file, line and key.

use std::path::Path;

use phonehome::config::{Config, ConfigError, CONFIG_REFERENCE, SECTIONS};
use phonehome::event::MacAddr;

const DETECT: &str = r#"
[[identifiers]]
kind = "imei"
value = "490154203237518"
device = "04:F1:28:5C:3A:7E"

[[identifiers]]
kind = "email"
value = " anna@example.org "

[ioc]
paths = ["ioc", "/srv/extra/pegasus.stix2"]

[trackers]
paths = ["mytrackers.txt"]

[geo]
country_db = "geo/country.mmdb"
asn_db = ["geo/asn-ipv4.csv"]

[policy]
watch_countries = ["cn", "RU"]
watch_asns = [4134, 4837]
allow = ["Example.COM."]
boot_window_secs = 300
local_resolvers = ["192.168.8.1", "fd00::1"]
"#;

#[test]
fn detector_sections_parse_and_resolve_relative_paths() {
    let c = Config::parse(DETECT, Path::new("/etc/phonehome/phonehome.toml")).unwrap();
    let d = &c.detect;
    assert_eq!(d.identifiers.len(), 2);
    assert_eq!(d.identifiers[0].kind, "imei");
    assert_eq!(d.identifiers[0].device, MacAddr::parse("04:f1:28:5c:3a:7e"));
    assert_eq!(
        d.identifiers[1].value, "anna@example.org",
        "values are trimmed"
    );
    assert_eq!(d.identifiers[1].device, None);
    assert_eq!(
        d.ioc_paths,
        [
            Path::new("/etc/phonehome/ioc"),
            Path::new("/srv/extra/pegasus.stix2")
        ]
    );
    assert!(d.ioc_paths_explicit);
    assert_eq!(
        d.tracker_paths,
        [Path::new("/etc/phonehome/mytrackers.txt")]
    );
    assert_eq!(
        d.country_db.as_deref(),
        Some(Path::new("/etc/phonehome/geo/country.mmdb"))
    );
    assert_eq!(d.asn_dbs, [Path::new("/etc/phonehome/geo/asn-ipv4.csv")]);
    assert!(d.geo_explicit);
    assert_eq!(d.watch_countries, ["CN", "RU"]);
    assert_eq!(d.watch_asns, [4134, 4837]);
    assert_eq!(d.allow, ["example.com"]);
    assert_eq!(d.boot_window_secs, 300);
    assert_eq!(d.local_resolvers.len(), 2);
}

#[test]
fn defaults_point_at_the_packaged_data() {
    let c = Config::parse("", Path::new("/etc/phonehome/phonehome.toml")).unwrap();
    assert!(!c.detect.ioc_paths_explicit && !c.detect.geo_explicit);
    assert_eq!(c.detect.ioc_paths, [Path::new("/usr/share/phonehome/ioc")]);
    assert_eq!(c.detect.boot_window_secs, 120);
    assert!(c.detect.identifiers.is_empty());
}

fn err(text: &str) -> (String, usize) {
    match Config::parse(text, Path::new("/etc/phonehome/phonehome.toml")).unwrap_err() {
        e @ ConfigError::Invalid { line, .. } => (e.to_string(), line),
        other => panic!("{other}"),
    }
}

#[test]
fn bad_detector_values_name_file_line_and_key() {
    let (m, line) = err("[[identifiers]]\nkind = \"shoe_size\"\nvalue = \"44\"\n");
    assert_eq!(line, 2);
    assert!(
        m.starts_with("/etc/phonehome/phonehome.toml:2: [identifiers] kind: expected one of imei"),
        "{m}"
    );
    let (m, line) = err("\n[[identifiers]]\nkind = \"imei\"\n");
    assert_eq!(line, 3);
    assert!(m.contains("[[identifiers]] value: missing"), "{m}");
    let (m, line) = err("[[identifiers]]\nkind = \"imei\"\nvalue = \"1\"\ndevice = \"phone\"\n");
    assert_eq!(line, 4);
    assert!(m.contains("device: expected a MAC address"), "{m}");
    let (m, line) = err("[policy]\nwatch_countries = [\"China\"]\n");
    assert_eq!(line, 2);
    assert!(
        m.contains("[policy] watch_countries: expected a list of two-letter country codes"),
        "{m}"
    );
    let (m, _) = err("[policy]\nwatch_asns = [-1]\n");
    assert!(m.contains("watch_asns"), "{m}");
    let (m, _) = err("[policy]\nboot_window_secs = 5\n");
    assert!(m.contains("boot_window_secs: expected at least 10"), "{m}");
    let (m, _) = err("[policy]\nlocal_resolvers = [\"router\"]\n");
    assert!(m.contains("local_resolvers"), "{m}");
    let (m, line) = err("[ioc]\npaths = \"one\"\n");
    assert_eq!(line, 2);
    assert!(m.contains("[ioc] paths: expected a list of paths"), "{m}");
    let (m, _) = err("[[identifiers]]\nkind = \"imei\"\nvalue = \"1\"\ncolour = \"red\"\n");
    assert!(m.contains("unknown key 'colour' in [identifiers]"), "{m}");
}

#[test]
fn reference_documents_every_detector_key() {
    for (section, keys) in SECTIONS {
        // The other sections have tests of their own (config.rs, config_indicators.rs, ap.rs).
        if !matches!(
            *section,
            "identifiers" | "ioc" | "trackers" | "geo" | "policy"
        ) {
            continue;
        }
        for key in *keys {
            let single = format!("| `[{section}] {key}` |");
            let table = format!("| `[[{section}]] {key}` |");
            assert!(
                CONFIG_REFERENCE.contains(&single) || CONFIG_REFERENCE.contains(&table),
                "{section}.{key} is not documented in CONFIG_REFERENCE"
            );
            // Every listed key is accepted by the parser (SECTIONS matches the raw structs).
            assert!(
                DETECT.contains(&format!("\n{key} = ")),
                "{key} missing from DETECT"
            );
        }
    }
}
