//! encrypted_dns (info): a device resolves names through an encrypted public resolver instead
//! of the network's own, so the AP's DNS log no longer shows what it looks up (Android's
//! "Private DNS", a browser's "secure DNS", an app with its own resolver).
//!
//! Raised for:
//! - DoH by name: a TLS ClientHello (over TCP or QUIC) whose SNI is, exactly, a resolver name of
//!   [`ResolverList`] (`dns.google`, `cloudflare-dns.com`, …). Exact match only: HTTPS to
//!   `google.com` or `www.cloudflare.com` is not DNS.
//! - DoT / DoQ by port: a TCP or UDP flow to server port 853, whatever the address.
//! - DoH by address: a flow to port 443 (TCP, or UDP for HTTP/3) of an address of the list, or
//!   whose domain (DNS answer, SNI) is a resolver name. The list holds only addresses that
//!   serve nothing but DNS, so a website behind a CDN is never matched by address.
//!
//! Never raised for the network's own resolvers (`[policy] local_resolvers`) nor for servers at
//! non-public addresses (a resolver on the LAN is not a bypass of it).
//!
//! One alert per device and resolver ([`MAX_REPORTED`] pairs remembered, oldest forgotten
//! first); the alert's domain is the resolver's name when known, so the store also merges
//! repeats after a restart. The resolver list is `data/doh-resolvers.tsv` (see
//! `data/README.md`), compiled in and parsed once; lines that do not parse are skipped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::OnceLock;

use serde_json::json;

use super::common::{build, device_label, is_public, normalize_domain, Target};
use crate::event::{Alert, AlertKind, FlowRecord, MacAddr, Severity, TlsRecord, Transport};

/// (device, resolver) pairs already reported: bounds memory on a router that runs for months
/// with many devices; a forgotten pair may be reported again (the store merges it).
pub const MAX_REPORTED: usize = 4096;

/// DNS over TLS (RFC 7858) and DNS over QUIC (RFC 9250) port.
pub const DOT_PORT: u16 = 853;
/// HTTPS port, where DoH runs.
const DOH_PORT: u16 = 443;

/// The shipped list of public encrypted-DNS resolvers.
static RESOLVERS: &str = include_str!("../../../data/doh-resolvers.tsv");

/// Public encrypted-DNS resolvers: names (exact) and dedicated addresses.
#[derive(Debug, Default)]
pub struct ResolverList {
    names: HashSet<&'static str>,
    /// Address → the resolver name it serves.
    addrs: HashMap<IpAddr, &'static str>,
}

impl ResolverList {
    /// The list compiled into the binary, parsed on first use.
    pub fn builtin() -> &'static ResolverList {
        static LIST: OnceLock<ResolverList> = OnceLock::new();
        LIST.get_or_init(|| ResolverList::parse(RESOLVERS))
    }

    /// Parses `kind<TAB>value<TAB>resolver<TAB>provider` lines (see `tools/gen-doh.py`);
    /// comments, blank and malformed lines are skipped.
    pub fn parse(text: &'static str) -> ResolverList {
        let mut list = ResolverList::default();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut f = line.split('\t');
            match (f.next(), f.next(), f.next()) {
                (Some("name"), Some(n), Some(_)) if !n.is_empty() => {
                    list.names.insert(n);
                }
                (Some("addr"), Some(a), Some(r)) if !r.is_empty() => {
                    if let Ok(ip) = a.parse::<IpAddr>() {
                        list.addrs.insert(ip, r);
                    }
                }
                _ => {}
            }
        }
        list
    }

    /// The listed resolver named exactly `name` (any case, trailing dot ignored).
    pub fn by_name(&self, name: &str) -> Option<&'static str> {
        let n = normalize_domain(name)?;
        self.names.get(n.as_str()).copied()
    }

    /// The resolver served at `ip`, if listed.
    pub fn by_addr(&self, ip: IpAddr) -> Option<&'static str> {
        self.addrs.get(&ip).copied()
    }

    /// (names, addresses) held.
    pub fn len(&self) -> (usize, usize) {
        (self.names.len(), self.addrs.len())
    }

    /// True when the list holds nothing.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.addrs.is_empty()
    }
}

/// How the encrypted DNS was recognised (the alert's `detail.matched_by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Match {
    Sni,
    Address,
    Domain,
    Port,
}

impl Match {
    fn as_str(self) -> &'static str {
        match self {
            Match::Sni => "sni",
            Match::Address => "address",
            Match::Domain => "domain",
            Match::Port => "port",
        }
    }
}

/// Who a device is for the once-per-resolver rule: its MAC, else its address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum DeviceKey {
    Mac(MacAddr),
    Ip(IpAddr),
}

/// The encrypted_dns detector (see the module header).
pub struct EncryptedDns {
    list: &'static ResolverList,
    local_resolvers: Vec<IpAddr>,
    reported: HashSet<(DeviceKey, String)>,
    order: VecDeque<(DeviceKey, String)>,
}

/// One sighting, before the once-per-pair check.
struct Sighting<'a> {
    ts: crate::event::Ts,
    device_mac: Option<MacAddr>,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    /// "dot", "doq" or "doh".
    protocol: &'static str,
    /// "tcp", "quic" or "udp".
    transport: &'static str,
    /// The resolver's name when known.
    resolver: Option<&'a str>,
    matched_by: Match,
}

impl EncryptedDns {
    /// A detector over the built-in list; `local_resolvers` are the network's own.
    pub fn new(local_resolvers: &[IpAddr]) -> EncryptedDns {
        EncryptedDns::with_list(ResolverList::builtin(), local_resolvers)
    }

    /// A detector over `list`.
    pub fn with_list(list: &'static ResolverList, local_resolvers: &[IpAddr]) -> EncryptedDns {
        EncryptedDns {
            list,
            local_resolvers: local_resolvers.to_vec(),
            reported: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// (device, resolver) pairs remembered (≤ [`MAX_REPORTED`]).
    pub fn held(&self) -> usize {
        self.reported.len()
    }

    /// A ClientHello: DoH (or DoT) when its SNI names a listed resolver, DoT when it goes to
    /// port 853.
    pub fn tls(&mut self, r: &TlsRecord) -> Option<Alert> {
        let sni = r.sni.as_deref().and_then(normalize_domain);
        let listed = sni.as_deref().and_then(|s| self.list.by_name(s));
        let quic = matches!(r.transport, Transport::Quic | Transport::Udp);
        let (protocol, resolver, matched_by) = if r.server_port == DOT_PORT {
            let p = if quic { "doq" } else { "dot" };
            (p, listed.map(str::to_owned).or(sni), Match::Port)
        } else {
            ("doh", Some(listed?.to_owned()), Match::Sni)
        };
        self.sighting(Sighting {
            ts: r.ts,
            device_mac: r.device_mac,
            client: (r.client_ip, r.client_port),
            server: (r.server_ip, r.server_port),
            protocol,
            transport: if quic { "quic" } else { "tcp" },
            resolver: resolver.as_deref(),
            matched_by,
        })
    }

    /// A flow: DoT/DoQ to port 853, DoH to a listed address or resolver domain on port 443.
    pub fn flow(&mut self, f: &FlowRecord) -> Option<Alert> {
        let tcp = f.transport == Transport::Tcp;
        let domain = f.domain.as_deref().and_then(|d| self.list.by_name(d));
        let by_addr = self.list.by_addr(f.server_ip);
        let (protocol, resolver, matched_by) = match f.server_port {
            DOT_PORT => {
                let named = by_addr
                    .or(domain)
                    .map(str::to_owned)
                    .or_else(|| f.domain.as_deref().and_then(normalize_domain));
                (if tcp { "dot" } else { "doq" }, named, Match::Port)
            }
            DOH_PORT => match (by_addr, domain) {
                (Some(r), _) => ("doh", Some(r.to_owned()), Match::Address),
                (None, Some(r)) => ("doh", Some(r.to_owned()), Match::Domain),
                (None, None) => return None,
            },
            _ => return None,
        };
        self.sighting(Sighting {
            ts: f.ts,
            device_mac: f.device_mac,
            client: (f.client_ip, f.client_port),
            server: (f.server_ip, f.server_port),
            protocol,
            transport: match (tcp, f.server_port) {
                (true, _) => "tcp",
                (false, DOH_PORT) => "quic",
                (false, _) => "udp",
            },
            resolver: resolver.as_deref(),
            matched_by,
        })
    }

    fn is_local(&self, ip: IpAddr) -> bool {
        !is_public(ip) || self.local_resolvers.contains(&ip)
    }

    fn sighting(&mut self, s: Sighting<'_>) -> Option<Alert> {
        if self.is_local(s.server.0) {
            return None;
        }
        let device = match s.device_mac {
            Some(m) => DeviceKey::Mac(m),
            None => DeviceKey::Ip(s.client.0),
        };
        let server_text = s.server.0.to_string();
        let resolver_key = s.resolver.unwrap_or(&server_text).to_owned();
        let key = (device, resolver_key);
        if self.reported.contains(&key) {
            return None;
        }
        while self.order.len() >= MAX_REPORTED {
            match self.order.pop_front() {
                Some(old) => {
                    self.reported.remove(&old);
                }
                None => break,
            }
        }
        self.reported.insert(key.clone());
        self.order.push_back(key);
        Some(alert(&s))
    }
}

fn alert(s: &Sighting<'_>) -> Alert {
    let target = Target {
        device_mac: s.device_mac,
        client_ip: Some(s.client.0),
        client_port: Some(s.client.1),
        server_ip: Some(s.server.0),
        server_port: Some(s.server.1),
        proto: Some(s.transport.to_string()),
        domain: s.resolver.map(str::to_owned),
        country: None,
        asn: None,
    };
    let how = match s.protocol {
        "dot" => "DNS over TLS",
        "doq" => "DNS over QUIC",
        _ => "DNS over HTTPS",
    };
    let resolver = match s.resolver {
        Some(r) => format!("{r} ({})", s.server.0),
        None => s.server.0.to_string(),
    };
    let summary = format!(
        "{} resolves names with {how} through the public resolver {resolver}, bypassing the \
         network's DNS.",
        device_label(s.device_mac)
    );
    let detail = json!({
        "protocol": s.protocol,
        "resolver": s.resolver,
        "server_ip": s.server.0.to_string(),
        "server_port": s.server.1,
        "transport": s.transport,
        "matched_by": s.matched_by.as_str(),
    });
    build(
        s.ts,
        Severity::Info,
        AlertKind::EncryptedDns,
        target,
        summary,
        detail,
        s.protocol.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_list_parses_every_line() {
        let data_lines = RESOLVERS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count();
        let list = ResolverList::builtin();
        let (names, addrs) = list.len();
        assert_eq!(
            names + addrs,
            data_lines,
            "a line of the list did not parse"
        );
        assert_eq!(list.by_name("DNS.Google."), Some("dns.google"));
        assert_eq!(
            list.by_name("mozilla.cloudflare-dns.com"),
            Some("mozilla.cloudflare-dns.com")
        );
        assert_eq!(list.by_name("google.com"), None);
        assert_eq!(list.by_name("www.dns.google"), None, "exact match only");
        assert_eq!(list.by_addr("8.8.8.8".parse().unwrap()), Some("dns.google"));
        assert_eq!(
            list.by_addr("2606:4700:4700::1111".parse().unwrap()),
            Some("one.one.one.one")
        );
        assert_eq!(list.by_addr("142.250.0.1".parse().unwrap()), None);
    }
}
