//! A consistent copy of the database while the daemon writes to it, through SQLite's online
//! backup API (`rusqlite::backup`).
//!
//! Invariants: the copy is taken in one backup step (`sqlite3_backup_step(-1)`), that is
//! inside one read transaction of the source, so it is a snapshot of one committed state. In
//! WAL mode that read transaction never blocks the writer; copying in small steps instead
//! would restart from the beginning every time the daemon commits (about once a second) and
//! might never finish. The source is opened read-only ([`super::open_read`]), so a group
//! reader can take a backup, and a backup can never change the live database.

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::{schema, StoreError};

/// Attempts at the backup step while the source is busy or locked (a checkpoint or a
/// recovery in progress), [`RETRY_PAUSE`] apart: bounds how long a backup waits.
pub const MAX_BUSY_RETRIES: u32 = 100;

/// Pause between two attempts at a busy source.
pub const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// What a finished backup holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// Pages copied.
    pub pages: u64,
    /// Schema version of the copy (`PRAGMA user_version`).
    pub schema_version: u32,
}

/// Copies the database at `src` into the file `dest`, which must exist and be empty (a temp
/// file the caller created with the mode it wants) or be a SQLite database to overwrite.
///
/// The copy is in rollback-journal mode (`DELETE`), a single self-contained file: it is an
/// archive, nothing writes it concurrently.
pub fn backup_to(src: &Path, dest: &Path) -> Result<BackupInfo, StoreError> {
    let source = super::open_read(src)?;
    let dest_err = |e| schema::sqlite(dest, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut target = Connection::open_with_flags(dest, flags).map_err(dest_err)?;
    {
        let backup = Backup::new(&source, &mut target).map_err(dest_err)?;
        let mut retries = 0;
        loop {
            match backup.step(-1).map_err(|e| schema::sqlite(src, e))? {
                StepResult::Done => break,
                // One step of -1 pages copies everything; `More` cannot follow it, but if it
                // did, stepping again is right.
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => {
                    retries += 1;
                    if retries > MAX_BUSY_RETRIES {
                        return Err(StoreError::Other {
                            path: src.display().to_string(),
                            msg: format!(
                                "backup: the database stayed locked for {} s",
                                (RETRY_PAUSE * MAX_BUSY_RETRIES).as_secs()
                            ),
                        });
                    }
                    std::thread::sleep(RETRY_PAUSE);
                }
                // StepResult is non_exhaustive: an unknown outcome is an error, not a loop.
                _ => {
                    return Err(StoreError::Other {
                        path: src.display().to_string(),
                        msg: "backup: unexpected step result".into(),
                    })
                }
            }
        }
    }
    // The page copy carries the source's WAL flag; an archive is one file.
    let mode: String = target
        .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))
        .map_err(dest_err)?;
    if !mode.eq_ignore_ascii_case("delete") {
        tracing::warn!(mode, "backup copy kept journal mode");
    }
    let schema_version = schema::user_version(&target).map_err(dest_err)?;
    let pages: i64 = target
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .map_err(dest_err)?;
    target.close().map_err(|(_, e)| dest_err(e))?;
    Ok(BackupInfo {
        pages: u64::try_from(pages).unwrap_or(0),
        schema_version,
    })
}
