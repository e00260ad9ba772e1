//! IPv6 address → device MAC from neighbour discovery (RFC 4861) and DHCPv6 (RFC 8415), fed
//! into [`DeviceTable`] so IPv6 flows, records and alerts carry `device_mac` like IPv4 ones.
//! (Plain traffic — the source MAC of client-side frames — is bound by the pipeline through
//! [`DeviceTable::observe_traffic`]; SLAAC privacy addresses that rotate are new bindings
//! that push the stalest out of the device's bounded list.)
//!
//! Hand-rolled: the few fields needed (message type, target, link-layer address options,
//! DUID, IA addresses) are a dozen bounds-checked reads; pnet's NDP views would need the
//! same option-length checks done by hand (a zero option length loops in naive walkers), and
//! dhcproto allocates a whole message per packet.
//!
//! Invariants: pure functions over borrowed bytes; no allocation; option walks advance by at
//! least 8 (NDP) or 4 (DHCPv6) bytes per step, so they end; a zero NDP option length stops
//! the walk (RFC 4861 §4.6: such a packet is discarded). NDP is trusted only with hop limit
//! 255 (RFC 4861 §7.1: anything forwarded from off-link has less).

use std::net::{IpAddr, Ipv6Addr};

use crate::event::{DeviceSighting, MacAddr, Ts};
use crate::flow::devices::DeviceTable;

/// ICMPv6 Router Solicitation, Router Advertisement, Neighbor Solicitation and Advertisement.
const RS: u8 = 133;
const RA: u8 = 134;
const NS: u8 = 135;
const NA: u8 = 136;
/// NDP options: source and target link-layer address.
const OPT_SLLA: u8 = 1;
const OPT_TLLA: u8 = 2;
/// NA flag: the sender is a router.
const NA_ROUTER: u8 = 0x80;
/// Hop limit every genuine NDP message carries.
const NDP_HOP_LIMIT: u8 = 255;

/// DHCPv6 messages whose IA addresses the client holds (Renew, Rebind, Confirm) or was given
/// (Reply).
const DHCPV6_CONFIRM: u8 = 4;
const DHCPV6_RENEW: u8 = 5;
const DHCPV6_REBIND: u8 = 6;
const DHCPV6_REPLY: u8 = 7;
/// DHCPv6 options: client identifier, IA_NA, IA_TA, IA address.
const OPT_CLIENTID: u16 = 1;
const OPT_IA_NA: u16 = 3;
const OPT_IA_TA: u16 = 4;
const OPT_IAADDR: u16 = 5;
/// Addresses taken from one DHCPv6 message: a phone asks for one or two; the rest is ignored.
pub const MAX_DHCPV6_ADDRS: usize = 4;

/// What one NDP message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NdpFact {
    /// `mac` holds (or, in duplicate address detection, is about to hold) `ip`.
    Bind { mac: MacAddr, ip: Ipv6Addr },
    /// `mac` is a router (it advertised itself as one).
    Router { mac: MacAddr },
}

/// Reads the NDP message `icmp` (an ICMPv6 payload, header included) sent from `src` by the
/// frame source `frame_mac` with hop limit `hop_limit`.
pub fn ndp(frame_mac: MacAddr, src: Ipv6Addr, hop_limit: u8, icmp: &[u8]) -> Option<NdpFact> {
    if hop_limit != NDP_HOP_LIMIT || *icmp.get(1)? != 0 {
        return None;
    }
    let target = || -> Option<Ipv6Addr> {
        let b: [u8; 16] = icmp.get(8..24)?.try_into().ok()?;
        Some(Ipv6Addr::from(b))
    };
    match *icmp.first()? {
        RS if !src.is_unspecified() => {
            let mac = link_option(icmp.get(8..)?, OPT_SLLA)?;
            Some(NdpFact::Bind { mac, ip: src })
        }
        RA => {
            let mac = link_option(icmp.get(16..)?, OPT_SLLA).unwrap_or(frame_mac);
            Some(NdpFact::Router { mac })
        }
        NS => {
            let t = target()?;
            if src.is_unspecified() {
                // Duplicate address detection: the sender is about to take `t`.
                Some(NdpFact::Bind {
                    mac: frame_mac,
                    ip: t,
                })
            } else {
                let mac = link_option(icmp.get(24..)?, OPT_SLLA)?;
                Some(NdpFact::Bind { mac, ip: src })
            }
        }
        NA => {
            let t = target()?;
            let mac = link_option(icmp.get(24..)?, OPT_TLLA).unwrap_or(frame_mac);
            if icmp.get(4)? & NA_ROUTER != 0 {
                Some(NdpFact::Router { mac })
            } else {
                Some(NdpFact::Bind { mac, ip: t })
            }
        }
        _ => None,
    }
}

/// The first Ethernet link-layer address option of `kind` in an NDP option area.
fn link_option(mut opts: &[u8], kind: u8) -> Option<MacAddr> {
    while opts.len() >= 8 {
        let len = usize::from(*opts.get(1)?) * 8;
        if len == 0 {
            return None;
        }
        let opt = opts.get(..len)?;
        if *opt.first()? == kind {
            return MacAddr::from_slice(opt.get(2..8)?);
        }
        opts = opts.get(len..)?;
    }
    None
}

/// What one DHCPv6 message says about addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dhcpv6Facts {
    /// Message type (1 Solicit … 7 Reply …).
    pub msg_type: u8,
    /// The link-layer address inside the client's DUID (DUID-LLT or DUID-LL, Ethernet).
    pub duid_mac: Option<MacAddr>,
    /// IA_NA/IA_TA addresses of a Reply, Renew, Rebind or Confirm, first ones only.
    pub addrs: [Option<Ipv6Addr>; MAX_DHCPV6_ADDRS],
}

/// Reads a DHCPv6 client/server message (UDP payload). Relay messages give None.
pub fn dhcpv6(b: &[u8]) -> Option<Dhcpv6Facts> {
    let msg_type = *b.first()?;
    if !(1..=11).contains(&msg_type) {
        return None;
    }
    let mut f = Dhcpv6Facts {
        msg_type,
        ..Dhcpv6Facts::default()
    };
    let holds = matches!(
        msg_type,
        DHCPV6_CONFIRM | DHCPV6_RENEW | DHCPV6_REBIND | DHCPV6_REPLY
    );
    let mut n = 0;
    for (code, data) in options(b.get(4..)?) {
        match code {
            OPT_CLIENTID => f.duid_mac = duid_mac(data),
            OPT_IA_NA | OPT_IA_TA if holds => {
                let skip = if code == OPT_IA_NA { 12 } else { 4 };
                for (c, a) in options(data.get(skip..).unwrap_or_default()) {
                    let addr: Option<[u8; 16]> = a.get(..16).and_then(|x| x.try_into().ok());
                    if let (OPT_IAADDR, Some(addr)) = (c, addr) {
                        if let Some(slot) = f.addrs.get_mut(n) {
                            *slot = Some(Ipv6Addr::from(addr));
                            n += 1;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(f)
}

/// DHCPv6 options (code, data) of an option area; stops at the first truncated one.
fn options(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let code = u16::from_be_bytes(b.get(0..2)?.try_into().ok()?);
        let len = usize::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?));
        let data = b.get(4..4 + len)?;
        b = b.get(4 + len..)?;
        Some((code, data))
    })
}

/// The Ethernet address in a DUID-LLT (type 1) or DUID-LL (type 3).
fn duid_mac(d: &[u8]) -> Option<MacAddr> {
    let ty = u16::from_be_bytes(d.get(0..2)?.try_into().ok()?);
    let hw = u16::from_be_bytes(d.get(2..4)?.try_into().ok()?);
    let ll = match ty {
        1 => d.get(8..)?,
        3 => d.get(4..)?,
        _ => return None,
    };
    (hw == 1 && ll.len() == 6)
        .then(|| MacAddr::from_slice(ll))
        .flatten()
}

/// Feeds an ICMPv6 packet to the device table (NDP bindings and routers).
pub fn learn_ndp(
    devices: &mut DeviceTable,
    ts: Ts,
    (frame_mac, src, hop_limit): (MacAddr, Ipv6Addr, u8),
    icmp: &[u8],
    emit: &mut dyn FnMut(DeviceSighting),
) {
    match ndp(frame_mac, src, hop_limit, icmp) {
        Some(NdpFact::Bind { mac, ip }) => {
            if let Some(s) = devices.observe_arp(ts, mac, IpAddr::V6(ip)) {
                emit(s);
            }
        }
        Some(NdpFact::Router { mac }) => devices.set_router(ts, mac),
        None => {}
    }
}

/// Feeds a DHCPv6 message to the device table. `client_mac` is the client's frame MAC: the
/// source of a client message, the destination of a Reply; the DUID's address stands in when
/// the frame has none (or it is a group address).
pub fn learn_dhcpv6(
    devices: &mut DeviceTable,
    ts: Ts,
    client_mac: Option<MacAddr>,
    payload: &[u8],
    emit: &mut dyn FnMut(DeviceSighting),
) {
    let Some(f) = dhcpv6(payload) else { return };
    let mac = client_mac
        .filter(|m| !m.is_multicast() && !m.is_zero())
        .or(f.duid_mac);
    let Some(mac) = mac else { return };
    for ip in f.addrs.iter().flatten() {
        if let Some(s) = devices.observe_dhcpv6(ts, mac, IpAddr::V6(*ip)) {
            emit(s);
        }
    }
}

#[cfg(test)]
#[path = "ipv6bind_tests.rs"]
mod tests;
