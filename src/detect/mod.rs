//! Detectors: turn the pipeline's records into alerts a user can trust (issue 3). Pure: the
//! indicator, tracker and geo data are loaded elsewhere ([`crate::intel`]) and handed in.
//!
//! [`Detectors::process`] sits between the pipeline and its sink: every event passes through it
//! once, is enriched (a flow's country and AS), inspected, and forwarded; the alerts it raises
//! are forwarded too, and fed back to the detectors that escalate on them (the boot window).
//! Payload samples stop here: they are detector input only.

pub mod pii;

use crate::event::{Alert, Event, Ts};

/// Every detector and the data they use.
#[derive(Default)]
pub struct Detectors {
    /// Alerts raised, by kind order of [`crate::event::AlertKind::ALL`].
    pub raised: u64,
}

impl Detectors {
    /// Inspects one event, forwards it and any alerts it raises to `sink`.
    pub fn process(&mut self, ev: Event, sink: &mut dyn FnMut(Event)) {
        let mut alerts: Vec<Alert> = Vec::new();
        self.inspect(&ev, &mut alerts);
        if !matches!(ev, Event::Payload(_)) {
            sink(ev);
        }
        for a in alerts {
            self.raised += 1;
            sink(Event::Alert(a));
        }
    }

    fn inspect(&mut self, _ev: &Event, _out: &mut Vec<Alert>) {}

    /// Time-driven work (closing windows) at packet time `now`.
    pub fn tick(&mut self, _now: Ts, _sink: &mut dyn FnMut(Event)) {}

    /// End of capture: close every open window.
    pub fn finish(&mut self, _sink: &mut dyn FnMut(Event)) {}
}
