//! Pattern detection of identifiers nobody configured, with real validators: a candidate is
//! reported only when its shape, check digit or table lookup, and where needed its key name,
//! all agree. Four linear passes over the bytes, none allocating:
//!
//! 1. digit runs: IMEI (15 digits, Luhn, GSMA reporting body unless keyed), IMEISV (16 digits
//!    under an IMEI key), ICCID (19–20 digits, `89`, Luhn), IMSI (15 digits whose MCC+MNC is in
//!    the table), E.164 phone (`+` and 8–15 digits, or 8–15 digits under a phone key), cell ids
//!    under a cell key, and decimal latitude/longitude under lat/lon keys (≥ 3 decimals, in
//!    range, reported as pairs);
//! 2. `aa:bb:cc:dd:ee:ff` / `aa-bb-…` MAC addresses of devices;
//! 3. e-mail addresses;
//! 4. `key=value` / `"key": "value"` pairs for values only a key makes meaningful: serial
//!    numbers, Android IDs (16 hex), bare 12-hex MACs, MEIDs (14 hex), advertising IDs (UUID).
//!
//! A digit run counts only when delimited: not part of a longer run, of an alphanumeric token
//! (hex digests, tokens) or of a dotted number (`12.0.3.0` version strings, decimals).

use super::keys::{key_before, key_before_sep, Key, KeyClass};
use super::validate::{all_same, device_mac, imei_body_ok, luhn_ok, MccTable};
use super::Identifier;

/// Latitudes and longitudes remembered per scan for pairing: bounds the pairing state.
const MAX_COORDS: usize = 8;

/// Farthest apart (bytes) a latitude and a longitude may be to make a pair.
const MAX_PAIR_DISTANCE: usize = 256;

/// Longest e-mail local part (RFC 5321) and domain looked at, in bytes.
const MAX_EMAIL_LOCAL: usize = 64;
const MAX_EMAIL_DOMAIN: usize = 253;

/// Serial numbers: shortest and longest accepted token.
const SERIAL_LEN: std::ops::RangeInclusive<usize> = 6..=32;

/// Top-level "domains" that are really file names (`icon@2x.png`), not e-mail addresses.
const FILE_EXTS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "svg", "ico", "bmp", "js", "css", "json", "xml", "html",
    "htm", "mp3", "mp4", "webm", "woff", "woff2", "ttf", "pdf", "zip", "apk",
];

/// What a pass reports: the identifier, its value as seen, and the key name next to it.
pub(crate) type Emit<'e> = dyn FnMut(Identifier, &str, Option<&str>) + 'e;

/// Runs every pass over `b`.
pub(crate) fn find(b: &[u8], mcc: &MccTable, emit: &mut Emit<'_>) {
    digit_runs(b, mcc, emit);
    separated_macs(b, emit);
    emails(b, emit);
    keyed_values(b, emit);
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(b' ')
}

fn before(b: &[u8], i: usize, back: usize) -> u8 {
    i.checked_sub(back).map_or(b' ', |j| at(b, j))
}

fn text(b: &[u8], s: usize, e: usize) -> &str {
    b.get(s..e)
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or("")
}

fn key_text<'a>(b: &'a [u8], k: Option<&Key>) -> Option<&'a str> {
    k.map(|k| text(b, k.start, k.end)).filter(|s| !s.is_empty())
}

/// A coordinate candidate: value span and key span.
type Coord = (usize, usize, Key);

/// Pass 1: digit runs and decimals.
fn digit_runs(b: &[u8], mcc: &MccTable, emit: &mut Emit<'_>) {
    let mut lats: [Option<Coord>; MAX_COORDS] = [None; MAX_COORDS];
    let mut lons: [Option<Coord>; MAX_COORDS] = [None; MAX_COORDS];
    let (mut nlat, mut nlon) = (0, 0);
    let mut i = 0;
    while i < b.len() {
        if !at(b, i).is_ascii_digit() {
            i += 1;
            continue;
        }
        let s = i;
        while at(b, i).is_ascii_digit() {
            i += 1;
        }
        let e = i;
        let dotted_before = before(b, s, 1) == b'.' && before(b, s, 2).is_ascii_digit();
        if at(b, e) == b'.' && at(b, e + 1).is_ascii_digit() {
            // A decimal or a dotted version: skip all its parts; only a lone decimal under a
            // lat/lon key is a candidate.
            i = e + 1;
            while at(b, i).is_ascii_digit() {
                i += 1;
            }
            let frac_end = i;
            let dotted_after = at(b, i) == b'.' && at(b, i + 1).is_ascii_digit();
            let lone = !(dotted_before || dotted_after);
            while (at(b, i) == b'.' && at(b, i + 1).is_ascii_digit()) || at(b, i).is_ascii_digit() {
                i += 1;
            }
            if lone && frac_end - e > 3 && !at(b, frac_end).is_ascii_alphabetic() {
                let vs = if before(b, s, 1) == b'-' { s - 1 } else { s };
                let coord = key_before(b, vs);
                if let (Some(k), Some(v)) = (coord, text(b, vs, frac_end).parse::<f64>().ok()) {
                    match k.class {
                        Some(KeyClass::Lat) if v.abs() <= 90.0 && nlat < MAX_COORDS => {
                            lats[nlat] = Some((vs, frac_end, k));
                            nlat += 1;
                        }
                        Some(KeyClass::Lon) if v.abs() <= 180.0 && nlon < MAX_COORDS => {
                            lons[nlon] = Some((vs, frac_end, k));
                            nlon += 1;
                        }
                        _ => {}
                    }
                }
            }
            continue;
        }
        let (p, n) = (before(b, s, 1), at(b, e));
        if dotted_before || p.is_ascii_alphabetic() || n.is_ascii_alphabetic() {
            continue;
        }
        digit_run(b, s, e, mcc, emit);
    }
    for (lat, lon) in lats.iter().zip(lons.iter()) {
        if let (Some((ls, le, lk)), Some((os, oe, _))) = (lat, lon) {
            if ls.abs_diff(*os) > MAX_PAIR_DISTANCE {
                continue;
            }
            let pair = format!("{},{}", text(b, *ls, *le), text(b, *os, *oe));
            emit(Identifier::Location, &pair, key_text(b, Some(lk)));
        }
    }
}

/// Classifies one delimited digit run `b[s..e]`.
fn digit_run(b: &[u8], s: usize, e: usize, mcc: &MccTable, emit: &mut Emit<'_>) {
    let d = b.get(s..e).unwrap_or(&[]);
    let plus = before(b, s, 1) == b'+' && !before(b, s, 2).is_ascii_alphanumeric();
    let key = key_before(b, if plus { s - 1 } else { s });
    let class = key.and_then(|k| k.class);
    let k = key_text(b, key.as_ref());
    let v = text(b, s, e);
    let n = d.len();
    if all_same(d) {
        return;
    }
    if plus && (8..=15).contains(&n) && d.first() != Some(&b'0') {
        emit(Identifier::Phone, text(b, s - 1, e), k);
        return;
    }
    match (n, class) {
        (15, Some(KeyClass::Imsi)) if mcc.knows_prefix(d) => emit(Identifier::Imsi, v, k),
        (15, Some(KeyClass::Imei | KeyClass::Device)) if luhn_ok(d) => emit(Identifier::Imei, v, k),
        (15, None) if luhn_ok(d) && imei_body_ok(d) => emit(Identifier::Imei, v, k),
        (15, None) if mcc.knows_prefix(d) => emit(Identifier::Imsi, v, k),
        (16, Some(KeyClass::Imei)) => emit(Identifier::Imei, v, k),
        (19 | 20, None | Some(KeyClass::Iccid)) if d.starts_with(b"89") && luhn_ok(d) => {
            emit(Identifier::Iccid, v, k)
        }
        (8..=15, Some(KeyClass::Phone)) => emit(Identifier::Phone, v, k),
        (2..=10, Some(KeyClass::Cell)) => emit(Identifier::Location, v, k),
        _ => {}
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// Pass 2: `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff`, delimited on both sides.
fn separated_macs(b: &[u8], emit: &mut Emit<'_>) {
    let mut i = 2;
    while i < b.len() {
        let sep = at(b, i);
        if !matches!(sep, b':' | b'-') {
            i += 1;
            continue;
        }
        let s = i - 2;
        let shape = (0..17).all(|j| {
            let c = at(b, s + j);
            if j % 3 == 2 {
                c == sep
            } else {
                is_hex(c)
            }
        });
        let edge = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b':' | b'-' | b'.');
        if !shape || edge(before(b, s, 1)) || edge(at(b, s + 17)) {
            i += 1;
            continue;
        }
        let mut hex12 = [0u8; 12];
        for (j, h) in hex12.iter_mut().enumerate() {
            *h = at(b, s + j / 2 * 3 + j % 2);
        }
        if device_mac(&hex12).is_some() {
            let key = key_before(b, s);
            emit(
                Identifier::Mac,
                text(b, s, s + 17),
                key_text(b, key.as_ref()),
            );
        }
        i = s + 17;
    }
}

/// Pass 3: e-mail addresses around each `@`.
fn emails(b: &[u8], emit: &mut Emit<'_>) {
    let local_byte =
        |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-');
    let domain_byte = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-');
    for (at_pos, _) in b.iter().enumerate().filter(|(_, &c)| c == b'@') {
        let mut s = at_pos;
        while s > 0 && at_pos - s < MAX_EMAIL_LOCAL && local_byte(before(b, s, 1)) {
            s -= 1;
        }
        let mut e = at_pos + 1;
        while e - at_pos <= MAX_EMAIL_DOMAIN && domain_byte(at(b, e)) {
            e += 1;
        }
        while e > at_pos + 1 && matches!(before(b, e, 1), b'.' | b'-') {
            e -= 1; // a sentence's full stop is not part of the domain
        }
        let (local, domain) = (text(b, s, at_pos), text(b, at_pos + 1, e));
        // Stopped by the length bound, not a delimiter; or `//user@host` URL user info.
        let cut =
            local_byte(before(b, s, 1)) || (before(b, s, 1) == b'/' && before(b, s, 2) == b'/');
        let ok = !cut && email_ok(local, domain);
        if ok {
            let key = key_before(b, s);
            emit(Identifier::Email, text(b, s, e), key_text(b, key.as_ref()));
        }
    }
}

/// Shape checks of an e-mail address's two halves.
fn email_ok(local: &str, domain: &str) -> bool {
    let tld = domain.rsplit('.').next().unwrap_or("");
    if local.is_empty() || local.starts_with('.') || !domain.contains('.') {
        return false;
    }
    domain.split('.').all(|l| !l.is_empty())
        && (2..=24).contains(&tld.len())
        && tld.bytes().all(|c| c.is_ascii_alphabetic())
        && !FILE_EXTS.iter().any(|x| x.eq_ignore_ascii_case(tld))
}

/// Pass 4: values that only their key makes an identifier.
fn keyed_values(b: &[u8], emit: &mut Emit<'_>) {
    for (p, _) in b
        .iter()
        .enumerate()
        .filter(|(_, &c)| matches!(c, b'=' | b':' | b'>'))
    {
        let Some(key) = key_before_sep(b, p) else {
            continue;
        };
        let Some(class) = key.class else { continue };
        let mut s = p + 1;
        while s - p <= 4 && matches!(at(b, s), b' ' | b'"' | b'\'' | b'[') {
            s += 1;
        }
        let mut e = s;
        while e - s <= 40 && (at(b, e).is_ascii_alphanumeric() || at(b, e) == b'-') {
            e += 1;
        }
        let v = b.get(s..e).unwrap_or(&[]);
        if v.is_empty() || v.len() > 40 || all_same(v) {
            continue;
        }
        let hex = v.iter().all(|&c| is_hex(c));
        let k = key_text(b, Some(&key));
        let value = text(b, s, e);
        let id = match class {
            KeyClass::Serial if serial_ok(v) => Identifier::Serial,
            KeyClass::AndroidId | KeyClass::Device if hex && v.len() == 16 => Identifier::AndroidId,
            KeyClass::Mac if hex && device_mac(v).is_some() => Identifier::Mac,
            KeyClass::Imei if hex && v.len() == 14 => Identifier::Imei, // a CDMA MEID
            KeyClass::AdvertisingId if uuid_ok(v) => Identifier::AdvertisingId,
            _ => continue,
        };
        emit(id, value, k);
    }
}

fn serial_ok(v: &[u8]) -> bool {
    SERIAL_LEN.contains(&v.len())
        && v.iter().all(u8::is_ascii_alphanumeric)
        && v.iter().any(u8::is_ascii_digit)
        && !v.eq_ignore_ascii_case(b"0123456789ABCDEF")
}

/// 8-4-4-4-12 hex digits, not the all-zero UUID (an advertising ID the user opted out of).
fn uuid_ok(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                is_hex(c)
            }
        })
        && v.iter().any(|&c| is_hex(c) && c != b'0')
}
