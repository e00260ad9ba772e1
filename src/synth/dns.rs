//! DNS query and response builders (RFC 1035) with name compression in responses.
//!
//! Hand-rolled: no DNS wire crate is a dependency, and tests need to know exactly where names
//! and compression pointers land. Queries are written the way Android's resolver writes them
//! (RD set, one question, no EDNS), so a query rebuilt from a real capture is byte-identical.
//!
//! Invariants: names are cut to [`MAX_NAME_LEN`] wire bytes and labels to [`MAX_LABEL_LEN`]
//! bytes (empty labels are dropped), answer lists to [`MAX_ANSWERS`] records, so every count
//! and length field matches the bytes written. Compression pointers only ever point backwards
//! at a label already written, below offset 0x3fff.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest name on the wire, length octets and root included (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Most answer records written in one response; keeps counts and message size bounded.
pub const MAX_ANSWERS: usize = 64;
/// Query type A.
pub const TYPE_A: u16 = 1;
/// Query type CNAME.
pub const TYPE_CNAME: u16 = 5;
/// Query type AAAA.
pub const TYPE_AAAA: u16 = 28;
/// Class IN.
const CLASS_IN: u16 = 1;
/// Largest offset a 14-bit compression pointer can hold.
const MAX_POINTER: usize = 0x3fff;

/// The data of an answer record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RData<'a> {
    /// An IPv4 address (type A).
    A(Ipv4Addr),
    /// An IPv6 address (type AAAA).
    Aaaa(Ipv6Addr),
    /// A canonical name (type CNAME); compressed against earlier names.
    Cname(&'a str),
}

impl RData<'_> {
    /// The record type of this data.
    pub fn rtype(&self) -> u16 {
        match self {
            RData::A(_) => TYPE_A,
            RData::Aaaa(_) => TYPE_AAAA,
            RData::Cname(_) => TYPE_CNAME,
        }
    }
}

/// One answer-section record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsAnswer<'a> {
    /// Owner name (for a CNAME chain, the previous link's target).
    pub name: &'a str,
    /// Time to live in seconds.
    pub ttl: u32,
    /// Record data.
    pub data: RData<'a>,
}

/// Writes names, remembering where each written suffix starts so later names can point at it.
struct NameWriter {
    /// (dotted suffix as written, offset of its first label in the message). Matching is
    /// case-sensitive so a decoder gets back exactly the names the caller gave.
    suffixes: Vec<(String, usize)>,
}

/// The labels of `name` as written: no empty labels, each at most [`MAX_LABEL_LEN`] bytes,
/// and together at most [`MAX_NAME_LEN`] wire bytes.
fn labels(name: &str) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut wire = 1; // the root's zero octet
    for l in name.split('.').filter(|l| !l.is_empty()) {
        let l = l.as_bytes();
        let l = l.get(..MAX_LABEL_LEN).unwrap_or(l);
        if wire + 1 + l.len() > MAX_NAME_LEN {
            break;
        }
        wire += 1 + l.len();
        out.push(l);
    }
    out
}

impl NameWriter {
    fn new() -> NameWriter {
        NameWriter {
            suffixes: Vec::new(),
        }
    }

    /// Appends `name` to `msg`, with a pointer to the longest suffix already written when
    /// `compress` is set.
    fn write(&mut self, msg: &mut Vec<u8>, name: &str, compress: bool) {
        let labels = labels(name);
        for i in 0..labels.len() {
            let suffix = labels
                .get(i..)
                .unwrap_or_default()
                .iter()
                .map(|l| String::from_utf8_lossy(l))
                .collect::<Vec<_>>()
                .join(".");
            if compress {
                if let Some(&(_, off)) = self.suffixes.iter().find(|(s, _)| *s == suffix) {
                    let ptr = 0xc000 | u16::try_from(off).unwrap_or(0);
                    msg.extend_from_slice(&ptr.to_be_bytes());
                    return;
                }
            }
            if msg.len() <= MAX_POINTER {
                self.suffixes.push((suffix, msg.len()));
            }
            if let Some(l) = labels.get(i) {
                msg.push(l.len() as u8); // at most MAX_LABEL_LEN
                msg.extend_from_slice(l);
            }
        }
        msg.push(0);
    }
}

/// The 12-byte header: id, flags, then question/answer/authority/additional counts.
fn header(msg: &mut Vec<u8>, id: u16, flags: u16, answers: u16) {
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&flags.to_be_bytes());
    for count in [1, answers, 0, 0] {
        msg.extend_from_slice(&count.to_be_bytes());
    }
}

/// A standard query (RD set) for `qname`/`qtype`, class IN.
pub fn dns_query(id: u16, qname: &str, qtype: u16) -> Vec<u8> {
    let mut msg = Vec::with_capacity(18 + qname.len());
    header(&mut msg, id, 0x0100, 0);
    NameWriter::new().write(&mut msg, qname, false);
    msg.extend_from_slice(&qtype.to_be_bytes());
    msg.extend_from_slice(&CLASS_IN.to_be_bytes());
    msg
}

/// A NOERROR response (QR, RD, RA set) repeating the question and carrying `answers` in
/// order; owner and CNAME target names are compressed against every name written before.
pub fn dns_response(id: u16, qname: &str, qtype: u16, answers: &[DnsAnswer<'_>]) -> Vec<u8> {
    let answers = answers.get(..MAX_ANSWERS).unwrap_or(answers);
    let mut msg = Vec::with_capacity(512);
    header(&mut msg, id, 0x8180, answers.len() as u16); // at most MAX_ANSWERS
    let mut names = NameWriter::new();
    names.write(&mut msg, qname, true);
    msg.extend_from_slice(&qtype.to_be_bytes());
    msg.extend_from_slice(&CLASS_IN.to_be_bytes());
    for a in answers {
        names.write(&mut msg, a.name, true);
        msg.extend_from_slice(&a.data.rtype().to_be_bytes());
        msg.extend_from_slice(&CLASS_IN.to_be_bytes());
        msg.extend_from_slice(&a.ttl.to_be_bytes());
        match a.data {
            RData::A(ip) => {
                msg.extend_from_slice(&4u16.to_be_bytes());
                msg.extend_from_slice(&ip.octets());
            }
            RData::Aaaa(ip) => {
                msg.extend_from_slice(&16u16.to_be_bytes());
                msg.extend_from_slice(&ip.octets());
            }
            RData::Cname(target) => {
                let len_at = msg.len();
                msg.extend_from_slice(&[0, 0]);
                names.write(&mut msg, target, true);
                let rdlen = msg.len().saturating_sub(len_at + 2);
                let rdlen = u16::try_from(rdlen).unwrap_or(u16::MAX).to_be_bytes();
                if let Some(slot) = msg.get_mut(len_at..len_at + 2) {
                    slot.copy_from_slice(&rdlen);
                }
            }
        }
    }
    msg
}

#[cfg(test)]
#[path = "dns_tests.rs"]
mod tests;
