//! Unit tests of [`super::LiveSource`]: configuration defaults, errors, and (as root) a real
//! capture on the loopback interface. The bridge test is `tests/live_bridge.rs`.

use std::net::UdpSocket;
use std::time::Instant;

use super::*;

#[test]
fn default_config() {
    let c = LiveConfig::default();
    assert!(c.promiscuous);
    assert_eq!(c.rcvbuf_bytes, 16 * 1024 * 1024);
    assert_eq!(c.read_buffer, 256 * 1024);
    assert_eq!(c.read_timeout, Duration::from_millis(200));
}

#[test]
fn missing_interface_is_named() {
    let e = LiveSource::open("phnope0", &LiveConfig::default())
        .err()
        .expect("no such interface");
    assert_eq!(
        e.to_string(),
        "interface phnope0: no such network interface"
    );
}

#[test]
fn captures_a_datagram_on_loopback() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: live capture needs root");
        return;
    }
    let cfg = LiveConfig {
        promiscuous: false,
        read_timeout: Duration::from_millis(50),
        ..LiveConfig::default()
    };
    let mut src = LiveSource::open("lo", &cfg).expect("open lo");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let payload = format!("phonehome-live-unit-{}", std::process::id());
    let before = now_micros();
    sock.send_to(payload.as_bytes(), ("127.0.0.1", port))
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(5);
    let mut found = None;
    while Instant::now() < deadline && found.is_none() {
        if let Some(f) = src.next_frame().expect("next_frame") {
            if f.data
                .windows(payload.len())
                .any(|w| w == payload.as_bytes())
            {
                found = Some((f.ts, f.link, f.data.to_vec(), f.orig_len));
            }
        }
    }
    let (ts, link, data, orig_len) = found.expect("datagram captured within 5 s");
    assert_eq!(link, LinkType::Ethernet);
    assert_eq!(orig_len as usize, data.len());
    assert_eq!(data.len(), 14 + 20 + 8 + payload.len());
    assert_eq!(&data[12..14], &[0x08, 0x00], "EtherType IPv4");
    assert_eq!(&data[26..30], &[127, 0, 0, 1], "source address");
    assert_eq!(&data[30..34], &[127, 0, 0, 1], "destination address");
    assert_eq!(&data[36..38], &port.to_be_bytes(), "UDP destination port");
    assert!(ts >= before && ts <= now_micros(), "wall-clock timestamp");
    assert!(src.packets() >= 1);
    assert!(!src.promiscuous());
    let first = src.kernel_stats();
    assert!(first.packets >= 1, "{first:?}");
    let second = src.kernel_stats();
    assert!(
        second.packets >= first.packets && second.drops >= first.drops,
        "accumulates"
    );
}
