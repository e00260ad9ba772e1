//! One device's state: its bindings, hostname, router evidence and reporting clock.

use std::net::IpAddr;

use super::{REFRESH_INTERVAL, ROUTER_PUBLIC_NETWORKS};
use crate::event::{DeviceSighting, MacAddr, Ts};
use crate::flow::identity::Identity;
use crate::flow::oui;

/// How an address was learned, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Evidence {
    /// Client side of a flow.
    Traffic,
    /// ARP sender or NDP link-layer address option.
    Neighbor,
    /// DHCP ACK or INFORM.
    Dhcp,
}

/// One address held by a device.
#[derive(Clone, Copy, Debug)]
pub(super) struct Binding {
    pub(super) ip: IpAddr,
    pub(super) evidence: Evidence,
    pub(super) last_seen: Ts,
}

/// A MAC seen on the LAN: a client, or a router once `router` is set.
#[derive(Debug)]
pub(super) struct Device {
    pub(super) first_seen: Ts,
    pub(super) last_seen: Ts,
    /// True once a sighting was returned for this device.
    pub(super) reported: bool,
    /// Packet time of the last sighting returned for this device.
    pub(super) last_reported: Ts,
    pub(super) bindings: Vec<Binding>,
    pub(super) hostname: Option<Box<str>>,
    pub(super) router: bool,
    /// Distinct public networks sourced as a flow's client side (see [`ROUTER_PUBLIC_NETWORKS`]).
    pub(super) public_networks: [u64; ROUTER_PUBLIC_NETWORKS],
    pub(super) public_count: usize,
    /// OS, model, app and label evidence.
    pub(super) ident: Identity,
}

impl Device {
    pub(super) fn new(ts: Ts) -> Device {
        Device {
            first_seen: ts,
            last_seen: ts,
            reported: false,
            last_reported: ts,
            bindings: Vec::new(),
            hostname: None,
            router: false,
            public_networks: [0; ROUTER_PUBLIC_NETWORKS],
            public_count: 0,
            ident: Identity::default(),
        }
    }

    /// The sighting to return, if any: on news, or to refresh a reported device's last_seen
    /// once per [`REFRESH_INTERVAL`]. `ip` is the address this observation bound or confirmed.
    pub(super) fn report(
        &mut self,
        ts: Ts,
        mac: MacAddr,
        ip: Option<IpAddr>,
        news: bool,
    ) -> Option<DeviceSighting> {
        let due = self.reported && ts.saturating_sub(self.last_reported) >= REFRESH_INTERVAL;
        if !news && !due {
            return None;
        }
        self.reported = true;
        self.last_reported = self.last_reported.max(ts);
        let vendor = oui::vendor(mac);
        let hostname = self.hostname.as_deref();
        Some(DeviceSighting {
            ts,
            mac,
            vendor: vendor.map(str::to_owned),
            randomized: mac.is_local(),
            hostname: hostname.map(str::to_owned),
            ip,
            identity: self.ident.to_event(mac, hostname, vendor),
        })
    }

    /// Records a public network sourced by this MAC; true when it now looks like a router.
    pub(super) fn note_public_network(&mut self, key: u64) -> bool {
        let seen = self
            .public_networks
            .get(..self.public_count)
            .unwrap_or_default();
        if seen.contains(&key) {
            return false;
        }
        match self.public_networks.get_mut(self.public_count) {
            Some(slot) => {
                *slot = key;
                self.public_count += 1;
                false
            }
            None => true,
        }
    }
}
