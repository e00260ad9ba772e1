//! DHCP fingerprint → OS family: option 60 (vendor class) and option 55 (parameter request
//! list) matched against the rule table `data/dhcp-os.tsv`, embedded in the binary.
//!
//! Hand-made rather than generated from Satori's `dhcp.xml`: that file is GPL-2.0 and this
//! crate is MIT OR Apache-2.0. The rules name families only (no versions; Android's version
//! is in its vendor class `android-dhcp-NN`, kept as is by the caller) and are few enough to
//! scan in order, which happens once per DHCP message that brings a new fingerprint.
//!
//! Invariants: the table is parsed once ([`rules`]); a malformed line is skipped and counted
//! (a unit test keeps the shipped table free of them); matching never allocates.

use std::sync::OnceLock;

/// The shipped rule table.
const TABLE: &str = include_str!("../../../data/dhcp-os.tsv");

/// Option codes in one rule: bounds a rule's parsed size (a real request list has < 30).
const MAX_RULE_CODES: usize = 64;

/// An operating-system family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OsFamily {
    /// Android (AOSP and vendor builds).
    Android,
    /// iOS and iPadOS.
    Ios,
    /// macOS.
    MacOs,
    /// Windows.
    Windows,
    /// Linux other than Android.
    Linux,
}

impl OsFamily {
    /// Display name, as the rule table and `phonehome devices` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            OsFamily::Android => "Android",
            OsFamily::Ios => "iOS",
            OsFamily::MacOs => "macOS",
            OsFamily::Windows => "Windows",
            OsFamily::Linux => "Linux",
        }
    }

    /// Parses a display name (rule table, ua-parser OS family); None when it names none.
    pub fn from_name(s: &str) -> Option<OsFamily> {
        Some(match s {
            "Android" => OsFamily::Android,
            "iOS" | "iPadOS" => OsFamily::Ios,
            "macOS" | "Mac OS X" | "Mac OS" => OsFamily::MacOs,
            "Windows" => OsFamily::Windows,
            "Linux" | "Ubuntu" | "Debian" | "Fedora" | "Raspbian" => OsFamily::Linux,
            _ => return None,
        })
    }
}

/// How a rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Test {
    VendorPrefix(String),
    PrlExact(Vec<u8>),
    PrlPrefix(Vec<u8>),
    PrlAll(Vec<u8>),
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    test: Test,
    os: OsFamily,
}

/// The parsed table and the number of lines skipped as malformed.
fn rules() -> &'static (Vec<Rule>, usize) {
    static RULES: OnceLock<(Vec<Rule>, usize)> = OnceLock::new();
    RULES.get_or_init(|| parse_table(TABLE))
}

/// Parses a rule table; returns the rules and how many non-comment lines were malformed.
fn parse_table(text: &str) -> (Vec<Rule>, usize) {
    let mut rules = Vec::new();
    let mut bad = 0;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_rule(line) {
            Some(r) => rules.push(r),
            None => bad += 1,
        }
    }
    (rules, bad)
}

fn parse_rule(line: &str) -> Option<Rule> {
    let mut cols = line.split('\t');
    let (kind, value, os) = (cols.next()?, cols.next()?, cols.next()?);
    if cols.next().is_some() || value.is_empty() {
        return None;
    }
    let os = OsFamily::from_name(os)?;
    let codes = || -> Option<Vec<u8>> {
        let v: Vec<u8> = value
            .split(',')
            .map(|c| c.trim().parse().ok())
            .collect::<Option<_>>()?;
        (v.len() <= MAX_RULE_CODES).then_some(v)
    };
    let test = match kind {
        "vendor-prefix" => Test::VendorPrefix(value.to_ascii_lowercase()),
        "prl-exact" => Test::PrlExact(codes()?),
        "prl-prefix" => Test::PrlPrefix(codes()?),
        "prl-all" => Test::PrlAll(codes()?),
        _ => return None,
    };
    Some(Rule { test, os })
}

/// The OS family a DHCP client's vendor class and parameter request list point to, if any
/// rule matches.
pub fn os_from_dhcp(vendor_class: Option<&str>, param_list: &[u8]) -> Option<OsFamily> {
    rules()
        .0
        .iter()
        .find(|r| matches(&r.test, vendor_class, param_list))
        .map(|r| r.os)
}

fn matches(t: &Test, vendor_class: Option<&str>, prl: &[u8]) -> bool {
    match t {
        Test::VendorPrefix(p) => vendor_class.is_some_and(|v| {
            v.get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        }),
        Test::PrlExact(codes) => !prl.is_empty() && prl == codes.as_slice(),
        Test::PrlPrefix(codes) => !prl.is_empty() && prl.starts_with(codes),
        Test::PrlAll(codes) => !prl.is_empty() && codes.iter().all(|c| prl.contains(c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses_whole() {
        let (rules, bad) = rules();
        assert_eq!(*bad, 0);
        assert_eq!(rules.len(), 10);
    }

    #[test]
    fn malformed_lines_are_counted_not_fatal() {
        let (rules, bad) = parse_table(
            "# c\nprl-all\t1,x\tAndroid\nbogus\t1\tiOS\nprl-all\t1\tBeOS\nprl-all\t1\n\
             prl-all\t1,300\tiOS\nvendor-prefix\tfoo\tLinux\n",
        );
        assert_eq!(bad, 5);
        assert_eq!(rules.len(), 1);
    }

    #[test]
    fn families() {
        let os = os_from_dhcp;
        assert_eq!(
            os(Some("android-dhcp-13"), &[1, 3]),
            Some(OsFamily::Android)
        );
        assert_eq!(os(Some("ANDROID-DHCP-9"), &[]), Some(OsFamily::Android));
        assert_eq!(os(Some("MSFT 5.0"), &[1, 3, 6]), Some(OsFamily::Windows));
        assert_eq!(os(Some("dhcpcd-5.5.6"), &[]), Some(OsFamily::Linux));
        // iOS 17 (no vendor class), macOS 14 (NetBIOS and LDAP too).
        let ios = [1, 121, 3, 6, 15, 108, 114, 119, 252];
        assert_eq!(os(None, &ios), Some(OsFamily::Ios));
        let mac = [1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46];
        assert_eq!(os(None, &mac), Some(OsFamily::MacOs));
        let win = [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252];
        assert_eq!(os(None, &win), Some(OsFamily::Windows));
        let dhclient = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];
        assert_eq!(os(None, &dhclient), Some(OsFamily::Linux));
        assert_eq!(os(None, &[1, 3, 6, 42]), None);
        assert_eq!(os(Some("a"), &[]), None);
        assert_eq!(os(None, &[]), None);
    }
}
