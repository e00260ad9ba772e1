//! Parsing of `--since` values: relative durations (`90s`, `30m`, `1h`, `1d`, `2w`, and
//! combinations such as `1h30m`), RFC 3339 timestamps (`2024-05-01T12:00:00Z`), plain dates
//! (`2024-05-01`, midnight UTC) and epoch seconds (`1714564800`, optionally with up to six
//! decimals).
//!
//! Hand-rolled because the grammar is tiny and the result must be our [`Ts`]; RFC 3339 itself
//! is parsed by the `time` crate. All arithmetic is checked: an absurd value is an error,
//! never an overflow.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::event::{Ts, MICROS};

/// Longest accepted input: no legitimate value comes close, and it bounds the error text.
pub const MAX_SINCE_LEN: usize = 64;

/// Turns a `--since` value into an absolute time, durations counting back from `now`.
pub fn parse_since(s: &str, now: Ts) -> Result<Ts, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty --since value".into());
    }
    if s.len() > MAX_SINCE_LEN {
        return Err(format!(
            "--since value longer than {MAX_SINCE_LEN} characters"
        ));
    }
    let bad = || {
        format!(
            "cannot read --since {s:?}: expected a duration (90s, 30m, 1h, 1d, 2w, 1h30m), an \
             RFC 3339 time (2024-05-01T12:00:00Z), a date (2024-05-01) or epoch seconds"
        )
    };
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return epoch_seconds(s).ok_or_else(bad);
    }
    if s.bytes().next().is_some_and(|b| b.is_ascii_digit()) && s.get(4..5) == Some("-") {
        return timestamp(s).ok_or_else(bad);
    }
    let back = duration(s).ok_or_else(bad)?;
    now.checked_sub(back).ok_or_else(bad)
}

/// `1714564800` or `1714564800.25` → microseconds.
fn epoch_seconds(s: &str) -> Option<Ts> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || frac.len() > 6 || frac.contains('.') {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut micros: i64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        // Digits only: `s` passed the all-digits-or-dot check and the second dot is refused.
        let d = i64::from(b.checked_sub(b'0')?);
        micros += d * 10_i64.pow(5 - i as u32);
    }
    secs.checked_mul(MICROS)?.checked_add(micros)
}

/// RFC 3339 time or a bare date (midnight UTC) → microseconds.
fn timestamp(s: &str) -> Option<Ts> {
    let t = match OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => t,
        Err(_) => {
            let d = Date::parse(s, format_description!("[year]-[month]-[day]")).ok()?;
            d.midnight().assume_utc()
        }
    };
    i64::try_from(t.unix_timestamp_nanos() / 1000).ok()
}

/// `1h30m` → microseconds. Each part is digits then one unit letter.
fn duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            let n = num
                .unwrap_or(0)
                .checked_mul(10)?
                .checked_add(i64::from(d))?;
            num = Some(n);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        let part = num.take()?.checked_mul(unit)?.checked_mul(MICROS)?;
        total = total.checked_add(part)?;
    }
    // Trailing digits without a unit are ambiguous: refuse.
    if num.is_some() {
        return None;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Ts = 1_714_564_800 * MICROS; // 2024-05-01T12:00:00Z

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(parse_since("90s", NOW), Ok(NOW - 90 * MICROS));
        assert_eq!(parse_since("30m", NOW), Ok(NOW - 1800 * MICROS));
        assert_eq!(parse_since("1h", NOW), Ok(NOW - 3600 * MICROS));
        assert_eq!(parse_since("1d", NOW), Ok(NOW - 86_400 * MICROS));
        assert_eq!(parse_since("2w", NOW), Ok(NOW - 14 * 86_400 * MICROS));
        assert_eq!(parse_since("1h30m", NOW), Ok(NOW - 5400 * MICROS));
        assert_eq!(parse_since(" 1D2H ", NOW), Ok(NOW - 93_600 * MICROS));
    }

    #[test]
    fn absolute_times() {
        assert_eq!(parse_since("2024-05-01T12:00:00Z", 0), Ok(NOW));
        assert_eq!(
            parse_since("2024-05-01T14:00:00.123456+02:00", 0),
            Ok(NOW + 123_456)
        );
        assert_eq!(parse_since("2024-05-01", 0), Ok(NOW - 12 * 3600 * MICROS));
        assert_eq!(parse_since("1714564800", 0), Ok(NOW));
        assert_eq!(parse_since("1714564800.25", 0), Ok(NOW + 250_000));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for s in [
            "",
            "h",
            "1x",
            "1h30",
            "-1h",
            "1.2.3",
            "1.1234567",
            ".",
            "2024-13-01",
            "99999999999999999999s",
            "9223372036854775807w",
            "2024-05-01T25:00:00Z",
            "１h",
        ] {
            assert!(parse_since(s, NOW).is_err(), "{s:?} accepted");
        }
        assert!(parse_since(&"1h".repeat(40), NOW).is_err());
        // A bare number is epoch seconds, not a duration.
        assert_eq!(parse_since("1", NOW), Ok(MICROS));
    }

    #[test]
    fn far_past_durations_overflow_cleanly() {
        assert!(parse_since("100000000w", i64::MIN + 1).is_err());
    }
}
