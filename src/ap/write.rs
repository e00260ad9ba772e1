//! Writing rendered files under a root folder, each atomically: the text goes to a new
//! temporary file beside the target (created exclusively with its final mode, so a file holding
//! the passphrase is never readable by others, not even briefly), is flushed to disk, then
//! renamed over the target. A reader (hostapd, networkd) sees the old file or the new one,
//! never half of one; a symlink at the target is replaced, not followed.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::{RenderedFile, ALL_PATHS};

/// A file or folder that could not be written or removed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WriteError {
    /// The file or folder concerned.
    pub path: PathBuf,
    /// The underlying error.
    pub source: io::Error,
}

/// Writes each file to `root/path` (creating folders, mode 0755), atomically; returns the
/// paths written in order.
pub fn write_files(root: &Path, files: &[RenderedFile]) -> Result<Vec<PathBuf>, WriteError> {
    let mut written = Vec::with_capacity(files.len());
    for f in files {
        let target = root.join(f.path);
        write_one(&target, f).map_err(|source| WriteError {
            path: target.clone(),
            source,
        })?;
        written.push(target);
    }
    Ok(written)
}

/// Removes the files of [`ALL_PATHS`] under `root` that `files` does not contain (those of
/// the other mode, after a switch); returns the paths removed.
pub fn remove_stale(root: &Path, files: &[RenderedFile]) -> Result<Vec<PathBuf>, WriteError> {
    let mut removed = Vec::new();
    for path in ALL_PATHS {
        if files.iter().any(|f| f.path == *path) {
            continue;
        }
        let target = root.join(path);
        match fs::remove_file(&target) {
            Ok(()) => removed.push(target),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(WriteError {
                    path: target,
                    source,
                })
            }
        }
    }
    Ok(removed)
}

fn write_one(target: &Path, f: &RenderedFile) -> io::Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.phonehome-{}.tmp", std::process::id()));
    // A leftover of an interrupted run with the same pid; create_new below refuses to
    // follow anything placed there.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(f.mode)
            .open(&tmp)?;
        // The umask may have removed bits of the mode asked for at creation.
        file.set_permissions(Permissions::from_mode(f.mode))?;
        file.write_all(f.contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // The rename itself survives a power cut only once the folder is synced.
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &'static str, text: &str, mode: u32) -> RenderedFile {
        RenderedFile {
            path,
            contents: text.to_owned(),
            mode,
        }
    }

    #[test]
    fn writes_with_modes_replaces_and_removes_stale() {
        let dir = tempfile::tempdir().unwrap();
        let secret = file(super::super::HOSTAPD_PATH, "wpa_passphrase=x\n", 0o600);
        let stale = file(super::super::DNSMASQ_PATH, "old\n", 0o644);
        write_files(dir.path(), &[secret.clone(), stale]).unwrap();
        let dns = dir.path().join(super::super::DNSMASQ_PATH);
        assert!(dns.exists());
        // A symlink at the target is replaced, not written through.
        let outside = dir.path().join("outside");
        fs::write(&outside, "keep").unwrap();
        let hostapd = dir.path().join(super::super::HOSTAPD_PATH);
        fs::remove_file(&hostapd).unwrap();
        std::os::unix::fs::symlink(&outside, &hostapd).unwrap();
        let again = file(super::super::HOSTAPD_PATH, "new\n", 0o600);
        write_files(dir.path(), std::slice::from_ref(&again)).unwrap();
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
        assert_eq!(fs::read_to_string(&hostapd).unwrap(), "new\n");
        let mode = fs::symlink_metadata(&hostapd).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let removed = remove_stale(dir.path(), &[again]).unwrap();
        assert_eq!(removed, vec![dns.clone()]);
        assert!(!dns.exists());
        let leftovers: Vec<_> = fs::read_dir(hostapd.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("hostapd.conf")]);
    }
}
