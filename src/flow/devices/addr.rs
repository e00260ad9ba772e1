//! Which IP addresses may be bound to a device, and the network keys used to spot routers.
//!
//! Pure functions over `IpAddr`; no state. The rules follow what a client of the access point
//! can own: IPv4 RFC 1918, link-local and CGNAT space and IPv6 link-local and ULA are LAN
//! addresses; other unicast addresses are global (a client owns one only on DHCP/ARP/NDP
//! evidence, or an IPv6 one as the client side of its own flows); the rest never is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How an address may relate to a LAN client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrClass {
    /// Private, link-local or CGNAT (IPv4); link-local or unique-local (IPv6).
    Lan,
    /// Other unicast: public IPv4, IPv6 global unicast (2000::/3).
    Global,
    /// Unspecified, loopback, multicast, broadcast, reserved: never a device's address.
    Never,
}

/// Classifies `ip` (see [`AddrClass`]).
pub(crate) fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(a) => classify_v4(a),
        IpAddr::V6(a) => classify_v6(a),
    }
}

fn classify_v4(a: Ipv4Addr) -> AddrClass {
    let o = a.octets();
    if o[0] == 0 || o[0] == 127 || o[0] >= 224 {
        // 0/8 "this network", loopback, multicast 224/4, reserved 240/4 and broadcast.
        AddrClass::Never
    } else if a.is_private() || a.is_link_local() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
        // RFC 1918, 169.254/16, CGNAT 100.64/10 (RFC 6598).
        AddrClass::Lan
    } else {
        AddrClass::Global
    }
}

fn classify_v6(a: Ipv6Addr) -> AddrClass {
    let first = a.segments()[0];
    if (first & 0xffc0) == 0xfe80 || (first & 0xfe00) == 0xfc00 {
        // fe80::/10 link-local, fc00::/7 unique-local.
        AddrClass::Lan
    } else if (first & 0xe000) == 0x2000 {
        // 2000::/3 global unicast.
        AddrClass::Global
    } else {
        // ::, ::1, IPv4-mapped/compatible, NAT64, multicast ff00::/8 and unassigned space.
        AddrClass::Never
    }
}

/// A key naming the public network `ip` lies in (IPv4 /24, IPv6 /64), used to count how
/// many distinct public networks one MAC sources as the client side of flows. The top bit
/// separates the families (a 2000::/3 key never has it set).
pub(crate) fn public_network_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => (1 << 63) | u64::from(u32::from(a) >> 8),
        IpAddr::V6(a) => (u128::from(a) >> 64) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> AddrClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn classes() {
        for lan in [
            "10.1.2.3",
            "172.31.255.1",
            "192.168.2.16",
            "169.254.7.1",
            "100.64.0.1",
            "100.127.255.254",
            "fe80::1",
            "fd12:3456::1",
        ] {
            assert_eq!(c(lan), AddrClass::Lan, "{lan}");
        }
        for global in [
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "128.2.6.189",
            "2a00:1450::1",
        ] {
            assert_eq!(c(global), AddrClass::Global, "{global}");
        }
        for never in [
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.251",
            "127.0.0.1",
            "240.0.0.1",
            "::",
            "::1",
            "ff02::fb",
            "::ffff:192.168.1.1",
        ] {
            assert_eq!(c(never), AddrClass::Never, "{never}");
        }
    }

    #[test]
    fn network_keys() {
        let k = |s: &str| public_network_key(s.parse().unwrap());
        assert_eq!(k("8.8.8.8"), k("8.8.8.200"));
        assert_ne!(k("8.8.8.8"), k("8.8.9.8"));
        assert_eq!(k("2a00:1450:4001:81c::1"), k("2a00:1450:4001:81c::2004"));
        assert_ne!(k("2a00:1450:4001:81c::1"), k("2a00:1450:4001:81d::1"));
        assert_eq!(k("2a00:1450:4001:81c::1"), 0x2a00_1450_4001_081c);
    }
}
