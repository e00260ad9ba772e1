//! The access point: `[ap]` validation errors (file:line and key, never the passphrase), the
//! rendered files line by line for both modes and both bands, the real tools' verdict on them
//! (hostapd's own parser, `dnsmasq --test`, `nft -c` and a load into a throwaway network
//! namespace), and `phonehome ap render` end to end. A test whose tool is missing prints why
//! it skips.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome::ap::{self, RenderedFile};
use phonehome::config::{ApMode, Band, Config, ConfigError, Pmf};

const PASS: &str = "correct horse battery";

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/phonehome/phonehome.toml"))
}

fn ap_toml(extra: &str) -> String {
    format!("[ap]\npassphrase = \"{PASS}\"\ncountry = \"de\"\n{extra}")
}

fn render(extra: &str) -> Vec<RenderedFile> {
    ap::render(&parse(&ap_toml(extra)).unwrap().ap).unwrap()
}

fn contents<'a>(files: &'a [RenderedFile], path: &str) -> &'a str {
    let f = files.iter().find(|f| f.path == path);
    &f.unwrap_or_else(|| panic!("{path} not rendered")).contents
}

/// Lines that are neither comments nor blank.
fn settings(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect()
}

/// A tool's path, looked for on PATH and in the sbin folders (not on a normal user's PATH).
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

#[test]
fn defaults_without_an_ap_section() {
    let c = parse("").unwrap().ap;
    assert_eq!(c.ssid, "phonehome");
    assert_eq!(c.passphrase, None);
    assert_eq!(c.country, None);
    assert_eq!(
        (c.band, c.channel, c.mode),
        (Band::Ghz2_4, 6, ApMode::Bridge)
    );
    assert!(c.wpa3);
    assert_eq!(c.pmf, Pmf::Optional);
    assert_eq!((c.interface.as_str(), c.uplink.as_str()), ("wlan0", "eth0"));
    assert_eq!(c.subnet.to_string(), "192.168.73.1/24");
    assert_eq!(c.dhcp_range.0.to_string(), "192.168.73.10");
    assert_eq!(c.dhcp_range.1.to_string(), "192.168.73.250");
}

#[test]
fn every_key_is_read() {
    let c = parse(&ap_toml(
        "ssid = \"Café \\\"Wi-Fi\\\"\"\nband = 5\nchannel = 149\nmode = \"routed\"\nwpa3 = false\n\
         pmf = \"required\"\ninterface = \"wlan1\"\nuplink = \"usb0\"\nsubnet = \"10.9.0.1/16\"\n\
         dhcp_range = [\"10.9.1.1\", \"10.9.1.200\"]\n",
    ))
    .unwrap()
    .ap;
    assert_eq!(c.ssid, "Café \"Wi-Fi\"");
    assert_eq!(c.passphrase.as_deref(), Some(PASS));
    assert_eq!(c.country.as_deref(), Some("DE"));
    assert_eq!(
        (c.band, c.channel, c.mode),
        (Band::Ghz5, 149, ApMode::Routed)
    );
    assert!(!c.wpa3);
    assert_eq!(c.pmf, Pmf::Required);
    assert_eq!((c.interface.as_str(), c.uplink.as_str()), ("wlan1", "usb0"));
    assert_eq!(c.subnet.to_string(), "10.9.0.1/16");
    assert_eq!(c.dhcp_range.1.to_string(), "10.9.1.200");
    // The 5 GHz default channel, the band as a string, and a derived DHCP range.
    let c = parse(&ap_toml("band = \"5\"\nsubnet = \"172.20.0.1/24\"\n"))
        .unwrap()
        .ap;
    assert_eq!(c.channel, 36);
    assert_eq!(c.dhcp_range.0.to_string(), "172.20.0.10");
}

#[test]
fn bad_values_name_file_line_and_key() {
    let f = "/etc/phonehome/phonehome.toml";
    let cases: &[(&str, &str, &str)] = &[
        (
            "ssid = \"\"",
            "ssid",
            "expected 1-32 bytes of text without control characters",
        ),
        (
            "ssid = \"123456789012345678901234567890123\"",
            "ssid",
            "got \"1234",
        ),
        (
            "ssid = \"evil\\nline\"",
            "ssid",
            "without control characters",
        ),
        (
            "country = \"XX\"",
            "country",
            "expected an ISO 3166 alpha-2 country code",
        ),
        ("country = \"DEU\"", "country", "got \"DEU\""),
        (
            "band = \"6\"",
            "band",
            "expected \"2.4\" or \"5\", got \"6\"",
        ),
        (
            "channel = 14",
            "channel",
            "expected a 2.4 GHz channel from 1 to 13, got 14",
        ),
        (
            "band = \"5\"\nchannel = 52",
            "channel",
            "without radar detection (36, 40",
        ),
        (
            "mode = \"mesh\"",
            "mode",
            "expected \"bridge\" or \"routed\"",
        ),
        ("wpa3 = \"yes\"", "wpa3", "expected true or false"),
        ("pmf = \"disabled\"", "pmf", "WPA3-SAE requires 802.11w"),
        (
            "interface = \"wlan0; rm\"",
            "interface",
            "expected an interface name",
        ),
        (
            "uplink = \"wlan0\"",
            "uplink",
            "other than the Wi-Fi interface",
        ),
        ("uplink = \"br0\"", "uplink", "the bridge phonehome creates"),
        ("subnet = \"192.168.73.0/24\"", "subnet", "a host address"),
        ("subnet = \"10.0.0.1/30\"", "subnet", "prefix 8-28"),
        (
            "subnet = \"10.0.0.100/24\"",
            "subnet",
            "would contain the router's address",
        ),
        (
            "dhcp_range = [\"192.168.74.10\", \"192.168.74.20\"]",
            "dhcp_range",
            "of 192.168.73.1/24",
        ),
        (
            "dhcp_range = [\"192.168.73.20\", \"192.168.73.10\"]",
            "dhcp_range",
            "first <= last",
        ),
        (
            "dhcp_range = [\"192.168.73.1\", \"192.168.73.10\"]",
            "dhcp_range",
            "not containing",
        ),
        (
            "dhcp_range = \"192.168.73.10\"",
            "dhcp_range",
            "two addresses",
        ),
    ];
    for (line, key, want) in cases {
        // The bad key sits on line 4, after [ap] and two comments (or on the case's last line).
        let e = parse(&format!("[ap]\n# the router\n# on the desk\n{line}\n")).unwrap_err();
        let shown = e.to_string();
        let ConfigError::Invalid {
            line: n, key: k, ..
        } = &e
        else {
            panic!("{line}: {e:?}")
        };
        let expect_line = 4 + line.matches('\n').count();
        assert_eq!(*n, expect_line, "{line}: {shown}");
        assert_eq!(
            k.as_deref(),
            Some(format!("ap.{key}").as_str()),
            "{line}: {shown}"
        );
        assert!(
            shown.starts_with(&format!("{f}:{expect_line}: [ap] {key}: ")),
            "{line}: {shown}"
        );
        assert!(shown.contains(want), "{line}: {shown}");
    }
    let e = parse("[ap]\nssid = \"x\"\nchanel = 6\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{f}:3: unknown key 'chanel' in [ap]")),
        "{e}"
    );
}

#[test]
fn a_bad_passphrase_is_refused_without_being_quoted() {
    for (value, why) in [
        ("\"short77\"", "got 7 characters"),
        (&format!("\"{}\"", "p".repeat(64)), "got 64 characters"),
        ("\"pässwort-geheim\"", "outside printable ASCII"),
        ("\"tab\\there-secret\"", "outside printable ASCII"),
        ("12345678", "got a value of type integer"),
    ] {
        let text = format!("# audit box\n[ap]\npassphrase = {value}\n");
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.starts_with("/etc/phonehome/phonehome.toml:3: [ap] passphrase: expected 8-63 printable ASCII characters"),
            "{e}"
        );
        assert!(e.contains(why), "{e}");
        for secret in ["short77", "ppppppppp", "wort", "secret", "12345678"] {
            assert!(!e.contains(secret), "{e}");
        }
    }
}

#[test]
fn bridge_2_4_ghz_hostapd_conf_line_by_line() {
    let files = render("ssid = \"Hotel \\\"Lobby\\\" \\\\ ☕\"\n");
    let paths: Vec<&str> = files.iter().map(|f| f.path).collect();
    assert_eq!(
        paths,
        [
            "hostapd/hostapd.conf",
            "systemd/network/10-phonehome-br0.netdev",
            "systemd/network/10-phonehome-br0.network",
            "systemd/network/10-phonehome-uplink.network",
        ]
    );
    assert_eq!(
        settings(contents(&files, ap::HOSTAPD_PATH)),
        [
            "interface=wlan0",
            "driver=nl80211",
            "bridge=br0",
            "ctrl_interface=/run/hostapd",
            "ctrl_interface_group=0",
            r#"ssid2=P"Hotel \"Lobby\" \\ ☕""#,
            "utf8_ssid=1",
            "country_code=DE",
            "ieee80211d=1",
            "hw_mode=g",
            "channel=6",
            "ieee80211n=1",
            "wmm_enabled=1",
            "auth_algs=1",
            "ignore_broadcast_ssid=0",
            "macaddr_acl=0",
            "wpa=2",
            "wpa_key_mgmt=WPA-PSK SAE",
            "rsn_pairwise=CCMP",
            "wpa_passphrase=correct horse battery",
            "ieee80211w=1",
            "sae_require_mfp=1",
        ]
    );
    assert_eq!(
        settings(contents(&files, ap::BR0_NETDEV_PATH)),
        ["[NetDev]", "Name=br0", "Kind=bridge"]
    );
    assert_eq!(
        settings(contents(&files, ap::BR0_NETWORK_PATH)),
        ["[Match]", "Name=br0", "[Network]", "DHCP=yes"]
    );
    assert_eq!(
        settings(contents(&files, ap::UPLINK_NETWORK_PATH)),
        ["[Match]", "Name=eth0", "[Network]", "Bridge=br0"]
    );
}

#[test]
fn routed_5_ghz_files_line_by_line() {
    let files =
        render("band = \"5\"\nchannel = 44\nmode = \"routed\"\nwpa3 = false\nuplink = \"usb0\"\n");
    let paths: Vec<&str> = files.iter().map(|f| f.path).collect();
    assert_eq!(
        paths,
        [
            "hostapd/hostapd.conf",
            "systemd/network/10-phonehome-ap.network",
            "systemd/network/10-phonehome-uplink.network",
            "dnsmasq.d/phonehome-ap.conf",
            "nftables.d/phonehome-ap.nft",
            "sysctl.d/90-phonehome-ap.conf",
        ]
    );
    let hostapd = settings(contents(&files, ap::HOSTAPD_PATH));
    assert!(
        !hostapd.iter().any(|l| l.starts_with("bridge=")),
        "{hostapd:?}"
    );
    assert!(
        !hostapd.iter().any(|l| l.starts_with("sae_")),
        "{hostapd:?}"
    );
    for want in [
        "hw_mode=a",
        "channel=44",
        "ieee80211ac=1",
        "wpa_key_mgmt=WPA-PSK",
        "ieee80211w=1",
    ] {
        assert!(hostapd.contains(&want), "{want} not in {hostapd:?}");
    }
    assert_eq!(
        settings(contents(&files, ap::AP_NETWORK_PATH)),
        [
            "[Match]",
            "Name=wlan0",
            "[Network]",
            "Address=192.168.73.1/24",
            "ConfigureWithoutCarrier=yes",
            "LinkLocalAddressing=no",
            "IPv6AcceptRA=no",
        ]
    );
    assert_eq!(
        settings(contents(&files, ap::UPLINK_NETWORK_PATH)),
        ["[Match]", "Name=usb0", "[Network]", "DHCP=yes"]
    );
    assert_eq!(
        settings(contents(&files, ap::DNSMASQ_PATH)),
        [
            "interface=wlan0",
            "bind-dynamic",
            "dhcp-range=192.168.73.10,192.168.73.250,255.255.255.0,12h",
            "dhcp-option=option:router,192.168.73.1",
            "dhcp-option=option:dns-server,192.168.73.1",
            "dhcp-authoritative",
            "domain-needed",
            "bogus-priv",
        ]
    );
    let nft: Vec<&str> = settings(contents(&files, ap::NFTABLES_PATH))
        .into_iter()
        .map(str::trim)
        .collect();
    for want in [
        "type filter hook forward priority filter; policy drop;",
        "ct state established,related accept",
        "iifname \"wlan0\" oifname \"usb0\" accept",
        "iifname \"wlan0\" udp dport { 53, 67 } accept",
        "iifname \"wlan0\" drop",
        "type nat hook postrouting priority srcnat; policy accept;",
        "oifname \"usb0\" ip saddr 192.168.73.0/24 masquerade",
    ] {
        assert!(nft.contains(&want), "{want} not in {nft:?}");
    }
    // Only the Wi-Fi → uplink direction is forwarded besides replies.
    assert_eq!(
        nft.iter()
            .filter(|l| l.contains("oifname") && l.ends_with("accept"))
            .count(),
        1
    );
    assert_eq!(
        settings(contents(&files, ap::SYSCTL_PATH)),
        ["net.ipv4.ip_forward = 1"]
    );
}

#[test]
fn rendering_needs_a_passphrase_and_a_country() {
    let c = parse("[ap]\ncountry = \"FR\"\n").unwrap();
    let e = ap::render(&c.ap).unwrap_err().to_string();
    assert!(
        e.contains("[ap] passphrase is not set: add passphrase = "),
        "{e}"
    );
    let c = parse(&format!("[ap]\npassphrase = \"{PASS}\"\n")).unwrap();
    let e = ap::render(&c.ap).unwrap_err().to_string();
    assert!(
        e.contains("[ap] country is not set: add country = \"XX\""),
        "{e}"
    );
    assert!(!e.contains(PASS));
}

/// hostapd's verdict on `conf`: Ok when its parser accepts the whole file, else its output.
/// hostapd has no check-only flag; with `driver=none` it parses everything first, exits 1
/// listing every bad line, or keeps running (killed by `timeout`, exit 124) when all is valid.
fn hostapd_parses(hostapd: &Path, conf: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let ctrl = dir.path().join("ctrl");
    let copy: String = conf
        .lines()
        .map(|l| match l {
            "driver=nl80211" => "driver=none".to_owned(),
            l if l.starts_with("ctrl_interface=") => format!("ctrl_interface={}", ctrl.display()),
            l => l.to_owned(),
        })
        .map(|l| l + "\n")
        .collect();
    let path = dir.path().join("hostapd.conf");
    std::fs::write(&path, copy).unwrap();
    let out = Command::new("timeout")
        .arg("3")
        .arg(hostapd)
        .arg(&path)
        .output()
        .unwrap();
    match out.status.code() {
        Some(124) => Ok(()),
        _ => Err(format!(
            "{:?}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

#[test]
fn hostapd_parser_accepts_every_shape_and_refuses_a_broken_file() {
    let Some(hostapd) = tool("hostapd") else {
        println!("skipped: hostapd not installed (apt-get install hostapd)");
        return;
    };
    let shapes = [
        "",
        "band = \"5\"\nchannel = 165\nmode = \"routed\"\n",
        "wpa3 = false\npmf = \"disabled\"\n",
        "pmf = \"required\"\nchannel = 13\n",
        "ssid = \"\\\"quoted\\\" \\\\ ☕ #not-a-comment\"\n",
        "ssid = \"12345678901234567890123456789012\"\n",
    ];
    let mut passes = Vec::new();
    for (i, extra) in shapes.iter().enumerate() {
        // Passphrases at both length limits and with hostapd-significant characters.
        let longest = "~".repeat(63);
        let pass = ["12345678", &longest, " #x\"y\\z = ", PASS][i % 4];
        let text = format!("[ap]\npassphrase = '{pass}'\ncountry = \"JP\"\n{extra}");
        let files = ap::render(&parse(&text).unwrap().ap).unwrap();
        let conf = contents(&files, ap::HOSTAPD_PATH).to_owned();
        let hostapd = hostapd.clone();
        passes.push(std::thread::spawn(move || {
            (i, hostapd_parses(&hostapd, &conf))
        }));
    }
    for t in passes {
        let (i, verdict) = t.join().unwrap();
        assert_eq!(verdict, Ok(()), "shape {i}: {:?}", shapes[i]);
    }
    // The check can fail: a raw newline in the SSID (the escaping we avoid) breaks the file.
    let conf =
        contents(&render(""), ap::HOSTAPD_PATH).replace("ssid2=P\"phonehome\"", "ssid=phone\nhome");
    let e = hostapd_parses(&hostapd, &conf).unwrap_err();
    assert!(e.contains("invalid line 'home'"), "{e}");
    let conf = contents(&render(""), ap::HOSTAPD_PATH).replace(PASS, "short");
    let e = hostapd_parses(&hostapd, &conf).unwrap_err();
    assert!(e.contains("invalid WPA passphrase length 5"), "{e}");
    assert!(!e.contains(PASS));
}

#[test]
fn dnsmasq_accepts_the_routed_config_and_refuses_a_broken_one() {
    let Some(dnsmasq) = tool("dnsmasq") else {
        println!("skipped: dnsmasq not installed (apt-get install dnsmasq)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = render("mode = \"routed\"\nsubnet = \"10.42.0.1/20\"\n");
    let good = contents(&files, ap::DNSMASQ_PATH);
    assert!(
        good.contains("dhcp-range=10.42.0.10,10.42.15.250,255.255.240.0,12h"),
        "{good}"
    );
    for (name, text, ok) in [
        ("good.conf", good.to_owned(), true),
        (
            "bad.conf",
            good.replace("dhcp-range=", "dhcp-rnage="),
            false,
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = Command::new(&dnsmasq)
            .arg("--test")
            .arg("-C")
            .arg(&path)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.success(), ok, "{name}: {said}");
        if ok {
            assert!(said.contains("syntax check OK"), "{said}");
        }
    }
}

#[test]
fn nft_accepts_the_ruleset_in_check_mode_and_in_a_fresh_netns() {
    let Some(nft) = tool("nft") else {
        println!("skipped: nft not installed (apt-get install nftables)");
        return;
    };
    if !is_root() {
        println!("skipped: nft needs CAP_NET_ADMIN even in check mode (run as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rules = contents(
        &render("mode = \"routed\"\nuplink = \"wlan1\"\n"),
        ap::NFTABLES_PATH,
    )
    .to_owned();
    let good = dir.path().join("good.nft");
    std::fs::write(&good, &rules).unwrap();
    // Check mode: parsed and sent to the kernel as a batch that is never committed.
    let out = Command::new(&nft)
        .arg("-c")
        .arg("-f")
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Check mode misses what the kernel refuses only at commit (masquerade outside a nat
    // chain, below): load the ruleset for real, twice (it must replace itself), inside a
    // network namespace of its own so the host's firewall is never touched.
    let Some(unshare) = tool("unshare") else {
        println!("skipped the namespace load: unshare not installed");
        return;
    };
    let script = format!(
        "{nft} -f {f} && {nft} -f {f} && {nft} list table inet phonehome_ap",
        nft = nft.display(),
        f = good.display()
    );
    let out = Command::new(&unshare)
        .args(["-n", "sh", "-c", &script])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        listed.contains("oifname \"wlan1\" ip saddr 192.168.73.0/24 masquerade"),
        "{listed}"
    );
    assert!(
        listed.contains("iifname \"wlan0\" oifname \"wlan1\" accept"),
        "{listed}"
    );
    // The load can fail: masquerade moved into the forward (filter) chain.
    let bad = dir.path().join("bad.nft");
    let broken = rules.replace(
        "iifname \"wlan0\" oifname \"wlan1\" accept",
        "oifname \"wlan1\" masquerade",
    );
    std::fs::write(&bad, broken).unwrap();
    let out = Command::new(&unshare)
        .args([
            "-n",
            &nft.display().to_string(),
            "-f",
            &bad.display().to_string(),
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("Operation not supported"), "{said}");
}

fn phonehome() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("phonehome").unwrap();
    c.env_remove("PHONEHOME_CONFIG").env_remove("PHONEHOME_DB");
    c
}

#[test]
fn cli_renders_into_a_folder_and_switches_modes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("phonehome.toml");
    let out = dir.path().join("etc");
    std::fs::write(&cfg, ap_toml("mode = \"routed\"\n")).unwrap();
    let run = phonehome()
        .args(["--config", cfg.to_str().unwrap(), "ap", "render", "--out"])
        .arg(&out)
        .assert()
        .success();
    let o = run.get_output();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(!stdout.contains(PASS) && !stderr.contains(PASS));
    let hostapd = out.join("hostapd/hostapd.conf");
    assert!(
        stdout.contains(&format!("wrote {} (600)", hostapd.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("systemctl restart systemd-networkd hostapd dnsmasq"),
        "{stdout}"
    );
    // Routed mode with the default [capture] interface (br0): the user is told what to set.
    assert!(
        stderr.contains("set [capture] interface = \"wlan0\""),
        "{stderr}"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&hostapd), 0o600);
    assert!(std::fs::read_to_string(&hostapd)
        .unwrap()
        .contains(&format!("wpa_passphrase={PASS}\n")));
    let nft = out.join("nftables.d/phonehome-ap.nft");
    assert_eq!(mode(&nft), 0o644);

    // Back to bridge mode: the routed-only files go, the bridge files come.
    std::fs::write(&cfg, ap_toml("")).unwrap();
    let run = phonehome()
        .args(["--config", cfg.to_str().unwrap(), "ap", "render", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(
        stdout.contains(&format!("removed {} (other mode)", nft.display())),
        "{stdout}"
    );
    assert!(!nft.exists());
    assert!(!out.join("dnsmasq.d/phonehome-ap.conf").exists());
    assert!(out.join("systemd/network/10-phonehome-br0.netdev").exists());
    assert!(run.get_output().stderr.is_empty());
}

#[test]
fn cli_refuses_to_render_without_a_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("phonehome.toml");
    std::fs::write(&cfg, "[ap]\ncountry = \"US\"\n").unwrap();
    let out = dir.path().join("etc");
    let run = phonehome()
        .args(["--config", cfg.to_str().unwrap(), "ap", "render", "--out"])
        .arg(&out)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(
        stderr.starts_with(&format!(
            "phonehome: {}: [ap] passphrase is not set: add passphrase = ",
            cfg.display()
        )),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written");
    // A bad value is reported like every other config error.
    std::fs::write(&cfg, "[ap]\ncountry = \"US\"\nchannel = 0\n").unwrap();
    let run = phonehome()
        .args(["--config", cfg.to_str().unwrap(), "ap", "render", "--out"])
        .arg(&out)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!(
            "{}:3: [ap] channel: expected a 2.4 GHz channel",
            cfg.display()
        )),
        "{stderr}"
    );
}
