//! The Pi image scripts (image/): light checks only, the image build and its qemu boot test
//! are run by hand (`image/build.sh --deb PATH && image/boot-test.sh phonehome.img`).
//!
//! - every script parses (`bash -n`) and passes shellcheck when it is installed;
//! - the first-boot script runs for real against a scratch root folder
//!   (`PHONEHOME_FIRSTBOOT_ROOT`, systemctl acting offline with `--root`) with the phonehome
//!   binary under test: settings installed and rendered, keys installed, units enabled, bad
//!   settings refused and left in place, and the passphrase never printed. Needs root (files
//!   are installed as root:phonehome), ssh-keygen and systemctl; skips with a reason otherwise.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SCRIPTS: [&str; 5] = [
    "image/build.sh",
    "image/boot-test.sh",
    "image/customize.sh",
    "image/test/standin-deb.sh",
    "image/overlay/usr/local/sbin/phonehome-firstboot",
];
const FIRSTBOOT: &str = "image/overlay/usr/local/sbin/phonehome-firstboot";
const PASS: &str = "correct-horse-battery-staple-4711";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

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

#[test]
fn scripts_parse_and_are_executable() {
    for s in SCRIPTS {
        let out = Command::new("bash")
            .arg("-n")
            .arg(repo(s))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bash -n {s}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mode = fs::metadata(repo(s)).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{s} is not executable");
    }
}

#[test]
fn scripts_pass_shellcheck() {
    if !have("shellcheck") {
        return;
    }
    let out = Command::new("shellcheck")
        .args(SCRIPTS.map(repo))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn overlay_keeps_ssh_key_only_and_the_boot_partition_private() {
    let sshd =
        fs::read_to_string(repo("image/overlay/etc/ssh/sshd_config.d/phonehome.conf")).unwrap();
    for line in [
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no",
    ] {
        assert!(
            sshd.lines().any(|l| l == line),
            "sshd drop-in lacks {line:?}"
        );
    }
    let fstab = fs::read_to_string(repo("image/overlay/etc/fstab")).unwrap();
    let boot = fstab
        .lines()
        .find(|l| l.starts_with("LABEL=RASPIFIRM"))
        .unwrap();
    assert!(boot.contains("umask=0077"), "{boot}");
    let unit = fs::read_to_string(repo(
        "image/overlay/etc/systemd/system/phonehome-firstboot.service",
    ))
    .unwrap();
    for before in [
        "network-pre.target",
        "systemd-networkd.service",
        "ssh.service",
        "hostapd.service",
    ] {
        assert!(
            unit.lines()
                .any(|l| l.starts_with("Before=") && l.contains(before)),
            "{before}"
        );
    }
}

/// A scratch root with what the image holds that the first-boot script touches.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new(toml: &str, keys: Option<&str>) -> Root {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for d in [
            "boot/firmware",
            "etc/ssh",
            "home/admin",
            "lib/systemd/system",
            "etc/systemd/system/multi-user.target.wants",
        ] {
            fs::create_dir_all(p.join(d)).unwrap();
        }
        fs::write(
            p.join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/bash\n",
        )
        .unwrap();
        fs::write(
            p.join("etc/group"),
            "root:x:0:\nphonehome:x:999:\nadmin:x:1000:\n",
        )
        .unwrap();
        let stub = "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";
        for u in ["phonehome", "hostapd", "dnsmasq", "nftables"] {
            fs::write(p.join(format!("lib/systemd/system/{u}.service")), stub).unwrap();
        }
        fs::copy(
            repo("image/overlay/etc/systemd/system/phonehome-firstboot.service"),
            p.join("etc/systemd/system/phonehome-firstboot.service"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            "/etc/systemd/system/phonehome-firstboot.service",
            p.join("etc/systemd/system/multi-user.target.wants/phonehome-firstboot.service"),
        )
        .unwrap();
        fs::write(p.join("boot/firmware/phonehome.toml"), toml).unwrap();
        if let Some(k) = keys {
            fs::write(p.join("boot/firmware/authorized_keys"), k).unwrap();
        }
        Root { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self) -> Output {
        Command::new(repo(FIRSTBOOT))
            .env("PHONEHOME_FIRSTBOOT_ROOT", self.dir.path())
            .env("PHONEHOME_BIN", env!("CARGO_BIN_EXE_phonehome"))
            .output()
            .unwrap()
    }

    fn enabled(&self, unit: &str) -> bool {
        // The links are absolute (into the image), so look at the link, not its target.
        self.path(&format!(
            "etc/systemd/system/multi-user.target.wants/{unit}"
        ))
        .symlink_metadata()
        .is_ok()
    }
}

fn firstboot_can_run() -> bool {
    if !nix::unistd::Uid::effective().is_root() {
        println!("SKIP: the first-boot script installs files as root:phonehome; run as root");
        return false;
    }
    have("ssh-keygen") && have("systemctl")
}

fn public_key(dir: &Path) -> String {
    common::ssh_keygen(&dir.join("k"), "test@phonehome")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn firstboot_installs_settings_and_keys_then_disables_itself() {
    if !firstboot_can_run() {
        return;
    }
    let keydir = tempfile::tempdir().unwrap();
    let key = public_key(keydir.path());
    let toml = format!("[ap]\nssid = \"hotel\"\npassphrase = \"{PASS}\"\ncountry = \"de\"\n");
    let root = Root::new(&toml, Some(&format!("# mine\n{key}")));
    let out = root.run();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(!log.contains(PASS), "passphrase printed: {log}");
    assert!(
        log.contains("bridge mode: hostapd and phonehome enabled"),
        "{log}"
    );
    assert!(log.contains("1 SSH key(s) installed for admin"), "{log}");

    let conf = root.path("etc/phonehome/phonehome.toml");
    assert_eq!(fs::read_to_string(&conf).unwrap(), toml);
    let meta = fs::metadata(&conf).unwrap();
    assert_eq!(
        (meta.mode() & 0o777, meta.uid(), meta.gid()),
        (0o640, 0, 999)
    );
    assert!(
        !root.path("boot/firmware/phonehome.toml").exists(),
        "passphrase left on FAT"
    );
    assert!(root.path("boot/firmware/phonehome-firstboot.done").exists());

    let hostapd = fs::read_to_string(root.path("etc/hostapd/hostapd.conf")).unwrap();
    assert!(hostapd.lines().any(|l| l == "country_code=DE"), "{hostapd}");
    assert!(
        hostapd.lines().any(|l| l == "ssid2=P\"hotel\""),
        "{hostapd}"
    );
    assert!(root
        .path("etc/systemd/network/10-phonehome-br0.netdev")
        .exists());
    assert_eq!(
        fs::read_to_string(root.path("etc/modprobe.d/phonehome-regdom.conf"))
            .unwrap()
            .lines()
            .last(),
        Some("options cfg80211 ieee80211_regdom=DE")
    );

    let ak = root.path("home/admin/.ssh/authorized_keys");
    assert_eq!(fs::read_to_string(&ak).unwrap(), format!("# mine\n{key}"));
    let meta = fs::metadata(&ak).unwrap();
    assert_eq!(
        (meta.mode() & 0o777, meta.uid(), meta.gid()),
        (0o600, 1000, 1000)
    );
    assert!(
        root.path("etc/ssh/ssh_host_ed25519_key").exists(),
        "no host key generated"
    );

    assert!(root.enabled("phonehome.service") && root.enabled("hostapd.service"));
    assert!(!root.enabled("dnsmasq.service"));
    assert!(
        !root.enabled("phonehome-firstboot.service"),
        "first boot still enabled"
    );
}

#[test]
fn firstboot_routed_mode_enables_dnsmasq_and_nftables() {
    if !firstboot_can_run() {
        return;
    }
    let keydir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[capture]\ninterface = \"wlan0\"\n[ap]\npassphrase = \"{PASS}\"\ncountry = \"FR\"\nmode = \"routed\"\nuplink = \"usb0\"\n"
    );
    let root = Root::new(&toml, Some(&public_key(keydir.path())));
    let out = root.run();
    assert!(out.status.success(), "{}", text(&out));
    for u in [
        "phonehome.service",
        "hostapd.service",
        "dnsmasq.service",
        "nftables.service",
    ] {
        assert!(root.enabled(u), "{u} not enabled");
    }
    assert!(root.path("etc/nftables.d/phonehome-ap.nft").exists());
}

#[test]
fn firstboot_refuses_bad_settings_and_retries_next_boot() {
    if !firstboot_can_run() {
        return;
    }
    // An unknown section: phonehome's parser is strict, so a typo never goes unnoticed.
    let toml = format!("[ap]\npassphrase = \"{PASS}\"\ncountry = \"DE\"\n[firstboot]\nx = 1\n");
    let root = Root::new(&toml, None);
    let out = root.run();
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(!log.contains(PASS), "passphrase printed: {log}");
    assert!(log.contains("phonehome.toml"), "{log}");
    assert!(
        log.contains("firstboot"),
        "the message names the bad section: {log}"
    );
    assert!(log.contains("rejected"), "{log}");
    assert!(
        log.contains("no authorized_keys on the boot partition"),
        "{log}"
    );
    assert!(
        root.path("boot/firmware/phonehome.toml").exists(),
        "the user's file was removed"
    );
    assert!(!root.path("etc/phonehome/phonehome.toml").exists());
    assert!(
        root.enabled("phonehome-firstboot.service"),
        "must run again next boot"
    );
    assert!(!root.enabled("phonehome.service"));
    // Host keys are made even when the settings are wrong: ssh must work once they are fixed.
    assert!(root.path("etc/ssh/ssh_host_ed25519_key").exists());
}

#[test]
fn firstboot_refuses_a_passphrase_too_short_without_printing_it() {
    if !firstboot_can_run() {
        return;
    }
    let root = Root::new(
        "[ap]\npassphrase = \"hunter2\"\ncountry = \"DE\"\n",
        Some("not a key\n"),
    );
    let out = root.run();
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(!log.contains("hunter2"), "passphrase printed: {log}");
    assert!(
        log.contains("passphrase"),
        "the message names the key: {log}"
    );
    assert!(
        log.contains("authorized_keys: not a list of SSH public keys"),
        "{log}"
    );
    assert!(root.path("boot/firmware/authorized_keys").exists());
}
