//! Alerts in the store: repeats of the same kind, device, destination and key within the
//! merge window become one row with a count; acknowledged or old alerts start a new row.

mod common;

use phonehome::event::{Alert, Severity, MICROS};
use phonehome::store::insert::ALERT_MERGE_WINDOW;
use phonehome::store::query::{self, Filter};
use phonehome::store::{self, Kind};

const T0: i64 = 1_700_000_000 * MICROS;

fn leak(ts: i64, key: &str, severity: Severity) -> Alert {
    common::pii_alert(ts, severity, key)
}

fn write(db: &std::path::Path, alerts: Vec<Alert>) {
    common::write_alerts(db, alerts)
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
