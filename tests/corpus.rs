//! Every capture of the shared verification corpus (`../shared/corpus`) through the real
//! pipeline, compared record by record with the peers' expected results (tshark, Zeek, FoxIO's
//! JA4 reference). See `../shared/corpus/README.md` for the schema and matching rules.
//!
//! Matching: each section is a multiset; a produced record matches an expected one on the
//! identifying fields (DNS: client, server, qname, qtype; HTTP: client, client_port, method,
//! host, uri; TLS and QUIC: client, client_port, server, server_port; DHCP: client_mac, xid,
//! msg_type),
//! then every other field our records carry and the expected record has is compared. DNS
//! qnames are compared exactly (case preserved). A produced record matching nothing must be
//! listed in `may_also_report` (or, for DNS responses without a captured query, in
//! `dns_responses_without_query`). Known, justified differences are in [`EXCEPTIONS`].
//!
//! QUIC: TLS records with transport `quic` are compared with `quic_initials`. Records do not
//! carry the QUIC version, so `quic_version` is checked from the long header of the flow's
//! first client datagram, read here with the same header parser.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use phonehome::capture::file::FileSource;
use phonehome::decode::{self as dec, dhcp, dns, quic, Net, Transport as L4};
use phonehome::event::{DhcpRecord, DnsRecord, Event, HttpRecord, TlsRecord, Transport};
use phonehome::pipeline::{Pipeline, PipelineConfig};
use serde_json::Value;

/// (case, section, why our result legitimately differs from the peer's).
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

fn corpus_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    p.join("index.json").exists().then_some(p)
}

#[derive(Default)]
struct Produced {
    dns: Vec<DnsRecord>,
    http: Vec<HttpRecord>,
    tls: Vec<TlsRecord>,
    dhcp: Vec<DhcpRecord>,
    /// QUIC version of the first long-header datagram of each UDP 4-tuple (as sent).
    quic_versions: BTreeMap<(String, u16, String, u16), u32>,
}

fn run_pipeline(path: &Path) -> (Produced, Option<String>) {
    let mut out = Produced::default();
    let mut pipe = Pipeline::new(PipelineConfig::default());
    let mut err = None;
    let mut versions = BTreeMap::new();
    let mut sink = |ev: Event| match ev {
        Event::Dns(r) => out.dns.push(r),
        Event::Http(r) => out.http.push(r),
        Event::Tls(r) => out.tls.push(r),
        Event::Dhcp(r) => out.dhcp.push(r),
        _ => {}
    };
    match FileSource::open(path) {
        Err(e) => err = Some(e.to_string()),
        Ok(mut src) => {
            while let Some(f) = src.next_frame() {
                match f {
                    Ok(f) => {
                        note_quic_version(f.link, f.data, &mut versions);
                        pipe.ingest(f.ts, f.link, f.data, &mut sink)
                    }
                    Err(e) => {
                        err = Some(e.to_string());
                        break;
                    }
                }
            }
        }
    }
    pipe.finish(&mut sink);
    out.quic_versions = versions;
    (out, err)
}

/// Records the QUIC version of a UDP datagram starting with a long header of a known version.
fn note_quic_version(
    link: dec::LinkType,
    data: &[u8],
    seen: &mut BTreeMap<(String, u16, String, u16), u32>,
) {
    let Ok(pkt) = dec::decode_frame(link, data) else {
        return;
    };
    let Net::Ip(ip) = pkt.net else { return };
    let L4::Udp(u) = ip.transport else { return };
    if let Ok(h) = quic::header::parse_long_header(u.payload) {
        let k = (
            ip.src.to_string(),
            u.src_port,
            ip.dst.to_string(),
            u.dst_port,
        );
        seen.entry(k).or_insert(h.wire_version);
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).map(|x| match x {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// A produced record rendered as the expected schema's fields.
fn dns_fields(r: &DnsRecord) -> Value {
    let mut m = serde_json::json!({
        "client": r.client_ip.to_string(), "client_port": r.client_port,
        "server": r.server_ip.to_string(), "server_port": r.server_port,
        "transport": r.transport.as_str(), "protocol": r.protocol.as_str(),
        "trans_id": r.trans_id, "qname": r.qname, "qtype": dns::qtype_name(r.qtype),
        "answers": r.answers,
    });
    if let Some(rc) = r.rcode {
        m["rcode"] = Value::String(dns::rcode_name(rc));
    }
    m
}

fn http_fields(r: &HttpRecord) -> Value {
    serde_json::json!({
        "client": r.client_ip.to_string(), "client_port": r.client_port,
        "server": r.server_ip.to_string(), "server_port": r.server_port,
        "method": r.method, "host": r.host, "uri": r.uri, "version": r.version,
        "user_agent": r.user_agent, "referrer": r.referrer, "content_type": r.content_type,
    })
}

fn tls_fields(r: &TlsRecord) -> Value {
    let hex4 = |v: &u16| format!("0x{v:04x}");
    serde_json::json!({
        "client": r.client_ip.to_string(), "client_port": r.client_port,
        "server": r.server_ip.to_string(), "server_port": r.server_port,
        "sni": r.sni, "alpn": r.alpn, "handshake_version": hex4(&r.version),
        "supported_versions": r.supported_versions.iter().map(hex4).collect::<Vec<_>>(),
        "ja3": r.ja3, "ja3_string": r.ja3_string, "ja4": r.ja4, "ja4_r": r.ja4_r,
    })
}

fn quic_fields(r: &TlsRecord, versions: &BTreeMap<(String, u16, String, u16), u32>) -> Value {
    let mut m = tls_fields(r);
    let k = (
        r.client_ip.to_string(),
        r.client_port,
        r.server_ip.to_string(),
        r.server_port,
    );
    if let Some(v) = versions.get(&k) {
        m["quic_version"] = Value::String(format!("0x{v:08x}"));
    }
    m
}

fn dhcp_fields(r: &DhcpRecord) -> Value {
    let mut m = serde_json::json!({
        "client_mac": r.client_mac.to_string(), "xid": format!("0x{:08x}", r.xid),
        "msg_type": r.msg_type.map(dhcp::msg_type_name),
        "hostname": r.hostname, "vendor_class": r.vendor_class,
        "param_list": r.param_list, "options_present": r.options_present,
    });
    for (k, v) in [
        ("requested_ip", r.requested_ip),
        ("server_id", r.server_id),
        ("yiaddr", r.yiaddr),
        ("ciaddr", r.ciaddr),
    ] {
        if let Some(a) = v {
            m[k] = Value::String(a.to_string());
        }
    }
    m
}

struct Section<'a> {
    name: &'a str,
    ident: &'a [&'a str],
    compare: &'a [&'a str],
}

const SECTIONS: &[Section<'static>] = &[
    Section {
        name: "dns_queries",
        ident: &["client", "server", "qname", "qtype"],
        compare: &[
            "client_port",
            "server_port",
            "transport",
            "protocol",
            "trans_id",
            "rcode",
            "answers",
        ],
    },
    Section {
        name: "http_requests",
        ident: &["client", "client_port", "method", "host", "uri"],
        compare: &[
            "server",
            "server_port",
            "version",
            "user_agent",
            "referrer",
            "content_type",
        ],
    },
    Section {
        name: "tls_client_hellos",
        ident: &["client", "client_port", "server", "server_port"],
        compare: &[
            "sni",
            "alpn",
            "handshake_version",
            "supported_versions",
            "ja3",
            "ja3_string",
            "ja4",
            "ja4_r",
        ],
    },
    Section {
        name: "quic_initials",
        ident: &["client", "client_port", "server", "server_port"],
        compare: &[
            "quic_version",
            "sni",
            "alpn",
            "supported_versions",
            "ja3",
            "ja3_string",
            "ja4",
            "ja4_r",
        ],
    },
    Section {
        name: "dhcp_messages",
        ident: &["client_mac", "xid", "msg_type"],
        compare: &[
            "hostname",
            "vendor_class",
            "param_list",
            "requested_ip",
            "server_id",
            "yiaddr",
            "ciaddr",
            "options_present",
        ],
    },
];

fn key(v: &Value, ident: &[&str]) -> Vec<Option<String>> {
    ident.iter().map(|k| s(v, k)).collect()
}

/// Compares one field; DNS answers only for the types the README says are comparable.
fn field_matches(
    section: &str,
    field: &str,
    exp: &Value,
    got: &Value,
    expected_rec: &Value,
) -> bool {
    if section == "dns_queries" && field == "answers" {
        let qt = s(expected_rec, "qtype").unwrap_or_default();
        if !matches!(qt.as_str(), "A" | "AAAA" | "CNAME" | "PTR") {
            return true;
        }
        // Zeek renders other record types as "TYPE data" (e.g. "RRSIG 5 cmu.edu") and
        // lower-cases names; we keep only server-naming types, case as on the wire.
        let norm = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str())
                .filter(|x| !x.contains(' '))
                .map(|x| x.to_ascii_lowercase())
                .collect()
        };
        let mut a = norm(exp);
        let mut b = norm(got);
        a.sort();
        b.sort();
        return a == b;
    }
    exp == got
}

#[derive(Default, Clone, Copy)]
struct Tally {
    expected: usize,
    found: usize,
    fields_checked: usize,
}

#[test]
fn corpus_matches_peer_results() {
    let Some(dir) = corpus_dir() else {
        println!("skipped: ../shared/corpus not present");
        return;
    };
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut ja4_checked = 0;
    for case in index.as_array().unwrap() {
        let name = case["case"].as_str().unwrap();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(case["expected"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        let (got, err) = run_pipeline(&dir.join(case["pcap"].as_str().unwrap()));
        let kinds: Vec<&str> = case["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|k| k.as_str())
            .collect();
        if let Some(e) = &err {
            if !kinds
                .iter()
                .any(|k| matches!(*k, "malformed" | "truncated" | "empty"))
            {
                failures.push(format!("{name}: read error on a well-formed capture: {e}"));
            }
        }
        let produced: BTreeMap<&str, Vec<Value>> = BTreeMap::from([
            (
                "dns_queries",
                got.dns
                    .iter()
                    .filter(|r| !r.response_only)
                    .map(dns_fields)
                    .collect(),
            ),
            ("http_requests", got.http.iter().map(http_fields).collect()),
            (
                "tls_client_hellos",
                got.tls
                    .iter()
                    .filter(|r| r.transport != Transport::Quic)
                    .map(tls_fields)
                    .collect(),
            ),
            (
                "quic_initials",
                got.tls
                    .iter()
                    .filter(|r| r.transport == Transport::Quic)
                    .map(|r| quic_fields(r, &got.quic_versions))
                    .collect(),
            ),
            ("dhcp_messages", got.dhcp.iter().map(dhcp_fields).collect()),
        ]);
        for sec in SECTIONS {
            if EXCEPTIONS
                .iter()
                .any(|(c, s, _)| *c == name && *s == sec.name)
            {
                continue;
            }
            let exp_recs = expected[sec.name].as_array().cloned().unwrap_or_default();
            let mut pool: Vec<Option<&Value>> = produced[sec.name].iter().map(Some).collect();
            let t = tallies.entry(sec.name).or_default();
            for e in &exp_recs {
                t.expected += 1;
                let k = key(e, sec.ident);
                // Among records with the same identity (e.g. one LLMNR query sent twice),
                // prefer one that agrees on every compared field.
                let same_key = |g: &&Value| key(g, sec.ident) == k;
                let agrees = |g: &&Value| {
                    sec.compare.iter().all(|f| match e.get(*f) {
                        None => true,
                        Some(ev) => {
                            field_matches(sec.name, f, ev, g.get(*f).unwrap_or(&Value::Null), e)
                        }
                    })
                };
                let pos = pool
                    .iter()
                    .position(|p| p.as_ref().is_some_and(|g| same_key(g) && agrees(g)))
                    .or_else(|| pool.iter().position(|p| p.as_ref().is_some_and(same_key)));
                let Some(slot) = pos.and_then(|i| pool.get_mut(i)) else {
                    failures.push(format!("{name}: {}: not produced: {}", sec.name, e));
                    continue;
                };
                let g = slot.take().unwrap();
                let mut ok = true;
                let zeek_http = sec.name == "http_requests"
                    && expected["fields_from"]["http_requests"] == "zeek";
                for f in sec.compare {
                    // Zeek's http.log `version` is overwritten by the response's version, so it
                    // is not the request's version we report; tshark's is.
                    if zeek_http && *f == "version" {
                        continue;
                    }
                    let Some(ev) = e.get(*f) else { continue };
                    let gv = g.get(*f).cloned().unwrap_or(Value::Null);
                    t.fields_checked += 1;
                    if !field_matches(sec.name, f, ev, &gv, e) {
                        ok = false;
                        failures.push(format!(
                            "{name}: {}: {:?}: field {f}: expected {ev}, got {gv}",
                            sec.name, k
                        ));
                    }
                    if *f == "ja4" {
                        ja4_checked += 1;
                    }
                }
                if ok {
                    t.found += 1;
                }
            }
            // Extra records must be ones a peer may also report.
            let may: Vec<Value> = expected["may_also_report"][sec.name]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| m["record"].clone())
                .collect();
            for g in pool.into_iter().flatten() {
                let k = key(g, sec.ident);
                if !may.iter().any(|m| key(m, sec.ident) == k) {
                    failures.push(format!("{name}: {}: unexpected record {g}", sec.name));
                }
            }
        }
    }
    println!("corpus results (expected records fully matched / expected):");
    for (k, t) in &tallies {
        println!(
            "  {k:18} {:4} / {:4}   ({} fields compared)",
            t.found, t.expected, t.fields_checked
        );
    }
    println!("  ja4 values compared: {ja4_checked}");
    for (c, s, why) in EXCEPTIONS {
        println!("  exception {c} {s}: {why}");
    }
    if !failures.is_empty() {
        for f in failures.iter().take(80) {
            println!("FAIL {f}");
        }
        panic!("{} corpus mismatches", failures.len());
    }
}
