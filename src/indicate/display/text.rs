//! Text fitting for the 128-pixel-wide OLED: whole-word truncation with an ellipsis, domains
//! shortened by their leading labels, compact numbers and ages.
//!
//! Invariants: every function returns at most the number of characters (not bytes) it is
//! given, counting the ellipsis as one character; no function panics on any `&str`. A
//! word is cut in the middle only when the first word alone is wider than the whole line
//! (showing nothing would be worse), and then the ellipsis says so.

use std::borrow::Cow;

/// Drawn by the page renderer as three dots in one character cell: the display's fonts are
/// ISO 8859-1 and have no `…` glyph.
pub const ELLIPSIS: char = '…';

/// True for characters after which a line may be broken: spaces, and the separators that
/// join the parts of device names and domains (`Galaxy-S23`, `my_phone`, `a.b/c`).
fn is_break_after(c: char) -> bool {
    matches!(c, '-' | '_' | '.' | '/' | ',' | ':')
}

/// Fits `text` into `max` characters: unchanged when it fits, otherwise the longest prefix
/// ending at a word boundary followed by [`ELLIPSIS`] (trailing spaces dropped).
pub fn fit_words(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().count() <= max {
        return Cow::Borrowed(text);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let room = max - 1; // one cell for the ellipsis
                        // Byte index after which the text may end, the last one that still fits in `room`.
    let mut best = None;
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n >= room {
            // The character at `n` would not fit: a break before it is still allowed.
            if c.is_whitespace() {
                best = Some(i);
            }
            break;
        }
        if c.is_whitespace() {
            best = Some(i);
        } else if is_break_after(c) {
            best = Some(i + c.len_utf8());
        }
    }
    let end = match best {
        Some(e) if !text.get(..e).unwrap_or("").trim_end().is_empty() => e,
        // First word alone is wider than the line: a hard cut, flagged by the ellipsis.
        _ => text.char_indices().nth(room).map_or(text.len(), |(i, _)| i),
    };
    let kept = text.get(..end).unwrap_or("").trim_end();
    Cow::Owned(format!("{kept}{ELLIPSIS}"))
}

/// Fits a domain (or address) into `max` characters by dropping whole leading labels:
/// `…facebook.com` keeps what says who the destination is. Falls back to [`fit_words`]
/// when not even the last label fits.
pub fn fit_domain(domain: &str, max: usize) -> Cow<'_, str> {
    let len = domain.chars().count();
    if len <= max {
        return Cow::Borrowed(domain);
    }
    // Suffixes that start right after a dot, longest first.
    for (i, c) in domain.char_indices() {
        if c != '.' {
            continue;
        }
        let rest = domain.get(i..).unwrap_or("");
        if rest.chars().count() < max {
            return Cow::Owned(format!("{ELLIPSIS}{}", rest.trim_start_matches('.')));
        }
    }
    fit_words(domain, max)
}

/// Joins a left part and a right part on one line of `width`
/// characters, the right part flush right; the left part is fitted by words into the room
/// left after the right part and one space.
pub fn left_right(left: &str, right: &str, width: usize) -> String {
    let rlen = right.chars().count();
    let room = width.saturating_sub(rlen).saturating_sub(1);
    let l = fit_words(left, room);
    let pad = width.saturating_sub(rlen).saturating_sub(l.chars().count());
    format!("{l}{:pad$}{right}", "")
}

/// A count in at most four characters: `999`, `12k`, `3.4M`.
pub fn compact(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1_000),
        1_000_000..=9_999_999 => format!("{}.{}M", n / 1_000_000, n / 100_000 % 10),
        10_000_000..=999_999_999 => format!("{}M", n / 1_000_000),
        _ => format!("{}G", (n / 1_000_000_000).min(999)),
    }
}

/// A duration in seconds as its two largest units: `45s`, `12m`, `3h07m`, `2d04h`.
pub fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3_599 => format!("{m}m"),
        3_600..=86_399 => format!("{h}h{m:02}m"),
        _ => format!("{}d{h:02}h", d.min(9_999)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_unchanged() {
        assert_eq!(fit_words("Pixel 7", 21), "Pixel 7");
        assert_eq!(fit_words("", 3), "");
    }

    #[test]
    fn cuts_at_words() {
        assert_eq!(
            fit_words("Samsung Galaxy S23 Ultra de Jean", 21),
            "Samsung Galaxy S23…"
        );
        assert_eq!(fit_words("Galaxy-S23-Ultra-de-Jean", 12), "Galaxy-S23-…");
        assert_eq!(fit_words("ab cd", 4), "ab…");
        assert_eq!(fit_words("ab cd", 0), "");
    }

    #[test]
    fn hard_cut_only_for_a_single_long_word() {
        assert_eq!(fit_words("abcdefghij", 5), "abcd…");
        assert_eq!(fit_words("ééééé", 3), "éé…");
    }

    #[test]
    fn domains_lose_leading_labels() {
        assert_eq!(fit_domain("graph.facebook.com", 21), "graph.facebook.com");
        assert_eq!(
            fit_domain("app-measurement.googleapis.com", 21),
            "…googleapis.com"
        );
        assert_eq!(fit_domain("x.verylongsecondleveldomainname", 10), "x.…");
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(compact(9_999), "9999");
        assert_eq!(compact(12_345), "12k");
        assert_eq!(compact(3_456_789), "3.4M");
        assert_eq!(compact(u64::MAX), "999G");
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(3_600 * 3 + 420), "3h07m");
        assert_eq!(duration(86_400 * 2 + 3_600 * 4), "2d04h");
        assert_eq!(duration(u64::MAX), "9999d07h");
        assert_eq!(left_right("Pixel 7 de Marie", "12m", 12), "Pixel 7… 12m");
    }
}
