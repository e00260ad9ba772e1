//! DNS message decoding (RFC 1035), also mDNS and LLMNR.
//! STUB: to be implemented.

/// A parsed DNS message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsMessage {
    pub id: u16,
    pub is_response: bool,
    pub opcode: u8,
    pub rcode: u8,
    pub truncated: bool,
    pub questions: Vec<Question>,
    pub answers: Vec<Answer>,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// As on the wire (case kept), no trailing dot; "" for the root.
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
}

/// One answer-section record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub name: String,
    pub rtype: u16,
    /// Address for A/AAAA, target name for CNAME/PTR/NS/MX/SRV, short text for others.
    pub data: String,
}

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("message truncated")]
    Truncated,
    #[error("malformed name")]
    BadName,
    #[error("too many records")]
    TooMany,
}

/// Parses one DNS message (for TCP, without the 2-byte length prefix).
pub fn parse(_msg: &[u8]) -> Result<DnsMessage, DnsError> {
    Err(DnsError::Truncated)
}

/// IANA mnemonic of a query type ("A", "AAAA", "ANY", …) or "TYPE<n>".
pub fn qtype_name(_t: u16) -> String {
    String::new()
}

/// Mnemonic of a response code ("NOERROR", "NXDOMAIN", …) or "RCODE<n>".
pub fn rcode_name(_r: u8) -> String {
    String::new()
}
