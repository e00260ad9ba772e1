//! cleartext_protocol and cleartext_credentials.
//!
//! cleartext_protocol (info, `dedup_key` = the protocol, so one alert per device, destination
//! and protocol): every HTTP request (port-independent, from [`HttpRecord`]); FTP, Telnet,
//! POP3, IMAP, SMTP and MQTT flows by server port ([`is_cleartext_port`]), except flows that
//! never got past the SYN and flows whose client asked for STARTTLS/STLS/AUTH TLS; DNS to a
//! foreign resolver is in `rules`.
//!
//! cleartext_credentials (warn, `dedup_key` = the protocol): an HTTP Authorization header of
//! scheme Basic or Digest, and logins that [`scan_client_line_protocol`] finds in the first
//! client bytes of a flow. The detail holds the protocol, the masked user name and whether a
//! password was sent — never the password. Anonymous FTP (`anonymous`/`ftp`) is not a credential.
//!
//! [`StarttlsNotes`] remembers, per flow, whether its client bytes asked for TLS, until the
//! flow's record comes; at most [`MAX_SCANNED_FLOWS`] notes (oldest dropped first).
//!
//! [`scan_client_line_protocol`]: crate::decode::lineproto::scan_client_line_protocol

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use serde_json::json;

use super::common::{build, device_label, host_domain, mask, normalize_domain, Target};
use super::ClientBytes;
use crate::decode::lineproto::{can_upgrade_to_tls, is_cleartext_port, LineFinding};
use crate::event::{Alert, AlertKind, FlowRecord, HttpRecord, Severity, TcpState, Transport};

/// Flows whose STARTTLS note waits for the flow record; bounds memory when records never come.
pub const MAX_SCANNED_FLOWS: usize = 4096;

/// (client ip, client port, server ip, server port) of a TCP flow.
type FlowKey = (IpAddr, u16, IpAddr, u16);

/// Whether each scanned flow asked for TLS (see the module header).
#[derive(Debug, Default)]
pub struct StarttlsNotes {
    notes: HashMap<FlowKey, bool>,
    /// Keys in the order noted (eviction order; may hold keys already taken).
    order: VecDeque<FlowKey>,
}

impl StarttlsNotes {
    /// Notes the scan result of `cb`'s flow.
    pub fn note(&mut self, cb: &ClientBytes<'_>, starttls: bool) {
        let key = (cb.client_ip, cb.client_port, cb.server_ip, cb.server_port);
        if let Some(v) = self.notes.get_mut(&key) {
            *v |= starttls;
            return;
        }
        while self.order.len() >= MAX_SCANNED_FLOWS {
            match self.order.pop_front() {
                Some(old) => {
                    self.notes.remove(&old);
                }
                None => break,
            }
        }
        self.notes.insert(key, starttls);
        self.order.push_back(key);
    }

    /// The note of flow `f`, removed: Some(true) when its client asked for TLS, Some(false)
    /// when it was scanned without, None when it was never scanned.
    pub fn take(&mut self, f: &FlowRecord) -> Option<bool> {
        if f.transport != Transport::Tcp || is_cleartext_port(f.server_port).is_none() {
            return None;
        }
        self.notes
            .remove(&(f.client_ip, f.client_port, f.server_ip, f.server_port))
    }

    /// Notes held.
    pub fn held(&self) -> usize {
        self.notes.len()
    }
}

fn http_target(r: &HttpRecord) -> Target {
    Target {
        device_mac: r.device_mac,
        client_ip: Some(r.client_ip),
        client_port: Some(r.client_port),
        server_ip: Some(r.server_ip),
        server_port: Some(r.server_port),
        proto: Some("http".to_string()),
        domain: r.host.as_deref().and_then(host_domain),
        country: None,
        asn: None,
    }
}

/// cleartext_protocol for an HTTP request.
pub fn cleartext_http(r: &HttpRecord) -> Option<Alert> {
    let target = http_target(r);
    let summary = format!(
        "{} sent an HTTP request to {} without encryption.",
        device_label(r.device_mac),
        target.destination()
    );
    let detail = json!({ "protocol": "http", "method": r.method, "server_port": r.server_port });
    Some(build(
        r.ts,
        Severity::Info,
        AlertKind::CleartextProtocol,
        target,
        summary,
        detail,
        "http".to_string(),
    ))
}

/// cleartext_credentials for an HTTP Basic or Digest Authorization header.
pub fn http_credentials(r: &HttpRecord) -> Option<Alert> {
    let scheme = r.auth_scheme.as_deref()?;
    let (scheme, label) = if scheme.eq_ignore_ascii_case("basic") {
        ("basic", "Basic")
    } else if scheme.eq_ignore_ascii_case("digest") {
        ("digest", "Digest")
    } else {
        return None;
    };
    let target = http_target(r);
    let summary = format!(
        "{} sent HTTP {label} credentials in clear text to {}.",
        device_label(r.device_mac),
        target.destination()
    );
    // The record keeps only the scheme, so there is no user name to show.
    let detail = json!({ "protocol": "http", "scheme": scheme, "username": null });
    Some(build(
        r.ts,
        Severity::Warn,
        AlertKind::CleartextCredentials,
        target,
        summary,
        detail,
        "http".to_string(),
    ))
}

/// cleartext_protocol for a flow on a cleartext-protocol port; `upgraded` is its STARTTLS note.
pub fn cleartext_flow(f: &FlowRecord, upgraded: Option<bool>) -> Option<Alert> {
    if f.transport != Transport::Tcp || f.tcp_state == TcpState::SynSent {
        return None;
    }
    let protocol = is_cleartext_port(f.server_port)?;
    let upgradable = can_upgrade_to_tls(protocol);
    if upgradable && upgraded == Some(true) {
        return None;
    }
    let target = Target {
        device_mac: f.device_mac,
        client_ip: Some(f.client_ip),
        client_port: Some(f.client_port),
        server_ip: Some(f.server_ip),
        server_port: Some(f.server_port),
        proto: Some(protocol.to_string()),
        domain: f.domain.as_deref().and_then(normalize_domain),
        country: f.country.clone(),
        asn: f.asn,
    };
    let summary = format!(
        "{} used {} without encryption with {}{}.",
        device_label(f.device_mac),
        protocol.to_ascii_uppercase(),
        target.destination(),
        target.geo_suffix()
    );
    let detail = json!({
        "protocol": protocol,
        "server_port": f.server_port,
        "client_bytes_checked": upgraded.is_some(),
        "starttls": upgradable.then_some(false),
    });
    Some(build(
        f.ts,
        Severity::Info,
        AlertKind::CleartextProtocol,
        target,
        summary,
        detail,
        protocol.to_string(),
    ))
}

/// cleartext_credentials for a login found in a flow's first client bytes.
pub fn line_credentials(cb: &ClientBytes<'_>, protocol: &str, f: &LineFinding) -> Option<Alert> {
    if !f.has_credentials() {
        return None;
    }
    let anonymous = protocol == "ftp"
        && f.username
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case("anonymous") || u.eq_ignore_ascii_case("ftp"));
    if anonymous {
        return None;
    }
    let target = Target {
        device_mac: cb.device_mac,
        client_ip: Some(cb.client_ip),
        client_port: Some(cb.client_port),
        server_ip: Some(cb.server_ip),
        server_port: Some(cb.server_port),
        proto: Some(protocol.to_string()),
        domain: cb.domain.and_then(normalize_domain),
        country: None,
        asn: None,
    };
    let masked = f.username.as_deref().map(mask);
    let user = masked
        .as_deref()
        .map(|m| format!(" (user {m})"))
        .unwrap_or_default();
    let summary = format!(
        "{} sent login credentials for {}{user} in clear text to {}.",
        device_label(cb.device_mac),
        protocol.to_ascii_uppercase(),
        target.destination()
    );
    let detail = json!({
        "protocol": protocol,
        "username": masked,
        "password_seen": f.password_seen,
    });
    Some(build(
        cb.ts,
        Severity::Warn,
        AlertKind::CleartextCredentials,
        target,
        summary,
        detail,
        protocol.to_string(),
    ))
}
