//! `phonehome.toml` loading: defaults, a full valid file, every error with its file:line and
//! key, and the explicit-versus-default file rules.

use std::path::{Path, PathBuf};

use phonehome::config::{Config, ConfigError, CONFIG_REFERENCE, DEFAULT_PATH, SECTIONS};

const FULL: &str = r#"# phonehome test configuration
[capture]
interface = "wlan0"
promiscuous = false
rcvbuf_mib = 64

[store]
path = "/data/phonehome.db"
retention_days = 7
queue_capacity = 4096
batch_max = 500

[flows]
max_flows = 100000
tcp_idle_secs = 120
udp_idle_secs = 30
inspect_bytes = 4096
"#;

fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let p = dir.path().join("phonehome.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// The error of parsing `text` as `/etc/phonehome/phonehome.toml`, as (message, line, column, key).
fn err(text: &str) -> (String, usize, usize, Option<String>) {
    let e = Config::parse(text, Path::new(DEFAULT_PATH)).unwrap_err();
    let shown = e.to_string();
    match e {
        ConfigError::Invalid {
            line, column, key, ..
        } => (shown, line, column, key),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn defaults_when_the_default_file_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let c = Config::load_or_default(None, &dir.path().join("absent.toml")).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.source, None);
    assert_eq!(c.capture.interface, "br0");
    assert!(c.capture.promiscuous);
    assert_eq!(c.capture.rcvbuf_mib, 16);
    assert_eq!(c.store.path, Path::new("/var/lib/phonehome/phonehome.db"));
    assert_eq!(c.store.retention_days, 30);
    assert_eq!(c.store.queue_capacity, 65_536);
    assert_eq!(c.store.batch_max, 2000);
    assert_eq!(c.flows.max_flows, 65_536);
    assert_eq!(c.flows.tcp_idle_secs, 300);
    assert_eq!(c.flows.udp_idle_secs, 60);
    assert_eq!(c.flows.inspect_bytes, 16_384);
}

#[test]
fn empty_file_and_partial_sections_take_defaults() {
    let c = Config::parse("", Path::new("/e.toml")).unwrap();
    assert_eq!(c.source.as_deref(), Some(Path::new("/e.toml")));
    assert_eq!(c.store, Config::default().store);
    let c = Config::parse("[store]\nretention_days = 90\n", Path::new("/p.toml")).unwrap();
    assert_eq!(c.store.retention_days, 90);
    assert_eq!(c.store.batch_max, 2000);
    assert_eq!(c.capture, Config::default().capture);
}

#[test]
fn full_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, FULL);
    let c = Config::load(Some(&p)).unwrap();
    assert_eq!(c.source.as_deref(), Some(p.as_path()));
    assert_eq!(c.capture.interface, "wlan0");
    assert!(!c.capture.promiscuous);
    assert_eq!(c.capture.rcvbuf_mib, 64);
    assert_eq!(c.store.path, Path::new("/data/phonehome.db"));
    assert_eq!(c.store.retention_days, 7);
    assert_eq!(c.store.queue_capacity, 4096);
    assert_eq!(c.store.batch_max, 500);
    assert_eq!(c.flows.max_flows, 100_000);
    assert_eq!(c.flows.tcp_idle_secs, 120);
    assert_eq!(c.flows.udp_idle_secs, 30);
    assert_eq!(c.flows.inspect_bytes, 4096);
    let fc = c.flows.flow_config();
    assert_eq!(fc.max_flows, 100_000);
    assert_eq!(fc.tcp_idle, 120_000_000);
    assert_eq!(fc.udp_idle, 30_000_000);
}

#[test]
fn explicit_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.toml");
    let e = Config::load(Some(&p)).unwrap_err();
    assert!(matches!(&e, ConfigError::NotFound { path } if *path == p));
    assert_eq!(
        e.to_string(),
        format!(
            "config file {}: not found (named by --config or PHONEHOME_CONFIG)",
            p.display()
        )
    );
}

#[test]
fn default_file_is_read_when_present() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "[capture]\ninterface = \"eth1\"\n");
    let c = Config::load_or_default(None, &p).unwrap();
    assert_eq!(c.capture.interface, "eth1");
    // A bad default file is an error too (not silently replaced by defaults).
    let p = write(&dir, "[capture]\ninterface = 7\n");
    let e = Config::load_or_default(None, &p).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}:2: [capture] interface: expected an interface name (1-15 characters, no '/' or whitespace), got 7", p.display())
    );
}

#[test]
fn unreadable_file_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bin.toml");
    std::fs::write(&p, [0xff, 0xfe, 0x00]).unwrap();
    let e = Config::load(Some(&p)).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
    assert!(e
        .to_string()
        .starts_with(&format!("config file {}: ", p.display())));
    // A directory is not a file either.
    let e = Config::load(Some(dir.path())).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
}

#[test]
fn negative_retention_names_file_line_and_key() {
    let text = "# comment\n\n[capture]\ninterface = \"br0\"\n\n[store]\nretention_days = -3\n";
    let (msg, line, col, key) = err(text);
    assert_eq!(
        msg,
        "/etc/phonehome/phonehome.toml:7: [store] retention_days: expected a positive integer, got -3"
    );
    assert_eq!(
        (line, col, key.as_deref()),
        (7, 18, Some("store.retention_days"))
    );
}

#[test]
fn unknown_key_lists_the_expected_ones() {
    let (msg, line, col, key) = err("\n[capture]\ninterfce = \"br0\"\n");
    assert_eq!(
        msg,
        "/etc/phonehome/phonehome.toml:3: unknown key 'interfce' in [capture] (expected one of: interface, promiscuous, rcvbuf_mib)"
    );
    assert_eq!(
        (line, col, key.as_deref()),
        (3, 1, Some("capture.interfce"))
    );
    let (msg, ..) = err("[flows]\nmax_flow = 10\n");
    assert_eq!(
        msg,
        "/etc/phonehome/phonehome.toml:2: unknown key 'max_flow' in [flows] (expected one of: max_flows, tcp_idle_secs, udp_idle_secs, inspect_bytes)"
    );
}

#[test]
fn unknown_section_and_top_level_key() {
    let (msg, line, _, key) = err("[store]\nretention_days = 3\n[feeds]\nurls = []\n");
    let sections: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        &sections[..],
        [
            "capture",
            "store",
            "flows",
            "identifiers",
            "ioc",
            "trackers",
            "geo",
            "policy",
            "indicators",
            "ap"
        ]
    );
    assert_eq!(
        msg,
        format!(
            "/etc/phonehome/phonehome.toml:3: unknown section [feeds] (expected one of: {})",
            sections.join(", ")
        )
    );
    assert_eq!((line, key.as_deref()), (3, Some("feeds")));
    let (msg, ..) = err("interface = \"br0\"\n");
    assert_eq!(
        msg,
        format!(
            "/etc/phonehome/phonehome.toml:1: unknown key 'interface' outside any section (expected a section: {})",
            sections.join(", ")
        )
    );
    let (msg, ..) = err("capture = 5\n");
    assert_eq!(
        msg,
        "/etc/phonehome/phonehome.toml:1: [capture]: expected a table of settings, got integer `5`"
    );
}

#[test]
fn wrong_types_and_ranges() {
    let cases: &[(&str, &str)] = &[
        ("[capture]\npromiscuous = \"yes\"\n", "2: [capture] promiscuous: expected true or false, got \"yes\""),
        ("[capture]\nrcvbuf_mib = 0\n", "2: [capture] rcvbuf_mib: expected a positive integer, got 0"),
        ("[capture]\nrcvbuf_mib = 4096\n", "2: [capture] rcvbuf_mib: expected at most 1024, got 4096"),
        ("[capture]\ninterface = \"\"\n", "2: [capture] interface: expected an interface name (1-15 characters, no '/' or whitespace), got \"\""),
        ("[capture]\ninterface = \"br0 eth0\"\n", "2: [capture] interface: expected an interface name (1-15 characters, no '/' or whitespace), got \"br0 eth0\""),
        ("[store]\nretention_days = 30.0\n", "2: [store] retention_days: expected a positive integer, got 30.0"),
        ("[store]\nretention_days = \"30\"\n", "2: [store] retention_days: expected a positive integer, got \"30\""),
        ("[store]\nretention_days = 3651\n", "2: [store] retention_days: expected at most 3650, got 3651"),
        ("[store]\npath = \"\"\n", "2: [store] path: expected a file path, got \"\""),
        ("[store]\nqueue_capacity = 10\n", "2: [store] queue_capacity: expected at least 1024, got 10"),
        ("[store]\nqueue_capacity = 2048\nbatch_max = 4000\n", "3: [store] batch_max: expected at most queue_capacity (2048), got 4000"),
        ("[flows]\nmax_flows = -1\n", "2: [flows] max_flows: expected at least 1024, got -1"),
        ("[flows]\ntcp_idle_secs = 86401\n", "2: [flows] tcp_idle_secs: expected at most 86400, got 86401"),
        ("[flows]\nudp_idle_secs = true\n", "2: [flows] udp_idle_secs: expected a positive integer, got true"),
        ("[flows]\n\n\ninspect_bytes = 0\n", "4: [flows] inspect_bytes: expected at least 1024, got 0"),
    ];
    for (text, want) in cases {
        let (msg, ..) = err(text);
        assert_eq!(
            msg,
            format!("/etc/phonehome/phonehome.toml:{want}"),
            "{text:?}"
        );
    }
}

#[test]
fn syntax_errors_carry_line_and_column() {
    let (msg, line, col, key) = err("[store]\nretention_days = 30\n[flows\n");
    assert_eq!(
        msg,
        "/etc/phonehome/phonehome.toml:3: invalid TOML: invalid table header"
    );
    assert_eq!((line, col, key), (3, 7, None));
    let (msg, line, ..) = err("[store]\nretention_days = 1\nretention_days = 2\n");
    assert_eq!(line, 3, "{msg}");
    assert!(
        msg.starts_with("/etc/phonehome/phonehome.toml:3: invalid TOML: duplicate key"),
        "{msg}"
    );
}

#[test]
fn reference_documents_every_key_with_its_default() {
    let d = Config::default();
    let defaults = [
        (
            "capture",
            "interface",
            format!("`\"{}\"`", d.capture.interface),
        ),
        (
            "capture",
            "promiscuous",
            format!("`{}`", d.capture.promiscuous),
        ),
        (
            "capture",
            "rcvbuf_mib",
            format!("`{}`", d.capture.rcvbuf_mib),
        ),
        ("store", "path", format!("`\"{}\"`", d.store.path.display())),
        (
            "store",
            "retention_days",
            format!("`{}`", d.store.retention_days),
        ),
        (
            "store",
            "queue_capacity",
            format!("`{}`", d.store.queue_capacity),
        ),
        ("store", "batch_max", format!("`{}`", d.store.batch_max)),
        ("flows", "max_flows", format!("`{}`", d.flows.max_flows)),
        (
            "flows",
            "tcp_idle_secs",
            format!("`{}`", d.flows.tcp_idle_secs),
        ),
        (
            "flows",
            "udp_idle_secs",
            format!("`{}`", d.flows.udp_idle_secs),
        ),
        (
            "flows",
            "inspect_bytes",
            format!("`{}`", d.flows.inspect_bytes),
        ),
    ];
    // The detector sections (lists and tables) are checked in tests/config_detect.rs.
    let listed: Vec<(&str, &str)> = SECTIONS
        .iter()
        .filter(|(s, _)| matches!(*s, "capture" | "store" | "flows"))
        .flat_map(|(s, keys)| keys.iter().map(move |k| (*s, *k)))
        .collect();
    assert_eq!(listed.len(), defaults.len());
    for (section, key, default) in &defaults {
        assert!(
            listed.contains(&(section, key)),
            "{section}.{key} not in SECTIONS"
        );
        let row = CONFIG_REFERENCE
            .lines()
            .find(|l| l.starts_with(&format!("| `[{section}] {key}` |")))
            .unwrap_or_else(|| panic!("{section}.{key} not documented"));
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(cells[2], default.as_str(), "{row}");
    }
    // Every listed key is accepted by the parser (SECTIONS matches the raw structs).
    assert!(Config::parse(FULL, Path::new("/f.toml")).is_ok());
    for (section, keys) in SECTIONS
        .iter()
        .filter(|(s, _)| matches!(*s, "capture" | "store" | "flows"))
    {
        assert!(FULL.contains(&format!("[{section}]")));
        for key in *keys {
            assert!(FULL.contains(&format!("\n{key} = ")), "{key}");
        }
    }
}
