//! The identity side of the device table: DHCP fingerprints and User-Agents go to each
//! device's [`Identity`], and a device that rejoins under a new MAC keeps its label.
//!
//! Label links: a DHCP client message carrying a client identifier (option 61) and a hostname
//! records `client id → MAC` in `links`. When a later message from a *different* MAC carries
//! the same client identifier and the old device announced the same hostname, the new MAC
//! inherits the old label and records `same_as = old MAC` (the store copies the user's name
//! across that link). Phones that derive option 61 from their (randomised) MAC never match,
//! which is right: nothing then proves it is the same phone. `links` holds at most
//! [`MAX_DEVICES`] entries; when full, links to evicted MACs are dropped first and a new link
//! is refused while none can be.

use std::net::IpAddr;

use super::entry::Evidence;
use super::{DeviceTable, DeviceView, DhcpObservation, MAX_DEVICES};
use crate::event::{DeviceSighting, MacAddr, Ts};
use crate::flow::identity::Identity;
use crate::flow::oui;

impl DeviceTable {
    /// Updates `mac`'s identity from a DHCP client message; true when the device changed.
    pub(super) fn learn_dhcp_identity(&mut self, mac: MacAddr, m: &DhcpObservation<'_>) -> bool {
        let Some(d) = self.devices.get_mut(&mac).filter(|d| !d.router) else {
            return false;
        };
        let mut changed = d
            .ident
            .observe_dhcp(m.vendor_class, m.param_list, m.client_id);
        let hostname = d.hostname.clone();
        if let Some(h) = hostname.as_deref() {
            if d.ident.label.is_none() {
                d.ident.freeze_label(h, None);
            }
        }
        let (Some(cid), Some(h)) = (m.client_id.filter(|c| !c.is_empty()), hostname) else {
            return changed;
        };
        let Some(cid) = d.ident.client_id.clone().filter(|c| **c == *cid) else {
            return changed; // too long to keep
        };
        if let Some(&prev) = self.links.get(&cid) {
            if prev != mac && d.ident.same_as.is_none() {
                let inherited = self.devices.get(&prev).and_then(|p| {
                    (p.hostname.as_deref() == Some(&*h)).then(|| {
                        p.ident
                            .label(prev, p.hostname.as_deref(), oui::vendor(prev))
                    })
                });
                if let (Some(label), Some(d)) = (inherited, self.devices.get_mut(&mac)) {
                    d.ident.freeze_label(&label, Some(prev));
                    changed = true;
                }
            }
        }
        if self.links.len() >= MAX_DEVICES && !self.links.contains_key(&cid) {
            let devices = &self.devices;
            self.links.retain(|_, m| devices.contains_key(m));
        }
        if self.links.len() < MAX_DEVICES || self.links.contains_key(&cid) {
            self.links.insert(cid, mac);
        }
        changed
    }

    /// A sighting of `mac` as news (something about it changed).
    pub(super) fn report_news(
        &mut self,
        ts: Ts,
        mac: MacAddr,
        ip: Option<IpAddr>,
    ) -> Option<DeviceSighting> {
        let d = self.devices.get_mut(&mac).filter(|d| !d.router)?;
        d.report(ts, mac, ip, true)
    }

    /// Learns from a User-Agent `mac` sent in an HTTP request. Parses only strings new to
    /// the device (see [`Identity::observe_user_agent`]); reports when the OS, model or app
    /// changed.
    pub fn observe_user_agent(&mut self, ts: Ts, mac: MacAddr, ua: &str) -> Option<DeviceSighting> {
        let d = self.devices.get_mut(&mac).filter(|d| !d.router)?;
        if d.ident.observe_user_agent(ua) {
            return d.report(ts, mac, None, true);
        }
        None
    }

    /// Learns from DHCPv6: the server assigned `ip` to `mac` (IA_NA/IA_TA address of a Reply),
    /// or the client confirms it holds `ip`. As strong as a DHCPv4 ACK.
    pub fn observe_dhcpv6(&mut self, ts: Ts, mac: MacAddr, ip: IpAddr) -> Option<DeviceSighting> {
        self.observe(ts, mac, Some(ip), Evidence::Dhcp, None)
    }
}

impl<'a> DeviceView<'a> {
    /// What is known of the device's OS, model, app and label.
    pub fn identity(&self) -> &'a Identity {
        &self.device.ident
    }

    /// The device's label (frozen, or the best guess now).
    pub fn label(&self) -> String {
        self.device
            .ident
            .label(self.mac, self.hostname(), oui::vendor(self.mac))
    }
}
