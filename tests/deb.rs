//! The .deb: what `tools/build-deb.sh` makes, checked with Debian's own tools.
//!
//! Always run: the default config the package installs (`packaging/phonehome.toml`) parses,
//! states the true built-in defaults, and leaves `ap render` refusing until a passphrase is set;
//! the maintainer scripts pass `sh -n` and carry the `#DEBHELPER#` token cargo-deb fills.
//!
//! With `PHONEHOME_DEB=path/to/phonehome_*.deb` (and dpkg-deb installed; otherwise each test
//! prints why it skips): the file list and modes (`dpkg-deb -c`), the control fields and
//! conffiles (`dpkg-deb -f`, `-I`), the generated maintainer scripts (`dpkg-deb -e`, `sh -n`),
//! the packaged data byte for byte against `packaging/data/SHA256SUMS` and loaded by the
//! product's own loaders (`dpkg-deb -x`). Installing it into a Debian chroot is in
//! `deb/chroot.rs`.

#[path = "deb/chroot.rs"]
mod chroot;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome::config::Config;
use sha2::{Digest, Sha256};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `[section] key` lines of the default config that show an example, not a default.
const EXAMPLE_KEYS: &[&str] = &["kind", "value", "device", "passphrase", "country"];

fn repo(rel: &str) -> PathBuf {
    Path::new(ROOT).join(rel)
}

fn default_config() -> String {
    std::fs::read_to_string(repo("packaging/phonehome.toml")).unwrap()
}

/// True when `tool` runs; prints why the caller skips otherwise.
pub(crate) fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("SKIP: {tool} is not installed");
    }
    found
}

/// The built .deb named by `PHONEHOME_DEB`, when it and dpkg-deb are there.
pub(crate) fn built_deb() -> Option<PathBuf> {
    if !have("dpkg-deb") {
        return None;
    }
    let Some(path) = std::env::var_os("PHONEHOME_DEB") else {
        println!("SKIP: PHONEHOME_DEB is not set (build one with tools/build-deb.sh)");
        return None;
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "PHONEHOME_DEB={} is no file",
        path.display()
    );
    Some(path)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn dpkg_deb(args: &[&str], deb: &Path) -> String {
    run(Command::new("dpkg-deb").args(args).arg(deb))
}

#[test]
fn default_config_parses_to_the_builtin_defaults() {
    let path = repo("packaging/phonehome.toml");
    let text = default_config();
    let parsed = Config::parse(&text, &path).unwrap();
    let defaults = Config {
        source: Some(path.clone()),
        ..Config::default()
    };
    assert_eq!(parsed, defaults);

    // Every "# key = value" line states the default: uncommented, nothing changes.
    let mut uncommented = 0;
    let mut lines = Vec::new();
    for line in text.lines() {
        let key_value = line.strip_prefix("# ").filter(|rest| {
            let key = rest.split(" = ").next().unwrap_or_default();
            rest.contains(" = ")
                && !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
                && !EXAMPLE_KEYS.contains(&key)
        });
        match key_value {
            Some(kv) => {
                uncommented += 1;
                lines.push(kv.to_owned());
            }
            None => lines.push(line.to_owned()),
        }
    }
    assert!(uncommented >= 40, "only {uncommented} documented defaults");
    let all = Config::parse(&lines.join("\n"), &path)
        .unwrap_or_else(|e| panic!("uncommented defaults do not parse: {e}"));
    // Keys set in the file, even to their defaults, make a missing data file an error instead
    // of a skipped default: why the shipped file keeps them commented.
    assert!(all.detect.ioc_paths_explicit && all.detect.geo_explicit);
    let mut all = all;
    all.detect.ioc_paths_explicit = false;
    all.detect.geo_explicit = false;
    assert_eq!(
        all, defaults,
        "a documented default differs from the built-in one"
    );
}

#[test]
fn default_config_names_every_section() {
    let text = default_config();
    for section in [
        "[capture]",
        "[store]",
        "[flows]",
        "# [[identifiers]]",
        "[ioc]",
        "[trackers]",
        "[geo]",
        "[policy]",
        "[indicators]",
        "[ap]",
    ] {
        assert!(
            text.lines().any(|l| l == section),
            "{section} missing from packaging/phonehome.toml"
        );
    }
    // The passphrase is never set by the package.
    assert!(!text.lines().any(|l| l.starts_with("passphrase")));
}

#[test]
fn ap_render_refuses_the_default_config() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_phonehome"))
        .arg("--config")
        .arg(repo("packaging/phonehome.toml"))
        .args(["ap", "render", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "ap render accepted the default config"
    );
    assert!(stderr.contains("passphrase"), "stderr: {stderr}");
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 0);
}

#[test]
fn maintainer_scripts_are_valid_sh_with_the_debhelper_token() {
    for script in ["postinst", "postrm"] {
        let path = repo(&format!("packaging/debian/{script}"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("#!/bin/sh\n"),
            "{script}: not a /bin/sh script"
        );
        // cargo-deb replaces every occurrence, comments included.
        assert_eq!(text.matches("#DEBHELPER#").count(), 1, "{script}");
        assert!(text.contains("\n#DEBHELPER#\n"), "{script}");
        assert!(text.contains("\nset -e\n"), "{script}: no set -e");
        run(Command::new("sh").arg("-n").arg(&path));
    }
}

/// One `dpkg-deb -c` line: mode string, owner/group, path without the leading `.`.
fn contents(deb: &Path) -> BTreeMap<String, (String, String)> {
    dpkg_deb(&["-c"], deb)
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let path = f.get(5)?.strip_prefix('.')?.trim_end_matches('/');
            Some((path.to_owned(), (f[0].to_owned(), f[1].to_owned())))
        })
        .collect()
}

/// `packaging/data/SHA256SUMS`: path under /usr/share/phonehome → hex digest.
fn data_sums() -> BTreeMap<String, String> {
    std::fs::read_to_string(repo("packaging/data/SHA256SUMS"))
        .unwrap()
        .lines()
        .map(|l| {
            let (sum, path) = l.split_once("  ").unwrap();
            (format!("/usr/share/phonehome/{path}"), sum.to_owned())
        })
        .collect()
}

#[test]
fn deb_holds_the_files_with_their_modes() {
    let Some(deb) = built_deb() else { return };
    let files = contents(&deb);
    let expect = |path: &str, mode: &str| {
        let (m, owner) = files
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in the .deb: {:?}", files.keys()));
        assert_eq!(m, mode, "{path}");
        assert!(
            ["0/0", "root/root"].contains(&owner.as_str()),
            "{path}: owner {owner}"
        );
    };
    expect("/usr/bin/phonehome", "-rwxr-xr-x");
    // Stripped (`--strip`): 9.4 MiB for x86-64 in 2026, 44 MiB with the profile's line tables.
    let size: u64 = dpkg_deb(&["-c"], deb.as_path())
        .lines()
        .find(|l| l.ends_with(" ./usr/bin/phonehome"))
        .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        .unwrap();
    assert!(size < 24 << 20, "binary of {size} bytes: not stripped?");
    expect("/etc/phonehome/phonehome.toml", "-rw-r-----");
    expect("/usr/lib/systemd/system/phonehome.service", "-rw-r--r--");
    expect("/usr/lib/udev/rules.d/60-phonehome.rules", "-rw-r--r--");
    expect("/usr/share/doc/phonehome/NOTICE", "-rw-r--r--");
    expect("/usr/share/doc/phonehome/copyright", "-rw-r--r--");
    let sums = data_sums();
    assert_eq!(
        sums.len(),
        19,
        "14 STIX bundles, 2 Echap lists, 3 geo files"
    );
    for path in sums.keys() {
        expect(path, "-rw-r--r--");
    }
    // Nothing else is shipped as data: in particular nothing non-commercial.
    let shipped: Vec<&String> = files
        .iter()
        .filter(|(p, (m, _))| p.starts_with("/usr/share/phonehome/") && !m.starts_with('d'))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(shipped, sums.keys().collect::<Vec<_>>());
    assert!(!files.keys().any(|p| p.contains("noncommercial")));
}

#[test]
fn deb_control_fields_and_conffiles() {
    let Some(deb) = built_deb() else { return };
    let field = |name: &str| {
        dpkg_deb(&["-f"], &deb)
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": ").map(str::to_owned))
    };
    assert_eq!(field("Package").as_deref(), Some("phonehome"));
    let arch = field("Architecture").unwrap();
    assert!(["amd64", "arm64"].contains(&arch.as_str()), "{arch}");
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with(&format!("_{arch}.deb")), "{name} vs {arch}");
    let depends = field("Depends").unwrap();
    let names: Vec<&str> = depends
        .split(',')
        .map(|d| d.split_whitespace().next().unwrap_or_default())
        .collect();
    for want in ["libc6", "adduser", "hostapd", "iw", "systemd"] {
        assert!(names.contains(&want), "Depends lacks {want}: {depends}");
    }
    assert_eq!(field("Recommends").as_deref(), Some("dnsmasq, nftables"));
    let conffiles = run(Command::new("dpkg-deb")
        .arg("-I")
        .arg(&deb)
        .arg("conffiles"));
    assert_eq!(conffiles.trim(), "/etc/phonehome/phonehome.toml");
}

#[test]
fn deb_maintainer_scripts_create_the_user_and_drive_systemd() {
    let Some(deb) = built_deb() else { return };
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(dir.path()));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    for script in ["postinst", "prerm", "postrm"] {
        let path = dir.path().join(script);
        let mode = std::os::unix::fs::PermissionsExt::mode(&path.metadata().unwrap().permissions());
        assert_eq!(mode & 0o777, 0o755, "{script}");
        run(Command::new("sh").arg("-n").arg(&path));
        assert!(
            !read(script).contains("#DEBHELPER#"),
            "{script}: token left"
        );
    }
    let postinst = read("postinst");
    assert!(postinst.contains("adduser --system"));
    assert!(postinst.contains("deb-systemd-helper enable phonehome.service"));
    assert!(
        postinst.contains("deb-systemd-invoke $_dh_action 'phonehome.service'")
            || postinst.contains("deb-systemd-invoke $_dh_action phonehome.service")
    );
    // Users first, then the generated part that starts the service.
    let users = postinst.find("adduser --system").unwrap();
    let start = postinst.find("deb-systemd-invoke").unwrap();
    assert!(
        users < start,
        "the service would start before its user exists"
    );
    let postrm = read("postrm");
    assert!(postrm.contains("rm -rf /var/lib/phonehome"));
    assert!(postrm.contains("deb-systemd-helper purge"));
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn deb_data_is_the_reference_data_and_loads() {
    let Some(deb) = built_deb() else { return };
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(dir.path()));
    let at = |p: &str| dir.path().join(p.trim_start_matches('/'));
    for (path, sum) in data_sums() {
        assert_eq!(sha256_hex(&at(&path)), sum, "{path}");
    }
    assert_eq!(
        std::fs::read(at("/etc/phonehome/phonehome.toml")).unwrap(),
        default_config().into_bytes()
    );
    assert_eq!(
        std::fs::read_to_string(at("/usr/lib/systemd/system/phonehome.service")).unwrap(),
        std::fs::read_to_string(repo("systemd/phonehome.service")).unwrap()
    );

    let (set, errors) = phonehome::intel::ioc::IocSet::load(&[at("/usr/share/phonehome/ioc")]);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(set.len() >= 6_000, "{} indicators", set.len());
    let pegasus = set.match_domain("weather4free.com").unwrap();
    assert_eq!(pegasus.family, Some("Pegasus"));
    let flexispy = set.match_domain("api.flexispy.com").unwrap();
    assert_eq!(flexispy.family, Some("FlexiSpy"));

    let geo = phonehome::intel::geo::GeoDb::open(
        Some(&at("/usr/share/phonehome/geo/geo-whois-asn-country.mmdb")),
        &[
            at("/usr/share/phonehome/geo/asn-ipv4.csv"),
            at("/usr/share/phonehome/geo/asn-ipv6.csv"),
        ],
    )
    .unwrap();
    let info = geo.lookup("202.96.104.12".parse().unwrap());
    assert_eq!((info.country_str(), info.asn), (Some("CN"), Some(4134)));

    // The binary of the package runs here when it was built for this machine.
    let arch = dpkg_deb(&["-f"], &deb);
    if arch.contains("Architecture: amd64") && cfg!(target_arch = "x86_64") {
        let version = run(Command::new(at("/usr/bin/phonehome")).arg("--version"));
        assert!(version.starts_with("phonehome "), "{version}");
    }
}
