//! `phonehome backup`: a consistent copy taken while the store writer keeps committing (WAL),
//! streamed to stdout (as over SSH) or written to a file; refused to a terminal.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::prelude::*;
use phonehome::event::{DnsProtocol, DnsRecord, Event, MacAddr, Transport};
use phonehome::store::writer::{Writer, WriterConfig};
use rusqlite::Connection;

fn bin(db: &Path) -> Command {
    let cfg = empty_config(db);
    let mut c = Command::cargo_bin("phonehome").unwrap();
    c.env_remove("PHONEHOME_DB")
        .env("PHONEHOME_CONFIG", cfg)
        .arg("--db")
        .arg(db);
    c
}

/// An empty config beside `db`: built-in defaults, never the machine's own file.
fn empty_config(db: &Path) -> std::path::PathBuf {
    let cfg = db.with_file_name("phonehome.toml");
    if !cfg.exists() {
        std::fs::write(&cfg, "").unwrap();
    }
    cfg
}

fn dns(i: u64) -> Event {
    Event::Dns(DnsRecord {
        ts: 1_700_000_000_000_000 + i as i64,
        device_mac: MacAddr::parse("04:f1:28:5c:3a:7e"),
        client_ip: IpAddr::V4(Ipv4Addr::new(192, 168, 8, 23)),
        client_port: 40000,
        server_ip: IpAddr::V4(Ipv4Addr::new(192, 168, 8, 1)),
        server_port: 53,
        transport: Transport::Udp,
        protocol: DnsProtocol::Dns,
        trans_id: (i % 65536) as u16,
        opcode: 0,
        qname: format!("n{i}.example.com"),
        qtype: 1,
        rcode: Some(0),
        answers: vec!["192.0.2.1".into()],
        response_only: false,
    })
}

fn quick() -> WriterConfig {
    WriterConfig {
        flush_interval: Duration::from_millis(20),
        batch_max: 200,
        retention_days: 0,
        ..WriterConfig::default()
    }
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn backup_to_stdout_is_consistent_while_the_writer_commits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let writer = Writer::spawn(&db, quick()).expect("spawn writer");
    let sink = writer.sink();
    for i in 0..5000 {
        assert!(sink.send_blocking(dns(i)));
    }
    writer.flush().expect("flush");
    let committed_before = 5000;

    // Keep committing while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(committed_before));
    let feeder = {
        let (stop, sent, sink) = (Arc::clone(&stop), Arc::clone(&sent), writer.sink());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let i = sent.fetch_add(1, Ordering::Relaxed);
                if !sink.send_blocking(dns(i)) {
                    break;
                }
                if i % 100 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let tmp = tempfile::tempdir().unwrap();
    let out = bin(&db)
        .env("TMPDIR", tmp.path())
        .args(["backup", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let sent_after = sent.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    feeder.join().unwrap();
    let stats = writer.finish().expect("finish");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"SQLite format 3\0"));

    let copy = dir.path().join("copy.db");
    std::fs::write(&copy, &out.stdout).unwrap();
    let c = Connection::open(&copy).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(
        count(&c, "PRAGMA user_version"),
        i64::from(phonehome::store::schema::SCHEMA_VERSION)
    );
    let rows = count(&c, "SELECT COUNT(*) FROM dns");
    println!(
        "backup: {} bytes, {rows} dns rows; {committed_before} committed before, {} sent by \
         the end, {} written in all",
        out.stdout.len(),
        sent_after,
        stats.written.dns
    );
    assert!(rows >= committed_before as i64, "{rows} rows");
    assert!(rows as u64 <= stats.written.dns);
    // The copy is one self-contained file, not a WAL database missing its log.
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    // Rows are whole: every qname matches the trans_id it was written with.
    let bad = count(
        &c,
        "SELECT COUNT(*) FROM dns WHERE qname NOT LIKE 'n%.example.com'",
    );
    assert_eq!(bad, 0);
    // No temp file is left behind in the temp dir the command used.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn backup_to_a_file_is_private_and_never_replaces_one_without_force() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let w = Writer::spawn(&db, quick()).unwrap();
    for i in 0..10 {
        w.sink().send_blocking(dns(i));
    }
    w.finish().unwrap();

    let out = dir.path().join("audit.db");
    bin(&db).arg("backup").arg(&out).assert().success();
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let c = Connection::open(&out).unwrap();
    assert_eq!(count(&c, "SELECT COUNT(*) FROM dns"), 10);
    drop(c);

    std::fs::write(&out, b"keep me").unwrap();
    let refused = bin(&db).arg("backup").arg(&out).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    bin(&db)
        .arg("backup")
        .arg(&out)
        .arg("--force")
        .assert()
        .success();
    assert!(std::fs::read(&out)
        .unwrap()
        .starts_with(b"SQLite format 3\0"));
    // Only the database, its kept WAL files, the evidence folder and the copy remain.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("live.db"))
        .collect();
    names.sort();
    assert!(
        names
            .iter()
            .all(|n| ["audit.db", "evidence", "phonehome.toml"].contains(&n.as_str())),
        "{names:?}"
    );
}

#[test]
fn backup_refuses_a_terminal_and_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = bin(&dir.path().join("none.db"))
        .args(["backup", "-"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("none.db"));

    // A terminal on stdout: script(1) gives the command a pty.
    if Command::new("script").arg("--version").output().is_err() {
        println!("skipped the terminal case: script(1) (util-linux) is not installed");
        return;
    }
    let exe = assert_cmd::cargo::cargo_bin("phonehome");
    let cmd = format!(
        "{} --db {} backup -",
        exe.display(),
        dir.path().join("none.db").display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env(
            "PHONEHOME_CONFIG",
            empty_config(&dir.path().join("none.db")),
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("refusing to write a binary database to a terminal"),
        "{text}"
    );
}
