//! IPv6 addresses bound to device MACs: neighbour discovery (NS/NA with link-layer address
//! options, DAD from `::`), DHCPv6, plain traffic and rotating SLAAC privacy addresses, so
//! IPv6 flows and records carry `device_mac` like IPv4 ones — also where the capture has no
//! link layer — and routers are never devices. Synthetic frames (`phonehome::synth`) and the
//! corpus captures tagged `ipv6`.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

use phonehome::capture::file::FileSource;
use phonehome::decode::LinkType;
use phonehome::event::{Event, MacAddr, MICROS};
use phonehome::flow::devices::MAX_IPS_PER_DEVICE;
use phonehome::pipeline::{Pipeline, PipelineConfig};
use phonehome::synth::net::{ethernet, ipv6, udp_frame};
use phonehome::synth::{http_get, Endpoint, TcpConversation};

const PHONE: MacAddr = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const ROUTER: MacAddr = MacAddr([0xdc, 0xa6, 0x32, 0, 0, 1]);
const T0: i64 = 1_700_000_000 * MICROS;
const ETH_IPV6: u16 = 0x86dd;
const ICMPV6: u8 = 58;

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// An Ethernet frame with an ICMPv6 NDP message: `ty`, the 4 bytes after the checksum, an
/// optional target, one link-layer option (`kind` 1 source, 2 target).
fn ndp(
    (src_mac, src): (MacAddr, Ipv6Addr),
    dst: Ipv6Addr,
    ty: u8,
    word: [u8; 4],
    target: Option<Ipv6Addr>,
    opt: Option<(u8, MacAddr)>,
) -> Vec<u8> {
    let mut m = vec![ty, 0, 0, 0];
    m.extend_from_slice(&word);
    if let Some(t) = target {
        m.extend_from_slice(&t.octets());
    }
    if let Some((kind, mac)) = opt {
        m.extend_from_slice(&[kind, 1]);
        m.extend_from_slice(&mac.0);
    }
    let pkt = ipv6(src, dst, ICMPV6, 255, &m);
    ethernet(MacAddr([0x33, 0x33, 0, 0, 0, 1]), src_mac, ETH_IPV6, &pkt)
}

fn phone_at(ip: Ipv6Addr, port: u16) -> Endpoint {
    Endpoint {
        mac: PHONE,
        ip: IpAddr::V6(ip),
        port,
        ttl: 64,
    }
}

fn server(port: u16) -> Endpoint {
    Endpoint {
        mac: ROUTER,
        ip: "2606:4700::6810:85e5".parse().unwrap(),
        port,
        ttl: 57,
    }
}

fn run(frames: &[(i64, LinkType, Vec<u8>)]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut p = Pipeline::new(PipelineConfig::default());
    let mut sink = |e: Event| out.push(e);
    for (ts, link, f) in frames {
        p.ingest(*ts, *link, f, &mut sink);
    }
    p.finish(&mut sink);
    out
}

fn bound(events: &[Event]) -> Vec<(MacAddr, IpAddr)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Device(s) => s.ip.map(|ip| (s.mac, ip)),
            _ => None,
        })
        .collect()
}

/// Router advertisement, DAD, NS with source link-layer address, NA, then an HTTP exchange
/// seen with NO link layer (raw IPv6, as an NFLOG or tun capture gives): the flow and the
/// HTTP record carry the phone's MAC only through the NDP binding.
#[test]
fn ndp_binds_and_ipv6_flows_without_link_layer_carry_the_device() {
    let ll = v6("fe80::11:22ff:fe33:4455");
    let global = v6("2001:db8:8:1:11:22ff:fe33:4455");
    let mut frames = vec![
        // RA from the router (its MAC in the source link-layer option).
        (T0, {
            let mut ra = ndp(
                (ROUTER, v6("fe80::1")),
                v6("ff02::1"),
                134,
                [64, 0, 7, 8],
                None,
                None,
            );
            ra.extend_from_slice(&[0; 8]); // reachable time, retrans timer
            ra.extend_from_slice(&[1, 1]);
            ra.extend_from_slice(&ROUTER.0);
            fix_payload_len(&mut ra);
            ra
        }),
        // DAD for the link-local address.
        (
            T0 + 1,
            ndp(
                (PHONE, Ipv6Addr::UNSPECIFIED),
                v6("ff02::1:ff33:4455"),
                135,
                [0; 4],
                Some(ll),
                None,
            ),
        ),
        // NS for the router with the phone's source link-layer address: binds the global.
        (
            T0 + 2,
            ndp(
                (PHONE, global),
                v6("ff02::1:ff00:1"),
                135,
                [0; 4],
                Some(v6("fe80::1")),
                Some((1, PHONE)),
            ),
        ),
        // The router's NA (R flag): a router, not a device.
        (
            T0 + 3,
            ndp(
                (ROUTER, v6("fe80::1")),
                global,
                136,
                [0xe0, 0, 0, 0],
                Some(v6("fe80::1")),
                Some((2, ROUTER)),
            ),
        ),
    ]
    .into_iter()
    .map(|(t, f)| (t, LinkType::Ethernet, f))
    .collect::<Vec<_>>();
    let mut c = TcpConversation::new(phone_at(global, 50000), server(80), T0 + MICROS).unwrap();
    c.handshake()
        .client_data(&http_get("v6.example", "/", "okhttp/4.9.0"))
        .close();
    for (t, f) in c.frames() {
        // Strip the Ethernet header: raw IPv6.
        frames.push((*t, LinkType::RawIp, f[14..].to_vec()));
    }
    let ev = run(&frames);
    let b = bound(&ev);
    assert!(
        b.contains(&(PHONE, IpAddr::V6(ll))),
        "DAD target bound: {b:?}"
    );
    assert!(
        b.contains(&(PHONE, IpAddr::V6(global))),
        "NS source bound: {b:?}"
    );
    assert!(
        b.iter().all(|(m, _)| *m != ROUTER),
        "router never a device: {b:?}"
    );
    let flow = ev
        .iter()
        .find_map(|e| match e {
            Event::Flow(f) if f.client_ip == IpAddr::V6(global) => Some(f),
            _ => None,
        })
        .expect("the IPv6 flow");
    assert_eq!(flow.device_mac, Some(PHONE));
    let http = ev
        .iter()
        .find_map(|e| match e {
            Event::Http(h) => Some(h),
            _ => None,
        })
        .expect("the HTTP request");
    assert_eq!(http.device_mac, Some(PHONE));
}

/// `synth::net::ipv6` sizes the payload length field when built; options appended after it
/// need the field fixed.
fn fix_payload_len(frame: &mut [u8]) {
    let len = (frame.len() - 14 - 40) as u16;
    frame[18..20].copy_from_slice(&len.to_be_bytes());
}

/// SLAAC privacy addresses rotate: each one the phone sources traffic from is bound to it;
/// the device keeps at most MAX_IPS_PER_DEVICE, the newest ones, and every flow still carries
/// the phone's MAC.
#[test]
fn rotating_privacy_addresses_stay_bound_and_bounded() {
    let mut frames = Vec::new();
    let addrs: Vec<Ipv6Addr> = (1..=12)
        .map(|i| v6(&format!("2001:db8:8:1:{i:x}a1b:2c3d:4e5f:6071")))
        .collect();
    for (i, a) in addrs.iter().enumerate() {
        let t = T0 + i as i64 * 3600 * MICROS;
        let mut c = TcpConversation::new(phone_at(*a, 40000 + i as u16), server(443), t).unwrap();
        c.handshake().close();
        frames.extend(
            c.frames()
                .iter()
                .map(|(t, f)| (*t, LinkType::Ethernet, f.clone())),
        );
    }
    let ev = run(&frames);
    let b: HashSet<_> = bound(&ev).into_iter().collect();
    for a in &addrs {
        assert!(b.contains(&(PHONE, IpAddr::V6(*a))), "{a} bound");
    }
    let flows: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Flow(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(flows.len(), addrs.len());
    assert!(flows.iter().all(|f| f.device_mac == Some(PHONE)));
    assert!(MAX_IPS_PER_DEVICE < addrs.len());
}

/// Every corpus capture tagged `ipv6` (but the GTP tunnel, whose inner packets have no link
/// layer of their own): each IPv6 flow carries a device, and that device holds the flow's
/// client address.
#[test]
fn corpus_ipv6_flows_carry_devices() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(index) = std::fs::read_to_string(dir.join("index.json")) else {
        println!("skipped: corpus not present at {}", dir.display());
        return;
    };
    let index: serde_json::Value = serde_json::from_str(&index).unwrap();
    let mut checked = 0;
    for case in index.as_array().unwrap() {
        let kinds = case["kinds"].as_array().unwrap();
        if !kinds.iter().any(|k| k == "ipv6") {
            continue;
        }
        let path = dir.join(case["pcap"].as_str().unwrap());
        let Ok(mut src) = FileSource::open(&path) else {
            continue;
        };
        let mut frames = Vec::new();
        while let Some(Ok(f)) = src.next_frame() {
            frames.push((f.ts, f.link, f.data.to_vec()));
        }
        let ev = run(&frames);
        let b: HashSet<_> = bound(&ev).into_iter().collect();
        let tunnelled = kinds.iter().any(|k| k == "gtp-tunnel");
        let mut v6_flows = 0;
        for e in &ev {
            let Event::Flow(f) = e else { continue };
            if !f.client_ip.is_ipv6() || tunnelled {
                continue;
            }
            v6_flows += 1;
            let mac = f.device_mac.unwrap_or_else(|| {
                panic!("{}: flow from {} has no device", case["case"], f.client_ip)
            });
            assert!(
                b.contains(&(mac, f.client_ip)),
                "{}: {mac} does not hold {}",
                case["case"],
                f.client_ip
            );
            checked += 1;
        }
        println!(
            "{}: {v6_flows} IPv6 flows, {} bindings",
            case["case"],
            b.len()
        );
    }
    assert!(checked > 0, "some corpus IPv6 flow carries a device");
}

/// A DHCPv6 Reply: transaction 0x010203, client id DUID-LL of `duid`, IA_NA with `addrs`.
fn dhcpv6_reply(duid: MacAddr, addrs: &[Ipv6Addr]) -> Vec<u8> {
    let mut b = vec![7, 1, 2, 3];
    b.extend_from_slice(&[0, 1, 0, 10, 0, 3, 0, 1]);
    b.extend_from_slice(&duid.0);
    let mut ia = vec![0u8; 12];
    for a in addrs {
        ia.extend_from_slice(&[0, 5, 0, 24]);
        ia.extend_from_slice(&a.octets());
        ia.extend_from_slice(&[0; 8]);
    }
    b.extend_from_slice(&[0, 3]);
    b.extend_from_slice(&(ia.len() as u16).to_be_bytes());
    b.extend_from_slice(&ia);
    b
}

/// DHCPv6 through the pipeline: the server's Reply binds the IA_NA address to the client the
/// frame goes to; a later flow from that address, seen without link layer, carries the phone.
#[test]
fn dhcpv6_reply_binds_the_assigned_address() {
    let assigned = v6("2001:db8:8:1::1f4");
    let srv = Endpoint {
        mac: ROUTER,
        ip: "fe80::1".parse().unwrap(),
        port: 547,
        ttl: 64,
    };
    let cli = Endpoint {
        mac: PHONE,
        ip: "fe80::11:22ff:fe33:4455".parse().unwrap(),
        port: 546,
        ttl: 64,
    };
    // The DUID names another (the phone's factory) MAC: the frame's destination wins.
    let duid = MacAddr([0x00, 0x1a, 0x11, 0, 0, 9]);
    let reply = udp_frame(&srv, &cli, 1, &dhcpv6_reply(duid, &[assigned])).unwrap();
    let mut frames = vec![(T0, LinkType::Ethernet, reply)];
    let mut c = TcpConversation::new(phone_at(assigned, 50001), server(80), T0 + MICROS).unwrap();
    c.handshake().close();
    frames.extend(
        c.frames()
            .iter()
            .map(|(t, f)| (*t, LinkType::RawIp, f[14..].to_vec())),
    );
    let ev = run(&frames);
    assert!(bound(&ev).contains(&(PHONE, IpAddr::V6(assigned))));
    assert!(bound(&ev).iter().all(|(m, _)| *m != duid));
    let flow = ev.iter().find_map(|e| match e {
        Event::Flow(f) => Some(f),
        _ => None,
    });
    assert_eq!(flow.map(|f| f.device_mac), Some(Some(PHONE)));
}
