//! Tests of the link/network/transport builders against RFC values and real corpus frames.

use super::*;

/// Decodes a hex literal (test data only).
fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test literal is valid hex")
}

/// Frame 78 of /work/shared/corpus/pcaps/phone-android9-mixed.pcap (a Nokia 2.2, HMD OUI
/// 4c:6a:f6, asking its resolver for captive.apple.com A); the corpus records 0 bad checksums
/// for that file.
const CORPUS_DNS_FRAME: &str =
    "c62c03606a644c6af69ff62708004500003fa922400040110c2ac0a80210c0a80201\
ced90035002b03d6fba6010000010000000000000763617074697665056170706c6503636f6d0000010001";
/// Frame 80 of the same file: the phone's TCP SYN to 17.253.53.201:80 (checksum 0x6602).
const CORPUS_TCP_SYN: &str = "c62c03606a644c6af69ff62708004500003c489f40004006e79ec0a8021011fd35c9\
e3e2005045ec7a7100000000a002ffff66020000020405b40402080affff32ee0000000001030308";
/// Frame 69 of the same file: a DHCPv6 Solicit over IPv6/UDP (checksum 0x51cf).
const CORPUS_V6_UDP: &str =
    "3333000100024c6af69ff62786dd6004d8a9003c1101fe800000000000004e6af6fffe\
9ff627ff02000000000000000000000001000202220223003c51cf01d8e4fe0001000e0001000125e5148e4c6af69ff62\
70003000c0e0008ca00000000000000000008000200000006000400170018";

#[test]
fn rfc1071_example_checksum() {
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
    assert_eq!(
        internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
        0x220d
    );
}

#[test]
fn ipv4_header_checksum_known_value() {
    // The classic worked example (192.168.0.1 → 192.168.0.199, UDP, id 0, TTL 64):
    // its header checksum is 0xb861.
    let p = ipv4(
        Ipv4Addr::new(192, 168, 0, 1),
        Ipv4Addr::new(192, 168, 0, 199),
        IPPROTO_UDP,
        0,
        64,
        &[0u8; 0x73 - 20],
    );
    assert_eq!(
        &p[..20],
        &unhex(
            "4500007300004000 4011b861c0a80001c0a800c7"
                .replace(' ', "")
                .as_str()
        )[..]
    );
    assert_eq!(internet_checksum(&p[..20]), 0);
}

#[test]
fn rebuilds_corpus_dns_frame_byte_for_byte() {
    let want = unhex(CORPUS_DNS_FRAME);
    let phone = Endpoint {
        mac: MacAddr([0x4c, 0x6a, 0xf6, 0x9f, 0xf6, 0x27]),
        ip: IpAddr::V4(Ipv4Addr::new(192, 168, 2, 16)),
        port: 52953,
        ttl: 64,
    };
    let resolver = Endpoint {
        mac: MacAddr([0xc6, 0x2c, 0x03, 0x60, 0x6a, 0x64]),
        ip: IpAddr::V4(Ipv4Addr::new(192, 168, 2, 1)),
        port: 53,
        ttl: 64,
    };
    let query = crate::synth::dns::dns_query(0xfba6, "captive.apple.com", 1);
    let got = udp_frame(&phone, &resolver, 0xa922, &query).expect("same family");
    assert_eq!(hex::encode(&got), hex::encode(&want));
}

#[test]
fn tcp_checksum_matches_corpus_syn() {
    let f = unhex(CORPUS_TCP_SYN);
    let ips = IpPair::V4 {
        src: Ipv4Addr::new(192, 168, 2, 16),
        dst: Ipv4Addr::new(17, 253, 53, 201),
    };
    let seg = &f[34..];
    assert_eq!(ips.transport_checksum(IPPROTO_TCP, seg, 8), 0x6602);
    // The same segment rebuilt with only its MSS option has a different but still valid sum.
    let fields = TcpFields {
        seq: 0x45ec7a71,
        ack: 0,
        flags: 0x02,
        window: 0xffff,
        mss: Some(1460),
    };
    let mine = tcp(ips, 58338, 80, &fields, &[]);
    assert_eq!(mine[..12], seg[..12], "ports, seq and ack");
    assert_eq!(mine[12], 0x60, "data offset 6 words: MSS only");
    assert_eq!(mine[13..16], seg[13..16], "flags and window");
    assert_eq!(
        ips.transport_checksum(IPPROTO_TCP, &mine, 8),
        u16::from_be_bytes([mine[16], mine[17]])
    );
}

#[test]
fn ipv6_udp_checksum_matches_corpus() {
    let f = unhex(CORPUS_V6_UDP);
    let src: Ipv6Addr = "fe80::4e6a:f6ff:fe9f:f627".parse().expect("literal");
    let dst: Ipv6Addr = "ff02::1:2".parse().expect("literal");
    let ips = IpPair::V6 { src, dst };
    assert_eq!(ips.transport_checksum(IPPROTO_UDP, &f[54..], 3), 0x51cf);
    // Rebuilding the datagram from its payload reproduces the captured IPv6 packet.
    let seg = udp(ips, 546, 547, &f[62..]);
    assert_eq!(ipv6(src, dst, IPPROTO_UDP, 1, &seg)[6..], f[20..]);
}

#[test]
fn short_frames_are_padded_and_arp_is_28_bytes() {
    let a = arp(
        1,
        MacAddr([2; 6]),
        Ipv4Addr::new(10, 0, 0, 2),
        MacAddr([0; 6]),
        Ipv4Addr::new(10, 0, 0, 1),
    );
    assert_eq!(a.len(), 28);
    let f = ethernet(BROADCAST_MAC, MacAddr([2; 6]), ETHERTYPE_ARP, &a);
    assert_eq!(f.len(), MIN_ETHERNET_FRAME);
    assert_eq!(&f[12..16], &[0x08, 0x06, 0x00, 0x01]);
    assert!(f[42..].iter().all(|&b| b == 0));
}

#[test]
fn oversized_payload_is_cut_and_lengths_stay_consistent() {
    let ips = IpPair::V4 {
        src: Ipv4Addr::LOCALHOST,
        dst: Ipv4Addr::LOCALHOST,
    };
    let big = vec![0xabu8; 70_000];
    let seg = udp(ips, 1, 2, &big);
    assert_eq!(seg.len(), 8 + MAX_TRANSPORT_PAYLOAD);
    assert_eq!(usize::from(u16::from_be_bytes([seg[4], seg[5]])), seg.len());
    let p = ipv4(
        Ipv4Addr::LOCALHOST,
        Ipv4Addr::LOCALHOST,
        IPPROTO_UDP,
        7,
        64,
        &seg,
    );
    assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), p.len());
    assert_eq!(internet_checksum(&p[..20]), 0);
}

#[test]
fn mixed_families_are_refused() {
    let a = Endpoint {
        mac: MacAddr([2; 6]),
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 1,
        ttl: 64,
    };
    let b = Endpoint {
        ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
        ..a
    };
    assert_eq!(udp_frame(&a, &b, 0, b"x"), None);
    assert_eq!(tcp_frame(&a, &b, 0, &TcpFields::default(), b"x"), None);
}
