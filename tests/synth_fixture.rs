//! `data/demo.pcap` is exactly `synth::demo_capture()`, and it is a sane capture: readable by
//! pcap-file, every IPv4 header and UDP/TCP checksum valid (verified here with an independent
//! RFC 1071 implementation), the designed packet count, documentation-range servers only.
//!
//! Regenerate the file after changing the demo: `PHONEHOME_WRITE_DEMO=1 cargo test --test
//! synth_fixture`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use pcap_file::pcap::PcapReader;
use phonehome::synth::{demo, demo_capture};

fn demo_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/demo.pcap")
}

/// One's-complement sum of 16-bit words (RFC 1071), odd byte padded with zero.
fn ones_sum(mut acc: u32, data: &[u8]) -> u32 {
    for w in data.chunks(2) {
        acc += u32::from(w[0]) << 8 | u32::from(*w.get(1).unwrap_or(&0));
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

/// True when `data` (checksum field included) sums to 0xffff.
fn sums_to_ones(acc: u32, data: &[u8]) -> bool {
    ones_sum(acc, data) == 0xffff
}

/// The IP layer of a frame: source, destination, protocol, transport bytes.
type IpView = (IpAddr, IpAddr, u8, Vec<u8>);

/// Ethertype of a demo frame and, for IP, its [`IpView`] (the IPv4 header checksum checked).
fn network(frame: &[u8]) -> (u16, Option<IpView>) {
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let ip = &frame[14..];
    match ethertype {
        0x0800 => {
            assert_eq!(ip[0], 0x45, "IPv4 without options");
            let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
            assert!(sums_to_ones(0, &ip[..20]), "IPv4 header checksum");
            let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
            let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
            (
                ethertype,
                Some((src.into(), dst.into(), ip[9], ip[20..total].to_vec())),
            )
        }
        0x86dd => {
            let plen = u16::from_be_bytes([ip[4], ip[5]]) as usize;
            let src: [u8; 16] = ip[8..24].try_into().unwrap();
            let dst: [u8; 16] = ip[24..40].try_into().unwrap();
            let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
            (
                ethertype,
                Some((src.into(), dst.into(), ip[6], ip[40..40 + plen].to_vec())),
            )
        }
        _ => (ethertype, None),
    }
}

/// Sum of the RFC 768/793 (IPv4) or RFC 8200 §8.1 (IPv6) pseudo-header of a segment.
fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut b = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            b.extend_from_slice(&s.octets());
            b.extend_from_slice(&d.octets());
            b.extend_from_slice(&[0, proto]);
            b.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            b.extend_from_slice(&s.octets());
            b.extend_from_slice(&d.octets());
            b.extend_from_slice(&(len as u32).to_be_bytes());
            b.extend_from_slice(&[0, 0, 0, proto]);
        }
        _ => panic!("mixed families"),
    }
    ones_sum(0, &b)
}

fn is_documentation(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            matches!(
                (o[0], o[1], o[2]),
                (192, 0, 2) | (198, 51, 100) | (203, 0, 113)
            )
        }
        IpAddr::V6(v) => v.segments()[..2] == [0x2001, 0x0db8],
    }
}

fn is_lan(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            (o[0], o[1], o[2]) == (192, 168, 8) || v.is_unspecified() || v.is_broadcast()
        }
        IpAddr::V6(v) => v.segments()[..3] == [0xfd00, 0xc0a8, 8],
    }
}

#[test]
fn committed_demo_pcap_equals_demo_capture() {
    let bytes = demo_capture();
    assert_eq!(bytes, demo_capture(), "deterministic");
    if std::env::var_os("PHONEHOME_WRITE_DEMO").is_some() {
        std::fs::create_dir_all(demo_path().parent().unwrap()).unwrap();
        std::fs::write(demo_path(), &bytes).unwrap();
    }
    let committed = std::fs::read(demo_path()).expect("data/demo.pcap is committed");
    assert!(
        committed == bytes,
        "data/demo.pcap drifted from synth::demo_capture(): regenerate it"
    );
}

#[test]
fn demo_is_a_valid_capture_with_valid_checksums() {
    let bytes = demo_capture();
    let mut reader = PcapReader::new(&bytes[..]).expect("pcap header");
    assert_eq!(reader.header().datalink, pcap_file::DataLink::ETHERNET);
    assert_eq!(
        reader.header().ts_resolution,
        pcap_file::TsResolution::MicroSecond
    );
    let (mut n, mut last_ts) = (0usize, 0u128);
    let (mut arp, mut udp, mut tcp, mut v6) = (0, 0, 0, 0);
    let mut syns = 0;
    let mut v6_client_data: Vec<(u32, Vec<u8>)> = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.expect("record");
        n += 1;
        let ts = p.timestamp.as_micros();
        assert!(ts > last_ts, "frame {n}: timestamps strictly increase");
        last_ts = ts;
        assert_eq!(p.orig_len as usize, p.data.len());
        assert!(
            p.data.len() >= 60 && p.data.len() <= 1514,
            "frame {n}: Ethernet size"
        );
        let (ethertype, net) = network(&p.data);
        let Some((src, dst, proto, seg)) = net else {
            assert_eq!(ethertype, 0x0806, "frame {n}: only ARP besides IP");
            arp += 1;
            continue;
        };
        if src.is_ipv6() {
            v6 += 1;
        }
        for ip in [src, dst] {
            assert!(
                is_lan(ip) || is_documentation(ip),
                "frame {n}: {ip} outside LAN/doc ranges"
            );
        }
        assert!(
            is_lan(src) || is_lan(dst),
            "frame {n}: involves the phone or the AP"
        );
        let acc = pseudo(src, dst, proto, seg.len());
        match proto {
            17 => {
                udp += 1;
                assert_eq!(u16::from_be_bytes([seg[4], seg[5]]) as usize, seg.len());
                assert!(sums_to_ones(acc, &seg), "frame {n}: UDP checksum");
            }
            6 => {
                tcp += 1;
                syns += usize::from(seg[13] & 0x02 != 0);
                let data = &seg[(seg[12] >> 4) as usize * 4..];
                if src.is_ipv6() && u16::from_be_bytes([seg[2], seg[3]]) == 443 && !data.is_empty()
                {
                    let seq = u32::from_be_bytes([seg[4], seg[5], seg[6], seg[7]]);
                    v6_client_data.push((seq, data.to_vec()));
                }
                assert!(sums_to_ones(acc, &seg), "frame {n}: TCP checksum");
            }
            other => panic!("frame {n}: unexpected protocol {other}"),
        }
    }
    assert_eq!(n, demo::DEMO_PACKETS);
    // 2 ARP; 4 DHCP + 5 × 4 DNS; 2 HTTP sessions × 10 + 3 TLS × 19 + the split one 20.
    assert_eq!((arp, udp, tcp), (2, 24, 97));
    assert_eq!(n, 123);
    assert_eq!(syns, 12, "6 connections: SYN and SYN-ACK each");
    assert_eq!(v6, 20, "the IPv6 TLS session");
    // Its 517-byte ClientHello arrives as two segments, the second half first.
    let (late, early) = (&v6_client_data[0], &v6_client_data[1]);
    assert_eq!((early.1.len(), late.1.len()), (258, 259));
    assert_eq!(late.0, early.0.wrapping_add(258));
    assert_eq!(early.1[..6], [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
}

#[test]
fn demo_carries_the_scenario_payloads() {
    let bytes = demo_capture();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"GET /generate_204 HTTP/1.1\r\nUser-Agent: Dalvik/2.1.0 (Linux; U; Android 10; Nokia 7 plus Build/QKQ1.190828.002)\r\nHost: connectivitycheck.gstatic.com\r\n"));
    assert!(has(b"\x0c\x0cNokia-7-plus"), "DHCP hostname option");
    assert!(has(b"\x3c\x0fandroid-dhcp-10"), "DHCP vendor class option");
    assert!(
        has(&[55, 10, 1, 3, 6, 15, 26, 28, 51, 58, 59, 43]),
        "Android 10 option 55"
    );
    assert!(has(b"imei=490154203237518"));
    for sni in [
        "www.google.com",
        "android.googleapis.com",
        "www.hmdglobal.com",
        "connectivitycheck.gstatic.com",
    ] {
        let mut ext = vec![0, 0];
        ext.extend_from_slice(&(sni.len() as u16 + 5).to_be_bytes());
        ext.extend_from_slice(&(sni.len() as u16 + 3).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        ext.extend_from_slice(sni.as_bytes());
        assert!(has(&ext), "SNI extension for {sni}");
    }
}
