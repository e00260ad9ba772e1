//! Detectors: turn the pipeline's records into alerts a user can trust (issue 3). Pure: the
//! indicator, tracker and geo data are loaded elsewhere ([`crate::intel`]) and handed in, by
//! [`setup`] (the one module here that reads files, once at startup) from the configuration.
//!
//! [`Detectors::process`] sits between the pipeline and its sink: every event passes through it
//! once, is enriched (a flow's country and AS), inspected, and forwarded; the alerts it raises
//! are forwarded too (after the allowlist), and fed back to the detectors that escalate on
//! them (the boot window). Payload samples and flow frames stop here: they are detector input.
//!
//! Evidence: a warn or critical alert about one flow names the pcap its flow's kept frames
//! will be written to (`detail.evidence`); when that flow ends, its frames go on to the store
//! as an [`EvidenceFile`].

pub mod behaviour;
mod intel_alerts;
pub mod leaks;
pub mod pii;
pub mod setup;

use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::event::{
    flow_id, Alert, AlertKind, Event, EvidenceFile, MacAddr, Severity, Transport, Ts,
};
use crate::intel::geo::GeoDb;
use crate::intel::ioc::IocSet;
use crate::intel::trackers::Trackers;

use crate::flow::evidence::evidence_name;
use behaviour::{Behaviour, BehaviourConfig, ClientBytes};

/// Flows waiting for their evidence at most: bounds memory if flows never end.
const MAX_EVIDENCE_WANTED: usize = 4096;

/// The tracker lists in use: the built-in ones, or those plus the user's.
pub enum TrackerLists {
    Builtin(&'static Trackers),
    Extended(Box<Trackers>),
}

impl TrackerLists {
    fn get(&self) -> &Trackers {
        match self {
            TrackerLists::Builtin(t) => t,
            TrackerLists::Extended(t) => t,
        }
    }
}

/// Every detector and the data they use.
pub struct Detectors {
    leaks: leaks::LeakDetector,
    behaviour: Behaviour,
    ioc: IocSet,
    trackers: TrackerLists,
    geo: Arc<GeoDb>,
    /// Flows whose frames become evidence when they end: flow id → time of the first alert.
    wanted: FxHashMap<String, Ts>,
    /// Domains (and their subdomains) whose alerts other than pii_leak/ioc_match are silenced.
    allow: Vec<String>,
    /// Alerts raised, per kind (index of [`AlertKind::ALL`]).
    pub raised: [u64; AlertKind::ALL.len()],
    /// Latest packet time seen (closes windows at the end of a capture).
    last_ts: Ts,
}

/// What the detectors need from the configuration and the loaded data.
pub struct DetectorsSetup {
    pub pii: pii::PiiScanner,
    pub ioc: IocSet,
    pub trackers: TrackerLists,
    /// Shared: loaded once, it can serve several detector sets.
    pub geo: Arc<GeoDb>,
    pub behaviour: BehaviourConfig,
    pub allow: Vec<String>,
}

impl Detectors {
    pub fn new(setup: DetectorsSetup) -> Detectors {
        Detectors {
            leaks: leaks::LeakDetector::new(setup.pii),
            behaviour: Behaviour::new(setup.behaviour),
            ioc: setup.ioc,
            trackers: setup.trackers,
            geo: setup.geo,
            wanted: FxHashMap::default(),
            allow: setup.allow,
            raised: [0; AlertKind::ALL.len()],
            last_ts: Ts::MIN,
        }
    }

    /// Replaces the indicator set (SIGHUP reload).
    pub fn set_ioc(&mut self, ioc: IocSet) {
        self.ioc = ioc;
    }

    /// Inspects one event, forwards it and any alerts it raises to `sink`.
    pub fn process(&mut self, mut ev: Event, sink: &mut dyn FnMut(Event)) {
        let mut alerts: Vec<Alert> = Vec::new();
        match ev {
            Event::FlowFrames(f) => {
                if let Some(ts) = self.wanted.remove(&f.flow_id()) {
                    sink(Event::Evidence(EvidenceFile {
                        alert_ts: ts,
                        flow_id: f.flow_id(),
                        frames: f.frames,
                    }));
                }
                return;
            }
            Event::Payload(ref p) => {
                self.leaks.payload(p, &mut alerts);
                if p.transport == Transport::Tcp {
                    let cb = ClientBytes {
                        ts: p.ts,
                        device_mac: p.device_mac,
                        client_ip: p.client_ip,
                        client_port: p.client_port,
                        server_ip: p.server_ip,
                        server_port: p.server_port,
                        domain: p.domain.as_deref(),
                        bytes: &p.bytes,
                    };
                    self.behaviour
                        .observe_client_bytes(&cb, &mut |a| alerts.push(a));
                }
            }
            _ => {
                self.enrich(&mut ev);
                self.inspect(&ev, &mut alerts);
                sink(ev);
            }
        }
        self.emit(alerts, sink);
    }

    /// Fills a flow's country and AS from the geo databases.
    fn enrich(&self, ev: &mut Event) {
        if let Event::Flow(f) = ev {
            let g = self.geo.lookup(f.server_ip);
            f.country = g.country_str().map(str::to_owned);
            f.asn = g.asn;
            f.as_org = g.as_org.map(str::to_owned);
        }
    }

    fn inspect(&mut self, ev: &Event, out: &mut Vec<Alert>) {
        let trackers = self.trackers.get();
        match ev {
            Event::Http(r) => {
                self.leaks.http(r, out);
                intel_alerts::http(&self.ioc, trackers, r, out);
            }
            Event::Dns(r) if !r.response_only => {
                self.leaks.dns(r, out);
                intel_alerts::dns(&self.ioc, trackers, r, out);
            }
            Event::Tls(r) => intel_alerts::tls(&self.ioc, trackers, r, out),
            Event::Flow(f) => intel_alerts::flow(&self.ioc, f, out),
            _ => {}
        }
        self.behaviour.observe(ev, &mut |a| out.push(a));
    }

    /// Applies the allowlist, fills country and AS, records evidence wishes, feeds the alerts
    /// back to the behavioural detectors (the boot window escalates on them) and forwards them.
    fn emit(&mut self, alerts: Vec<Alert>, sink: &mut dyn FnMut(Event)) {
        for mut a in alerts {
            if self.allowed(&a) {
                continue;
            }
            if let (None, Some(ip)) = (&a.country, a.server_ip) {
                let g = self.geo.lookup(ip);
                a.country = g.country_str().map(str::to_owned);
                a.asn = a.asn.or(g.asn);
            }
            let ev = Event::Alert(a);
            let mut more = Vec::new();
            self.behaviour.observe(&ev, &mut |x| more.push(x));
            let Event::Alert(mut a) = ev else { continue };
            self.want_evidence(&mut a);
            if let Some(i) = AlertKind::ALL.iter().position(|k| *k == a.kind) {
                self.raised[i] = self.raised[i].saturating_add(1);
            }
            sink(Event::Alert(a));
            if !more.is_empty() {
                self.emit(more, sink);
            }
        }
    }

    /// True when the allowlist silences `a` (never pii_leak or ioc_match).
    fn allowed(&self, a: &Alert) -> bool {
        if matches!(a.kind, AlertKind::PiiLeak | AlertKind::IocMatch) {
            return false;
        }
        let Some(d) = a.domain.as_deref() else {
            return false;
        };
        self.allow.iter().any(|al| domain_within(d, al))
    }

    /// A warn or critical alert about one flow names its evidence file and asks for the
    /// flow's frames.
    fn want_evidence(&mut self, a: &mut Alert) {
        if a.severity < Severity::Warn {
            return;
        }
        let (Some(cip), Some(cport), Some(sip), Some(sport)) =
            (a.client_ip, a.client_port, a.server_ip, a.server_port)
        else {
            return;
        };
        let transport = match a.proto.as_deref() {
            Some("udp") | Some("dns") | Some("quic") => Transport::Udp,
            _ => Transport::Tcp,
        };
        let id = flow_id(transport, cip, cport, sip, sport);
        let ts = match self.wanted.get(&id) {
            Some(ts) => *ts,
            None => {
                if self.wanted.len() >= MAX_EVIDENCE_WANTED {
                    return;
                }
                self.wanted.insert(id.clone(), a.ts);
                a.ts
            }
        };
        if let serde_json::Value::Object(m) = &mut a.detail {
            m.insert(
                "evidence".into(),
                serde_json::Value::String(evidence_name(ts, &id)),
            );
        }
    }

    /// Time-driven work (closing windows) at packet time `now`.
    pub fn tick(&mut self, now: Ts, sink: &mut dyn FnMut(Event)) {
        self.last_ts = self.last_ts.max(now);
        let mut alerts = Vec::new();
        self.behaviour.tick(now, &mut |a| alerts.push(a));
        self.emit(alerts, sink);
    }

    /// End of capture: close every open window.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Event)) {
        let mut alerts = Vec::new();
        self.behaviour.flush(self.last_ts, &mut |a| alerts.push(a));
        self.emit(alerts, sink);
    }
}

/// True when `name` is `domain` or one of its subdomains (both lowercase, no trailing dot).
pub fn domain_within(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.');
    name.eq_ignore_ascii_case(domain)
        || (name.len() > domain.len()
            && name
                .get(name.len() - domain.len()..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
            && name.as_bytes().get(name.len() - domain.len() - 1) == Some(&b'.'))
}

/// The common fields of an alert about a conversation between a device and a server.
#[allow(clippy::too_many_arguments)]
pub fn alert(
    ts: Ts,
    kind: AlertKind,
    severity: Severity,
    device_mac: Option<MacAddr>,
    client: Option<(IpAddr, u16)>,
    server: Option<(IpAddr, u16)>,
    proto: &str,
    domain: Option<&str>,
    summary: String,
    detail: serde_json::Value,
    dedup_key: String,
) -> Alert {
    Alert {
        ts,
        severity,
        kind,
        device_mac,
        client_ip: client.map(|c| c.0),
        client_port: client.map(|c| c.1),
        server_ip: server.map(|s| s.0),
        server_port: server.map(|s| s.1),
        proto: Some(proto.to_owned()),
        domain: domain.map(str::to_owned),
        country: None,
        asn: None,
        summary,
        detail,
        dedup_key,
    }
}

#[cfg(test)]
mod tests {
    use super::domain_within;

    #[test]
    fn subdomains_are_within_their_parent_only() {
        assert!(domain_within("a.b.example.com", "example.com"));
        assert!(domain_within("Example.com.", "example.com"));
        assert!(!domain_within("notexample.com", "example.com"));
        assert!(!domain_within("example.com.evil", "example.com"));
        assert!(!domain_within("com", "example.com"));
    }
}
