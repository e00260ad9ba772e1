//! `phonehome evidence ALERT_ID -o OUT.pcap`: copies the evidence capture of an alert out of
//! the data dir, to a file (never replacing one unless `--force`) or, with `-o -`, to stdout
//! for `ssh router phonehome evidence 12 -o - > x.pcap`.
//!
//! The file to copy is resolved by [`crate::store::evidence::read_for_alert`], which refuses
//! any name that could leave the evidence folder; it is opened without following symlinks.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::analyze::load;
use super::Args;
use crate::store::{self, evidence};

/// Runs the command: alert `id` of the configured database, written to `out`.
pub(super) fn evidence(args: &Args, id: i64, out: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let (_, db) = load(args)?;
    let conn = store::open_read(&db)?;
    let src = evidence::read_for_alert(&conn, id)?;
    let mut input = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&src)
        .with_context(|| format!("{}", src.display()))?;
    if out.as_os_str() == "-" {
        let stdout = io::stdout();
        let mut w = stdout.lock();
        io::copy(&mut input, &mut w)?;
        w.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut output = create_out(out, force)?;
    let n = io::copy(&mut input, &mut output).with_context(|| format!("{}", out.display()))?;
    output
        .flush()
        .with_context(|| format!("{}", out.display()))?;
    eprintln!(
        "phonehome: alert {id}: evidence written to {} ({n} bytes)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Opens `out` for writing with mode 0640 (the capture holds identifiers): a new file, or
/// with `force` an existing one truncated.
fn create_out(out: &Path, force: bool) -> anyhow::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).mode(evidence::FILE_MODE);
    if force {
        o.create(true).truncate(true);
    } else {
        o.create_new(true);
    }
    o.open(out).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{} exists; use --force to replace it", out.display())
        } else {
            anyhow::Error::new(e).context(out.display().to_string())
        }
    })
}
