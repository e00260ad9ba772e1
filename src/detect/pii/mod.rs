//! The personal-identifier scanner behind `pii_leak` alerts: finds IMEIs, IMSIs, ICCIDs,
//! serials, MACs, phone numbers, e-mail addresses, locations, Android IDs and advertising IDs in
//! cleartext bytes (HTTP URIs, headers and bodies, DNS names, raw payloads).
//!
//! Two detectors share each pass over the bytes:
//! - known identifiers (config `[[identifiers]]`), searched in every encoded form with ONE
//!   Aho-Corasick automaton ([`known`]);
//! - pattern detection with real validators and key names ([`patterns`], [`validate`],
//!   [`keys`]).
//!
//! What a server would decode is decoded first, within named bounds ([`decode`]): gzip/deflate
//! bodies, percent-encoded URIs and forms, wholly base64 bodies. A finding seen only after a
//! decoding carries that encoding (`urlencoded`, `base64`); one already seen in the raw bytes is
//! not reported twice.
//!
//! Invariants: pure (no I/O, no logging); never panics on any input; a [`Finding`] holds only
//! the masked value (`…` + last 4 characters), never the identifier; at most
//! [`MAX_FINDINGS_PER_CALL`] findings per call; no allocation per call beyond the findings and
//! the decode buffers.

mod decode;
mod keys;
mod known;
mod patterns;
mod validate;

pub use decode::{MAX_BASE64_BODY, MAX_INFLATED, MAX_INFLATE_INPUT, MIN_BASE64_BODY};
pub use known::{MAX_KNOWN, MAX_KNOWN_LEN, MIN_KNOWN_LEN};
pub use validate::mask;

use crate::decode::http::MAX_HEAD;
use crate::event::MacAddr;
use decode::{inflate, looks_like_form, percent_decode, whole_base64, Compression};

/// Findings kept per call: bounds the output for a payload stuffed with identifiers.
pub const MAX_FINDINGS_PER_CALL: usize = 64;

/// A kind of personal identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identifier {
    /// Handset identity (IMEI, IMEISV, CDMA MEID).
    Imei,
    /// Subscriber identity of the SIM.
    Imsi,
    /// SIM card serial number.
    Iccid,
    /// Device serial number.
    Serial,
    /// A device's (or its access point's) MAC address.
    Mac,
    /// E.164 phone number.
    Phone,
    /// E-mail address.
    Email,
    /// Latitude/longitude pair or cell identity.
    Location,
    /// Android's per-device `Settings.Secure.ANDROID_ID`.
    AndroidId,
    /// Google/Apple advertising ID.
    AdvertisingId,
}

impl Identifier {
    /// Every kind, in documentation order.
    pub const ALL: [Identifier; 10] = [
        Identifier::Imei,
        Identifier::Imsi,
        Identifier::Iccid,
        Identifier::Serial,
        Identifier::Mac,
        Identifier::Phone,
        Identifier::Email,
        Identifier::Location,
        Identifier::AndroidId,
        Identifier::AdvertisingId,
    ];

    /// The name in alerts and config (`imei`, …, `advertising_id`).
    pub fn as_str(self) -> &'static str {
        match self {
            Identifier::Imei => "imei",
            Identifier::Imsi => "imsi",
            Identifier::Iccid => "iccid",
            Identifier::Serial => "serial",
            Identifier::Mac => "mac",
            Identifier::Phone => "phone",
            Identifier::Email => "email",
            Identifier::Location => "location",
            Identifier::AndroidId => "android_id",
            Identifier::AdvertisingId => "advertising_id",
        }
    }

    /// The kind named `s` (as [`Identifier::as_str`] writes it), for config loading.
    pub fn parse(s: &str) -> Option<Identifier> {
        Identifier::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

/// How an identifier was written in the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Plain,
    Urlencoded,
    Base64,
    Hex,
    Md5,
    Sha1,
    Sha256,
}

impl Encoding {
    /// The name in alerts (`plain`, …, `sha256`).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Urlencoded => "urlencoded",
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Md5 => "md5",
            Encoding::Sha1 => "sha1",
            Encoding::Sha256 => "sha256",
        }
    }
}

/// Where in the traffic the bytes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// HTTP request target (path and query string).
    Uri,
    /// HTTP request header values.
    Header,
    /// HTTP request body.
    Body,
    /// A DNS query name.
    DnsName,
    /// A raw TCP/UDP payload of a flow that is not TLS/QUIC.
    Payload,
}

impl Place {
    /// Lowercase name for alert details.
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Uri => "uri",
            Place::Header => "header",
            Place::Body => "body",
            Place::DnsName => "dns_name",
            Place::Payload => "payload",
        }
    }
}

/// An identifier the user configured (`[[identifiers]] kind = "imei", value = "…", device =
/// "mac"`): found in any encoding and reported with `known = true`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownIdentifier {
    pub kind: Identifier,
    /// The value as the user wrote it (a MAC in any of `aa:bb:…`, `aa-bb-…`, `aabb…`).
    pub value: String,
    /// The device it belongs to, if the user said.
    pub device: Option<MacAddr>,
}

/// One identifier found in one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub identifier: Identifier,
    pub encoding: Encoding,
    /// True when it matched a configured identifier.
    pub known: bool,
    /// The value masked: `…` and its last 4 characters (e.g. `…7518`); for a known identifier,
    /// the last characters of the configured value (not of its hash).
    pub masked: String,
    /// The key name next to it (`imei`, `SIM1ICCID`, `X-Android-Id`), if any.
    pub key: Option<String>,
    pub place: Place,
    /// The configured device of a known identifier.
    pub device: Option<MacAddr>,
}

/// Why a scanner could not be built. Values are masked in every message.
#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    /// A configured value is too short, too long, or (for a MAC) unparseable.
    #[error("identifier {} {masked}: value must be {MIN_KNOWN_LEN}–{MAX_KNOWN_LEN} characters (a MAC as aa:bb:cc:dd:ee:ff)", kind.as_str())]
    BadValue { kind: Identifier, masked: String },
    /// More identifiers configured than the automaton is built for.
    #[error("more than {max} identifiers configured")]
    TooMany { max: usize },
    /// The automaton could not be built.
    #[error("cannot build the identifier automaton: {0}")]
    Automaton(String),
    /// The embedded MCC/MNC table is malformed (a build defect).
    #[error("MCC/MNC table line {line} is malformed")]
    MccTable { line: usize },
}

/// The scanner: built once from the configured identifiers, then shared by all scans.
#[derive(Clone, Debug)]
pub struct PiiScanner {
    known: known::Known,
    mcc: validate::MccTable,
}

impl PiiScanner {
    /// Compiles one automaton over every encoded form of every known identifier and loads the
    /// embedded MCC/MNC table.
    pub fn new(known: &[KnownIdentifier]) -> Result<PiiScanner, PiiError> {
        Ok(PiiScanner {
            known: known::Known::build(known)?,
            mcc: validate::MccTable::embedded()?,
        })
    }

    /// Scans `bytes` as they are (no decoding).
    pub fn scan(&self, place: Place, bytes: &[u8], out: &mut Vec<Finding>) {
        let base = out.len();
        self.layer(place, bytes, None, base, out);
    }

    /// Scans a DNS query name.
    pub fn scan_dns_name(&self, name: &str, out: &mut Vec<Finding>) {
        self.scan(Place::DnsName, name.as_bytes(), out);
    }

    /// Scans an HTTP request: the URI as sent and percent-decoded (`+` as a space in the query
    /// string), and the header values of `head` (the raw request head; its request line is
    /// skipped, the URI having been scanned).
    pub fn scan_http_request(&self, uri: &str, head: &[u8], out: &mut Vec<Finding>) {
        let base = out.len();
        let uri = uri.as_bytes();
        self.layer(Place::Uri, uri, None, base, out);
        let mut buf = Vec::new();
        let q = uri.iter().position(|&c| c == b'?').unwrap_or(uri.len());
        let (path, query) = uri.split_at(q);
        let mut changed = percent_decode(path, false, &mut buf);
        let mut tail = Vec::new();
        changed |= percent_decode(query, true, &mut tail);
        if changed {
            buf.extend_from_slice(&tail);
            self.layer(Place::Uri, &buf, Some(Encoding::Urlencoded), base, out);
        }
        let head = head.get(..MAX_HEAD).unwrap_or(head);
        let headers = head
            .iter()
            .position(|&c| c == b'\n')
            .and_then(|nl| head.get(nl + 1..))
            .unwrap_or(&[]);
        self.layer(Place::Header, headers, None, base, out);
        if percent_decode(headers, false, &mut buf) {
            self.layer(Place::Header, &buf, Some(Encoding::Urlencoded), base, out);
        }
    }

    /// Scans an HTTP request body as the server reads it: inflated when gzip/deflate (at most
    /// [`MAX_INFLATED`] bytes out of [`MAX_INFLATE_INPUT`] in), then as text (JSON keys count),
    /// percent-decoded when it holds escapes (`+` as a space for forms), and base64-decoded
    /// when it is wholly base64 (possibly gzip inside).
    pub fn scan_http_body(
        &self,
        body: &[u8],
        content_type: Option<&str>,
        content_encoding: Option<&str>,
        out: &mut Vec<Finding>,
    ) {
        let base = out.len();
        let mut inflated = Vec::new();
        let text = match Compression::detect(content_encoding, body) {
            Some(c) if inflate(c, body, &mut inflated) => inflated.as_slice(),
            _ => body.get(..MAX_INFLATED).unwrap_or(body),
        };
        self.layer(Place::Body, text, None, base, out);
        const FORM: &[u8] = b"application/x-www-form-urlencoded";
        let form = content_type.is_some_and(|ct| {
            ct.as_bytes()
                .windows(FORM.len())
                .any(|w| w.eq_ignore_ascii_case(FORM))
        }) || looks_like_form(text);
        let mut dec = Vec::new();
        if percent_decode(text, form, &mut dec) {
            self.layer(Place::Body, &dec, Some(Encoding::Urlencoded), base, out);
        }
        let mut scratch = Vec::new();
        if whole_base64(text, &mut scratch, &mut dec) {
            let mut inner = Vec::new();
            let decoded = match Compression::detect(None, &dec) {
                Some(c) if inflate(c, &dec, &mut inner) => inner.as_slice(),
                _ => dec.as_slice(),
            };
            self.layer(Place::Body, decoded, Some(Encoding::Base64), base, out);
        }
    }

    /// Byte ranges of the identifiers in `bytes` as they are (no decoding), for masking what
    /// the CLI prints: configured identifiers in any of their encoded forms, and pattern
    /// findings whose value is a slice of `bytes` (a location pair assembled from two fields
    /// is not). At most [`MAX_FINDINGS_PER_CALL`] ranges; they may overlap.
    pub fn spans(&self, bytes: &[u8], out: &mut Vec<std::ops::Range<usize>>) {
        let base = out.len();
        let full = |out: &Vec<std::ops::Range<usize>>| out.len() - base >= MAX_FINDINGS_PER_CALL;
        for (m, _) in self.known_matches(bytes) {
            if full(out) {
                return;
            }
            out.push(m.start()..m.end());
        }
        let start = bytes.as_ptr() as usize;
        patterns::find(bytes, &self.mcc, &mut |_, value, _| {
            // Pattern values borrow from `bytes` except assembled ones: locate by address.
            let at = (value.as_ptr() as usize).wrapping_sub(start);
            if at < bytes.len() && value.len() <= bytes.len() - at && !full(out) {
                out.push(at..at + value.len());
            }
        });
    }

    /// The configured identifiers' matches in `bytes`; a digit string counts only when no
    /// digit touches it (a known IMEI inside a longer number is not that IMEI).
    fn known_matches<'a>(
        &'a self,
        bytes: &'a [u8],
    ) -> impl Iterator<Item = (aho_corasick::Match, &'a known::PatternInfo)> + 'a {
        let digit = |i: Option<usize>| i.and_then(|i| bytes.get(i)).is_some_and(u8::is_ascii_digit);
        self.known
            .ac
            .iter()
            .flat_map(move |ac| ac.find_overlapping_iter(bytes))
            .filter_map(move |m| {
                let info = self.known.patterns.get(m.pattern().as_usize())?;
                let touching = digit(m.start().checked_sub(1)) || digit(Some(m.end()));
                (!(info.digits && touching)).then_some((m, info))
            })
    }

    /// One pass of both detectors over `bytes`. `wrap` is the encoding that produced `bytes`
    /// (None for bytes as sent): plain findings take it, and anything already found since
    /// `base` is not reported again.
    fn layer(
        &self,
        place: Place,
        bytes: &[u8],
        wrap: Option<Encoding>,
        base: usize,
        out: &mut Vec<Finding>,
    ) {
        let enc = |e: Encoding| match (e, wrap) {
            (Encoding::Plain, Some(w)) => w,
            (e, _) => e,
        };
        for (m, info) in self.known_matches(bytes) {
            let Some((kind, masked, device)) = self.known.ids.get(info.id) else {
                continue;
            };
            let key = keys::key_before(bytes, m.start())
                .and_then(|k| bytes.get(k.start..k.end))
                .and_then(|k| std::str::from_utf8(k).ok());
            let f = Finding {
                identifier: *kind,
                encoding: enc(info.encoding),
                known: true,
                masked: masked.clone(),
                key: key.map(str::to_string),
                place,
                device: *device,
            };
            push(out, base, f, wrap.is_some());
        }
        patterns::find(bytes, &self.mcc, &mut |identifier, value, key| {
            let f = Finding {
                identifier,
                encoding: enc(Encoding::Plain),
                known: false,
                masked: mask(value),
                key: key.map(str::to_string),
                place,
                device: None,
            };
            push(out, base, f, wrap.is_some());
        });
    }
}

/// Adds `f` unless the call already holds it: the same finding; for a decoded layer
/// (`any_encoding`) the same identifier in any encoding; for a pattern finding, a known
/// identifier of any device with the same kind and mask (the configured one is the better
/// report). A known identifier tied to one device does not hide the pattern finding: the
/// scanner does not know who sent the bytes, and for another device the pattern finding is
/// the report (the caller drops whichever does not apply, see [`dedup_for_device`]).
fn push(out: &mut Vec<Finding>, base: usize, f: Finding, any_encoding: bool) {
    let seen = out.get(base..).unwrap_or(&[]);
    if seen.len() >= MAX_FINDINGS_PER_CALL {
        return;
    }
    let dup = seen.iter().any(|g| {
        let same_id = g.identifier == f.identifier && g.masked == f.masked;
        (same_id && g.known && g.device.is_none() && !f.known)
            || (same_id
                && g.known == f.known
                && g.key == f.key
                && g.place == f.place
                && (any_encoding || g.encoding == f.encoding))
    });
    if !dup {
        out.push(f);
    }
}

/// Keeps the findings that concern `device`: drops known identifiers configured for another
/// device, then pattern findings that repeat a kept known identifier (same kind and mask).
pub fn dedup_for_device(findings: &mut Vec<Finding>, device: Option<MacAddr>) {
    findings.retain(|f| f.device.is_none() || f.device == device);
    let known: Vec<(Identifier, String)> = findings
        .iter()
        .filter(|f| f.known)
        .map(|f| (f.identifier, f.masked.clone()))
        .collect();
    findings.retain(|f| {
        f.known
            || !known
                .iter()
                .any(|(i, m)| *i == f.identifier && *m == f.masked)
    });
}
