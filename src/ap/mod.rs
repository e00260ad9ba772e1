//! The access point's system configuration, rendered from `[ap]` ([`ApConfig`]): hostapd,
//! systemd-networkd, and in routed mode dnsmasq, nftables and a sysctl. [`render`] is a pure
//! function from the configuration to a list of [`RenderedFile`]s (relative path, contents,
//! mode); [`write_files`] puts them under a root folder (`/etc` on the device) atomically.
//!
//! Invariants: [`render`] re-checks every value it writes with the validators of `[ap]` (the
//! fields of [`ApConfig`] are public, so a caller may build one by hand), so no value can break
//! the line structure of a file; the SSID is written in hostapd's printf-escaped `ssid2=P"…"`
//! form; the passphrase appears only in `hostapd/hostapd.conf`, which is mode 0600, and never in
//! an error. The templates live in `hostapd/` at the top of the repository.

mod template;
mod write;

use std::fmt::Write as _;

pub use write::{remove_stale, write_files, WriteError};

use crate::config::ap as check;
use crate::config::{ApConfig, ApMode, Band, BRIDGE};

const HOSTAPD_CONF: &str = include_str!("../../hostapd/hostapd.conf.in");
const BR0_NETDEV: &str = include_str!("../../hostapd/networkd/br0.netdev.in");
const BR0_NETWORK: &str = include_str!("../../hostapd/networkd/br0.network.in");
const BRIDGE_UPLINK: &str = include_str!("../../hostapd/networkd/bridge-uplink.network.in");
const ROUTED_AP: &str = include_str!("../../hostapd/networkd/routed-ap.network.in");
const ROUTED_UPLINK: &str = include_str!("../../hostapd/networkd/routed-uplink.network.in");
const DNSMASQ_CONF: &str = include_str!("../../hostapd/dnsmasq.conf.in");
const NFTABLES: &str = include_str!("../../hostapd/nftables.nft.in");
const SYSCTL: &str = include_str!("../../hostapd/sysctl.conf.in");

/// hostapd's configuration (Debian's hostapd.service reads this path).
pub const HOSTAPD_PATH: &str = "hostapd/hostapd.conf";
/// Bridge mode: the br0 netdev.
pub const BR0_NETDEV_PATH: &str = "systemd/network/10-phonehome-br0.netdev";
/// Bridge mode: br0's DHCP client.
pub const BR0_NETWORK_PATH: &str = "systemd/network/10-phonehome-br0.network";
/// Both modes: the uplink (a bridge port, or a DHCP client in routed mode).
pub const UPLINK_NETWORK_PATH: &str = "systemd/network/10-phonehome-uplink.network";
/// Routed mode: the Wi-Fi interface's static address.
pub const AP_NETWORK_PATH: &str = "systemd/network/10-phonehome-ap.network";
/// Routed mode: DHCP and DNS (Debian's dnsmasq reads `/etc/dnsmasq.d`).
pub const DNSMASQ_PATH: &str = "dnsmasq.d/phonehome-ap.conf";
/// Routed mode: NAT and forwarding (included from `/etc/nftables.conf`).
pub const NFTABLES_PATH: &str = "nftables.d/phonehome-ap.nft";
/// Routed mode: IPv4 forwarding.
pub const SYSCTL_PATH: &str = "sysctl.d/90-phonehome-ap.conf";

/// Every path [`render`] can produce, in either mode; [`remove_stale`] deletes those a
/// render did not produce (after a switch of mode).
pub const ALL_PATHS: &[&str] = &[
    HOSTAPD_PATH,
    BR0_NETDEV_PATH,
    BR0_NETWORK_PATH,
    UPLINK_NETWORK_PATH,
    AP_NETWORK_PATH,
    DNSMASQ_PATH,
    NFTABLES_PATH,
    SYSCTL_PATH,
];

/// Where `phonehome ap render` writes without `--out`.
pub const DEFAULT_ROOT: &str = "/etc";

/// One rendered file.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Path relative to the root folder (`/etc`), e.g. `hostapd/hostapd.conf`.
    pub path: &'static str,
    /// The file's text.
    pub contents: String,
    /// Unix permission bits: 0o600 for the file holding the passphrase, else 0o644.
    pub mode: u32,
}

impl std::fmt::Debug for RenderedFile {
    /// Path and mode only: the contents may hold the passphrase.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RenderedFile({}, {:o})", self.path, self.mode)
    }
}

/// Why the configuration cannot be rendered. Messages never contain the passphrase.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// `[ap] passphrase` is not set.
    #[error(
        "[ap] passphrase is not set: add passphrase = \"...\" (8-63 printable ASCII characters) \
         to the [ap] section of phonehome.toml"
    )]
    NoPassphrase,
    /// `[ap] country` is not set.
    #[error(
        "[ap] country is not set: add country = \"XX\" to the [ap] section of phonehome.toml, \
         the ISO 3166 alpha-2 code of the country the router is used in (e.g. \"DE\", \"US\"); \
         it decides which channels and transmit power are legal"
    )]
    NoCountry,
    /// A field of a hand-built [`ApConfig`] breaks an invariant the loader enforces.
    #[error("[ap] {key}: {reason}")]
    Invalid {
        /// The key concerned.
        key: &'static str,
        /// What is wrong (never quoting the passphrase).
        reason: String,
    },
}

/// Renders the files of `ap`'s mode, hostapd.conf first.
pub fn render(ap: &ApConfig) -> Result<Vec<RenderedFile>, RenderError> {
    let passphrase = ap.passphrase.as_deref().ok_or(RenderError::NoPassphrase)?;
    let country = ap.country.as_deref().ok_or(RenderError::NoCountry)?;
    recheck(ap, passphrase, country)?;
    let subnet = ap.subnet.to_string();
    let network = format!("{}/{}", ap.subnet.network(), ap.subnet.prefix);
    let (start, end) = (ap.dhcp_range.0.to_string(), ap.dhcp_range.1.to_string());
    let (netmask, address) = (
        ap.subnet.netmask().to_string(),
        ap.subnet.address.to_string(),
    );
    let ssid = ssid2(&ap.ssid);
    let channel = ap.channel.to_string();
    let ieee80211w = ap.pmf.ieee80211w().to_string();
    let bridge_line = format!("bridge={BRIDGE}");
    let values: &[(&str, &str)] = &[
        ("interface", &ap.interface),
        ("uplink", &ap.uplink),
        ("bridge", BRIDGE),
        (
            "bridge_line",
            if ap.mode == ApMode::Bridge {
                &bridge_line
            } else {
                ""
            },
        ),
        ("ssid", &ssid),
        ("country", country),
        ("hw_mode", if ap.band == Band::Ghz5 { "a" } else { "g" }),
        ("channel", &channel),
        (
            "ac_line",
            if ap.band == Band::Ghz5 {
                "ieee80211ac=1"
            } else {
                ""
            },
        ),
        ("key_mgmt", if ap.wpa3 { "WPA-PSK SAE" } else { "WPA-PSK" }),
        ("passphrase", passphrase),
        ("ieee80211w", &ieee80211w),
        ("sae_line", if ap.wpa3 { "sae_require_mfp=1" } else { "" }),
        ("subnet", &subnet),
        ("network", &network),
        ("netmask", &netmask),
        ("address", &address),
        ("dhcp_start", &start),
        ("dhcp_end", &end),
    ];
    let file = |path, template, mode| RenderedFile {
        path,
        contents: template::fill(template, values),
        mode,
    };
    let mut files = vec![file(HOSTAPD_PATH, HOSTAPD_CONF, 0o600)];
    match ap.mode {
        ApMode::Bridge => files.extend([
            file(BR0_NETDEV_PATH, BR0_NETDEV, 0o644),
            file(BR0_NETWORK_PATH, BR0_NETWORK, 0o644),
            file(UPLINK_NETWORK_PATH, BRIDGE_UPLINK, 0o644),
        ]),
        ApMode::Routed => files.extend([
            file(AP_NETWORK_PATH, ROUTED_AP, 0o644),
            file(UPLINK_NETWORK_PATH, ROUTED_UPLINK, 0o644),
            file(DNSMASQ_PATH, DNSMASQ_CONF, 0o644),
            file(NFTABLES_PATH, NFTABLES, 0o644),
            file(SYSCTL_PATH, SYSCTL, 0o644),
        ]),
    }
    Ok(files)
}

/// The interface phonehome should capture on in `ap`'s mode.
pub fn capture_interface(ap: &ApConfig) -> &str {
    match ap.mode {
        ApMode::Bridge => BRIDGE,
        ApMode::Routed => &ap.interface,
    }
}

/// The loader's checks again, for an [`ApConfig`] built by hand.
fn recheck(ap: &ApConfig, passphrase: &str, country: &str) -> Result<(), RenderError> {
    let invalid = |key, reason: &str| RenderError::Invalid {
        key,
        reason: reason.to_owned(),
    };
    if !check::valid_ssid(&ap.ssid) {
        return Err(invalid(
            "ssid",
            "expected 1-32 bytes without control characters",
        ));
    }
    if let Some(why) = check::passphrase_problem(passphrase) {
        return Err(RenderError::Invalid {
            key: "passphrase",
            reason: format!("expected 8-63 printable ASCII characters, {why}"),
        });
    }
    if !check::valid_country(country) {
        return Err(invalid(
            "country",
            "expected an upper-case ISO 3166 alpha-2 code",
        ));
    }
    if !check::valid_channel(ap.band, ap.channel) {
        return Err(invalid("channel", "not a channel of the band"));
    }
    for (key, name) in [("interface", &ap.interface), ("uplink", &ap.uplink)] {
        if !check::valid_ifname(name) || name == BRIDGE {
            return Err(invalid(key, "expected an interface name"));
        }
    }
    if ap.interface == ap.uplink {
        return Err(invalid(
            "uplink",
            "expected an interface other than the Wi-Fi interface",
        ));
    }
    if ap.wpa3 && ap.pmf == crate::config::Pmf::Disabled {
        return Err(invalid("pmf", "WPA3-SAE requires 802.11w"));
    }
    let (s, e) = ap.dhcp_range;
    let sub = ap.subnet;
    let range_ok = check::SUBNET_PREFIX.contains(&sub.prefix)
        && sub.is_host(sub.address)
        && sub.is_host(s)
        && sub.is_host(e)
        && s <= e
        && !(s <= sub.address && sub.address <= e);
    if !range_ok {
        return Err(invalid(
            "dhcp_range",
            "expected a range of the subnet without the router",
        ));
    }
    Ok(())
}

/// The SSID in hostapd's `P"…"` form: `\` and `"` escaped, control bytes as `\xHH`, other
/// bytes (UTF-8 included) as they are.
fn ssid2(ssid: &str) -> String {
    let mut out = String::with_capacity(ssid.len().saturating_mul(2).saturating_add(3));
    out.push_str("P\"");
    for ch in ssid.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssid2_escapes_what_would_break_the_line() {
        assert_eq!(ssid2("phonehome"), "P\"phonehome\"");
        assert_eq!(ssid2(r#"a"b\c"#), r#"P"a\"b\\c""#);
        assert_eq!(ssid2("café ☕"), "P\"café ☕\"");
        assert_eq!(ssid2("a\nb\x7f"), "P\"a\\x0ab\\x7f\"");
    }

    fn full() -> ApConfig {
        ApConfig {
            passphrase: Some("correct horse".to_owned()),
            country: Some("DE".to_owned()),
            ..ApConfig::default()
        }
    }

    #[test]
    fn every_placeholder_is_filled_in_both_modes() {
        for mode in [ApMode::Bridge, ApMode::Routed] {
            let files = render(&ApConfig { mode, ..full() }).unwrap();
            for f in &files {
                let left: Vec<&str> = f
                    .contents
                    .split('@')
                    .skip(1)
                    .step_by(2)
                    .filter(|n| {
                        !n.is_empty()
                            && n.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    })
                    .collect();
                assert!(left.is_empty(), "{}: {left:?}", f.path);
                let holds_secret = f.contents.contains("correct horse");
                assert_eq!(holds_secret, f.path == HOSTAPD_PATH, "{}", f.path);
                assert_eq!(f.mode, if holds_secret { 0o600 } else { 0o644 });
            }
            let paths: Vec<&str> = files.iter().map(|f| f.path).collect();
            assert!(paths.iter().all(|p| ALL_PATHS.contains(p)));
            assert_eq!(paths.len(), if mode == ApMode::Bridge { 4 } else { 6 });
        }
    }

    #[test]
    fn hand_built_configs_are_checked_again() {
        let bad = [
            ApConfig {
                ssid: "a\nb".into(),
                ..full()
            },
            ApConfig {
                ssid: "x".repeat(33),
                ..full()
            },
            ApConfig {
                passphrase: Some("line\nbreak!".into()),
                ..full()
            },
            ApConfig {
                country: Some("de".into()),
                ..full()
            },
            ApConfig {
                channel: 14,
                ..full()
            },
            ApConfig {
                interface: "wlan0\"; drop".into(),
                ..full()
            },
            ApConfig {
                uplink: "wlan0".into(),
                ..full()
            },
            ApConfig {
                pmf: crate::config::Pmf::Disabled,
                ..full()
            },
        ];
        for ap in bad {
            let e = render(&ap).unwrap_err();
            assert!(matches!(e, RenderError::Invalid { .. }), "{ap:?}: {e}");
            assert!(!e.to_string().contains("break"), "{e}");
        }
        let e = render(&ApConfig {
            passphrase: None,
            ..full()
        })
        .unwrap_err();
        assert!(matches!(e, RenderError::NoPassphrase));
        let e = render(&ApConfig {
            country: None,
            ..full()
        })
        .unwrap_err();
        assert!(matches!(e, RenderError::NoCountry));
    }
}
