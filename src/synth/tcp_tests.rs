//! Tests of [`TcpConversation`]: flags, sequence arithmetic, out-of-order delivery.

use super::*;
use crate::event::MacAddr;
use std::net::{IpAddr, Ipv4Addr};

fn ends() -> (Endpoint, Endpoint) {
    let c = Endpoint {
        mac: MacAddr([0x04, 0xf1, 0x28, 1, 2, 3]),
        ip: IpAddr::V4(Ipv4Addr::new(192, 168, 8, 23)),
        port: 40000,
        ttl: 64,
    };
    let s = Endpoint {
        mac: MacAddr([0xdc, 0xa6, 0x32, 1, 2, 3]),
        ip: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 4)),
        port: 443,
        ttl: 57,
    };
    (c, s)
}

/// (src port, seq, ack, flags, payload) of an IPv4/TCP frame with a 20- or 24-byte header.
fn seg(f: &[u8]) -> (u16, u32, u32, u8, Vec<u8>) {
    let t = &f[34..];
    let ip_len = u16::from_be_bytes([f[16], f[17]]) as usize;
    let hl = (t[12] >> 4) as usize * 4;
    (
        u16::from_be_bytes([t[0], t[1]]),
        u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
        u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
        t[13],
        f[34 + hl..14 + ip_len].to_vec(),
    )
}

#[test]
fn handshake_data_and_close_sequence_numbers() {
    let (c, s) = ends();
    let mut conv = TcpConversation::new(c, s, 1_000_000)
        .expect("v4")
        .with_isns(100, 5000);
    conv.handshake()
        .client_data(b"hello")
        .server_data(b"world!")
        .close();
    let got: Vec<_> = conv.frames().iter().map(|(_, f)| seg(f)).collect();
    let want: Vec<(u16, u32, u32, u8, Vec<u8>)> = vec![
        (40000, 100, 0, SYN, vec![]),
        (443, 5000, 101, SYN | ACK, vec![]),
        (40000, 101, 5001, ACK, vec![]),
        (40000, 101, 5001, PSH | ACK, b"hello".to_vec()),
        (443, 5001, 106, ACK, vec![]),
        (443, 5001, 106, PSH | ACK, b"world!".to_vec()),
        (40000, 106, 5007, ACK, vec![]),
        (40000, 106, 5007, FIN | ACK, vec![]),
        (443, 5007, 107, FIN | ACK, vec![]),
        (40000, 107, 5008, ACK, vec![]),
    ];
    assert_eq!(got, want);
    let ts: Vec<Ts> = conv.frames().iter().map(|(t, _)| *t).collect();
    assert_eq!(
        ts,
        (1..=10)
            .map(|i| 1_000_000 + i * DEFAULT_STEP)
            .collect::<Vec<_>>()
    );
    // MSS option on both SYNs only.
    assert_eq!(conv.frames()[0].1[34 + 20..34 + 24], [2, 4, 0x05, 0xb4]);
    assert_eq!(conv.frames()[2].1[34 + 12] >> 4, 5);
}

#[test]
fn split_payload_delivered_out_of_order() {
    let (c, s) = ends();
    let mut conv = TcpConversation::new(c, s, 0)
        .expect("v4")
        .with_isns(0xffff_fff0, 1);
    conv.handshake()
        .client_data_split(b"0123456789abcdefghij", 2, &[1, 0]);
    let f = conv.frames();
    assert_eq!(f.len(), 3 + 2 + 1);
    // ISN 0xfffffff0: data starts at 0xfffffff1 and wraps past zero.
    assert_eq!(
        seg(&f[3].1),
        (40000, 0xffff_fffb, 2, PSH | ACK, b"abcdefghij".to_vec())
    );
    assert_eq!(
        seg(&f[4].1),
        (40000, 0xffff_fff1, 2, ACK, b"0123456789".to_vec())
    );
    assert_eq!(seg(&f[5].1), (443, 2, 0x0000_0005, ACK, vec![]));
}

#[test]
fn bad_order_falls_back_and_large_payloads_respect_mss() {
    let (c, s) = ends();
    let mut conv = TcpConversation::new(c, s, 0).expect("v4").with_isns(0, 0);
    conv.client_data_split(b"abc", 3, &[0, 0, 2]);
    let data: Vec<_> = conv.frames().iter().map(|(_, f)| seg(f).4).collect();
    assert_eq!(
        data,
        vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), vec![]]
    );
    let mut conv = TcpConversation::new(c, s, 0).expect("v4").with_isns(0, 0);
    conv.client_data_split(&[7u8; 4000], 1, &[0]);
    let sizes: Vec<usize> = conv.frames().iter().map(|(_, f)| seg(f).4.len()).collect();
    assert_eq!(sizes, vec![1333, 1333, 1334, 0]);
    let mut conv = TcpConversation::new(c, s, 0).expect("v4").with_isns(0, 0);
    conv.server_data(&[1u8; 3000]);
    let sizes: Vec<usize> = conv.frames().iter().map(|(_, f)| seg(f).4.len()).collect();
    assert_eq!(sizes, vec![1460, 1460, 80, 0]);
}

#[test]
fn pause_and_step_drive_timestamps() {
    let (c, s) = ends();
    let mut conv = TcpConversation::new(c, s, 10).expect("v4").with_step(5);
    conv.handshake().pause(100).close();
    let ts: Vec<Ts> = conv.frames().iter().map(|(t, _)| *t).collect();
    assert_eq!(ts, vec![15, 20, 25, 130, 135, 140]);
}

#[test]
fn ipv6_uses_the_smaller_mss_and_fits_the_mtu() {
    let (c, s) = ends();
    let c = Endpoint {
        ip: "fd00::17".parse().expect("literal"),
        ..c
    };
    let s = Endpoint {
        ip: "2001:db8::1".parse().expect("literal"),
        ..s
    };
    let mut conv = TcpConversation::new(c, s, 0).expect("v6");
    conv.handshake().server_data(&[1u8; 3000]);
    let f = conv.frames();
    assert_eq!(
        f[0].1[14 + 40 + 20..14 + 40 + 24],
        [2, 4, 0x05, 0xa0],
        "MSS 1440 on the SYN"
    );
    let lens: Vec<usize> = f[3..].iter().map(|(_, f)| f.len()).collect();
    assert_eq!(lens, vec![1514, 1514, 14 + 40 + 20 + 120, 14 + 40 + 20]);
}
