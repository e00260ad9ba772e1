//! Behavioural detectors: boot_phone_home, watched_destination, cleartext_protocol,
//! cleartext_credentials, no_dns_contact, beacon and encrypted_dns, as one pure state machine over the records
//! the pipeline emits.
//!
//! [`Behaviour::observe`] takes every [`Event`] (alerts of other detectors included: a pii_leak
//! or watched_destination fed back escalates the device's boot alert) and hands alerts to a
//! callback; [`Behaviour::observe_client_bytes`] takes the first client bytes of TCP flows the
//! pipeline does not classify (FTP, POP3, IMAP, SMTP, Telnet, MQTT), which must reach it before
//! that flow's [`FlowRecord`]. [`Behaviour::tick`] and [`Behaviour::flush`] close boot windows
//! when no event comes and at the end of a capture.
//!
//! Invariants:
//! - Packet time only: "now" is the latest event time seen (never the wall clock), so a
//!   replayed capture gives the same alerts as the live run.
//! - Bounded state: [`MAX_DEVICES`] devices, [`MAX_BOOT_DESTINATIONS`] per boot window,
//!   [`beacon::MAX_SERIES`] (device, destination) series of [`beacon::MAX_HISTORY`] start
//!   times each, [`MAX_SCANNED_FLOWS`] STARTTLS notes; the oldest entry makes room for a new
//!   one. Boot windows close [`BOOT_REPORT_GRACE`] after their end (flows are reported when
//!   they end).
//! - The allowlist ([`BehaviourConfig::allow`]) drops every alert of these kinds whose domain
//!   (or a parent) is listed; pii_leak and ioc_match are never produced here.
//! - Repeats are emitted as they happen; the store merges them into one counted alert per kind,
//!   device, destination and `dedup_key` (see `store::insert::ALERT_MERGE_WINDOW`).
//! - No identifier in clear in a summary or detail: MACs and user names are masked
//!   ([`common::mask`]); passwords are never kept (the line scanner reports only that one was
//!   sent).

pub mod beacon;
mod boot;
mod cleartext;
pub mod common;
pub mod encrypted_dns;
mod rules;

use std::net::IpAddr;

use crate::event::{Alert, AlertKind, Event, FlowRecord, MacAddr, Ts, MICROS};

use beacon::BeaconTracker;
use boot::{BootTracker, Destination, Mark};
use cleartext::StarttlsNotes;
use common::Allowlist;
use encrypted_dns::EncryptedDns;

pub use boot::{BOOT_REPORT_GRACE, MAX_BOOT_DESTINATIONS, MAX_DEVICES};
pub use cleartext::MAX_SCANNED_FLOWS;

/// Longest boot window accepted, seconds (a day); longer configured values are cut to it.
pub const MAX_BOOT_WINDOW_SECS: u32 = 86_400;

/// Settings of the beacon detector.
#[derive(Clone, Debug, PartialEq)]
pub struct BeaconConfig {
    /// Intervals between connection starts needed before a series counts as periodic
    /// (default 10; kept within 2 ..= [`beacon::MAX_HISTORY`] - 1).
    pub min_intervals: u32,
    /// Largest relative deviation of any interval from the median period (default 0.05, i.e.
    /// ±5 %; kept within 0 ..= 0.5).
    pub tolerance: f64,
    /// Shortest period reported, seconds (default 10: faster repeats are retries and bursts).
    pub min_period_secs: u32,
    /// Longest period reported, seconds (default 3600).
    pub max_period_secs: u32,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            min_intervals: 10,
            tolerance: 0.05,
            min_period_secs: 10,
            max_period_secs: 3600,
        }
    }
}

/// Settings of [`Behaviour`].
#[derive(Clone, Debug, PartialEq)]
pub struct BehaviourConfig {
    /// Length of the boot window after a device joins, seconds (default 120; at most
    /// [`MAX_BOOT_WINDOW_SECS`]).
    pub boot_window_secs: u32,
    /// ISO 3166 alpha-2 countries whose destinations raise watched_destination (any case).
    pub watch_countries: Vec<String>,
    /// Autonomous systems whose destinations raise watched_destination.
    pub watch_asns: Vec<u32>,
    /// Allowlisted domains (subdomains included): silences every kind produced here.
    pub allow: Vec<String>,
    /// The access point's DNS resolvers. Empty: any non-public resolver (RFC 1918,
    /// link-local, ULA, loopback) counts as local.
    pub local_resolvers: Vec<IpAddr>,
    /// Beacon detector settings.
    pub beacon: BeaconConfig,
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        BehaviourConfig {
            boot_window_secs: 120,
            watch_countries: Vec::new(),
            watch_asns: Vec::new(),
            allow: Vec::new(),
            local_resolvers: Vec::new(),
            beacon: BeaconConfig::default(),
        }
    }
}

/// The first client bytes of one TCP flow, for [`Behaviour::observe_client_bytes`].
#[derive(Clone, Copy, Debug)]
pub struct ClientBytes<'a> {
    /// Time of the packet that completed (or last extended) `bytes`.
    pub ts: Ts,
    /// The device the flow belongs to.
    pub device_mac: Option<MacAddr>,
    /// Client side of the flow, as in its [`FlowRecord`].
    pub client_ip: IpAddr,
    /// Client port, as in the flow's record.
    pub client_port: u16,
    /// Server side of the flow, as in its record.
    pub server_ip: IpAddr,
    /// Server port: selects the protocol ([`crate::decode::lineproto::is_cleartext_port`]).
    pub server_port: u16,
    /// The flow's domain, if DNS/SNI/Host named it (for the allowlist and the alert).
    pub domain: Option<&'a str>,
    /// Client → server stream bytes from the start (the scanner reads at most
    /// [`crate::decode::lineproto::MAX_SCAN_BYTES`]).
    pub bytes: &'a [u8],
}

/// The behavioural detectors (see the module header).
pub struct Behaviour {
    allow: Allowlist,
    det: Detectors,
}

/// Everything but the allowlist, so alerts can be filtered while the detectors change.
struct Detectors {
    rules: rules::Rules,
    boot: BootTracker,
    beacons: BeaconTracker,
    starttls: StarttlsNotes,
    encrypted_dns: EncryptedDns,
    /// Latest event time seen.
    now: Ts,
}

impl Behaviour {
    /// Detectors with `cfg` (out-of-range values are brought into range, see the fields).
    pub fn new(cfg: BehaviourConfig) -> Behaviour {
        let window = Ts::from(cfg.boot_window_secs.min(MAX_BOOT_WINDOW_SECS)) * MICROS;
        Behaviour {
            allow: Allowlist::new(&cfg.allow),
            det: Detectors {
                rules: rules::Rules::new(&cfg),
                boot: BootTracker::new(window),
                beacons: BeaconTracker::new(&cfg.beacon),
                starttls: StarttlsNotes::default(),
                encrypted_dns: EncryptedDns::new(&cfg.local_resolvers),
                now: Ts::MIN,
            },
        }
    }

    /// Feeds one event; alerts go to `out`.
    pub fn observe(&mut self, ev: &Event, out: &mut dyn FnMut(Alert)) {
        let allow = &self.allow;
        let mut emit = |a: Alert| {
            if !silenced(allow, &a) {
                out(a)
            }
        };
        self.det.observe(ev, allow, &mut emit);
    }

    /// Feeds the first client bytes of a TCP flow on a cleartext-protocol port: raises
    /// cleartext_credentials when a login is seen, and notes a STARTTLS upgrade so that the
    /// flow's record raises no cleartext_protocol. Call it once per flow (when its buffer of
    /// client bytes is full or the flow ends), before the flow's [`FlowRecord`].
    pub fn observe_client_bytes(&mut self, cb: &ClientBytes<'_>, out: &mut dyn FnMut(Alert)) {
        let finding = crate::decode::lineproto::scan_client_line_protocol(cb.server_port, cb.bytes);
        let Some(protocol) = finding.protocol else {
            return;
        };
        self.det.starttls.note(cb, finding.starttls);
        if let Some(a) = cleartext::line_credentials(cb, protocol, &finding) {
            if !silenced(&self.allow, &a) {
                out(a);
            }
        }
        self.det.now = self.det.now.max(cb.ts);
    }

    /// Advances packet time to `now` without an event (a quiet live interface): closes the
    /// boot windows that are due.
    pub fn tick(&mut self, now: Ts, out: &mut dyn FnMut(Alert)) {
        self.det.now = self.det.now.max(now);
        self.det.boot.close_due(self.det.now, out);
    }

    /// End of capture or shutdown: closes every open boot window, whatever its age.
    pub fn flush(&mut self, now: Ts, out: &mut dyn FnMut(Alert)) {
        self.det.now = self.det.now.max(now);
        self.det.boot.close_all(out);
    }

    /// Sizes of the state held now: (devices, open boot windows, beacon series, STARTTLS
    /// notes). Each stays within its named limit.
    pub fn held(&self) -> (usize, usize, usize, usize) {
        let (devices, open) = self.det.boot.held();
        (
            devices,
            open,
            self.det.beacons.len(),
            self.det.starttls.held(),
        )
    }
}

impl Detectors {
    fn observe(&mut self, ev: &Event, allow: &Allowlist, emit: &mut dyn FnMut(Alert)) {
        let t = match ev {
            Event::Dns(r) => {
                self.sighting(r.device_mac, r.ts, Some(r.client_ip), emit);
                if let Some(a) = self.rules.dns_to_foreign_resolver(r) {
                    emit(a);
                }
                r.ts
            }
            Event::Http(r) => {
                self.sighting(r.device_mac, r.ts, Some(r.client_ip), emit);
                if let Some(mac) = r.device_mac {
                    let domain = r.host.as_deref().and_then(common::host_domain);
                    let d = Destination::new(r.ts, domain, r.server_ip, r.server_port);
                    self.boot.destination(mac, d, allow);
                }
                for a in [cleartext::cleartext_http(r), cleartext::http_credentials(r)]
                    .into_iter()
                    .flatten()
                {
                    emit(a);
                }
                r.ts
            }
            Event::Tls(r) => {
                self.sighting(r.device_mac, r.ts, Some(r.client_ip), emit);
                if let Some(mac) = r.device_mac {
                    let domain = r.sni.as_deref().and_then(common::normalize_domain);
                    let d = Destination::new(r.ts, domain, r.server_ip, r.server_port);
                    self.boot.destination(mac, d, allow);
                }
                if let Some(a) = self.encrypted_dns.tls(r) {
                    emit(a);
                }
                r.ts
            }
            Event::Dhcp(r) => {
                self.boot
                    .sighting(r.client_mac, r.ts, r.yiaddr.or(r.ciaddr), emit);
                if rules::is_join_ack(r) {
                    self.boot.dhcp_ack(r.client_mac, r.ts, emit);
                }
                r.ts
            }
            Event::Device(d) => {
                self.boot.sighting(d.mac, d.ts, d.ip, emit);
                d.ts
            }
            Event::Flow(f) => {
                self.flow(f, allow, emit);
                f.ts.max(f.last_ts)
            }
            Event::Payload(_) | Event::FlowFrames(_) | Event::Evidence(_) => return,
            Event::Alert(a) => {
                if let Some(mac) = a.device_mac {
                    match a.kind {
                        AlertKind::PiiLeak => self.boot.mark(mac, a.ts, Mark::PiiLeak),
                        AlertKind::WatchedDestination => self.boot.mark(mac, a.ts, Mark::Watched),
                        _ => {}
                    }
                }
                a.ts
            }
        };
        self.now = self.now.max(t);
        self.boot.close_due(self.now, emit);
    }

    fn flow(&mut self, f: &FlowRecord, allow: &Allowlist, emit: &mut dyn FnMut(Alert)) {
        self.sighting(f.device_mac, f.ts, Some(f.client_ip), emit);
        let watched = self.rules.watched(f);
        if let Some(mac) = f.device_mac {
            let mut d = Destination::new(f.ts, f.domain.clone(), f.server_ip, f.server_port);
            d.country = f.country.clone();
            d.asn = f.asn;
            d.as_org = f.as_org.clone();
            let allowed = f.domain.as_deref().is_some_and(|d| allow.matches(d));
            self.boot.destination(mac, d, allow);
            if watched.is_some() && !allowed {
                self.boot.mark(mac, f.ts, Mark::Watched);
            }
        }
        let upgraded = self.starttls.take(f);
        let beacon = self.beacons.flow(f).map(|hit| beacon::alert(f, &hit));
        let alerts = [
            watched,
            cleartext::cleartext_flow(f, upgraded),
            self.rules.no_dns_contact(f),
            beacon,
            self.encrypted_dns.flow(f),
        ];
        for a in alerts.into_iter().flatten() {
            emit(a);
        }
    }

    /// A record seen for `mac` (if known): a device's first record opens its boot window.
    fn sighting(
        &mut self,
        mac: Option<MacAddr>,
        ts: Ts,
        ip: Option<IpAddr>,
        emit: &mut dyn FnMut(Alert),
    ) {
        if let Some(mac) = mac {
            self.boot.sighting(mac, ts, ip, emit);
        }
    }
}

/// True when the allowlist silences `a`: its domain or a parent is listed and it is not a
/// pii_leak or ioc_match.
fn silenced(allow: &Allowlist, a: &Alert) -> bool {
    !matches!(a.kind, AlertKind::PiiLeak | AlertKind::IocMatch)
        && a.domain.as_deref().is_some_and(|d| allow.matches(d))
}
