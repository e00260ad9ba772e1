//! [`PinBoard`]: the [`Board`] made of real parts — three LED output pins ([`Leds`]), an
//! optional button input pin and an optional display ([`FrameSink`]) — all behind embedded-hal
//! 1.0 traits, so the same code runs on rppal's GPIO and on embedded-hal-mock pins.
//!
//! Invariants: the parts fail independently. A display that is missing or failing never keeps
//! the LEDs or the button from working: its error is returned by `show_frame` only (every time,
//! so the caller decides how often to log and when to retry), and `shutdown` switches the LEDs
//! off before it touches the display.

use embedded_hal::digital::{InputPin, OutputPin};

use crate::indicate::board::{Board, BoardError};
use crate::indicate::display::png::Frame;
use crate::indicate::leds::{LedState, Leds};

/// Something that shows frames: the OLED, or a test double.
pub trait FrameSink {
    /// Shows `frame`.
    fn show(&mut self, frame: &Frame) -> Result<(), BoardError>;
    /// Blanks the screen.
    fn blank(&mut self) -> Result<(), BoardError>;
}

#[cfg(feature = "oled")]
impl<I2C: embedded_hal::i2c::I2c> FrameSink for super::oled::Oled<I2C> {
    fn show(&mut self, frame: &Frame) -> Result<(), BoardError> {
        super::oled::Oled::show(self, frame)
    }

    fn blank(&mut self) -> Result<(), BoardError> {
        super::oled::Oled::blank(self)
    }
}

/// A display slot that is never filled: the `D` of a [`PinBoard`] without a display.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDisplay;

impl FrameSink for NoDisplay {
    fn show(&mut self, _frame: &Frame) -> Result<(), BoardError> {
        Ok(())
    }

    fn blank(&mut self) -> Result<(), BoardError> {
        Ok(())
    }
}

/// LEDs on pins `G`, `A`, `R`, an optional button on pin `B` (low = pressed, pull-up) and an
/// optional display `D`.
#[derive(Debug)]
pub struct PinBoard<G, A, R, B, D> {
    leds: Leds<G, A, R>,
    button: Option<B>,
    display: Option<D>,
    /// Why the display could not be opened, returned by `show_frame` while there is none.
    display_error: Option<BoardError>,
}

impl<G, A, R, B, D> PinBoard<G, A, R, B, D>
where
    G: OutputPin,
    A: OutputPin<Error = G::Error>,
    R: OutputPin<Error = G::Error>,
    B: InputPin,
    D: FrameSink,
{
    /// A board of these parts; `button` or `display` may be absent.
    pub fn new(leds: Leds<G, A, R>, button: Option<B>, display: Option<D>) -> Self {
        PinBoard {
            leds,
            button,
            display,
            display_error: None,
        }
    }

    /// Records why the display could not be opened: `show_frame` returns this error (the LEDs
    /// and the button keep working).
    pub fn with_display_error(mut self, error: BoardError) -> Self {
        self.display_error = Some(error);
        self
    }

    /// Why the display could not be opened, if it could not.
    pub fn display_error(&self) -> Option<&BoardError> {
        self.display_error.as_ref()
    }

    /// Whether a display is attached and opened.
    pub fn has_display(&self) -> bool {
        self.display.is_some()
    }

    /// Gives the parts back (the LEDs, the button, the display).
    pub fn release(self) -> (Leds<G, A, R>, Option<B>, Option<D>) {
        (self.leds, self.button, self.display)
    }
}

impl<G, A, R, B, D> Board for PinBoard<G, A, R, B, D>
where
    G: OutputPin,
    A: OutputPin<Error = G::Error>,
    R: OutputPin<Error = G::Error>,
    B: InputPin,
    D: FrameSink,
{
    fn set_leds(&mut self, state: LedState, now_ms: u64) -> Result<(), BoardError> {
        self.leds
            .show(state, now_ms)
            .map_err(|e| BoardError::new("leds", e))
    }

    fn button_low(&mut self) -> Result<bool, BoardError> {
        match &mut self.button {
            Some(pin) => pin.is_low().map_err(|e| BoardError::new("button", e)),
            None => Ok(false),
        }
    }

    fn show_frame(&mut self, frame: &Frame) -> Result<(), BoardError> {
        match (&mut self.display, &self.display_error) {
            (Some(display), _) => display.show(frame),
            (None, Some(error)) => Err(error.clone()),
            (None, None) => Ok(()),
        }
    }

    fn shutdown(&mut self) -> Result<(), BoardError> {
        let leds = self.leds.off().map_err(|e| BoardError::new("leds", e));
        let display = match &mut self.display {
            Some(display) => display.blank(),
            None => Ok(()),
        };
        leds.and(display)
    }
}
