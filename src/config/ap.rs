//! `[ap]` of `phonehome.toml`: the Wi-Fi access point (hostapd, systemd-networkd, dnsmasq,
//! nftables) that `phonehome ap render` writes the files of. Validated like the other sections:
//! every error names the file, line and key.
//!
//! Invariants of a validated [`ApConfig`] (the renderer in `crate::ap` checks them again with
//! the same functions, since the fields are public): the SSID is 1–32 bytes without control
//! characters; the passphrase, when set, is 8–63 printable ASCII characters and never appears
//! in an error message or in `Debug` output; interface names use only `[A-Za-z0-9_.-]`; the
//! channel is legal for the band; the router address is a host of its subnet and outside the
//! DHCP range, which lies inside the subnet.
//!
//! The country has no default: the regulatory domain decides which channels and transmit powers
//! are legal where the router is, and a travel router cannot know where it is. Rendering without
//! one is an error that says how to set it.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::{Range, RangeInclusive};

use serde::Deserialize;
use toml::{Spanned, Value};

use super::raw::{Ctx, Field};
use super::ConfigError;

mod checks;

pub(crate) use checks::{
    passphrase_problem, valid_channel, valid_country, valid_ifname, valid_ssid,
};

/// Bridge created in bridge mode (and the `[capture] interface` default).
pub const BRIDGE: &str = "br0";
/// 5 GHz channels without radar detection (DFS): brcmfmac, the Pi's onboard radio, cannot run an
/// AP on DFS channels (52–144). Whether UNII-3 (149–165) is allowed depends on the country;
/// hostapd checks that against the regulatory database when it starts.
pub const CHANNELS_5: &[u8] = &[36, 40, 44, 48, 149, 153, 157, 161, 165];
/// Prefix lengths of the routed-mode subnet: at least 16 addresses, at most a /8.
pub(crate) const SUBNET_PREFIX: RangeInclusive<u8> = 8..=28;
/// Default DHCP range: from network + 10 to broadcast − 5 (room for static hosts at both ends).
const DEFAULT_RANGE_FROM_NETWORK: u32 = 10;
const DEFAULT_RANGE_FROM_BROADCAST: u32 = 5;

/// Radio band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    /// 2.4 GHz (802.11g/n), `band = "2.4"`.
    Ghz2_4,
    /// 5 GHz (802.11a/n/ac), `band = "5"`.
    Ghz5,
}

/// How the access point reaches the uplink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApMode {
    /// br0 = uplink + Wi-Fi; clients get addresses from the upstream network; capture on br0.
    Bridge,
    /// The Wi-Fi has its own subnet (dnsmasq DHCP/DNS) NATed to the uplink; capture on the
    /// Wi-Fi interface. For uplinks that cannot be bridged (Wi-Fi client, USB tethering).
    Routed,
}

/// Management frame protection (802.11w).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pmf {
    /// No protection (refused together with WPA3, which requires it).
    Disabled,
    /// Clients that support it use it.
    Optional,
    /// Clients without it cannot join.
    Required,
}

impl Pmf {
    /// hostapd's `ieee80211w` value.
    pub fn ieee80211w(self) -> u8 {
        match self {
            Pmf::Disabled => 0,
            Pmf::Optional => 1,
            Pmf::Required => 2,
        }
    }
}

/// Router address and prefix length of the routed-mode subnet, e.g. `192.168.73.1/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Subnet {
    /// The router's own address on the Wi-Fi interface.
    pub address: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
}

impl Ipv4Subnet {
    /// The netmask, e.g. 255.255.255.0 for /24.
    pub fn netmask(self) -> Ipv4Addr {
        let bits = u32::MAX.checked_shl(32u32.saturating_sub(self.prefix.into()));
        Ipv4Addr::from(bits.unwrap_or(0))
    }

    /// The network address.
    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & u32::from(self.netmask()))
    }

    /// The broadcast address.
    pub fn broadcast(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network()) | !u32::from(self.netmask()))
    }

    /// True for an address of the subnet other than its network and broadcast addresses.
    pub fn is_host(self, a: Ipv4Addr) -> bool {
        let n = u32::from(a);
        n & u32::from(self.netmask()) == u32::from(self.network())
            && a != self.network()
            && a != self.broadcast()
    }

    /// The default DHCP range of this subnet, if it has room for one.
    fn default_range(self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        let start = u32::from(self.network()).checked_add(DEFAULT_RANGE_FROM_NETWORK)?;
        let end = u32::from(self.broadcast()).checked_sub(DEFAULT_RANGE_FROM_BROADCAST)?;
        (start <= end).then(|| (Ipv4Addr::from(start), Ipv4Addr::from(end)))
    }
}

impl fmt::Display for Ipv4Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// `[ap]`: the access point. `Debug` never shows the passphrase.
#[derive(Clone, PartialEq, Eq)]
pub struct ApConfig {
    /// Network name, 1–32 bytes of UTF-8 without control characters.
    pub ssid: String,
    /// WPA2/WPA3 passphrase, 8–63 printable ASCII characters; None until the user sets one.
    pub passphrase: Option<String>,
    /// Upper-case ISO 3166 alpha-2 code of the regulatory domain; None until the user sets one.
    pub country: Option<String>,
    /// Radio band.
    pub band: Band,
    /// Channel, legal for `band` (1–13, or one of [`CHANNELS_5`]).
    pub channel: u8,
    /// Bridge or routed.
    pub mode: ApMode,
    /// WPA2-PSK + WPA3-SAE transition mode (false: WPA2-PSK only).
    pub wpa3: bool,
    /// 802.11w; never [`Pmf::Disabled`] when `wpa3` is set.
    pub pmf: Pmf,
    /// The Wi-Fi interface hostapd runs the AP on.
    pub interface: String,
    /// The wired (bridge mode) or upstream (routed mode) interface.
    pub uplink: String,
    /// Routed mode: router address and prefix on `interface`.
    pub subnet: Ipv4Subnet,
    /// Routed mode: first and last address dnsmasq leases.
    pub dhcp_range: (Ipv4Addr, Ipv4Addr),
}

impl Default for ApConfig {
    fn default() -> Self {
        ApConfig {
            ssid: "phonehome".to_owned(),
            passphrase: None,
            country: None,
            band: Band::Ghz2_4,
            channel: 6,
            mode: ApMode::Bridge,
            wpa3: true,
            pmf: Pmf::Optional,
            interface: "wlan0".to_owned(),
            uplink: "eth0".to_owned(),
            subnet: Ipv4Subnet {
                address: Ipv4Addr::new(192, 168, 73, 1),
                prefix: 24,
            },
            dhcp_range: (
                Ipv4Addr::new(192, 168, 73, 10),
                Ipv4Addr::new(192, 168, 73, 250),
            ),
        }
    }
}

impl fmt::Debug for ApConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApConfig")
            .field("ssid", &self.ssid)
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field("country", &self.country)
            .field("band", &self.band)
            .field("channel", &self.channel)
            .field("mode", &self.mode)
            .field("wpa3", &self.wpa3)
            .field("pmf", &self.pmf)
            .field("interface", &self.interface)
            .field("uplink", &self.uplink)
            .field("subnet", &self.subnet)
            .field("dhcp_range", &self.dhcp_range)
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAp {
    ssid: Field,
    passphrase: Field,
    country: Field,
    band: Field,
    channel: Field,
    mode: Field,
    wpa3: Field,
    pmf: Field,
    interface: Field,
    uplink: Field,
    subnet: Field,
    dhcp_range: Field,
}

/// Validates `[ap]`.
pub(super) fn validate(ctx: &Ctx<'_>, raw: RawAp) -> Result<ApConfig, ConfigError> {
    let d = ApConfig::default();
    let bad = |key: &str, v: &Spanned<Value>, expected: &str| ctx.bad_value("ap", key, v, expected);
    let at = |key: &str, span: Range<usize>, msg: String| {
        ctx.invalid_at(
            span,
            Some(&format!("ap.{key}")),
            format!("[ap] {key}: {msg}"),
        )
    };
    let string = |key: &str, f: &Field, ok: &dyn Fn(&str) -> bool, expected: &str| match f {
        None => Ok(None),
        Some(v) => match v.get_ref() {
            Value::String(s) if ok(s) => Ok(Some(s.clone())),
            _ => Err(bad(key, v, expected)),
        },
    };

    let ssid = string(
        "ssid",
        &raw.ssid,
        &valid_ssid,
        "1-32 bytes of text without control characters",
    )?
    .unwrap_or(d.ssid);
    let passphrase = match &raw.passphrase {
        None => None,
        Some(v) => {
            // The passphrase is never quoted back, not even when it has the wrong type.
            let problem = match v.get_ref() {
                Value::String(s) => passphrase_problem(s).map_or(Ok(s.clone()), Err),
                other => Err(format!("got a value of type {}", other.type_str())),
            };
            Some(problem.map_err(|why| {
                at(
                    "passphrase",
                    v.span(),
                    format!("expected 8-63 printable ASCII characters, {why}"),
                )
            })?)
        }
    };
    let country = string(
        "country",
        &raw.country,
        &|s| valid_country(&s.to_ascii_uppercase()),
        "an ISO 3166 alpha-2 country code such as \"DE\" or \"US\"",
    )?
    .map(|s| s.to_ascii_uppercase());
    let band = match &raw.band {
        None => d.band,
        Some(v) => match v.get_ref() {
            Value::String(s) if s == "2.4" => Band::Ghz2_4,
            Value::String(s) if s == "5" => Band::Ghz5,
            Value::Float(f) if *f == 2.4 => Band::Ghz2_4,
            Value::Integer(5) => Band::Ghz5,
            _ => return Err(bad("band", v, "\"2.4\" or \"5\"")),
        },
    };
    let channel = match &raw.channel {
        None if band == Band::Ghz5 => CHANNELS_5.first().copied().unwrap_or(36),
        None => d.channel,
        Some(v) => match v.get_ref() {
            Value::Integer(n) if u8::try_from(*n).is_ok_and(|c| valid_channel(band, c)) => {
                u8::try_from(*n).unwrap_or_default()
            }
            _ if band == Band::Ghz2_4 => {
                return Err(bad("channel", v, "a 2.4 GHz channel from 1 to 13"))
            }
            _ => {
                let list: Vec<String> = CHANNELS_5.iter().map(u8::to_string).collect();
                let expected = format!(
                    "a 5 GHz channel without radar detection ({})",
                    list.join(", ")
                );
                return Err(bad("channel", v, &expected));
            }
        },
    };
    let mode = match string(
        "mode",
        &raw.mode,
        &|s| matches!(s, "bridge" | "routed"),
        "\"bridge\" or \"routed\"",
    )?
    .as_deref()
    {
        Some("routed") => ApMode::Routed,
        Some(_) => ApMode::Bridge,
        None => d.mode,
    };
    let wpa3 = match &raw.wpa3 {
        None => d.wpa3,
        Some(v) => match v.get_ref() {
            Value::Boolean(b) => *b,
            _ => return Err(bad("wpa3", v, "true or false")),
        },
    };
    let pmf = match string(
        "pmf",
        &raw.pmf,
        &|s| matches!(s, "disabled" | "optional" | "required"),
        "\"disabled\", \"optional\" or \"required\"",
    )?
    .as_deref()
    {
        Some("disabled") => Pmf::Disabled,
        Some("required") => Pmf::Required,
        Some(_) | None => d.pmf,
    };
    if let (true, Pmf::Disabled, Some(v)) = (wpa3, pmf, &raw.pmf) {
        return Err(at(
            "pmf",
            v.span(),
            "WPA3-SAE requires 802.11w: expected \"optional\" or \"required\" while wpa3 = true"
                .to_owned(),
        ));
    }
    let ifname = "an interface name (1-15 characters: letters, digits, '_', '.', '-')";
    let interface =
        string("interface", &raw.interface, &valid_ifname, ifname)?.unwrap_or(d.interface);
    let uplink = string("uplink", &raw.uplink, &valid_ifname, ifname)?.unwrap_or(d.uplink);
    for (key, name, field) in [
        ("interface", &interface, &raw.interface),
        ("uplink", &uplink, &raw.uplink),
    ] {
        if name == BRIDGE {
            let span = field.as_ref().map_or(0..0, Spanned::span);
            return Err(at(
                key,
                span,
                format!(
                    "\"{BRIDGE}\" is the bridge phonehome creates; expected the physical interface"
                ),
            ));
        }
    }
    if interface == uplink {
        let span = [&raw.uplink, &raw.interface]
            .into_iter()
            .flatten()
            .map(Spanned::span)
            .next()
            .unwrap_or(0..0);
        return Err(at(
            "uplink",
            span,
            format!("expected an interface other than the Wi-Fi interface, got \"{uplink}\""),
        ));
    }
    let subnet = match &raw.subnet {
        None => d.subnet,
        Some(v) => match v.get_ref() {
            Value::String(s) => parse_subnet(s).ok_or_else(|| {
                bad(
                    "subnet",
                    v,
                    "the router's address and prefix length, e.g. \"192.168.73.1/24\" (prefix 8-28, a host address)",
                )
            })?,
            _ => return Err(bad("subnet", v, "a string such as \"192.168.73.1/24\"")),
        },
    };
    let dhcp_range = match &raw.dhcp_range {
        None => {
            let span = raw.subnet.as_ref().map_or(0..0, Spanned::span);
            match subnet.default_range() {
                Some(r) if !in_range(r, subnet.address) => r,
                _ => {
                    return Err(at(
                        "subnet",
                        span,
                        format!("the default DHCP range of {subnet} would contain the router's address: set dhcp_range = [\"first\", \"last\"]"),
                    ))
                }
            }
        }
        Some(v) => {
            let expected = format!(
                "two addresses [\"first\", \"last\"] of {subnet}, first <= last, not containing the router's address {}",
                subnet.address
            );
            match v.get_ref() {
                Value::Array(a) => match a.as_slice() {
                    [Value::String(s), Value::String(e)] => {
                        match (s.parse::<Ipv4Addr>(), e.parse::<Ipv4Addr>()) {
                            (Ok(s), Ok(e))
                                if subnet.is_host(s)
                                    && subnet.is_host(e)
                                    && s <= e
                                    && !in_range((s, e), subnet.address) =>
                            {
                                (s, e)
                            }
                            _ => return Err(bad("dhcp_range", v, &expected)),
                        }
                    }
                    _ => return Err(bad("dhcp_range", v, &expected)),
                },
                _ => return Err(bad("dhcp_range", v, &expected)),
            }
        }
    };
    Ok(ApConfig {
        ssid,
        passphrase,
        country,
        band,
        channel,
        mode,
        wpa3,
        pmf,
        interface,
        uplink,
        subnet,
        dhcp_range,
    })
}

fn in_range((start, end): (Ipv4Addr, Ipv4Addr), a: Ipv4Addr) -> bool {
    start <= a && a <= end
}

/// `a.b.c.d/n` with a prefix in [`SUBNET_PREFIX`] and a host address.
fn parse_subnet(s: &str) -> Option<Ipv4Subnet> {
    let (addr, prefix) = s.split_once('/')?;
    let subnet = Ipv4Subnet {
        address: addr.parse().ok()?,
        prefix: prefix.parse().ok().filter(|p| SUBNET_PREFIX.contains(p))?,
    };
    subnet.is_host(subnet.address).then_some(subnet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_arithmetic() {
        let s = parse_subnet("10.1.2.3/20").unwrap();
        assert_eq!(s.netmask(), Ipv4Addr::new(255, 255, 240, 0));
        assert_eq!(s.network(), Ipv4Addr::new(10, 1, 0, 0));
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 1, 15, 255));
        assert_eq!(
            s.default_range(),
            Some((Ipv4Addr::new(10, 1, 0, 10), Ipv4Addr::new(10, 1, 15, 250)))
        );
        assert!(s.is_host(Ipv4Addr::new(10, 1, 15, 254)));
        assert!(!s.is_host(Ipv4Addr::new(10, 1, 16, 1)));
        for bad in [
            "10.1.2.0/24",
            "10.1.2.255/24",
            "10.1.2.3/29",
            "10.1.2.3/7",
            "10.1.2.3",
            "10.1.2.3/",
            "10.1.2.3/-1",
            "x/24",
            "/",
        ] {
            assert_eq!(parse_subnet(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_redacts_the_passphrase() {
        let ap = ApConfig {
            passphrase: Some("correct horse battery".to_owned()),
            ..ApConfig::default()
        };
        let shown = format!("{ap:?}");
        assert!(!shown.contains("horse"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
