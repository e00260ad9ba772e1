//! Which addresses have a place and an owner on the public Internet.
//!
//! [`lookup_key`] turns an address into the key the geo tables are searched with, or `None` for
//! an address that no registry can place: private (RFC 1918, unique-local), loopback, link-local,
//! shared CGNAT space, documentation and benchmarking ranges, multicast, reserved and
//! unspecified. Such addresses are answered with nothing, never with the country of whichever
//! range a database happens to list for them. IPv4-mapped (`::ffff:a.b.c.d`) and NAT64
//! well-known-prefix (`64:ff9b::a.b.c.d`) IPv6 addresses are looked up as the IPv4 address they
//! carry. `std`'s `is_global` is still unstable, hence this table of RFC 6890 / IANA special
//! registry ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address to search the tables with, once special ranges are set aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookupKey {
    /// A public IPv4 address, as a host-order integer.
    V4(u32),
    /// A public IPv6 address, as a host-order integer.
    V6(u128),
}

impl LookupKey {
    /// The address the key stands for (IPv4 for mapped and NAT64 addresses).
    pub(crate) fn addr(self) -> IpAddr {
        match self {
            LookupKey::V4(a) => IpAddr::V4(Ipv4Addr::from(a)),
            LookupKey::V6(a) => IpAddr::V6(Ipv6Addr::from(a)),
        }
    }
}

/// IPv4 special-purpose ranges (network, prefix length) that are not publicly routed to one
/// owner (IANA IPv4 Special-Purpose Address Registry, plus multicast and class E).
const V4_SPECIAL: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0A00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space (CGNAT)
    (0x7F00_0000, 8),  // 127.0.0.0/8 loopback
    (0xA9FE_0000, 16), // 169.254.0.0/16 link-local
    (0xAC10_0000, 12), // 172.16.0.0/12 private
    (0xC000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xC000_0200, 24), // 192.0.2.0/24 TEST-NET-1
    (0xC058_6300, 24), // 192.88.99.0/24 deprecated 6to4 relay anycast
    (0xC0A8_0000, 16), // 192.168.0.0/16 private
    (0xC612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xC633_6400, 24), // 198.51.100.0/24 TEST-NET-2
    (0xCB00_7100, 24), // 203.0.113.0/24 TEST-NET-3
    (0xE000_0000, 4),  // 224.0.0.0/4 multicast
    (0xF000_0000, 4),  // 240.0.0.0/4 reserved, and 255.255.255.255 broadcast
];

/// IPv6 special-purpose ranges (network, prefix length) with no single public owner.
const V6_SPECIAL: &[(u128, u8)] = &[
    (0, 127),                                        // :: and ::1 (unspecified, loopback)
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // 100::/64 discard-only
    (0x2001_0002_0000_0000_0000_0000_0000_0000, 48), // 2001:2::/48 benchmarking
    (0x2001_0010_0000_0000_0000_0000_0000_0000, 28), // 2001:10::/28 ORCHID
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32 documentation
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // 3fff::/20 documentation (RFC 9637)
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // fc00::/7 unique local
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10 link-local
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // fec0::/10 deprecated site-local
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8),  // ff00::/8 multicast
];

/// NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): the low 32 bits are an IPv4 address.
const NAT64_PREFIX: u128 = 0x0064_ff9b_0000_0000_0000_0000_0000_0000;

fn in_v4(a: u32, net: u32, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    a & mask == net
}

fn in_v6(a: u128, net: u128, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    a & mask == net
}

/// The key to look `ip` up with, or `None` when `ip` is not a public unicast address.
pub(crate) fn lookup_key(ip: IpAddr) -> Option<LookupKey> {
    match ip {
        IpAddr::V4(v4) => v4_key(u32::from(v4)),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_key(u32::from(v4));
            }
            let a = u128::from(v6);
            if a >> 32 == NAT64_PREFIX >> 32 {
                // Truncation keeps exactly the embedded IPv4 address.
                return v4_key(a as u32);
            }
            if V6_SPECIAL.iter().any(|&(net, len)| in_v6(a, net, len)) {
                return None;
            }
            Some(LookupKey::V6(a))
        }
    }
}

fn v4_key(a: u32) -> Option<LookupKey> {
    if V4_SPECIAL.iter().any(|&(net, len)| in_v4(a, net, len)) {
        return None;
    }
    Some(LookupKey::V4(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Option<LookupKey> {
        lookup_key(s.parse().unwrap())
    }

    #[test]
    fn special_ranges_have_no_key() {
        for s in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.251",
            "239.255.255.250",
            "255.255.255.255",
            "::",
            "::1",
            "2001:db8::1",
            "3fff::1",
            "fd00::1",
            "fe80::1",
            "ff02::fb",
            "::ffff:192.168.1.1",
            "64:ff9b::10.0.0.1",
        ] {
            assert_eq!(key(s), None, "{s}");
        }
    }

    #[test]
    fn public_addresses_keep_their_value() {
        assert_eq!(key("8.8.8.8"), Some(LookupKey::V4(0x0808_0808)));
        assert_eq!(key("172.32.0.1"), Some(LookupKey::V4(0xAC20_0001)));
        assert_eq!(key("::ffff:8.8.8.8"), Some(LookupKey::V4(0x0808_0808)));
        assert_eq!(key("64:ff9b::1.1.1.1"), Some(LookupKey::V4(0x0101_0101)));
        assert_eq!(
            key("2001:4860:4860::8888"),
            Some(LookupKey::V6(0x2001_4860_4860_0000_0000_0000_0000_8888))
        );
        assert_eq!(
            key("::ffff:8.8.8.8").map(LookupKey::addr),
            Some("8.8.8.8".parse().unwrap())
        );
    }
}
