//! Alerts in the store: repeats of the same kind, device, destination and key within the
//! merge window become one row with a count; acknowledged or old alerts start a new row.

use phonehome::event::{Alert, AlertKind, Event, MacAddr, Severity, MICROS};
use phonehome::store::insert::ALERT_MERGE_WINDOW;
use phonehome::store::query::{self, Filter};
use phonehome::store::writer::{Writer, WriterConfig};
use phonehome::store::{self, Kind};

const T0: i64 = 1_700_000_000 * MICROS;

fn leak(ts: i64, key: &str, severity: Severity) -> Alert {
    Alert {
        ts,
        severity,
        kind: AlertKind::PiiLeak,
        device_mac: Some(MacAddr([4, 0xf1, 0x28, 1, 2, 3])),
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

fn write(db: &std::path::Path, alerts: Vec<Alert>) {
    let w = Writer::spawn(
        db,
        WriterConfig {
            retention_days: 0,
            ..WriterConfig::default()
        },
    )
    .unwrap();
    let sink = w.sink();
    for a in alerts {
        assert!(sink.send_blocking(Event::Alert(a)));
    }
    drop(sink);
    w.finish().unwrap();
}

fn rows(db: &std::path::Path) -> Vec<serde_json::Value> {
    let conn = store::open_read(db).unwrap();
    query::rows(&conn, Kind::Alerts, &Filter::default())
        .unwrap()
        .into_iter()
        .map(|r| serde_json::to_value(&r).unwrap())
        .collect()
}

#[test]
fn repeats_merge_into_one_counted_alert() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    write(
        &db,
        vec![
            leak(T0, "imei", Severity::Warn),
            leak(T0 + 30 * MICROS, "imei", Severity::Critical),
            leak(T0 + 60 * MICROS, "imei", Severity::Warn),
            leak(T0 + 90 * MICROS, "iccid", Severity::Critical),
        ],
    );
    let r = rows(&db);
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0]["detail"]["identifier"], "imei");
    assert_eq!(r[0]["count"], 3);
    assert_eq!(r[0]["severity"], "critical", "a repeat raises the severity");
    assert_eq!(r[0]["last_ts"], "2023-11-14T22:14:20.000000Z");
    assert_eq!(r[0]["country"], "CN");
    assert_eq!(r[0]["asn"], 4134);
    assert_eq!(r[1]["count"], 1);
    assert!(r[0]["id"].as_i64().unwrap() > 0);
}

#[test]
fn acknowledged_or_old_alerts_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    write(&db, vec![leak(T0, "imei", Severity::Critical)]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE alerts SET acknowledged_at = ?1", [T0 + MICROS])
        .unwrap();
    drop(conn);
    write(
        &db,
        vec![
            leak(T0 + 10 * MICROS, "imei", Severity::Critical),
            leak(
                T0 + 10 * MICROS + ALERT_MERGE_WINDOW + MICROS,
                "imei",
                Severity::Critical,
            ),
        ],
    );
    let r = rows(&db);
    assert_eq!(r.len(), 3, "{r:?}");
    assert!(r.iter().all(|a| a["count"] == 1));
}
