use super::*;

const PHONE: MacAddr = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const ROUTER: MacAddr = MacAddr([0x00, 0x0d, 0xb9, 0x01, 0x02, 0x03]);

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// An NDP message: type, 4 bytes after the header's checksum, optional target, options.
fn msg(ty: u8, word: [u8; 4], target: Option<Ipv6Addr>, opts: &[(u8, MacAddr)]) -> Vec<u8> {
    let mut b = vec![ty, 0, 0, 0];
    b.extend_from_slice(&word);
    if let Some(t) = target {
        b.extend_from_slice(&t.octets());
    }
    for (kind, mac) in opts {
        b.extend_from_slice(&[*kind, 1]);
        b.extend_from_slice(&mac.0);
    }
    b
}

#[test]
fn ns_with_source_link_layer_binds_the_source() {
    let ns = msg(NS, [0; 4], Some(v6("fe80::1")), &[(OPT_SLLA, PHONE)]);
    let fact = ndp(ROUTER, v6("fe80::aa"), 255, &ns);
    assert_eq!(
        fact,
        Some(NdpFact::Bind {
            mac: PHONE,
            ip: v6("fe80::aa")
        })
    );
}

#[test]
fn dad_ns_from_unspecified_binds_the_target_to_the_frame_source() {
    let ns = msg(NS, [0; 4], Some(v6("2001:db8::1234")), &[]);
    let fact = ndp(PHONE, Ipv6Addr::UNSPECIFIED, 255, &ns);
    assert_eq!(
        fact,
        Some(NdpFact::Bind {
            mac: PHONE,
            ip: v6("2001:db8::1234")
        })
    );
}

#[test]
fn na_binds_target_to_tlla_and_router_na_names_a_router() {
    let na = msg(
        NA,
        [0x60, 0, 0, 0],
        Some(v6("2001:db8::9")),
        &[(OPT_TLLA, PHONE)],
    );
    assert_eq!(
        ndp(ROUTER, v6("2001:db8::9"), 255, &na),
        Some(NdpFact::Bind {
            mac: PHONE,
            ip: v6("2001:db8::9")
        })
    );
    let rna = msg(
        NA,
        [0xe0, 0, 0, 0],
        Some(v6("fe80::1")),
        &[(OPT_TLLA, ROUTER)],
    );
    assert_eq!(
        ndp(ROUTER, v6("fe80::1"), 255, &rna),
        Some(NdpFact::Router { mac: ROUTER })
    );
    let ra = {
        let mut b = msg(RA, [64, 0, 7, 8], None, &[]);
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&[OPT_SLLA, 1]);
        b.extend_from_slice(&ROUTER.0);
        b
    };
    assert_eq!(
        ndp(PHONE, v6("fe80::1"), 255, &ra),
        Some(NdpFact::Router { mac: ROUTER })
    );
}

#[test]
fn forwarded_or_malformed_ndp_is_ignored() {
    let ns = msg(NS, [0; 4], Some(v6("fe80::1")), &[(OPT_SLLA, PHONE)]);
    assert_eq!(
        ndp(ROUTER, v6("fe80::aa"), 64, &ns),
        None,
        "hop limit below 255"
    );
    // A zero option length must stop the walk (no loop), a truncated option gives nothing.
    let mut zero = msg(NS, [0; 4], Some(v6("fe80::1")), &[]);
    zero.extend_from_slice(&[OPT_SLLA, 0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(ndp(ROUTER, v6("fe80::aa"), 255, &zero), None);
    for cut in 0..ns.len() {
        let _ = ndp(ROUTER, v6("fe80::aa"), 255, &ns[..cut]);
    }
    let rs = msg(RS, [0; 4], None, &[]);
    assert_eq!(
        ndp(PHONE, v6("fe80::aa"), 255, &rs),
        None,
        "no SLLA, no binding"
    );
}

/// A DHCPv6 Reply: client id DUID-LL, IA_NA with two addresses.
fn reply(addrs: &[Ipv6Addr]) -> Vec<u8> {
    let mut b = vec![DHCPV6_REPLY, 1, 2, 3];
    let duid = [&[0u8, 3, 0, 1][..], &PHONE.0[..]].concat();
    b.extend_from_slice(&OPT_CLIENTID.to_be_bytes());
    b.extend_from_slice(&(duid.len() as u16).to_be_bytes());
    b.extend_from_slice(&duid);
    let mut ia = vec![0u8; 12];
    for a in addrs {
        ia.extend_from_slice(&OPT_IAADDR.to_be_bytes());
        ia.extend_from_slice(&24u16.to_be_bytes());
        ia.extend_from_slice(&a.octets());
        ia.extend_from_slice(&[0; 8]);
    }
    b.extend_from_slice(&OPT_IA_NA.to_be_bytes());
    b.extend_from_slice(&(ia.len() as u16).to_be_bytes());
    b.extend_from_slice(&ia);
    b
}

#[test]
fn dhcpv6_reply_gives_duid_mac_and_addresses_bounded() {
    let many: Vec<Ipv6Addr> = (1..=6).map(|i| v6(&format!("2001:db8::{i}"))).collect();
    let f = dhcpv6(&reply(&many)).unwrap();
    assert_eq!(f.msg_type, DHCPV6_REPLY);
    assert_eq!(f.duid_mac, Some(PHONE));
    assert_eq!(f.addrs.iter().flatten().count(), MAX_DHCPV6_ADDRS);
    assert_eq!(f.addrs[0], Some(v6("2001:db8::1")));
    let bytes = reply(&many);
    for cut in 0..bytes.len() {
        let _ = dhcpv6(&bytes[..cut]);
    }
    assert_eq!(dhcpv6(&[12, 0, 0, 0]), None, "relay-forw");
}

#[test]
fn table_learns_from_ndp_and_dhcpv6_and_forgets_routers() {
    let mut t = DeviceTable::new();
    let mut got = Vec::new();
    let na = msg(
        NA,
        [0x60, 0, 0, 0],
        Some(v6("2001:db8::9")),
        &[(OPT_TLLA, PHONE)],
    );
    learn_ndp(&mut t, 1, (PHONE, v6("2001:db8::9"), 255), &na, &mut |s| {
        got.push(s)
    });
    assert_eq!(t.mac_for(IpAddr::V6(v6("2001:db8::9"))), Some(PHONE));
    learn_dhcpv6(&mut t, 2, None, &reply(&[v6("2001:db8::77")]), &mut |s| {
        got.push(s)
    });
    assert_eq!(t.mac_for(IpAddr::V6(v6("2001:db8::77"))), Some(PHONE));
    assert_eq!(got.len(), 2);
    let rna = msg(
        NA,
        [0xe0, 0, 0, 0],
        Some(v6("fe80::1")),
        &[(OPT_TLLA, ROUTER)],
    );
    learn_ndp(&mut t, 3, (ROUTER, v6("fe80::1"), 255), &rna, &mut |s| {
        got.push(s)
    });
    assert!(t.is_router(ROUTER));
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let _ = ndp(PHONE, v6("fe80::1"), 255, &b);
        let _ = ndp(PHONE, Ipv6Addr::UNSPECIFIED, 255, &b);
        let _ = dhcpv6(&b);
    }
}
