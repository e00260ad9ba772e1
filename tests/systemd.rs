//! The systemd unit: `systemd-analyze verify` accepts it, `systemd-analyze security` scores it
//! at most 2.0 (lower is better), it carries the hardening the daemon relies on, and the
//! daemon speaks the notify protocol the unit expects (READY, WATCHDOG, STOPPING).

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const UNIT: &str = include_str!("../systemd/phonehome.service");

fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        println!("SKIP: {tool} not installed");
    }
    found
}

/// The unit with ExecStart pointing at the binary under test (verify checks it exists).
fn unit_in(dir: &Path) -> std::path::PathBuf {
    let bin = env!("CARGO_BIN_EXE_phonehome");
    let path = dir.join("phonehome.service");
    std::fs::write(&path, UNIT.replace("/usr/bin/phonehome", bin)).unwrap();
    path
}

/// `key=value` lines of the unit (last one wins, like systemd for single-valued keys).
fn values(key: &str) -> Vec<&'static str> {
    UNIT.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

#[test]
fn unit_carries_the_hardening_the_daemon_relies_on() {
    for (key, value) in [
        ("Type", "notify"),
        ("Restart", "on-failure"),
        ("User", "phonehome"),
        ("Group", "phonehome-logs"),
        ("SupplementaryGroups", "phonehome"),
        ("AmbientCapabilities", "CAP_NET_RAW CAP_NET_ADMIN"),
        ("CapabilityBoundingSet", "CAP_NET_RAW CAP_NET_ADMIN"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("PrivateTmp", "yes"),
        ("ReadWritePaths", "/var/lib/phonehome"),
        ("StateDirectoryMode", "0750"),
        ("UMask", "0027"),
        ("RestrictAddressFamilies", "AF_PACKET AF_NETLINK AF_UNIX"),
        ("IPAddressDeny", "any"),
        ("DevicePolicy", "closed"),
        ("WatchdogSec", "30s"),
    ] {
        assert_eq!(values(key), [value], "{key}");
    }
    assert_eq!(values("SystemCallFilter")[0], "@system-service");
    // Devices: GPIO and I2C only.
    for d in values("DeviceAllow") {
        assert!(
            d.starts_with("/dev/gpiomem") || d == "char-gpiochip rw" || d == "char-i2c rw",
            "{d}"
        );
    }
    let after = values("After").join(" ");
    assert!(after.contains("hostapd.service") && after.contains("systemd-networkd.service"));
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    if !have("systemd-analyze") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_in(dir.path());
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify failed:\n{stderr}");
    assert!(
        !stderr.contains("phonehome.service:"),
        "warnings:\n{stderr}"
    );
}

#[test]
fn systemd_analyze_security_scores_at_most_2() {
    if !have("systemd-analyze") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_in(dir.path());
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for phonehome.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no score in:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    println!("systemd-analyze security --offline=true: exposure {score}");
    assert!(score <= 2.0, "exposure {score} > 2.0:\n{text}");
}

/// One datagram, retried when a signal interrupts the wait (EINTR).
fn recv(sock: &UnixDatagram, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match sock.recv(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Root: the daemon, started as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC), in a network
/// namespace of its own, capturing on its loopback.
#[test]
fn daemon_notifies_ready_watchdog_and_stopping() {
    if !nix::unistd::Uid::effective().is_root() {
        println!("SKIP: needs root (capture socket, network namespace)");
        return;
    }
    if !have("unshare") || !have("ip") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let db = dir.path().join("t.db");
    let bin = env!("CARGO_BIN_EXE_phonehome");
    let mut daemon = Command::new("unshare")
        .args([
            "-n",
            "sh",
            "-c",
            // systemd sets WATCHDOG_PID to the service's pid; exec keeps the shell's.
            "export WATCHDOG_PID=$$; ip link set lo up && exec \"$0\" \"$@\"",
        ])
        .arg(bin)
        .arg("--db")
        .arg(&db)
        .args(["run", "--iface", "lo"])
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "1000000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut messages = Vec::new();
    let mut buf = [0u8; 512];
    let until = Instant::now() + Duration::from_secs(10);
    while messages
        .iter()
        .filter(|m: &&String| m.contains("WATCHDOG=1"))
        .count()
        < 3
    {
        let got = recv(&sock, &mut buf);
        if Instant::now() >= until || got.is_err() {
            let _ = daemon.kill();
            let out = daemon.wait_with_output().unwrap();
            panic!(
                "messages so far: {messages:?} ({got:?}); daemon stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let n = got.unwrap_or(0);
        messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(
        messages[0].contains("READY=1") && messages[0].contains("STATUS=capturing on lo"),
        "{messages:?}"
    );
    let pid = nix::unistd::Pid::from_raw(daemon.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    loop {
        let n = recv(&sock, &mut buf).expect("STOPPING within 10 s");
        if String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1") {
            break;
        }
    }
    let out = daemon.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
