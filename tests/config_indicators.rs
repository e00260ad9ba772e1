//! `[indicators]`: LED/button pins, the OLED driver, bus, address and brightness, with
//! defaults as documented and errors naming file, line and key.

use std::path::{Path, PathBuf};

use phonehome::config::{Brightness, Config, ConfigError, DisplayDriver, CONFIG_REFERENCE};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/phonehome/phonehome.toml"))
}

fn error(text: &str) -> (usize, String) {
    match parse(text) {
        Err(ConfigError::Invalid { line, message, .. }) => (line, message),
        other => panic!("expected an invalid-config error, got {other:?}"),
    }
}

#[test]
fn defaults_are_the_documented_wiring() {
    let c = parse("").unwrap().indicators;
    assert!(c.enabled);
    assert_eq!((c.green, c.amber, c.red, c.button), (17, 27, 22, 23));
    assert_eq!(c.display, DisplayDriver::Ssd1306);
    assert_eq!(c.i2c_bus, PathBuf::from("/dev/i2c-1"));
    assert_eq!(c.i2c_bus_number, 1);
    assert_eq!(c.i2c_address, 0x3C);
    assert_eq!(c.brightness, Brightness::Normal);
    assert!(!c.rotate180);
    for (key, default) in [
        ("green", "`17`"),
        ("amber", "`27`"),
        ("red", "`22`"),
        ("button", "`23`"),
        ("i2c_address", "`0x3C`"),
        ("display", "`\"ssd1306\"`"),
        ("i2c_bus", "`\"/dev/i2c-1\"`"),
        ("brightness", "`\"normal\"`"),
        ("enabled", "`true`"),
        ("rotate180", "`false`"),
    ] {
        let row = CONFIG_REFERENCE
            .lines()
            .find(|l| l.starts_with(&format!("| `[indicators] {key}` |")))
            .unwrap_or_else(|| panic!("{key} not documented"));
        assert_eq!(row.split(" | ").nth(2), Some(default), "{row}");
    }
}

#[test]
fn every_key_is_read() {
    let c = parse(
        "[indicators]\nenabled = false\ngreen = 5\namber = 6\nred = 13\nbutton = 26\n\
         display = \"sh1106\"\ni2c_bus = \"/dev/i2c-3\"\ni2c_address = 0x3D\n\
         brightness = \"dim\"\nrotate180 = true\n",
    )
    .unwrap()
    .indicators;
    assert!(!c.enabled);
    assert_eq!((c.green, c.amber, c.red, c.button), (5, 6, 13, 26));
    assert_eq!(c.display, DisplayDriver::Sh1106);
    assert_eq!(
        (c.i2c_bus.to_str(), c.i2c_bus_number),
        (Some("/dev/i2c-3"), 3)
    );
    assert_eq!(c.i2c_address, 0x3D);
    assert_eq!(c.brightness, Brightness::Dim);
    assert!(c.rotate180);
    assert_eq!(
        parse("[indicators]\ndisplay = \"none\"\n")
            .unwrap()
            .indicators
            .display,
        DisplayDriver::None
    );
}

#[test]
fn bad_values_name_line_and_key() {
    let cases = [
        ("[indicators]\n\ngreen = 28\n", 3, "[indicators] green: expected at most 27, got 28"),
        ("[indicators]\nred = 17\n", 2, "[indicators] red: GPIO 17 is already used by green"),
        (
            "[indicators]\nbutton = 27\n",
            2,
            "[indicators] button: GPIO 27 is already used by amber",
        ),
        (
            "[indicators]\ndisplay = \"ssd1309\"\n",
            2,
            "[indicators] display: expected \"ssd1306\", \"sh1106\" or \"none\", got \"ssd1309\"",
        ),
        (
            "[indicators]\ni2c_bus = \"/dev/spidev0.0\"\n",
            2,
            "[indicators] i2c_bus: expected a bus like \"/dev/i2c-1\", got \"/dev/spidev0.0\"",
        ),
        (
            "[indicators]\ni2c_address = 0x78\n",
            2,
            "[indicators] i2c_address: expected at most 119, got 120",
        ),
        (
            "[indicators]\nbrightness = 80\n",
            2,
            "[indicators] brightness: expected \"dimmest\", \"dim\", \"normal\", \"bright\" or \"brightest\", got 80",
        ),
        ("[indicators]\nenabled = \"yes\"\n", 2, "[indicators] enabled: expected true or false, got \"yes\""),
    ];
    for (text, line, message) in cases {
        assert_eq!(error(text), (line, message.to_owned()), "{text}");
    }
    let (line, message) = error("[indicators]\nbuzzer = 4\n");
    assert_eq!(line, 2);
    assert!(message.contains("buzzer"), "{message}");
}
