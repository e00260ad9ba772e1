//! The integrated pipeline against ground truth on realistic traffic.
//!
//! `../shared/bench/gen_traffic.py` writes a deterministic capture of 100 phones behind an
//! access point (DHCP joins, DNS, TLS, QUIC, HTTP, VoIP, mDNS noise) and `<out>.truth.json`,
//! listing what it planted. We analyse the capture with the library pipeline and compare:
//! TLS-over-TCP SNIs, DNS query names, HTTP requests per kind, DHCP joins and renewals, the
//! client MACs with their hostnames, and which device each flow is attributed to.
//!
//! The generator needs python3 with scapy, dpkt and cryptography; without them the test prints
//! `skipped: …` and passes (CI may lack them).
//!
//! Every difference from the truth is one of the named [`Explained`] cases below, each checked
//! rather than tolerated:
//! - [`Explained::CaptureCut`]: the generator counts an item when it builds the item's first
//!   frame, and stops writing at a packet count, so items of sessions in flight at the end are
//!   counted but not (fully) written. Checked with a second capture of the same seed and
//!   [`LOOKAHEAD_FACTOR`] times the packets (asserted to start with the same bytes): per key,
//!   `ours(N) <= truth(N) <= ours(longer capture, recorded by end(N) + CUT_HORIZON)` — every
//!   item we miss shows up within [`CUT_HORIZON`] after the end, so it was cut, not lost.
//!   This explains the lead's 200k-packet `--size medium` numbers: 485 HTTP requests vs 492
//!   counted are 7 requests cut at the end; 2734 DNS records vs 2664 queries are the 70 mDNS
//!   noise queries below (`medium_capture_matches_its_ground_truth`, ignored: slow in debug).
//! - [`Explained::QuicSni`]: the truth's `sni` map counts QUIC Initials too, and phonehome does
//!   not decrypt QUIC yet (a later issue). Every QUIC session is preceded by a DNS lookup, so
//!   its UDP/443 flow carries the looked-up name as `domain`: per host,
//!   `sni = TLS ClientHellos over TCP + QUIC flows to that host`.
//! - [`Explained::MdnsNoise`]: the generator's mDNS noise queries (`*.local` service browsing)
//!   are not counted in `dns_queries`; they are reported by phonehome as `protocol = mdns` and
//!   compared separately (only the three service names the generator uses).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome::capture::file::FileSource;
use phonehome::event::{DnsProtocol, Event, MacAddr, Transport, Ts};
use phonehome::pipeline::{Pipeline, PipelineConfig};
use serde_json::Value;

/// Packets of the generated capture (~3.5 s of traffic, 119 TLS sessions, ~60 HTTP requests).
const PACKETS: usize = 20_000;
/// The look-ahead capture (same seed) has this many times the packets; it must reach
/// [`CUT_HORIZON`] past the end of the first (asserted).
const LOOKAHEAD_FACTOR: usize = 2;
/// Longest packet time between the generator counting an item and the frame that completes
/// its record: up to 0.8 s of think time between two requests of a keep-alive HTTP flow (the
/// next request is counted right after the previous response), plus a round trip (at most
/// 0.18 s × 1.3) and the request body.
const CUT_HORIZON: Ts = 1_500_000;

/// Why our records may legitimately differ from the generator's truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Explained {
    CaptureCut,
    QuicSni,
    MdnsNoise,
}

/// The mDNS service names of the generator's noise sessions.
const MDNS_NOISE_NAMES: [&str; 3] = [
    "_googlecast._tcp.local",
    "_airplay._tcp.local",
    "_spotify-connect._tcp.local",
];

type Counts = BTreeMap<String, u64>;

/// What the generator says it planted.
struct Truth {
    counts: Counts,
    sni: Counts,
    dns_queries: Counts,
    /// (MAC, hostname, IPv4, IPv6).
    clients: Vec<(MacAddr, String, IpAddr, Option<IpAddr>)>,
}

/// What the pipeline reported, in the truth's terms: (key, record time) per item.
#[derive(Default)]
struct Seen {
    /// TLS ClientHellos over TCP, by SNI.
    tls_sni: Vec<(String, Ts)>,
    /// UDP/443 flows by the domain their DNS lookup gave them (QUIC sessions).
    quic_domains: Vec<(String, Ts)>,
    /// DNS (not mDNS) query records by qname.
    dns_qnames: Vec<(String, Ts)>,
    mdns_qnames: Counts,
    dns_response_only: u64,
    /// HTTP requests by the generator's kind ("http_<kind>").
    http_kinds: Vec<(String, Ts)>,
    /// "dhcp_join" (DISCOVER) and "dhcp_renew" (REQUEST from a bound address).
    dhcp: Vec<(String, Ts)>,
    /// Hostnames per client MAC, from DHCP records and device sightings.
    hostnames: BTreeMap<MacAddr, BTreeSet<String>>,
    /// MACs reported as devices.
    devices: BTreeSet<MacAddr>,
    /// (client IP, client port, server IP, device MAC) of every flow record.
    flows: Vec<(IpAddr, u16, IpAddr, Option<MacAddr>)>,
    /// Time of the last frame.
    last_ts: Ts,
}

/// Items per key among those recorded at or before `until`.
fn tally(items: &[(String, Ts)], until: Ts) -> Counts {
    let mut c = Counts::new();
    for (k, ts) in items {
        if *ts <= until {
            *c.entry(k.clone()).or_default() += 1;
        }
    }
    c
}

fn bench_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_traffic.py")
}

/// Why the generator cannot run here, if it cannot.
fn generator_missing() -> Option<String> {
    if !bench_script().exists() {
        return Some(format!("{} not found", bench_script().display()));
    }
    let probe = Command::new("python3")
        .args(["-c", "import scapy, dpkt, cryptography"])
        .output();
    match probe {
        Err(e) => Some(format!("python3 not runnable: {e}")),
        Ok(o) if !o.status.success() => Some(format!(
            "python3 lacks scapy/dpkt/cryptography: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => None,
    }
}

fn generate(dir: &Path, packets: usize) -> PathBuf {
    let out = dir.join(format!("gen-{packets}.pcap"));
    let st = Command::new("python3")
        .arg(bench_script())
        .args(["-n", &packets.to_string(), "--seed", "1", "-o"])
        .arg(&out)
        .output()
        .expect("run gen_traffic.py");
    assert!(
        st.status.success(),
        "gen_traffic.py failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    out
}

fn counts_of(v: &Value, key: &str) -> Counts {
    v[key]
        .as_object()
        .unwrap_or_else(|| panic!("truth has no object {key}"))
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("count")))
        .collect()
}

fn read_truth(pcap: &Path) -> Truth {
    let path = PathBuf::from(format!("{}.truth.json", pcap.display()));
    let v: Value = serde_json::from_slice(&std::fs::read(&path).expect("truth file")).unwrap();
    let clients = v["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .map(|c| {
            let ip = |k: &str| {
                c[k].as_str()
                    .map(|s| s.parse::<IpAddr>().expect("client ip"))
            };
            (
                MacAddr::parse(c["mac"].as_str().expect("mac")).expect("mac syntax"),
                c["hostname"].as_str().expect("hostname").to_owned(),
                ip("ip4").expect("ip4"),
                ip("ip6"),
            )
        })
        .collect();
    Truth {
        counts: counts_of(&v, "counts"),
        sni: counts_of(&v, "sni"),
        dns_queries: counts_of(&v, "dns_queries"),
        clients,
    }
}

/// The generator's HTTP session kind of a request, from its method, host and target.
fn http_kind(method: &str, host: &str, uri: &str, content_type: Option<&str>) -> &'static str {
    let tracker_post_paths = ["/collect", "/v1/events", "/track", "/api/device/register"];
    if uri == "/generate_204" || uri == "/hotspot-detect.html" {
        "http_conncheck"
    } else if method == "POST" && content_type == Some("application/ocsp-request") {
        "http_ocsp"
    } else if host == "api.weather.example" {
        "http_weather"
    } else if method == "GET" && uri.starts_with("/v2/ad?") {
        "http_tracker_get"
    } else if method == "POST" && tracker_post_paths.contains(&uri) {
        "http_tracker_post"
    } else if ["/static/js/", "/article/", "/api/feed?"]
        .iter()
        .any(|p| uri.starts_with(p))
    {
        "http_cdn_text"
    } else if uri.starts_with("/img/") {
        "http_image"
    } else if uri.starts_with("/files/") {
        "http_bulk"
    } else {
        "http_unknown"
    }
}

fn bump(c: &mut Counts, k: &str) {
    *c.entry(k.to_owned()).or_default() += 1;
}

fn analyse(pcap: &Path) -> Seen {
    let mut seen = Seen::default();
    let mut pipe = Pipeline::new(PipelineConfig::default());
    let mut sink = |ev: Event| match ev {
        // QUIC hellos name their flows; they are counted through the flows' domains below.
        Event::Tls(r) if r.transport == Transport::Quic => {}
        Event::Tls(r) => {
            assert_eq!(r.transport, Transport::Tcp);
            let sni = r.sni.unwrap_or_else(|| "(none)".into());
            seen.tls_sni.push((sni, r.ts));
        }
        Event::Dns(r) => {
            seen.dns_response_only += u64::from(r.response_only);
            match r.protocol {
                DnsProtocol::Mdns => bump(&mut seen.mdns_qnames, &r.qname),
                _ if !r.response_only => seen.dns_qnames.push((r.qname, r.ts)),
                _ => {}
            }
        }
        Event::Http(r) => {
            let host = r.host.as_deref().unwrap_or("");
            let kind = http_kind(&r.method, host, &r.uri, r.content_type.as_deref());
            seen.http_kinds.push((kind.to_owned(), r.ts));
        }
        Event::Dhcp(r) => {
            if r.msg_type == Some(1) {
                seen.dhcp.push(("dhcp_join".into(), r.ts));
            }
            if r.msg_type == Some(3) && r.ciaddr.is_some() {
                seen.dhcp.push(("dhcp_renew".into(), r.ts));
            }
            if let Some(h) = r.hostname {
                seen.hostnames.entry(r.client_mac).or_default().insert(h);
            }
        }
        Event::Device(d) => {
            seen.devices.insert(d.mac);
            if let Some(h) = d.hostname {
                seen.hostnames.entry(d.mac).or_default().insert(h);
            }
        }
        Event::Flow(f) => {
            if f.transport == Transport::Udp && f.server_port == 443 {
                let domain = f.domain.clone().unwrap_or_else(|| "(none)".into());
                seen.quic_domains.push((domain, f.ts));
            }
            seen.flows
                .push((f.client_ip, f.client_port, f.server_ip, f.device_mac));
        }
        Event::Alert(_) | Event::Payload(_) | Event::FlowFrames(_) | Event::Evidence(_) => {}
    };
    let mut src = FileSource::open(pcap).expect("open generated capture");
    let mut last_ts = Ts::MIN;
    while let Some(f) = src.next_frame() {
        let f = f.expect("generated capture reads cleanly");
        last_ts = last_ts.max(f.ts);
        pipe.ingest(f.ts, f.link, f.data, &mut sink);
    }
    pipe.finish(&mut sink);
    seen.last_ts = last_ts;
    seen
}

/// One section compared under the capture-cut argument: per key, `ours <= truth` on both
/// captures and `truth(N) <= ours(N + look-ahead, recorded by end(N) + CUT_HORIZON)`. Returns
/// the keys whose shortfall the cut explains.
struct Section<'a> {
    what: &'a str,
    truth: &'a Counts,
    ours: &'a [(String, Ts)],
    truth_long: &'a Counts,
    ours_long: &'a [(String, Ts)],
}

fn check_cut(
    s: &Section<'_>,
    end: Ts,
    problems: &mut Vec<String>,
) -> Vec<(String, u64, u64, Explained)> {
    let get = |c: &Counts, k: &str| c.get(k).copied().unwrap_or(0);
    let ours = tally(s.ours, Ts::MAX);
    let ours_long = tally(s.ours_long, Ts::MAX);
    let ours_late = tally(s.ours_long, end.saturating_add(CUT_HORIZON));
    let what = s.what;
    let mut explained = Vec::new();
    let keys: BTreeSet<&String> = s.truth.keys().chain(ours.keys()).collect();
    for k in keys {
        let (t, o, late) = (get(s.truth, k), get(&ours, k), get(&ours_late, k));
        if o > t {
            problems.push(format!("{what} {k}: phonehome {o} > truth {t}"));
        } else if t > late {
            problems.push(format!(
                "{what} {k}: truth {t}, phonehome {o}, and only {late} within the cut horizon"
            ));
        } else if o < t {
            explained.push((k.clone(), t, o, Explained::CaptureCut));
        }
    }
    for (k, ol) in &ours_long {
        if *ol > get(s.truth_long, k) {
            problems.push(format!(
                "{what} {k} (look-ahead capture): phonehome {ol} > truth {}",
                get(s.truth_long, k)
            ));
        }
    }
    explained
}

/// TLS ClientHellos over TCP plus QUIC flows by host: comparable with the truth's `sni`.
fn sni_items(s: &Seen) -> Vec<(String, Ts)> {
    s.tls_sni.iter().chain(&s.quic_domains).cloned().collect()
}

/// The truth's counters whose name passes `keep`.
fn select(c: &Counts, keep: impl Fn(&str) -> bool) -> Counts {
    c.iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, n)| (k.clone(), *n))
        .collect()
}

#[test]
fn generated_capture_matches_its_ground_truth() {
    compare_with_truth(PACKETS);
}

/// The `--size medium` capture (200k packets) the lead measured; slow in debug, run with
/// `cargo test --test ground_truth -- --ignored`.
#[test]
#[ignore]
fn medium_capture_matches_its_ground_truth() {
    compare_with_truth(200_000);
}

fn compare_with_truth(packets: usize) {
    if let Some(why) = generator_missing() {
        println!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let short = generate(dir.path(), packets);
    let long = generate(dir.path(), packets * LOOKAHEAD_FACTOR);
    let (a, b) = (
        std::fs::read(&short).unwrap(),
        std::fs::read(&long).unwrap(),
    );
    assert!(
        b.starts_with(&a),
        "the generator is not deterministic here: the look-ahead argument does not hold"
    );
    let (truth, truth_long) = (read_truth(&short), read_truth(&long));
    let (seen, seen_long) = (analyse(&short), analyse(&long));
    let end = seen.last_ts;
    assert!(
        seen_long.last_ts >= end.saturating_add(CUT_HORIZON),
        "look-ahead capture too short to cover the cut horizon"
    );

    let mut problems = Vec::new();
    let mut explained = Vec::new();

    // TLS over TCP, plus QUIC flows by domain (Explained::QuicSni).
    let tcp_hellos: u64 = select(&truth.counts, |k| k.starts_with("tls_clienthello_"))
        .values()
        .sum();
    let quic_hellos: u64 = select(&truth.counts, |k| k.starts_with("quic_clienthello_"))
        .values()
        .sum();
    assert_eq!(
        truth.sni.values().sum::<u64>(),
        tcp_hellos + quic_hellos,
        "truth's sni map = TCP + QUIC hellos"
    );
    let (sni, sni_long) = (sni_items(&seen), sni_items(&seen_long));
    explained.extend(check_cut(
        &Section {
            what: "sni",
            truth: &truth.sni,
            ours: &sni,
            truth_long: &truth_long.sni,
            ours_long: &sni_long,
        },
        end,
        &mut problems,
    ));
    let (ours_tcp, ours_quic) = (seen.tls_sni.len() as u64, seen.quic_domains.len() as u64);
    assert!(ours_tcp <= tcp_hellos && ours_quic <= quic_hellos);
    assert!(
        sni.iter().all(|(k, _)| k != "(none)"),
        "every generated hello has an SNI and every QUIC flow a looked-up name"
    );
    for (k, n) in tally(&seen.quic_domains, Ts::MAX) {
        explained.push((k, 0, n, Explained::QuicSni));
    }

    // DNS (mDNS apart: Explained::MdnsNoise).
    explained.extend(check_cut(
        &Section {
            what: "dns",
            truth: &truth.dns_queries,
            ours: &seen.dns_qnames,
            truth_long: &truth_long.dns_queries,
            ours_long: &seen_long.dns_qnames,
        },
        end,
        &mut problems,
    ));
    assert_eq!(seen.dns_response_only, 0, "every response has its query");
    for name in seen.mdns_qnames.keys() {
        assert!(MDNS_NOISE_NAMES.contains(&name.as_str()), "mDNS {name}");
    }
    let mdns: u64 = seen.mdns_qnames.values().sum();
    explained.push(("mdns queries".into(), 0, mdns, Explained::MdnsNoise));

    // HTTP per kind.
    assert!(seen.http_kinds.iter().all(|(k, _)| k != "http_unknown"));
    let http = |c: &Counts| select(c, |k| k.starts_with("http_"));
    explained.extend(check_cut(
        &Section {
            what: "http",
            truth: &http(&truth.counts),
            ours: &seen.http_kinds,
            truth_long: &http(&truth_long.counts),
            ours_long: &seen_long.http_kinds,
        },
        end,
        &mut problems,
    ));

    // DHCP joins and renewals.
    let dhcp = |c: &Counts| select(c, |k| k == "dhcp_join" || k == "dhcp_renew");
    explained.extend(check_cut(
        &Section {
            what: "dhcp",
            truth: &dhcp(&truth.counts),
            ours: &seen.dhcp,
            truth_long: &dhcp(&truth_long.counts),
            ours_long: &seen_long.dhcp,
        },
        end,
        &mut problems,
    ));

    check_clients(&truth, &seen, &mut problems);

    for (k, t, o, why) in &explained {
        match why {
            Explained::CaptureCut => println!(
                "explained CaptureCut: {k}: truth {t}, phonehome {o}, rest within the horizon"
            ),
            Explained::QuicSni => println!("explained QuicSni: {k}: {o} QUIC flows"),
            Explained::MdnsNoise => println!("explained MdnsNoise: {o} mDNS queries"),
        }
    }
    println!("TLS over TCP {ours_tcp}/{tcp_hellos}, QUIC flows {ours_quic}/{quic_hellos}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every client MAC is a device with exactly its hostname and there is no other device (the
/// access point answers DHCP, so it is a router); every flow from a client's address is
/// attributed to that client's MAC.
fn check_clients(truth: &Truth, seen: &Seen, problems: &mut Vec<String>) {
    let want: BTreeMap<MacAddr, BTreeSet<String>> = truth
        .clients
        .iter()
        .map(|(m, h, _, _)| (*m, BTreeSet::from([h.clone()])))
        .collect();
    assert_eq!(want.len(), 100);
    for (mac, names) in &want {
        if seen.hostnames.get(mac) != Some(names) {
            problems.push(format!(
                "client {mac}: hostnames {:?}, want {names:?}",
                seen.hostnames.get(mac)
            ));
        }
    }
    let others: Vec<&MacAddr> = seen
        .devices
        .iter()
        .filter(|m| !want.contains_key(m))
        .collect();
    // The access point answers DHCP, which marks it a router: it is never a device.
    if !others.is_empty() {
        problems.push(format!("devices besides the clients: {others:?}"));
    }
    let owner: BTreeMap<IpAddr, MacAddr> = truth
        .clients
        .iter()
        .flat_map(|(m, _, v4, v6)| std::iter::once((*v4, *m)).chain(v6.map(|a| (a, *m))))
        .collect();
    let mut unbound = 0;
    for (ip, port, server, mac) in &seen.flows {
        match owner.get(ip) {
            Some(m) if *mac == Some(*m) => {}
            // DISCOVERs and REQUESTs before a lease all share 0.0.0.0:68 → broadcast:67.
            None if ip.is_unspecified()
                && *port == 68
                && server.to_string() == "255.255.255.255" =>
            {
                unbound += 1
            }
            _ => problems.push(format!("flow from {ip}:{port} to {server}: device {mac:?}")),
        }
    }
    if unbound > 1 {
        problems.push(format!("{unbound} DHCP flows from 0.0.0.0"));
    }
}
