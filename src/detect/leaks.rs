//! `pii_leak`: personal identifiers in cleartext payloads (HTTP request targets, headers and
//! bodies, DNS query names, unclaimed TCP/UDP payloads), found by [`super::pii::PiiScanner`]
//! and turned into one alert per identifier kind per request.
//!
//! Severity (issue 3): critical for IMEI, IMSI, ICCID, serial and every identifier the user
//! configured, and for a location sent together with another identifier; warn otherwise.

use super::alert;
use super::pii::{dedup_for_device, Finding, Identifier, PiiScanner, Place};
use crate::event::{Alert, AlertKind, DnsRecord, HttpRecord, MacAddr, PayloadSample, Severity};

/// Turns findings into alerts.
pub struct LeakDetector {
    scanner: PiiScanner,
    /// Reused between scans.
    findings: Vec<Finding>,
}

/// Where a batch of findings came from.
struct Origin<'a> {
    ts: crate::event::Ts,
    device: Option<MacAddr>,
    client: (std::net::IpAddr, u16),
    server: (std::net::IpAddr, u16),
    proto: &'a str,
    domain: Option<&'a str>,
    what: &'a str,
}

impl LeakDetector {
    pub fn new(scanner: PiiScanner) -> LeakDetector {
        LeakDetector {
            scanner,
            findings: Vec::new(),
        }
    }

    /// A cleartext HTTP request: target, headers and body.
    pub fn http(&mut self, r: &HttpRecord, out: &mut Vec<Alert>) {
        self.findings.clear();
        let head = without_credentials(&r.head);
        self.scanner
            .scan_http_request(&r.uri, &head, &mut self.findings);
        if !r.body.is_empty() {
            self.scanner.scan_http_body(
                &r.body,
                r.content_type.as_deref(),
                r.content_encoding.as_deref(),
                &mut self.findings,
            );
        }
        let host = r.host.as_deref().map(|h| host_only(h).to_ascii_lowercase());
        let what = format!("HTTP {} request", r.method);
        self.raise(
            &Origin {
                ts: r.ts,
                device: r.device_mac,
                client: (r.client_ip, r.client_port),
                server: (r.server_ip, r.server_port),
                proto: "http",
                domain: host.as_deref(),
                what: &what,
            },
            out,
        );
    }

    /// A DNS query name (identifiers smuggled as labels).
    pub fn dns(&mut self, r: &DnsRecord, out: &mut Vec<Alert>) {
        self.findings.clear();
        self.scanner.scan_dns_name(&r.qname, &mut self.findings);
        let qname = r.qname.to_ascii_lowercase();
        self.raise(
            &Origin {
                ts: r.ts,
                device: r.device_mac,
                client: (r.client_ip, r.client_port),
                server: (r.server_ip, r.server_port),
                proto: "dns",
                domain: Some(&qname),
                what: "DNS query name",
            },
            out,
        );
    }

    /// The first bytes of an unclaimed TCP/UDP flow.
    pub fn payload(&mut self, p: &PayloadSample, out: &mut Vec<Alert>) {
        self.findings.clear();
        self.scanner
            .scan(Place::Payload, &p.bytes, &mut self.findings);
        self.raise(
            &Origin {
                ts: p.ts,
                device: p.device_mac,
                client: (p.client_ip, p.client_port),
                server: (p.server_ip, p.server_port),
                proto: p.transport.as_str(),
                domain: p.domain.as_deref(),
                what: "unencrypted payload",
            },
            out,
        );
    }

    fn raise(&mut self, o: &Origin<'_>, out: &mut Vec<Alert>) {
        // A configured identifier tied to another device is not this device's leak (its
        // value may still be one by pattern).
        dedup_for_device(&mut self.findings, o.device);
        if self.findings.is_empty() {
            return;
        }
        let with_identifier = self
            .findings
            .iter()
            .any(|f| f.identifier != Identifier::Location);
        let mut seen: Vec<(Identifier, bool)> = Vec::new();
        for f in &self.findings {
            // One alert per identifier kind (configured or pattern) per request.
            if seen.contains(&(f.identifier, f.known)) {
                continue;
            }
            seen.push((f.identifier, f.known));
            let severity = severity(f, with_identifier);
            let to = o
                .domain
                .map(str::to_owned)
                .unwrap_or_else(|| o.server.0.to_string());
            let label = label(f.identifier);
            let summary = format!(
                "{label} {} sent in clear text to {to} ({}, {}{})",
                f.masked,
                o.what,
                f.place.as_str().replace('_', " "),
                if f.encoding.as_str() == "plain" {
                    String::new()
                } else {
                    format!(", {}", f.encoding.as_str())
                }
            );
            let detail = serde_json::json!({
                "identifier": f.identifier.as_str(),
                "encoding": f.encoding.as_str(),
                "known": f.known,
                "value": f.masked,
                "key": f.key,
                "place": f.place.as_str(),
            });
            out.push(alert(
                o.ts,
                AlertKind::PiiLeak,
                severity,
                o.device,
                Some(o.client),
                Some(o.server),
                o.proto,
                o.domain,
                summary,
                detail,
                f.identifier.as_str().to_owned(),
            ));
        }
    }
}

fn severity(f: &Finding, with_identifier: bool) -> Severity {
    match f.identifier {
        _ if f.known => Severity::Critical,
        Identifier::Imei | Identifier::Imsi | Identifier::Iccid | Identifier::Serial => {
            Severity::Critical
        }
        Identifier::Location if with_identifier => Severity::Critical,
        _ => Severity::Warn,
    }
}

/// How an identifier is named in a summary.
fn label(i: Identifier) -> &'static str {
    match i {
        Identifier::Imei => "IMEI",
        Identifier::Imsi => "IMSI",
        Identifier::Iccid => "SIM card number (ICCID)",
        Identifier::Serial => "Serial number",
        Identifier::Mac => "MAC address",
        Identifier::Phone => "Phone number",
        Identifier::Email => "E-mail address",
        Identifier::Location => "Location",
        Identifier::AndroidId => "Android ID",
        Identifier::AdvertisingId => "Advertising ID",
    }
}

/// The request head without its Authorization / Proxy-Authorization lines: credentials are
/// `cleartext_credentials`' business (a Digest user name that is an e-mail address is a login,
/// not an identifier the phone leaks).
fn without_credentials(head: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let is_auth = |line: &[u8]| {
        let l = line.trim_ascii_start();
        l.len() >= 14
            && (l[..14].eq_ignore_ascii_case(b"authorization:")
                || l.len() >= 20 && l[..20].eq_ignore_ascii_case(b"proxy-authorization:"))
    };
    if !head.split(|b| *b == b'\n').any(is_auth) {
        return std::borrow::Cow::Borrowed(head);
    }
    let mut out = Vec::with_capacity(head.len());
    for line in head.split_inclusive(|b| *b == b'\n') {
        if !is_auth(line) {
            out.extend_from_slice(line);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The host of a Host header (no port), lowercased.
fn host_only(h: &str) -> &str {
    let h = h.trim();
    match h.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::pii::KnownIdentifier;
    use crate::event::HttpRecord;

    const PHONE: MacAddr = MacAddr([0x04, 0xf1, 0x28, 0x5c, 0x3a, 0x7e]);
    const OTHER: MacAddr = MacAddr([0x3c, 0x28, 0x6d, 0x11, 0x22, 0x33]);

    fn request(device: MacAddr) -> HttpRecord {
        HttpRecord {
            ts: 1,
            device_mac: Some(device),
            client_ip: "192.168.8.23".parse().unwrap(),
            client_port: 40001,
            server_ip: "34.120.62.213".parse().unwrap(),
            server_port: 80,
            method: "GET".into(),
            host: Some("api.example".into()),
            uri: "/c?imei=864912041574337".into(),
            version: "1.1".into(),
            user_agent: None,
            referrer: None,
            content_type: None,
            content_encoding: None,
            auth_scheme: None,
            cookie_present: false,
            content_length: None,
            chunked: false,
            body: Vec::new(),
            head: b"GET /c?imei=864912041574337 HTTP/1.1\r\nHost: api.example\r\n\r\n".to_vec(),
        }
    }

    /// Regression: an IMEI configured for another device hid the pattern finding of the same
    /// value, so this device's leak went unreported (worse than configuring nothing).
    #[test]
    fn an_identifier_configured_for_another_device_is_still_found_by_pattern() {
        let known = [KnownIdentifier {
            kind: Identifier::Imei,
            value: "864912041574337".into(),
            device: Some(OTHER),
        }];
        let mut d = LeakDetector::new(PiiScanner::new(&known).unwrap());
        for (device, known) in [(PHONE, false), (OTHER, true)] {
            let mut out = Vec::new();
            d.http(&request(device), &mut out);
            let got: Vec<_> = out
                .iter()
                .map(|a| (a.detail["identifier"].as_str(), a.detail["known"].as_bool()))
                .collect();
            assert_eq!(got, [(Some("imei"), Some(known))], "{device}");
        }
    }
}
