//! Canonical forms of indicator values, shared by the loaders (at load time) and the matcher
//! (at lookup time), so that both sides compare the same bytes.
//!
//! Invariants:
//! - A domain is stored lowercase, without a trailing dot or a leading `*.` wildcard, in ASCII
//!   (IDNs must be given in punycode), at most [`MAX_NAME_LEN`] bytes, labels of 1..=63 bytes
//!   of `[a-z0-9_-]`.
//! - A value written as a domain that is an IP literal becomes an IP indicator, and one that
//!   carries a path (`host/x`) becomes a URL indicator (caveats of ../shared/ioc/README.md).
//! - An IP indicator is a network: an address and a prefix length, host bits cleared; a plain
//!   address is a /32 or /128.
//! - A URL is stored as `host[:port]` + path (+ `?query`): no scheme, no user info, no
//!   fragment, no default port (80/443), host lowercase, path case kept, no trailing `/` except
//!   for the root path.
//!
//! Hand-rolled rather than the `url` crate: indicator URLs are mostly scheme-less (`host/x`),
//! which `url` rejects, and the matcher needs segment-prefix keys, not a parsed object.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest domain name in text form (RFC 1035: 253 characters without the trailing dot).
pub const MAX_NAME_LEN: usize = 253;

/// Longest DNS label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// Longest URL accepted as an indicator or looked up: bounds the key built per lookup.
pub const MAX_URL_LEN: usize = 4096;

/// Most path segments tried per URL lookup: bounds the lookups for a hostile `/a/a/a/…` path.
pub const MAX_URL_SEGMENTS: usize = 64;

/// Longest e-mail address (RFC 5321: 64 + 1 + 255).
const MAX_EMAIL_LEN: usize = 320;

/// An IP network: a masked address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The address with its host bits cleared.
    pub addr: IpAddr,
    /// Prefix length: 0..=32 for IPv4, 0..=128 for IPv6.
    pub len: u8,
}

impl IpNet {
    /// The network of `len` bits containing `ip`; None when `len` is too long for the family.
    pub fn new(ip: IpAddr, len: u8) -> Option<IpNet> {
        let addr = match ip {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let mask = u32::MAX
                    .checked_shl(32u32.checked_sub(u32::from(len))?)
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(bits & mask))
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                let mask = u128::MAX
                    .checked_shl(128u32.checked_sub(u32::from(len))?)
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(bits & mask))
            }
        };
        Some(IpNet { addr, len })
    }

    /// The whole-address network (/32 or /128) of `ip`.
    pub fn host(ip: IpAddr) -> IpNet {
        let len = if ip.is_ipv4() { 32 } else { 128 };
        IpNet { addr: ip, len }
    }

    /// True when the network is one address.
    pub fn is_host(&self) -> bool {
        self.len == if self.addr.is_ipv4() { 32 } else { 128 }
    }

    /// Text form: the address, plus `/len` for a network.
    pub fn text(&self) -> String {
        if self.is_host() {
            self.addr.to_string()
        } else {
            format!("{}/{}", self.addr, self.len)
        }
    }
}

/// One normalised indicator value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A host name (canonical form, see the module header).
    Domain(String),
    /// An address or network.
    Net(IpNet),
    /// A URL key (see [`url_key`]).
    Url(String),
    /// A lowercase e-mail address.
    Email(String),
    /// A lowercase JA4 fingerprint.
    Ja4(String),
}

/// Why a value is not an indicator; the message never quotes the value.
pub type Invalid = &'static str;

/// Parses `a.b.c.d`, an IPv6 address, or either with `/len`; host bits are cleared.
pub fn parse_net(s: &str) -> Option<IpNet> {
    match s.split_once('/') {
        None => s.parse::<IpAddr>().ok().map(IpNet::host),
        Some((ip, len)) => {
            if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            IpNet::new(ip.parse().ok()?, len.parse().ok()?)
        }
    }
}

/// Canonical form of a host name (see the module header).
pub fn domain(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let s = s.strip_suffix('.').unwrap_or(s);
    let s = s.strip_prefix("*.").unwrap_or(s);
    if s.is_empty() {
        return Err("empty host name");
    }
    if s.len() > MAX_NAME_LEN {
        return Err("host name longer than 253 characters");
    }
    if !s.is_ascii() {
        return Err("host name is not ASCII (write internationalised names in punycode)");
    }
    for label in s.split('.') {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err("host name has an empty label or one longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("host name holds a character other than letters, digits, '-', '_'");
        }
    }
    Ok(s.to_ascii_lowercase())
}

/// Classifies a value declared as a host name: an IP literal becomes an address, a value with
/// a path a URL, anything else must be a valid host name.
pub fn host_value(s: &str) -> Result<Value, Invalid> {
    let t = s.trim();
    if let Some(net) = parse_net(t) {
        return Ok(Value::Net(net));
    }
    if t.contains('/') {
        return url_key(t)
            .map(Value::Url)
            .ok_or("not a valid host name or URL");
    }
    domain(t).map(Value::Domain)
}

/// Classifies a value whose type is not declared (a line of a plain list): address or
/// network, URL, e-mail address, JA4 fingerprint, then host name.
pub fn any_value(s: &str) -> Result<Value, Invalid> {
    let t = s.trim();
    if let Some(net) = parse_net(t) {
        return Ok(Value::Net(net));
    }
    if t.contains('/') {
        return url_key(t).map(Value::Url).ok_or("not a valid URL");
    }
    if t.contains('@') {
        return email(t).map(Value::Email);
    }
    if let Some(j) = ja4(t) {
        return Ok(Value::Ja4(j));
    }
    domain(t)
        .map(Value::Domain)
        .map_err(|_| "not a host name, IP address, URL, e-mail address or JA4 fingerprint")
}

/// Canonical form of an e-mail address: `local@host`, lowercase; also accepts `<addr>` and
/// `mailto:addr`.
pub fn email(s: &str) -> Result<String, Invalid> {
    let t = s.trim();
    let t = t
        .strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(t);
    let t = t
        .strip_prefix("mailto:")
        .or_else(|| t.strip_prefix("MAILTO:"))
        .unwrap_or(t);
    if t.len() > MAX_EMAIL_LEN {
        return Err("e-mail address too long");
    }
    let (local, host) = t.rsplit_once('@').ok_or("not an e-mail address")?;
    if local.is_empty()
        || local.len() > 64
        || local
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err("not an e-mail address");
    }
    let host = domain(host).map_err(|_| "e-mail address with an invalid domain")?;
    Ok(format!("{}@{host}", local.to_lowercase()))
}

/// Canonical (lowercase) JA4 TLS client fingerprint, when `s` has JA4's shape:
/// `[tqd]` + version (2) + `[di]` + cipher count (2 digits) + extension count (2 digits) +
/// ALPN (2), then `_` + 12 hex + `_` + 12 hex.
pub fn ja4(s: &str) -> Option<String> {
    let b = s.trim().as_bytes();
    if b.len() != 36 {
        return None;
    }
    let (a, rest) = b.split_at(10);
    let ok_a = matches!(a.first()?.to_ascii_lowercase(), b't' | b'q' | b'd')
        && a.get(1..3)?.iter().all(u8::is_ascii_alphanumeric)
        && matches!(a.get(3)?.to_ascii_lowercase(), b'd' | b'i')
        && a.get(4..8)?.iter().all(u8::is_ascii_digit)
        && a.get(8..10)?.iter().all(u8::is_ascii_alphanumeric);
    let ok_rest = rest.first() == Some(&b'_')
        && rest.get(13) == Some(&b'_')
        && rest.get(1..13)?.iter().all(u8::is_ascii_hexdigit)
        && rest.get(14..26)?.iter().all(u8::is_ascii_hexdigit);
    (ok_a && ok_rest).then(|| String::from_utf8_lossy(b).to_ascii_lowercase())
}

/// The lookup key of a URL (see the module header); None when it has no valid host.
pub fn url_key(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() || t.len() > MAX_URL_LEN {
        return None;
    }
    let t = match t.find("://") {
        Some(i)
            if i > 0
                && t.get(..i)?
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b)) =>
        {
            t.get(i + 3..)?
        }
        _ => t,
    };
    let t = t.split('#').next().unwrap_or(t);
    let split = t.find(['/', '?']).unwrap_or(t.len());
    let (authority, rest) = t.split_at(split);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_port(authority)?;
    let host = if host.starts_with('[') {
        let inner = host.strip_prefix('[')?.strip_suffix(']')?;
        format!("[{}]", inner.parse::<Ipv6Addr>().ok()?)
    } else if let Ok(ip) = host.parse::<Ipv4Addr>() {
        ip.to_string()
    } else {
        domain(host).ok()?
    };
    let mut key = host;
    if let Some(p) = port.filter(|p| *p != "80" && *p != "443") {
        key.push(':');
        key.push_str(p);
    }
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = path.trim_end_matches('/');
    key.push('/');
    key.push_str(path.strip_prefix('/').unwrap_or(path));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        key.push('?');
        key.push_str(q);
    }
    Some(key)
}

/// Splits `host:port` (or `[v6]:port`); the port must be digits.
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let colon = if authority.starts_with('[') {
        let close = authority.find(']')?;
        match authority.get(close + 1..)? {
            "" => None,
            r if r.starts_with(':') => Some(close + 1),
            _ => return None,
        }
    } else {
        authority.rfind(':')
    };
    match colon {
        None => Some((authority, None)),
        Some(i) => {
            let port = authority.get(i + 1..)?;
            if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((authority.get(..i)?, Some(port)))
        }
    }
}

/// The keys a URL key matches, most specific first: the key itself, without its query, then
/// each shorter path at a `/` boundary down to the root (at most [`MAX_URL_SEGMENTS`]).
pub fn url_prefixes(key: &str) -> impl Iterator<Item = &str> {
    let no_query = key.split_once('?').map(|(p, _)| p);
    let host_end = key.find('/').unwrap_or(key.len());
    let path_key = no_query.unwrap_or(key);
    let mut next: Option<&str> = Some(path_key);
    let cuts = std::iter::from_fn(move || {
        let cur = next?;
        next = match cur.rfind('/') {
            // "host/a" → "host/" (the root), "host/a/b" → "host/a"; the root ends it.
            Some(i) if i > host_end => cur.get(..i),
            Some(i) if i == host_end && cur.len() > i + 1 => cur.get(..=i),
            _ => None,
        };
        Some(cur)
    });
    no_query
        .map(|_| key)
        .into_iter()
        .chain(cuts)
        .take(MAX_URL_SEGMENTS)
}
