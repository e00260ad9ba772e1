//! DHCP: corpus messages and hostile input.

use std::net::Ipv4Addr;

use phonehome::decode::dhcp::{msg_type_name, op_name, parse, DhcpMessage, MAX_OPTIONS};
use phonehome::event::MacAddr;
use proptest::prelude::*;

use crate::fixture;

fn msg(name: &str) -> DhcpMessage {
    parse(&fixture(name)).unwrap_or_else(|| panic!("{name} parses"))
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

#[test]
fn wireshark_dora() {
    let mac = MacAddr::parse("00:0b:82:01:fc:42");
    // (frame, op, xid, type, yiaddr, requested_ip, server_id, param_list, options_present)
    type Row<'a> = (
        &'a str,
        &'a str,
        u32,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        &'a [u8],
        &'a [u8],
    );
    let rows: [Row; 4] = [
        (
            "f1",
            "BOOTREQUEST",
            0x3d1d,
            "DISCOVER",
            None,
            Some("0.0.0.0"),
            None,
            &[1, 3, 6, 42],
            &[53, 61, 50, 55],
        ),
        (
            "f2",
            "BOOTREPLY",
            0x3d1d,
            "OFFER",
            Some("192.168.0.10"),
            None,
            Some("192.168.0.1"),
            &[],
            &[53, 1, 58, 59, 51, 54],
        ),
        (
            "f3",
            "BOOTREQUEST",
            0x3d1e,
            "REQUEST",
            None,
            Some("192.168.0.10"),
            Some("192.168.0.1"),
            &[1, 3, 6, 42],
            &[53, 61, 50, 54, 55],
        ),
        (
            "f4",
            "BOOTREPLY",
            0x3d1e,
            "ACK",
            Some("192.168.0.10"),
            None,
            Some("192.168.0.1"),
            &[],
            &[53, 58, 59, 51, 54, 1],
        ),
    ];
    for (f, op, xid, ty, yiaddr, req, sid, params, present) in rows {
        let m = msg(&format!("dhcp-wireshark-dora.{f}"));
        assert_eq!(op_name(m.op), op, "{f}");
        assert_eq!(m.xid, xid, "{f}");
        assert_eq!(Some(m.client_mac), mac, "{f}");
        assert_eq!(m.msg_type.map(msg_type_name).as_deref(), Some(ty), "{f}");
        assert_eq!(m.yiaddr, yiaddr.map_or(Ipv4Addr::UNSPECIFIED, ip), "{f}");
        assert_eq!(m.ciaddr, Ipv4Addr::UNSPECIFIED, "{f}");
        assert_eq!(m.requested_ip, req.map(ip), "{f}");
        assert_eq!(m.server_id, sid.map(ip), "{f}");
        assert_eq!(m.param_list, params, "{f}");
        assert_eq!(m.options_present, present, "{f}");
        assert_eq!(
            (m.hostname.as_ref(), m.vendor_class.as_ref()),
            (None, None),
            "{f}"
        );
        assert!(!m.malformed, "{f}");
    }
    // Client identifier of the DISCOVER: hardware type 1 + the MAC.
    let m = msg("dhcp-wireshark-dora.f1");
    assert_eq!(
        m.client_id,
        Some(vec![1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42])
    );
}

#[test]
fn full_exchange_all_types() {
    // (frame, type, hostname, vendor_class, requested_ip, server_id, options_present)
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        &'a [u8],
    );
    const SERVER_OPTS: &[u8] = &[53, 54, 51, 1, 3, 6, 4, 67, 28, 42, 43, 60, 44, 46, 15];
    let rows: [Row; 9] = [
        (
            "f1",
            "DISCOVER",
            Some("btest.is.cool"),
            None,
            Some("192.168.211.194"),
            None,
            &[53, 50, 12],
        ),
        (
            "f2",
            "OFFER",
            None,
            Some("ArubaAP"),
            None,
            Some("128.2.6.152"),
            SERVER_OPTS,
        ),
        (
            "f3",
            "REQUEST",
            Some("btest.is.cool"),
            None,
            Some("192.168.211.194"),
            Some("128.2.6.152"),
            &[53, 54, 50, 12],
        ),
        (
            "f4",
            "NAK",
            None,
            None,
            None,
            Some("128.2.6.152"),
            &[53, 54, 56],
        ),
        (
            "f5",
            "REQUEST",
            Some("btest.is.cool"),
            None,
            Some("128.2.6.189"),
            None,
            &[53, 50, 12],
        ),
        (
            "f6",
            "ACK",
            None,
            Some("ArubaAP"),
            None,
            Some("128.2.6.152"),
            SERVER_OPTS,
        ),
        ("f7", "DECLINE", None, None, None, None, &[53]),
        ("f8", "RELEASE", None, None, None, None, &[53]),
        (
            "f9",
            "INFORM",
            Some("btest.is.cool"),
            None,
            Some("128.2.6.189"),
            None,
            &[53, 51, 50, 12],
        ),
    ];
    let xids = [
        0x7c0, 0x7c0, 0x7c0, 0x7c0, 0x7c0, 0x7c0, 0x7c0, 0x79c, 0x7c4,
    ];
    for ((f, ty, host, vendor, req, sid, present), xid) in rows.into_iter().zip(xids) {
        let m = msg(&format!("dhcp-full-exchange-all-types.{f}"));
        assert_eq!(m.xid, xid, "{f}");
        assert_eq!(m.client_mac.to_string(), "90:b1:1c:99:49:29", "{f}");
        assert_eq!(m.msg_type.map(msg_type_name).as_deref(), Some(ty), "{f}");
        assert_eq!(m.hostname.as_deref(), host, "{f}");
        assert_eq!(m.vendor_class.as_deref(), vendor, "{f}");
        assert_eq!(m.requested_ip, req.map(ip), "{f}");
        assert_eq!(m.server_id, sid.map(ip), "{f}");
        assert_eq!(m.options_present, present, "{f}");
    }
    assert_eq!(
        msg("dhcp-full-exchange-all-types.f2").yiaddr,
        ip("128.2.6.97")
    );
    assert_eq!(
        msg("dhcp-full-exchange-all-types.f6").yiaddr,
        ip("128.2.6.189")
    );
}

#[test]
fn cisco_client_id_hardware_type_zero() {
    let m = msg("dhcp-cisco-client-id-hwtype0.f1");
    assert_eq!(op_name(m.op), "BOOTREQUEST");
    assert_eq!(m.xid, 0x155c);
    assert_eq!(m.client_mac.to_string(), "cc:00:0a:c4:00:00");
    assert_eq!(m.msg_type.map(msg_type_name).as_deref(), Some("REQUEST"));
    assert_eq!(m.ciaddr, ip("192.168.0.3"));
    assert_eq!(m.hostname.as_deref(), Some("R0"));
    assert_eq!(m.param_list, vec![1, 6, 15, 44, 3, 33, 150, 43]);
    assert_eq!(m.options_present, vec![53, 57, 61, 51, 12, 55]);
    assert_eq!(m.client_id.as_ref().and_then(|c| c.first()), Some(&0));
}

#[test]
fn every_truncation_is_safe() {
    let full = fixture("dhcp-cisco-client-id-hwtype0.f1");
    let whole = parse(&full).expect("parses");
    for n in 0..full.len() {
        match parse(&full[..n]) {
            None => assert!(n < 240, "cookie present at {n}"),
            Some(m) => {
                assert_eq!(m.xid, whole.xid);
                assert!(
                    whole.options_present.starts_with(&m.options_present),
                    "at {n}"
                );
            }
        }
    }
}

#[test]
fn option_flood_is_capped() {
    let mut b = fixture("dhcp-wireshark-dora.f1");
    b.truncate(240);
    for _ in 0..2000 {
        b.extend_from_slice(&[224, 0]);
    }
    let m = parse(&b).expect("parses");
    assert_eq!(m.options_present.len(), MAX_OPTIONS);
    assert!(m.malformed);
}

#[test]
fn odd_hardware_types_still_take_six_bytes() {
    let mut b = fixture("dhcp-wireshark-dora.f1");
    b[1] = 0; // htype
    b[2] = 16; // hlen
    let m = parse(&b).expect("parses");
    assert_eq!(m.client_mac.to_string(), "00:0b:82:01:fc:42");
    assert_eq!((m.htype, m.hlen), (0, 16));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = parse(&b);
    }

    #[test]
    fn random_options_never_panic(opts in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut b = fixture("dhcp-wireshark-dora.f1");
        b.truncate(240);
        b.extend_from_slice(&opts);
        let m = parse(&b).expect("fixed header and cookie are intact");
        prop_assert!(m.options_present.len() <= MAX_OPTIONS);
        prop_assert!(m.param_list.len() <= 255);
    }
}
