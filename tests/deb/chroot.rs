//! Installing the .deb for real: a throwaway Debian bookworm chroot made with
//! `mmdebstrap --variant=apt` (with the package's dependencies preinstalled), then
//! `dpkg -i`, the postinst run a second time, a reinstall, an admin's dpkg-statoverride, and
//! `dpkg --purge`; after each step the users, groups, owners and modes are read back inside the
//! chroot, and the daemon's user runs `phonehome demo` on the packaged indicator and geo data.
//!
//! Needs root, mmdebstrap, a Debian mirror, PHONEHOME_DEB built for this machine's
//! architecture, and `PHONEHOME_DEB_CHROOT=1` (about a minute or two: it downloads some 60 MB);
//! otherwise it prints why it skips. No systemd runs in a chroot, so the generated part of the
//! postinst enables the unit (symlinks) but does not start it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use super::{built_deb, have, run};

/// Packages installed with the chroot: the .deb's Depends, so `dpkg -i` needs no network.
const DEPENDS: &str = "adduser,hostapd,iw,systemd";

fn chroot(root: &Path, args: &[&str]) -> String {
    run(Command::new("chroot").arg(root).args(args))
}

/// The facts the maintainer scripts are responsible for, as one comparable string.
fn state(root: &Path) -> String {
    let mut s = String::new();
    for (what, args) in [
        ("user", &["getent", "passwd", "phonehome"][..]),
        ("group", &["getent", "group", "phonehome"]),
        ("logs", &["getent", "group", "phonehome-logs"]),
        ("ids", &["id", "phonehome"]),
        (
            "perms",
            &[
                "stat",
                "-c",
                "%n %U:%G %a",
                "/var/lib/phonehome",
                "/etc/phonehome/phonehome.toml",
                "/usr/bin/phonehome",
            ],
        ),
    ] {
        s.push_str(what);
        s.push_str(": ");
        s.push_str(&chroot(root, args));
    }
    s
}

fn absent(root: &Path, args: &[&str]) -> bool {
    !Command::new("chroot")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn installs_configures_twice_and_purges_in_a_bookworm_chroot() {
    let Some(deb) = built_deb() else { return };
    if std::env::var_os("PHONEHOME_DEB_CHROOT").is_none() {
        println!(
            "SKIP: PHONEHOME_DEB_CHROOT is not set (the chroot install test downloads ~60 MB)"
        );
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        println!("SKIP: the chroot install test needs root");
        return;
    }
    if !have("mmdebstrap") || !have("chroot") {
        return;
    }
    let host_arch = run(Command::new("dpkg").arg("--print-architecture"));
    let deb_arch = run(Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&deb)
        .arg("Architecture"));
    if host_arch.trim() != deb_arch.trim() {
        println!(
            "SKIP: the .deb is {} and this machine {}",
            deb_arch.trim(),
            host_arch.trim()
        );
        return;
    }

    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let out = Command::new("mmdebstrap")
        .args([
            "--quiet",
            "--variant=apt",
            &format!("--include={DEPENDS}"),
            "bookworm",
        ])
        .arg(&root)
        .output()
        .unwrap();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        println!("SKIP: mmdebstrap could not make a bookworm chroot (no mirror?): {tail:?}");
        return;
    }
    let bootstrapped = started.elapsed();
    std::fs::copy(&deb, root.join("tmp/phonehome.deb")).unwrap();
    let ex = root.join("tmp/control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&ex));

    // Install.
    chroot(&root, &["dpkg", "-i", "/tmp/phonehome.deb"]);
    let first = state(&root);
    let user = chroot(&root, &["getent", "passwd", "phonehome"]);
    let f: Vec<&str> = user.trim().split(':').collect();
    assert_eq!(
        (f[5], f[6]),
        ("/var/lib/phonehome", "/usr/sbin/nologin"),
        "{user}"
    );
    let uid: u32 = f[2].parse().unwrap();
    assert!(uid < 1000, "not a system user: {user}");
    assert!(
        first.contains("/var/lib/phonehome phonehome:phonehome-logs 750\n"),
        "{first}"
    );
    assert!(
        first.contains("/etc/phonehome/phonehome.toml root:phonehome-logs 640\n"),
        "{first}"
    );
    assert!(
        first.contains("/usr/bin/phonehome root:root 755\n"),
        "{first}"
    );
    let logs = chroot(&root, &["getent", "group", "phonehome-logs"]);
    assert!(
        logs.trim().ends_with(":phonehome"),
        "daemon not in phonehome-logs: {logs}"
    );
    let wants = root.join("etc/systemd/system/multi-user.target.wants/phonehome.service");
    // deb-systemd-helper links to /lib/… on bookworm: the same file with merged /usr.
    let link = std::fs::read_link(&wants).unwrap();
    assert!(
        link.ends_with("lib/systemd/system/phonehome.service"),
        "{link:?}"
    );
    assert!(
        root.join(link.strip_prefix("/").unwrap()).is_file(),
        "{link:?}"
    );
    // The daemon's user reads its config (through phonehome-logs); the binary runs.
    let conf = chroot(
        &root,
        &[
            "runuser",
            "-u",
            "phonehome",
            "--",
            "cat",
            "/etc/phonehome/phonehome.toml",
        ],
    );
    assert!(conf.contains("[ap]"));
    let version = chroot(&root, &["phonehome", "--version"]);
    assert!(version.starts_with("phonehome "), "{version}");
    // As the daemon's user, the demo (default config) loads the packaged data.
    let demo = Command::new("chroot")
        .arg(&root)
        .args([
            "runuser",
            "-u",
            "phonehome",
            "--",
            "phonehome",
            "-v",
            "demo",
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&demo.stderr);
    assert!(demo.status.success(), "{log}");
    assert!(log.contains("geo databases loaded"), "{log}");
    assert!(log.contains("files_with_errors=0"), "{log}");
    assert!(String::from_utf8_lossy(&demo.stdout).contains("critical  pii_leak"));

    // Configure again, then reinstall: nothing changes.
    chroot(
        &root,
        &[
            "/var/lib/dpkg/info/phonehome.postinst",
            "configure",
            "0.1.0-1",
        ],
    );
    assert_eq!(state(&root), first, "a second postinst changed the state");
    chroot(&root, &["dpkg", "-i", "/tmp/phonehome.deb"]);
    assert_eq!(state(&root), first, "a reinstall changed the state");
    // An admin's dpkg-statoverride wins over the postinst.
    let dir_state = "/var/lib/phonehome";
    chroot(
        &root,
        &[
            "dpkg-statoverride",
            "--update",
            "--add",
            "root",
            "root",
            "0700",
            dir_state,
        ],
    );
    chroot(
        &root,
        &[
            "/var/lib/dpkg/info/phonehome.postinst",
            "configure",
            "0.1.0-1",
        ],
    );
    let kept = chroot(&root, &["stat", "-c", "%U:%G %a", dir_state]);
    assert_eq!(kept.trim(), "root:root 700");
    chroot(&root, &["dpkg-statoverride", "--remove", dir_state]);

    // Purge: the user, its groups, the log folder and the config go.
    std::fs::write(root.join("var/lib/phonehome/phonehome.db"), b"log").unwrap();
    chroot(&root, &["dpkg", "--purge", "phonehome"]);
    assert!(absent(&root, &["getent", "passwd", "phonehome"]));
    assert!(absent(&root, &["getent", "group", "phonehome"]));
    assert!(absent(&root, &["getent", "group", "phonehome-logs"]));
    for gone in [
        "var/lib/phonehome",
        "etc/phonehome",
        "usr/lib/udev/rules.d/60-phonehome.rules",
        "etc/systemd/system/multi-user.target.wants/phonehome.service",
    ] {
        assert!(!root.join(gone).exists(), "{gone} left after purge");
    }
    // The purge step is idempotent too.
    chroot(&root, &["sh", "/tmp/control/postrm", "purge"]);
    println!(
        "chroot: bootstrap {:.0} s, install/reconfigure/purge {:.0} s",
        bootstrapped.as_secs_f64(),
        (started.elapsed() - bootstrapped).as_secs_f64()
    );
}
