//! `phonehome report [--since D] [--device MAC] [--json] [--reveal]`: what a journalist reads
//! first — per device, who it is, what was raised about it by severity, where its traffic
//! went (top destinations with country and AS, countries), its trackers and its cleartext
//! leaks. `--json` prints the same as one object.
//!
//! Invariants: MAC addresses are masked to their last four hex digits (`…3a7e`, the masking
//! of `src/detect/behaviour/common.rs`) unless `--reveal`, in the text and the JSON alike;
//! every captured string (hostnames, domains, summaries) goes through
//! [`output::sanitize`] before it reaches a terminal. Lists are capped by
//! `store::report`'s limits, and the text says what it left out.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;

use super::analyze::{load, now_micros};
use super::output::sanitize;
use super::{since, Args};
use crate::detect::behaviour::common::mask_mac;
use crate::event::MacAddr;
use crate::store::report::{self, AlertLine, DeviceReport, Report, ReportFilter};
use crate::store::{self, render::format_ts};

/// Runs the command on the configured database.
pub(super) fn report(
    args: &Args,
    since_arg: Option<&str>,
    device: Option<&str>,
    json: bool,
    reveal: bool,
) -> anyhow::Result<ExitCode> {
    let filter = ReportFilter {
        since: since_arg
            .map(|s| since::parse_since(s, now_micros()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("--since: {e}"))?,
        device: device
            .map(|d| MacAddr::parse(d).with_context(|| format!("--device: not a MAC address: {d}")))
            .transpose()?,
    };
    let (_, db) = load(args)?;
    let conn = store::open_read(&db)?;
    let mut rep = report::report(&conn, &filter)?;
    if !reveal {
        for d in &mut rep.devices {
            d.mac = masked(&d.mac);
        }
    }
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    if json {
        let mut line = serde_json::to_vec(&rep)?;
        line.push(b'\n');
        w.write_all(&line)?;
    } else {
        print_text(&mut w, &rep, now_micros())?;
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A stored MAC masked for display; a value that is not a MAC (a hand-edited file) is
/// masked as a whole rather than shown.
fn masked(mac: &str) -> String {
    match MacAddr::parse(mac) {
        Some(m) => mask_mac(m),
        None => crate::detect::behaviour::common::mask(mac),
    }
}

/// Human size: 1234567 → "1.2 MB".
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} B"),
        _ => format!("{v:.1} {}", UNITS.get(unit).copied().unwrap_or("B")),
    }
}

/// The text report.
pub fn print_text<W: Write>(w: &mut W, rep: &Report, now: i64) -> io::Result<()> {
    let window = match &rep.since {
        Some(s) => format!("since {s}"),
        None => "everything on record".to_string(),
    };
    writeln!(
        w,
        "phonehome report — {window} (made {})",
        format_ts(now).unwrap_or_default()
    )?;
    if rep.devices.is_empty() {
        writeln!(w, "\nNo device was seen in this window.")?;
    }
    for d in &rep.devices {
        print_device(w, d)?;
    }
    if rep.devices_not_shown > 0 {
        writeln!(
            w,
            "\n… and {} more devices (narrow it with --since or --device).",
            rep.devices_not_shown
        )?;
    }
    let u = &rep.unattributed;
    if u.counts.critical + u.counts.warn + u.counts.info > 0 {
        writeln!(w, "\n== Alerts about no known device")?;
        print_alerts(w, u)?;
    }
    Ok(())
}

fn print_device<W: Write>(w: &mut W, d: &DeviceReport) -> io::Result<()> {
    let mut title = d.mac.clone();
    if let Some(n) = &d.name {
        title = format!("{} ({title})", sanitize(n));
    }
    writeln!(w, "\n== Device {title}")?;
    let ident = [
        d.hostname
            .as_deref()
            .map(|h| format!("hostname {}", sanitize(h))),
        d.vendor
            .as_deref()
            .map(|v| format!("vendor {}", sanitize(v))),
        d.randomized.then(|| "randomised MAC".to_string()),
    ];
    let ident: Vec<String> = ident.into_iter().flatten().collect();
    if !ident.is_empty() {
        writeln!(w, "   {}", ident.join(", "))?;
    }
    writeln!(
        w,
        "   seen {} – {}",
        d.first_seen.as_deref().unwrap_or("?"),
        d.last_seen.as_deref().unwrap_or("?")
    )?;
    print_alerts(w, &d.alerts)?;

    writeln!(w, "   Top destinations (by bytes):")?;
    if d.top_destinations.is_empty() {
        writeln!(w, "     none recorded")?;
    }
    for t in &d.top_destinations {
        let mut geo = Vec::new();
        if let Some(c) = &t.country {
            geo.push(sanitize(c));
        }
        match (t.asn, &t.as_org) {
            (Some(a), Some(o)) => geo.push(format!("AS{a} {}", sanitize(o))),
            (Some(a), None) => geo.push(format!("AS{a}")),
            (None, Some(o)) => geo.push(sanitize(o)),
            (None, None) => {}
        }
        let geo = if geo.is_empty() {
            String::new()
        } else {
            format!(" ({})", geo.join(", "))
        };
        writeln!(
            w,
            "     {}{geo}: {} sent, {} received, {} flow{}",
            sanitize(&t.destination),
            bytes(t.bytes_up),
            bytes(t.bytes_down),
            t.flows,
            if t.flows == 1 { "" } else { "s" }
        )?;
    }
    let countries: Vec<String> = d
        .countries
        .iter()
        .map(|c| format!("{} ({})", sanitize(&c.country), bytes(c.bytes)))
        .collect();
    writeln!(w, "   Countries: {}", list_or_none(&countries))?;
    let trackers: Vec<String> = d.trackers.iter().map(|t| sanitize(t)).collect();
    writeln!(w, "   Trackers: {}", list_or_none(&trackers))?;
    writeln!(w, "   Cleartext leaks:")?;
    if d.leaks.is_empty() {
        writeln!(w, "     no identifier or password seen in clear text")?;
    }
    for l in &d.leaks {
        alert_line(w, l)?;
    }
    if !d.cleartext_http.is_empty() {
        let hosts: Vec<String> = d
            .cleartext_http
            .iter()
            .map(|h| format!("{} ×{}", sanitize(&h.host), h.requests))
            .collect();
        writeln!(w, "   Unencrypted HTTP to: {}", hosts.join(", "))?;
    }
    Ok(())
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

fn print_alerts<W: Write>(w: &mut W, a: &report::AlertSummary) -> io::Result<()> {
    let c = a.counts;
    writeln!(
        w,
        "   Alerts: {} critical, {} warn, {} info",
        c.critical, c.warn, c.info
    )?;
    for (list, total) in [
        (&a.critical, c.critical),
        (&a.warn, c.warn),
        (&a.info, c.info),
    ] {
        for l in list {
            alert_line(w, l)?;
        }
        let more = total.saturating_sub(list.len() as u64);
        if more > 0 {
            writeln!(w, "     … {more} more (phonehome alerts lists them all)")?;
        }
    }
    Ok(())
}

fn alert_line<W: Write>(w: &mut W, l: &AlertLine) -> io::Result<()> {
    let times = if l.count > 1 {
        format!(" (×{})", l.count)
    } else {
        String::new()
    };
    let ack = if l.acknowledged { ", acknowledged" } else { "" };
    writeln!(
        w,
        "     [{}] #{} {}{times}{ack}: {}",
        sanitize(&l.severity),
        l.id,
        sanitize(&l.kind),
        sanitize(&l.summary)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_234_567), "1.2 MB");
        assert_eq!(bytes(u64::MAX), "18446744.1 TB");
    }

    #[test]
    fn macs_are_masked_and_junk_is_not_shown_whole() {
        assert_eq!(masked("04:f1:28:5c:3a:7e"), "…3a7e");
        assert_eq!(masked("not-a-mac-value"), "…alue");
    }
}
