//! Turns stored columns into the CLI's JSON values: the one place where the output contract
//! (field names, RFC 3339 timestamps, protocol names, hex renderings) is spelled out.
//!
//! Each record kind is a list of [`Field`]s: the output name, the SQL expression that reads
//! it, and a [`Conv`] that renders the SQLite value. Values that do not have the expected
//! SQLite type (a file edited by hand, a corrupt row) render as `null` rather than failing.

use rusqlite::types::ValueRef;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use time::macros::format_description;
use time::OffsetDateTime;

use super::Kind;
use crate::decode::{dhcp, dns};
use crate::event::Ts;

/// Most addresses listed per device (newest first): a device can rotate IPv6 privacy
/// addresses, and a hostile one can claim thousands.
pub const MAX_IPS_SHOWN: usize = 64;

/// How a stored value is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    /// Text as stored.
    Text,
    /// Integer as stored.
    Int,
    /// 0/1 as false/true.
    Bool,
    /// Microseconds → RFC 3339 UTC with microseconds.
    Ts,
    /// JSON text → the JSON value it holds.
    Json,
    /// Integer → `0x%04x` (TLS versions).
    Hex16,
    /// JSON list of integers → list of `0x%04x` strings (TLS supported_versions).
    Hex16List,
    /// Integer → `0x%08x` (DHCP xid).
    Hex32,
    /// DNS qtype number → mnemonic.
    QType,
    /// DNS rcode number → mnemonic.
    RCode,
    /// DHCP message type number → name.
    DhcpType,
}

/// One output field of a record kind.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Name in the JSON output.
    pub name: &'static str,
    /// SQL expression over the kind's table (aliased `t`).
    pub expr: &'static str,
    pub conv: Conv,
}

/// `device`: the name a record's or alert's device is shown under — the user's name, its
/// label, hostname or vendor (see `flow::identity`); null when the device is unknown.
const DEVICE_SHOWN: &str = "(SELECT COALESCE(d.name, d.label, d.hostname, d.vendor) \
     FROM devices d WHERE d.mac = t.device_mac)";

const fn f(name: &'static str, expr: &'static str, conv: Conv) -> Field {
    Field { name, expr, conv }
}

use Conv::*;

const DNS: &[Field] = &[
    f("ts", "ts", Ts),
    f("device_mac", "device_mac", Text),
    f("client_ip", "client_ip", Text),
    f("server_ip", "server_ip", Text),
    f("qname", "qname", Text),
    f("qtype", "qtype", QType),
    f("rcode", "rcode", RCode),
    f("answers", "answers", Json),
    f("qname_wire", "qname_wire", Text),
    f("client_port", "client_port", Int),
    f("server_port", "server_port", Int),
    f("transport", "transport", Text),
    f("protocol", "protocol", Text),
    f("trans_id", "trans_id", Int),
    f("device", DEVICE_SHOWN, Text),
];

const HTTP: &[Field] = &[
    f("ts", "ts", Ts),
    f("device_mac", "device_mac", Text),
    f("client_ip", "client_ip", Text),
    f("server_ip", "server_ip", Text),
    f("server_port", "server_port", Int),
    f("method", "method", Text),
    f("host", "host", Text),
    f("uri", "uri", Text),
    f("user_agent", "user_agent", Text),
    f("client_port", "client_port", Int),
    f("version", "version", Text),
    f("referrer", "referrer", Text),
    f("content_type", "content_type", Text),
    f("auth_scheme", "auth_scheme", Text),
    f("content_length", "content_length", Int),
    f("device", DEVICE_SHOWN, Text),
];

const TLS: &[Field] = &[
    f("ts", "ts", Ts),
    f("device_mac", "device_mac", Text),
    f("client_ip", "client_ip", Text),
    f("client_port", "client_port", Int),
    f("server_ip", "server_ip", Text),
    f("server_port", "server_port", Int),
    f("transport", "transport", Text),
    f("quic_version", "quic_version", Text),
    f("sni", "sni", Text),
    f("alpn", "alpn", Json),
    f("ja3", "ja3", Text),
    f("ja4", "ja4", Text),
    f("version", "version", Hex16),
    f("ja3_string", "ja3_string", Text),
    f("ja4_r", "ja4_r", Text),
    f("supported_versions", "supported_versions", Hex16List),
    f("device", DEVICE_SHOWN, Text),
];

const DHCP: &[Field] = &[
    f("ts", "ts", Ts),
    f("device_mac", "device_mac", Text),
    f("client_mac", "client_mac", Text),
    f("msg_type", "msg_type", DhcpType),
    f("hostname", "hostname", Text),
    f("vendor_class", "vendor_class", Text),
    f("param_list", "param_list", Json),
    f("requested_ip", "requested_ip", Text),
    f("xid", "xid", Hex32),
    f("src_ip", "src_ip", Text),
    f("dst_ip", "dst_ip", Text),
    f("server_id", "server_id", Text),
    f("yiaddr", "yiaddr", Text),
    f("device", DEVICE_SHOWN, Text),
];

const FLOWS: &[Field] = &[
    f("ts", "ts", Ts),
    f("last_ts", "last_ts", Ts),
    f("device_mac", "device_mac", Text),
    f("proto", "transport", Text),
    f("client_ip", "client_ip", Text),
    f("client_port", "client_port", Int),
    f("server_ip", "server_ip", Text),
    f("server_port", "server_port", Int),
    f("bytes_up", "bytes_up", Int),
    f("bytes_down", "bytes_down", Int),
    f("packets_up", "packets_up", Int),
    f("packets_down", "packets_down", Int),
    f("domain", "domain", Text),
    f("country", "country", Text),
    f("asn", "asn", Int),
    f("as_org", "as_org", Text),
    f("tcp_state", "tcp_state", Text),
    f("end", "end_reason", Text),
    f("device", DEVICE_SHOWN, Text),
];

const DEVICES: &[Field] = &[
    f("mac", "mac", Text),
    f("vendor", "vendor", Text),
    f("randomized", "randomized", Bool),
    f("hostname", "hostname", Text),
    // MAX_IPS_SHOWN, newest first, then listed oldest first.
    f(
        "ips",
        "(SELECT json_group_array(ip) FROM (SELECT ip FROM (SELECT ip, first_seen FROM \
         device_ips i WHERE i.mac = t.mac ORDER BY first_seen DESC, ip LIMIT 64) \
         ORDER BY first_seen, ip))",
        Json,
    ),
    f("first_seen", "first_seen", Ts),
    f("last_seen", "last_seen", Ts),
    f("name", "name", Text),
    f("label", "label", Text),
    f("os", "os", Text),
    f("model", "model", Text),
    f("app", "app", Text),
    f("vendor_class", "vendor_class", Text),
    f("same_as", "same_as", Text),
];

const ALERTS: &[Field] = &[
    f("id", "id", Int),
    f("ts", "ts", Ts),
    f("severity", "severity", Text),
    f("kind", "kind", Text),
    f("device_mac", "device_mac", Text),
    f("client_ip", "client_ip", Text),
    f("server_ip", "server_ip", Text),
    f("server_port", "server_port", Int),
    f("proto", "proto", Text),
    f("domain", "domain", Text),
    f("country", "country", Text),
    f("asn", "asn", Int),
    f("summary", "summary", Text),
    f("detail", "detail", Json),
    f("count", "count", Int),
    f("last_ts", "last_ts", Ts),
    f("acknowledged_at", "acknowledged_at", Ts),
    f("device", DEVICE_SHOWN, Text),
];

/// The output fields of `kind`, in output order.
pub fn fields(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::Dns => DNS,
        Kind::Http => HTTP,
        Kind::Tls => TLS,
        Kind::Dhcp => DHCP,
        Kind::Flows => FLOWS,
        Kind::Devices => DEVICES,
        Kind::Alerts => ALERTS,
    }
}

/// Renders one stored value.
pub fn value(conv: Conv, v: ValueRef<'_>) -> Value {
    let int = match v {
        ValueRef::Integer(i) => Some(i),
        _ => None,
    };
    let text = match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t)),
        _ => None,
    };
    let out = match conv {
        Text => text.map(|t| Value::String(t.into_owned())),
        Int => int.map(Value::from),
        Bool => int.map(|i| Value::Bool(i != 0)),
        Ts => int.and_then(format_ts).map(Value::String),
        Json => text.and_then(|t| serde_json::from_str(&t).ok()),
        Hex16 => int.map(|i| Value::String(format!("0x{:04x}", i))),
        Hex32 => int.map(|i| Value::String(format!("0x{:08x}", i))),
        Hex16List => text
            .and_then(|t| serde_json::from_str::<Vec<u16>>(&t).ok())
            .map(|l| {
                l.iter()
                    .map(|v| Value::String(format!("0x{v:04x}")))
                    .collect()
            }),
        QType => int
            .and_then(|i| u16::try_from(i).ok())
            .map(|i| Value::String(dns::qtype_name(i))),
        RCode => int
            .and_then(|i| u8::try_from(i).ok())
            .map(|i| Value::String(dns::rcode_name(i))),
        DhcpType => int
            .and_then(|i| u8::try_from(i).ok())
            .map(|i| Value::String(dhcp::msg_type_name(i))),
    };
    out.unwrap_or(Value::Null)
}

/// Formats microseconds since the epoch as `2024-05-01T12:00:00.123456Z`; None outside the
/// years 1..=9999 that RFC 3339 can express.
pub fn format_ts(ts: Ts) -> Option<String> {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts) * 1000).ok()?;
    if t.year() < 1 {
        return None;
    }
    t.format(&fmt).ok()
}

/// Serde helper: a [`Ts`] field as RFC 3339 text (null when out of range).
pub fn ser_ts<S: Serializer>(ts: &Ts, s: S) -> Result<S::Ok, S::Error> {
    match format_ts(*ts) {
        Some(t) => s.serialize_str(&t),
        None => s.serialize_none(),
    }
}

/// One output record: fields in contract order.
#[derive(Clone, Debug, PartialEq)]
pub struct Row(pub Vec<(&'static str, Value)>);

impl Row {
    /// The value of field `name`, if the record has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The fields as a JSON object (key order is lost: serde_json's map is sorted).
    pub fn to_map(&self) -> serde_json::Map<String, Value> {
        self.0
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_micros() {
        assert_eq!(
            format_ts(1_714_564_800_123_456).as_deref(),
            Some("2024-05-01T12:00:00.123456Z")
        );
        assert_eq!(format_ts(0).as_deref(), Some("1970-01-01T00:00:00.000000Z"));
        assert_eq!(
            format_ts(-1).as_deref(),
            Some("1969-12-31T23:59:59.999999Z")
        );
        // Outside what RFC 3339 can write: null, not a panic.
        assert_eq!(format_ts(i64::MAX), None);
        assert_eq!(format_ts(i64::MIN), None);
    }

    #[test]
    fn conversions_render_contract_values() {
        assert_eq!(value(Hex16, ValueRef::Integer(0x0303)), "0x0303");
        assert_eq!(value(Hex32, ValueRef::Integer(0x3d1d)), "0x00003d1d");
        assert_eq!(
            value(Hex16List, ValueRef::Text(b"[772,2570]")),
            serde_json::json!(["0x0304", "0x0a0a"])
        );
        assert_eq!(value(Bool, ValueRef::Integer(1)), true);
        // Wrong SQLite types (a hand-edited file) render as null.
        assert_eq!(value(Ts, ValueRef::Text(b"yesterday")), Value::Null);
        assert_eq!(value(Json, ValueRef::Text(b"[not json")), Value::Null);
        assert_eq!(value(QType, ValueRef::Integer(70_000)), Value::Null);
    }

    #[test]
    fn device_ip_cap_matches_the_sql() {
        let ips = DEVICES.iter().find(|f| f.name == "ips").map(|f| f.expr);
        assert!(ips.is_some_and(|e| e.contains(&format!("LIMIT {MAX_IPS_SHOWN})"))));
    }
}
