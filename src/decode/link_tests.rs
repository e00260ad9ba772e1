//! Tests of [`super`]: hand-built frames per link type, and real corpus captures
//! (`../shared/corpus`) checked against the peer tools' expected flows.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use super::*;
use crate::decode::{transport, IpPacket, Transport};

const DEV: [u8; 6] = [0x3c, 0x22, 0xfb, 0x01, 0x02, 0x03];
const GW: [u8; 6] = [0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc];

/// IPv4/TCP 10.0.2.15:49762 → 93.184.216.34:80, SYN, no data (40 bytes).
const IP_TCP: [u8; 40] = [
    0x45, 0, 0, 40, 0xe8, 0xef, 0x40, 0, 64, 6, 0, 0, 10, 0, 2, 15, 93, 184, 216, 34, 0xc2, 0x62,
    0, 80, 0x3f, 0x32, 0xba, 0xd1, 0, 0, 0, 0, 0x50, 0x02, 0x72, 0x10, 0, 0, 0, 0,
];

fn ip_of<'a>(p: &'a Packet<'_>) -> &'a IpPacket<'a> {
    match &p.net {
        Net::Ip(ip) => ip,
        other => panic!("not IP: {other:?}"),
    }
}

fn assert_tcp_syn(p: &Packet<'_>) {
    let ip = ip_of(p);
    assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15)));
    assert_eq!(ip.dst, IpAddr::V4(Ipv4Addr::new(93, 184, 216, 34)));
    let Transport::Tcp(t) = ip.transport else {
        panic!("not tcp")
    };
    assert_eq!(
        (t.src_port, t.dst_port, t.flags, t.payload.len()),
        (49762, 80, 0x02, 0)
    );
}

fn ether(ethertype_and_tags: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut f = GW.to_vec();
    f.extend_from_slice(&DEV);
    f.extend_from_slice(ethertype_and_tags);
    f.extend_from_slice(payload);
    f
}

#[test]
fn ethernet_ipv4_tcp_with_padding() {
    let mut f = ether(&[0x08, 0x00], &IP_TCP);
    f.extend_from_slice(&[0; 6]);
    let p = decode(LinkType::Ethernet, &f).unwrap();
    assert_eq!(
        (p.src_mac, p.dst_mac),
        (Some(MacAddr(DEV)), Some(MacAddr(GW)))
    );
    assert_eq!((p.vlan, p.tunnel_depth), (None, 0));
    assert_tcp_syn(&p);
    assert_eq!(ip_of(&p).payload.len(), 20);
}

#[test]
fn vlan_and_qinq_tags() {
    // 802.1Q, PCP 5, VID 42.
    let f = ether(&[0x81, 0x00, 0xa0, 0x2a, 0x08, 0x00], &IP_TCP);
    let p = decode(LinkType::Ethernet, &f).unwrap();
    assert_eq!(p.vlan, Some(42));
    assert_tcp_syn(&p);
    // 802.1ad S-tag 100 outside C-tag 7: the outermost is reported.
    let f = ether(
        &[0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00],
        &IP_TCP,
    );
    let p = decode(LinkType::Ethernet, &f).unwrap();
    assert_eq!(p.vlan, Some(100));
    assert_tcp_syn(&p);
    // Five tags: over the limit.
    let mut tags = Vec::new();
    for _ in 0..=MAX_VLAN_TAGS {
        tags.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
    }
    tags.extend_from_slice(&[0x08, 0x00]);
    assert_eq!(
        decode(LinkType::Ethernet, &ether(&tags, &IP_TCP)),
        Err(DecodeError::TooDeep)
    );
    // Tag cut short.
    assert_eq!(
        decode(LinkType::Ethernet, &ether(&[0x81, 0x00, 0x00], &[])),
        Err(DecodeError::TruncatedLink)
    );
}

#[test]
fn ethernet_8023_llc_snap_and_unknown() {
    let mut snap = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    snap.extend_from_slice(&IP_TCP);
    let f = ether(&(snap.len() as u16).to_be_bytes(), &snap);
    assert_tcp_syn(&decode(LinkType::Ethernet, &f).unwrap());
    // Spanning tree (LLC 42 42 03): not decoded, not an error.
    let f = ether(&[0x00, 0x26], &[0x42, 0x42, 0x03, 0, 0, 0, 0, 0]);
    assert_eq!(decode(LinkType::Ethernet, &f).unwrap().net, Net::Other);
    let f = ether(&[0x88, 0xcc], &[1, 2, 3]); // LLDP
    assert_eq!(decode(LinkType::Ethernet, &f).unwrap().net, Net::Other);
    assert_eq!(
        decode(LinkType::Ethernet, &f[..13]),
        Err(DecodeError::TruncatedLink)
    );
}

#[test]
fn arp_request() {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&DEV);
    a.extend_from_slice(&[192, 168, 1, 23]);
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&[192, 168, 1, 1]);
    let f = ether(&[0x08, 0x06], &a);
    let p = decode(LinkType::Ethernet, &f).unwrap();
    let expected = Arp {
        op: 1,
        sender_mac: MacAddr(DEV),
        sender_ip: Ipv4Addr::new(192, 168, 1, 23),
        target_mac: MacAddr([0; 6]),
        target_ip: Ipv4Addr::new(192, 168, 1, 1),
    };
    assert_eq!(p.net, Net::Arp(expected));
    // Truncated or non-Ethernet/IPv4 ARP: not decoded.
    let f = ether(&[0x08, 0x06], &a[..27]);
    assert_eq!(decode(LinkType::Ethernet, &f).unwrap().net, Net::Other);
    a[1] = 6; // IEEE 802 hardware type
    let f = ether(&[0x08, 0x06], &a);
    assert_eq!(decode(LinkType::Ethernet, &f).unwrap().net, Net::Other);
}

#[test]
fn linux_sll_ethernet_and_loopback() {
    // Outgoing (type 4) on an Ethernet device: the address is the source MAC.
    let mut f = vec![0, 4, 0, 1, 0, 6];
    f.extend_from_slice(&DEV);
    f.extend_from_slice(&[0, 0, 0x08, 0x00]);
    f.extend_from_slice(&IP_TCP);
    let p = decode(LinkType::LinuxSll, &f).unwrap();
    assert_eq!((p.src_mac, p.dst_mac), (Some(MacAddr(DEV)), None));
    assert_tcp_syn(&p);
    // ARPHRD_LOOPBACK (772): the zero address is not a MAC.
    f[2..4].copy_from_slice(&772u16.to_be_bytes());
    let p = decode(LinkType::LinuxSll, &f).unwrap();
    assert_eq!(p.src_mac, None);
    assert_tcp_syn(&p);
    assert_eq!(
        decode(LinkType::LinuxSll, &f[..15]),
        Err(DecodeError::TruncatedLink)
    );
}

#[test]
fn linux_sll2_with_vlan() {
    let mut f = vec![0x81, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6];
    f.extend_from_slice(&DEV);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&[0x00, 0x0a, 0x08, 0x00]);
    f.extend_from_slice(&IP_TCP);
    let p = decode(LinkType::LinuxSll2, &f).unwrap();
    assert_eq!((p.src_mac, p.vlan), (Some(MacAddr(DEV)), Some(10)));
    assert_tcp_syn(&p);
    assert_eq!(
        decode(LinkType::LinuxSll2, &f[..19]),
        Err(DecodeError::TruncatedLink)
    );
}

#[test]
fn nflog_payload_tlv_after_padded_tlvs() {
    let mut f = vec![2, 0, 0, 0x2a];
    f.extend_from_slice(&[5, 0, 10, 0, 0, 0, 0, 0]); // prefix "\0", padded to 8
    f.extend_from_slice(&[8, 0, 5, 0, 0, 0, 0, 2]); // outdev
    f.extend_from_slice(&(4 + IP_TCP.len() as u16).to_le_bytes());
    f.extend_from_slice(&[9, 0]);
    f.extend_from_slice(&IP_TCP);
    let p = decode(LinkType::Nflog, &f).unwrap();
    assert_eq!((p.src_mac, p.dst_mac), (None, None));
    assert_tcp_syn(&p);
    // No payload TLV: nothing to decode. A TLV length below 4: broken.
    assert_eq!(decode(LinkType::Nflog, &f[..20]).unwrap().net, Net::Other);
    let bad = [2, 0, 0, 0, 3, 0, 9, 0, 0x45];
    assert_eq!(
        decode(LinkType::Nflog, &bad),
        Err(DecodeError::TruncatedLink)
    );
    assert_eq!(
        decode(LinkType::Nflog, &f[..3]),
        Err(DecodeError::TruncatedLink)
    );
}

#[test]
fn null_loop_raw() {
    let mut f = vec![2, 0, 0, 0]; // AF_INET, little-endian host
    f.extend_from_slice(&IP_TCP);
    assert_tcp_syn(&decode(LinkType::Null, &f).unwrap());
    f[..4].copy_from_slice(&[0, 0, 0, 2]); // big-endian host
    assert_tcp_syn(&decode(LinkType::Null, &f).unwrap());
    assert_tcp_syn(&decode(LinkType::Loop, &f).unwrap());
    f[..4].copy_from_slice(&[0, 0, 0, 30]); // AF_INET6 (Darwin) with an IPv4 packet
    assert_eq!(decode(LinkType::Loop, &f), Err(DecodeError::BadIp));
    f[..4].copy_from_slice(&[0, 0, 0, 7]);
    assert_eq!(decode(LinkType::Loop, &f).unwrap().net, Net::Other);
    assert_eq!(
        decode(LinkType::Null, &f[..3]),
        Err(DecodeError::TruncatedLink)
    );
    assert_tcp_syn(&decode(LinkType::RawIp, &IP_TCP).unwrap());
    assert_tcp_syn(&decode(LinkType::Ipv4, &IP_TCP).unwrap());
    assert_eq!(decode(LinkType::Ipv6, &IP_TCP), Err(DecodeError::BadIp));
    assert_eq!(
        decode(LinkType::RawIp, &[]),
        Err(DecodeError::TruncatedLink)
    );
    assert_eq!(
        decode(LinkType::RawIp, &[0x55; 20]),
        Err(DecodeError::BadIp)
    );
}

// ---- Real captures -------------------------------------------------------------------------

/// `../shared/corpus` beside the repository (CI), or two levels up (a git worktree under
/// `wt/`); None, with a message, when absent.
fn corpus() -> Option<PathBuf> {
    let candidates = [
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"),
    ];
    let found = candidates.iter().map(PathBuf::from).find(|d| d.is_dir());
    if found.is_none() {
        eprintln!("skipping corpus test: no corpus at {}", candidates[0]);
    }
    found
}

/// The link type and frames of a pcap or pcapng file (first interface's link type).
fn read_frames(path: &Path) -> (u32, Vec<Vec<u8>>) {
    let bytes = std::fs::read(path).unwrap();
    let mut frames = Vec::new();
    if path.extension().is_some_and(|e| e == "pcapng") {
        let mut r = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).unwrap();
        while let Some(block) = r.next_block() {
            if let Some(epb) = block.unwrap().into_enhanced_packet() {
                frames.push(epb.data.into_owned());
            }
        }
        (u32::from(r.interfaces()[0].linktype), frames)
    } else {
        let mut r = pcap_file::pcap::PcapReader::new(&bytes[..]).unwrap();
        let link = u32::from(r.header().datalink);
        // Raw records: the checked reader rejects a record longer than the snap length,
        // which trunc-capture-record.pcap is on purpose.
        while let Some(p) = r.next_raw_packet() {
            frames.push(p.unwrap().data.into_owned());
        }
        (link, frames)
    }
}

/// (transport, ip a, port a, ip b, port b) with the smaller endpoint first.
type ConvKey = (&'static str, String, u16, String, u16);

fn conv_key(t: &'static str, a: (String, u16), b: (String, u16)) -> ConvKey {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    (t, x.0, x.1, y.0, y.1)
}

/// Per conversation, the packets and captured frame bytes of every TCP/UDP packet. Like
/// tshark, a fragmented datagram counts once, as its last fragment (the one completing
/// reassembly), in the conversation given by the ports of its first fragment, parsed with
/// [`transport::parse`].
fn conversations(link: LinkType, frames: &[Vec<u8>]) -> HashMap<ConvKey, (u64, u64)> {
    type FragKey = (IpAddr, IpAddr, u8, u32);
    let mut datagrams: HashMap<FragKey, ConvKey> = HashMap::new();
    let mut keyed: Vec<(Option<ConvKey>, Option<FragKey>, u64)> = Vec::new();
    for f in frames {
        let Ok(Packet {
            net: Net::Ip(ip), ..
        }) = decode(link, f)
        else {
            continue;
        };
        let frag_key = ip.fragment.map(|fr| (ip.src, ip.dst, ip.proto, fr.id));
        let transport = match ip.fragment {
            Some(fr) if fr.offset == 0 => transport::parse(ip.proto, ip.payload),
            _ => ip.transport,
        };
        let (t, sp, dp) = match transport {
            Transport::Tcp(t) => ("tcp", t.src_port, t.dst_port),
            Transport::Udp(u) => ("udp", u.src_port, u.dst_port),
            _ => {
                if ip.fragment.is_some_and(|fr| !fr.more) {
                    keyed.push((None, frag_key, f.len() as u64));
                }
                continue;
            }
        };
        let key = conv_key(t, (ip.src.to_string(), sp), (ip.dst.to_string(), dp));
        if let Some(fk) = frag_key {
            datagrams.insert(fk, key.clone());
        }
        if ip.fragment.is_some_and(|fr| fr.more) {
            continue;
        }
        keyed.push((Some(key), frag_key, f.len() as u64));
    }
    let mut out: HashMap<ConvKey, (u64, u64)> = HashMap::new();
    for (key, frag_key, len) in keyed {
        let Some(key) = key.or_else(|| frag_key.and_then(|fk| datagrams.get(&fk).cloned())) else {
            continue;
        };
        let e = out.entry(key).or_default();
        e.0 += 1;
        e.1 += len;
    }
    out
}

/// Checks every expected flow of `case` against the decoded conversations; returns the number
/// of flows checked.
fn check_expected_flows(dir: &Path, case: &str, link_name: &str, expect_link: LinkType) -> usize {
    let json = std::fs::read_to_string(dir.join("expected").join(format!("{case}.json"))).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(expected["capture"]["link_type"], link_name);
    let (n, frames) = read_frames(&dir.join(expected["pcap"].as_str().unwrap()));
    let link = LinkType::from_linktype(n).unwrap();
    assert_eq!(link, expect_link);
    assert_eq!(
        frames.len() as u64,
        expected["capture"]["packets"].as_u64().unwrap()
    );
    if !MALFORMED_CASES.contains(&case) {
        for (i, f) in frames.iter().enumerate() {
            assert!(
                decode(link, f).is_ok(),
                "{case} frame {i}: {:?}",
                decode(link, f)
            );
        }
    }
    // The peers split one 5-tuple into several flows over time: compare per 5-tuple sums.
    let mut want: HashMap<ConvKey, (u64, u64)> = HashMap::new();
    let flows = expected["flows"].as_array().unwrap();
    for flow in flows {
        let ip = |k: &str| flow[k].as_str().unwrap().to_string();
        let port = |k: &str| flow[k].as_u64().unwrap() as u16;
        let t = if flow["transport"] == "tcp" {
            "tcp"
        } else {
            "udp"
        };
        let key = conv_key(
            t,
            (ip("client"), port("client_port")),
            (ip("server"), port("server_port")),
        );
        let e = want.entry(key).or_default();
        e.0 += flow["packets"].as_u64().unwrap();
        e.1 += flow["bytes"].as_u64().unwrap();
    }
    assert_eq!(conversations(link, &frames), want, "{case}");
    flows.len()
}

/// Corpus cases whose single frame is malformed on purpose (checked in
/// `corpus_malformed_frames_are_errors`).
const MALFORMED_CASES: [&str; 3] = [
    "malformed-ip-bogus-header-len",
    "trunc-ipv4-header",
    "trunc-capture-record",
];

/// Every frame of every corpus capture (Ethernet, SLL, NFLOG; pcap and pcapng) decodes, and
/// the TCP/UDP packets and bytes per 5-tuple equal the peers' expected flows, fragments and
/// offload super-frames included.
#[test]
fn corpus_every_case_matches_expected_flows() {
    let Some(dir) = corpus() else { return };
    let mut cases: Vec<String> = std::fs::read_dir(dir.join("expected"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 48);
    let mut flows = 0;
    for case in &cases {
        let json = std::fs::read_to_string(dir.join("expected").join(format!("{case}.json")));
        let expected: serde_json::Value = serde_json::from_str(&json.unwrap()).unwrap();
        let link_name = expected["capture"]["link_type"]
            .as_str()
            .unwrap()
            .to_string();
        let link = match link_name.as_str() {
            "ether" => LinkType::Ethernet,
            "nflog" => LinkType::Nflog,
            "linux-sll" => LinkType::LinuxSll,
            other => panic!("{case}: unexpected link type {other}"),
        };
        flows += check_expected_flows(&dir, case, &link_name, link);
    }
    assert_eq!(flows, 341);
}

#[test]
fn corpus_nflog_every_frame_is_the_http_flow() {
    let Some(dir) = corpus() else { return };
    assert_eq!(
        check_expected_flows(&dir, "http-nflog-linktype", "nflog", LinkType::Nflog),
        1
    );
}

#[test]
fn corpus_gtp_in_sll_inner_addresses() {
    let Some(dir) = corpus() else { return };
    let case = "phone-iphone-gtp-tunnel";
    let flows = check_expected_flows(&dir, case, "linux-sll", LinkType::LinuxSll);
    assert_eq!(flows, 11);
    let (_, frames) = read_frames(&dir.join("pcaps").join(format!("{case}.pcap")));
    // The 98 TCP/UDP packets are in the flows above; the other 8 are ICMP (the MLDv2
    // reports sit behind a hop-by-hop header). No outer (127.0.1.x GTP endpoint) address
    // may leak out.
    let mut icmp = Vec::new();
    for f in &frames {
        let p = decode(LinkType::LinuxSll, f).unwrap();
        assert_eq!((p.tunnel_depth, p.src_mac), (1, None));
        let ip = ip_of(&p);
        assert!(!ip.src.is_loopback() && !ip.dst.is_loopback(), "{ip:?}");
        if let Transport::Icmp { icmp_type, code } = ip.transport {
            icmp.push((ip.proto, icmp_type, code));
        }
    }
    icmp.sort_unstable();
    let want = [
        (1, 3, 3),
        (58, 1, 4),
        (58, 1, 4),
        (58, 1, 4),
        (58, 133, 0),
        (58, 134, 0),
    ];
    assert_eq!(icmp[..6], want);
    assert_eq!(icmp[6..], [(58, 143, 0), (58, 143, 0)]);
    assert_eq!(frames.len(), 106);
}

#[test]
fn corpus_malformed_frames_are_errors() {
    let Some(dir) = corpus() else { return };
    let (n, frames) = read_frames(&dir.join("pcaps/malformed-ip-bogus-header-len.pcap"));
    assert_eq!((n, frames.len()), (1, 1));
    assert_eq!(
        decode(LinkType::Ethernet, &frames[0]),
        Err(DecodeError::BadIp)
    );
    let (_, frames) = read_frames(&dir.join("pcaps/trunc-ipv4-header.pcap"));
    assert_eq!(
        decode(LinkType::Ethernet, &frames[0]),
        Err(DecodeError::BadIp)
    );
    let (_, frames) = read_frames(&dir.join("pcaps/trunc-capture-record.pcap"));
    assert_eq!(
        decode(LinkType::Ethernet, &frames[0]),
        Err(DecodeError::TruncatedLink)
    );
}
