//! What a device is, beyond its MAC: the OS family its DHCP fingerprint points to
//! ([`dhcp_os`]), what its HTTP User-Agents say ([`ua`]), and the label `phonehome devices`,
//! records and alerts show for it.
//!
//! One [`Identity`] lives in each device of [`crate::flow::devices::DeviceTable`], which calls
//! it only on DHCP messages and on HTTP requests — never per packet. Invariants:
//! - a User-Agent is parsed once per device: the hashes of the last [`MAX_UA_PER_DEVICE`]
//!   strings are kept, and a device gets at most [`MAX_UA_PARSES`] parses in its life (a
//!   client rotating random User-Agents cannot make the regex set run on every request);
//! - the label is frozen once it comes from a hostname or is inherited from the MAC a device
//!   had before (see `DeviceTable`): later evidence does not rename a device;
//! - every kept string is capped (hostnames by the table, UA fields by [`ua`]).

pub mod dhcp_os;
pub mod ua;

use std::hash::{Hash, Hasher};

use crate::event::{DeviceIdentity, MacAddr};
pub use dhcp_os::{os_from_dhcp, OsFamily};
pub use ua::{UaInfo, UaParser};

/// User-Agent hashes remembered per device: an app and a browser or two, each with a
/// WebView variant.
pub const MAX_UA_PER_DEVICE: usize = 8;
/// User-Agent parses one device may cause in its life; beyond it new strings are ignored.
pub const MAX_UA_PARSES: u16 = 64;
/// Longest vendor class (option 60) kept, in bytes; the option holds at most 255.
pub const MAX_VENDOR_CLASS_LEN: usize = 64;
/// Longest DHCP client identifier (option 61, as hex) remembered for label links, in bytes.
pub const MAX_CLIENT_ID_LEN: usize = 128;

/// Identity evidence of one device.
#[derive(Debug, Default)]
pub struct Identity {
    /// Option 60, capped.
    pub vendor_class: Option<Box<str>>,
    /// OS family from the DHCP fingerprint.
    pub dhcp_os: Option<OsFamily>,
    /// Option 61 as hex, capped: what links a device's new MAC to its old one.
    pub client_id: Option<Box<str>>,
    /// Merged User-Agent findings (newest non-empty field wins).
    pub ua: UaInfo,
    /// The frozen label, once there is one.
    pub label: Option<Box<str>>,
    /// The MAC this device had before, whose label it inherited.
    pub same_as: Option<MacAddr>,
    ua_seen: [u64; MAX_UA_PER_DEVICE],
    ua_next: usize,
    ua_parses: u16,
}

fn cap(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    s.get(..end).unwrap_or_default()
}

impl Identity {
    /// Learns from a DHCP client message; true when something changed.
    pub fn observe_dhcp(
        &mut self,
        vendor_class: Option<&str>,
        param_list: &[u8],
        client_id: Option<&str>,
    ) -> bool {
        let mut changed = false;
        if let Some(v) = vendor_class.map(|v| cap(v, MAX_VENDOR_CLASS_LEN)) {
            if !v.is_empty() && self.vendor_class.as_deref() != Some(v) {
                self.vendor_class = Some(v.into());
                changed = true;
            }
        }
        if let Some(os) = os_from_dhcp(vendor_class, param_list) {
            changed |= self.dhcp_os.replace(os) != Some(os);
        }
        if let Some(c) = client_id.filter(|c| !c.is_empty() && c.len() <= MAX_CLIENT_ID_LEN) {
            if self.client_id.as_deref() != Some(c) {
                self.client_id = Some(c.into());
            }
        }
        changed
    }

    /// Learns from a User-Agent this device sent; true when a field changed. Parses only a
    /// string not seen lately (see the module invariants).
    pub fn observe_user_agent(&mut self, ua: &str) -> bool {
        let mut h = rustc_hash::FxHasher::default();
        ua.hash(&mut h);
        let key = h.finish() | 1; // 0 marks an empty slot
        if self.ua_seen.contains(&key) || self.ua_parses >= MAX_UA_PARSES {
            return false;
        }
        if let Some(slot) = self.ua_seen.get_mut(self.ua_next % MAX_UA_PER_DEVICE) {
            *slot = key;
        }
        self.ua_next = self.ua_next.wrapping_add(1);
        self.ua_parses += 1;
        let found = UaParser::get().parse(ua);
        let mut changed = false;
        for (mine, new) in [
            (&mut self.ua.os, found.os),
            (&mut self.ua.os_family, found.os_family),
            (&mut self.ua.model, found.model),
            (&mut self.ua.app, found.app),
        ] {
            if new.is_some() && *mine != new {
                *mine = new;
                changed = true;
            }
        }
        changed
    }

    /// The OS shown: the User-Agent's (with its version) when it agrees with the DHCP
    /// fingerprint or there is none, else the DHCP family. A browser can lie in its
    /// User-Agent ("request desktop site"); the DHCP client cannot choose its fingerprint.
    pub fn os(&self) -> Option<String> {
        let ua_family = self.ua.os_family.as_deref().and_then(OsFamily::from_name);
        match (self.dhcp_os, ua_family) {
            (Some(d), Some(u)) if d != u => Some(d.as_str().to_owned()),
            (_, Some(_)) => self.ua.os.clone(),
            (Some(d), None) => Some(d.as_str().to_owned()),
            (None, None) => None,
        }
    }

    /// The label: the frozen one, else the best guess from what is known now.
    pub fn label(&self, mac: MacAddr, hostname: Option<&str>, vendor: Option<&str>) -> String {
        if let Some(l) = &self.label {
            return l.to_string();
        }
        if let Some(h) = hostname {
            return h.to_owned();
        }
        let o = mac.0;
        let tail = format!("{:02x}{:02x}", o[4], o[5]);
        if let Some(m) = &self.ua.model {
            return format!("{m} {tail}");
        }
        match (self.os(), vendor) {
            (Some(os), _) => format!("{os} device {tail}"),
            (None, Some(v)) => format!("{v} {tail}"),
            (None, None) => format!("device {tail}"),
        }
    }

    /// Freezes the label to `label` (a hostname, or a label inherited from `from`).
    pub fn freeze_label(&mut self, label: &str, from: Option<MacAddr>) {
        self.label = Some(label.into());
        if from.is_some() {
            self.same_as = from;
        }
    }

    /// The identity part of a sighting.
    pub fn to_event(
        &self,
        mac: MacAddr,
        hostname: Option<&str>,
        vendor: Option<&str>,
    ) -> DeviceIdentity {
        DeviceIdentity {
            vendor_class: self.vendor_class.as_deref().map(str::to_owned),
            os: self.os(),
            model: self.ua.model.clone(),
            app: self.ua.app.clone(),
            label: Some(self.label(mac, hostname, vendor)),
            same_as: self.same_as,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_parsed_once_and_parses_bounded() {
        let mut id = Identity::default();
        let ua = "Dalvik/2.1.0 (Linux; U; Android 10; Mi 9T MIUI/V11.0.5.0.QFJEUXM)";
        assert!(id.observe_user_agent(ua));
        assert_eq!(id.ua.os.as_deref(), Some("Android 10"));
        assert!(!id.observe_user_agent(ua));
        assert_eq!(id.ua_parses, 1);
        for i in 0..200 {
            id.observe_user_agent(&format!("x{i}"));
        }
        assert_eq!(id.ua_parses, MAX_UA_PARSES);
    }

    #[test]
    fn dhcp_os_wins_over_a_disagreeing_user_agent() {
        let mut id = Identity::default();
        assert!(id.observe_dhcp(Some("android-dhcp-13"), &[1, 3], Some("01aa")));
        assert_eq!(id.os().as_deref(), Some("Android"));
        id.observe_user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0");
        id.ua.os_family = Some("Windows".into());
        assert_eq!(id.os().as_deref(), Some("Android"));
        assert_eq!(id.client_id.as_deref(), Some("01aa"));
        assert!(!id.observe_dhcp(Some("android-dhcp-13"), &[1, 3], None));
    }

    #[test]
    fn labels() {
        let mac = MacAddr([0x4c, 0x6a, 0xf6, 0x9f, 0xf6, 0x27]);
        let mut id = Identity::default();
        assert_eq!(id.label(mac, None, None), "device f627");
        assert_eq!(id.label(mac, None, Some("Acme")), "Acme f627");
        id.dhcp_os = Some(OsFamily::Android);
        assert_eq!(id.label(mac, None, Some("Acme")), "Android device f627");
        assert_eq!(id.label(mac, Some("Pixel-7"), None), "Pixel-7");
        id.freeze_label("Galaxy", None);
        assert_eq!(id.label(mac, Some("Pixel-7"), None), "Galaxy");
    }
}
