//! Printing of store listings: JSON lines for programs, aligned tables for people.
//!
//! Both printers stream: rows are written as they come, so `phonehome dns | head` stops the
//! query early. A table sizes its columns from the first [`TABLE_SAMPLE_ROWS`] rows (capped per
//! column) and truncates longer later values with `…`. Captured strings are hostile: table
//! cells escape control and bidirectional-formatting characters so a hostname cannot drive the
//! terminal; JSON escapes control characters itself.
//!
//! Hand-rolled rather than with a table crate (comfy-table, tabled): those lay out a table
//! from all its rows at once, which a streamed listing of a large table cannot afford.
//!
//! Write errors, including a broken pipe, are returned; [`is_broken_pipe`] lets the caller
//! treat the latter as success.

use std::io::{self, Write};

use serde_json::Value;

use crate::store::query::Status;
use crate::store::render::format_ts;
use crate::store::{Kind, Row, StoreError};

/// Rows buffered to size the table columns before printing starts.
pub const TABLE_SAMPLE_ROWS: usize = 256;

/// Widest an IP address column gets (a full IPv6 address).
const IP: usize = 39;

/// Table columns of each kind: field name and the widest the column may grow.
fn columns(kind: Kind) -> &'static [(&'static str, usize)] {
    match kind {
        Kind::Dns => &[
            ("ts", 27),
            ("device_mac", 17),
            ("client_ip", IP),
            ("server_ip", IP),
            ("qname", 48),
            ("qtype", 8),
            ("rcode", 9),
            ("protocol", 8),
            ("answers", 40),
        ],
        Kind::Http => &[
            ("ts", 27),
            ("device_mac", 17),
            ("client_ip", IP),
            ("server_ip", IP),
            ("server_port", 5),
            ("method", 8),
            ("host", 32),
            ("uri", 48),
            ("user_agent", 40),
        ],
        Kind::Tls => &[
            ("ts", 27),
            ("device_mac", 17),
            ("client_ip", IP),
            ("server_ip", IP),
            ("server_port", 5),
            ("sni", 40),
            ("alpn", 16),
            ("version", 6),
            ("ja4", 36),
        ],
        Kind::Dhcp => &[
            ("ts", 27),
            ("device_mac", 17),
            ("msg_type", 8),
            ("hostname", 24),
            ("vendor_class", 24),
            ("requested_ip", 15),
            ("param_list", 32),
        ],
        Kind::Flows => &[
            ("ts", 27),
            ("device_mac", 17),
            ("proto", 4),
            ("client_ip", IP),
            ("client_port", 5),
            ("server_ip", IP),
            ("server_port", 5),
            ("bytes_up", 12),
            ("bytes_down", 12),
            ("domain", 40),
        ],
        Kind::Devices => &[
            ("mac", 17),
            ("name", 20),
            ("label", 24),
            ("os", 12),
            ("model", 24),
            ("vendor", 24),
            ("randomized", 10),
            ("hostname", 24),
            ("ips", 40),
            ("first_seen", 27),
            ("last_seen", 27),
        ],
        Kind::Alerts => &[
            ("ts", 27),
            ("severity", 8),
            ("kind", 20),
            ("device_mac", 17),
            ("domain", 32),
            ("summary", 60),
            ("count", 6),
        ],
    }
}

/// True when `e` is a closed pipe (the reader went away, e.g. `| head`): not a failure.
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

fn store_err(e: StoreError) -> io::Error {
    io::Error::other(e)
}

/// Writes one JSON object per line; returns the number of records.
pub fn print_json<W: Write>(
    w: &mut W,
    rows: impl IntoIterator<Item = Result<Row, StoreError>>,
) -> io::Result<u64> {
    let mut n = 0u64;
    for row in rows {
        let row = row.map_err(store_err)?;
        serde_json::to_writer(&mut *w, &row)?;
        w.write_all(b"\n")?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// Writes an aligned table of `kind` with a header and a final "N records" line; returns N.
pub fn print_table<W: Write>(
    w: &mut W,
    kind: Kind,
    rows: impl IntoIterator<Item = Result<Row, StoreError>>,
) -> io::Result<u64> {
    let cols = columns(kind);
    let mut rows = rows.into_iter();
    let mut sample: Vec<Vec<Cell>> = Vec::new();
    for row in rows.by_ref() {
        sample.push(cells(cols, &row.map_err(store_err)?));
        if sample.len() >= TABLE_SAMPLE_ROWS {
            break;
        }
    }
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, (name, cap))| {
            let widest = sample
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.text.chars().count())
                .max()
                .unwrap_or(0);
            widest.min(*cap).max(name.chars().count())
        })
        .collect();
    let header: Vec<Cell> = cols
        .iter()
        .map(|(name, _)| Cell {
            text: name.to_string(),
            right: false,
        })
        .collect();
    write_line(w, &widths, &header)?;
    let mut n = 0u64;
    for r in &sample {
        write_line(w, &widths, r)?;
        n += 1;
    }
    for row in rows {
        write_line(w, &widths, &cells(cols, &row.map_err(store_err)?))?;
        n += 1;
    }
    writeln!(w, "{n} record{}", if n == 1 { "" } else { "s" })?;
    w.flush()?;
    Ok(n)
}

/// Writes the `status` summary for people.
pub fn print_status<W: Write>(w: &mut W, s: &Status) -> io::Result<()> {
    match &s.capture {
        Some(c) => {
            let st = &c.stats;
            let ts = format_ts(st.ts).unwrap_or_else(|| "-".into());
            writeln!(w, "capture      {} (at {ts})", sanitize(&st.source))?;
            writeln!(
                w,
                "  packets    {} seen, {} decoded, {} decode errors",
                st.packets_seen, st.packets_decoded, st.decode_errors
            )?;
            writeln!(
                w,
                "  dropped    {} packets by the kernel, {} records at the full store queue",
                st.kernel_drops, c.store_drops
            )?;
            writeln!(
                w,
                "  flows      {} created, {} evicted",
                st.flows_created, st.flows_evicted
            )?;
        }
        None => writeln!(w, "capture      no statistics recorded yet")?,
    }
    let r = &s.records;
    writeln!(
        w,
        "records      dns {}, http {}, tls {}, dhcp {}, flows {}",
        r.dns, r.http, r.tls, r.dhcp, r.flows
    )?;
    writeln!(w, "devices      {}", r.devices)?;
    writeln!(
        w,
        "alerts       {} ({} not acknowledged)",
        r.alerts, r.alerts_open
    )?;
    writeln!(
        w,
        "database     {} bytes, schema version {}",
        s.db_bytes, s.schema_version
    )?;
    w.flush()
}

struct Cell {
    text: String,
    /// Numbers are right-aligned.
    right: bool,
}

fn cells(cols: &[(&str, usize)], row: &Row) -> Vec<Cell> {
    cols.iter()
        .map(|(name, _)| {
            let v = row.get(name).unwrap_or(&Value::Null);
            Cell {
                text: cell_text(v),
                right: v.is_number(),
            }
        })
        .collect()
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => sanitize(s),
        Value::Array(a) if a.is_empty() => "-".into(),
        Value::Array(a) => a.iter().map(cell_text).collect::<Vec<_>>().join(","),
        Value::Object(_) => sanitize(&v.to_string()),
    }
}

/// Escapes characters that would act on a terminal rather than print: C0/C1 controls and the
/// bidirectional overrides/isolates (which can make text read backwards).
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            let n = u32::from(c);
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:04x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn write_line<W: Write>(w: &mut W, widths: &[usize], cells: &[Cell]) -> io::Result<()> {
    let mut line = String::new();
    for (i, (cell, &width)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let text = truncate(&cell.text, width);
        let pad = width.saturating_sub(text.chars().count());
        if cell.right {
            line.push_str(&" ".repeat(pad));
            line.push_str(&text);
        } else {
            line.push_str(&text);
            line.push_str(&" ".repeat(pad));
        }
    }
    writeln!(w, "{}", line.trim_end())
}

/// `s` cut to `width` characters, the last one replaced by `…` when cut.
fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_terminal_controls() {
        assert_eq!(sanitize("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(sanitize("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(sanitize("tab\there\u{85}"), "tab\\x09here\\x85");
        assert_eq!(sanitize("Pixel-7 été"), "Pixel-7 été");
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcd", 4), "abcd");
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 0), "");
    }
}
