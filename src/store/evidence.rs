//! Evidence files: one classic pcap per warn/critical alert, holding the frames its flow kept
//! ([`crate::flow::evidence`]), under `<data dir>/evidence/` (the data dir is the database's
//! folder). An alert's `detail.evidence` names its file relative to that folder.
//!
//! Invariants:
//! - File names are made here, from the alert time and a SHA-256 of the flow id only
//!   (`20231114T221320Z-0123456789abcdef.pcap`, see [`evidence_name`]); nothing a device sends
//!   reaches a name, and a name read back from the database is used only if it has exactly
//!   that shape ([`is_evidence_name`]): no `..`, no `/`, no absolute path, no hidden file.
//!   A name that is a symlink or not a regular file is refused too.
//! - Files are written to a hidden temporary name (opened with `O_NOFOLLOW`), flushed and
//!   renamed, so a reader never sees half a file; they are mode 0640 in a 0750 folder.
//! - One file holds at most 24 + 2 × [`crate::flow::evidence::MAX_BYTES_PER_DIR`] bytes;
//!   [`prune`] bounds the folder by age and total size, oldest first, and scans at most
//!   [`MAX_SCAN_ENTRIES`] entries.
//!
//! The pcap is written by hand rather than with `pcap-file`'s writer (a dev-dependency used
//! by the tests to read these files back): the format is two fixed little-endian headers,
//! and building the bytes in memory keeps [`pcap_bytes`] a pure, infallible function.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension};

use crate::decode::LinkType;
use crate::event::{Ts, MICROS};
pub use crate::flow::evidence::evidence_name;
use crate::flow::evidence::{KeptFrame, HASH_HEX, SNAP_LEN};

/// Name of the evidence folder inside the data dir.
pub const EVIDENCE_DIR: &str = "evidence";

/// Mode of evidence files: the captures hold identifiers, so owner and group only.
pub const FILE_MODE: u32 = 0o640;

/// Mode of the evidence folder.
pub const DIR_MODE: u32 = 0o750;

/// Most folder entries [`prune`] looks at in one pass: bounds its memory (a few dozen bytes
/// each) if the folder was flooded; files beyond it wait for a later pass.
pub const MAX_SCAN_ENTRIES: usize = 100_000;

/// Classic pcap magic for microsecond timestamps.
const PCAP_MAGIC_MICROS: u32 = 0xa1b2_c3d4;

/// Length of an evidence file name: `YYYYMMDDTHHMMSSZ-` + hash + `.pcap`.
const NAME_LEN: usize = 17 + HASH_HEX + 5;

/// Errors of evidence files. Messages never carry an identifier or a flow's addresses.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// Reading or writing a file or the folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        #[source]
        source: io::Error,
    },
    /// The alert lookup failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database connection has no file, so there is no data dir (in-memory database).
    #[error("the database has no file path, so no evidence folder")]
    NoDatabasePath,
    /// No alert has this id.
    #[error("no alert with id {0}")]
    UnknownAlert(i64),
    /// The alert exists but names no evidence file.
    #[error(
        "alert {0} has no evidence capture (only warn and critical alerts keep one, and only \
         for flows whose packets were still kept)"
    )]
    NoEvidence(i64),
    /// `detail.evidence` is not a plain evidence file name, or names a symlink or folder.
    #[error("alert {0}: its evidence name is not a file of the evidence folder; refused")]
    UnsafeName(i64),
    /// The named file no longer exists.
    #[error("alert {id}: evidence file {path} no longer exists (removed by evidence retention?)")]
    Missing {
        /// The alert.
        id: i64,
        /// Where the file was expected.
        path: String,
    },
    /// [`write_pcap`] was given no frames.
    #[error("no frames to write")]
    NoFrames,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The evidence folder of a data dir.
pub fn evidence_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(EVIDENCE_DIR)
}

/// The data dir of a database file: its folder (`.` for a bare file name).
pub fn data_dir_of(db: &Path) -> PathBuf {
    match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// True when `name` has exactly the shape [`evidence_name`] produces.
pub fn is_evidence_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.len() != NAME_LEN || !name.ends_with(".pcap") {
        return false;
    }
    b.iter().enumerate().all(|(i, &c)| match i {
        0..=7 | 9..=14 => c.is_ascii_digit(),
        8 => c == b'T',
        15 => c == b'Z',
        16 => c == b'-',
        _ if i < 17 + HASH_HEX => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        _ => true, // ".pcap", checked above
    })
}

/// The pcap LINKTYPE number written for a link type.
pub fn linktype_number(link: LinkType) -> u32 {
    match link {
        LinkType::Null => 0,
        LinkType::Ethernet => 1,
        LinkType::RawIp => 101,
        LinkType::Ieee80211 => 105,
        LinkType::Loop => 108,
        LinkType::LinuxSll => 113,
        LinkType::Ieee80211Radiotap => 127,
        LinkType::Ipv4 => 228,
        LinkType::Ipv6 => 229,
        LinkType::Nflog => 239,
        LinkType::LinuxSll2 => 276,
    }
}

/// The classic pcap (little-endian, microseconds, snap length [`SNAP_LEN`]) of `frames` in
/// their order. The file's link type is the first frame's; frames of another link type (not
/// possible for one flow of one interface) are left out rather than mislabelled. Timestamps
/// before 1970 are written as 0, those past 2106 as the last representable second; frames
/// longer than [`SNAP_LEN`] are cut, `orig_len` never below the bytes written.
pub fn pcap_bytes(frames: &[KeptFrame]) -> Vec<u8> {
    let link = frames.first().map_or(LinkType::Ethernet, |f| f.link);
    let body: usize = frames
        .iter()
        .map(|f| 16usize.saturating_add(f.data.len()))
        .fold(0usize, usize::saturating_add);
    let mut out = Vec::with_capacity(24usize.saturating_add(body));
    out.extend_from_slice(&PCAP_MAGIC_MICROS.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(SNAP_LEN as u32).to_le_bytes());
    out.extend_from_slice(&linktype_number(link).to_le_bytes());
    for f in frames.iter().filter(|f| f.link == link) {
        let ts = f.ts.max(0);
        let secs = u32::try_from(ts / MICROS).unwrap_or(u32::MAX);
        let micros = u32::try_from(ts % MICROS).unwrap_or(0);
        let kept = f.data.get(..SNAP_LEN).unwrap_or(&f.data);
        let incl = u32::try_from(kept.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&micros.to_le_bytes());
        out.extend_from_slice(&incl.to_le_bytes());
        out.extend_from_slice(&f.orig_len.max(incl).to_le_bytes());
        out.extend_from_slice(kept);
    }
    out
}

/// Writes the evidence pcap of an alert at `alert_ts` on flow `flow_id` into
/// `<data_dir>/evidence/` (created 0750 if missing) as a 0640 file, and returns its path. Its
/// file name ([`evidence_name`]) is what `detail.evidence` should hold. An existing file of
/// the same name (same flow, same second) is replaced.
pub fn write_pcap(
    data_dir: &Path,
    alert_ts: Ts,
    flow_id: &str,
    frames: &[KeptFrame],
) -> Result<PathBuf, EvidenceError> {
    if frames.is_empty() {
        return Err(EvidenceError::NoFrames);
    }
    let dir = evidence_dir(data_dir);
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(&dir)
        .map_err(io_err(&dir))?;
    let name = evidence_name(alert_ts, flow_id);
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let written = write_new(&tmp, &pcap_bytes(frames)).and_then(|()| {
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(path)
    });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Writes `bytes` to `path` (replaced if it exists, never through a symlink) with mode
/// [`FILE_MODE`] whatever the umask, and flushes it to disk.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(io_err(path))?;
    f.set_permissions(fs::Permissions::from_mode(FILE_MODE))
        .map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_data().map_err(io_err(path))?;
    Ok(())
}

/// Checks `name` and returns its path in the evidence folder of `data_dir`: refused unless it
/// is an [`is_evidence_name`] naming a regular file (not a symlink); missing files are
/// [`EvidenceError::Missing`]. `id` is the alert, for messages.
pub fn evidence_path(data_dir: &Path, id: i64, name: &str) -> Result<PathBuf, EvidenceError> {
    if !is_evidence_name(name) {
        return Err(EvidenceError::UnsafeName(id));
    }
    let path = evidence_dir(data_dir).join(name);
    match fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => Ok(path),
        Ok(_) => Err(EvidenceError::UnsafeName(id)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(EvidenceError::Missing {
            id,
            path: path.display().to_string(),
        }),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// The evidence file of alert `id`: looks up its `detail.evidence` in the database `conn` is
/// open on and resolves it in that database's data dir with [`evidence_path`].
pub fn read_for_alert(conn: &Connection, id: i64) -> Result<PathBuf, EvidenceError> {
    let db = match conn.path() {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => return Err(EvidenceError::NoDatabasePath),
    };
    let detail: Option<String> = conn
        .query_row("SELECT detail FROM alerts WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    let detail = detail.ok_or(EvidenceError::UnknownAlert(id))?;
    let value: serde_json::Value =
        serde_json::from_str(&detail).map_err(|_| EvidenceError::NoEvidence(id))?;
    let name = value
        .get("evidence")
        .and_then(serde_json::Value::as_str)
        .ok_or(EvidenceError::NoEvidence(id))?;
    evidence_path(&data_dir_of(&db), id, name)
}

/// What one [`prune`] pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Files deleted.
    pub deleted: u64,
    /// Bytes those files held.
    pub freed_bytes: u64,
    /// Evidence files left.
    pub kept: u64,
    /// Bytes those files hold.
    pub kept_bytes: u64,
    /// Deletions that failed (left in place, retried next pass).
    pub failed: u64,
}

/// Retention of the evidence folder of `data_dir`: deletes evidence files (only names of
/// [`is_evidence_name`] shape, regular files) last modified more than `max_age_days` before
/// `now` (0 = no age limit), then the oldest until the rest total at most `max_total_bytes`
/// (0 = no size cap). A missing folder is an empty one.
pub fn prune(
    data_dir: &Path,
    now: SystemTime,
    max_age_days: u32,
    max_total_bytes: u64,
) -> Result<PruneStats, EvidenceError> {
    let dir = evidence_dir(data_dir);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(PruneStats::default()),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    let mut files: Vec<(SystemTime, String, u64)> = Vec::new();
    for entry in entries.take(MAX_SCAN_ENTRIES) {
        let entry = entry.map_err(io_err(&dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !is_evidence_name(&name) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.file_type().is_file() {
            continue;
        }
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        files.push((mtime, name, meta.len()));
    }
    files.sort();
    let max_age = Duration::from_secs(u64::from(max_age_days).saturating_mul(86_400));
    let cutoff = (max_age_days > 0)
        .then(|| now.checked_sub(max_age))
        .flatten();
    let mut total: u64 = files.iter().map(|f| f.2).fold(0, u64::saturating_add);
    let mut stats = PruneStats::default();
    for (mtime, name, len) in &files {
        let too_old = cutoff.is_some_and(|c| *mtime < c);
        let too_big = max_total_bytes > 0 && total > max_total_bytes;
        if !(too_old || too_big) {
            stats.kept += 1;
            stats.kept_bytes = stats.kept_bytes.saturating_add(*len);
            continue;
        }
        match fs::remove_file(dir.join(name)) {
            Ok(()) => {
                stats.deleted += 1;
                stats.freed_bytes = stats.freed_bytes.saturating_add(*len);
                total = total.saturating_sub(*len);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                total = total.saturating_sub(*len);
            }
            Err(_) => {
                stats.failed += 1;
                stats.kept += 1;
                stats.kept_bytes = stats.kept_bytes.saturating_add(*len);
            }
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn name_is_utc_second_and_flow_hash() {
        let name = evidence_name(
            1_700_000_000_123_456,
            "tcp 192.168.8.23:40000 198.51.100.7:80",
        );
        assert_eq!(&name[..17], "20231114T221320Z-");
        let hash = hex::encode(Sha256::digest(b"tcp 192.168.8.23:40000 198.51.100.7:80"));
        assert_eq!(&name[17..33], &hash[..16]);
        assert!(name.ends_with(".pcap") && is_evidence_name(&name));
        assert_eq!(&evidence_name(-1, "x")[..17], "19691231T235959Z-");
        assert_eq!(&evidence_name(i64::MAX, "x")[..17], "19700101T000000Z-");
    }

    #[test]
    fn only_exact_names_are_accepted() {
        let good = "20231114T221320Z-0123456789abcdef.pcap";
        assert!(is_evidence_name(good));
        for bad in [
            "",
            "../20231114T221320Z-0123456789abcdef.pcap",
            "/etc/passwd",
            "20231114T221320Z-0123456789abcdef.pcap/..",
            "20231114T221320Z-0123456789ABCDEF.pcap",
            "20231114T221320Z-0123456789abcde/.pcap",
            ".20231114T221320Z-0123456789abcdef.pcap.tmp",
            "20231114T221320Z-0123456789abcdef.pcaq",
            "2023111xT221320Z-0123456789abcdef.pcap",
            "20231114T221320Z-0123456789abcdé.pcap",
        ] {
            assert!(!is_evidence_name(bad), "{bad}");
        }
    }

    #[test]
    fn data_dir_is_the_database_folder() {
        assert_eq!(
            data_dir_of(Path::new("/var/lib/p/p.db")),
            Path::new("/var/lib/p")
        );
        assert_eq!(data_dir_of(Path::new("p.db")), Path::new("."));
    }
}
