//! The `phonehome` binary as a user runs it: demo, analyze into a real SQLite file, every read
//! command in both formats, filters, status, config errors, truncated captures, broken pipes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::cargo_bin("phonehome").unwrap();
    // Never pick up a config or database of the machine running the tests.
    c.env_remove("PHONEHOME_DB").env_remove("PHONEHOME_CONFIG");
    c.env("PHONEHOME_CONFIG", "/nonexistent-phonehome-test.toml");
    c
}

/// A command with `--db` and an empty config.
fn with_db(dir: &Path) -> Command {
    let cfg = dir.join("phonehome.toml");
    if !cfg.exists() {
        std::fs::write(&cfg, "").unwrap();
    }
    let mut c = bin();
    c.arg("--db").arg(dir.join("t.db")).arg("--config").arg(cfg);
    c
}

fn corpus(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pcaps")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        println!("skipped: {} not present", p.display());
        None
    }
}

/// The demo capture, written where `analyze` can read it.
fn demo_pcap(dir: &Path) -> PathBuf {
    let p = dir.join("demo.pcap");
    std::fs::write(&p, phonehome::synth::demo_capture()).unwrap();
    p
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn analyzed(dir: &Path) {
    let pcap = demo_pcap(dir);
    with_db(dir)
        .arg("analyze")
        .arg(&pcap)
        .assert()
        .success()
        .stderr(predicate::str::contains("analyzed 123 packets"));
}

#[test]
fn demo_prints_devices_dns_tls_http_and_flows() {
    bin()
        .arg("demo")
        .assert()
        .success()
        .stdout(predicate::str::contains("04:f1:28:5c:3a:7e"))
        .stdout(predicate::str::contains("HMD Global Oy"))
        .stdout(predicate::str::contains("Nokia-7-plus"))
        .stdout(predicate::str::contains("zzhc.vnet.cn"))
        .stdout(predicate::str::contains(
            "t13d1516h2_8daaf6152771_e5627efa2ab1",
        ))
        .stdout(predicate::str::contains("/generate_204"));
}

#[test]
fn json_records_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    analyzed(dir.path());
    let run = |kind: &str| -> Vec<Value> {
        let out = with_db(dir.path()).args([kind, "--json"]).output().unwrap();
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_lines(&out.stdout)
    };
    let fields: &[(&str, &[&str])] = &[
        (
            "dns",
            &[
                "ts",
                "device_mac",
                "client_ip",
                "server_ip",
                "qname",
                "qtype",
                "rcode",
                "answers",
            ],
        ),
        (
            "http",
            &[
                "ts",
                "device_mac",
                "client_ip",
                "server_ip",
                "server_port",
                "method",
                "host",
                "uri",
                "user_agent",
            ],
        ),
        (
            "tls",
            &[
                "ts",
                "device_mac",
                "client_ip",
                "client_port",
                "server_ip",
                "server_port",
                "transport",
                "sni",
                "alpn",
                "ja3",
                "ja4",
                "version",
            ],
        ),
        (
            "dhcp",
            &[
                "ts",
                "device_mac",
                "client_mac",
                "msg_type",
                "hostname",
                "vendor_class",
                "param_list",
                "requested_ip",
            ],
        ),
        (
            "flows",
            &[
                "ts",
                "last_ts",
                "device_mac",
                "proto",
                "client_ip",
                "client_port",
                "server_ip",
                "server_port",
                "bytes_up",
                "bytes_down",
                "packets_up",
                "packets_down",
                "domain",
            ],
        ),
        (
            "devices",
            &[
                "mac",
                "vendor",
                "randomized",
                "hostname",
                "ips",
                "first_seen",
                "last_seen",
            ],
        ),
    ];
    for (kind, keys) in fields {
        let rows = run(kind);
        assert!(!rows.is_empty(), "{kind}: no rows");
        for r in &rows {
            for k in *keys {
                assert!(r.get(*k).is_some(), "{kind}: field {k} missing in {r}");
            }
        }
    }
    // Exact values from the demo scenario.
    let dns = run("dns");
    let q = dns
        .iter()
        .find(|r| r["qname"] == "zzhc.vnet.cn" && r["qtype"] == "A")
        .unwrap();
    assert_eq!(q["answers"], serde_json::json!(["203.0.113.77"]));
    assert_eq!(q["rcode"], "NOERROR");
    assert_eq!(q["device_mac"], "04:f1:28:5c:3a:7e");
    let ts = q["ts"].as_str().unwrap();
    assert_eq!(ts.len(), "2024-03-14T09:00:00.490000Z".len(), "{ts}");
    assert!(ts.ends_with('Z'));
    let tls = run("tls");
    assert_eq!(tls.len(), 4);
    assert!(tls
        .iter()
        .all(|r| r["transport"] == "tcp" && r["version"] == "0x0303"));
    let http = run("http");
    let post = http.iter().find(|r| r["method"] == "POST").unwrap();
    assert_eq!(post["host"], "zzhc.vnet.cn");
    assert_eq!(post["server_port"], 80);
    let dhcp = run("dhcp");
    let types: Vec<&str> = dhcp
        .iter()
        .map(|r| r["msg_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["DISCOVER", "OFFER", "REQUEST", "ACK"]);
    assert_eq!(dhcp[0]["vendor_class"], "android-dhcp-10");
    let flows = run("flows");
    let f = flows
        .iter()
        .find(|r| r["server_port"] == 80 && r["domain"] == "zzhc.vnet.cn")
        .unwrap();
    assert_eq!(f["proto"], "tcp");
    assert!(f["bytes_up"].as_u64().unwrap() > 0 && f["bytes_down"].as_u64().unwrap() > 0);
    let devices = run("devices");
    let phone = devices
        .iter()
        .find(|r| r["mac"] == "04:f1:28:5c:3a:7e")
        .unwrap();
    assert_eq!(phone["vendor"], "HMD Global Oy");
    assert_eq!(phone["randomized"], false);
    assert_eq!(phone["hostname"], "Nokia-7-plus");
    assert!(phone["ips"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i == "192.168.8.23"));
    let alerts = run("alerts");
    let leak = alerts
        .iter()
        .find(|a| a["kind"] == "pii_leak" && a["detail"]["identifier"] == "imei")
        .expect("the demo's IMEI leak");
    assert_eq!(leak["severity"], "critical");
    assert_eq!(leak["domain"], "zzhc.vnet.cn");
    assert_eq!(leak["detail"]["value"], "…7518");
    assert!(
        !leak.to_string().contains("490154203237518"),
        "identifiers are masked"
    );
    assert!(leak["detail"]["evidence"]
        .as_str()
        .unwrap()
        .ends_with(".pcap"));
}

#[test]
fn tables_filters_and_status() {
    let dir = tempfile::tempdir().unwrap();
    analyzed(dir.path());
    with_db(dir.path())
        .arg("dns")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ts "))
        .stdout(predicate::str::contains("qname"))
        .stdout(predicate::str::contains("10 records"));
    // The demo is dated 2024: nothing in the last hour, everything since 2024-01-01.
    with_db(dir.path())
        .args(["dns", "--since", "1h", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let out = with_db(dir.path())
        .args(["dns", "--since", "2024-01-01T00:00:00Z", "--json"])
        .output()
        .unwrap();
    assert_eq!(json_lines(&out.stdout).len(), 10);
    let out = with_db(dir.path())
        .args(["flows", "--device", "04:F1:28:5C:3A:7E", "--json"])
        .output()
        .unwrap();
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 18, "every demo flow belongs to the phone");
    assert!(rows.iter().all(|r| r["device_mac"] == "04:f1:28:5c:3a:7e"));
    let out = with_db(dir.path())
        .args(["flows", "--device", "dc:a6:32:41:8e:02", "--json"])
        .output()
        .unwrap();
    assert!(
        json_lines(&out.stdout).is_empty(),
        "the DHCP server is a router, not a device"
    );
    with_db(dir.path())
        .args(["dns", "--since", "yesterday"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--since"));
    with_db(dir.path())
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("123 seen"))
        .stdout(predicate::str::contains("flows"));
    let out = with_db(dir.path())
        .args(["status", "--json"])
        .output()
        .unwrap();
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(st.to_string().contains("\"packets_seen\":123"), "{st}");
}

#[test]
fn truncated_capture_names_file_and_packet_and_keeps_earlier_records() {
    let dir = tempfile::tempdir().unwrap();
    let full = phonehome::synth::demo_capture();
    // Cut inside the last record: every packet before it must still be stored.
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &full[..full.len() - 10]).unwrap();
    with_db(dir.path())
        .arg("analyze")
        .arg(&cut)
        .assert()
        .failure()
        .stderr(predicate::str::contains(cut.display().to_string()))
        .stderr(predicate::str::contains("packet 123"));
    let out = with_db(dir.path())
        .args(["dns", "--json"])
        .output()
        .unwrap();
    assert_eq!(json_lines(&out.stdout).len(), 10);
}

#[test]
fn every_corpus_capture_analyses_into_one_db() {
    let Some(p) = corpus("http-get-basic.pcap") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    with_db(dir.path())
        .arg("analyze")
        .arg(&p)
        .assert()
        .success();
    let out = with_db(dir.path())
        .args(["http", "--json"])
        .output()
        .unwrap();
    let rows = json_lines(&out.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["host"], "bro.org");
    assert_eq!(rows[0]["uri"], "/download/CHANGES.bro-aux.txt");
    assert_eq!(rows[0]["user_agent"], "Wget/1.14 (darwin12.2.0)");
}

#[test]
fn config_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[store]\nretention_days = -3\n").unwrap();
    bin()
        .arg("--config")
        .arg(&cfg)
        .arg("status")
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!("{}:2", cfg.display())))
        .stderr(predicate::str::contains("retention_days"));
    bin()
        .arg("--config")
        .arg(dir.path().join("missing.toml"))
        .arg("status")
        .assert()
        .failure()
        .stderr(predicate::str::contains("missing.toml"));
}

#[test]
fn missing_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    with_db(dir.path())
        .arg("dns")
        .assert()
        .failure()
        .stderr(predicate::str::contains("t.db"));
}

#[test]
fn broken_pipe_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    analyzed(dir.path());
    let mut child = with_db(dir.path())
        .arg("flows")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once, like `| head -0`.
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn readme_documents_every_config_key() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains(phonehome::config::CONFIG_REFERENCE),
        "README.md's configuration table differs from config::CONFIG_REFERENCE: paste it again"
    );
    for cmd in ["cargo run --release -- demo", "cargo test"] {
        assert!(readme.contains(cmd), "README lacks `{cmd}`");
    }
}
