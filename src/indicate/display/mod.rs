//! The 128×64 OLED's pages: what they show ([`DisplayData`]), how they are drawn
//! ([`render`], on any embedded-graphics `DrawTarget<Color = BinaryColor>`, so the SSD1306
//! driver and the PNG export share one renderer), where the data comes from
//! ([`display_data`], the SQLite store) and the ×4 PNG export ([`png`]).
//!
//! Invariants: rendering is a pure function of the page and the data (no clock, no DB), so a
//! snapshot test pins it; every string is fitted to the 21 columns of the 6×10 font by whole
//! words ([`text`]), so nothing is drawn past the right edge or cut mid-word; the data holds
//! at most [`MAX_ALERTS`] alerts and [`MAX_DEVICES`] devices, what fits on one page.

mod data;
mod pages;
pub mod png;
pub mod text;

pub use data::{display_data, CLIENT_WINDOW, STATS_STALE};
pub use pages::{render, wifi_qr_payload};

/// Display width in pixels (SSD1306 / SH1106 128×64).
pub const WIDTH: u32 = 128;
/// Display height in pixels.
pub const HEIGHT: u32 = 64;
/// Alerts shown on page 2: two of three lines each fill the 64 pixels.
pub const MAX_ALERTS: usize = 2;
/// Devices shown on page 3: two of three lines each fill the 64 pixels.
pub const MAX_DEVICES: usize = 2;

/// One of the display's pages, in the order a long button press cycles them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// SSID, clients, uptime, packets/s, drops, SSH address.
    Status,
    /// The latest alerts: device, kind, destination, country, age.
    Alerts,
    /// Per device: flows, leaks, trackers, countries.
    Devices,
    /// A QR code to join the Wi-Fi, and its SSID.
    Join,
}

impl Page {
    /// Every page in cycling order; `ALL[n - 1]` is page `n`.
    pub const ALL: [Page; 4] = [Page::Status, Page::Alerts, Page::Devices, Page::Join];

    /// The page numbered `n` (1-based, as on the command line), if there is one.
    pub fn from_number(n: u8) -> Option<Page> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The 1-based number of this page.
    pub fn number(self) -> u8 {
        match self {
            Page::Status => 1,
            Page::Alerts => 2,
            Page::Devices => 3,
            Page::Join => 4,
        }
    }

    /// The page after this one, wrapping to the first (long button press).
    pub fn next(self) -> Page {
        Page::from_number(self.number() % 4 + 1).unwrap_or(Page::Status)
    }
}

/// Everything the pages show, as plain owned values; filled from the store by
/// [`display_data`] and from the configuration (SSID, passphrase, address) by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisplayData {
    /// The access point's SSID.
    pub ssid: String,
    /// The access point's WPA passphrase, encoded only into the join QR code.
    pub passphrase: String,
    /// Address to reach the router over SSH, as text; None when unknown.
    pub ssh_address: Option<String>,
    /// Devices seen within [`CLIENT_WINDOW`].
    pub clients: u64,
    /// Seconds the current capture run has been going; None when capture is down.
    pub uptime_secs: Option<u64>,
    /// Packets per second between the last two capture snapshots; None when unknown.
    pub packets_per_sec: Option<u64>,
    /// Frames lost by the current run (kernel, queue and store drops).
    pub drops: u64,
    /// Alerts nobody acknowledged yet.
    pub unacknowledged: u64,
    /// The latest alerts, newest first, at most [`MAX_ALERTS`].
    pub alerts: Vec<AlertLine>,
    /// The most recently active devices, at most [`MAX_DEVICES`].
    pub devices: Vec<DeviceLine>,
}

/// One alert as page 2 shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertLine {
    /// Device name (user name, DHCP hostname, vendor or MAC, the first known).
    pub device: String,
    /// The alert kind's stored name (`tracker`, `pii_leak`…); shown by [`kind_label`].
    pub kind: String,
    /// Domain or address contacted ("" when the alert has none).
    pub destination: String,
    /// ISO country code of the destination, when known.
    pub country: Option<String>,
    /// Seconds since the alert (its latest repeat).
    pub age_secs: u64,
}

/// One device as page 3 shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceLine {
    /// Device name, as for [`AlertLine::device`].
    pub name: String,
    /// Flows stored for the device.
    pub flows: u64,
    /// Distinct destination countries (ISO codes), most flows first.
    pub countries: Vec<String>,
    /// Leak alerts (personal identifiers, cleartext credentials).
    pub leaks: u64,
    /// Distinct trackers contacted.
    pub trackers: u64,
}

/// A short label a person reads for an alert kind's stored name; unknown kinds as stored.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "pii_leak" => "ID leak",
        "ioc_match" => "Spyware match",
        "watched_destination" => "Watched dest.",
        "boot_phone_home" => "Boot traffic",
        "cleartext_credentials" => "Clear password",
        "cleartext_protocol" => "Unencrypted",
        "tracker" => "Tracker",
        "no_dns_contact" => "No-DNS contact",
        "beacon" => "Beacon",
        "encrypted_dns" => "Encrypted DNS",
        other => other,
    }
}
