//! The queries behind `phonehome report`: per device, its identity, its alerts by severity,
//! its top destinations, the countries it contacted, its trackers and its cleartext leaks.
//!
//! Invariants: every list is capped by a named limit and says how many it left out, so a
//! hostile network (thousands of spoofed MACs, millions of flows) gives a bounded report; all
//! aggregation happens in SQL over indexed columns (`device_mac, ts`). MACs are stored whole
//! here; masking is the printer's job (`src/cli/report.rs`). An alert counts when its latest
//! repeat (`last_ts`) is within the window.

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use serde::Serialize;

use super::render::format_ts;
use super::{schema, StoreError};
use crate::event::{MacAddr, Ts};

/// Most devices in one report (the most alarming first): bounds a network of spoofed MACs.
pub const MAX_DEVICES: usize = 256;
/// Most alerts listed per device and severity; the rest are counted.
pub const MAX_ALERTS_LISTED: usize = 20;
/// Destinations listed per device, by bytes.
pub const TOP_DESTINATIONS: usize = 10;
/// Most countries listed per device (there are fewer than 250).
pub const MAX_COUNTRIES: usize = 250;
/// Most tracker domains listed per device.
pub const MAX_TRACKERS: usize = 50;
/// Most cleartext HTTP hosts listed per device.
pub const MAX_CLEARTEXT_HOSTS: usize = 20;

/// Alert kinds that are a leak in clear text.
const LEAK_KINDS: &str = "('pii_leak', 'cleartext_credentials')";

/// What the report covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only what happened at or after this time.
    pub since: Option<Ts>,
    /// Only this device.
    pub device: Option<MacAddr>,
}

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// Start of the window (RFC 3339), or null for everything on record.
    pub since: Option<String>,
    /// The devices, most alarming first (critical, warn, then most recently seen).
    pub devices: Vec<DeviceReport>,
    /// Devices left out beyond [`MAX_DEVICES`].
    pub devices_not_shown: u64,
    /// Alerts that name no device (e.g. raised before the device was known).
    pub unattributed: AlertSummary,
}

/// One device's part of the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeviceReport {
    /// MAC address, lowercase colon form (the printer masks it).
    pub mac: String,
    /// Name the user gave it (`devices name`).
    pub name: Option<String>,
    /// DHCP hostname.
    pub hostname: Option<String>,
    /// Vendor from the IEEE registry.
    pub vendor: Option<String>,
    /// Locally administered (randomised) MAC.
    pub randomized: bool,
    /// First and last time seen (RFC 3339).
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Its alerts by severity.
    pub alerts: AlertSummary,
    /// Destinations by bytes exchanged, at most [`TOP_DESTINATIONS`].
    pub top_destinations: Vec<Destination>,
    /// Countries contacted, by bytes.
    pub countries: Vec<Country>,
    /// Tracker domains contacted (from `tracker` alerts).
    pub trackers: Vec<String>,
    /// `pii_leak` and `cleartext_credentials` alerts.
    pub leaks: Vec<AlertLine>,
    /// Hosts it sent cleartext HTTP requests to, with the request count.
    pub cleartext_http: Vec<HostCount>,
}

/// Alerts grouped by severity, each list capped at [`MAX_ALERTS_LISTED`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertSummary {
    pub critical: Vec<AlertLine>,
    pub warn: Vec<AlertLine>,
    pub info: Vec<AlertLine>,
    /// Alerts per severity, listed or not.
    pub counts: SeverityCounts,
}

/// Number of alerts per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub critical: u64,
    pub warn: u64,
    pub info: u64,
}

/// One alert as the report shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AlertLine {
    pub id: i64,
    /// First occurrence (RFC 3339).
    pub ts: Option<String>,
    pub severity: String,
    pub kind: String,
    /// The sentence for people (identifiers in it are already masked by the detectors).
    pub summary: String,
    /// Occurrences merged into it.
    pub count: u64,
    pub acknowledged: bool,
}

/// A destination of one device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// The domain that led there, else the server address.
    pub destination: String,
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub flows: u64,
}

/// A country a device contacted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Country {
    /// ISO 3166 alpha-2 code.
    pub country: String,
    pub bytes: u64,
    pub flows: u64,
}

/// A host and how many requests went to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostCount {
    pub host: String,
    pub requests: u64,
}

/// Builds the report.
pub fn report(conn: &Connection, filter: &ReportFilter) -> Result<Report, StoreError> {
    let path = conn.path().unwrap_or("").to_string();
    let err = |e| schema::sqlite(Path::new(&path), e);
    let since = filter.since.unwrap_or(i64::MIN);
    let (macs, total) = devices(conn, filter, since).map_err(err)?;
    let mut out = Report {
        since: filter.since.and_then(format_ts),
        devices_not_shown: total.saturating_sub(macs.len() as u64),
        ..Report::default()
    };
    for mac in macs {
        out.devices.push(device(conn, &mac, since).map_err(err)?);
    }
    if filter.device.is_none() {
        out.unattributed = alert_summary(conn, None, since).map_err(err)?;
    }
    Ok(out)
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The MACs in the report, most alarming first, and how many matched in all.
fn devices(
    conn: &Connection,
    filter: &ReportFilter,
    since: Ts,
) -> rusqlite::Result<(Vec<String>, u64)> {
    // A device is in the window when it was seen, or alerted about, since the start.
    let mut cond = String::from(
        "(d.last_seen >= ?1 OR EXISTS (SELECT 1 FROM alerts a WHERE a.device_mac = d.mac \
         AND COALESCE(a.last_ts, a.ts) >= ?1))",
    );
    let mut params = vec![SqlValue::Integer(since)];
    if let Some(mac) = filter.device {
        cond.push_str(" AND d.mac = ?2");
        params.push(SqlValue::Text(mac.to_string()));
    }
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM devices d WHERE {cond}"),
        params_from_iter(params.iter()),
        |r| r.get(0),
    )?;
    let sql = format!(
        "SELECT d.mac FROM devices d WHERE {cond} ORDER BY \
         (SELECT COUNT(*) FROM alerts a WHERE a.device_mac = d.mac AND a.severity = 'critical' \
          AND COALESCE(a.last_ts, a.ts) >= ?1) DESC, \
         (SELECT COUNT(*) FROM alerts a WHERE a.device_mac = d.mac AND a.severity = 'warn' \
          AND COALESCE(a.last_ts, a.ts) >= ?1) DESC, \
         d.last_seen DESC, d.mac LIMIT {MAX_DEVICES}"
    );
    let mut st = conn.prepare(&sql)?;
    let macs = st
        .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((macs, u(total)))
}

fn device(conn: &Connection, mac: &str, since: Ts) -> rusqlite::Result<DeviceReport> {
    let mut d = conn.query_row(
        "SELECT mac, name, hostname, vendor, randomized, first_seen, last_seen \
         FROM devices WHERE mac = ?1",
        [mac],
        |r| {
            Ok(DeviceReport {
                mac: r.get(0)?,
                name: r.get(1).ok(),
                hostname: r.get(2).ok(),
                vendor: r.get(3).ok(),
                randomized: r.get::<_, i64>(4).unwrap_or(0) != 0,
                first_seen: r.get::<_, i64>(5).ok().and_then(format_ts),
                last_seen: r.get::<_, i64>(6).ok().and_then(format_ts),
                ..DeviceReport::default()
            })
        },
    )?;
    d.alerts = alert_summary(conn, Some(mac), since)?;
    d.top_destinations = destinations(conn, mac, since)?;
    d.countries = countries(conn, mac, since)?;
    let mut st = conn.prepare(&format!(
        "SELECT domain FROM alerts WHERE device_mac = ?1 AND kind = 'tracker' \
         AND COALESCE(last_ts, ts) >= ?2 AND domain IS NOT NULL \
         GROUP BY domain ORDER BY SUM(count) DESC, domain LIMIT {MAX_TRACKERS}"
    ))?;
    d.trackers = st
        .query_map(rusqlite::params![mac, since], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    d.leaks = alert_lines(
        conn,
        &format!("kind IN {LEAK_KINDS}"),
        Some(mac),
        since,
        MAX_ALERTS_LISTED,
    )?;
    let mut st = conn.prepare(&format!(
        "SELECT COALESCE(host, server_ip), COUNT(*) FROM http WHERE device_mac = ?1 \
         AND ts >= ?2 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {MAX_CLEARTEXT_HOSTS}"
    ))?;
    d.cleartext_http = st
        .query_map(rusqlite::params![mac, since], |r| {
            Ok(HostCount {
                host: r.get(0)?,
                requests: u(r.get(1)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(d)
}

/// Alerts of `mac` (None: alerts naming no device) by severity.
fn alert_summary(
    conn: &Connection,
    mac: Option<&str>,
    since: Ts,
) -> rusqlite::Result<AlertSummary> {
    let mut s = AlertSummary::default();
    for (sev, list, count) in [
        ("critical", &mut s.critical, &mut s.counts.critical),
        ("warn", &mut s.warn, &mut s.counts.warn),
        ("info", &mut s.info, &mut s.counts.info),
    ] {
        let cond = format!("severity = '{sev}'");
        *list = alert_lines(conn, &cond, mac, since, MAX_ALERTS_LISTED)?;
        let n: i64 = conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM alerts WHERE {cond} AND device_mac IS ?1 \
                 AND COALESCE(last_ts, ts) >= ?2"
            ),
            rusqlite::params![mac, since],
            |r| r.get(0),
        )?;
        *count = u(n);
    }
    Ok(s)
}

/// At most `limit` alerts matching `cond` (SQL over our own constants), oldest first.
fn alert_lines(
    conn: &Connection,
    cond: &str,
    mac: Option<&str>,
    since: Ts,
    limit: usize,
) -> rusqlite::Result<Vec<AlertLine>> {
    let mut st = conn.prepare(&format!(
        "SELECT id, ts, severity, kind, summary, count, acknowledged_at FROM alerts \
         WHERE {cond} AND device_mac IS ?1 AND COALESCE(last_ts, ts) >= ?2 \
         ORDER BY ts, id LIMIT {limit}"
    ))?;
    let rows = st.query_map(rusqlite::params![mac, since], |r| {
        Ok(AlertLine {
            id: r.get(0)?,
            ts: r.get::<_, i64>(1).ok().and_then(format_ts),
            severity: r.get(2).unwrap_or_default(),
            kind: r.get(3).unwrap_or_default(),
            summary: r.get(4).unwrap_or_default(),
            count: u(r.get(5).unwrap_or(1)),
            acknowledged: r.get::<_, Option<i64>>(6).ok().flatten().is_some(),
        })
    })?;
    rows.collect()
}

fn destinations(conn: &Connection, mac: &str, since: Ts) -> rusqlite::Result<Vec<Destination>> {
    let mut st = conn.prepare(&format!(
        "SELECT COALESCE(domain, server_ip), MAX(country), MAX(asn), MAX(as_org), \
         SUM(bytes_up), SUM(bytes_down), COUNT(*) FROM flows \
         WHERE device_mac = ?1 AND ts >= ?2 GROUP BY 1 \
         ORDER BY SUM(bytes_up) + SUM(bytes_down) DESC, 1 LIMIT {TOP_DESTINATIONS}"
    ))?;
    let rows = st.query_map(rusqlite::params![mac, since], |r| {
        Ok(Destination {
            destination: r.get(0)?,
            country: r.get(1).ok(),
            asn: r.get::<_, i64>(2).ok().and_then(|a| u32::try_from(a).ok()),
            as_org: r.get(3).ok(),
            bytes_up: u(r.get(4).unwrap_or(0)),
            bytes_down: u(r.get(5).unwrap_or(0)),
            flows: u(r.get(6)?),
        })
    })?;
    rows.collect()
}

fn countries(conn: &Connection, mac: &str, since: Ts) -> rusqlite::Result<Vec<Country>> {
    let mut st = conn.prepare(&format!(
        "SELECT country, SUM(bytes_up) + SUM(bytes_down), COUNT(*) FROM flows \
         WHERE device_mac = ?1 AND ts >= ?2 AND country IS NOT NULL GROUP BY country \
         ORDER BY 2 DESC, country LIMIT {MAX_COUNTRIES}"
    ))?;
    let rows = st.query_map(rusqlite::params![mac, since], |r| {
        Ok(Country {
            country: r.get(0)?,
            bytes: u(r.get(1).unwrap_or(0)),
            flows: u(r.get(2)?),
        })
    })?;
    rows.collect()
}
