//! Helpers shared by the behavioural detectors: address classes, domain normalisation, the
//! allowlist, masking of identifiers, and the alert builder.
//!
//! Invariant: nothing here puts an unmasked identifier (MAC, user name) into text; the only
//! identifier an [`Alert`] carries in clear is its `device_mac` column, which the store keys on.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::event::{Alert, AlertKind, MacAddr, Severity, Ts};

/// Characters of an identifier left visible by [`mask`].
pub const MASK_KEEP: usize = 4;

/// True for an address on the public Internet. Non-public: RFC 1918, loopback, link-local,
/// multicast, broadcast, unspecified, and IPv6 ULA (fc00::/7) and link-local (fe80::/10);
/// IPv4-mapped IPv6 addresses are judged as IPv4. Documentation ranges (192.0.2.0/24, …,
/// 2001:db8::/32) and CGNAT space count as public on purpose: the demo and tests use them
/// for servers.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified())
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80)
        }
    }
}

/// A DNS name as compared and shown: lower case, without a trailing dot; None when empty.
pub fn normalize_domain(name: &str) -> Option<String> {
    let d = name.trim().trim_end_matches('.').to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

/// The domain of an HTTP Host header: the port and IPv6 brackets removed, normalised; None
/// when the host is an address literal or empty.
pub fn host_domain(host: &str) -> Option<String> {
    let host = host.trim();
    if host.starts_with('[') {
        return None; // IPv6 literal
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    normalize_domain(name)
}

/// Allowlisted domains; a name matches when it or one of its parent domains is listed.
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    domains: HashSet<String>,
}

impl Allowlist {
    /// Builds the list from configured names (normalised; empty entries dropped).
    pub fn new(names: &[String]) -> Allowlist {
        Allowlist {
            domains: names
                .iter()
                .filter_map(|n| normalize_domain(n.trim_start_matches("*.")))
                .collect(),
        }
    }

    /// True when `domain` or a parent of it is listed (`a.b.example.com` matches
    /// `example.com`; `badexample.com` does not).
    pub fn matches(&self, domain: &str) -> bool {
        if self.domains.is_empty() {
            return false;
        }
        let d = domain.trim_end_matches('.');
        let lower;
        let d = if d.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = d.to_ascii_lowercase();
            lower.as_str()
        } else {
            d
        };
        let mut rest = d;
        loop {
            if self.domains.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) => rest = parent,
                None => return false,
            }
        }
    }
}

/// An identifier masked to its last [`MASK_KEEP`] characters (`…7518`); for values of up to
/// twice that length only the last half is kept, so a short value is never shown whole.
pub fn mask(value: &str) -> String {
    let n = value.chars().count();
    let keep = MASK_KEEP.min(n / 2);
    let tail: String = value.chars().skip(n - keep).collect();
    format!("…{tail}")
}

/// A MAC masked to its last four hex digits (`…0203`).
pub fn mask_mac(mac: MacAddr) -> String {
    let m = mac.0;
    format!("…{:02x}{:02x}", m[4], m[5])
}

/// The subject of a summary sentence: "Device …0203", or "A device" when the MAC is unknown.
pub fn device_label(mac: Option<MacAddr>) -> String {
    match mac {
        Some(m) => format!("Device {}", mask_mac(m)),
        None => "A device".to_string(),
    }
}

/// Where an alert points: the device and the destination columns of [`Alert`].
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// The device (client MAC).
    pub device_mac: Option<MacAddr>,
    /// The device's address.
    pub client_ip: Option<IpAddr>,
    /// The device's port (with the other fields, names the flow for its evidence).
    pub client_port: Option<u16>,
    /// The destination's address.
    pub server_ip: Option<IpAddr>,
    /// The destination's port.
    pub server_port: Option<u16>,
    /// The protocol the evidence was seen in ("tcp", "http", "dns", "ftp", …).
    pub proto: Option<String>,
    /// The destination's normalised domain, when one named it.
    pub domain: Option<String>,
    /// ISO 3166 alpha-2 country of `server_ip`.
    pub country: Option<String>,
    /// Autonomous system of `server_ip`.
    pub asn: Option<u32>,
}

impl Target {
    /// The destination as a person reads it: the domain, else `ip:port`, else the address.
    pub fn destination(&self) -> String {
        match (&self.domain, self.server_ip, self.server_port) {
            (Some(d), _, _) => d.clone(),
            (None, Some(IpAddr::V6(ip)), Some(p)) => format!("[{ip}]:{p}"),
            (None, Some(ip), Some(p)) => format!("{ip}:{p}"),
            (None, Some(ip), None) => ip.to_string(),
            (None, None, _) => "an unknown destination".to_string(),
        }
    }

    /// " (CN, AS4134)" style suffix from the geo columns, or "".
    pub fn geo_suffix(&self) -> String {
        match (&self.country, self.asn) {
            (Some(c), Some(a)) => format!(" ({c}, AS{a})"),
            (Some(c), None) => format!(" ({c})"),
            (None, Some(a)) => format!(" (AS{a})"),
            (None, None) => String::new(),
        }
    }
}

/// Assembles an [`Alert`].
pub fn build(
    ts: Ts,
    severity: Severity,
    kind: AlertKind,
    target: Target,
    summary: String,
    detail: serde_json::Value,
    dedup_key: String,
) -> Alert {
    Alert {
        ts,
        severity,
        kind,
        device_mac: target.device_mac,
        client_ip: target.client_ip,
        client_port: target.client_port,
        server_ip: target.server_ip,
        server_port: target.server_port,
        proto: target.proto,
        domain: target.domain,
        country: target.country,
        asn: target.asn,
        summary,
        detail,
        dedup_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_non_public_addresses() {
        for a in [
            "203.0.113.5",
            "8.8.8.8",
            "2001:db8::1",
            "100.64.0.1",
            "::ffff:1.2.3.4",
        ] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.8.1",
            "127.0.0.1",
            "169.254.1.1",
            "224.0.0.251",
            "255.255.255.255",
            "0.0.0.0",
            "::1",
            "fd00:c0a8:8::1",
            "fe80::1",
            "ff02::fb",
            "::ffff:192.168.1.1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn host_header_domains() {
        assert_eq!(
            host_domain("ZZHC.vnet.cn:80").as_deref(),
            Some("zzhc.vnet.cn")
        );
        assert_eq!(host_domain("example.com.").as_deref(), Some("example.com"));
        assert_eq!(host_domain("203.0.113.5:8080"), None);
        assert_eq!(host_domain("[2001:db8::1]:80"), None);
        assert_eq!(host_domain(""), None);
    }

    #[test]
    fn allowlist_matches_parents_only() {
        let a = Allowlist::new(&["Example.com".into(), "*.gstatic.com".into(), "".into()]);
        assert!(a.matches("example.com"));
        assert!(a.matches("API.example.com."));
        assert!(a.matches("connectivitycheck.gstatic.com"));
        assert!(!a.matches("badexample.com"));
        assert!(!a.matches("com"));
        assert!(!Allowlist::default().matches("example.com"));
    }

    #[test]
    fn masking_keeps_at_most_four_and_never_the_whole() {
        assert_eq!(mask("alice@example.org"), "….org");
        assert_eq!(mask("root"), "…ot");
        assert_eq!(mask("a"), "…");
        assert_eq!(mask("çàé€ü"), "…€ü");
        assert_eq!(mask_mac(MacAddr([4, 0xf1, 0x28, 1, 2, 3])), "…0203");
        assert_eq!(device_label(None), "A device");
    }
}
