//! boot_phone_home: what a device contacts in its first minutes on the network.
//!
//! A device joins at a DHCP ACK for it (a join ACK, see `rules::is_join_ack`) or, when none
//! was seen, at its first record. Its boot window then collects, for `window` of packet time,
//! the public destinations of its flows, TLS ClientHellos and HTTP requests (domain, address,
//! port, country, AS; DHCP relays left out), and whether a pii_leak or watched_destination fell inside it. When it
//! closes, ONE alert per join lists them, sorted by first contact: critical when the window held
//! a pii_leak or a watched destination, else info.
//!
//! Invariants:
//! - A window closes when packet time passes its end plus [`BOOT_REPORT_GRACE`]: a flow is
//!   reported when it ends (10 s after FIN, 60 s idle for UDP), so flows that started inside
//!   the window need that long to arrive. Only records whose own time is inside the window
//!   count. [`BootTracker::close_all`] closes every window at the end of a capture.
//! - A DHCP ACK while a window is open is the same join (DISCOVER…ACK is one exchange); after
//!   the window it starts a new one. A first-packet window with no destination, no leak and no
//!   watched destination raises nothing (a device first seen mid-session that only talked to
//!   the LAN); a DHCP join always raises its alert, empty or not.
//! - At most [`MAX_DEVICES`] devices (the oldest first seen makes room, its open window is
//!   reported early) and [`MAX_BOOT_DESTINATIONS`] listed destinations per window (more are
//!   counted, not listed). Alerts come out in a deterministic order (window start, then first
//!   sighting).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use serde_json::json;

use super::common::{build, device_label, is_public, Allowlist, Target};
use crate::event::{Alert, AlertKind, MacAddr, Severity, Ts, MICROS};

/// Devices tracked; bounds memory under a flood of spoofed MACs.
pub const MAX_DEVICES: usize = 1024;
/// Destinations listed per boot window; bounds the alert's size (more are only counted).
pub const MAX_BOOT_DESTINATIONS: usize = 64;
/// How long after its end a boot window stays open for flows that started inside it but are
/// reported when they end (closed TCP flows 10 s after FIN, idle UDP flows after 60 s).
pub const BOOT_REPORT_GRACE: Ts = 60 * MICROS;
/// A DHCP ACK this soon after a first-packet window opened (the DISCOVER of the same
/// exchange) makes that window a DHCP join.
const DHCP_EXCHANGE_SLACK: Ts = 10 * MICROS;
/// DHCP server and client ports: a DHCP relay's address is infrastructure, not a destination.
const DHCP_PORTS: [u16; 2] = [67, 68];
/// Destinations named in the summary sentence.
const SUMMARY_NAMES: usize = 3;

/// What escalates a boot window to critical.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// A pii_leak alert of the device.
    PiiLeak,
    /// A watched_destination of the device (flow or fed-back alert).
    Watched,
}

/// One destination of a boot window.
#[derive(Clone, Debug, PartialEq)]
pub struct Destination {
    /// Time of the first contact.
    pub first_ts: Ts,
    /// Normalised domain, when a DNS answer, SNI or Host named it.
    pub domain: Option<String>,
    /// Server address.
    pub server_ip: IpAddr,
    /// Server port of the first contact.
    pub server_port: u16,
    /// Country, AS number and AS organisation of the address (flows only).
    pub country: Option<String>,
    /// See `country`.
    pub asn: Option<u32>,
    /// See `country`.
    pub as_org: Option<String>,
}

impl Destination {
    /// A destination without geo data.
    pub fn new(ts: Ts, domain: Option<String>, server_ip: IpAddr, server_port: u16) -> Self {
        Destination {
            first_ts: ts,
            domain,
            server_ip,
            server_port,
            country: None,
            asn: None,
            as_org: None,
        }
    }

    /// Same destination: the same domain, or the same address where a domain is missing.
    fn same(&self, o: &Destination) -> bool {
        match (&self.domain, &o.domain) {
            (Some(a), Some(b)) => a == b,
            _ => self.server_ip == o.server_ip,
        }
    }

    /// Fills what `o` knows and `self` does not; keeps the earliest contact.
    fn merge(&mut self, o: Destination) {
        self.first_ts = self.first_ts.min(o.first_ts);
        self.domain = self.domain.take().or(o.domain);
        self.country = self.country.take().or(o.country);
        self.asn = self.asn.or(o.asn);
        self.as_org = self.as_org.take().or(o.as_org);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Join {
    DhcpAck,
    FirstPacket,
}

#[derive(Debug)]
struct Window {
    start: Ts,
    join: Join,
    dests: Vec<Destination>,
    /// Distinct destinations not listed because the list was full.
    unlisted: u32,
    pii_leak: bool,
    watched: bool,
}

#[derive(Debug, Default)]
struct Device {
    client_ip: Option<IpAddr>,
    window: Option<Window>,
}

/// Boot windows of every device seen (see the module header).
pub struct BootTracker {
    /// Window length, microseconds.
    window: Ts,
    devices: HashMap<MacAddr, Device>,
    /// Devices in the order first seen: eviction order and deterministic iteration.
    order: VecDeque<MacAddr>,
    /// Earliest time an open window is due to close (`Ts::MAX` when none is open).
    next_close: Ts,
}

impl BootTracker {
    /// A tracker of windows `window` microseconds long.
    pub fn new(window: Ts) -> BootTracker {
        BootTracker {
            window,
            devices: HashMap::new(),
            order: VecDeque::new(),
            next_close: Ts::MAX,
        }
    }

    /// (devices tracked, windows open).
    pub fn held(&self) -> (usize, usize) {
        let open = self.devices.values().filter(|d| d.window.is_some()).count();
        (self.devices.len(), open)
    }

    /// A record for `mac` at `ts`: a device never seen before joins now (first packet).
    pub fn sighting(
        &mut self,
        mac: MacAddr,
        ts: Ts,
        ip: Option<IpAddr>,
        out: &mut dyn FnMut(Alert),
    ) {
        if let Some(d) = self.devices.get_mut(&mac) {
            if d.client_ip.is_none() {
                d.client_ip = ip.filter(|ip| !ip.is_unspecified());
            }
            return;
        }
        self.insert(mac, out);
        if let Some(d) = self.devices.get_mut(&mac) {
            d.client_ip = ip.filter(|ip| !ip.is_unspecified());
        }
        self.open(mac, ts, Join::FirstPacket);
    }

    /// A DHCP ACK joining `mac` to the network at `ts`.
    pub fn dhcp_ack(&mut self, mac: MacAddr, ts: Ts, out: &mut dyn FnMut(Alert)) {
        if !self.devices.contains_key(&mac) {
            self.insert(mac, out);
        }
        let window = self.window;
        let Some(dev) = self.devices.get_mut(&mac) else {
            return;
        };
        if let Some(w) = dev.window.as_mut() {
            if ts < w.start.saturating_add(window) {
                if w.join == Join::FirstPacket && ts.saturating_sub(w.start) <= DHCP_EXCHANGE_SLACK
                {
                    w.join = Join::DhcpAck;
                }
                return;
            }
            if let Some(a) = self.close(mac) {
                out(a);
            }
        }
        self.open(mac, ts, Join::DhcpAck);
    }

    /// A contact of `mac` with `d`, listed when it falls inside the device's open window and
    /// is public and not allowlisted.
    pub fn destination(&mut self, mac: MacAddr, d: Destination, allow: &Allowlist) {
        let Some(w) = self.open_window_at(mac, d.first_ts) else {
            return;
        };
        if !is_public(d.server_ip)
            || DHCP_PORTS.contains(&d.server_port)
            || d.domain.as_deref().is_some_and(|n| allow.matches(n))
        {
            return;
        }
        if let Some(e) = w.dests.iter_mut().find(|e| e.same(&d)) {
            e.merge(d);
        } else if w.dests.len() < MAX_BOOT_DESTINATIONS {
            w.dests.push(d);
        } else {
            w.unlisted = w.unlisted.saturating_add(1);
        }
    }

    /// Notes a pii_leak or watched destination of `mac` at `ts` in its open window.
    pub fn mark(&mut self, mac: MacAddr, ts: Ts, mark: Mark) {
        if let Some(w) = self.open_window_at(mac, ts) {
            match mark {
                Mark::PiiLeak => w.pii_leak = true,
                Mark::Watched => w.watched = true,
            }
        }
    }

    /// Closes the windows whose end plus [`BOOT_REPORT_GRACE`] is at or before `now`.
    pub fn close_due(&mut self, now: Ts, out: &mut dyn FnMut(Alert)) {
        if now < self.next_close {
            return;
        }
        let span = self.window.saturating_add(BOOT_REPORT_GRACE);
        self.close_where(out, |start| start.saturating_add(span) <= now);
    }

    /// Closes every open window.
    pub fn close_all(&mut self, out: &mut dyn FnMut(Alert)) {
        self.close_where(out, |_| true);
    }

    fn close_where(&mut self, out: &mut dyn FnMut(Alert), due: impl Fn(Ts) -> bool) {
        let mut closing: Vec<(Ts, usize, MacAddr)> = Vec::new();
        for (i, mac) in self.order.iter().enumerate() {
            if let Some(w) = self.devices.get(mac).and_then(|d| d.window.as_ref()) {
                if due(w.start) {
                    closing.push((w.start, i, *mac));
                }
            }
        }
        closing.sort_unstable();
        for (_, _, mac) in closing {
            if let Some(a) = self.close(mac) {
                out(a);
            }
        }
        let span = self.window.saturating_add(BOOT_REPORT_GRACE);
        self.next_close = self
            .devices
            .values()
            .filter_map(|d| d.window.as_ref())
            .map(|w| w.start.saturating_add(span))
            .min()
            .unwrap_or(Ts::MAX);
    }

    /// The open window of `mac` if `ts` falls inside it.
    fn open_window_at(&mut self, mac: MacAddr, ts: Ts) -> Option<&mut Window> {
        let window = self.window;
        let w = self.devices.get_mut(&mac)?.window.as_mut()?;
        (ts >= w.start && ts < w.start.saturating_add(window)).then_some(w)
    }

    /// Starts tracking `mac`, making room first (the oldest device goes, its window reported).
    fn insert(&mut self, mac: MacAddr, out: &mut dyn FnMut(Alert)) {
        while self.devices.len() >= MAX_DEVICES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(a) = self.close(old) {
                out(a);
            }
            self.devices.remove(&old);
        }
        self.devices.insert(mac, Device::default());
        self.order.push_back(mac);
    }

    fn open(&mut self, mac: MacAddr, ts: Ts, join: Join) {
        if let Some(d) = self.devices.get_mut(&mac) {
            d.window = Some(Window {
                start: ts,
                join,
                dests: Vec::new(),
                unlisted: 0,
                pii_leak: false,
                watched: false,
            });
            let due = ts.saturating_add(self.window.saturating_add(BOOT_REPORT_GRACE));
            self.next_close = self.next_close.min(due);
        }
    }

    /// Ends the open window of `mac`, returning its alert if it has one to raise.
    fn close(&mut self, mac: MacAddr) -> Option<Alert> {
        let dev = self.devices.get_mut(&mac)?;
        let w = dev.window.take()?;
        if w.join == Join::FirstPacket && w.dests.is_empty() && !w.pii_leak && !w.watched {
            return None;
        }
        Some(boot_alert(mac, dev.client_ip, self.window / MICROS, w))
    }
}

fn boot_alert(mac: MacAddr, client_ip: Option<IpAddr>, window_secs: Ts, mut w: Window) -> Alert {
    w.dests.sort_by_key(|d| d.first_ts);
    let count = w.dests.len().saturating_add(w.unlisted as usize);
    let severity = if w.pii_leak || w.watched {
        Severity::Critical
    } else {
        Severity::Info
    };
    let joined = match w.join {
        Join::DhcpAck => "after joining the network",
        Join::FirstPacket => "after it was first seen",
    };
    let mut summary = format!("{} contacted ", device_label(Some(mac)));
    if count == 0 {
        summary.push_str(&format!(
            "no outside destination in its first {window_secs} s {joined}"
        ));
    } else {
        let names: Vec<String> = w
            .dests
            .iter()
            .take(SUMMARY_NAMES)
            .map(|d| d.domain.clone().unwrap_or_else(|| d.server_ip.to_string()))
            .collect();
        let more = if count > SUMMARY_NAMES { ", …" } else { "" };
        let plural = if count == 1 { "" } else { "s" };
        summary.push_str(&format!(
            "{count} destination{plural} in its first {window_secs} s {joined} ({}{more})",
            names.join(", ")
        ));
    }
    match (w.pii_leak, w.watched) {
        (true, true) => {
            summary.push_str(", sending a personal identifier and reaching a watched destination")
        }
        (true, false) => summary.push_str(", sending a personal identifier"),
        (false, true) => summary.push_str(", reaching a watched destination"),
        (false, false) => {}
    }
    summary.push('.');
    let dests: Vec<serde_json::Value> = w
        .dests
        .iter()
        .map(|d| {
            json!({
                "domain": d.domain, "server_ip": d.server_ip.to_string(),
                "server_port": d.server_port, "country": d.country, "asn": d.asn,
                "as_org": d.as_org, "first_ts": d.first_ts,
            })
        })
        .collect();
    let detail = json!({
        "joined_by": if w.join == Join::DhcpAck { "dhcp_ack" } else { "first_packet" },
        "window_start": w.start,
        "window_secs": window_secs,
        "destinations": dests,
        "destination_count": count,
        "destinations_truncated": w.unlisted > 0,
        "pii_leak": w.pii_leak,
        "watched_destination": w.watched,
    });
    let target = Target {
        device_mac: Some(mac),
        client_ip,
        ..Target::default()
    };
    build(
        w.start,
        severity,
        AlertKind::BootPhoneHome,
        target,
        summary,
        detail,
        format!("join:{}", w.start),
    )
}
