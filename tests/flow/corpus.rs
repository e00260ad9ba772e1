//! Replays real captures of the corpus through the Defragmenter and the FlowTable and compares
//! the flows with tshark's conversations (`expected/<case>.json`, section `flows`).
//!
//! The decoding here is a deliberately minimal Ethernet/IPv4/IPv6/TCP/UDP reader for these
//! well-formed captures only (the project's decoder lives in `decode/`, built separately);
//! tshark counts a fragmented datagram once, in the frame that completes it, and so do we.

use std::collections::HashMap;
use std::fs::File;
use std::net::IpAddr;
use std::path::Path;

use pcap_file::pcap::PcapReader;
use phonehome::decode::Fragment;
use phonehome::event::{FlowEnd, MacAddr, Transport, Ts, MICROS};
use phonehome::flow::defrag::Defragmenter;
use phonehome::flow::table::{Flow, FlowConfig, FlowTable, PacketMeta};

const CORPUS: &str = "/work/shared/corpus";

/// An IP packet: addresses, protocol, fragment info and the IP payload.
struct Ip<'a> {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    frag: Option<Fragment>,
    payload: &'a [u8],
}

fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn parse_ip(mut d: &[u8]) -> Option<(MacAddr, MacAddr, Ip<'_>)> {
    let dst_mac = MacAddr::from_slice(d.get(0..6)?)?;
    let src_mac = MacAddr::from_slice(d.get(6..12)?)?;
    let mut et = be16(d, 12);
    d = &d[14..];
    while et == 0x8100 || et == 0x88a8 {
        et = be16(d, 2);
        d = &d[4..];
    }
    let ip = match et {
        0x0800 => {
            let ihl = usize::from(d[0] & 15) * 4;
            let total = usize::from(be16(d, 2)).min(d.len());
            let fo = be16(d, 6);
            let (offset, more) = (u32::from(fo & 0x1fff) * 8, fo & 0x2000 != 0);
            Ip {
                src: IpAddr::from(<[u8; 4]>::try_from(&d[12..16]).ok()?),
                dst: IpAddr::from(<[u8; 4]>::try_from(&d[16..20]).ok()?),
                proto: d[9],
                frag: (offset != 0 || more).then_some(Fragment {
                    id: u32::from(be16(d, 4)),
                    offset,
                    more,
                }),
                payload: d.get(ihl..total)?,
            }
        }
        0x86dd => {
            let end = (40 + usize::from(be16(d, 4))).min(d.len());
            let (mut nh, mut pos, mut frag) = (d[6], 40, None);
            while matches!(nh, 0 | 43 | 44 | 60) {
                if nh == 44 {
                    let fo = be16(d, pos + 2);
                    let id = u32::from_be_bytes(d[pos + 4..pos + 8].try_into().ok()?);
                    frag = Some(Fragment {
                        id,
                        offset: u32::from(fo & 0xfff8),
                        more: fo & 1 != 0,
                    });
                    nh = d[pos];
                    pos += 8;
                } else {
                    nh = d[pos];
                    pos += (usize::from(d[pos + 1]) + 1) * 8;
                }
            }
            Ip {
                src: IpAddr::from(<[u8; 16]>::try_from(&d[8..24]).ok()?),
                dst: IpAddr::from(<[u8; 16]>::try_from(&d[24..40]).ok()?),
                proto: nh,
                frag,
                payload: d.get(pos..end)?,
            }
        }
        _ => return None,
    };
    Some((src_mac, dst_mac, ip))
}

/// Flow-table view of a complete transport payload: (transport, ports, TCP flags).
fn ports(proto: u8, p: &[u8]) -> Option<(Transport, u16, u16, u8)> {
    match proto {
        6 => Some((Transport::Tcp, be16(p, 0), be16(p, 2), *p.get(13)?)),
        17 => Some((Transport::Udp, be16(p.get(..8)?, 0), be16(p, 2), 0)),
        _ => None,
    }
}

struct Replay {
    flows: Vec<Flow<()>>,
    datagrams: Vec<Vec<u8>>,
    defrag: Defragmenter,
}

fn replay(case: &str) -> Replay {
    let path = Path::new(CORPUS).join("pcaps").join(format!("{case}.pcap"));
    let mut reader = PcapReader::new(File::open(path).unwrap()).unwrap();
    let cfg = FlowConfig {
        tcp_idle: Ts::MAX / 4,
        tcp_closed_idle: Ts::MAX / 4,
        udp_idle: Ts::MAX / 4,
        ..FlowConfig::default()
    };
    let mut table = FlowTable::<()>::new(cfg);
    let mut defrag = Defragmenter::new();
    let (mut flows, mut datagrams) = (Vec::new(), Vec::new());
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.unwrap();
        let ts = pkt.timestamp.as_micros() as Ts;
        let Some((src_mac, dst_mac, ip)) = parse_ip(&pkt.data) else {
            continue;
        };
        let whole = match ip.frag {
            Some(frag) => match defrag.push(ts, ip.src, ip.dst, ip.proto, frag, ip.payload) {
                Some(d) => {
                    datagrams.push(d.clone());
                    d
                }
                None => continue,
            },
            None => ip.payload.to_vec(),
        };
        let Some((transport, sp, dp, flags)) = ports(ip.proto, &whole) else {
            continue;
        };
        let meta = PacketMeta {
            ts,
            transport,
            src_ip: ip.src,
            src_port: sp,
            dst_ip: ip.dst,
            dst_port: dp,
            tcp_flags: flags,
            frame_len: pkt.orig_len,
            src_mac: Some(src_mac),
            dst_mac: Some(dst_mac),
        };
        table.track(&meta, &mut |f, _| flows.push(f));
        defrag.expire(ts);
        table.expire(ts, &mut |f, _| flows.push(f));
    }
    table.flush(&mut |f, e| {
        assert_eq!(e, FlowEnd::Flushed);
        flows.push(f)
    });
    Replay {
        flows,
        datagrams,
        defrag,
    }
}

fn expected(case: &str) -> serde_json::Value {
    let path = Path::new(CORPUS)
        .join("expected")
        .join(format!("{case}.json"));
    serde_json::from_reader(File::open(path).unwrap()).unwrap()
}

/// Every expected conversation is one of our flows, with the same packets, bytes, times and
/// (when the handshake was seen) the same client; and we report no other flow.
fn assert_flows_match(case: &str) -> Replay {
    let r = replay(case);
    let exp = expected(case);
    let exp_flows = exp["flows"].as_array().unwrap();
    let ep = |ip: &str, port: &serde_json::Value| {
        (ip.parse::<IpAddr>().unwrap(), port.as_u64().unwrap() as u16)
    };
    let mut ours: HashMap<_, &Flow<()>> = HashMap::new();
    for f in &r.flows {
        let mut k = [(f.client_ip, f.client_port), (f.server_ip, f.server_port)];
        k.sort();
        assert!(
            ours.insert((f.transport, k), f).is_none(),
            "{case}: duplicate flow {k:?}"
        );
    }
    for e in exp_flows {
        let c = ep(e["client"].as_str().unwrap(), &e["client_port"]);
        let s = ep(e["server"].as_str().unwrap(), &e["server_port"]);
        let t = if e["transport"] == "tcp" {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        let mut k = [c, s];
        k.sort();
        let f = ours
            .get(&(t, k))
            .unwrap_or_else(|| panic!("{case}: missing flow {e}"));
        assert_eq!(
            f.packets_up + f.packets_down,
            e["packets"].as_u64().unwrap(),
            "{case}: {e}"
        );
        assert_eq!(
            f.bytes_up + f.bytes_down,
            e["bytes"].as_u64().unwrap(),
            "{case}: {e}"
        );
        let secs = |v: &serde_json::Value| (v.as_f64().unwrap() * MICROS as f64).round() as Ts;
        assert!(
            (f.first_ts - secs(&e["first_ts"])).abs() <= 1,
            "{case}: {e}"
        );
        assert!((f.last_ts - secs(&e["last_ts"])).abs() <= 1, "{case}: {e}");
        if e["orientation"] != "first-packet" {
            assert_eq!(
                ((f.client_ip, f.client_port), (f.server_ip, f.server_port)),
                (c, s),
                "{case}: {e}"
            );
        }
    }
    assert_eq!(r.flows.len(), exp_flows.len(), "{case}");
    r
}

#[test]
fn tcp_and_udp_flows_match_tshark() {
    for case in [
        "http-get-basic",
        "tls13-curl-with-dns",
        "dns-over-tcp-two-queries",
        "mobile-app-whatsapp-login",
        "http-dns-wikipedia-browse",
        "phone-android9-mixed",
    ] {
        assert_flows_match(case);
    }
}

#[test]
fn handshake_flows_are_oriented_to_the_device() {
    let r = assert_flows_match("http-get-basic");
    let f = &r.flows[0];
    assert_eq!(
        (f.client_ip, f.client_port, f.server_port),
        ("141.142.228.5".parse().unwrap(), 59856, 80)
    );
    assert_eq!(f.tcp_state, phonehome::event::TcpState::Closed);
    assert!(f.packets_up > 0 && f.packets_down > 0);
}

/// Checks a reassembled UDP datagram: its length field covers it exactly; returns the DNS id.
fn dns_id(d: &[u8]) -> u16 {
    assert_eq!(usize::from(be16(d, 4)), d.len());
    be16(d, 8)
}

#[test]
fn ipv4_and_ipv6_fragmented_dns_responses_reassemble() {
    let r = assert_flows_match("dns-ipv4-fragmented-responses");
    // 4 IPv4 and 3 IPv6 responses arrive in two fragments each.
    assert_eq!(r.datagrams.len(), 7);
    assert_eq!(r.defrag.stats().reassembled, 7);
    let exp = expected("dns-ipv4-fragmented-responses");
    let answered: Vec<u64> = exp["dns_queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q.get("rcode").is_some())
        .map(|q| q["trans_id"].as_u64().unwrap())
        .collect();
    for d in &r.datagrams {
        assert!(answered.contains(&u64::from(dns_id(d))), "id {}", dns_id(d));
        assert_eq!(d[10] & 0x80, 0x80, "QR bit of a response");
    }
    assert_eq!(r.datagrams.iter().map(Vec::len).max(), Some(1738));
}

#[test]
fn ipv6_fragmented_txt_response_reassembles_and_orphan_tail_is_held() {
    let r = assert_flows_match("dns-ipv6-fragmented-txt");
    // Three fragments (1432 + 1432 + 374 bytes) make the response to query 40849; the
    // capture also holds the lone last fragment of a datagram whose head was not captured.
    assert_eq!(r.datagrams.len(), 1);
    assert_eq!(r.datagrams[0].len(), 3238);
    assert_eq!(dns_id(&r.datagrams[0]), 40849);
    assert_eq!(r.defrag.in_progress(), 1);
}
