//! The acknowledge button: a push button to ground with the pin's pull-up (pressed = low),
//! debounced in software and classified into short and long presses.
//!
//! [`Button`] is a pure state machine fed with the raw level and the caller's clock in
//! milliseconds ([`Button::poll`]); [`Button::poll_pin`] reads an
//! [`embedded_hal::digital::InputPin`] first. Hand-rolled because the debouncing crates of the
//! field either own the pin and a timer or report only edges, and the short/long split needs
//! the press duration. Invariants: a level change counts only once it has been stable for
//! [`DEBOUNCE_MS`]; each press yields at most one [`Press`]; a clock that goes backwards delays
//! decisions but never panics (saturating arithmetic).

use embedded_hal::digital::InputPin;

/// How long a level must stay unchanged before it counts: longer than the contact bounce of
/// cheap tactile switches (typically < 10 ms), shorter than a deliberate tap (~80 ms).
pub const DEBOUNCE_MS: u64 = 30;

/// A press held at least this long is a [`Press::Long`] (cycles the display page).
pub const LONG_PRESS_MS: u64 = 1000;

/// One classified press.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Press {
    /// Released before [`LONG_PRESS_MS`]: acknowledges the alerts shown.
    Short,
    /// Held [`LONG_PRESS_MS`] or more: reported once, while still held.
    Long,
}

/// Debounce and press state of one button.
#[derive(Clone, Debug, Default)]
pub struct Button {
    /// Last raw level seen (`true` = low = pressed).
    raw_low: bool,
    /// When `raw_low` last changed.
    raw_since: u64,
    /// Debounced level (`true` = pressed).
    pressed: bool,
    /// When the current press began (its first low edge).
    pressed_at: u64,
    /// Whether this press was already reported as [`Press::Long`].
    long_reported: bool,
}

impl Button {
    /// A released button.
    pub fn new() -> Self {
        Button::default()
    }

    /// Whether the debounced button is down now.
    pub fn is_pressed(&self) -> bool {
        self.pressed
    }

    /// Feeds one sample (`level_low` = the pin reads low = pressed) taken at `now_ms`; returns a
    /// press when one is complete: `Short` on a debounced release before [`LONG_PRESS_MS`],
    /// `Long` at the first sample once the button has been held that long.
    pub fn poll(&mut self, level_low: bool, now_ms: u64) -> Option<Press> {
        if level_low != self.raw_low {
            self.raw_low = level_low;
            self.raw_since = now_ms;
        }
        if self.raw_low != self.pressed && now_ms.saturating_sub(self.raw_since) >= DEBOUNCE_MS {
            self.pressed = self.raw_low;
            if self.pressed {
                self.pressed_at = self.raw_since;
                self.long_reported = false;
            } else if !self.long_reported {
                let held = self.raw_since.saturating_sub(self.pressed_at);
                return Some(if held >= LONG_PRESS_MS {
                    Press::Long
                } else {
                    Press::Short
                });
            }
        }
        if self.pressed
            && !self.long_reported
            && now_ms.saturating_sub(self.pressed_at) >= LONG_PRESS_MS
        {
            self.long_reported = true;
            return Some(Press::Long);
        }
        None
    }

    /// Reads `pin` (pressed = low) and feeds it to [`Button::poll`].
    pub fn poll_pin<P: InputPin>(
        &mut self,
        pin: &mut P,
        now_ms: u64,
    ) -> Result<Option<Press>, P::Error> {
        let low = pin.is_low()?;
        Ok(self.poll(low, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples every `step` ms from `from` to `to` (exclusive) with the level given by `low`.
    fn run(b: &mut Button, from: u64, to: u64, step: usize, low: bool) -> Vec<(u64, Press)> {
        (from..to)
            .step_by(step)
            .filter_map(|t| b.poll(low, t).map(|p| (t, p)))
            .collect()
    }

    #[test]
    fn bounce_inside_the_window_is_ignored() {
        let mut b = Button::new();
        // Contact bounce: low/high alternating every 5 ms for 25 ms, then held low.
        for (i, t) in (100..125).step_by(5).enumerate() {
            assert_eq!(b.poll(i % 2 == 0, t), None);
        }
        assert!(!b.is_pressed());
        assert_eq!(run(&mut b, 125, 400, 5, true), vec![]);
        assert!(b.is_pressed());
        assert_eq!(run(&mut b, 400, 500, 5, false), vec![(430, Press::Short)]);
    }

    #[test]
    fn sparse_samples_still_give_one_long() {
        let mut b = Button::new();
        assert_eq!(b.poll(true, 0), None);
        assert_eq!(b.poll(true, 40), None);
        // The sample at 1040 reports the hold; the release reports nothing more.
        assert_eq!(b.poll(true, 1040), Some(Press::Long));
        assert_eq!(b.poll(false, 1100), None);
        assert_eq!(b.poll(false, 1200), None);
        assert!(!b.is_pressed());
    }

    #[test]
    fn low_never_seen_stable_is_no_press() {
        let mut b = Button::new();
        assert_eq!(b.poll(true, 0), None);
        // No sample saw the level low for 30 ms: to the debouncer this was a glitch.
        assert_eq!(b.poll(false, 1500), None);
        assert_eq!(b.poll(false, 1600), None);
        assert!(!b.is_pressed());
    }

    #[test]
    fn clock_going_backwards_does_not_panic() {
        let mut b = Button::new();
        assert_eq!(b.poll(true, 1000), None);
        assert_eq!(b.poll(true, 10), None);
        assert_eq!(b.poll(true, 0), None);
        assert_eq!(b.poll(false, u64::MAX), None);
    }
}
