//! `phonehome backup -` / `backup FILE`: a consistent copy of the database while the daemon
//! writes, for `ssh router phonehome backup - > audit.db`.
//!
//! The copy is first taken into a private temp file (mode 0600, created by `tempfile` with
//! O_EXCL, removed on every exit path when it is dropped): SQLite needs a seekable file to
//! write a database into, stdout over SSH is a pipe. For `-` the temp file is in the temp
//! directory and streamed to stdout; a terminal is refused (a binary database would garble
//! it). For `FILE` the temp file is created beside FILE and renamed onto it, so FILE is never
//! a half-written copy and is replaced only with `--force`.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::analyze::load;
use super::Args;
use crate::store::backup::backup_to;

/// Runs the command: the configured database copied to `target` (`-`: stdout).
pub(super) fn backup(args: &Args, target: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let to_stdout = target.as_os_str() == "-";
    if to_stdout && io::stdout().is_terminal() {
        anyhow::bail!(
            "backup -: refusing to write a binary database to a terminal; redirect it: \
             phonehome backup - > audit.db"
        );
    }
    let (_, db) = load(args)?;
    let dir = if to_stdout {
        std::env::temp_dir()
    } else {
        match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => ".".into(),
        }
    };
    if !to_stdout && !force && target.exists() {
        anyhow::bail!("{}: exists (use --force to replace it)", target.display());
    }
    // tempfile creates it 0600 with O_EXCL and removes it when `tmp` is dropped.
    let tmp = tempfile::Builder::new()
        .prefix(".phonehome-backup-")
        .suffix(".db")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temp file in {}", dir.display()))?;
    let info = backup_to(&db, tmp.path())?;
    tracing::info!(
        pages = info.pages,
        schema = info.schema_version,
        "backup taken"
    );
    if to_stdout {
        let mut input = tmp.reopen().context("cannot reopen the backup temp file")?;
        let stdout = io::stdout();
        let mut w = stdout.lock();
        io::copy(&mut input, &mut w)?;
        w.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let persisted = if force {
        tmp.persist(target).map(|_| ())
    } else {
        tmp.persist_noclobber(target).map(|_| ())
    };
    persisted.map_err(|e| anyhow::anyhow!("{}: {}", target.display(), e.error))?;
    eprintln!(
        "backup: {} ({} pages, schema version {})",
        target.display(),
        info.pages,
        info.schema_version
    );
    Ok(ExitCode::SUCCESS)
}
