//! The Raspberry Pi board (feature `pi`): rppal's GPIO for the LEDs and the button, rppal's
//! I2C for the OLED, assembled into a [`PinBoard`].
//!
//! Invariants: nothing here panics off a Pi — rppal answers "Unknown Raspberry Pi model" (no
//! /dev/gpiomem, no device tree) with an error value, returned as a [`BoardError`]. The LEDs
//! start low (dark) the moment their pins are claimed. The display is optional: when its bus
//! cannot be opened or its controller does not answer, the LEDs/button board is returned anyway
//! and the failure is kept as its display error (returned by `show_frame`, for the caller to
//! log).

use rppal::gpio::{Gpio, InputPin, OutputPin};
use rppal::i2c::I2c;

use super::oled::Oled;
use super::pins::PinBoard;
use crate::config::{DisplayDriver, IndicatorsConfig};
use crate::indicate::board::BoardError;
use crate::indicate::leds::Leds;

/// The Pi's board: rppal pins and an OLED on rppal's I2C.
pub type PiBoard = PinBoard<OutputPin, OutputPin, OutputPin, InputPin, Oled<I2c>>;

/// An error of `part` carrying rppal's message.
fn error(part: &'static str, what: &str, e: impl std::fmt::Display) -> BoardError {
    BoardError {
        part,
        message: format!("{what}: {e}"),
    }
}

/// Claims the GPIO pins of `cfg` (LEDs as outputs, low; the button as an input with pull-up)
/// and opens the display on its I2C bus. Fails only when the GPIO cannot be used; a display
/// failure is kept in the board (see [`PinBoard::display_error`]).
pub fn open_board(cfg: &IndicatorsConfig) -> Result<PiBoard, BoardError> {
    let gpio = Gpio::new().map_err(|e| error("leds", "opening the GPIO", e))?;
    let output = |pin: u8| -> Result<OutputPin, BoardError> {
        gpio.get(pin)
            .map(|p| p.into_output_low())
            .map_err(|e| error("leds", &format!("claiming GPIO {pin}"), e))
    };
    let leds = Leds::new(output(cfg.green)?, output(cfg.amber)?, output(cfg.red)?);
    let button = gpio
        .get(cfg.button)
        .map(|p| p.into_input_pullup())
        .map_err(|e| error("button", &format!("claiming GPIO {}", cfg.button), e))?;
    let board = match open_display(cfg) {
        Ok(display) => PinBoard::new(leds, Some(button), display),
        Err(e) => PinBoard::new(leds, Some(button), None).with_display_error(e),
    };
    Ok(board)
}

/// Opens the display `cfg` names; `Ok(None)` when it names none.
fn open_display(cfg: &IndicatorsConfig) -> Result<Option<Oled<I2c>>, BoardError> {
    if cfg.display == DisplayDriver::None {
        return Ok(None);
    }
    let bus = cfg.i2c_bus.display();
    let mut i2c = I2c::with_bus(cfg.i2c_bus_number)
        .map_err(|e| error("display", &format!("opening {bus}"), e))?;
    i2c.set_slave_address(u16::from(cfg.i2c_address))
        .map_err(|e| {
            error(
                "display",
                &format!("address {:#04x} on {bus}", cfg.i2c_address),
                e,
            )
        })?;
    Oled::new(
        cfg.display,
        i2c,
        cfg.i2c_address,
        cfg.brightness,
        cfg.rotate180,
    )
    .map(Some)
    .map_err(|e| BoardError {
        part: e.part,
        message: format!(
            "{:?} at {:#04x} on {bus}: {}",
            cfg.display, cfg.i2c_address, e.message
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicate::board::Board;

    /// Off a Pi, opening the board is an error value naming the GPIO, never a panic.
    #[test]
    fn off_a_pi_opening_is_an_error() {
        let model = std::fs::read_to_string("/proc/device-tree/model").unwrap_or_default();
        if model.contains("Raspberry Pi") {
            eprintln!("skipped: running on a {model}, where the GPIO would really be claimed");
            return;
        }
        match open_board(&IndicatorsConfig::default()) {
            Ok(mut board) => panic!("opened a Pi board off a Pi: {:?}", board.button_low()),
            Err(e) => {
                eprintln!("off a Pi: {e}");
                assert_eq!(e.part, "leds");
                assert!(e.message.starts_with("opening the GPIO: "), "{e}");
            }
        }
    }
}
