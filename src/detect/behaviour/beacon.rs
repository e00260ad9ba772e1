//! beacon: connections from one device to one destination whose start times are periodic,
//! the way implants and stalkerware check in.
//!
//! Per (device, destination) series — destination = the flow's domain, else `ip:port` — the
//! start times of the last [`MAX_HISTORY`] flows are kept sorted (flow records arrive when flows
//! end, so not in start order). A series is periodic when its last `min_intervals` intervals
//! each lie within ±`tolerance` of their median, and that median lies within
//! [`min_period`, `max_period`]. A periodic series raises a warn, then again at most once per
//! [`REALERT_AFTER`] while it stays periodic.
//!
//! Not looked at: non-public destinations, and DNS, DHCP, NTP, mDNS and LLMNR flows (their
//! clients poll on fixed timers by design). Devices without a MAC are keyed by client address.
//! Bounded: [`MAX_SERIES`] series (the oldest created makes room), [`MAX_HISTORY`] starts each;
//! the check reads a fixed-size stack array, no allocation.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use serde_json::json;

use super::common::{build, device_label, is_public, normalize_domain, Target};
use super::BeaconConfig;
use crate::event::{Alert, AlertKind, FlowRecord, MacAddr, Severity, Ts, MICROS};

/// (device, destination) series tracked; bounds memory under a flood of destinations.
pub const MAX_SERIES: usize = 4096;
/// Flow start times kept per series (the check needs `min_intervals + 1` of them).
pub const MAX_HISTORY: usize = 32;
/// A series that stays periodic raises its alert again after this long (the store's merge
/// window), so a long-running beacon shows up in every hour it runs.
pub const REALERT_AFTER: Ts = 3600 * MICROS;
/// Server ports whose clients poll on timers by design: DNS, DHCP, NTP, mDNS, LLMNR.
const TIMER_PORTS: [u16; 6] = [53, 67, 68, 123, 5353, 5355];

/// A periodic series found by [`BeaconTracker::flow`].
#[derive(Clone, Debug, PartialEq)]
pub struct BeaconHit {
    /// Median interval between connection starts, microseconds.
    pub period: Ts,
    /// Intervals checked.
    pub intervals: usize,
    /// Largest relative deviation of an interval from the period.
    pub max_deviation: f64,
    /// The destination as keyed: domain, else `ip:port`.
    pub destination: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum DeviceKey {
    Mac(MacAddr),
    Ip(IpAddr),
}

type SeriesKey = (DeviceKey, String);

#[derive(Debug, Default)]
struct Series {
    /// Flow start times, ascending, distinct.
    starts: VecDeque<Ts>,
    last_alert: Option<Ts>,
}

/// Start-time series per (device, destination).
pub struct BeaconTracker {
    min_intervals: usize,
    tolerance: f64,
    min_period: Ts,
    max_period: Ts,
    series: HashMap<SeriesKey, Series>,
    /// Series in creation order (eviction order).
    order: VecDeque<SeriesKey>,
}

impl BeaconTracker {
    /// A tracker with `cfg`, brought into range: 2 ≤ min_intervals < [`MAX_HISTORY`],
    /// 0 ≤ tolerance ≤ 0.5 (0.05 when not a number), max_period ≥ min_period.
    pub fn new(cfg: &BeaconConfig) -> BeaconTracker {
        let tolerance = if cfg.tolerance.is_finite() {
            cfg.tolerance.clamp(0.0, 0.5)
        } else {
            0.05
        };
        let min_period = Ts::from(cfg.min_period_secs) * MICROS;
        BeaconTracker {
            min_intervals: (cfg.min_intervals as usize).clamp(2, MAX_HISTORY - 1),
            tolerance,
            min_period,
            max_period: (Ts::from(cfg.max_period_secs) * MICROS).max(min_period),
            series: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Series tracked.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// True when no series is tracked.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Adds the start of flow `f`; returns a hit when its series is periodic and due an alert.
    pub fn flow(&mut self, f: &FlowRecord) -> Option<BeaconHit> {
        if TIMER_PORTS.contains(&f.server_port) || !is_public(f.server_ip) {
            return None;
        }
        let device = match f.device_mac {
            Some(m) => DeviceKey::Mac(m),
            None => DeviceKey::Ip(f.client_ip),
        };
        let destination = match f.domain.as_deref().and_then(normalize_domain) {
            Some(d) => d,
            None if f.server_ip.is_ipv6() => format!("[{}]:{}", f.server_ip, f.server_port),
            None => format!("{}:{}", f.server_ip, f.server_port),
        };
        let key = (device, destination);
        if !self.series.contains_key(&key) {
            while self.series.len() >= MAX_SERIES {
                let Some(old) = self.order.pop_front() else {
                    break;
                };
                self.series.remove(&old);
            }
            self.order.push_back(key.clone());
            self.series.insert(key.clone(), Series::default());
        }
        let (min_intervals, tolerance) = (self.min_intervals, self.tolerance);
        let (min_period, max_period) = (self.min_period, self.max_period);
        let s = self.series.get_mut(&key)?;
        match s.starts.binary_search(&f.ts) {
            Ok(_) => return None, // same start seen already
            Err(pos) => s.starts.insert(pos, f.ts),
        }
        while s.starts.len() > MAX_HISTORY {
            s.starts.pop_front();
        }
        let (period, max_deviation) = periodic(&s.starts, min_intervals)?;
        if period < min_period || period > max_period || max_deviation > tolerance {
            return None;
        }
        if s.last_alert
            .is_some_and(|t| f.ts.saturating_sub(t) < REALERT_AFTER)
        {
            return None;
        }
        s.last_alert = Some(f.ts);
        Some(BeaconHit {
            period,
            intervals: min_intervals,
            max_deviation,
            destination: key.1,
        })
    }
}

/// Median interval and largest relative deviation from it over the last `n` intervals of
/// `starts` (ascending); None when there are fewer.
fn periodic(starts: &VecDeque<Ts>, n: usize) -> Option<(Ts, f64)> {
    let n = n.min(MAX_HISTORY - 1);
    let first = starts.len().checked_sub(n + 1)?;
    let mut iv = [0 as Ts; MAX_HISTORY];
    for (slot, pair) in iv.iter_mut().zip(
        starts
            .range(first..)
            .zip(starts.range(first + 1..))
            .map(|(a, b)| b.saturating_sub(*a)),
    ) {
        *slot = pair;
    }
    let iv = iv.get(..n)?;
    let mut sorted = [0 as Ts; MAX_HISTORY];
    let sorted = sorted.get_mut(..n)?;
    sorted.copy_from_slice(iv);
    sorted.sort_unstable();
    let mid = n / 2;
    let median = if n % 2 == 1 {
        *sorted.get(mid)?
    } else {
        let (a, b) = (*sorted.get(mid - 1)?, *sorted.get(mid)?);
        a / 2 + b / 2
    };
    if median <= 0 {
        return None;
    }
    let max_dev = iv
        .iter()
        .map(|&d| d.abs_diff(median) as f64 / median as f64)
        .fold(0.0, f64::max);
    Some((median, max_dev))
}

/// The warn alert for a periodic series of flow `f`.
pub fn alert(f: &FlowRecord, hit: &BeaconHit) -> Alert {
    let target = Target {
        device_mac: f.device_mac,
        client_ip: Some(f.client_ip),
        client_port: Some(f.client_port),
        server_ip: Some(f.server_ip),
        server_port: Some(f.server_port),
        proto: Some(f.transport.as_str().to_string()),
        domain: f.domain.as_deref().and_then(normalize_domain),
        country: f.country.clone(),
        asn: f.asn,
    };
    let period_secs = hit.period as f64 / MICROS as f64;
    let summary = format!(
        "{} connected to {}{} every {:.0} s (±{:.1} %) over {} intervals.",
        device_label(f.device_mac),
        target.destination(),
        target.geo_suffix(),
        period_secs,
        hit.max_deviation * 100.0,
        hit.intervals
    );
    let detail = json!({
        "period_secs": (period_secs * 1000.0).round() / 1000.0,
        "intervals": hit.intervals,
        "max_deviation": (hit.max_deviation * 10_000.0).round() / 10_000.0,
        "destination": hit.destination,
        "transport": f.transport.as_str(),
    });
    build(
        f.ts,
        Severity::Warn,
        AlertKind::Beacon,
        target,
        summary,
        detail,
        String::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(secs: &[i64]) -> VecDeque<Ts> {
        secs.iter().map(|s| s * MICROS).collect()
    }

    #[test]
    fn median_and_deviation_of_the_last_intervals() {
        // Intervals 10, 12, 11: median 11, largest deviation 1/11.
        let (m, dev) = periodic(&starts(&[0, 10, 22, 33]), 3).unwrap();
        assert_eq!(m, 11 * MICROS);
        assert!((dev - 1.0 / 11.0).abs() < 1e-9);
        // Even count: the mean of the two middle intervals (10 and 14 → 12).
        let (m, _) = periodic(&starts(&[0, 10, 24, 34, 48]), 4).unwrap();
        assert_eq!(m, 12 * MICROS);
        // Only the last n intervals count: an early outlier is forgotten.
        let (m, dev) = periodic(&starts(&[0, 500, 560, 620, 680]), 3).unwrap();
        assert_eq!((m, dev), (60 * MICROS, 0.0));
        assert_eq!(periodic(&starts(&[0, 60, 120]), 3), None, "too few starts");
    }

    #[test]
    fn config_is_brought_into_range() {
        let t = BeaconTracker::new(&BeaconConfig {
            min_intervals: 1000,
            tolerance: f64::NAN,
            min_period_secs: 100,
            max_period_secs: 5,
        });
        assert_eq!(t.min_intervals, MAX_HISTORY - 1);
        assert_eq!(t.tolerance, 0.05);
        assert_eq!((t.min_period, t.max_period), (100 * MICROS, 100 * MICROS));
        assert!(t.is_empty());
    }
}
