//! The read commands mask the identifiers the device stored: an IMEI in a logged URI, a
//! configured e-mail address in a DNS name. `--reveal` prints them in full.

use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;
use phonehome::event::{DnsProtocol, DnsRecord, Event, HttpRecord, MacAddr, Transport, MICROS};
use phonehome::store::writer::{Writer, WriterConfig};

const IMEI: &str = "490154203237518";

fn write(db: &Path) {
    let w = Writer::spawn(
        db,
        WriterConfig {
            retention_days: 0,
            ..WriterConfig::default()
        },
    )
    .unwrap();
    let sink = w.sink();
    let ip = |s: &str| s.parse().unwrap();
    assert!(sink.send(Event::Http(HttpRecord {
        ts: 1_700_000_000 * MICROS,
        device_mac: Some(MacAddr([4, 0xf1, 0x28, 1, 2, 3])),
        client_ip: ip("192.168.8.23"),
        client_port: 40100,
        server_ip: ip("203.0.113.77"),
        server_port: 80,
        method: "POST".into(),
        host: Some("zzhc.vnet.cn".into()),
        uri: format!("/zzhc/register?imei={IMEI}&ver=2"),
        version: "1.1".into(),
        user_agent: Some("Dalvik/2.1.0 (Linux; U; Android 10)".into()),
        referrer: None,
        content_type: None,
        content_encoding: None,
        auth_scheme: None,
        cookie_present: false,
        content_length: None,
        chunked: false,
        body: Vec::new(),
        head: Vec::new(),
    })));
    assert!(sink.send(Event::Dns(DnsRecord {
        ts: 1_700_000_001 * MICROS,
        device_mac: None,
        client_ip: ip("192.168.8.23"),
        client_port: 40000,
        server_ip: ip("192.168.8.1"),
        server_port: 53,
        transport: Transport::Udp,
        protocol: DnsProtocol::Dns,
        trans_id: 7,
        opcode: 0,
        qname: "anna-smith-mail-example-org.tracker.example.net".into(),
        qtype: 1,
        rcode: Some(0),
        answers: Vec::new(),
        response_only: false,
    })));
    drop(sink);
    w.finish().unwrap();
}

fn run(db: &Path, config: Option<&Path>, args: &[&str]) -> String {
    let mut cmd = Command::cargo_bin("phonehome").unwrap();
    cmd.arg("--db").arg(db);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn uris_are_masked_unless_revealed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    write(&db);
    for args in [&["http", "--json"][..], &["http"][..]] {
        let out = run(&db, None, args);
        assert!(!out.contains(IMEI), "{out}");
        assert!(out.contains("/zzhc/register?imei=…7518&ver=2"), "{out}");
    }
    let out = run(&db, None, &["http", "--json", "--reveal"]);
    assert!(
        out.contains(&format!("/zzhc/register?imei={IMEI}&ver=2")),
        "{out}"
    );
    // Fields that hold no identifier are untouched.
    assert!(out.contains("\"host\":\"zzhc.vnet.cn\""), "{out}");
}

#[test]
fn configured_identifiers_are_masked_in_dns_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    write(&db);
    let cfg = dir.path().join("phonehome.toml");
    std::fs::write(
        &cfg,
        "[[identifiers]]\nkind = \"serial\"\nvalue = \"anna-smith-mail-example-org\"\n",
    )
    .unwrap();
    let plain = run(&db, None, &["dns", "--json"]);
    assert!(
        plain.contains("anna-smith-mail-example-org"),
        "not an identifier without the config"
    );
    let out = run(&db, Some(&cfg), &["dns", "--json"]);
    assert!(!out.contains("anna-smith"), "{out}");
    assert!(out.contains("…-org.tracker.example.net"), "{out}");
    let out = run(&db, Some(&cfg), &["dns", "--json", "--reveal"]);
    assert!(out.contains("anna-smith-mail-example-org.tracker"), "{out}");
}
