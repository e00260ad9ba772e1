//! The hardware the daemon drives, behind one object-safe trait: three LEDs, a button and a
//! display. The Raspberry Pi implementation (rppal GPIO and I2C, SSD1306/SH1106 drivers) lives
//! in [`super::hw`]; [`MemoryBoard`] keeps the same state in memory, for tests and for
//! machines without the hardware. The daemon's indicator loop only sees `dyn Board`.

use super::display::png::Frame;
use super::leds::{levels, LedState};

/// A failure of one part of the board (a GPIO write, an I2C transfer).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {message}")]
pub struct BoardError {
    /// Which part failed: "leds", "button", "display".
    pub part: &'static str,
    /// The driver's description of the failure.
    pub message: String,
}

impl BoardError {
    /// An error of `part` described by `e`'s Debug form (embedded-hal errors only promise Debug).
    pub fn new(part: &'static str, e: impl std::fmt::Debug) -> Self {
        BoardError {
            part,
            message: format!("{e:?}"),
        }
    }
}

/// Three LEDs, a button and a display, as the indicator loop drives them.
pub trait Board {
    /// Sets the LEDs for `state` at `now_ms` (blinking follows the clock; call every tick).
    fn set_leds(&mut self, state: LedState, now_ms: u64) -> Result<(), BoardError>;
    /// Whether the button pin reads low (pressed) now; `Ok(false)` on a board without one.
    fn button_low(&mut self) -> Result<bool, BoardError>;
    /// Shows `frame` on the display; does nothing on a board without one.
    fn show_frame(&mut self, frame: &Frame) -> Result<(), BoardError>;
    /// Clean stop: every LED off and the display blanked. Called explicitly on SIGTERM, since
    /// `Drop` does not run on every signal path. Tries every part; returns the first error.
    fn shutdown(&mut self) -> Result<(), BoardError>;
}

/// A board in memory: the LED levels, a button a test can press, the frames shown.
#[derive(Clone, Debug, Default)]
pub struct MemoryBoard {
    /// Green, amber, red: lit or not.
    pub leds: [bool; 3],
    /// The button is held down.
    pub button_down: bool,
    /// The frame on the display; None when blank.
    pub frame: Option<Frame>,
    /// Frames drawn so far (to check the refresh rate).
    pub frames_drawn: u64,
    /// `shutdown` was called.
    pub shut_down: bool,
}

impl Board for MemoryBoard {
    fn set_leds(&mut self, state: LedState, now_ms: u64) -> Result<(), BoardError> {
        self.leds = levels(state, now_ms);
        Ok(())
    }

    fn button_low(&mut self) -> Result<bool, BoardError> {
        Ok(self.button_down)
    }

    fn show_frame(&mut self, frame: &Frame) -> Result<(), BoardError> {
        self.frame = Some(frame.clone());
        self.frames_drawn = self.frames_drawn.saturating_add(1);
        Ok(())
    }

    fn shutdown(&mut self) -> Result<(), BoardError> {
        self.leds = [false; 3];
        self.frame = None;
        self.shut_down = true;
        Ok(())
    }
}

impl<B: Board + ?Sized> Board for Box<B> {
    fn set_leds(&mut self, state: LedState, now_ms: u64) -> Result<(), BoardError> {
        (**self).set_leds(state, now_ms)
    }

    fn button_low(&mut self) -> Result<bool, BoardError> {
        (**self).button_low()
    }

    fn show_frame(&mut self, frame: &Frame) -> Result<(), BoardError> {
        (**self).show_frame(frame)
    }

    fn shutdown(&mut self) -> Result<(), BoardError> {
        (**self).shutdown()
    }
}
