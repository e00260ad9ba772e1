//! Devices: which MACs are clients of the access point, and which IP addresses they hold.
//!
//! [`DeviceTable`] learns from DHCP (an ACK binds `yiaddr` to `chaddr`), ARP/NDP (a sender's
//! own address, see [`crate::flow::ipv6bind`]), DHCPv6 and traffic (the client side of a flow)
//! and answers [`DeviceTable::mac_for`]. Each device also carries its
//! [`crate::flow::identity::Identity`] (DHCP fingerprint, User-Agents, label; see `ident`).
//! Each `observe_*` call returns a [`DeviceSighting`] only when something was learned (a new
//! MAC, a new IP binding, a new hostname) or, at most once per [`REFRESH_INTERVAL`] of packet
//! time per device, to refresh `last_seen`. The common per-packet call (a known device, an
//! address it already holds) is one hash lookup and a scan of at most [`MAX_IPS_PER_DEVICE`]
//! bindings, and allocates nothing.
//!
//! Invariants:
//! - group (multicast/broadcast) and all-zero MACs are never devices; unspecified, loopback,
//!   multicast and broadcast addresses are never bound (see [`addr`]);
//! - public IPv4 addresses are bound only on DHCP/ARP evidence, IPv6 global ones also as the
//!   client side of a flow; LAN addresses (RFC 1918, link-local, CGNAT, ULA) on any evidence;
//! - a router holds no binding: packets from the internet arrive with the gateway's MAC as
//!   source, so a MAC seen as the client side of flows from more than
//!   [`ROUTER_PUBLIC_NETWORKS`] public networks, or named by [`DeviceTable::set_router`], is
//!   a router — its bindings are dropped and it is never reported;
//! - `by_ip` and the devices' binding lists always agree: an address belongs to one MAC;
//! - at most [`MAX_DEVICES`] devices and [`MAX_IPS_PER_DEVICE`] addresses each; the stalest
//!   are evicted.

mod addr;
mod entry;
mod ident;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::event::{DeviceSighting, DhcpRecord, MacAddr, Ts, MICROS};
use addr::AddrClass;
use entry::{Binding, Device, Evidence};

/// Devices kept at most: bounds memory against MAC floods (spoofed random source MACs). An
/// access point has tens of clients; a busy capture file a few hundred.
pub const MAX_DEVICES: usize = 4096;
/// Addresses kept per device (IPv4 + IPv6 link-local + a few rotating IPv6 privacy addresses);
/// beyond it the least recently seen binding is dropped.
pub const MAX_IPS_PER_DEVICE: usize = 8;
/// A device is re-reported at most this often (packet time) when nothing new was learned.
pub const REFRESH_INTERVAL: Ts = 60 * MICROS;
/// Longest hostname kept, in bytes (DHCP option 12 holds at most 255).
pub const MAX_HOSTNAME_LEN: usize = 255;
/// Distinct public networks (IPv4 /24, IPv6 /64) a client may source before it is taken for a
/// router. A phone has at most one public IPv4 and an IPv6 /64 or two.
pub const ROUTER_PUBLIC_NETWORKS: usize = 3;
/// Devices evicted in one pass when the table is full: eviction scans the whole table, so it
/// runs once per this many new MACs rather than once per new MAC (a flood stays O(1) amortised).
const EVICT_BATCH: usize = MAX_DEVICES / 16;
/// Traffic evidence takes an address over from another MAC only when that MAC's binding came
/// from traffic too, or was last confirmed this long ago.
const TRAFFIC_TAKEOVER_AFTER: Ts = 600 * MICROS;

/// The DHCP fields the device table uses, borrowed from a [`DhcpRecord`] (or built by hand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhcpObservation<'a> {
    /// `chaddr`: the client the message is about.
    pub client_mac: MacAddr,
    /// Option 53 (1 DISCOVER, 2 OFFER, 3 REQUEST, 4 DECLINE, 5 ACK, 6 NAK, 7 RELEASE, 8 INFORM).
    pub msg_type: Option<u8>,
    /// `ciaddr`: the client's current address (INFORM, RELEASE, renewing REQUEST).
    pub ciaddr: Option<IpAddr>,
    /// `yiaddr`: the address a server assigns (OFFER, ACK).
    pub yiaddr: Option<IpAddr>,
    /// Option 50.
    pub requested_ip: Option<IpAddr>,
    /// Option 12.
    pub hostname: Option<&'a str>,
    /// Option 60.
    pub vendor_class: Option<&'a str>,
    /// Option 55, in order.
    pub param_list: &'a [u8],
    /// Option 61 as hex.
    pub client_id: Option<&'a str>,
}

impl<'a> From<&'a DhcpRecord> for DhcpObservation<'a> {
    fn from(r: &'a DhcpRecord) -> Self {
        DhcpObservation {
            client_mac: r.client_mac,
            msg_type: r.msg_type,
            ciaddr: r.ciaddr,
            yiaddr: r.yiaddr,
            requested_ip: r.requested_ip,
            hostname: r.hostname.as_deref(),
            vendor_class: r.vendor_class.as_deref(),
            param_list: &r.param_list,
            client_id: r.client_id.as_deref(),
        }
    }
}

/// Counters of a [`DeviceTable`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Devices dropped because the table was full.
    pub evicted_devices: u64,
    /// Bindings dropped because a device held [`MAX_IPS_PER_DEVICE`] addresses.
    pub evicted_bindings: u64,
    /// MACs recognised as routers.
    pub routers: u64,
}

/// A read-only view of one device.
#[derive(Clone, Copy, Debug)]
pub struct DeviceView<'a> {
    mac: MacAddr,
    device: &'a Device,
}

impl<'a> DeviceView<'a> {
    /// The device's MAC.
    pub fn mac(&self) -> MacAddr {
        self.mac
    }
    /// Packet time the device was first seen.
    pub fn first_seen(&self) -> Ts {
        self.device.first_seen
    }
    /// Latest packet time the device was seen.
    pub fn last_seen(&self) -> Ts {
        self.device.last_seen
    }
    /// Last hostname the device announced (DHCP option 12), capped at [`MAX_HOSTNAME_LEN`].
    pub fn hostname(&self) -> Option<&'a str> {
        self.device.hostname.as_deref()
    }
    /// Addresses bound to the device, oldest binding first.
    pub fn ips(&self) -> impl Iterator<Item = IpAddr> + 'a {
        self.device.bindings.iter().map(|b| b.ip)
    }
}

/// IP ↔ MAC bindings of the access point's clients. See the module documentation.
#[derive(Debug, Default)]
pub struct DeviceTable {
    devices: FxHashMap<MacAddr, Device>,
    by_ip: FxHashMap<IpAddr, MacAddr>,
    /// DHCP client identifier → the MAC that last used it (see [`ident`]), at most
    /// [`MAX_DEVICES`] entries.
    links: FxHashMap<Box<str>, MacAddr>,
    /// Reused by eviction so that it does not allocate.
    scratch: Vec<Ts>,
    stats: DeviceStats,
}

impl DeviceTable {
    /// An empty table.
    pub fn new() -> DeviceTable {
        DeviceTable::default()
    }

    /// Learns from a DHCP message: an ACK binds `yiaddr` (or, answering an INFORM, `ciaddr`)
    /// to `chaddr`, an INFORM binds `ciaddr`, a RELEASE unbinds `ciaddr`, a DECLINE unbinds
    /// the requested address; any message makes `chaddr` a device and records its hostname.
    pub fn observe_dhcp(&mut self, ts: Ts, m: DhcpObservation<'_>) -> Option<DeviceSighting> {
        let mac = m.client_mac;
        let bind = match m.msg_type {
            Some(5) => m.yiaddr.filter(|ip| !ip.is_unspecified()).or(m.ciaddr),
            Some(8) => m.ciaddr,
            Some(7) => {
                self.unbind_from(mac, m.ciaddr);
                None
            }
            Some(4) => {
                self.unbind_from(mac, m.requested_ip);
                None
            }
            _ => None,
        };
        let sighting = self.observe(ts, mac, bind, Evidence::Dhcp, m.hostname);
        if matches!(m.msg_type, Some(1 | 3 | 4 | 7 | 8)) && self.learn_dhcp_identity(mac, &m) {
            let ip = sighting.as_ref().and_then(|s| s.ip);
            return self.report_news(ts, mac, ip);
        }
        sighting
    }

    /// Learns from an ARP sender (IPv4) or an NDP source/target link-layer address (IPv6):
    /// `mac` claims `ip` on this link.
    pub fn observe_arp(&mut self, ts: Ts, mac: MacAddr, ip: IpAddr) -> Option<DeviceSighting> {
        self.observe(ts, mac, Some(ip), Evidence::Neighbor, None)
    }

    /// Learns from the client side of a flow: call it with the source MAC and source address
    /// of packets travelling client → server only (never with the MAC of a reply).
    pub fn observe_traffic(&mut self, ts: Ts, mac: MacAddr, ip: IpAddr) -> Option<DeviceSighting> {
        self.observe(ts, mac, Some(ip), Evidence::Traffic, None)
    }

    /// Declares `mac` a router (e.g. the access point's own uplink or gateway MAC): it loses
    /// its bindings and is never reported.
    pub fn set_router(&mut self, ts: Ts, mac: MacAddr) {
        if mac.is_multicast() || mac.is_zero() {
            return;
        }
        if !self.devices.contains_key(&mac) {
            self.make_room();
            self.devices.insert(mac, Device::new(ts));
        }
        self.demote_to_router(mac);
    }

    /// The device holding `ip`, if one does.
    pub fn mac_for(&self, ip: IpAddr) -> Option<MacAddr> {
        self.by_ip.get(&ip).copied()
    }

    /// The device with this MAC (routers excluded).
    pub fn device(&self, mac: MacAddr) -> Option<DeviceView<'_>> {
        let device = self.devices.get(&mac).filter(|d| !d.router)?;
        Some(DeviceView { mac, device })
    }

    /// True when `mac` was recognised as, or declared, a router.
    pub fn is_router(&self, mac: MacAddr) -> bool {
        self.devices.get(&mac).is_some_and(|d| d.router)
    }

    /// Number of MACs tracked (devices and routers).
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Counters since creation.
    pub fn stats(&self) -> DeviceStats {
        self.stats
    }

    /// Shared core of the `observe_*` calls. The fast path (a known device, an address it
    /// already holds, no new hostname) is a single hash lookup.
    fn observe(
        &mut self,
        ts: Ts,
        mac: MacAddr,
        ip: Option<IpAddr>,
        evidence: Evidence,
        hostname: Option<&str>,
    ) -> Option<DeviceSighting> {
        if mac.is_multicast() || mac.is_zero() {
            return None;
        }
        let hostname = hostname.map(cap_hostname).filter(|h| !h.is_empty());
        if let Some(d) = self.devices.get_mut(&mac) {
            d.last_seen = d.last_seen.max(ts);
            if d.router {
                return None;
            }
            let new_hostname = hostname.is_some_and(|h| d.hostname.as_deref() != Some(h));
            if !new_hostname {
                match ip {
                    None => return d.report(ts, mac, None, false),
                    Some(ip) => {
                        if let Some(b) = d.bindings.iter_mut().find(|b| b.ip == ip) {
                            b.last_seen = b.last_seen.max(ts);
                            b.evidence = b.evidence.max(evidence);
                            return d.report(ts, mac, Some(ip), false);
                        }
                    }
                }
            }
        }
        self.observe_slow(ts, mac, ip, evidence, hostname)
    }

    fn observe_slow(
        &mut self,
        ts: Ts,
        mac: MacAddr,
        ip: Option<IpAddr>,
        evidence: Evidence,
        hostname: Option<&str>,
    ) -> Option<DeviceSighting> {
        // A MAC first seen as the client side of a flow is news only once it holds an address:
        // a gateway forwarding inbound traffic must not be reported as a device.
        let mut news = false;
        if !self.devices.contains_key(&mac) {
            self.make_room();
            self.devices.insert(mac, Device::new(ts));
            news = evidence != Evidence::Traffic;
        }
        let device = self.devices.get_mut(&mac)?;
        device.last_seen = device.last_seen.max(ts);
        if device.router {
            return None;
        }
        let mut bound = None;
        if let Some(ip) = ip {
            let class = addr::classify(ip);
            if class == AddrClass::Global
                && evidence == Evidence::Traffic
                && device.note_public_network(addr::public_network_key(ip))
            {
                self.demote_to_router(mac);
                return None;
            }
            let bindable = match class {
                AddrClass::Lan => true,
                AddrClass::Global => evidence != Evidence::Traffic || ip.is_ipv6(),
                AddrClass::Never => false,
            };
            if bindable {
                if let Some(b) = device.bindings.iter_mut().find(|b| b.ip == ip) {
                    b.last_seen = b.last_seen.max(ts);
                    b.evidence = b.evidence.max(evidence);
                    bound = Some(ip);
                } else if self.bind(ts, mac, ip, evidence) {
                    news = true;
                    bound = Some(ip);
                }
            }
        }
        let device = self.devices.get_mut(&mac)?;
        if let Some(h) = hostname {
            if device.hostname.as_deref() != Some(h) {
                device.hostname = Some(h.into());
                news = true;
            }
        }
        device.report(ts, mac, bound, news)
    }

    /// Binds `ip` (not yet bound to `mac`) to `mac`; false when another MAC keeps it.
    fn bind(&mut self, ts: Ts, mac: MacAddr, ip: IpAddr, evidence: Evidence) -> bool {
        if let Some(&owner) = self.by_ip.get(&ip) {
            if owner != mac {
                let keeps = self.devices.get(&owner).is_some_and(|d| {
                    d.bindings.iter().any(|b| {
                        b.ip == ip
                            && evidence == Evidence::Traffic
                            && b.evidence > Evidence::Traffic
                            && ts.saturating_sub(b.last_seen) < TRAFFIC_TAKEOVER_AFTER
                    })
                });
                if keeps {
                    return false;
                }
                self.unbind_from(owner, Some(ip));
            }
        }
        let Some(device) = self.devices.get_mut(&mac) else {
            return false;
        };
        if device.bindings.len() >= MAX_IPS_PER_DEVICE {
            let oldest = device
                .bindings
                .iter()
                .enumerate()
                .min_by_key(|(_, b)| b.last_seen)
                .map(|(i, _)| i);
            if let Some(i) = oldest {
                let dropped = device.bindings.remove(i);
                self.by_ip.remove(&dropped.ip);
                self.stats.evicted_bindings += 1;
            }
        }
        device.bindings.push(Binding {
            ip,
            evidence,
            last_seen: ts,
        });
        self.by_ip.insert(ip, mac);
        true
    }

    /// Removes the binding of `ip` to `mac`, if there is one.
    fn unbind_from(&mut self, mac: MacAddr, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        if let Some(d) = self.devices.get_mut(&mac) {
            d.bindings.retain(|b| b.ip != ip);
        }
        if self.by_ip.get(&ip) == Some(&mac) {
            self.by_ip.remove(&ip);
        }
    }

    /// Marks `mac` a router and drops its bindings.
    fn demote_to_router(&mut self, mac: MacAddr) {
        let Some(d) = self.devices.get_mut(&mac) else {
            return;
        };
        if !d.router {
            d.router = true;
            self.stats.routers += 1;
        }
        for b in d.bindings.drain(..) {
            if self.by_ip.get(&b.ip) == Some(&mac) {
                self.by_ip.remove(&b.ip);
            }
        }
    }

    /// When the table is full, evicts the [`EVICT_BATCH`] least recently seen MACs.
    fn make_room(&mut self) {
        if self.devices.len() < MAX_DEVICES {
            return;
        }
        self.scratch.clear();
        self.scratch
            .extend(self.devices.values().map(|d| d.last_seen));
        let Some(nth) = EVICT_BATCH.checked_sub(1) else {
            return;
        };
        if nth >= self.scratch.len() {
            return;
        }
        let (_, &mut cutoff, _) = self.scratch.select_nth_unstable(nth);
        let mut left = EVICT_BATCH;
        let by_ip = &mut self.by_ip;
        self.devices.retain(|mac, d| {
            if left == 0 || d.last_seen > cutoff {
                return true;
            }
            left -= 1;
            for b in &d.bindings {
                if by_ip.get(&b.ip) == Some(mac) {
                    by_ip.remove(&b.ip);
                }
            }
            false
        });
        self.stats.evicted_devices += (EVICT_BATCH - left) as u64;
    }
}

/// `h` cut to at most [`MAX_HOSTNAME_LEN`] bytes on a character boundary.
fn cap_hostname(h: &str) -> &str {
    let mut end = h.len().min(MAX_HOSTNAME_LEN);
    while !h.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    h.get(..end).unwrap_or_default()
}
