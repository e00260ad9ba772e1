//! `[ap]` from hostile or random values (proptest): parsing never panics; an error names the
//! file and a line of it and never quotes the passphrase; whatever parses renders files in
//! which no value can start a line of its own (a newline in an SSID or interface name would
//! otherwise add hostapd or networkd settings), and the passphrase appears only on its own
//! lines of the one file kept at mode 0600.

use std::path::Path;

use phonehome::ap;
use phonehome::config::Config;
use proptest::prelude::*;

const PATH: &str = "/etc/phonehome/phonehome.toml";

/// A TOML basic string holding `s` exactly (control characters escaped).
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A hostile text value: meant to break a file or the parser.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,70}",
        "\\PC{0,40}",
        "[a-z0-9]{1,8}\n[a-z_]{1,10}=[a-z0-9]{1,8}",
        Just("wlan0\ninterface=eth0".to_owned()),
        Just("x\r\nctrl_interface=/tmp".to_owned()),
        Just(String::new()),
    ]
}

/// Mostly plausible values (so that most sections parse and render), sometimes hostile ones.
fn text(plausible: impl Strategy<Value = String> + 'static) -> BoxedStrategy<String> {
    prop_oneof![4 => plausible, 1 => hostile()]
        .prop_map(|s| toml_string(&s))
        .boxed()
}

/// The passphrase: a marker that occurs nowhere else, with random text after it.
fn passphrase() -> BoxedStrategy<String> {
    prop_oneof![
        6 => "[ -~]{4,40}".prop_map(|s| format!("PW7q{s}")),
        1 => "\\PC{0,30}".prop_map(|s| format!("PW7q{s}")),
        1 => Just("PW7q\nwpa=0".to_owned()),
    ]
    .prop_map(|s| toml_string(&s))
    .boxed()
}

/// One of `choices` (TOML as written), mostly the first `good` ones.
fn raw(choices: &'static [&'static str], good: usize) -> BoxedStrategy<String> {
    let (ok, bad) = choices.split_at(good);
    prop_oneof![
        6 => prop::sample::select(ok),
        1 => prop::sample::select(bad),
    ]
    .prop_map(str::to_owned)
    .boxed()
}

/// `key = value` (a line), or nothing for a key left to its default.
fn key(k: &'static str, v: BoxedStrategy<String>, present: u32) -> BoxedStrategy<String> {
    prop_oneof![
        present => v.prop_map(move |v| format!("{k} = {v}\n")),
        10 - present => Just(String::new()),
    ]
    .boxed()
}

fn section() -> impl Strategy<Value = String> {
    let iface = || {
        text(
            prop::sample::select(
                &["wlan0", "wlan1", "eth0", "eth1", "usb0", "enx00e04c680001"][..],
            )
            .prop_map(str::to_owned),
        )
    };
    (
        key("ssid", text("[a-zA-Z0-9 _.'!-]{1,32}"), 7),
        key("passphrase", passphrase(), 9),
        key(
            "country",
            raw(
                &[
                    "\"DE\"",
                    "\"us\"",
                    "\"GB\"",
                    "\"XX\"",
                    "\"D\"",
                    "\"\"",
                    "7",
                    "\"DE\\n\"",
                ],
                3,
            ),
            9,
        ),
        key(
            "band",
            raw(&["\"2.4\"", "\"5\"", "\"6\"", "2.4", "\"\""], 2),
            5,
        ),
        key(
            "channel",
            raw(
                &[
                    "1",
                    "6",
                    "11",
                    "36",
                    "44",
                    "149",
                    "14",
                    "52",
                    "0",
                    "-1",
                    "\"6\"",
                    "999999999999",
                ],
                6,
            ),
            5,
        ),
        key(
            "mode",
            raw(&["\"bridge\"", "\"routed\"", "\"nat\"", "1"], 2),
            6,
        ),
        key("wpa3", raw(&["true", "false", "\"yes\""], 2), 4),
        key(
            "pmf",
            raw(
                &["\"optional\"", "\"required\"", "\"disabled\"", "\"on\""],
                3,
            ),
            4,
        ),
        key("interface", iface(), 5),
        key("uplink", iface(), 5),
        key(
            "subnet",
            raw(
                &[
                    "\"192.168.50.1/24\"",
                    "\"10.0.0.1/16\"",
                    "\"172.16.9.1/28\"",
                    "\"10.0.0.1/30\"",
                    "\"10.0.0.0/24\"",
                    "\"x\"",
                    "\"300.1.1.1/24\"",
                ],
                3,
            ),
            4,
        ),
        key(
            "dhcp_range",
            raw(
                &[
                    "[\"192.168.50.10\", \"192.168.50.250\"]",
                    "[\"192.168.50.250\", \"192.168.50.10\"]",
                    "[\"10.9.9.9\", \"10.9.9.10\"]",
                    "[\"a\"]",
                    "\"192.168.50.10\"",
                ],
                1,
            ),
            2,
        ),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i, j, k, l)| {
            format!("[ap]\n{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}")
        })
}

fn passphrase_of(toml: &str) -> Option<String> {
    let v: toml::Value = toml.parse().ok()?;
    v.get("ap")?.get("passphrase")?.as_str().map(str::to_owned)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn ap_section_parses_or_fails_cleanly_and_renders_safely(toml in section()) {
        let lines = toml.lines().count().max(1);
        let pass = passphrase_of(&toml);
        match Config::parse(&toml, Path::new(PATH)) {
            Err(e) => {
                let shown = e.to_string();
                let prefix = format!("{PATH}:");
                prop_assert!(shown.starts_with(&prefix), "{shown}");
                let line: usize = shown[prefix.len()..]
                    .split(':')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                prop_assert!((1..=lines + 1).contains(&line), "line {line} of {lines}: {shown}");
                if let Some(p) = &pass {
                    prop_assert!(!shown.contains(p.as_str()), "passphrase quoted: {shown}");
                }
            }
            Ok(cfg) => match ap::render(&cfg.ap) {
                Err(e) => {
                    if let Some(p) = &pass {
                        prop_assert!(!e.to_string().contains(p.as_str()));
                    }
                }
                Ok(files) => {
                    for f in &files {
                        for line in f.contents.lines() {
                            let t = line.trim_start();
                            if t.is_empty() || t.starts_with('#') || t.starts_with('[') || t == "}" {
                                continue;
                            }
                            // Every setting line is `key=value` or `key = value` with a plain key
                            // (or an nftables rule): a value never begins a line.
                            let key: String = t.chars().take_while(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c)).collect();
                            prop_assert!(!key.is_empty(), "{}: odd line {line:?}", f.path);
                        }
                        if let Some(p) = &pass {
                            if f.contents.contains(p.as_str()) {
                                prop_assert_eq!(f.mode, 0o600, "{} holds the passphrase", f.path);
                                for line in f.contents.lines().filter(|l| l.contains(p.as_str())) {
                                    prop_assert!(
                                        line.starts_with("wpa_passphrase=") || line.starts_with("sae_password="),
                                        "{}: passphrase on {line:?}", f.path
                                    );
                                }
                            }
                        }
                    }
                    // A value with a line break never reaches a file as it is.
                    let ap = &cfg.ap;
                    let values = [Some(&ap.ssid), Some(&ap.interface), Some(&ap.uplink), ap.passphrase.as_ref()];
                    for v in values.into_iter().flatten().filter(|v| v.contains(['\n', '\r'])) {
                        for f in &files {
                            prop_assert!(!f.contents.contains(v.as_str()), "{}: holds {v:?}", f.path);
                        }
                    }
                    let hostapd = files.iter().find(|f| f.path.starts_with("hostapd/")).map(|f| f.contents.as_str()).unwrap_or("");
                    for key in ["interface=", "ssid2=", "wpa_passphrase=", "country_code=", "channel="] {
                        let n = hostapd.lines().filter(|l| l.starts_with(key)).count();
                        prop_assert!(n <= 1, "{key} appears {n} times");
                    }
                }
            },
        }
    }
}
