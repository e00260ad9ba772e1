//! What every scenario shares: configurations parsed from TOML text the way the product reads
//! `phonehome.toml`, detectors built by the product's own builder (`detect::setup`), a capture
//! written with `phonehome::synth` (DHCP join, DNS answers, whole TCP conversations), and a run
//! of it through `Pipeline::with_detectors`.

#![allow(dead_code)] // each scenario file uses a different part

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use phonehome::config::Config;
use phonehome::decode::LinkType;
use phonehome::detect::setup::{detectors_with_geo, load_geo};
use phonehome::detect::Detectors;
use phonehome::event::{Alert, AlertKind, Event, MacAddr, Severity, Ts, MICROS};
use phonehome::intel::geo::GeoDb;
use phonehome::pipeline::{Pipeline, PipelineConfig};
use phonehome::synth::dhcp::{self, DhcpSpec};
use phonehome::synth::net::{self, BROADCAST_MAC};
use phonehome::synth::tls::tls_server_hello;
use phonehome::synth::{
    dns_query, dns_response, tls_client_hello, DnsAnswer, Endpoint, HelloStyle, RData,
    TcpConversation,
};

/// The phone: HMD Global's MA-L prefix (a Nokia), as in the demo capture.
pub const PHONE_MAC: MacAddr = MacAddr([0x04, 0xf1, 0x28, 0x5c, 0x3a, 0x7e]);
/// Another phone on the same access point.
pub const OTHER_MAC: MacAddr = MacAddr([0x3c, 0x28, 0x6d, 0x11, 0x22, 0x33]);
/// The access point (Raspberry Pi prefix): gateway, DHCP server and resolver.
pub const AP_MAC: MacAddr = MacAddr([0xdc, 0xa6, 0x32, 0x41, 0x8e, 0x02]);
pub const PHONE_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 8, 23);
pub const GATEWAY_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 8, 1);
/// 2024-03-14 09:00:00 UTC.
pub const T0: Ts = 1_710_406_800 * MICROS;
/// Android's system HTTP user agent on this phone.
pub const DALVIK_UA: &str =
    "Dalvik/2.1.0 (Linux; U; Android 10; Nokia 7 plus Build/QKQ1.190828.002)";

/// The shared real data, relative to the config file's folder (the crate root).
pub const GEO_SECTION: &str = r#"
[geo]
country_db = "../shared/geo/geo-whois-asn-country.mmdb"
asn_db = ["../shared/geo/asn-ipv4.csv", "../shared/geo/asn-ipv6.csv"]
"#;

/// Where test configurations pretend to live: relative paths resolve against the crate root,
/// so `../shared/…` is the project's shared data.
fn config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("phonehome-test.toml")
}

/// A configuration parsed from `toml` as the product parses its file.
pub fn config(toml: &str) -> Config {
    Config::parse(toml, &config_path()).unwrap_or_else(|e| panic!("config: {e}\n{toml}"))
}

/// True when the shared geo files exist (the geo assertions are skipped otherwise).
pub fn geo_present() -> bool {
    let c = config(GEO_SECTION);
    c.detect.country_db.as_deref().is_some_and(Path::exists)
        && c.detect.asn_dbs.iter().all(|p| p.exists())
}

/// The geo databases of [`GEO_SECTION`], loaded once per test binary (≈2 s in debug) by the
/// product's loader; empty when the files are absent.
fn shared_geo() -> Arc<GeoDb> {
    static GEO: OnceLock<Arc<GeoDb>> = OnceLock::new();
    GEO.get_or_init(|| {
        if !geo_present() {
            return Arc::new(GeoDb::empty());
        }
        Arc::new(load_geo(&config(GEO_SECTION).detect).expect("shared geo files load"))
    })
    .clone()
}

/// The detectors the product builds from `cfg` (`detect::setup`); when `cfg` names the shared
/// geo files, the databases loaded once for this binary are used (the same files, the same
/// loader).
pub fn detectors(cfg: &Config) -> Detectors {
    let geo = if cfg.detect.geo_explicit {
        assert_eq!(
            cfg.detect.country_db,
            config(GEO_SECTION).detect.country_db,
            "scenarios only use the shared geo files"
        );
        shared_geo()
    } else {
        Arc::new(load_geo(&cfg.detect).expect("default geo paths never fail"))
    };
    detectors_with_geo(cfg, geo).expect("detectors build")
}

/// A phone endpoint at `port`.
pub fn phone(port: u16) -> Endpoint {
    Endpoint {
        mac: PHONE_MAC,
        ip: IpAddr::V4(PHONE_IP),
        port,
        ttl: 64,
    }
}

/// A remote server as seen on the LAN (frames carry the gateway's MAC).
pub fn server(ip: &str, port: u16) -> Endpoint {
    Endpoint {
        mac: AP_MAC,
        ip: ip.parse().expect("server address"),
        port,
        ttl: 57,
    }
}

/// The access point's resolver.
fn resolver() -> Endpoint {
    Endpoint {
        mac: AP_MAC,
        ip: IpAddr::V4(GATEWAY_IP),
        port: 53,
        ttl: 64,
    }
}

/// A capture under construction: frames with their timestamps, in any order (sorted before
/// the run, stable for equal times).
#[derive(Default)]
pub struct Capture {
    frames: Vec<(Ts, Vec<u8>)>,
    ip_id: u16,
    next_port: u16,
    dns_id: u16,
}

impl Capture {
    pub fn new() -> Capture {
        Capture {
            next_port: 40_000,
            dns_id: 0x1000,
            ..Capture::default()
        }
    }

    /// A fresh ephemeral client port.
    pub fn port(&mut self) -> u16 {
        self.next_port += 1;
        self.next_port
    }

    pub fn udp(&mut self, ts: Ts, src: &Endpoint, dst: &Endpoint, payload: &[u8]) {
        self.ip_id = self.ip_id.wrapping_add(1);
        let f = net::udp_frame(src, dst, self.ip_id, payload).expect("same family");
        self.frames.push((ts, f));
    }

    /// DISCOVER, OFFER, REQUEST, ACK for the phone (Android 10's options), starting at `t`.
    pub fn dhcp_join(&mut self, t: Ts) {
        let client = Endpoint {
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ..phone(68)
        };
        let bcast = Endpoint {
            mac: BROADCAST_MAC,
            ip: IpAddr::V4(Ipv4Addr::BROADCAST),
            port: 67,
            ttl: 64,
        };
        let ap = Endpoint {
            port: 67,
            ..resolver()
        };
        let dns = [GATEWAY_IP];
        let xid = 0x3903_f326;
        let client_spec = |msg_type| DhcpSpec {
            max_message_size: Some(1500),
            vendor_class: Some("android-dhcp-10"),
            hostname: Some("Nokia-7-plus"),
            param_list: &dhcp::ANDROID_10_PARAMS,
            ..DhcpSpec::new(msg_type, xid, PHONE_MAC)
        };
        let server_spec = |msg_type| DhcpSpec {
            yiaddr: PHONE_IP,
            server_id: Some(GATEWAY_IP),
            lease_secs: Some(43_200),
            subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            router: Some(GATEWAY_IP),
            dns: &dns,
            ..DhcpSpec::new(msg_type, xid, PHONE_MAC)
        };
        let request = DhcpSpec {
            requested_ip: Some(PHONE_IP),
            server_id: Some(GATEWAY_IP),
            ..client_spec(dhcp::REQUEST)
        };
        self.udp(
            t,
            &client,
            &bcast,
            &dhcp::dhcp(&client_spec(dhcp::DISCOVER)),
        );
        self.udp(
            t + 2_310,
            &ap,
            &phone(68),
            &dhcp::dhcp(&server_spec(dhcp::OFFER)),
        );
        self.udp(t + 9_870, &client, &bcast, &dhcp::dhcp(&request));
        self.udp(
            t + 12_040,
            &ap,
            &phone(68),
            &dhcp::dhcp(&server_spec(dhcp::ACK)),
        );
    }

    /// A query for `name` (type A) to the AP's resolver at `t`, answered 15 ms later with
    /// `addrs` (an empty answer when none).
    pub fn dns_a(&mut self, t: Ts, name: &str, addrs: &[&str]) {
        self.dns_id = self.dns_id.wrapping_add(1);
        let port = self.port();
        let answers: Vec<DnsAnswer<'_>> = addrs
            .iter()
            .map(|a| DnsAnswer {
                name,
                ttl: 180,
                data: RData::A(a.parse().expect("IPv4 answer")),
            })
            .collect();
        let q = dns_query(self.dns_id, name, 1);
        let r = dns_response(self.dns_id, name, 1, &answers);
        self.udp(t, &phone(port), &resolver(), &q);
        self.udp(t + 15_000, &resolver(), &phone(port), &r);
    }

    /// A whole TCP connection from the phone to `srv` starting at `t`: handshake, `request`,
    /// `response` (if any), FIN teardown. Returns the client port.
    pub fn tcp(&mut self, t: Ts, srv: Endpoint, request: &[u8], response: &[u8]) -> u16 {
        let port = self.port();
        let mut c = TcpConversation::new(phone(port), srv, t).expect("same family");
        c.handshake().client_data(request);
        if !response.is_empty() {
            c.server_data(response);
        }
        c.close();
        self.frames.extend(c.frames().iter().cloned());
        port
    }

    /// A TLS connection to `ip:443` with `sni` (OkHttp's ClientHello) and the server's flight.
    pub fn tls(&mut self, t: Ts, ip: &str, sni: &str) -> u16 {
        let hello = tls_client_hello(sni, HelloStyle::OkHttp);
        let flight = tls_server_hello(&hello, sni);
        self.tcp(t, server(ip, 443), &hello, &flight)
    }

    /// Runs the capture through a pipeline with `det` and returns every event it emits.
    pub fn run(mut self, det: Detectors) -> Vec<Event> {
        self.frames.sort_by_key(|(ts, _)| *ts);
        let mut p = Pipeline::with_detectors(PipelineConfig::default(), det);
        let mut out = Vec::new();
        let mut sink = |e: Event| out.push(e);
        for (ts, f) in &self.frames {
            p.ingest(*ts, LinkType::Ethernet, f, &mut sink);
        }
        p.finish(&mut sink);
        out
    }
}

/// Every alert among `events`.
pub fn alerts(events: &[Event]) -> Vec<&Alert> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// The alerts of `kind`.
pub fn of_kind(events: &[Event], kind: AlertKind) -> Vec<&Alert> {
    alerts(events)
        .into_iter()
        .filter(|a| a.kind == kind)
        .collect()
}

/// The alerts at `min` severity or above, for failure messages and false-positive checks.
pub fn at_least(events: &[Event], min: Severity) -> Vec<String> {
    alerts(events)
        .into_iter()
        .filter(|a| a.severity >= min)
        .map(|a| format!("{} {}: {}", a.severity.as_str(), a.kind.as_str(), a.summary))
        .collect()
}

/// A string field of an alert's detail.
pub fn detail_str<'a>(a: &'a Alert, key: &str) -> Option<&'a str> {
    a.detail.get(key).and_then(|v| v.as_str())
}

/// The Luhn check (ISO/IEC 7812), to show test identifiers are valid ones.
pub fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}
