//! Key names next to values: `imei=…` (query strings, forms), `"imei": "…"` (JSON),
//! `X-Imei: …` (headers), `<imei>…` (XML). A key raises confidence in a value and picks the
//! identifier an ambiguous value is (16 hex digits are an Android ID only under an Android-ID
//! key). Matching is on the key lower-cased with `_`, `-` and `.` removed, so `android_id`,
//! `androidId` and `ANDROID-ID` are one key; keys longer than [`MAX_KEY_LEN`] are ignored.
//! No allocation: keys are normalised into a stack buffer.

/// Longest key name looked at (bytes): bounds the backward walk from every value.
pub(crate) const MAX_KEY_LEN: usize = 48;

/// Spaces and quotes skipped between a key, its separator and its value.
const MAX_GAP: usize = 4;

/// What a key says its value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyClass {
    Imei,
    Imsi,
    Iccid,
    Serial,
    Mac,
    Phone,
    AndroidId,
    AdvertisingId,
    /// A generic device id (`deviceId`, `udid`): IMEI or Android ID, by the value's shape.
    Device,
    Lat,
    Lon,
    /// A cell identity (`cellId`, `lac`): the phone's location to within a cell.
    Cell,
}

/// A key found before a value: where it is in the scanned bytes, and its class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub start: usize,
    pub end: usize,
    pub class: Option<KeyClass>,
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn is_gap(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'[' | b']')
}

/// The key whose value starts at `value_start`, if the bytes before it read `key=`, `key:`,
/// `"key": "`, `key: ` or `<key>`.
pub(crate) fn key_before(b: &[u8], value_start: usize) -> Option<Key> {
    let mut i = value_start;
    let mut gap = 0;
    while i > 0 && gap < MAX_GAP && b.get(i - 1).copied().is_some_and(is_gap) {
        i -= 1;
        gap += 1;
    }
    let sep = *b.get(i.checked_sub(1)?)?;
    if !matches!(sep, b'=' | b':' | b'>') {
        return None;
    }
    key_before_sep(b, i - 1)
}

/// The key that ends just before the separator at `sep` (`=`, `:` or the `>` of an XML tag).
pub(crate) fn key_before_sep(b: &[u8], sep: usize) -> Option<Key> {
    let mut end = sep;
    let mut gap = 0;
    while end > 0 && gap < MAX_GAP && b.get(end - 1).copied().is_some_and(is_gap) {
        end -= 1;
        gap += 1;
    }
    let mut start = end;
    while start > 0
        && end - start < MAX_KEY_LEN
        && b.get(start - 1).copied().is_some_and(is_key_byte)
    {
        start -= 1;
    }
    if start == end || end - start >= MAX_KEY_LEN {
        return None;
    }
    if b.get(sep) == Some(&b'>') && (start == 0 || b.get(start - 1) != Some(&b'<')) {
        return None;
    }
    let class = b.get(start..end).and_then(classify);
    Some(Key { start, end, class })
}

/// Classifies a raw key name.
pub(crate) fn classify(raw: &[u8]) -> Option<KeyClass> {
    let mut buf = [0u8; MAX_KEY_LEN];
    let mut n = 0;
    for &c in raw {
        if matches!(c, b'_' | b'-' | b'.') {
            continue;
        }
        *buf.get_mut(n)? = c.to_ascii_lowercase();
        n += 1;
    }
    let k = buf.get(..n)?;
    let has = |w: &[u8]| k.windows(w.len()).any(|x| x == w);
    let is = |ws: &[&[u8]]| ws.contains(&k);
    use KeyClass::*;
    let class = if has(b"imei") || has(b"meid") {
        Imei
    } else if has(b"imsi") || has(b"subscriberid") {
        Imsi
    } else if has(b"iccid") || has(b"simserial") {
        Iccid
    } else if has(b"serialno")
        || has(b"serialnumber")
        || k.ends_with(b"serial")
        || is(&[b"sn", b"devsn", b"devicesn"])
    {
        Serial
    } else if has(b"macaddr") || has(b"macid") || has(b"bssid") || k.ends_with(b"mac") {
        Mac
    } else if has(b"msisdn")
        || has(b"phonenumber")
        || has(b"phoneno")
        || has(b"mobileno")
        || has(b"mobilenumber")
        || is(&[b"phone", b"tel", b"mobile"])
    {
        Phone
    } else if has(b"androidid") || is(&[b"ssaid"]) {
        AndroidId
    } else if has(b"advertisingid")
        || has(b"idfa")
        || is(&[
            b"adid",
            b"gaid",
            b"aaid",
            b"oaid",
            b"adsid",
            b"googleadid",
            b"ifa",
        ])
    {
        AdvertisingId
    } else if has(b"deviceid") || is(&[b"udid", b"did", b"devid"]) {
        Device
    } else if k.ends_with(b"latitude") || is(&[b"lat", b"gpslat"]) {
        Lat
    } else if k.ends_with(b"longitude") || is(&[b"lon", b"lng", b"long", b"gpslon", b"gpslng"]) {
        Lon
    } else if has(b"cellid") || has(b"cellidentity") || is(&[b"lac", b"ecgi"]) {
        Cell
    } else {
        return None;
    };
    Some(class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_at(s: &str, value: &str) -> Option<(String, Option<KeyClass>)> {
        let at = s.find(value)?;
        let k = key_before(s.as_bytes(), at)?;
        Some((s[k.start..k.end].to_string(), k.class))
    }

    #[test]
    fn key_shapes() {
        use KeyClass::*;
        assert_eq!(
            key_at("a=1&imei=35", "35"),
            Some(("imei".into(), Some(Imei)))
        );
        assert_eq!(
            key_at(r#"{"SIM1ICCID": "89"}"#, "89"),
            Some(("SIM1ICCID".into(), Some(Iccid)))
        );
        assert_eq!(
            key_at("X-Android-Id: ab", "ab"),
            Some(("X-Android-Id".into(), Some(AndroidId)))
        );
        assert_eq!(
            key_at("<ro.serialno>ZX1", "ZX1"),
            Some(("ro.serialno".into(), Some(Serial)))
        );
        assert_eq!(key_at("&bssid=02", "02"), Some(("bssid".into(), Some(Mac))));
        assert_eq!(key_at("platform=48", "48"), Some(("platform".into(), None)));
        assert_eq!(key_at("a 48", "48"), None);
        assert_eq!(key_at("tag>48", "48"), None);
        assert_eq!(classify(b"timestamp"), None);
        assert_eq!(classify(b"machine"), None);
        assert_eq!(classify(b"SIM1CELLID"), Some(Cell));
        assert_eq!(classify(b"MACID"), Some(Mac));
    }
}
