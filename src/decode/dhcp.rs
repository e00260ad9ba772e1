//! DHCPv4 decoding (RFC 2131/2132).
//! STUB: to be implemented.

use crate::event::MacAddr;
use std::net::Ipv4Addr;

/// The fields of a DHCP message that records need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpMessage {
    pub op: u8,
    pub xid: u32,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub client_mac: MacAddr,
    pub msg_type: Option<u8>,
    pub hostname: Option<String>,
    pub vendor_class: Option<String>,
    pub param_list: Vec<u8>,
    pub requested_ip: Option<Ipv4Addr>,
    pub server_id: Option<Ipv4Addr>,
    pub client_id: Option<Vec<u8>>,
    pub options_present: Vec<u8>,
}

/// Parses a DHCPv4 message (UDP payload).
pub fn parse(_b: &[u8]) -> Option<DhcpMessage> {
    None
}

/// Name of a DHCP message type ("DISCOVER", … or "TYPE<n>").
pub fn msg_type_name(_t: u8) -> String {
    String::new()
}
