//! `phonehome report` and `phonehome export` on a real database (the demo capture analysed
//! through the binary): masking by default, `--reveal`, `--device`, `--since`, `--json`,
//! and an export whose lines equal the read commands' `--json` output.

use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;
use serde_json::Value;

const PHONE: &str = "04:f1:28:5c:3a:7e";

fn with_db(dir: &Path) -> Command {
    let cfg = dir.join("phonehome.toml");
    if !cfg.exists() {
        std::fs::write(&cfg, "").unwrap();
    }
    let mut c = Command::cargo_bin("phonehome").unwrap();
    c.env_remove("PHONEHOME_DB")
        .env_remove("PHONEHOME_CONFIG")
        .arg("--db")
        .arg(dir.join("t.db"))
        .arg("--config")
        .arg(cfg);
    c
}

fn analyzed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("demo.pcap");
    std::fs::write(&pcap, phonehome::synth::demo_capture()).unwrap();
    with_db(dir.path())
        .arg("analyze")
        .arg(&pcap)
        .assert()
        .success();
    dir
}

fn stdout(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn report_masks_macs_and_names_what_the_phone_did() {
    let dir = analyzed();
    let text = stdout(with_db(dir.path()).arg("report"));
    println!("{text}");
    assert!(!text.contains(PHONE), "unmasked MAC in the report");
    assert!(text.contains("== Device …3a7e"));
    assert!(text.contains("hostname Nokia-7-plus, vendor HMD Global Oy"));
    assert!(text.contains("Alerts: 2 critical, 0 warn, 3 info"));
    assert!(text.contains("[critical] #3 pii_leak: IMEI …7518 sent in clear text to zzhc.vnet.cn"));
    assert!(text.contains("     zzhc.vnet.cn: 681 B sent, 309 B received, 1 flow"));
    assert!(text.contains("   Trackers: zzhc.vnet.cn"));
    assert!(text.contains("Unencrypted HTTP to: connectivitycheck.gstatic.com ×1, zzhc.vnet.cn ×1"));
    // The whole IMEI is never anywhere.
    assert!(!text.contains("490154203237518"));

    let revealed = stdout(with_db(dir.path()).args(["report", "--reveal"]));
    assert!(revealed.contains(&format!("== Device {PHONE}")));
}

#[test]
fn report_json_is_one_object_with_the_same_facts() {
    let dir = analyzed();
    let text = stdout(with_db(dir.path()).args(["report", "--json"]));
    assert_eq!(text.lines().count(), 1);
    let v: Value = serde_json::from_str(&text).unwrap();
    let d = &v["devices"][0];
    assert_eq!(v["devices"].as_array().map(Vec::len), Some(1));
    assert_eq!(d["mac"], "…3a7e");
    assert_eq!(d["hostname"], "Nokia-7-plus");
    assert_eq!(d["alerts"]["counts"]["critical"], 2);
    assert_eq!(d["leaks"][0]["kind"], "pii_leak");
    assert_eq!(d["trackers"][0], "zzhc.vnet.cn");
    let top = d["top_destinations"].as_array().unwrap();
    assert_eq!(top[0]["destination"], "connectivitycheck.gstatic.com");
    // Ordered by bytes, largest first.
    let total = |t: &Value| t["bytes_up"].as_u64().unwrap() + t["bytes_down"].as_u64().unwrap();
    assert!(top.windows(2).all(|w| total(&w[0]) >= total(&w[1])));

    let revealed: Value = serde_json::from_str(&stdout(
        with_db(dir.path()).args(["report", "--json", "--reveal"]),
    ))
    .unwrap();
    assert_eq!(revealed["devices"][0]["mac"], PHONE);
}

#[test]
fn report_filters_by_device_and_time() {
    let dir = analyzed();
    let other = stdout(with_db(dir.path()).args(["report", "--device", "02:00:00:00:00:01"]));
    assert!(other.contains("No device was seen in this window."));
    let one = stdout(with_db(dir.path()).args(["report", "--device", PHONE]));
    assert!(one.contains("== Device …3a7e"));
    // The demo capture is from 2024: nothing in the last hour.
    let recent = stdout(with_db(dir.path()).args(["report", "--since", "1h"]));
    assert!(
        recent.contains("No device was seen in this window."),
        "{recent}"
    );
    let bad = with_db(dir.path())
        .args(["report", "--device", "nope"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--device: not a MAC address: nope"));
}

#[test]
fn export_holds_every_table_as_the_read_commands_print_it() {
    let dir = analyzed();
    let text = stdout(with_db(dir.path()).arg("export"));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for table in ["dns", "http", "tls", "dhcp", "flows", "devices", "alerts"] {
        let mut exported: Vec<Value> = lines
            .iter()
            .filter(|l| l["table"] == table)
            .cloned()
            .collect();
        for v in &mut exported {
            v.as_object_mut().unwrap().remove("table");
        }
        let listed: Vec<Value> = stdout(with_db(dir.path()).args([table, "--json"]))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(!listed.is_empty(), "{table}: the demo has records");
        assert_eq!(exported, listed, "{table}");
    }
    assert!(lines.iter().all(|l| l["table"].is_string()));
    // `--since` applies to every table.
    let none = stdout(with_db(dir.path()).args(["export", "--since", "1h"]));
    assert_eq!(none, "");
}
