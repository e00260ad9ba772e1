//! Short text renderings of resource-record data, one line per record.
//!
//! Addresses for A/AAAA (IPv6 compressed lower case, `Ipv6Addr` Display), the target name for
//! NS/CNAME/PTR/DNAME/MX/SRV (and the primary server for SOA), the first character-string for
//! TXT, "cpu os" for HINFO, "covered-type signer" for RRSIG; any other type as
//! `"<MNEMONIC> (<n> bytes)"`. Names inside RDATA may be compressed but must end inside it.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::name::{push_text, read_name};
use super::types::qtype_mnemonic;

/// Renders the RDATA of one record; `start` is the offset of `rdata` in `msg` (names in RDATA
/// may point back into the message). None when the RDATA is malformed for its type.
pub(super) fn render(msg: &[u8], rtype: u16, start: usize, rdata: &[u8]) -> Option<String> {
    match rtype {
        1 => {
            let a: [u8; 4] = rdata.try_into().ok()?;
            Some(Ipv4Addr::from(a).to_string())
        }
        28 => {
            let a: [u8; 16] = rdata.try_into().ok()?;
            Some(Ipv6Addr::from(a).to_string())
        }
        // NS, CNAME, SOA (MNAME first), PTR, DNAME: a name at the start.
        2 | 5 | 6 | 12 | 39 => name_in(msg, start, 0, rdata.len()),
        // MX: 2-octet preference, then the exchange.
        15 => name_in(msg, start, 2, rdata.len()),
        // SRV: priority, weight, port, then the target.
        33 => name_in(msg, start, 6, rdata.len()),
        16 => {
            let mut out = String::new();
            push_char_string(&mut out, rdata)?;
            Some(out)
        }
        13 => {
            let mut out = String::new();
            let used = push_char_string(&mut out, rdata)?;
            out.push(' ');
            push_char_string(&mut out, rdata.get(used..)?)?;
            Some(out)
        }
        46 => {
            // Type covered (2), algorithm, labels, original TTL (4), expiration (4),
            // inception (4), key tag (2), then the signer's name at offset 18.
            let covered = u16::from_be_bytes(rdata.get(..2)?.try_into().ok()?);
            let signer = name_in(msg, start, 18, rdata.len())?;
            Some(format!("{} {signer}", super::qtype_name(covered)))
        }
        _ => Some(generic(rtype, rdata.len())),
    }
}

/// The fallback rendering: mnemonic (or `TYPE<n>`) and RDATA length.
pub(super) fn generic(rtype: u16, len: usize) -> String {
    match qtype_mnemonic(rtype) {
        Some(m) => format!("{m} ({len} bytes)"),
        None => format!("TYPE{rtype} ({len} bytes)"),
    }
}

/// Reads the name at `start + skip`, which must end within the `len` bytes of RDATA.
fn name_in(msg: &[u8], start: usize, skip: usize, len: usize) -> Option<String> {
    let mut out = String::new();
    let next = read_name(msg, start.checked_add(skip)?, &mut out).ok()?;
    (next <= start.checked_add(len)?).then_some(out)
}

/// Appends the character-string (length octet + bytes) at the start of `b`; returns the bytes
/// it used.
fn push_char_string(out: &mut String, b: &[u8]) -> Option<usize> {
    let len = usize::from(*b.first()?);
    let text = b.get(1..1 + len)?;
    push_text(out, text, false);
    Some(1 + len)
}
