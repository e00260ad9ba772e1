//! SQLite storage: schema and migrations ([`schema`]), the batching writer thread
//! ([`writer`], with [`insert`] and [`retention`]), and the read queries behind the CLI
//! ([`query`], rendered by [`render`]).
//!
//! One writer thread owns the only write connection; readers (the CLI) open the file
//! read-only with [`open_read`]. WAL mode lets them read while the daemon writes. The layout
//! of the stored data is described in [`schema`].

pub mod backup;
pub mod evidence;
pub mod insert;
pub mod query;
pub mod render;
pub mod report;
pub mod retention;
pub mod schema;
pub mod writer;

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::event::Ts;

pub use query::{Filter, Status};
pub use render::Row;
pub use writer::{EventSink, Writer, WriterConfig, WriterStats};

/// Errors of the store layer. Every variant names the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    /// Anything else: a missing file, a schema too new, the writer thread gone.
    #[error("database {path}: {msg}")]
    Other { path: String, msg: String },
}

/// Counters of one capture run, stored as one `capture_stats` row per snapshot (the pipeline
/// sends a periodic snapshot and one at the end of a run). All counters are totals since the
/// start of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CaptureStats {
    /// When the snapshot was taken (serialised as RFC 3339).
    #[serde(serialize_with = "render::ser_ts")]
    pub ts: Ts,
    /// Interface name (live) or file path (offline).
    pub source: String,
    /// Frames read from the source.
    pub packets_seen: u64,
    /// Captured bytes of those frames.
    pub bytes_seen: u64,
    /// Frames decoded down to the network layer.
    pub packets_decoded: u64,
    /// Frames that failed to decode (any `DecodeError`).
    pub decode_errors: u64,
    /// Frames the kernel dropped (socket buffer full).
    pub kernel_drops: u64,
    /// Frames dropped between capture and analysis because a queue was full.
    pub queue_drops: u64,
    /// Flows created.
    pub flows_created: u64,
    /// Flows pushed out of a full flow table.
    pub flows_evicted: u64,
}

/// The record kinds the CLI can list, one per table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Dns,
    Http,
    Tls,
    Dhcp,
    Flows,
    Devices,
    Alerts,
}

impl Kind {
    /// Every kind, in CLI order.
    pub const ALL: [Kind; 7] = [
        Kind::Dns,
        Kind::Http,
        Kind::Tls,
        Kind::Dhcp,
        Kind::Flows,
        Kind::Devices,
        Kind::Alerts,
    ];

    /// The CLI command and table name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dns => "dns",
            Kind::Http => "http",
            Kind::Tls => "tls",
            Kind::Dhcp => "dhcp",
            Kind::Flows => "flows",
            Kind::Devices => "devices",
            Kind::Alerts => "alerts",
        }
    }

    /// The kind whose [`Kind::name`] is `s`.
    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Opens the database at `path` read-only for the CLI.
///
/// Fails with an error naming the path when the file is missing, and when its schema is
/// newer or older than this build (an older one is migrated by the daemon's next start).
pub fn open_read(path: &Path) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(StoreError::Other {
            path: shown,
            msg: "no such file (has the daemon or `analyze` written it yet?)".into(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match Connection::open_with_flags(path, flags) {
        Ok(c) => c,
        Err(e) => return Err(schema::sqlite(path, e)),
    };
    conn.busy_timeout(schema::BUSY_TIMEOUT)
        .map_err(|e| schema::sqlite(path, e))?;
    let version = schema::user_version(&conn).map_err(|e| schema::sqlite(path, e))?;
    schema::check_version(version, path)?;
    if version < schema::SCHEMA_VERSION {
        return Err(StoreError::Other {
            path: shown,
            msg: format!(
                "schema version {version} is older than this phonehome's ({}); start the \
                 daemon once to migrate it",
                schema::SCHEMA_VERSION
            ),
        });
    }
    Ok(conn)
}

/// Saturating conversion of an unsigned counter to SQLite's INTEGER.
pub(crate) fn sql_u64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
