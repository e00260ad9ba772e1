//! Helpers shared by several integration tests (each test file is its own crate and uses
//! only some of them, hence `dead_code` allowed).
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use phonehome::event::{Alert, AlertKind, Event, MacAddr, Severity, Ts};
use phonehome::store::writer::{Writer, WriterConfig};

/// The phone of the alert fixtures.
pub const PHONE: MacAddr = MacAddr([4, 0xf1, 0x28, 1, 2, 3]);

/// A clear-text identifier leak from [`PHONE`] to zzhc.vnet.cn at `ts`, keyed (merged) by
/// `key`, which also names the identifier in the summary.
pub fn pii_alert(ts: Ts, severity: Severity, key: &str) -> Alert {
    Alert {
        ts,
        severity,
        kind: AlertKind::PiiLeak,
        device_mac: Some(PHONE),
        client_ip: Some("192.168.8.23".parse().unwrap()),
        client_port: Some(40000),
        server_ip: Some("203.0.113.77".parse().unwrap()),
        server_port: Some(80),
        proto: Some("http".into()),
        domain: Some("zzhc.vnet.cn".into()),
        country: Some("CN".into()),
        asn: Some(4134),
        summary: format!("{key} sent in clear text"),
        detail: serde_json::json!({ "identifier": key }),
        dedup_key: key.into(),
    }
}

/// The store writer on `db`, keeping rows of any age (fixtures use old timestamps).
pub fn writer(db: &Path) -> Writer {
    Writer::spawn(
        db,
        WriterConfig {
            retention_days: 0,
            ..WriterConfig::default()
        },
    )
    .unwrap()
}

/// Writes `alerts` (ids 1, 2, … in order) to `db` with the store writer and stops it.
pub fn write_alerts(db: &Path, alerts: Vec<Alert>) {
    let w = writer(db);
    let sink = w.sink();
    for a in alerts {
        assert!(sink.send_blocking(Event::Alert(a)));
    }
    drop(sink);
    w.finish().unwrap();
}

/// A new ed25519 key pair without passphrase at `path` and `path.pub`; the public key line.
pub fn ssh_keygen(path: &Path, comment: &str) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(path.with_extension("pub")).unwrap()
}
