//! `phonehome export [--since D]`: every table (dns, http, tls, dhcp, flows, devices,
//! alerts) as JSON lines, for archiving: each line is one record with a `"table"` field in
//! front of the fields the read command of that table prints with `--json` (same names, same
//! renderings, see `src/store/render.rs`), so an archive can be read with the same tools.
//!
//! Streamed table by table through [`query::each`]: an export never holds a table in memory.
//! Like `dns --json` and the other read commands, records carry the device MAC whole (an
//! archive must let records of one device be joined), identifiers in names, URIs and user
//! agents are masked unless `--reveal` ([`super::redact`]), and identifiers inside alerts are
//! masked by the detectors before they are ever stored.

use std::io::{self, Write};
use std::process::ExitCode;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::analyze::{load, now_micros};
use super::redact::Redactor;
use super::{since, Args};
use crate::store::{self, query, Kind, Row};

/// One exported line: the table name, then the record's fields.
struct Line<'a> {
    table: &'static str,
    row: &'a Row,
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.row.0.len() + 1))?;
        m.serialize_entry("table", self.table)?;
        for (k, v) in &self.row.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Runs the command on the configured database.
pub(super) fn export(
    args: &Args,
    since_arg: Option<&str>,
    reveal: bool,
) -> anyhow::Result<ExitCode> {
    let filter = query::Filter {
        since: since_arg
            .map(|s| since::parse_since(s, now_micros()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("--since: {e}"))?,
        device: None,
        limit: None,
    };
    let (cfg, db) = load(args)?;
    let mut redactor = Redactor::unless_revealed(&cfg, reveal)?;
    let conn = store::open_read(&db)?;
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    for kind in Kind::ALL {
        let written = query::each(&conn, kind, &filter, |rows| -> anyhow::Result<()> {
            for row in rows {
                let mut row = row?;
                if let Some(r) = redactor.as_mut() {
                    r.row(kind, &mut row);
                }
                // Serialised apart so a closed pipe surfaces as a plain io::Error.
                let mut line = serde_json::to_vec(&Line {
                    table: kind.name(),
                    row: &row,
                })?;
                line.push(b'\n');
                w.write_all(&line)?;
            }
            Ok(())
        })?;
        written?;
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}
