//! Readers for tracker data: the embedded `data/trackers.tsv` and user host lists.
//!
//! User lists (`[trackers] paths`) may be hosts files (`0.0.0.0 host…`, `127.0.0.1 host…`,
//! `::1 host`), or plain lists with one domain a line; `#` starts a comment; `*.` before a
//! domain is accepted (a listed domain matches its subdomains anyway). The label of a host is
//! the AdAway-style `# [group]` comment above it, else the file's stem. Localhost entries
//! and IP literals in the address column's place are skipped, as every hosts dialect carries
//! them. Any other line that is not a valid host name is an error naming file and line.

use std::path::Path;

/// Longest host name accepted (RFC 1035: 253 characters without the trailing dot).
pub const MAX_HOST_LEN: usize = 253;

/// Longest label (group or tracker name) kept, in bytes; bounds label memory per entry.
pub const MAX_LABEL_LEN: usize = 200;

/// One entry read from a list, borrowed from the text it was read from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// An Exodus network signature (embedded table only).
    Signature {
        label: &'a str,
        source: &'a str,
        regex: &'a str,
    },
    /// A host name; it also stands for its subdomains.
    Host {
        label: &'a str,
        source: &'a str,
        host: &'a str,
    },
}

/// True for a syntactically valid lower-case host name with at least two labels.
pub(crate) fn is_host(h: &str) -> bool {
    h.len() <= MAX_HOST_LEN
        && h.contains('.')
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
}

/// Parses the embedded table: `KIND<TAB>SOURCE<TAB>LABEL<TAB>VALUE` rows, `#` comments.
pub(crate) fn parse_tsv(text: &str) -> Result<Vec<Entry<'_>>, (usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut f = line.split('\t');
        let (Some(kind), Some(source), Some(label), Some(value), None) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            return Err((lineno, "expected 4 tab-separated fields".into()));
        };
        if label.is_empty() || label.len() > MAX_LABEL_LEN || source.is_empty() {
            return Err((lineno, "empty or over-long label or source".into()));
        }
        out.push(match kind {
            "sig" => Entry::Signature {
                label,
                source,
                regex: value,
            },
            "host" if is_host(value) => Entry::Host {
                label,
                source,
                host: value,
            },
            "host" => return Err((lineno, "not a lower-case host name".into())),
            _ => return Err((lineno, format!("unknown kind {kind:?}"))),
        });
    }
    Ok(out)
}

/// Parses a user hosts file or plain domain list, calling `each(label, lower_case_host)` per
/// entry; an error from `each` (a limit) stops the parse and gets the line number.
pub(crate) fn parse_hosts<'a>(
    text: &'a str,
    default_label: &'a str,
    mut each: impl FnMut(&'a str, &str) -> Result<(), String>,
) -> Result<(), (usize, String)> {
    let mut label: &str = default_label;
    for (n, raw) in text.lines().enumerate() {
        let lineno = n + 1;
        let line = raw.trim();
        if let Some(comment) = line.strip_prefix('#') {
            let c = comment.trim();
            if let Some(group) = c.strip_prefix('[').and_then(|g| g.strip_suffix(']')) {
                if !group.is_empty() && group.len() <= MAX_LABEL_LEN && !group.contains('\t') {
                    label = group;
                }
            }
            continue;
        }
        let data = line.split('#').next().unwrap_or("").trim();
        if data.is_empty() {
            continue;
        }
        let tokens: Vec<&str> = data.split_whitespace().collect();
        let Some(&first) = tokens.first() else {
            continue;
        };
        // A hosts line starts with an address: IPv4, IPv6, or a zoned one (`fe80::1%lo0`).
        let is_addr = first.parse::<std::net::IpAddr>().is_ok() || first.contains(':');
        let hosts: &[&str] = if is_addr {
            tokens.get(1..).unwrap_or(&[])
        } else if tokens.len() == 1 {
            &tokens[..]
        } else {
            return Err((lineno, "expected `ADDRESS HOST…` or one domain".into()));
        };
        for &h in hosts {
            let h = h.strip_prefix("*.").unwrap_or(h).trim_end_matches('.');
            let lower = h.to_ascii_lowercase();
            if is_addr
                && (crate::intel::HOSTS_LOCAL_NAMES.contains(&lower.as_str())
                    || h.parse::<std::net::IpAddr>().is_ok())
            {
                continue;
            }
            if !is_host(&lower) {
                let shown: String = h.chars().take(80).collect();
                return Err((lineno, format!("not a host name: {shown:?}")));
            }
            each(label, &lower).map_err(|e| (lineno, e))?;
        }
    }
    Ok(())
}

/// The label for entries of `path` with no `# [group]` above them: the file stem.
pub(crate) fn file_label(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem.is_empty() {
        "trackers".to_owned()
    } else {
        stem.chars().take(MAX_LABEL_LEN / 4).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
        let mut got = Vec::new();
        parse_hosts(text, "mylist", |l, h| {
            got.push((l.to_owned(), h.to_owned()));
            Ok(())
        })?;
        Ok(got)
    }

    #[test]
    fn hosts_dialects_and_groups() {
        let text = "# header\n127.0.0.1  localhost\n::1  localhost\nfe80::1%lo0 localhost\n\
                    0.0.0.0 0.0.0.0\n\n# [163.com]\n127.0.0.1 Analytics.163.com crash.163.com # c\n\
                    # Facebook\nA-Graph.Facebook.com.\n*.tracker.example\n";
        let got = hosts(text).unwrap();
        let want = [
            ("163.com", "analytics.163.com"),
            ("163.com", "crash.163.com"),
            ("163.com", "a-graph.facebook.com"),
            ("163.com", "tracker.example"),
        ];
        assert_eq!(got.len(), want.len());
        for ((l, h), (wl, wh)) in got.iter().zip(want) {
            assert_eq!((l.as_str(), h.as_str()), (wl, wh));
        }
        assert_eq!(hosts("x.example\n").unwrap()[0].0, "mylist");
    }

    #[test]
    fn bad_lines_are_errors_with_line_numbers() {
        assert_eq!(hosts("a.example\n\nnot a domain\n").unwrap_err().0, 3);
        assert_eq!(hosts("ok.example\nbad_host!.com\n").unwrap_err().0, 2);
        assert_eq!(hosts("0.0.0.0 single\n").unwrap_err().0, 1);
        assert_eq!(hosts("||ads.example^\n").unwrap_err().0, 1);
    }

    #[test]
    fn tsv_rows_and_errors() {
        let rows = parse_tsv(
            "# c\nsig\texodus\tTeemo\tdataberries\\.com\nhost\tadaway\t163.com\ta.163.com\n",
        )
        .unwrap();
        assert_eq!(
            rows[1],
            Entry::Host {
                label: "163.com",
                source: "adaway",
                host: "a.163.com"
            }
        );
        assert_eq!(parse_tsv("host\ta\tb\tNOT A HOST\n").unwrap_err().0, 1);
        assert_eq!(parse_tsv("# x\nzzz\ta\tb\tc\n").unwrap_err().0, 2);
        assert_eq!(parse_tsv("sig\ta\tb\n").unwrap_err().0, 1);
    }

    #[test]
    fn host_syntax() {
        assert!(is_host("app-measurement.com"));
        assert!(is_host("_dmarc.x.org"));
        assert!(!is_host("com"));
        assert!(!is_host("a..b"));
        assert!(!is_host("UPPER.com"));
        assert!(!is_host(&format!("{}.com", "a".repeat(64))));
    }
}
