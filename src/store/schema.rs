//! Schema, migrations and connection set-up.
//!
//! Migrations are a ladder of `PRAGMA user_version` steps ([`MIGRATIONS`]): step `i` takes a
//! database from version `i` to `i + 1` and runs in its own transaction together with the
//! version bump, so a crash leaves the file at a whole version. A file whose version is newer
//! than [`SCHEMA_VERSION`] is refused, never written.
//!
//! Invariants of the stored data: timestamps are INTEGER microseconds since the Unix epoch
//! (UTC); MACs are TEXT in lowercase colon form; IP addresses are TEXT as `IpAddr` displays
//! them; lists are JSON text; protocol numbers (DNS qtype/rcode, DHCP message type) are stored
//! as numbers and named at query time.
//!
//! The database and its `-wal`/`-shm` files are mode 0640: the main file is created (or
//! re-moded) by [`open_write`] before SQLite opens it, and SQLite gives the `-wal`/`-shm` files
//! the main file's mode when it creates them; [`open_write`] re-modes existing ones too.
//!
//! Group readers (the `phonehome-logs` group reading over SSH while the daemon writes): a WAL
//! reader that may not write the `-shm` file still reads, as long as `-wal` and `-shm` exist
//! (SQLite ≥ 3.22 then builds the WAL index in its own memory); it cannot create them in a
//! data directory it may not write. So the writer keeps them after closing
//! (`SQLITE_FCNTL_PERSIST_WAL`) and gives them the main file's group, so a database whose
//! group is `phonehome-logs` (a setgid data directory, or `chgrp`) stays readable by that
//! group whether the daemon runs or not. Measured in `tests/ssh_serve.rs`.

use std::fs::{OpenOptions, Permissions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, FileControl, OpenFlags};

use super::StoreError;

/// Schema version this build writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Mode of the database file and its `-wal`/`-shm` companions: owner rw, group r. The
/// database holds device identifiers, so others get nothing.
pub const DB_FILE_MODE: u32 = 0o640;

/// How long a connection waits for a lock held by another one before failing with
/// SQLITE_BUSY (the CLI reading while the daemon checkpoints).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The migration ladder: `MIGRATIONS[i]` upgrades version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// Version 4 (QUIC): the QUIC version a ClientHello came in (`v1`, `v2`, `draft-29`), NULL for
/// TLS over TCP.
const V4: &str = "
ALTER TABLE tls ADD COLUMN quic_version TEXT;
";

/// Version 3 (device identity): what a device is (DHCP vendor class, OS family from the DHCP
/// fingerprint or a User-Agent, model, app), its stable label, and `same_as`, the MAC it had
/// before in the same session (a phone that rejoined under a new MAC with the same DHCP
/// client identifier and hostname), across which the user's `name` is inherited.
const V3: &str = "
ALTER TABLE devices ADD COLUMN vendor_class TEXT;
ALTER TABLE devices ADD COLUMN os TEXT;
ALTER TABLE devices ADD COLUMN model TEXT;
ALTER TABLE devices ADD COLUMN app TEXT;
ALTER TABLE devices ADD COLUMN label TEXT;
ALTER TABLE devices ADD COLUMN same_as TEXT;
";

/// Version 2 (detectors): flows carry the server's country and AS; alerts carry the key
/// that merges repeats ([`crate::store::insert`]) and the time of the latest repeat, with the
/// index that merge looks up; `id` of an alert is what `phonehome evidence` names.
const V2: &str = "
ALTER TABLE flows ADD COLUMN country TEXT;
ALTER TABLE flows ADD COLUMN asn INTEGER;
ALTER TABLE flows ADD COLUMN as_org TEXT;
ALTER TABLE alerts ADD COLUMN dedup_key TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN last_ts INTEGER;
ALTER TABLE alerts ADD COLUMN destination TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_merge ON alerts(kind, destination, dedup_key, ts);
";

/// Version 1: every table and the indexes behind the CLI queries (ts; device_mac, ts).
const V1: &str = "
CREATE TABLE dns (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    device_mac TEXT,
    client_ip TEXT NOT NULL,
    client_port INTEGER NOT NULL,
    server_ip TEXT NOT NULL,
    server_port INTEGER NOT NULL,
    transport TEXT NOT NULL,
    protocol TEXT NOT NULL,
    trans_id INTEGER NOT NULL,
    opcode INTEGER NOT NULL,
    qname TEXT NOT NULL,
    qname_wire TEXT NOT NULL,
    qtype INTEGER NOT NULL,
    rcode INTEGER,
    answers TEXT NOT NULL,
    response_only INTEGER NOT NULL
);
CREATE INDEX dns_ts ON dns(ts);
CREATE INDEX dns_mac_ts ON dns(device_mac, ts);

CREATE TABLE http (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    device_mac TEXT,
    client_ip TEXT NOT NULL,
    client_port INTEGER NOT NULL,
    server_ip TEXT NOT NULL,
    server_port INTEGER NOT NULL,
    method TEXT NOT NULL,
    host TEXT,
    uri TEXT NOT NULL,
    version TEXT NOT NULL,
    user_agent TEXT,
    referrer TEXT,
    content_type TEXT,
    content_encoding TEXT,
    auth_scheme TEXT,
    cookie_present INTEGER NOT NULL,
    content_length INTEGER,
    chunked INTEGER NOT NULL
);
CREATE INDEX http_ts ON http(ts);
CREATE INDEX http_mac_ts ON http(device_mac, ts);

CREATE TABLE tls (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    device_mac TEXT,
    client_ip TEXT NOT NULL,
    client_port INTEGER NOT NULL,
    server_ip TEXT NOT NULL,
    server_port INTEGER NOT NULL,
    transport TEXT NOT NULL,
    sni TEXT,
    alpn TEXT NOT NULL,
    version INTEGER NOT NULL,
    supported_versions TEXT NOT NULL,
    ja3 TEXT NOT NULL,
    ja3_string TEXT NOT NULL,
    ja4 TEXT NOT NULL,
    ja4_r TEXT NOT NULL
);
CREATE INDEX tls_ts ON tls(ts);
CREATE INDEX tls_mac_ts ON tls(device_mac, ts);

CREATE TABLE dhcp (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    device_mac TEXT,
    client_mac TEXT NOT NULL,
    src_ip TEXT NOT NULL,
    dst_ip TEXT NOT NULL,
    op INTEGER NOT NULL,
    xid INTEGER NOT NULL,
    msg_type INTEGER,
    ciaddr TEXT,
    yiaddr TEXT,
    hostname TEXT,
    vendor_class TEXT,
    param_list TEXT NOT NULL,
    requested_ip TEXT,
    server_id TEXT,
    client_id TEXT,
    options_present TEXT NOT NULL
);
CREATE INDEX dhcp_ts ON dhcp(ts);
CREATE INDEX dhcp_mac_ts ON dhcp(device_mac, ts);

CREATE TABLE flows (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    device_mac TEXT,
    transport TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    client_port INTEGER NOT NULL,
    server_ip TEXT NOT NULL,
    server_port INTEGER NOT NULL,
    bytes_up INTEGER NOT NULL,
    bytes_down INTEGER NOT NULL,
    packets_up INTEGER NOT NULL,
    packets_down INTEGER NOT NULL,
    domain TEXT,
    tcp_state TEXT NOT NULL,
    end_reason TEXT NOT NULL
);
CREATE INDEX flows_ts ON flows(ts);
CREATE INDEX flows_mac_ts ON flows(device_mac, ts);

CREATE TABLE devices (
    mac TEXT PRIMARY KEY,
    vendor TEXT,
    randomized INTEGER NOT NULL,
    hostname TEXT,
    name TEXT,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE INDEX devices_last_seen ON devices(last_seen);

CREATE TABLE device_ips (
    id INTEGER PRIMARY KEY,
    mac TEXT NOT NULL,
    ip TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    UNIQUE (mac, ip)
);
CREATE INDEX device_ips_last_seen ON device_ips(last_seen);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    severity TEXT NOT NULL,
    kind TEXT NOT NULL,
    device_mac TEXT,
    client_ip TEXT,
    server_ip TEXT,
    server_port INTEGER,
    proto TEXT,
    domain TEXT,
    country TEXT,
    asn INTEGER,
    summary TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    count INTEGER NOT NULL DEFAULT 1,
    acknowledged_at INTEGER
);
CREATE INDEX alerts_ts ON alerts(ts);
CREATE INDEX alerts_mac_ts ON alerts(device_mac, ts);

CREATE TABLE capture_stats (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    source TEXT NOT NULL,
    packets_seen INTEGER NOT NULL,
    bytes_seen INTEGER NOT NULL,
    packets_decoded INTEGER NOT NULL,
    decode_errors INTEGER NOT NULL,
    kernel_drops INTEGER NOT NULL,
    queue_drops INTEGER NOT NULL,
    store_drops INTEGER NOT NULL,
    flows_created INTEGER NOT NULL,
    flows_evicted INTEGER NOT NULL
);
CREATE INDEX capture_stats_ts ON capture_stats(ts);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Opens (creating if needed) the database at `path` for writing: mode 0640, WAL,
/// `synchronous=NORMAL`, busy timeout, then migrates it to [`SCHEMA_VERSION`].
pub fn open_write(path: &Path) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    let other = |msg: String| StoreError::Other {
        path: shown.clone(),
        msg,
    };
    // Create the file ourselves so it never exists with a wider mode, then set the mode
    // explicitly: `mode()` at creation is filtered by the process umask, `set_permissions` is not.
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(DB_FILE_MODE)
        .open(path)
        .map_err(|e| other(format!("cannot create: {e}")))?;
    set_mode(path).map_err(|e| other(format!("cannot set mode 0640: {e}")))?;

    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite(path, e))?;
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "database did not switch to WAL journal mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut persist = 1;
        conn.file_control(
            Some(rusqlite::MAIN_DB),
            FileControl::PersistWal(&mut persist),
        )?;
        Ok(())
    };
    setup().map_err(|e| sqlite(path, e))?;
    migrate(&mut conn, path)?;
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = Path::new(&p);
        if p.exists() {
            set_mode(p).map_err(|e| other(format!("cannot set mode 0640 on {suffix}: {e}")))?;
            follow_group(path, p);
        }
    }
    Ok(conn)
}

/// Gives `companion` the group of the main file `db`. Best effort: only root or a member of
/// that group may, so a failure is logged and the companion keeps its group.
fn follow_group(db: &Path, companion: &Path) {
    use std::os::unix::fs::MetadataExt;
    let (Ok(main), Ok(own)) = (std::fs::metadata(db), std::fs::metadata(companion)) else {
        return;
    };
    if main.gid() == own.gid() {
        return;
    }
    if let Err(e) = std::os::unix::fs::chown(companion, None, Some(main.gid())) {
        tracing::warn!(
            file = %companion.display(),
            gid = main.gid(),
            "cannot give the database's group to its companion file: {e}"
        );
    }
}

/// Sets mode 0640 unless the file already has it (so a file we may write but do not own, and
/// that is already right, is not an error).
fn set_mode(path: &Path) -> std::io::Result<()> {
    if std::fs::metadata(path)?.permissions().mode() & 0o777 == DB_FILE_MODE {
        return Ok(());
    }
    std::fs::set_permissions(path, Permissions::from_mode(DB_FILE_MODE))
}

/// Reads `PRAGMA user_version`.
pub fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the database from its current version to [`SCHEMA_VERSION`], one transaction per
/// step. Refuses a database newer than this build.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let current = user_version(conn).map_err(|e| sqlite(path, e))?;
    check_version(current, path)?;
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let to = from + 1;
        let mut step = || -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            // PRAGMA takes no bound parameters; `to` is a small integer from our own table.
            tx.execute_batch(&format!("PRAGMA user_version = {to}"))?;
            tx.commit()
        };
        step().map_err(|e| StoreError::Other {
            path: path.display().to_string(),
            msg: format!("migration to schema version {to} failed: {e}"),
        })?;
        tracing::info!(version = to, "database schema migrated");
    }
    Ok(())
}

/// Errors when `version` is newer than this build knows.
pub(crate) fn check_version(version: u32, path: &Path) -> Result<(), StoreError> {
    if version > SCHEMA_VERSION {
        return Err(StoreError::Other {
            path: path.display().to_string(),
            msg: format!(
                "schema version {version} is newer than this phonehome understands \
                 ({SCHEMA_VERSION}); upgrade phonehome"
            ),
        });
    }
    Ok(())
}

/// Wraps a rusqlite error with the database path.
pub(crate) fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}
