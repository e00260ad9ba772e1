//! Reading indicator files and folders from disk into an [`IocSet`].
//!
//! Each path is a file or a folder. A folder is walked recursively in sorted name order,
//! skipping hidden entries (`.git`, `.DS_Store` …) and, inside folders only, documentation
//! (`README*`, `LICENSE*`, `COPYING*`, `*.md`, …) so that a cloned indicator repository loads
//! as is; a file named explicitly is always read.
//!
//! A file is all or nothing: a malformed one contributes no indicator and yields one
//! [`IocLoadError`] naming the file and the line; the other files still load. (The one
//! exception is the set's own cap, [`MAX_INDICATORS`]: the values that fit are kept.)
//!
//! Invariants: at most [`MAX_FILES`] files read, folders at most [`MAX_DIR_DEPTH`] deep
//! (which also ends symlink loops), files at most [`MAX_FILE_BYTES`].

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::build::Builder;
use super::format::{self, FileError, Outcome};
use super::{IocSet, MAX_INDICATORS};

/// Largest indicator file read: the biggest public sets are a few MiB (StevenBlack's hosts
/// 2.5 MiB, MVT's largest STIX file 2.2 MiB); bounds the memory of one load.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Most files read in one load: bounds the time of a load pointed at the wrong folder.
pub const MAX_FILES: usize = 10_000;

/// Deepest folder level walked below a given path (also ends symlink loops).
pub const MAX_DIR_DEPTH: usize = 8;

/// The `source` of built-in indicators.
pub const BUILTIN_SOURCE: &str = "builtin:data/ioc/indicators.csv";

const BUILTIN_CSV: &[u8] = include_bytes!("../../../data/ioc/indicators.csv");

/// A file that could not be loaded, or loaded only in part.
///
/// Display: `path:line: message`, or `path: message` when the problem is not at a line (I/O,
/// size, limits). Messages never quote file contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", location(.path, *.line))]
pub struct IocLoadError {
    /// The file (or folder) as reached from the given paths.
    pub path: PathBuf,
    /// 1-based line, when the problem is at one.
    pub line: Option<usize>,
    /// 1-based column, when the parser reports one (JSON, YAML).
    pub column: Option<usize>,
    pub message: String,
}

fn location(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    }
}

impl IocLoadError {
    fn whole(path: &Path, message: impl Into<String>) -> IocLoadError {
        IocLoadError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn from_file(path: &Path, e: FileError) -> IocLoadError {
        let message = match e.column {
            Some(c) => format!("{} (column {c})", e.message),
            None => e.message,
        };
        IocLoadError {
            path: path.to_path_buf(),
            line: e.line,
            column: e.column,
            message,
        }
    }
}

impl IocSet {
    /// Loads every indicator file found under `paths` (files or folders). Returns the set of
    /// everything that loaded and one error per file that did not.
    pub fn load(paths: &[PathBuf]) -> (IocSet, Vec<IocLoadError>) {
        let mut b = Builder::default();
        let mut errors = Vec::new();
        let mut walk = Walk {
            files: Vec::new(),
            full: false,
            b: &mut b,
            errors: &mut errors,
        };
        for p in paths {
            walk.collect(p, 0, true);
        }
        let files = walk.files;
        for f in &files {
            match read(f) {
                Ok(bytes) => add(&mut b, f, &bytes, &mut errors),
                Err(e) => errors.push(e),
            }
        }
        (b.finish(), errors)
    }

    /// The indicators built into the binary: MVT / Amnesty STIX 2.1 sets and Echap's
    /// stalkerware and watchware apps, as generated into `data/ioc/indicators.csv` by
    /// `tools/gen-ioc.py` (provenance and licences in `data/README.md`).
    pub fn builtin() -> (IocSet, Vec<IocLoadError>) {
        IocSet::from_bytes(Path::new(BUILTIN_SOURCE), BUILTIN_CSV)
    }

    /// Loads one in-memory file as if read from `source` (e.g. data embedded in the binary).
    pub fn from_bytes(source: &Path, bytes: &[u8]) -> (IocSet, Vec<IocLoadError>) {
        let mut b = Builder::default();
        let mut errors = Vec::new();
        if u64::try_from(bytes.len()).map_or(true, |n| n > MAX_FILE_BYTES) {
            errors.push(IocLoadError::whole(source, "file larger than 64 MiB"));
        } else {
            add(&mut b, source, bytes, &mut errors);
        }
        (b.finish(), errors)
    }
}

fn add(b: &mut Builder, path: &Path, bytes: &[u8], errors: &mut Vec<IocLoadError>) {
    match format::parse(path, bytes) {
        Ok(Outcome::Indicators(file)) => {
            if let Err(refused) = b.add_file(path, file) {
                errors.push(IocLoadError::whole(
                    path,
                    format!("indicator limit ({MAX_INDICATORS}) reached: {refused} not loaded"),
                ));
            }
        }
        Ok(Outcome::Skipped(reason)) => b.skipped_file(path, reason),
        Err(e) => errors.push(IocLoadError::from_file(path, e)),
    }
}

/// True for files found in a folder that are documentation, not indicators.
fn is_documentation(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower.split('.').next().unwrap_or("");
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    matches!(
        stem,
        "readme" | "license" | "licence" | "copying" | "notice" | "changelog" | "authors"
    ) || matches!(
        ext,
        "md" | "rst" | "html" | "pdf" | "png" | "jpg" | "py" | "sh"
    )
}

/// State of one folder walk.
struct Walk<'a> {
    files: Vec<PathBuf>,
    /// Set once [`MAX_FILES`] was reached (reported once).
    full: bool,
    b: &'a mut Builder,
    errors: &'a mut Vec<IocLoadError>,
}

impl Walk<'_> {
    fn error(&mut self, path: &Path, message: String) {
        self.errors.push(IocLoadError::whole(path, message));
    }

    fn collect(&mut self, path: &Path, depth: usize, explicit: bool) {
        let meta = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return self.error(path, format!("cannot read: {e}")),
        };
        if meta.is_file() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !explicit && is_documentation(name) {
                return self
                    .b
                    .skipped_file(path, "documentation file in an indicator folder");
            }
            if self.files.len() >= MAX_FILES {
                if !self.full {
                    self.full = true;
                    self.error(
                        path,
                        format!("more than {MAX_FILES} files: the rest was not read"),
                    );
                }
                return;
            }
            return self.files.push(path.to_path_buf());
        }
        if !meta.is_dir() {
            return self.error(path, "not a regular file or folder".into());
        }
        if depth >= MAX_DIR_DEPTH {
            return self.error(
                path,
                format!("folder nested more than {MAX_DIR_DEPTH} deep: not read"),
            );
        }
        let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect(),
            Err(e) => return self.error(path, format!("cannot read: {e}")),
        };
        entries.sort();
        for e in entries {
            self.collect(&e, depth + 1, false);
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, IocLoadError> {
    let io = |e: std::io::Error| IocLoadError::whole(path, format!("cannot read: {e}"));
    let f = fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > MAX_FILE_BYTES) {
        return Err(IocLoadError::whole(path, "file larger than 64 MiB"));
    }
    Ok(bytes)
}
