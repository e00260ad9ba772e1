//! The real indicator hardware behind the [`Board`] contract: [`pins::PinBoard`] (LEDs, button
//! and display over embedded-hal 1.0 traits), [`oled::Oled`] (SSD1306 or SH1106 over I2C,
//! feature `oled`) and the Raspberry Pi's rppal backend (feature `pi`).
//!
//! Invariant: [`open`] never panics; without the `pi` feature, or off a Pi, it returns an
//! error the daemon logs once before carrying on without indicators.

#[cfg(feature = "oled")]
pub mod oled;
#[cfg(feature = "pi")]
pub mod pi;
pub mod pins;

use super::board::{Board, BoardError};
use crate::config::IndicatorsConfig;

/// Opens the Raspberry Pi's LEDs, button and display as `cfg` wires them.
///
/// The caller checks `cfg.enabled` first. The display is optional: when it cannot be opened
/// the board still drives the LEDs and reads the button, and its `show_frame` returns why.
/// Built without the `pi` feature, this is always an error.
pub fn open(cfg: &IndicatorsConfig) -> Result<Box<dyn Board>, BoardError> {
    #[cfg(feature = "pi")]
    {
        pi::open_board(cfg).map(|b| Box::new(b) as Box<dyn Board>)
    }
    #[cfg(not(feature = "pi"))]
    {
        let _ = cfg;
        Err(BoardError {
            part: "leds",
            message: "built without the `pi` feature: no GPIO or I2C backend".into(),
        })
    }
}

#[cfg(all(test, not(feature = "pi")))]
mod tests {
    use super::*;

    #[test]
    fn without_the_pi_feature_open_says_so() {
        let e = open(&IndicatorsConfig::default()).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("leds: built without the `pi` feature: no GPIO or I2C backend".to_string())
        );
    }
}
