//! Exodus network signatures, anchored to whole host-name labels.
//!
//! Exodus publishes each tracker's `network_signature` as a regex (alternatives joined with
//! `|`) and applies it unanchored (`re.search`) to host names and URLs, so `databerries\.com`
//! also hits `notdataberries.com.evil`. phonehome matches host names only, so every alternative
//! is anchored to label boundaries ([`anchor_alternative`]):
//! - start: `(?:^|\.)` — the match begins a label (`x.databerries.com` yes,
//!   `notdataberries.com` no). A leading `\.` (`\.facebook\.com`) already demands a label
//!   before it and is kept; a leading `.*` is dropped and a leading unescaped `.` (a common
//!   typo for `\.`, e.g. `.chartbeat\.com`) is read as `\.`;
//! - end: `$` — the match ends the host (`databerries.com.evil` no), unless the alternative
//!   itself is open-ended (`\.exacttarget\.`, `adservice\.google\..*`);
//! - a bare word with no dot (FidZup's `fidzup`) must be a whole label: `(?:^|\.)fidzup(?:\.|$)`;
//! - alternatives holding `/` or `:` are URLs (SilverPush's `54\.243\.73\.253:8080/SilverPush/`)
//!   and can never match a host name: they are dropped.

/// Splits a regex on `|` outside escapes, character classes and groups.
pub(crate) fn split_alternatives(sig: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut depth, mut in_class, mut escaped) = (0usize, 0usize, false, false);
    for (i, c) in sig.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            ']' if in_class => in_class = false,
            _ if in_class => {}
            '[' => in_class = true,
            '(' => depth = depth.saturating_add(1),
            ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => {
                out.extend(sig.get(start..i).filter(|a| !a.is_empty()));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.extend(sig.get(start..).filter(|a| !a.is_empty()));
    out
}

/// True when `alt` ends with an escaped `\.` (an odd run of backslashes before the dot).
fn ends_with_escaped_dot(alt: &str) -> bool {
    let Some(body) = alt.strip_suffix('.') else {
        return false;
    };
    let slashes = body.bytes().rev().take_while(|&b| b == b'\\').count();
    slashes % 2 == 1
}

/// One alternative anchored to label boundaries, or `None` when it cannot match a host name.
pub(crate) fn anchor_alternative(alt: &str) -> Option<String> {
    if alt.contains('/') || alt.contains(':') {
        return None;
    }
    let alt = alt.strip_prefix(".*").unwrap_or(alt);
    let (prefix, body) = if alt.starts_with("\\.") {
        ("", alt)
    } else if let Some(rest) = alt.strip_prefix('.') {
        ("\\.", rest)
    } else {
        ("(?:^|\\.)", alt)
    };
    let open_end = body.ends_with(".*") || ends_with_escaped_dot(body);
    let suffix = if open_end {
        ""
    } else if !body.contains('.') {
        "(?:\\.|$)"
    } else {
        "$"
    };
    if body.is_empty() {
        return None;
    }
    Some(format!("{prefix}{body}{suffix}"))
}

/// A whole signature as one anchored pattern, or `None` when no alternative is usable.
pub(crate) fn anchor_signature(sig: &str) -> Option<String> {
    let alts: Vec<String> = split_alternatives(sig)
        .into_iter()
        .filter_map(anchor_alternative)
        .collect();
    if alts.is_empty() {
        None
    } else {
        Some(format!("(?:{})", alts.join("|")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_escapes_classes_and_groups() {
        assert_eq!(
            split_alternatives(r"a\.com|b\|c|[x|y]|(p|q)|"),
            [r"a\.com", r"b\|c", "[x|y]", "(p|q)"]
        );
        assert!(split_alternatives("").is_empty());
    }

    #[test]
    fn anchoring_follows_label_boundaries() {
        let a = |s| anchor_alternative(s);
        assert_eq!(
            a(r"databerries\.com").as_deref(),
            Some(r"(?:^|\.)databerries\.com$")
        );
        assert_eq!(a(r"\.facebook\.com").as_deref(), Some(r"\.facebook\.com$"));
        assert_eq!(
            a(r".*\.estimote\.com").as_deref(),
            Some(r"\.estimote\.com$")
        );
        assert_eq!(a(r".chartbeat\.com").as_deref(), Some(r"\.chartbeat\.com$"));
        assert_eq!(a(r"\.exacttarget\.").as_deref(), Some(r"\.exacttarget\."));
        assert_eq!(
            a(r"adservice\.google\..*").as_deref(),
            Some(r"(?:^|\.)adservice\.google\..*")
        );
        assert_eq!(a("fidzup").as_deref(), Some(r"(?:^|\.)fidzup(?:\.|$)"));
        assert_eq!(a(r"54\.243\.73\.253:8080/SilverPush/"), None);
        assert_eq!(a(".*"), None);
        // `\\.` is an escaped backslash then any character: not an open end.
        assert!(!ends_with_escaped_dot(r"a\\."));
        assert!(ends_with_escaped_dot(r"a\\\."));
    }

    #[test]
    fn whole_signature_drops_url_alternatives() {
        assert_eq!(
            anchor_signature(r"54\.243\.73\.253:8080/SilverPush/|silverpush\.co").as_deref(),
            Some(r"(?:(?:^|\.)silverpush\.co$)")
        );
        assert_eq!(anchor_signature(r"http://x\.com/"), None);
    }
}
