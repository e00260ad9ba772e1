//! DNS message decoding (RFC 1035), also mDNS (RFC 6762) and LLMNR (RFC 4795), which share
//! the wire format.
//!
//! [`parse`] decodes the header, the question section and the answer section; authority and
//! additional records are not needed by any record type and are not decoded.
//!
//! Invariants:
//! - never panics and never allocates in proportion to header counts: QDCOUNT above
//!   [`MAX_QUESTIONS`] is refused, and at most [`MAX_ANSWERS`] answers are decoded; vector
//!   capacities are also bounded by what the remaining bytes could hold;
//! - names are read by [`name`] (backward-only compression pointers, bounded hops, labels and
//!   length), keep the wire case, have no trailing dot, and are "" for the root;
//! - a malformed or truncated answer section does not lose the message: the header, the
//!   questions and the answers decoded so far are returned with `malformed` set (the
//!   `dns-truncated-loc-answer` corpus case).
//!
//! Hand-rolled rather than `hickory-proto` / `simple-dns` / `dns-parser`: those either
//! lower-case or re-encode names, allocate a record per header-claimed count, or fail the whole
//! message on one bad record; here a wire-case, bounded, partial-result parser is ~300 lines.

mod name;
mod rdata;
mod types;

pub use name::{MAX_LABELS, MAX_NAME_WIRE_LEN, MAX_POINTER_HOPS};
pub use types::{opcode_name, qtype_mnemonic, qtype_name, rcode_mnemonic, rcode_name};

/// Length of the fixed DNS header.
pub const HEADER_LEN: usize = 12;
/// Most questions accepted in one message. Real queries carry one (mDNS a few dozen at most);
/// a larger QDCOUNT is refused before any allocation.
pub const MAX_QUESTIONS: usize = 64;
/// Most answer records decoded from one message; further answers are skipped and the message
/// is flagged `malformed`. Bounds the allocation driven by a hostile ANCOUNT.
pub const MAX_ANSWERS: usize = 128;

/// Smallest wire size of a question (root name + type + class): bounds vector capacity by the
/// bytes actually present.
const MIN_QUESTION_LEN: usize = 5;
/// Smallest wire size of a resource record (root name, type, class, TTL, RDLENGTH).
const MIN_RR_LEN: usize = 11;

/// A parsed DNS message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction id.
    pub id: u16,
    /// QR bit: true for a response.
    pub is_response: bool,
    /// Header OPCODE (0 = QUERY); see [`opcode_name`].
    pub opcode: u8,
    /// Header RCODE (low 4 bits; the EDNS extension is not applied); see [`rcode_name`].
    pub rcode: u8,
    /// TC bit: the sender truncated the message.
    pub truncated: bool,
    /// The question section, in order.
    pub questions: Vec<Question>,
    /// The answer section as far as it could be decoded, in order.
    pub answers: Vec<Answer>,
    /// True when the answer section is truncated or malformed, or holds more than
    /// [`MAX_ANSWERS`] records (only those were decoded). Also set when a record's RDATA did
    /// not fit its type (that record is then rendered generically).
    pub malformed: bool,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// As on the wire (case kept), no trailing dot; "" for the root.
    pub name: String,
    /// Query type; see [`qtype_name`].
    pub qtype: u16,
    /// Query class as on the wire (for mDNS the top bit is the unicast-response bit).
    pub qclass: u16,
}

/// One answer-section record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Owner name, as on the wire, no trailing dot.
    pub name: String,
    /// Record type; see [`qtype_name`].
    pub rtype: u16,
    /// Address for A/AAAA, target name for CNAME/PTR/NS/MX/SRV, short text for others.
    pub data: String,
}

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The header or a question runs past the end of the message.
    #[error("message truncated")]
    Truncated,
    /// A question name breaks the name rules (bad pointer, too long, reserved label type).
    #[error("malformed name")]
    BadName,
    /// QDCOUNT is above [`MAX_QUESTIONS`].
    #[error("too many records")]
    TooMany,
}

/// Parses one DNS message (for TCP, without the 2-byte length prefix).
///
/// Errors only when the header or the question section cannot be decoded; answer-section
/// problems set [`DnsMessage::malformed`] instead.
pub fn parse(msg: &[u8]) -> Result<DnsMessage, DnsError> {
    if msg.len() < HEADER_LEN {
        return Err(DnsError::Truncated);
    }
    let id = be16(msg, 0).ok_or(DnsError::Truncated)?;
    let flags = be16(msg, 2).ok_or(DnsError::Truncated)?;
    let qdcount = usize::from(be16(msg, 4).ok_or(DnsError::Truncated)?);
    let ancount = usize::from(be16(msg, 6).ok_or(DnsError::Truncated)?);
    if qdcount > MAX_QUESTIONS {
        return Err(DnsError::TooMany);
    }
    let mut m = DnsMessage {
        id,
        is_response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0F) as u8,
        truncated: flags & 0x0200 != 0,
        rcode: (flags & 0x000F) as u8,
        ..DnsMessage::default()
    };
    let room = msg.len().saturating_sub(HEADER_LEN);
    m.questions = Vec::with_capacity(qdcount.min(room / MIN_QUESTION_LEN));
    let mut pos = HEADER_LEN;
    for _ in 0..qdcount {
        let mut name = String::new();
        let next = name::read_name(msg, pos, &mut name)?;
        let qtype = be16(msg, next).ok_or(DnsError::Truncated)?;
        let qclass = be16(msg, next.saturating_add(2)).ok_or(DnsError::Truncated)?;
        m.questions.push(Question {
            name,
            qtype,
            qclass,
        });
        pos = next.saturating_add(4);
    }
    let room = msg.len().saturating_sub(pos);
    m.answers = Vec::with_capacity(ancount.min(MAX_ANSWERS).min(room / MIN_RR_LEN));
    for i in 0..ancount {
        if i == MAX_ANSWERS {
            m.malformed = true;
            break;
        }
        match read_answer(msg, pos) {
            Some((answer, rdata_ok, next)) => {
                m.answers.push(answer);
                m.malformed |= !rdata_ok;
                pos = next;
            }
            None => {
                m.malformed = true;
                break;
            }
        }
    }
    Ok(m)
}

/// Reads the resource record at `pos`: the answer, whether its RDATA fit its type, and the
/// offset after it. None when the record itself is truncated or its owner name is bad.
fn read_answer(msg: &[u8], pos: usize) -> Option<(Answer, bool, usize)> {
    let mut name = String::new();
    let p = name::read_name(msg, pos, &mut name).ok()?;
    let rtype = be16(msg, p)?;
    // Class (2) and TTL (4) are not needed.
    let rdlen = usize::from(be16(msg, p.checked_add(8)?)?);
    let start = p.checked_add(10)?;
    let end = start.checked_add(rdlen)?;
    let rdata = msg.get(start..end)?;
    let (data, ok) = match rdata::render(msg, rtype, start, rdata) {
        Some(d) => (d, true),
        None => (rdata::generic(rtype, rdlen), false),
    };
    Some((Answer { name, rtype, data }, ok, end))
}

/// Big-endian u16 at `at`, if two bytes are there.
fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_only_message_with_huge_counts_does_not_allocate_for_them() {
        // QDCOUNT 0, ANCOUNT 65535, nothing after the header.
        let msg = [0x12, 0x34, 0x81, 0x80, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0];
        let m = parse(&msg).expect("header parses");
        assert_eq!(m.id, 0x1234);
        assert!(m.is_response);
        assert!(m.malformed);
        assert!(m.answers.is_empty());
        assert_eq!(m.answers.capacity(), 0);
    }

    #[test]
    fn too_many_questions_refused() {
        let msg = [0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&msg), Err(DnsError::TooMany));
    }

    #[test]
    fn short_header_is_truncated() {
        for n in 0..HEADER_LEN {
            assert_eq!(parse(&[0u8; HEADER_LEN][..n]), Err(DnsError::Truncated));
        }
    }
}
