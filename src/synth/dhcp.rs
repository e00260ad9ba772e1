//! DHCPv4 message builder (RFC 2131 header, RFC 2132 options).
//!
//! Hand-rolled rather than encoded with `dhcproto`: device fingerprints depend on the exact
//! order of options, which dhcproto's option map does not keep. Client messages put options
//! in Android 10's order (53, 61, 50, 54, 57, 60, 12, 55: Satori's `android-dhcp-10`
//! fingerprint in /work/shared/ref/fingerprints); server messages in dnsmasq's (53, 54, 51,
//! 58, 59, 1, 28, 3, 6). Tests decode the output with dhcproto as an independent reader.
//!
//! Invariants: string options are cut to [`MAX_OPTION_LEN`] bytes and the parameter list to
//! as many codes, so every option length byte is right; messages are zero-padded to the
//! 300-byte BOOTP minimum.

use std::net::Ipv4Addr;

use crate::event::MacAddr;

/// Longest option value (its length is one byte).
pub const MAX_OPTION_LEN: usize = 255;
/// Most DNS servers written in option 6 (4 bytes each, within one option).
pub const MAX_DNS_SERVERS: usize = 63;
/// Minimum BOOTP message length clients and servers pad to (RFC 951).
const MIN_BOOTP_LEN: usize = 300;
/// DHCP magic cookie (RFC 2131 §3).
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];

/// DHCPDISCOVER.
pub const DISCOVER: u8 = 1;
/// DHCPOFFER.
pub const OFFER: u8 = 2;
/// DHCPREQUEST.
pub const REQUEST: u8 = 3;
/// DHCPACK.
pub const ACK: u8 = 5;

/// Android 10's parameter request list (option 55), per Satori's `Android 10.x` entry.
pub const ANDROID_10_PARAMS: [u8; 10] = [1, 3, 6, 15, 26, 28, 51, 58, 59, 43];

/// The fields of one DHCP message; `None`/empty fields are left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpSpec<'a> {
    /// Option 53 message type; types 2 (OFFER), 5 (ACK) and 6 (NAK) are server replies
    /// (BOOTP op 2), the others client requests (op 1).
    pub msg_type: u8,
    /// Transaction id.
    pub xid: u32,
    /// Client hardware address (chaddr); also option 61 (type 1 + MAC) in client messages.
    pub client_mac: MacAddr,
    /// Client's current address (ciaddr).
    pub ciaddr: Ipv4Addr,
    /// Address offered/assigned (yiaddr).
    pub yiaddr: Ipv4Addr,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 57 (clients).
    pub max_message_size: Option<u16>,
    /// Option 60.
    pub vendor_class: Option<&'a str>,
    /// Option 12.
    pub hostname: Option<&'a str>,
    /// Option 55, in order.
    pub param_list: &'a [u8],
    /// Option 51, with 58 (renewal, half) and 59 (rebinding, 7/8) derived from it.
    pub lease_secs: Option<u32>,
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 28.
    pub broadcast: Option<Ipv4Addr>,
    /// Option 3.
    pub router: Option<Ipv4Addr>,
    /// Option 6.
    pub dns: &'a [Ipv4Addr],
}

impl<'a> DhcpSpec<'a> {
    /// A message of `msg_type` with every optional field empty.
    pub fn new(msg_type: u8, xid: u32, client_mac: MacAddr) -> DhcpSpec<'a> {
        DhcpSpec {
            msg_type,
            xid,
            client_mac,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            requested_ip: None,
            server_id: None,
            max_message_size: None,
            vendor_class: None,
            hostname: None,
            param_list: &[],
            lease_secs: None,
            subnet_mask: None,
            broadcast: None,
            router: None,
            dns: &[],
        }
    }

    /// True for server replies (BOOTP op 2).
    pub fn is_reply(&self) -> bool {
        matches!(self.msg_type, OFFER | ACK | 6)
    }
}

/// Appends option `code` with `value` cut to [`MAX_OPTION_LEN`] bytes.
fn opt(out: &mut Vec<u8>, code: u8, value: &[u8]) {
    let value = value.get(..MAX_OPTION_LEN).unwrap_or(value);
    out.push(code);
    out.push(value.len() as u8); // at most MAX_OPTION_LEN
    out.extend_from_slice(value);
}

/// The UDP payload of the DHCP message described by `s`.
pub fn dhcp(s: &DhcpSpec<'_>) -> Vec<u8> {
    let reply = s.is_reply();
    let mut m = Vec::with_capacity(MIN_BOOTP_LEN + 64);
    m.extend_from_slice(&[if reply { 2 } else { 1 }, 1, 6, 0]);
    m.extend_from_slice(&s.xid.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]); // secs, flags
    m.extend_from_slice(&s.ciaddr.octets());
    m.extend_from_slice(&s.yiaddr.octets());
    let siaddr = if reply {
        s.server_id.unwrap_or(Ipv4Addr::UNSPECIFIED)
    } else {
        Ipv4Addr::UNSPECIFIED
    };
    m.extend_from_slice(&siaddr.octets());
    m.extend_from_slice(&[0; 4]); // giaddr
    m.extend_from_slice(&s.client_mac.0);
    m.extend_from_slice(&[0; 10 + 64 + 128]); // chaddr padding, sname, file
    m.extend_from_slice(&MAGIC_COOKIE);
    opt(&mut m, 53, &[s.msg_type]);
    if !reply {
        let mut id = vec![1u8];
        id.extend_from_slice(&s.client_mac.0);
        opt(&mut m, 61, &id);
    }
    if let Some(ip) = s.requested_ip {
        opt(&mut m, 50, &ip.octets());
    }
    if let Some(ip) = s.server_id {
        opt(&mut m, 54, &ip.octets());
    }
    if let Some(lease) = s.lease_secs {
        opt(&mut m, 51, &lease.to_be_bytes());
        opt(&mut m, 58, &(lease / 2).to_be_bytes());
        opt(&mut m, 59, &(lease / 8).saturating_mul(7).to_be_bytes());
    }
    if let Some(size) = s.max_message_size {
        opt(&mut m, 57, &size.to_be_bytes());
    }
    if let Some(v) = s.vendor_class {
        opt(&mut m, 60, v.as_bytes());
    }
    if let Some(h) = s.hostname {
        opt(&mut m, 12, h.as_bytes());
    }
    if !s.param_list.is_empty() {
        opt(&mut m, 55, s.param_list);
    }
    if let Some(ip) = s.subnet_mask {
        opt(&mut m, 1, &ip.octets());
    }
    if let Some(ip) = s.broadcast {
        opt(&mut m, 28, &ip.octets());
    }
    if let Some(ip) = s.router {
        opt(&mut m, 3, &ip.octets());
    }
    if !s.dns.is_empty() {
        let dns = s.dns.get(..MAX_DNS_SERVERS).unwrap_or(s.dns);
        let v: Vec<u8> = dns.iter().flat_map(|ip| ip.octets()).collect();
        opt(&mut m, 6, &v);
    }
    m.push(255);
    if m.len() < MIN_BOOTP_LEN {
        m.resize(MIN_BOOTP_LEN, 0);
    }
    m
}

#[cfg(test)]
#[path = "dhcp_tests.rs"]
mod tests;
