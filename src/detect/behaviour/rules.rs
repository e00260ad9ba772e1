//! Stateless per-record rules: watched_destination, DNS to a foreign resolver (a
//! cleartext_protocol), no_dns_contact, and which DHCP ACKs are joins.
//!
//! - watched_destination (warn): a flow whose server country is in `watch_countries` (case
//!   ignored) or whose AS is in `watch_asns`. Kept at warn even when the flow also leaked an
//!   identifier: the device's boot alert is what escalates to critical.
//! - DNS to a foreign resolver (info, `dedup_key` "dns"): a classic DNS query (not mDNS or
//!   LLMNR) to a resolver that is not the network's own: not in `local_resolvers`, or, when
//!   that list is empty, a public address.
//! - no_dns_contact (info; the store keeps one per device and address): TinyCheck's heuristic,
//!   a flow to a public address that no DNS answer, SNI or Host named (`FlowRecord::domain` is
//!   None). Not raised for DNS (53), DNS over TLS (853), DHCP, NTP (123), mDNS and LLMNR, whose
//!   servers are configured by address by design, nor for flows seen mid-stream (their DNS
//!   lookup may predate the capture).

use std::net::IpAddr;

use serde_json::json;

use super::common::{build, device_label, is_public, normalize_domain, Target};
use super::BehaviourConfig;
use crate::event::{
    Alert, AlertKind, DhcpRecord, DnsProtocol, DnsRecord, FlowRecord, Severity, TcpState,
};

/// Server ports contacted by configured address by design (see the module header).
const ADDRESS_CONFIGURED_PORTS: [u16; 7] = [53, 67, 68, 123, 853, 5353, 5355];

/// DHCP message type ACK (option 53).
const DHCP_ACK: u8 = 5;

/// True for a DHCP ACK that joins a device to the network: a reply to a SELECTING or
/// INIT-REBOOT request, whose `ciaddr` is zero. ACKs to renewals, rebinds and INFORMs carry
/// the client's current address in `ciaddr` and are not joins.
pub fn is_join_ack(r: &DhcpRecord) -> bool {
    r.op == 2 && r.msg_type == Some(DHCP_ACK) && r.ciaddr.is_none()
}

/// The configured policy the stateless rules need.
pub struct Rules {
    /// Upper case.
    watch_countries: Vec<String>,
    watch_asns: Vec<u32>,
    local_resolvers: Vec<IpAddr>,
}

impl Rules {
    /// Rules from `cfg`.
    pub fn new(cfg: &BehaviourConfig) -> Rules {
        Rules {
            watch_countries: cfg
                .watch_countries
                .iter()
                .map(|c| c.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
                .collect(),
            watch_asns: cfg.watch_asns.clone(),
            local_resolvers: cfg.local_resolvers.clone(),
        }
    }

    /// watched_destination for flow `f`.
    pub fn watched(&self, f: &FlowRecord) -> Option<Alert> {
        let country = f.country.as_deref().filter(|c| {
            self.watch_countries
                .iter()
                .any(|w| w.eq_ignore_ascii_case(c))
        });
        let asn = f.asn.filter(|a| self.watch_asns.contains(a));
        if country.is_none() && asn.is_none() {
            return None;
        }
        let target = flow_target(f);
        let why = match (country, asn) {
            (Some(_), Some(_)) => "country and AS",
            (Some(_), None) => "country",
            _ => "AS",
        };
        let summary = format!(
            "{} connected to {}{}, a destination in a watched {why}.",
            device_label(f.device_mac),
            target.destination(),
            target.geo_suffix()
        );
        let detail = json!({
            "watched_country": country,
            "watched_asn": asn,
            "as_org": f.as_org,
            "transport": f.transport.as_str(),
            "bytes_up": f.bytes_up,
            "bytes_down": f.bytes_down,
        });
        Some(build(
            f.ts,
            Severity::Warn,
            AlertKind::WatchedDestination,
            target,
            summary,
            detail,
            String::new(),
        ))
    }

    /// True when `ip` is one of the network's own resolvers.
    fn is_local_resolver(&self, ip: IpAddr) -> bool {
        if self.local_resolvers.is_empty() {
            !is_public(ip)
        } else {
            self.local_resolvers.contains(&ip)
        }
    }

    /// cleartext_protocol for a DNS query sent to a resolver that is not the network's own.
    pub fn dns_to_foreign_resolver(&self, r: &DnsRecord) -> Option<Alert> {
        if r.protocol != DnsProtocol::Dns || self.is_local_resolver(r.server_ip) {
            return None;
        }
        let target = Target {
            device_mac: r.device_mac,
            client_ip: Some(r.client_ip),
            client_port: Some(r.client_port),
            server_ip: Some(r.server_ip),
            server_port: Some(r.server_port),
            proto: Some("dns".to_string()),
            ..Target::default()
        };
        let summary = format!(
            "{} sent DNS queries in clear text to the resolver {}, not the network's own.",
            device_label(r.device_mac),
            r.server_ip
        );
        let detail = json!({
            "protocol": "dns",
            "resolver": r.server_ip.to_string(),
            "transport": r.transport.as_str(),
        });
        Some(build(
            r.ts,
            Severity::Info,
            AlertKind::CleartextProtocol,
            target,
            summary,
            detail,
            "dns".to_string(),
        ))
    }

    /// no_dns_contact for flow `f`.
    pub fn no_dns_contact(&self, f: &FlowRecord) -> Option<Alert> {
        if f.domain.is_some()
            || !is_public(f.server_ip)
            || ADDRESS_CONFIGURED_PORTS.contains(&f.server_port)
            || f.tcp_state == TcpState::Midstream
        {
            return None;
        }
        let target = flow_target(f);
        let summary = format!(
            "{} contacted {}{} without a DNS lookup naming it.",
            device_label(f.device_mac),
            target.destination(),
            target.geo_suffix()
        );
        let detail = json!({
            "server_ip": f.server_ip.to_string(),
            "server_port": f.server_port,
            "transport": f.transport.as_str(),
            "as_org": f.as_org,
        });
        Some(build(
            f.ts,
            Severity::Info,
            AlertKind::NoDnsContact,
            target,
            summary,
            detail,
            String::new(),
        ))
    }
}

/// The alert columns of flow `f`.
pub fn flow_target(f: &FlowRecord) -> Target {
    Target {
        device_mac: f.device_mac,
        client_ip: Some(f.client_ip),
        client_port: Some(f.client_port),
        server_ip: Some(f.server_ip),
        server_port: Some(f.server_port),
        proto: Some(f.transport.as_str().to_string()),
        domain: f.domain.as_deref().and_then(normalize_domain),
        country: f.country.clone(),
        asn: f.asn,
    }
}
