//! `@name@` placeholder substitution for the templates in `hostapd/`.
//!
//! Hand-rolled rather than a template engine: the formats (hostapd, systemd-networkd, dnsmasq,
//! nftables) each have their own quoting, which the caller applies to the values before filling
//! them in; an engine would add a dependency and HTML-style escaping that fits none of them.
//! Invariants: one pass, so a value is never scanned for placeholders (an SSID such as
//! `@passphrase@` stays literal); an unknown `@name@` is left as written (a test checks that
//! every template is filled completely); a line that holds only a placeholder whose value is
//! empty is dropped, which is how optional lines are expressed.

/// Longest placeholder name looked for: bounds the scan after an `@` that opens none.
const MAX_NAME_LEN: usize = 32;

/// Fills `template` with `values` (`name` → value, names without the `@`).
pub(super) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let lookup = |name: &str| values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let mut out = String::with_capacity(template.len().saturating_add(256));
    for line in template.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let sole = body
            .strip_prefix('@')
            .and_then(|r| r.strip_suffix('@'))
            .and_then(lookup);
        if sole == Some("") {
            continue;
        }
        fill_line(line, &lookup, &mut out);
    }
    out
}

fn fill_line<'v>(line: &str, lookup: &impl Fn(&str) -> Option<&'v str>, out: &mut String) {
    let mut rest = line;
    while let Some(at) = rest.find('@') {
        let (before, from_at) = rest.split_at(at);
        out.push_str(before);
        let after = from_at.get(1..).unwrap_or_default();
        let name_end = after
            .find('@')
            .filter(|&n| n <= MAX_NAME_LEN && is_name(after.get(..n).unwrap_or_default()));
        match name_end.and_then(|n| Some((n, lookup(after.get(..n)?)?))) {
            Some((n, value)) => {
                out.push_str(value);
                rest = after.get(n.saturating_add(1)..).unwrap_or_default();
            }
            None => {
                out.push('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn substitutes_in_one_pass() {
        let t = "a=@a@\nb=@b@ @a@ @w80211@\n";
        let values = [("a", "@b@"), ("b", "2"), ("w80211", "w")];
        assert_eq!(fill(t, &values), "a=@b@\nb=2 @b@ w\n");
    }

    #[test]
    fn drops_lines_of_an_empty_sole_placeholder() {
        let t = "x\n@opt@\ny=@opt@\n@keep@\nz";
        assert_eq!(fill(t, &[("opt", ""), ("keep", "k=1")]), "x\ny=\nk=1\nz");
    }

    #[test]
    fn leaves_unknown_names_and_stray_at_signs() {
        let t = "mail me@example.org @nope@ @ @@ @a@@";
        assert_eq!(fill(t, &[("a", "1")]), "mail me@example.org @nope@ @ @@ 1@");
    }
}
