//! Filling [`DisplayData`] from the store: `devices` (clients, names), `capture_stats`
//! (uptime, packets/s, drops), `alerts` (latest, unacknowledged, leaks, trackers) and
//! `flows` (per-device counts and countries). Read-only; every query is bounded by an index
//! and a LIMIT, so a page refresh costs the same on a month-old database.

use rusqlite::{params, Connection};

use super::{AlertLine, DeviceLine, DisplayData, MAX_ALERTS, MAX_DEVICES};
use crate::event::{Ts, MICROS};

/// A device counts as a connected client when it was seen this recently (µs).
pub const CLIENT_WINDOW: Ts = 5 * 60 * MICROS;
/// Capture counts as down when its latest snapshot is older than this (µs).
pub const STATS_STALE: Ts = 2 * 60 * MICROS;
/// Snapshots read back to find the start of the current run: bounds the uptime query on a
/// database holding months of snapshots (at one a minute, a week is ~10 k).
const MAX_STATS_SCAN: i64 = 20_000;
/// Country codes kept per device: more would not fit the row anyway.
const MAX_COUNTRIES: i64 = 8;
/// Alert kinds that count as a leak on page 3.
const LEAK_KINDS: &str = "('pii_leak', 'cleartext_credentials')";
/// The name shown for a device: the user's name, its label (identity), its DHCP hostname, its
/// vendor, its MAC.
const DEVICE_NAME: &str = "COALESCE(d.name, d.label, d.hostname, d.vendor, d.mac)";

/// Reads what the pages show at time `now` (µs). SSID, passphrase and SSH address come from
/// the configuration, not the store: they are left empty for the caller to fill.
pub fn display_data(conn: &Connection, now: Ts) -> rusqlite::Result<DisplayData> {
    let mut data = DisplayData {
        clients: conn
            .query_row(
                "SELECT count(*) FROM devices WHERE last_seen >= ?1",
                [now.saturating_sub(CLIENT_WINDOW)],
                |r| r.get::<_, i64>(0),
            )?
            .max(0) as u64,
        unacknowledged: conn
            .query_row(
                "SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )?
            .max(0) as u64,
        ..DisplayData::default()
    };
    capture(conn, now, &mut data)?;
    data.alerts = latest_alerts(conn, now)?;
    data.devices = devices(conn)?;
    Ok(data)
}

/// Uptime, packets/s and drops from the current run's snapshots: the newest rows of the
/// newest source whose packet counter never decreased (a restart resets it).
fn capture(conn: &Connection, now: Ts, data: &mut DisplayData) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT ts, source, packets_seen, kernel_drops + queue_drops + store_drops \
         FROM capture_stats ORDER BY ts DESC, id DESC LIMIT ?1",
    )?;
    let mut rows = stmt.query([MAX_STATS_SCAN])?;
    let Some(first) = rows.next()? else {
        return Ok(());
    };
    let (last_ts, source): (Ts, String) = (first.get(0)?, first.get(1)?);
    let last_packets: i64 = first.get(2)?;
    data.drops = u64::try_from(first.get::<_, i64>(3)?).unwrap_or(0);
    let (mut start, mut prev) = (last_ts, None);
    let mut packets = last_packets;
    while let Some(r) = rows.next()? {
        let (ts, src, p): (Ts, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if src != source || p > packets {
            break;
        }
        if prev.is_none() && ts < last_ts {
            prev = Some((ts, p));
        }
        start = ts;
        packets = p;
    }
    if now.saturating_sub(last_ts) > STATS_STALE {
        return Ok(()); // capture down: no uptime, no rate
    }
    data.uptime_secs = u64::try_from(now.saturating_sub(start) / MICROS).ok();
    data.packets_per_sec = prev.and_then(|(ts, p)| {
        let dt = last_ts.checked_sub(ts)?;
        let dp = i128::from(last_packets.checked_sub(p)?);
        u64::try_from(dp * i128::from(MICROS) / i128::from(dt.max(1))).ok()
    });
    Ok(())
}

/// The newest alerts (by their latest repeat), at most [`MAX_ALERTS`].
fn latest_alerts(conn: &Connection, now: Ts) -> rusqlite::Result<Vec<AlertLine>> {
    let sql = format!(
        "SELECT COALESCE(a.last_ts, a.ts) AS t, a.kind, \
                COALESCE(NULLIF(a.destination, ''), a.domain, a.server_ip, ''), a.country, \
                COALESCE({DEVICE_NAME}, a.device_mac, a.client_ip, '?') \
         FROM alerts a LEFT JOIN devices d ON d.mac = a.device_mac \
         ORDER BY t DESC, a.id DESC LIMIT ?1"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([MAX_ALERTS as i64], |r| {
        let ts: Ts = r.get(0)?;
        Ok(AlertLine {
            age_secs: u64::try_from(now.saturating_sub(ts) / MICROS).unwrap_or(0),
            kind: r.get(1)?,
            destination: r.get(2)?,
            country: r.get(3)?,
            device: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// The most recently seen devices with their counts, at most [`MAX_DEVICES`].
fn devices(conn: &Connection) -> rusqlite::Result<Vec<DeviceLine>> {
    let sql = format!(
        "SELECT d.mac, {DEVICE_NAME}, \
           (SELECT count(*) FROM flows f WHERE f.device_mac = d.mac), \
           (SELECT count(*) FROM alerts a WHERE a.device_mac = d.mac AND a.kind IN {LEAK_KINDS}), \
           (SELECT count(DISTINCT COALESCE(NULLIF(a.destination, ''), a.domain, a.server_ip)) \
              FROM alerts a WHERE a.device_mac = d.mac AND a.kind = 'tracker') \
         FROM devices d ORDER BY d.last_seen DESC, d.mac LIMIT ?1"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut countries = conn.prepare(
        "SELECT country FROM flows WHERE device_mac = ?1 AND country IS NOT NULL \
         GROUP BY country ORDER BY count(*) DESC, country LIMIT ?2",
    )?;
    let mut out = Vec::new();
    let mut rows = stmt.query([MAX_DEVICES as i64])?;
    while let Some(r) = rows.next()? {
        let mac: String = r.get(0)?;
        let count = |i| r.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
        out.push(DeviceLine {
            name: r.get(1)?,
            flows: count(2)?,
            leaks: count(3)?,
            trackers: count(4)?,
            countries: countries
                .query_map(params![mac, MAX_COUNTRIES], |c| c.get(0))?
                .collect::<rusqlite::Result<_>>()?,
        });
    }
    Ok(out)
}
