//! Shared fixtures: records built from the verification corpus, and small store helpers.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use phonehome::event::*;
use phonehome::store::{self, query, Filter, Kind, Writer, WriterConfig};
use serde_json::Value;

pub const CORPUS: &str = "/work/shared/corpus/expected";
pub const PHONE: &str = "02:1a:2b:3c:4d:5e";
pub const LAPTOP: &str = "00:0b:82:01:fc:42";

pub fn case(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{CORPUS}/{name}.json")).expect("corpus case");
    serde_json::from_str(&text).expect("corpus json")
}

pub fn us(v: &Value) -> Ts {
    (v.as_f64().expect("ts") * 1e6).round() as Ts
}
pub fn ip(v: &Value) -> IpAddr {
    v.as_str().expect("ip").parse().expect("ip")
}
pub fn port(v: &Value) -> u16 {
    v.as_u64().expect("port") as u16
}
pub fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}
pub fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(s).collect())
        .unwrap_or_default()
}
pub fn mac(m: &str) -> MacAddr {
    MacAddr::parse(m).expect("mac")
}

/// DNS queries of tls13-curl-with-dns (A and AAAA for enabled.tls13.com, both NOERROR).
pub fn corpus_dns() -> Vec<DnsRecord> {
    let c = case("tls13-curl-with-dns");
    c["dns_queries"]
        .as_array()
        .expect("dns")
        .iter()
        .map(|q| DnsRecord {
            ts: us(&q["ts"]),
            device_mac: Some(mac(PHONE)),
            client_ip: ip(&q["client"]),
            client_port: port(&q["client_port"]),
            server_ip: ip(&q["server"]),
            server_port: port(&q["server_port"]),
            transport: Transport::Udp,
            protocol: DnsProtocol::Dns,
            trans_id: q["trans_id"].as_u64().expect("id") as u16,
            opcode: 0,
            qname: s(&q["qname"]).expect("qname"),
            qtype: if q["qtype"] == "A" { 1 } else { 28 },
            rcode: Some(0),
            answers: strs(&q["answers"]),
            response_only: false,
        })
        .collect()
}

pub fn corpus_tls() -> TlsRecord {
    let c = case("tls13-curl-with-dns");
    let h = &c["tls_client_hellos"][0];
    let hex = |v: &Value| {
        u16::from_str_radix(v.as_str().expect("hex").trim_start_matches("0x"), 16).expect("hex")
    };
    TlsRecord {
        ts: us(&h["ts"]),
        device_mac: Some(mac(PHONE)),
        client_ip: ip(&h["client"]),
        client_port: port(&h["client_port"]),
        server_ip: ip(&h["server"]),
        server_port: port(&h["server_port"]),
        transport: Transport::Tcp,
        sni: s(&h["sni"]),
        alpn: strs(&h["alpn"]),
        version: hex(&h["handshake_version"]),
        supported_versions: h["supported_versions"]
            .as_array()
            .expect("sv")
            .iter()
            .map(hex)
            .collect(),
        ja3: s(&h["ja3"]).expect("ja3"),
        ja3_string: s(&h["ja3_string"]).expect("ja3s"),
        ja4: s(&h["ja4"]).expect("ja4"),
        ja4_r: s(&h["ja4_r"]).expect("ja4r"),
        quic_version: None,
    }
}

pub fn corpus_flow() -> FlowRecord {
    let c = case("tls13-curl-with-dns");
    let f = &c["flows"][1];
    FlowRecord {
        ts: us(&f["first_ts"]),
        last_ts: us(&f["last_ts"]),
        device_mac: Some(mac(PHONE)),
        transport: Transport::Tcp,
        client_ip: ip(&f["client"]),
        client_port: port(&f["client_port"]),
        server_ip: ip(&f["server"]),
        server_port: port(&f["server_port"]),
        bytes_up: 4000,
        bytes_down: f["bytes"].as_u64().expect("bytes") - 4000,
        packets_up: 15,
        packets_down: f["packets"].as_u64().expect("packets") - 15,
        domain: Some("enabled.tls13.com".into()),
        country: Some("US".into()),
        asn: Some(13335),
        as_org: Some("CLOUDFLARENET".into()),
        tcp_state: TcpState::Closed,
        end: FlowEnd::Closed,
    }
}

pub fn corpus_http() -> HttpRecord {
    let c = case("http-get-basic");
    let h = &c["http_requests"][0];
    HttpRecord {
        ts: us(&h["ts"]),
        device_mac: None,
        client_ip: ip(&h["client"]),
        client_port: port(&h["client_port"]),
        server_ip: ip(&h["server"]),
        server_port: port(&h["server_port"]),
        method: s(&h["method"]).expect("method"),
        host: s(&h["host"]),
        uri: s(&h["uri"]).expect("uri"),
        version: s(&h["version"]).expect("version"),
        user_agent: s(&h["user_agent"]),
        referrer: None,
        content_type: None,
        content_encoding: None,
        auth_scheme: None,
        cookie_present: false,
        content_length: None,
        chunked: false,
        body: Vec::new(),
        head: Vec::new(),
    }
}

/// The DORA exchange of dhcp-wireshark-dora, client 00:0b:82:01:fc:42.
pub fn corpus_dhcp() -> Vec<DhcpRecord> {
    let c = case("dhcp-wireshark-dora");
    let types = ["", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK"];
    let opt_ip = |v: &Value| v.as_str().map(|a| a.parse().expect("ip"));
    c["dhcp_messages"]
        .as_array()
        .expect("dhcp")
        .iter()
        .map(|m| DhcpRecord {
            ts: us(&m["ts"]),
            device_mac: Some(mac(m["client_mac"].as_str().expect("chaddr"))),
            src_ip: ip(&m["src"]),
            dst_ip: ip(&m["dst"]),
            op: if m["op"] == "BOOTREQUEST" { 1 } else { 2 },
            xid: u32::from_str_radix(&m["xid"].as_str().expect("xid")[2..], 16).expect("xid"),
            client_mac: mac(m["client_mac"].as_str().expect("chaddr")),
            msg_type: types
                .iter()
                .position(|t| m["msg_type"] == *t)
                .map(|p| p as u8),
            ciaddr: None,
            yiaddr: opt_ip(&m["yiaddr"]),
            hostname: None,
            vendor_class: None,
            param_list: m["param_list"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_u64().expect("p") as u8).collect())
                .unwrap_or_default(),
            requested_ip: opt_ip(&m["requested_ip"]),
            server_id: opt_ip(&m["server_id"]),
            client_id: None,
            options_present: m["options_present"]
                .as_array()
                .expect("opts")
                .iter()
                .map(|v| v.as_u64().expect("o") as u8)
                .collect(),
        })
        .collect()
}

pub fn sighting(
    ts: Ts,
    m: &str,
    hostname: Option<&str>,
    vendor: Option<&str>,
    addr: Option<&str>,
) -> Event {
    Event::Device(DeviceSighting {
        ts,
        mac: mac(m),
        vendor: vendor.map(str::to_string),
        randomized: mac(m).is_local(),
        hostname: hostname.map(str::to_string),
        ip: addr.map(|a| a.parse().expect("ip")),
        identity: Default::default(),
    })
}

pub fn all_events() -> Vec<Event> {
    let mut evs: Vec<Event> = corpus_dns().into_iter().map(Event::Dns).collect();
    evs.push(Event::Tls(corpus_tls()));
    evs.push(Event::Flow(corpus_flow()));
    evs.push(Event::Http(corpus_http()));
    evs.extend(corpus_dhcp().into_iter().map(Event::Dhcp));
    evs
}

pub fn quick() -> WriterConfig {
    WriterConfig {
        queue_capacity: 10_000,
        batch_max: 100,
        flush_interval: Duration::from_millis(20),
        retention_days: 0,
        max_db_bytes: 0,
    }
}

pub fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("phonehome.db");
    (dir, p)
}

pub fn write(path: &Path, evs: Vec<Event>) -> store::WriterStats {
    let w = Writer::spawn(path, quick()).expect("spawn");
    let sink = w.sink();
    for e in evs {
        assert!(sink.send(e));
    }
    w.finish().expect("finish")
}

pub fn list(path: &Path, kind: Kind, f: Filter) -> Vec<Value> {
    let conn = store::open_read(path).expect("open_read");
    query::rows(&conn, kind, &f)
        .expect("rows")
        .iter()
        .map(|r| serde_json::to_value(r).expect("json"))
        .collect()
}
