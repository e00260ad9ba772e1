//! A small packet and pcap synthesiser: deterministic, valid frames for tests, fixtures and
//! the demo capture.
//!
//! Layers, each a pure function returning bytes with consistent lengths and checksums:
//! [`net`] (Ethernet II, ARP, IPv4, IPv6, UDP, TCP), [`dhcp`], [`dns`] (with name
//! compression), [`tls`] (Chrome- and OkHttp-shaped ClientHellos), [`http`] (requests);
//! [`tcp::TcpConversation`] scripts whole TCP connections; [`pcap::PcapBuilder`] writes a
//! classic pcap. Nothing here reads a clock or a random source: "random" bytes (TLS randoms,
//! key shares, ISNs, encrypted-looking payloads) come from SHA-256 over fixed labels, so the
//! same calls always give the same bytes. Builders never panic on any argument; oversized
//! values are cut at named limits (see each module).
//!
//! Most builders are hand-rolled because fixtures need exact control of field order and
//! layout (DHCP option order, TLS extension order, DNS pointer placement) that the parsing
//! crates of the field do not offer; checksums reuse `pnet_packet::util`, and the tests check
//! the output with independent readers (`pcap-file`, `tls-parser`, `dhcproto`, `httparse`).
//!
//! # Provenance of `data/demo.pcap`
//! `data/demo.pcap` is exactly [`demo_capture()`], written by
//! `PHONEHOME_WRITE_DEMO=1 cargo test --test synth_fixture`; that test fails if the committed
//! file and the function ever differ. Everything in it is synthetic. Values modelled on real
//! sources: the phone's MAC prefix 04:F1:28 (IEEE MA-L of HMD Global Oy, maker of Nokia
//! phones) and the AP's DC:A6:32 (Raspberry Pi Trading Ltd), both from
//! /work/shared/ref/oui/oui-data.json; the DHCP option-55 list and option order of Android 10
//! (Satori `fingerprints/dhcp.xml`, entry "Android 10.x"); the ClientHello shapes described in
//! [`tls`]; Android's Dalvik user agent. Servers use only documentation addresses
//! (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32); the LAN is
//! 192.168.8.0/24 and fd00:c0a8:8::/64.

pub mod demo;
pub mod dhcp;
pub mod dns;
pub mod http;
pub mod net;
pub mod pcap;
pub mod tcp;
pub mod tls;

use sha2::{Digest, Sha256};

pub use demo::demo_capture;
pub use dns::{dns_query, dns_response, DnsAnswer, RData};
pub use http::{http_get, http_post};
pub use net::Endpoint;
pub use pcap::PcapBuilder;
pub use tcp::TcpConversation;
pub use tls::{tls_client_hello, HelloStyle};

/// `len` bytes that look random, derived from `seed` alone: SHA-256(seed ‖ block counter)
/// blocks, concatenated.
pub fn pseudo_random(seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut counter: u64 = 0;
    while out.len() < len {
        let block = Sha256::new()
            .chain_update(seed)
            .chain_update(counter.to_be_bytes())
            .finalize();
        let take = (len - out.len()).min(block.len());
        out.extend_from_slice(block.get(..take).unwrap_or_default());
        counter = counter.wrapping_add(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_random_is_deterministic_sha256() {
        let a = pseudo_random(b"x", 40);
        assert_eq!(a.len(), 40);
        assert_eq!(a, pseudo_random(b"x", 40));
        let mut first = b"x".to_vec();
        first.extend_from_slice(&0u64.to_be_bytes());
        assert_eq!(a[..32], Sha256::digest(&first)[..]);
        assert_ne!(a[..32], pseudo_random(b"y", 32)[..]);
        assert!(pseudo_random(b"x", 0).is_empty());
    }
}
