//! The restricted key end to end through a real OpenSSH server: sshd listens on the loopback
//! of a network namespace this test creates, authorized_keys holds
//! `command="… phonehome ssh-serve",restrict` for a throwaway key, and the stock `ssh` client
//! asks for the README's commands and for things the key must not do.
//!
//! Needs root (network namespace, sshd's privilege separation) and OpenSSH
//! (`openssh-server`, `openssh-client`); skips with the reason otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;

const SSHD: &str = "/usr/sbin/sshd";
const PORT: &str = "2222";

fn skip_reason() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root (network namespace, sshd)".into());
    }
    for tool in [SSHD, "ssh", "ssh-keygen", "ip"] {
        let found = if tool.starts_with('/') {
            Path::new(tool).exists()
        } else {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !found {
            return Some(format!(
                "{tool} not installed (openssh-server, openssh-client, iproute2)"
            ));
        }
    }
    None
}

/// A network namespace with its loopback up, deleted on drop (with sshd in it killed).
struct Namespace {
    name: String,
    sshd: Option<Child>,
}

impl Namespace {
    fn new() -> Namespace {
        let name = format!("phss{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        assert!(Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success());
        let ns = Namespace { name, sshd: None };
        assert!(ns
            .exec(&["ip", "link", "set", "lo", "up"])
            .status()
            .unwrap()
            .success());
        ns
    }

    fn exec(&self, argv: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(argv);
        c
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Some(mut sshd) = self.sshd.take() {
            let _ = sshd.kill();
            let _ = sshd.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn keygen(path: &Path) {
    common::ssh_keygen(path, "phonehome-test");
}

/// The analysed demo capture in `dir/t.db`, with an empty config beside it.
fn analysed(dir: &Path) -> (PathBuf, PathBuf) {
    let (db, cfg, pcap) = (
        dir.join("t.db"),
        dir.join("phonehome.toml"),
        dir.join("demo.pcap"),
    );
    std::fs::write(&cfg, "").unwrap();
    std::fs::write(&pcap, phonehome::synth::demo_capture()).unwrap();
    Command::cargo_bin("phonehome")
        .unwrap()
        .env_remove("PHONEHOME_DB")
        .args(["--config"])
        .arg(&cfg)
        .arg("--db")
        .arg(&db)
        .arg("analyze")
        .arg(&pcap)
        .assert()
        .success();
    (db, cfg)
}

/// Starts sshd in `ns` with `dir/authorized_keys` and waits until it accepts connections.
fn start_sshd(ns: &mut Namespace, dir: &Path) {
    keygen(&dir.join("host"));
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {PORT}\nListenAddress 127.0.0.1\nHostKey {d}/host\n\
             AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n",
            d = dir.display()
        ),
    )
    .unwrap();
    // sshd's privilege separation needs this empty root-owned directory.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
    ns.sshd = Some(
        ns.exec(&[SSHD, "-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = ns
            .exec(&["bash", "-c", &format!("exec 3<>/dev/tcp/127.0.0.1/{PORT}")])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        if up {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "sshd did not start: {}",
            std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `ssh` from inside the namespace with the client key; `extra` goes before the destination.
fn ssh(ns: &Namespace, dir: &Path, extra: &[&str], command: Option<&str>) -> Output {
    let key = dir.join("client");
    let mut c = ns.exec(&["ssh", "-T", "-p", PORT, "-i"]);
    c.arg(&key)
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .args(extra)
        .arg("root@127.0.0.1");
    if let Some(cmd) = command {
        c.arg(cmd);
    }
    c.stdin(Stdio::null()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn restricted_key_through_real_sshd() {
    if let Some(why) = skip_reason() {
        println!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (db, cfg) = analysed(d);
    keygen(&d.join("client"));
    let public = std::fs::read_to_string(d.join("client.pub")).unwrap();
    // What README "Fetch the logs" tells a user to put in authorized_keys; the test points
    // the forced command at its own binary and database instead of /usr/bin and /etc.
    let forced = format!(
        "env PHONEHOME_CONFIG={} PHONEHOME_DB={} {} ssh-serve",
        cfg.display(),
        db.display(),
        env!("CARGO_BIN_EXE_phonehome")
    );
    std::fs::write(
        d.join("authorized_keys"),
        format!("command=\"{forced}\",restrict {public}"),
    )
    .unwrap();
    let mut ns = Namespace::new();
    start_sshd(&mut ns, d);

    // The README's two commands.
    let alerts = ssh(
        &ns,
        d,
        &[],
        Some("phonehome alerts --since '2024-03-14T00:00:00Z'"),
    );
    assert!(alerts.status.success(), "{}", text(&alerts.stderr));
    let listed = text(&alerts.stdout);
    assert!(listed.contains("pii_leak"), "{listed}");
    // Identifiers stay masked over SSH as on the console.
    assert!(listed.contains("IMEI …7518"), "{listed}");
    let backup = ssh(&ns, d, &[], Some("phonehome backup -"));
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    let copy = d.join("audit.db");
    std::fs::write(&copy, &backup.stdout).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let original = rusqlite::Connection::open(&db).unwrap();
    let count = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))
            .unwrap()
    };
    assert!(count(&conn) > 0);
    assert_eq!(count(&conn), count(&original));

    // What the key must not do: each refused by ssh-serve (exit 2, a reason, nothing run).
    let stolen = d.join("stolen.db");
    let write_copy = format!("phonehome backup {}", stolen.display());
    for request in [
        "rm -rf /",
        "phonehome run",
        &write_copy,
        "phonehome --db /etc/shadow alerts",
        "sh -c id",
        "alerts; id",
    ] {
        let out = ssh(&ns, d, &[], Some(request));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{request:?}: {}",
            text(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{request:?} printed {}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stderr).contains("refused"),
            "{request:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(!stolen.exists());
    // No command at all (a login shell) is refused the same way.
    let shell = ssh(&ns, d, &[], None);
    assert_eq!(shell.status.code(), Some(2), "{}", text(&shell.stderr));
    // `restrict`: no port forwarding, whatever the command.
    let forward = ssh(
        &ns,
        d,
        &["-o", "ExitOnForwardFailure=yes", "-R", "12222:127.0.0.1:22"],
        Some("phonehome status"),
    );
    assert!(!forward.status.success(), "a forwarding was allowed");
    assert!(
        text(&forward.stderr).to_lowercase().contains("forward"),
        "{}",
        text(&forward.stderr)
    );
}
