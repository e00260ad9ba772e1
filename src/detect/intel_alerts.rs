//! `ioc_match` and `tracker`: names, addresses, URLs and fingerprints the device used, looked
//! up in the loaded indicator set and tracker lists. Indicators are critical (a vendor website
//! of stalkerware is warn: visiting it is weaker evidence than talking to its C2); trackers are
//! info. One alert per device, destination and indicator/tracker (the store counts repeats).

use std::net::IpAddr;

use super::alert;
use crate::event::{
    Alert, AlertKind, DnsRecord, FlowRecord, HttpRecord, MacAddr, Severity, TlsRecord, Ts,
};
use crate::intel::ioc::{IndicatorKind, IocHit, IocSet};
use crate::intel::trackers::Trackers;

/// Where a looked-up value was seen.
pub(super) struct Seen<'a> {
    pub ts: Ts,
    pub device: Option<MacAddr>,
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    pub proto: &'a str,
    /// What the value is, for the summary ("DNS lookup", "TLS server name", …).
    pub how: &'a str,
}

pub(super) fn dns(ioc: &IocSet, trackers: &Trackers, r: &DnsRecord, out: &mut Vec<Alert>) {
    let name = r.qname.to_ascii_lowercase();
    let seen = Seen {
        ts: r.ts,
        device: r.device_mac,
        client: (r.client_ip, r.client_port),
        server: (r.server_ip, r.server_port),
        proto: "dns",
        how: "DNS lookup",
    };
    domain(ioc, trackers, &name, &seen, out);
}

pub(super) fn tls(ioc: &IocSet, trackers: &Trackers, r: &TlsRecord, out: &mut Vec<Alert>) {
    let seen = Seen {
        ts: r.ts,
        device: r.device_mac,
        client: (r.client_ip, r.client_port),
        server: (r.server_ip, r.server_port),
        proto: r.transport.as_str(),
        how: "TLS server name",
    };
    if let Some(sni) = r.sni.as_deref() {
        domain(ioc, trackers, &sni.to_ascii_lowercase(), &seen, out);
    }
    if let Some(hit) = ioc.match_ja4(&r.ja4) {
        let dest = r.sni.clone().map(|s| s.to_ascii_lowercase());
        out.push(ioc_alert(
            &hit,
            &seen,
            dest.as_deref(),
            "TLS fingerprint (JA4)",
        ));
    }
}

pub(super) fn http(ioc: &IocSet, trackers: &Trackers, r: &HttpRecord, out: &mut Vec<Alert>) {
    let seen = Seen {
        ts: r.ts,
        device: r.device_mac,
        client: (r.client_ip, r.client_port),
        server: (r.server_ip, r.server_port),
        proto: "http",
        how: "HTTP host",
    };
    let Some(host) = r.host.as_deref().map(host_name) else {
        return;
    };
    let before = out.len();
    domain(ioc, trackers, &host, &seen, out);
    if out.len() == before {
        let url = format!("{host}{}", r.uri);
        if let Some(hit) = ioc.match_url(&url) {
            out.push(ioc_alert(&hit, &seen, Some(&host), "URL"));
        }
    }
}

pub(super) fn flow(ioc: &IocSet, f: &FlowRecord, out: &mut Vec<Alert>) {
    if let Some(hit) = ioc.match_ip(f.server_ip) {
        let seen = Seen {
            ts: f.ts,
            device: f.device_mac,
            client: (f.client_ip, f.client_port),
            server: (f.server_ip, f.server_port),
            proto: f.transport.as_str(),
            how: "server address",
        };
        out.push(ioc_alert(
            &hit,
            &seen,
            f.domain.as_deref(),
            "server address",
        ));
    }
}

fn domain(ioc: &IocSet, trackers: &Trackers, name: &str, seen: &Seen<'_>, out: &mut Vec<Alert>) {
    if name.is_empty() {
        return;
    }
    if let Some(hit) = ioc.match_domain(name) {
        out.push(ioc_alert(&hit, seen, Some(name), seen.how));
        return;
    }
    if let Some(t) = trackers.match_host(name) {
        out.push(alert(
            seen.ts,
            AlertKind::Tracker,
            Severity::Info,
            seen.device,
            Some(seen.client),
            Some(seen.server),
            seen.proto,
            Some(name),
            format!("Contact with tracker {} ({name}, {})", t.name, seen.how),
            serde_json::json!({ "tracker": t.name, "source": t.source, "host": name }),
            t.name.to_owned(),
        ));
    }
}

fn ioc_alert(hit: &IocHit<'_>, seen: &Seen<'_>, domain: Option<&str>, how: &str) -> Alert {
    let severity = if hit.kind == IndicatorKind::Website {
        Severity::Warn
    } else {
        Severity::Critical
    };
    let family = hit.family.unwrap_or("an indicator list");
    let source = std::path::Path::new(hit.source)
        .file_name()
        .map_or(hit.source.to_owned(), |f| f.to_string_lossy().into_owned());
    let what = match hit.kind {
        IndicatorKind::Website => "website of",
        _ => "indicator of",
    };
    alert(
        seen.ts,
        AlertKind::IocMatch,
        severity,
        seen.device,
        Some(seen.client),
        Some(seen.server),
        seen.proto,
        domain,
        format!("{how} {} matches a {what} {family}", hit.indicator),
        serde_json::json!({
            "indicator": hit.indicator,
            "indicator_kind": hit.kind.as_str(),
            "source": source,
            "family": hit.family,
        }),
        hit.indicator.to_owned(),
    )
}

/// The host of a Host header: no port, no brackets, lowercase.
fn host_name(h: &str) -> String {
    let h = h.trim();
    let h = match h.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => match h.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => h,
        },
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}
