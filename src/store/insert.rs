//! Row writers: one INSERT (or upsert) per [`Event`] and per [`CaptureStats`] snapshot.
//!
//! Statements go through `prepare_cached`, so a batch compiles each statement once. Values are
//! stored as [`super::schema`] describes: DNS names lowercased in `qname` with the wire case
//! kept in `qname_wire`, lists as JSON, unsigned counters saturated into i64.

use rusqlite::{params, Connection};

use super::{sql_u64, CaptureStats};
use crate::event::{
    Alert, DeviceSighting, DhcpRecord, DnsRecord, Event, FlowRecord, HttpRecord, MacAddr, Severity,
    TlsRecord, Ts, MICROS,
};

/// Alerts of the same kind, device, destination and key within this long after the first one
/// (and not yet acknowledged) are one alert with a count: a phone that leaks its IMEI every 30 s
/// is one alert, not 120 an hour.
pub const ALERT_MERGE_WINDOW: Ts = 3600 * MICROS;

/// Writes one event. Runs inside the caller's transaction.
pub fn event(conn: &Connection, ev: &Event) -> rusqlite::Result<()> {
    match ev {
        Event::Dns(r) => dns(conn, r),
        Event::Http(r) => http(conn, r),
        Event::Tls(r) => tls(conn, r),
        Event::Dhcp(r) => dhcp(conn, r),
        Event::Flow(r) => flow(conn, r),
        Event::Device(r) => device(conn, r),
        Event::Alert(r) => alert(conn, r),
        // Detector input only, or files rather than rows: nothing to insert.
        Event::Payload(_) | Event::FlowFrames(_) | Event::Evidence(_) => Ok(()),
    }
}

fn mac(m: Option<MacAddr>) -> Option<String> {
    m.map(|m| m.to_string())
}

/// JSON text of a list; serialising strings and integers cannot fail, "[]" is a safe fallback.
fn json_list<T: serde::Serialize>(v: &[T]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn dns(conn: &Connection, r: &DnsRecord) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO dns (ts, device_mac, client_ip, client_port, server_ip, server_port, \
         transport, protocol, trans_id, opcode, qname, qname_wire, qtype, rcode, answers, \
         response_only) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
    )?;
    st.execute(params![
        r.ts,
        mac(r.device_mac),
        r.client_ip.to_string(),
        r.client_port,
        r.server_ip.to_string(),
        r.server_port,
        r.transport.as_str(),
        r.protocol.as_str(),
        r.trans_id,
        r.opcode,
        r.qname.to_ascii_lowercase(),
        r.qname,
        r.qtype,
        r.rcode,
        json_list(&r.answers),
        r.response_only,
    ])?;
    Ok(())
}

fn http(conn: &Connection, r: &HttpRecord) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO http (ts, device_mac, client_ip, client_port, server_ip, server_port, \
         method, host, uri, version, user_agent, referrer, content_type, content_encoding, \
         auth_scheme, cookie_present, content_length, chunked) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)",
    )?;
    st.execute(params![
        r.ts,
        mac(r.device_mac),
        r.client_ip.to_string(),
        r.client_port,
        r.server_ip.to_string(),
        r.server_port,
        r.method,
        r.host,
        r.uri,
        r.version,
        r.user_agent,
        r.referrer,
        r.content_type,
        r.content_encoding,
        r.auth_scheme,
        r.cookie_present,
        r.content_length.map(sql_u64),
        r.chunked,
    ])?;
    Ok(())
}

fn tls(conn: &Connection, r: &TlsRecord) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO tls (ts, device_mac, client_ip, client_port, server_ip, server_port, \
         transport, sni, alpn, version, supported_versions, ja3, ja3_string, ja4, ja4_r, \
         quic_version) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
    )?;
    st.execute(params![
        r.ts,
        mac(r.device_mac),
        r.client_ip.to_string(),
        r.client_port,
        r.server_ip.to_string(),
        r.server_port,
        r.transport.as_str(),
        r.sni,
        json_list(&r.alpn),
        r.version,
        json_list(&r.supported_versions),
        r.ja3,
        r.ja3_string,
        r.ja4,
        r.ja4_r,
        r.quic_version,
    ])?;
    Ok(())
}

fn dhcp(conn: &Connection, r: &DhcpRecord) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO dhcp (ts, device_mac, client_mac, src_ip, dst_ip, op, xid, msg_type, \
         ciaddr, yiaddr, hostname, vendor_class, param_list, requested_ip, server_id, \
         client_id, options_present) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)",
    )?;
    st.execute(params![
        r.ts,
        mac(r.device_mac),
        r.client_mac.to_string(),
        r.src_ip.to_string(),
        r.dst_ip.to_string(),
        r.op,
        r.xid,
        r.msg_type,
        r.ciaddr.map(|a| a.to_string()),
        r.yiaddr.map(|a| a.to_string()),
        r.hostname,
        r.vendor_class,
        json_list(&r.param_list),
        r.requested_ip.map(|a| a.to_string()),
        r.server_id.map(|a| a.to_string()),
        r.client_id,
        json_list(&r.options_present),
    ])?;
    Ok(())
}

fn flow(conn: &Connection, r: &FlowRecord) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO flows (ts, last_ts, device_mac, transport, client_ip, client_port, \
         server_ip, server_port, bytes_up, bytes_down, packets_up, packets_down, domain, \
         tcp_state, end_reason, country, asn, as_org) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)",
    )?;
    st.execute(params![
        r.ts,
        r.last_ts,
        mac(r.device_mac),
        r.transport.as_str(),
        r.client_ip.to_string(),
        r.client_port,
        r.server_ip.to_string(),
        r.server_port,
        sql_u64(r.bytes_up),
        sql_u64(r.bytes_down),
        sql_u64(r.packets_up),
        sql_u64(r.packets_down),
        r.domain,
        r.tcp_state.as_str(),
        r.end.as_str(),
        r.country,
        r.asn,
        r.as_org,
    ])?;
    Ok(())
}

/// `col = ` the sighting's value when it is the newest and not null, else the stored one.
macro_rules! newest {
    ($col:literal) => {
        concat!(
            $col,
            " = CASE WHEN excluded.last_seen >= devices.last_seen THEN COALESCE(excluded.",
            $col,
            ", devices.",
            $col,
            ") ELSE COALESCE(devices.",
            $col,
            ", excluded.",
            $col,
            ") END, "
        )
    };
}

/// Upserts the device and, when the sighting carries one, its address. first_seen keeps the
/// minimum and last_seen the maximum; vendor, hostname and the identity fields keep the newest
/// non-null value (newest by sighting time, so late-arriving old sightings do not overwrite).
/// A device first stored with `same_as` (the MAC it had before) inherits that MAC's name;
/// a name already set is never replaced.
fn device(conn: &Connection, r: &DeviceSighting) -> rusqlite::Result<()> {
    let mac = r.mac.to_string();
    let mut st = conn.prepare_cached(concat!(
        "INSERT INTO devices (mac, vendor, randomized, hostname, first_seen, last_seen, \
         vendor_class, os, model, app, label, same_as, name) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
           (SELECT p.name FROM devices p WHERE p.mac = ?11)) \
         ON CONFLICT (mac) DO UPDATE SET ",
        newest!("vendor"),
        newest!("hostname"),
        newest!("vendor_class"),
        newest!("os"),
        newest!("model"),
        newest!("app"),
        newest!("label"),
        "same_as = COALESCE(devices.same_as, excluded.same_as), \
         name = COALESCE(devices.name, excluded.name), \
         randomized = excluded.randomized, \
         first_seen = MIN(devices.first_seen, excluded.first_seen), \
         last_seen = MAX(devices.last_seen, excluded.last_seen)",
    ))?;
    let id = &r.identity;
    st.execute(params![
        mac,
        r.vendor,
        r.randomized,
        r.hostname,
        r.ts,
        id.vendor_class,
        id.os,
        id.model,
        id.app,
        id.label,
        id.same_as.map(|m| m.to_string()),
    ])?;
    if let Some(ip) = r.ip {
        let mut st = conn.prepare_cached(
            "INSERT INTO device_ips (mac, ip, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3) \
             ON CONFLICT (mac, ip) DO UPDATE SET \
               first_seen = MIN(device_ips.first_seen, excluded.first_seen), \
               last_seen = MAX(device_ips.last_seen, excluded.last_seen)",
        )?;
        st.execute(params![mac, ip.to_string(), r.ts])?;
    }
    Ok(())
}

/// Writes one capture-counter snapshot; `store_drops` is the writer's own count of events
/// dropped at its full queue.
pub fn capture_stats(
    conn: &Connection,
    s: &CaptureStats,
    store_drops: u64,
) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO capture_stats (ts, source, packets_seen, bytes_seen, packets_decoded, \
         decode_errors, kernel_drops, queue_drops, store_drops, flows_created, flows_evicted) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
    )?;
    st.execute(params![
        s.ts,
        s.source,
        sql_u64(s.packets_seen),
        sql_u64(s.bytes_seen),
        sql_u64(s.packets_decoded),
        sql_u64(s.decode_errors),
        sql_u64(s.kernel_drops),
        sql_u64(s.queue_drops),
        sql_u64(store_drops),
        sql_u64(s.flows_created),
        sql_u64(s.flows_evicted),
    ])?;
    Ok(())
}

/// Merges `r` into an open alert of the same kind, device, destination and key from the last
/// [`ALERT_MERGE_WINDOW`] (count + 1, severity raised if higher), or inserts a new one.
fn alert(conn: &Connection, r: &Alert) -> rusqlite::Result<()> {
    let device = mac(r.device_mac);
    let destination = r
        .domain
        .clone()
        .or_else(|| r.server_ip.map(|ip| ip.to_string()))
        .unwrap_or_default();
    let mut merge = conn.prepare_cached(
        "UPDATE alerts SET count = count + 1, last_ts = max(coalesce(last_ts, ts), ?1), \
         severity = CASE WHEN ?2 = 'critical' OR severity = 'critical' THEN 'critical' \
                         WHEN ?2 = 'warn' OR severity = 'warn' THEN 'warn' ELSE 'info' END \
         WHERE id = (SELECT id FROM alerts WHERE kind = ?3 AND destination = ?4 \
                     AND dedup_key = ?5 AND device_mac IS ?6 AND acknowledged_at IS NULL \
                     AND ts >= ?7 AND ts <= ?1 ORDER BY ts DESC LIMIT 1)",
    )?;
    let merged = merge.execute(params![
        r.ts,
        r.severity.as_str(),
        r.kind.as_str(),
        destination,
        r.dedup_key,
        device,
        r.ts.saturating_sub(ALERT_MERGE_WINDOW),
    ])?;
    if merged > 0 {
        return Ok(());
    }
    let mut st = conn.prepare_cached(
        "INSERT INTO alerts (ts, severity, kind, device_mac, client_ip, server_ip, server_port, \
         proto, domain, country, asn, summary, detail, count, dedup_key, last_ts, destination) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,1,?14,?1,?15)",
    )?;
    st.execute(params![
        r.ts,
        r.severity.as_str(),
        r.kind.as_str(),
        device,
        r.client_ip.map(|i| i.to_string()),
        r.server_ip.map(|i| i.to_string()),
        r.server_port,
        r.proto,
        r.domain,
        r.country,
        r.asn,
        r.summary,
        r.detail.to_string(),
        r.dedup_key,
        destination,
    ])?;
    Ok(())
}

/// Acknowledges every open alert whose id is at most `up_to`, at time `at`; returns how many.
/// Alerts raised after the screen the user acknowledged was drawn have higher ids and stay
/// open.
pub fn acknowledge_up_to(conn: &Connection, up_to: i64, at: Ts) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE alerts SET acknowledged_at = ?2 WHERE acknowledged_at IS NULL AND id <= ?1",
    )?
    .execute(params![up_to, at])
}

/// Severity from its stored name (unknown names read as info).
pub fn severity_from_str(s: &str) -> Severity {
    match s {
        "critical" => Severity::Critical,
        "warn" => Severity::Warn,
        _ => Severity::Info,
    }
}
