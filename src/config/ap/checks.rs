//! The checks of `[ap]` values that both the loader and the renderer (`crate::ap`) apply:
//! one definition of what can be written safely into hostapd, networkd, dnsmasq and nftables.

use std::ops::RangeInclusive;

use super::{Band, CHANNELS_5};

/// SSID length in bytes (IEEE 802.11: at most 32 octets).
const SSID_BYTES: RangeInclusive<usize> = 1..=32;
/// WPA2 passphrase length in ASCII characters (IEEE 802.11i; hostapd refuses others).
const PASSPHRASE_CHARS: RangeInclusive<usize> = 8..=63;
/// Linux IFNAMSIZ (16) less the terminating NUL.
const MAX_IFNAME_LEN: usize = 15;
/// 2.4 GHz channels: 1–13 are legal for an AP in most countries; 14 is 802.11b-only (Japan).
const CHANNELS_2_4: RangeInclusive<i64> = 1..=13;

/// ISO 3166-1 alpha-2 codes (the assigned ones, 249), the values hostapd's `country_code`
/// and the kernel's regulatory database know. A 249-entry table needs no dependency.
const ISO_3166_ALPHA2: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS \
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE \
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM \
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC \
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA \
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO \
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// True for an SSID hostapd and clients accept: 1–32 bytes, no control characters.
pub(crate) fn valid_ssid(s: &str) -> bool {
    SSID_BYTES.contains(&s.len()) && !s.contains(char::is_control)
}

/// Why a passphrase is refused (never quoting it), or None when it is valid.
pub(crate) fn passphrase_problem(p: &str) -> Option<String> {
    if !p.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Some("contains a character outside printable ASCII".to_owned());
    }
    let n = p.len();
    (!PASSPHRASE_CHARS.contains(&n)).then(|| format!("got {n} characters"))
}

/// True for an interface name safe to write unquoted or quoted in every rendered format.
pub(crate) fn valid_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_IFNAME_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// True for an upper-case assigned ISO 3166 alpha-2 code.
pub(crate) fn valid_country(s: &str) -> bool {
    s.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == s)
}

/// True for a channel legal for `band`.
pub(crate) fn valid_channel(band: Band, channel: u8) -> bool {
    match band {
        Band::Ghz2_4 => CHANNELS_2_4.contains(&i64::from(channel)),
        Band::Ghz5 => CHANNELS_5.contains(&channel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_table_has_the_249_assigned_codes() {
        let codes: Vec<&str> = ISO_3166_ALPHA2.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.iter().all(|c| c.len() == 2));
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        assert!(valid_country("DE") && valid_country("US") && valid_country("JP"));
        assert!(!valid_country("XX") && !valid_country("00") && !valid_country("de"));
    }

    #[test]
    fn passphrase_problems_never_quote_it() {
        assert_eq!(passphrase_problem("12345678"), None);
        assert_eq!(passphrase_problem(&"a".repeat(63)), None);
        assert_eq!(
            passphrase_problem("secret7"),
            Some("got 7 characters".to_owned())
        );
        assert_eq!(
            passphrase_problem(&"a".repeat(64)),
            Some("got 64 characters".to_owned())
        );
        let p = passphrase_problem("pässwörter").unwrap();
        assert!(!p.contains("ss"), "{p}");
        assert!(passphrase_problem("line\nbreak1").is_some());
    }
}
