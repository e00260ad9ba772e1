//! HTTP/1.x request-head decoding.
//! STUB: to be implemented.

/// Bytes of a request body kept for detectors.
pub const MAX_BODY_KEPT: usize = 64 * 1024;
/// Largest request head we wait for before giving up on a stream.
pub const MAX_HEAD: usize = 16 * 1024;

/// A parsed request head.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub uri: String,
    pub version: String,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub auth_scheme: Option<String>,
    pub cookie_present: bool,
    pub content_length: Option<u64>,
    pub chunked: bool,
    /// Length of the head including the blank line.
    pub head_len: usize,
}

/// Result of trying to parse a request head at the start of `buf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadParse {
    Complete(RequestHead),
    /// Could be a request; wait for more bytes.
    Partial,
    /// Not an HTTP request.
    NotHttp,
}

/// Parses a request head at the start of `buf`.
pub fn parse_request_head(_buf: &[u8]) -> HeadParse {
    HeadParse::NotHttp
}
