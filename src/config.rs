//! `phonehome.toml`: raw serde structs turned into a validated [`Config`].
//!
//! Loading is two steps. The `toml` crate deserialises the file (through
//! `serde_path_to_error`, which names the key of a failure) into raw structs whose every
//! field is an optional `Spanned<toml::Value>` under `#[serde(deny_unknown_fields)]`: unknown
//! sections and keys are errors, and each value keeps its byte span. Validation then checks
//! types and ranges and fills defaults. Every error names the file, the 1-based line (the
//! column is kept in [`ConfigError::Invalid`]) and the key, e.g.
//! `/etc/phonehome/phonehome.toml:7: [store] retention_days: expected a positive integer, got -3`.
//!
//! The file is optional: without `--config`/`PHONEHOME_CONFIG` (read by the CLI) the daemon
//! reads [`DEFAULT_PATH`] and falls back to built-in defaults when it does not exist; an
//! explicitly named file that is missing is an error. The database path given by
//! `--db`/`PHONEHOME_DB` (CLI) takes precedence over `[store] path`.
//!
//! To add a section: a `Raw*` struct and a field of `RawConfig` (in `raw.rs`), an entry in
//! [`SECTIONS`], a
//! validated struct with its `Default`, and rows in [`CONFIG_REFERENCE`].

pub(crate) mod ap;
mod detect;
mod indicators;
mod raw;

pub use ap::{ApConfig, ApMode, Band, Ipv4Subnet, Pmf, BRIDGE, CHANNELS_5};
pub use detect::{DetectConfig, IdentifierConfig, IDENTIFIER_KINDS};
pub use indicators::{Brightness, DisplayDriver, IndicatorsConfig};

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::event::{Ts, MICROS};
use crate::flow::table::FlowConfig;

/// Configuration file read when none is named explicitly.
pub const DEFAULT_PATH: &str = "/etc/phonehome/phonehome.toml";

/// Largest configuration file read: the real one is under 1 KiB; this bounds memory if the
/// path names something else (a log, a device).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Markdown reference of every section and key, included in the README.
pub const CONFIG_REFERENCE: &str = "\
| key | type, unit | default | meaning |
|---|---|---|---|
| `[capture] interface` | string | `\"br0\"` | Network interface the daemon captures on (the access point's bridge); 1–15 characters, no `/` or whitespace. |
| `[capture] promiscuous` | boolean | `true` | Open the interface in promiscuous mode (needed to see bridged traffic between clients and the uplink). |
| `[capture] rcvbuf_mib` | integer, MiB | `16` | Capture socket receive buffer, 1–1024; too small a buffer drops packets in bursts. |
| `[store] path` | string, file path | `\"/var/lib/phonehome/phonehome.db\"` | SQLite database; `--db` / `PHONEHOME_DB` take precedence. |
| `[store] retention_days` | integer, days | `30` | Records older than this are deleted, 1–3650. |
| `[store] queue_capacity` | integer, records | `65536` | Records queued between analysis and the database writer, 1024–4194304; when full, records are dropped and counted (capture never blocks). |
| `[store] batch_max` | integer, records | `2000` | Records written per database transaction, 1–100000 and at most `queue_capacity`. |
| `[flows] max_flows` | integer, flows | `65536` | Connections tracked at once, 1024–4194304; beyond it the stalest are evicted. |
| `[flows] tcp_idle_secs` | integer, seconds | `300` | A TCP connection idle this long is closed and written, 1–86400. |
| `[flows] udp_idle_secs` | integer, seconds | `60` | A UDP flow idle this long is closed and written, 1–86400. |
| `[flows] inspect_bytes` | integer, bytes | `16384` | Bytes of each direction of a flow reassembled and inspected (TLS ClientHello, HTTP headers), 1024–1048576. |
| `[[identifiers]] kind` | string | — | An identifier of yours to look for in every encoding: `imei`, `imsi`, `iccid`, `serial`, `mac`, `phone`, `email`, `android_id`, `advertising_id`. One `[[identifiers]]` table per identifier. |
| `[[identifiers]] value` | string | — | The identifier itself (1–256 characters). Stored only in this file; alerts show its last 4 characters. |
| `[[identifiers]] device` | string, MAC | none | Only report it for this device. |
| `[ioc] paths` | list of paths | `[\"/usr/share/phonehome/ioc\"]` | Indicator files or folders: STIX 2.1 bundles (MVT, Amnesty), Echap `ioc.yaml`, hosts files, plain domain/IP lists. A missing default folder is skipped; a missing listed path is an error. Reloaded on SIGHUP. |
| `[trackers] paths` | list of paths | `[]` | More tracker lists (hosts or plain) besides the built-in Exodus, AdAway and Perflyst lists. |
| `[geo] country_db` | path | `\"/usr/share/phonehome/geo/geo-whois-asn-country.mmdb\"` | IP → country MMDB; skipped if the default is missing. |
| `[geo] asn_db` | list of paths | `[\"/usr/share/phonehome/geo/asn-ipv4.csv\", \"/usr/share/phonehome/geo/asn-ipv6.csv\"]` | IP → AS CSV files (ip-location-db format); skipped if the defaults are missing. |
| `[policy] watch_countries` | list of strings | `[]` | ISO 3166 alpha-2 codes whose destinations raise `watched_destination`, e.g. `[\"CN\"]`. |
| `[policy] watch_asns` | list of integers | `[]` | AS numbers whose destinations raise `watched_destination`, e.g. `[4134]`. |
| `[policy] allow` | list of domains | `[]` | Domains (with their subdomains) for which no alert is raised except `pii_leak` and `ioc_match`. |
| `[policy] boot_window_secs` | integer, seconds | `120` | How long after joining a device's traffic counts as its boot phone-home, 10–3600. |
| `[policy] local_resolvers` | list of IP addresses | `[]` | The network's own DNS resolvers; DNS to any other resolver is `cleartext_protocol`; encrypted DNS to them raises no `encrypted_dns`. Empty: any private-address resolver is local. |
| `[indicators] enabled` | boolean | `true` | Drive the LEDs, the button and the OLED. Without the hardware (no GPIO or I2C device) the daemon logs one line and runs on. |
| `[indicators] green` | integer, BCM GPIO | `17` | Green LED pin (active high), 0–27. |
| `[indicators] amber` | integer, BCM GPIO | `27` | Amber LED pin (active high), 0–27. |
| `[indicators] red` | integer, BCM GPIO | `22` | Red LED pin (active high), 0–27. |
| `[indicators] button` | integer, BCM GPIO | `23` | Push button to ground (internal pull-up), 0–27; all four pins must differ. |
| `[indicators] display` | string | `\"ssd1306\"` | OLED controller: `ssd1306`, `sh1106` (many 1.3\" modules) or `none`. |
| `[indicators] i2c_bus` | string, device file | `\"/dev/i2c-1\"` | I2C bus of the display. |
| `[indicators] i2c_address` | integer | `0x3C` | 7-bit I2C address of the display (some modules use `0x3D`). |
| `[indicators] brightness` | string | `\"normal\"` | `dimmest`, `dim`, `normal`, `bright` or `brightest`. |
| `[indicators] rotate180` | boolean | `false` | Turn the picture upside down (module mounted the other way round). |
| `[ap] ssid` | string | `\"phonehome\"` | Wi-Fi network name, 1–32 bytes, no control characters. |
| `[ap] passphrase` | string | none | WPA2/WPA3 passphrase, 8–63 printable ASCII characters; required by `phonehome ap render`, never logged. |
| `[ap] country` | string | none | ISO 3166 alpha-2 code of the country the router is used in (its regulatory domain: legal channels and power); required by `phonehome ap render`. |
| `[ap] band` | string | `\"2.4\"` | `\"2.4\"` (802.11g/n) or `\"5\"` (802.11a/n/ac). |
| `[ap] channel` | integer | `6` (2.4), `36` (5) | 1–13 on 2.4 GHz; 36, 40, 44, 48, 149, 153, 157, 161 or 165 on 5 GHz (no radar-detection channels: the Pi's radio cannot serve on them). |
| `[ap] mode` | string | `\"bridge\"` | `\"bridge\"`: br0 = uplink + Wi-Fi, capture on `br0`; `\"routed\"`: the Wi-Fi gets its own subnet with DHCP/DNS (dnsmasq) and NAT (nftables), capture on the Wi-Fi interface. |
| `[ap] wpa3` | boolean | `true` | WPA2-PSK + WPA3-SAE transition mode; `false`: WPA2-PSK only. |
| `[ap] pmf` | string | `\"optional\"` | 802.11w management frame protection: `\"disabled\"` (not with `wpa3`), `\"optional\"`, `\"required\"`. |
| `[ap] interface` | string | `\"wlan0\"` | Wi-Fi interface hostapd serves the network on. |
| `[ap] uplink` | string | `\"eth0\"` | Interface to the internet: bridged with the Wi-Fi, or the NAT uplink in routed mode. |
| `[ap] subnet` | string, address/prefix | `\"192.168.73.1/24\"` | Routed mode: the router's address and prefix (8–28) on the Wi-Fi interface. |
| `[ap] dhcp_range` | list of 2 addresses | `[\"192.168.73.10\", \"192.168.73.250\"]` | Routed mode: first and last address leased; default network + 10 to broadcast − 5 of `subnet`. |

Relative paths are resolved against the folder holding the configuration file.
";

/// Sections and their keys, as the raw structs accept them (kept in step by a test).
pub const SECTIONS: &[(&str, &[&str])] = &[
    ("capture", &["interface", "promiscuous", "rcvbuf_mib"]),
    (
        "store",
        &["path", "retention_days", "queue_capacity", "batch_max"],
    ),
    (
        "flows",
        &[
            "max_flows",
            "tcp_idle_secs",
            "udp_idle_secs",
            "inspect_bytes",
        ],
    ),
    ("identifiers", &["kind", "value", "device"]),
    ("ioc", &["paths"]),
    ("trackers", &["paths"]),
    ("geo", &["country_db", "asn_db"]),
    (
        "policy",
        &[
            "watch_countries",
            "watch_asns",
            "allow",
            "boot_window_secs",
            "local_resolvers",
        ],
    ),
    (
        "indicators",
        &[
            "enabled",
            "green",
            "amber",
            "red",
            "button",
            "display",
            "i2c_bus",
            "i2c_address",
            "brightness",
            "rotate180",
        ],
    ),
    (
        "ap",
        &[
            "ssid",
            "passphrase",
            "country",
            "band",
            "channel",
            "mode",
            "wpa3",
            "pmf",
            "interface",
            "uplink",
            "subnet",
            "dhcp_range",
        ],
    ),
];

/// The validated configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// File the configuration was read from; None for built-in defaults.
    pub source: Option<PathBuf>,
    /// `[capture]`.
    pub capture: CaptureConfig,
    /// `[store]`.
    pub store: StoreConfig,
    /// `[flows]`.
    pub flows: FlowsConfig,
    /// `[[identifiers]]`, `[ioc]`, `[trackers]`, `[geo]`, `[policy]`: the detectors.
    pub detect: DetectConfig,
    /// `[indicators]`: LEDs, button, OLED.
    pub indicators: IndicatorsConfig,
    /// `[ap]`: the access point `phonehome ap render` writes the configuration of.
    pub ap: ApConfig,
}

/// `[capture]`: live capture on the access point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Interface to capture on.
    pub interface: String,
    /// Open the interface in promiscuous mode.
    pub promiscuous: bool,
    /// Socket receive buffer, MiB.
    pub rcvbuf_mib: u32,
}

/// `[store]`: the SQLite log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// Database file (overridden by `--db` / `PHONEHOME_DB`).
    pub path: PathBuf,
    /// Days records are kept.
    pub retention_days: u32,
    /// Capacity of the analysis → writer queue, records.
    pub queue_capacity: usize,
    /// Records written per transaction.
    pub batch_max: usize,
}

/// `[flows]`: the flow table and per-flow inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowsConfig {
    /// Flows tracked at once.
    pub max_flows: usize,
    /// Idle timeout of TCP flows, seconds.
    pub tcp_idle_secs: u32,
    /// Idle timeout of UDP flows, seconds.
    pub udp_idle_secs: u32,
    /// Per-direction reassembly and inspection cap, bytes.
    pub inspect_bytes: usize,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            interface: "br0".to_owned(),
            promiscuous: true,
            rcvbuf_mib: 16,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("/var/lib/phonehome/phonehome.db"),
            retention_days: 30,
            queue_capacity: 65_536,
            batch_max: 2000,
        }
    }
}

impl Default for FlowsConfig {
    fn default() -> Self {
        FlowsConfig {
            max_flows: 65_536,
            tcp_idle_secs: 300,
            udp_idle_secs: 60,
            inspect_bytes: 16_384,
        }
    }
}

impl FlowsConfig {
    /// The flow-table limits these settings describe (the post-FIN timeout keeps its default).
    pub fn flow_config(&self) -> FlowConfig {
        FlowConfig {
            max_flows: self.max_flows,
            tcp_idle: Ts::from(self.tcp_idle_secs).saturating_mul(MICROS),
            udp_idle: Ts::from(self.udp_idle_secs).saturating_mul(MICROS),
            ..FlowConfig::default()
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An explicitly named file (`--config`, `PHONEHOME_CONFIG`) does not exist.
    #[error("config file {}: not found (named by --config or PHONEHOME_CONFIG)", path.display())]
    NotFound {
        /// The file named.
        path: PathBuf,
    },
    /// The file exists but cannot be read (permissions, not UTF-8, larger than
    /// [`MAX_CONFIG_BYTES`]).
    #[error("config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a section, key or value is not accepted.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending key or value.
        line: usize,
        /// 1-based column (characters) of the offending key or value.
        column: usize,
        /// `section.key` (or `section`) concerned, when one is.
        key: Option<String>,
        /// What is wrong, starting with `[section] key:` when a key is concerned.
        message: String,
    },
}

impl Config {
    /// Loads `explicit` (must exist) or, when None, [`DEFAULT_PATH`] (defaults if absent).
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_or_default(explicit, Path::new(DEFAULT_PATH))
    }

    /// [`Config::load`] with another default path (for tests and packaging).
    pub fn load_or_default(explicit: Option<&Path>, default: &Path) -> Result<Config, ConfigError> {
        let path = explicit.unwrap_or(default);
        match read_bounded(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match explicit {
                Some(p) => Err(ConfigError::NotFound { path: p.into() }),
                None => Ok(Config::default()),
            },
            Err(source) => Err(ConfigError::Read {
                path: path.into(),
                source,
            }),
        }
    }

    /// Parses and validates the text of a configuration file; `path` is used in errors and
    /// recorded as [`Config::source`].
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        raw::parse(text, path)
    }
}

/// Reads at most [`MAX_CONFIG_BYTES`] of UTF-8 text.
fn read_bounded(path: &Path) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    Ok(text)
}
