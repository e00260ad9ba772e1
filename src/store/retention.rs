//! Retention: deletes rows older than a cutoff in small chunks.
//!
//! Each call to [`step`] deletes at most [`RETENTION_CHUNK`] rows per table, each chunk in its
//! own implicit transaction, and reports whether more remain; the writer interleaves steps
//! with event batches so a large backlog (say, after `retention_days` was lowered) never
//! stalls writing for long. Every table is cut on an indexed time column.

use rusqlite::{params, Connection};

use super::sql_u64;
use crate::event::{Ts, MICROS};

/// Rows deleted per table per chunk: bounds the time one DELETE holds the write lock (about a
/// millisecond on a Pi's SD card per thousand small rows).
pub const RETENTION_CHUNK: usize = 1000;

/// Tables subject to retention and the indexed column that dates each row. Devices and their
/// addresses go when last seen before the cutoff: the store keeps no identifier longer than
/// the records that justify it.
const TABLES: &[(&str, &str)] = &[
    ("dns", "ts"),
    ("http", "ts"),
    ("tls", "ts"),
    ("dhcp", "ts"),
    ("flows", "ts"),
    ("alerts", "ts"),
    ("capture_stats", "ts"),
    ("device_ips", "last_seen"),
    ("devices", "last_seen"),
];

/// What one [`step`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepResult {
    /// Rows deleted over all tables.
    pub deleted: u64,
    /// DELETE statements that removed at least one row.
    pub chunks: u64,
    /// True when some table filled a whole chunk, so more old rows may remain.
    pub more: bool,
}

/// The cutoff for `days` of retention at wall time `now`: rows dated before it go.
pub fn cutoff(now: Ts, days: u32) -> Ts {
    now.saturating_sub(i64::from(days).saturating_mul(86_400 * MICROS))
}

/// Deletes up to `chunk` rows older than `cutoff` from each table.
pub fn step(conn: &Connection, cutoff: Ts, chunk: usize) -> rusqlite::Result<StepResult> {
    let mut res = StepResult::default();
    let limit = sql_u64(chunk as u64);
    for (table, col) in TABLES {
        // Table and column names come from the constant list above, never from input.
        let sql = format!(
            "DELETE FROM {table} WHERE rowid IN \
             (SELECT rowid FROM {table} WHERE {col} < ?1 LIMIT ?2)"
        );
        let n = conn.prepare_cached(&sql)?.execute(params![cutoff, limit])?;
        if n > 0 {
            res.deleted = res.deleted.saturating_add(n as u64);
            res.chunks += 1;
        }
        if n >= chunk {
            res.more = true;
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_is_days_back_and_saturates() {
        assert_eq!(cutoff(100 * 86_400 * MICROS, 30), 70 * 86_400 * MICROS);
        assert_eq!(cutoff(i64::MIN + 5, u32::MAX), i64::MIN);
    }
}
