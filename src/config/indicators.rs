//! `[indicators]`: the LEDs, the acknowledge button and the OLED (issue 4), validated like the
//! other sections (errors name file, line and key). Pins are BCM GPIO numbers of the Pi's
//! 40-pin header; the display sits on an I2C bus given as its device file.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::raw::{Ctx, Field};
use super::ConfigError;

/// BCM GPIO numbers brought out on the 40-pin header (GPIO 0 and 1 are the HAT EEPROM bus but
/// remain usable).
const BCM_PINS: RangeInclusive<i64> = 0..=27;
/// 7-bit I2C addresses outside the reserved ranges.
const I2C_ADDRESSES: RangeInclusive<i64> = 0x03..=0x77;
/// Longest I2C bus number a path may name (`/dev/i2c-N`; rppal takes a u8).
const MAX_I2C_BUS: u32 = 255;

/// Which OLED controller the module carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayDriver {
    /// SSD1306 128×64 (the common 0.96" module).
    Ssd1306,
    /// SH1106 132×64 RAM showing 128×64 (many 1.3" modules).
    Sh1106,
    /// No display attached.
    None,
}

/// Display brightness presets (the SSD1306 crate's contrast/precharge pairs; SH1106 uses the
/// contrast alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Brightness {
    Dimmest,
    Dim,
    Normal,
    Bright,
    Brightest,
}

impl Brightness {
    /// The names accepted in the file, in increasing order.
    pub const NAMES: [(&'static str, Brightness); 5] = [
        ("dimmest", Brightness::Dimmest),
        ("dim", Brightness::Dim),
        ("normal", Brightness::Normal),
        ("bright", Brightness::Bright),
        ("brightest", Brightness::Brightest),
    ];
}

/// `[indicators]`: what is wired to the Pi's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorsConfig {
    /// Drive the LEDs, button and display at all (false: the daemon never touches GPIO/I2C).
    pub enabled: bool,
    /// BCM pin of the green LED (active high).
    pub green: u8,
    /// BCM pin of the amber LED (active high).
    pub amber: u8,
    /// BCM pin of the red LED (active high).
    pub red: u8,
    /// BCM pin of the push button to ground (internal pull-up).
    pub button: u8,
    /// OLED controller.
    pub display: DisplayDriver,
    /// I2C bus device file, e.g. `/dev/i2c-1`.
    pub i2c_bus: PathBuf,
    /// The bus number N of `/dev/i2c-N` (what rppal opens).
    pub i2c_bus_number: u8,
    /// 7-bit I2C address of the display.
    pub i2c_address: u8,
    /// Display brightness.
    pub brightness: Brightness,
    /// Display mounted upside down: rotate the picture by 180°.
    pub rotate180: bool,
}

impl Default for IndicatorsConfig {
    fn default() -> Self {
        IndicatorsConfig {
            enabled: true,
            green: 17,
            amber: 27,
            red: 22,
            button: 23,
            display: DisplayDriver::Ssd1306,
            i2c_bus: PathBuf::from("/dev/i2c-1"),
            i2c_bus_number: 1,
            i2c_address: 0x3C,
            brightness: Brightness::Normal,
            rotate180: false,
        }
    }
}

/// `[indicators]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndicators {
    enabled: Field,
    green: Field,
    amber: Field,
    red: Field,
    button: Field,
    display: Field,
    i2c_bus: Field,
    i2c_address: Field,
    brightness: Field,
    rotate180: Field,
}

/// Validates `[indicators]`: pins in range and distinct, a known driver, `/dev/i2c-N`.
pub(super) fn validate(ctx: &Ctx<'_>, r: RawIndicators) -> Result<IndicatorsConfig, ConfigError> {
    const S: &str = "indicators";
    let d = IndicatorsConfig::default();
    let mut pins: Vec<(&str, u8, &Field)> = Vec::with_capacity(4);
    for (key, field, default) in [
        ("green", &r.green, d.green),
        ("amber", &r.amber, d.amber),
        ("red", &r.red, d.red),
        ("button", &r.button, d.button),
    ] {
        let pin: u8 = ctx.int((S, key), field, default, BCM_PINS)?;
        if let Some((other, _, _)) = pins.iter().find(|(_, p, _)| *p == pin) {
            let span = field
                .as_ref()
                .or(pins
                    .iter()
                    .find(|(k, _, _)| k == other)
                    .and_then(|p| p.2.as_ref()))
                .map(Spanned::span)
                .unwrap_or(0..0);
            return Err(ctx.invalid_at(
                span,
                Some(&format!("{S}.{key}")),
                format!("[{S}] {key}: GPIO {pin} is already used by {other}"),
            ));
        }
        pins.push((key, pin, field));
    }
    let display = match &r.display {
        None => d.display,
        Some(v) => match v.get_ref().as_str() {
            Some("ssd1306") => DisplayDriver::Ssd1306,
            Some("sh1106") => DisplayDriver::Sh1106,
            Some("none") => DisplayDriver::None,
            _ => return Err(ctx.bad_value(S, "display", v, "\"ssd1306\", \"sh1106\" or \"none\"")),
        },
    };
    let (i2c_bus, i2c_bus_number) = match &r.i2c_bus {
        None => (d.i2c_bus, d.i2c_bus_number),
        Some(v) => match v.get_ref().as_str().and_then(i2c_bus_number) {
            Some(n) => (PathBuf::from(format!("/dev/i2c-{n}")), n),
            None => return Err(ctx.bad_value(S, "i2c_bus", v, "a bus like \"/dev/i2c-1\"")),
        },
    };
    let brightness = match &r.brightness {
        None => d.brightness,
        Some(v) => {
            let name = v.get_ref().as_str();
            match Brightness::NAMES.iter().find(|(n, _)| Some(*n) == name) {
                Some((_, b)) => *b,
                None => {
                    return Err(ctx.bad_value(
                        S,
                        "brightness",
                        v,
                        "\"dimmest\", \"dim\", \"normal\", \"bright\" or \"brightest\"",
                    ))
                }
            }
        }
    };
    Ok(IndicatorsConfig {
        enabled: ctx.boolean((S, "enabled"), r.enabled, d.enabled)?,
        green: pins[0].1,
        amber: pins[1].1,
        red: pins[2].1,
        button: pins[3].1,
        display,
        i2c_bus,
        i2c_bus_number,
        i2c_address: ctx.int(
            (S, "i2c_address"),
            &r.i2c_address,
            d.i2c_address,
            I2C_ADDRESSES,
        )?,
        brightness,
        rotate180: ctx.boolean((S, "rotate180"), r.rotate180, d.rotate180)?,
    })
}

/// N of `/dev/i2c-N` (digits only, no leading zeros beyond "0").
fn i2c_bus_number(path: &str) -> Option<u8> {
    let digits = path.strip_prefix("/dev/i2c-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 3 {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    if n > MAX_I2C_BUS || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    u8::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::i2c_bus_number;

    #[test]
    fn bus_numbers() {
        assert_eq!(i2c_bus_number("/dev/i2c-1"), Some(1));
        assert_eq!(i2c_bus_number("/dev/i2c-22"), Some(22));
        assert_eq!(i2c_bus_number("/dev/i2c-255"), Some(255));
        for bad in [
            "/dev/i2c-",
            "/dev/i2c-256",
            "/dev/i2c-01",
            "/dev/i2c-1a",
            "/dev/spidev0.0",
        ] {
            assert_eq!(i2c_bus_number(bad), None, "{bad}");
        }
    }
}
