//! Read queries for the CLI: record listings with since/device/limit filters, and the
//! `status` summary.
//!
//! Listings are streamed: [`each`] hands the caller an iterator over rows as SQLite produces
//! them, so listing a large table never holds it in memory; [`rows`] collects (tests, small
//! results). Records come oldest first (by `ts`, then insertion order; devices by
//! `first_seen`). A `limit` keeps the newest N matching records, still printed oldest first
//! (like `tail`). Every filter column is indexed (see [`super::schema`]).

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use serde::Serialize;

use super::render::{self, Row};
use super::{schema, CaptureStats, Kind, StoreError};
use crate::event::{MacAddr, Ts};

/// Which records to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only records at or after this time (devices: last seen at or after); None = all.
    pub since: Option<Ts>,
    /// Only records of this device.
    pub device: Option<MacAddr>,
    /// Only the newest N matching records.
    pub limit: Option<usize>,
}

/// Builds the listing SQL for `kind` and its parameters.
fn listing_sql(kind: Kind, filter: &Filter) -> (String, Vec<SqlValue>) {
    let (time_col, mac_col) = match kind {
        Kind::Devices => ("first_seen", "mac"),
        _ => ("ts", "device_mac"),
    };
    let since_col = if kind == Kind::Devices {
        "last_seen"
    } else {
        "ts"
    };
    let cols: Vec<&str> = render::fields(kind).iter().map(|f| f.expr).collect();
    let mut sql = format!(
        "SELECT {}, t.{time_col} AS k_ts, t.rowid AS k_id FROM {} t WHERE 1",
        cols.join(", "),
        kind.name()
    );
    let mut params = Vec::new();
    if let Some(since) = filter.since {
        sql.push_str(&format!(" AND t.{since_col} >= ?"));
        params.push(SqlValue::Integer(since));
    }
    if let Some(mac) = filter.device {
        sql.push_str(&format!(" AND t.{mac_col} = ?"));
        params.push(SqlValue::Text(mac.to_string()));
    }
    match filter.limit {
        Some(n) => {
            sql = format!(
                "SELECT * FROM ({sql} ORDER BY k_ts DESC, k_id DESC LIMIT ?) \
                 ORDER BY k_ts, k_id"
            );
            params.push(SqlValue::Integer(super::sql_u64(n as u64)));
        }
        None => sql.push_str(" ORDER BY k_ts, k_id"),
    }
    (sql, params)
}

/// Runs the listing of `kind` and hands `f` an iterator over its rows, in order. A SQLite
/// error in the middle of the listing is yielded as an `Err` item.
pub fn each<R>(
    conn: &Connection,
    kind: Kind,
    filter: &Filter,
    f: impl FnOnce(&mut dyn Iterator<Item = Result<Row, StoreError>>) -> R,
) -> Result<R, StoreError> {
    let path = db_path(conn);
    let err = |e| schema::sqlite(Path::new(&path), e);
    let (sql, params) = listing_sql(kind, filter);
    let fields = render::fields(kind);
    let mut stmt = conn.prepare(&sql).map_err(err)?;
    let mapped = stmt
        .query_map(params_from_iter(params), |r| {
            let mut out = Vec::with_capacity(fields.len());
            for (i, field) in fields.iter().enumerate() {
                out.push((field.name, render::value(field.conv, r.get_ref(i)?)));
            }
            Ok(Row(out))
        })
        .map_err(err)?;
    let mut it = mapped.map(|r| r.map_err(err));
    Ok(f(&mut it))
}

/// Collects the listing of `kind`.
pub fn rows(conn: &Connection, kind: Kind, filter: &Filter) -> Result<Vec<Row>, StoreError> {
    each(conn, kind, filter, |it| it.collect::<Result<Vec<_>, _>>())?
}

/// The latest capture-counter snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CaptureSnapshot {
    #[serde(flatten)]
    pub stats: CaptureStats,
    /// Events the store writer dropped at its full queue.
    pub store_drops: u64,
}

/// Rows per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub dns: u64,
    pub http: u64,
    pub tls: u64,
    pub dhcp: u64,
    pub flows: u64,
    pub devices: u64,
    pub alerts: u64,
    /// Alerts nobody acknowledged yet.
    pub alerts_open: u64,
}

/// What `phonehome status` shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Latest capture counters; None before the first snapshot.
    pub capture: Option<CaptureSnapshot>,
    pub records: RecordCounts,
    /// Schema version of the file.
    pub schema_version: u32,
    /// Database size: pages in use plus the write-ahead log.
    pub db_bytes: u64,
}

/// Gathers the status summary.
pub fn status(conn: &Connection) -> Result<Status, StoreError> {
    let path = db_path(conn);
    let err = |e| schema::sqlite(Path::new(&path), e);
    let count = |sql: &str| -> Result<u64, StoreError> {
        let n: i64 = conn.query_row(sql, [], |r| r.get(0)).map_err(err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let c = |t: &str| count(&format!("SELECT COUNT(*) FROM {t}"));
    let records = RecordCounts {
        dns: c("dns")?,
        http: c("http")?,
        tls: c("tls")?,
        dhcp: c("dhcp")?,
        flows: c("flows")?,
        devices: c("devices")?,
        alerts: c("alerts")?,
        alerts_open: count("SELECT COUNT(*) FROM alerts WHERE acknowledged_at IS NULL")?,
    };
    let capture = latest_capture(conn).map_err(err)?;
    let pages = count("PRAGMA page_count")?;
    let page_size = count("PRAGMA page_size")?;
    let wal = std::fs::metadata(format!("{path}-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    Ok(Status {
        capture,
        records,
        schema_version: schema::user_version(conn).map_err(err)?,
        db_bytes: pages.saturating_mul(page_size).saturating_add(wal),
    })
}

fn latest_capture(conn: &Connection) -> rusqlite::Result<Option<CaptureSnapshot>> {
    let mut st = conn.prepare(
        "SELECT ts, source, packets_seen, bytes_seen, packets_decoded, decode_errors, \
         kernel_drops, queue_drops, store_drops, flows_created, flows_evicted \
         FROM capture_stats ORDER BY ts DESC, id DESC LIMIT 1",
    )?;
    let mut rows = st.query([])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    let u =
        |i: usize| -> rusqlite::Result<u64> { Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0)) };
    Ok(Some(CaptureSnapshot {
        stats: CaptureStats {
            ts: r.get(0)?,
            source: r.get(1)?,
            packets_seen: u(2)?,
            bytes_seen: u(3)?,
            packets_decoded: u(4)?,
            decode_errors: u(5)?,
            kernel_drops: u(6)?,
            queue_drops: u(7)?,
            flows_created: u(9)?,
            flows_evicted: u(10)?,
        },
        store_drops: u(8)?,
    }))
}

/// The connection's file path ("" for in-memory databases).
fn db_path(conn: &Connection) -> String {
    conn.path().unwrap_or("").to_string()
}
