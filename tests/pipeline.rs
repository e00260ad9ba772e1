//! Scenario tests of the analysis core on traffic built with `phonehome::synth`: TCP
//! reassembly of split and reordered application data, HTTP bodies and pipelining, the domain a
//! flow gets from DNS, idle expiry by packet time, and retransmitted DNS queries.

use std::net::IpAddr;

use phonehome::decode::LinkType;
use phonehome::event::{Event, FlowEnd, MacAddr, MICROS};
use phonehome::pipeline::{Pipeline, PipelineConfig};
use phonehome::synth::{
    dns_query, dns_response, http_get, http_post, tls_client_hello, DnsAnswer, Endpoint,
    HelloStyle, RData, TcpConversation,
};

const PHONE_MAC: MacAddr = MacAddr([0x04, 0xf1, 0x28, 0x01, 0x02, 0x03]);
const GW_MAC: MacAddr = MacAddr([0xdc, 0xa6, 0x32, 0x00, 0x00, 0x01]);
const T0: i64 = 1_700_000_000 * MICROS;

fn phone(port: u16) -> Endpoint {
    Endpoint {
        mac: PHONE_MAC,
        ip: "192.168.8.23".parse().unwrap(),
        port,
        ttl: 64,
    }
}

fn server(ip: &str, port: u16) -> Endpoint {
    Endpoint {
        mac: GW_MAC,
        ip: ip.parse().unwrap(),
        port,
        ttl: 57,
    }
}

/// Runs frames (in the given order) through a fresh pipeline and returns every event.
fn run(frames: &[(i64, Vec<u8>)]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut p = Pipeline::new(PipelineConfig::default());
    let mut sink = |e: Event| out.push(e);
    for (ts, f) in frames {
        p.ingest(*ts, LinkType::Ethernet, f, &mut sink);
    }
    p.finish(&mut sink);
    out
}

fn conversation(port: u16, srv: &str, srv_port: u16) -> TcpConversation {
    TcpConversation::new(phone(port), server(srv, srv_port), T0).unwrap()
}

#[test]
fn client_hello_split_in_three_out_of_order_is_decoded() {
    let hello = tls_client_hello("split.example", HelloStyle::Chrome);
    let mut c = conversation(40000, "198.51.100.7", 443);
    c.handshake()
        .client_data_split(&hello, 3, &[2, 0, 1])
        .close();
    let ev = run(c.frames());
    let tls: Vec<_> = ev
        .iter()
        .filter_map(|e| if let Event::Tls(t) = e { Some(t) } else { None })
        .collect();
    assert_eq!(tls.len(), 1, "{ev:?}");
    assert_eq!(tls[0].sni.as_deref(), Some("split.example"));
    assert_eq!(tls[0].device_mac, Some(PHONE_MAC));
    assert_eq!(tls[0].ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    let flow = ev
        .iter()
        .find_map(|e| {
            if let Event::Flow(f) = e {
                Some(f)
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!(
        flow.domain.as_deref(),
        Some("split.example"),
        "SNI names the flow without DNS"
    );
    assert_eq!(flow.server_port, 443);
    assert_eq!(flow.end, FlowEnd::Flushed);
}

#[test]
fn http_head_split_and_reordered_then_pipelined_requests_with_body() {
    let get = http_get("api.example", "/v1/ping?x=1", "okhttp/4.12.0");
    let body = b"{\"imei\":\"490154203237518\"}";
    let post = http_post(
        "api.example",
        "/v1/report",
        "okhttp/4.12.0",
        "application/json",
        body,
    );
    let mut c = conversation(40001, "203.0.113.9", 80);
    c.handshake()
        .client_data_split(&get, 2, &[1, 0])
        .client_data(&post)
        .close();
    let ev = run(c.frames());
    let http: Vec<_> = ev
        .iter()
        .filter_map(|e| {
            if let Event::Http(h) = e {
                Some(h)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(http.len(), 2, "{http:?}");
    assert_eq!(
        (http[0].method.as_str(), http[0].uri.as_str()),
        ("GET", "/v1/ping?x=1")
    );
    assert_eq!(http[0].host.as_deref(), Some("api.example"));
    assert_eq!(http[0].user_agent.as_deref(), Some("okhttp/4.12.0"));
    assert_eq!(http[1].method, "POST");
    assert_eq!(http[1].content_length, Some(body.len() as u64));
    assert_eq!(http[1].body, body, "the body is kept for the detectors");
}

#[test]
fn dns_answer_names_the_flow_to_that_address() {
    let q = dns_query(0x1234, "tracker.example", 1);
    let a = [DnsAnswer {
        name: "tracker.example",
        ttl: 60,
        data: RData::A("203.0.113.50".parse().unwrap()),
    }];
    let r = dns_response(0x1234, "tracker.example", 1, &a);
    let resolver = server("192.168.8.1", 53);
    let mut frames = vec![
        (
            T0,
            phonehome::synth::net::udp_frame(&phone(5555), &resolver, 1, &q).unwrap(),
        ),
        (
            T0 + 1000,
            phonehome::synth::net::udp_frame(&resolver, &phone(5555), 2, &r).unwrap(),
        ),
    ];
    let mut c = TcpConversation::new(phone(40002), server("203.0.113.50", 443), T0 + 5000).unwrap();
    c.handshake()
        .client_data(&tls_client_hello("other-sni.example", HelloStyle::OkHttp))
        .close();
    frames.extend(c.frames().iter().cloned());
    let ev = run(&frames);
    let dns = ev
        .iter()
        .find_map(|e| if let Event::Dns(d) = e { Some(d) } else { None })
        .unwrap();
    assert_eq!(dns.qname, "tracker.example");
    assert_eq!(dns.rcode, Some(0));
    assert_eq!(dns.answers, ["203.0.113.50"]);
    let flow = ev
        .iter()
        .find_map(|e| match e {
            Event::Flow(f) if f.server_port == 443 => Some(f),
            _ => None,
        })
        .unwrap();
    // The client's SNI names the flow: the DNS name is a guess by address (a CDN address
    // serves many names); without an SNI the DNS name stays (tests/dns_depth.rs).
    assert_eq!(
        flow.domain.as_deref(),
        Some("other-sni.example"),
        "the SNI wins over the DNS guess by address"
    );
}

#[test]
fn retransmitted_query_gets_the_one_response() {
    let q = dns_query(7, "slow.example", 28);
    let a = [DnsAnswer {
        name: "slow.example",
        ttl: 60,
        data: RData::Aaaa("2001:db8::5".parse().unwrap()),
    }];
    let r = dns_response(7, "slow.example", 28, &a);
    let resolver = server("192.168.8.1", 53);
    let frames = [
        (
            T0,
            phonehome::synth::net::udp_frame(&phone(6000), &resolver, 1, &q).unwrap(),
        ),
        (
            T0 + 2 * MICROS,
            phonehome::synth::net::udp_frame(&phone(6000), &resolver, 2, &q).unwrap(),
        ),
        (
            T0 + 2 * MICROS + 500,
            phonehome::synth::net::udp_frame(&resolver, &phone(6000), 3, &r).unwrap(),
        ),
    ];
    let dns: Vec<_> = run(&frames)
        .into_iter()
        .filter_map(|e| if let Event::Dns(d) = e { Some(d) } else { None })
        .collect();
    assert_eq!(dns.len(), 2);
    assert!(dns
        .iter()
        .all(|d| d.rcode == Some(0) && d.answers == ["2001:db8::5"]));
}

#[test]
fn idle_flows_end_by_packet_time() {
    let resolver = server("192.168.8.1", 53);
    let q = dns_query(1, "a.example", 1);
    // Same 5-tuple twice, 2 minutes apart: UDP idles out after 60 s, so two flows.
    let frames = [
        (
            T0,
            phonehome::synth::net::udp_frame(&phone(7000), &resolver, 1, &q).unwrap(),
        ),
        (
            T0 + 120 * MICROS,
            phonehome::synth::net::udp_frame(&phone(7000), &resolver, 2, &q).unwrap(),
        ),
    ];
    let flows: Vec<_> = run(&frames)
        .into_iter()
        .filter_map(|e| {
            if let Event::Flow(f) = e {
                Some(f)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].end, FlowEnd::Idle);
    assert_eq!(
        flows[0].client_ip,
        "192.168.8.23".parse::<IpAddr>().unwrap()
    );
    assert_eq!((flows[0].packets_up, flows[0].packets_down), (1, 0));
    assert_eq!(flows[1].end, FlowEnd::Flushed);
}

#[test]
fn http_head_in_many_small_segments_is_decoded_once() {
    let get = http_get("slow.example", "/drip", "curl/8.5.0");
    let mut c = conversation(40003, "203.0.113.10", 80);
    let order: Vec<usize> = (0..16).collect();
    c.handshake().client_data_split(&get, 16, &order).close();
    let http: Vec<_> = run(c.frames())
        .into_iter()
        .filter_map(|e| {
            if let Event::Http(h) = e {
                Some(h)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(http.len(), 1);
    assert_eq!(http[0].host.as_deref(), Some("slow.example"));
    assert_eq!(http[0].uri, "/drip");
}
