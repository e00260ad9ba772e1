//! DHCPv4 decoding (RFC 2131/2132): the BOOTP fixed header and the options a device record
//! and a DHCP fingerprint need.
//!
//! Hand-rolled rather than `dhcproto`: `dhcproto` stores options in a map and loses their
//! order, and the fingerprint is made of exactly that order (`options_present`, and option 55
//! as sent). Options are walked once, in order: pad (0) is skipped, end (255) stops, every
//! length is checked against the bytes present. Option overload (52, RFC 2131 §4.1) is
//! honoured: the `file` then `sname` fields are walked after the main options.
//!
//! Invariants: never panics; `options_present` holds at most [`MAX_OPTIONS`] codes and
//! `param_list` at most [`MAX_PARAM_LIST`] bytes; a truncated option ends the walk with
//! `malformed` set, keeping what was decoded before it.

use std::net::Ipv4Addr;

use crate::event::MacAddr;

/// Length of the BOOTP fixed header (op … file), before the magic cookie.
pub const BOOTP_FIXED_LEN: usize = 236;
/// The DHCP magic cookie that follows the fixed header (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [0x63, 0x82, 0x53, 0x63];
/// Most option codes recorded in `options_present` per message. Real clients send < 40;
/// bounds the allocation driven by a datagram full of one-byte options.
pub const MAX_OPTIONS: usize = 255;
/// Most parameter-request bytes kept (option 55, concatenated per RFC 3396 when repeated).
pub const MAX_PARAM_LIST: usize = 255;

/// Offset of the options after the fixed header and the magic cookie.
const OPTIONS_OFFSET: usize = BOOTP_FIXED_LEN + 4;

/// The fields of a DHCP message that records need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpMessage {
    /// BOOTP op: 1 BOOTREQUEST, 2 BOOTREPLY; see [`op_name`].
    pub op: u8,
    /// Transaction id.
    pub xid: u32,
    /// Client address (0.0.0.0 when not set).
    pub ciaddr: Ipv4Addr,
    /// "Your" (offered/assigned) address (0.0.0.0 when not set).
    pub yiaddr: Ipv4Addr,
    /// First six bytes of chaddr, whatever htype/hlen say.
    pub client_mac: MacAddr,
    /// Option 53; see [`msg_type_name`].
    pub msg_type: Option<u8>,
    /// Option 12, verbatim (lossy UTF-8), trailing NUL bytes removed.
    pub hostname: Option<String>,
    /// Option 60, verbatim (lossy UTF-8), trailing NUL bytes removed.
    pub vendor_class: Option<String>,
    /// Option 55 in order: the DHCP fingerprint.
    pub param_list: Vec<u8>,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 61, raw bytes (type octet included).
    pub client_id: Option<Vec<u8>>,
    /// Option codes in the order sent (pad and end excluded; repeats kept).
    pub options_present: Vec<u8>,
    /// BOOTP hardware type.
    pub htype: u8,
    /// BOOTP hardware address length.
    pub hlen: u8,
    /// True when an option ran past the end of its field (the walk stopped there), or
    /// more than [`MAX_OPTIONS`] options were sent.
    pub malformed: bool,
}

/// Parses a DHCPv4 message (UDP payload). None when the fixed header is incomplete or the
/// magic cookie is missing (plain BOOTP or not DHCP at all).
pub fn parse(b: &[u8]) -> Option<DhcpMessage> {
    if b.get(BOOTP_FIXED_LEN..OPTIONS_OFFSET)? != MAGIC_COOKIE {
        return None;
    }
    let mut m = DhcpMessage {
        op: *b.first()?,
        htype: *b.get(1)?,
        hlen: *b.get(2)?,
        xid: u32::from_be_bytes(b.get(4..8)?.try_into().ok()?),
        ciaddr: ipv4(b.get(12..16)?)?,
        yiaddr: ipv4(b.get(16..20)?)?,
        client_mac: MacAddr::from_slice(b.get(28..34)?)?,
        msg_type: None,
        hostname: None,
        vendor_class: None,
        param_list: Vec::new(),
        requested_ip: None,
        server_id: None,
        client_id: None,
        options_present: Vec::new(),
        malformed: false,
    };
    let overload = walk_options(b.get(OPTIONS_OFFSET..)?, &mut m);
    // RFC 2131 §4.1: with overload, `file` (bit 1) is read before `sname` (bit 2).
    if overload & 1 != 0 {
        walk_options(b.get(108..236)?, &mut m);
    }
    if overload & 2 != 0 {
        walk_options(b.get(44..108)?, &mut m);
    }
    Some(m)
}

/// Walks one options field in order, filling `m`; returns the option-overload value (52)
/// found in it, 0 if none.
fn walk_options(field: &[u8], m: &mut DhcpMessage) -> u8 {
    let mut overload = 0;
    let mut pos = 0;
    while let Some(&code) = field.get(pos) {
        match code {
            0 => {
                pos += 1;
                continue;
            }
            255 => break,
            _ => {}
        }
        // pos < field.len(), so these additions cannot overflow; saturating anyway.
        let Some(&len) = field.get(pos.saturating_add(1)) else {
            m.malformed = true;
            break;
        };
        let start = pos.saturating_add(2);
        let end = start.saturating_add(usize::from(len));
        let Some(data) = field.get(start..end) else {
            m.malformed = true;
            break;
        };
        if m.options_present.len() < MAX_OPTIONS {
            m.options_present.push(code);
        } else {
            m.malformed = true;
        }
        match code {
            53 => m.msg_type = m.msg_type.or(data.first().copied()),
            12 => m.hostname = m.hostname.take().or_else(|| Some(text(data))),
            60 => m.vendor_class = m.vendor_class.take().or_else(|| Some(text(data))),
            55 => {
                let room = MAX_PARAM_LIST.saturating_sub(m.param_list.len());
                m.param_list
                    .extend_from_slice(data.get(..room.min(data.len())).unwrap_or(&[]));
            }
            50 => m.requested_ip = m.requested_ip.or_else(|| ipv4(data)),
            54 => m.server_id = m.server_id.or_else(|| ipv4(data)),
            61 => m.client_id = m.client_id.take().or_else(|| Some(data.to_vec())),
            52 => overload = data.first().copied().unwrap_or(0),
            _ => {}
        }
        pos = end;
    }
    overload
}

/// An IPv4 address from exactly four bytes.
fn ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    let a: [u8; 4] = b.try_into().ok()?;
    Some(Ipv4Addr::from(a))
}

/// Option text verbatim (lossy UTF-8); trailing NULs, which some clients include, dropped.
fn text(b: &[u8]) -> String {
    let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(b.get(..end).unwrap_or(b)).into_owned()
}

/// Name of a DHCP message type ("DISCOVER", … or "TYPE<n>").
pub fn msg_type_name(t: u8) -> String {
    let s = match t {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        _ => return format!("TYPE{t}"),
    };
    s.to_owned()
}

/// Name of a BOOTP op ("BOOTREQUEST", "BOOTREPLY" or "OP<n>").
pub fn op_name(op: u8) -> String {
    match op {
        1 => "BOOTREQUEST".to_owned(),
        2 => "BOOTREPLY".to_owned(),
        _ => format!("OP{op}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_options(opts: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; BOOTP_FIXED_LEN];
        b[0] = 1;
        b[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        b.extend_from_slice(&MAGIC_COOKIE);
        b.extend_from_slice(opts);
        b
    }

    #[test]
    fn pad_skipped_end_stops_and_order_kept() {
        let m = parse(&with_options(&[
            0, 53, 1, 3, 0, 55, 3, 1, 121, 3, 255, 12, 1, b'x',
        ]))
        .expect("parses");
        assert_eq!(m.msg_type, Some(3));
        assert_eq!(m.param_list, vec![1, 121, 3]);
        assert_eq!(m.options_present, vec![53, 55]);
        assert_eq!(m.hostname, None);
        assert!(!m.malformed);
        assert_eq!(m.client_mac, MacAddr([2, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn truncated_option_keeps_earlier_ones() {
        let m = parse(&with_options(&[53, 1, 1, 12, 9, b'a'])).expect("parses");
        assert_eq!(m.msg_type, Some(1));
        assert_eq!(m.options_present, vec![53]);
        assert!(m.malformed);
        let m = parse(&with_options(&[53])).expect("parses");
        assert!(m.malformed);
    }

    #[test]
    fn overload_reads_file_then_sname() {
        let mut b = with_options(&[53, 1, 1, 52, 1, 3, 255]);
        b[108..112].copy_from_slice(&[12, 2, b'h', b'n']);
        b[112] = 255;
        b[44..50].copy_from_slice(&[60, 3, b'v', b'c', b'i', 255]);
        let m = parse(&b).expect("parses");
        assert_eq!(m.options_present, vec![53, 52, 12, 60]);
        assert_eq!(m.hostname.as_deref(), Some("hn"));
        assert_eq!(m.vendor_class.as_deref(), Some("vci"));
    }

    #[test]
    fn missing_cookie_or_short_header_is_none() {
        let mut b = with_options(&[255]);
        b[236] = 0;
        assert_eq!(parse(&b), None);
        assert_eq!(parse(&b[..239]), None);
    }

    #[test]
    fn names() {
        assert_eq!(msg_type_name(1), "DISCOVER");
        assert_eq!(msg_type_name(8), "INFORM");
        assert_eq!(msg_type_name(13), "TYPE13");
        assert_eq!(op_name(2), "BOOTREPLY");
        assert_eq!(text(b"R0\0\0"), "R0");
    }
}
