//! The read commands (`dns`, `http`, `tls`, `dhcp`, `flows`, `devices`, `alerts`, `status`):
//! open the database read-only and print tables for people or JSON lines for scripts.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;

use super::analyze::{load, now_micros};
use super::args::QueryArgs;
use super::redact::Redactor;
use super::{output, since, Args};
use crate::event::MacAddr;
pub use crate::store::Kind;
use crate::store::{self, query};

/// Lists the records of `kind`.
pub(super) fn records(args: &Args, kind: Kind, q: &QueryArgs) -> anyhow::Result<ExitCode> {
    let filter = query::Filter {
        since: q
            .since
            .as_deref()
            .map(|s| since::parse_since(s, now_micros()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("--since: {e}"))?,
        device: q
            .device
            .as_deref()
            .map(|d| MacAddr::parse(d).with_context(|| format!("--device: not a MAC address: {d}")))
            .transpose()?,
        limit: q.limit,
    };
    let (cfg, db) = load(args)?;
    let mut redactor = Redactor::unless_revealed(&cfg, q.reveal)?;
    let conn = store::open_read(&db)?;
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    let printed = query::each(&conn, kind, &filter, |rows| {
        let mut masked = rows.map(|r| {
            r.map(|mut row| {
                if let Some(m) = redactor.as_mut() {
                    m.row(kind, &mut row);
                }
                row
            })
        });
        if q.json {
            output::print_json(&mut w, &mut masked)
        } else {
            output::print_table(&mut w, kind, &mut masked)
        }
    })?;
    printed?;
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `phonehome status`.
pub(super) fn status(args: &Args, json: bool) -> anyhow::Result<ExitCode> {
    let (_, db) = load(args)?;
    let conn = store::open_read(&db)?;
    let st = query::status(&conn)?;
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer(&mut w, &st)?;
        w.write_all(b"\n")?;
    } else {
        output::print_status(&mut w, &st)?;
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}
