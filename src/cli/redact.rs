//! Masks the personal identifiers the read commands would print: the device stores the very
//! identifiers it detects (an IMEI in a logged URI, an e-mail address in a DNS name), so
//! `dns`, `http` and the other listings show them as `…` and their last 4 characters unless
//! `--reveal` is given. The same scanner as the `pii_leak` detector finds them (validated
//! IMEIs, IMSIs, ICCIDs, MACs, e-mail addresses, phone numbers, keyed IDs, and the configured
//! identifiers in every encoding); fields that never hold one (addresses, ports, fingerprints)
//! are left alone.

use std::ops::Range;

use serde_json::Value;

use crate::detect::pii::{mask, PiiScanner};
use crate::store::{Kind, Row};

/// Text fields that can carry an identifier, per record kind. Alerts are masked when raised.
fn masked_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Dns => &["qname", "qname_wire"],
        Kind::Http => &["host", "uri", "referrer", "user_agent"],
        Kind::Tls => &["sni"],
        Kind::Flows => &["domain"],
        Kind::Dhcp | Kind::Devices | Kind::Alerts => &[],
    }
}

/// The scanner and a reusable span buffer.
pub(super) struct Redactor {
    scanner: PiiScanner,
    spans: Vec<Range<usize>>,
}

impl Redactor {
    /// A redactor finding the same identifiers as the detectors, `[[identifiers]]` included.
    pub(super) fn new(scanner: PiiScanner) -> Redactor {
        Redactor {
            scanner,
            spans: Vec::new(),
        }
    }

    /// The redactor for `cfg`'s identifiers, or None with `--reveal`.
    pub(super) fn unless_revealed(
        cfg: &crate::config::Config,
        reveal: bool,
    ) -> anyhow::Result<Option<Redactor>> {
        if reveal {
            return Ok(None);
        }
        Ok(Some(Redactor::new(crate::detect::setup::pii_scanner(
            &cfg.detect,
        )?)))
    }

    /// `text` with every identifier masked, or None when it holds none.
    pub(super) fn text(&mut self, text: &str) -> Option<String> {
        self.spans.clear();
        self.scanner.spans(text.as_bytes(), &mut self.spans);
        if self.spans.is_empty() {
            return None;
        }
        self.spans
            .sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for r in &self.spans {
            if r.start < at {
                // Inside (or overlapping) a span already masked: mask through its end.
                if r.end > at {
                    at = r.end;
                }
                continue;
            }
            // Spans come from byte patterns: keep only those on character boundaries.
            let (Some(before), Some(value)) = (text.get(at..r.start), text.get(r.clone())) else {
                continue;
            };
            out.push_str(before);
            out.push_str(&mask(value));
            at = r.end;
        }
        out.push_str(text.get(at..).unwrap_or(""));
        Some(out)
    }

    /// Masks the fields of `row` (a record of `kind`) that can carry an identifier.
    pub(super) fn row(&mut self, kind: Kind, row: &mut Row) {
        for (name, value) in &mut row.0 {
            if !masked_fields(kind).contains(name) {
                continue;
            }
            if let Value::String(s) = value {
                if let Some(m) = self.text(s) {
                    *s = m;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::pii::{Identifier, KnownIdentifier};

    fn redactor(known: &[KnownIdentifier]) -> Redactor {
        Redactor::new(PiiScanner::new(known).unwrap())
    }

    #[test]
    fn masks_identifiers_and_keeps_the_rest() {
        let mut r = redactor(&[]);
        assert_eq!(
            r.text("/reg?imei=490154203237518&v=2").as_deref(),
            Some("/reg?imei=…7518&v=2")
        );
        assert_eq!(
            r.text("/u?email=anna@example.org&x=1").as_deref(),
            Some("/u?email=….org&x=1")
        );
        assert_eq!(r.text("/index.html?page=2"), None);
        assert_eq!(r.text("www.example.com"), None);
    }

    #[test]
    fn masks_configured_identifiers_in_their_encodings() {
        let known = [KnownIdentifier {
            kind: Identifier::Imei,
            value: "490154203237518".into(),
            device: None,
        }];
        let mut r = redactor(&known);
        // md5("490154203237518") as a configured identifier's hashed form.
        let md5 = {
            use md5::Digest as _;
            hex::encode(md5::Md5::digest(b"490154203237518"))
        };
        let uri = format!("/t?d={md5}");
        let masked = r.text(&uri).expect("hash masked");
        assert!(!masked.contains(&md5), "{masked}");
        assert!(masked.starts_with("/t?d=…"), "{masked}");
    }

    #[test]
    fn masks_a_row_in_place() {
        let mut r = redactor(&[]);
        let mut row = Row(vec![
            (
                "qname",
                Value::String("490154203237518.imei.example.net".into()),
            ),
            ("client_ip", Value::String("192.168.8.23".into())),
        ]);
        r.row(Kind::Dns, &mut row);
        assert_eq!(
            row.get("qname"),
            Some(&Value::String("…7518.imei.example.net".into()))
        );
        assert_eq!(
            row.get("client_ip"),
            Some(&Value::String("192.168.8.23".into()))
        );
    }
}
