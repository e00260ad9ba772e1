//! The three status LEDs (green, amber, red): which state to show and the pin levels for it.
//!
//! Everything here is pure except [`Leds`], which writes levels to three
//! [`embedded_hal::digital::OutputPin`]s (active high), so the same code drives rppal's GPIO on
//! the Pi and embedded-hal-mock pins in tests. Invariants: the state is a pure function
//! ([`led_state`]) of the capture flag, the store health and the worst unacknowledged alert; the
//! blink phase is a pure function of the caller's clock ([`blink_on`]), so two calls with the
//! same state and time set the same levels; every [`Leds::show`] writes all three pins (green,
//! amber, red, in that order), so a glitched pin is corrected on the next tick.

use embedded_hal::digital::OutputPin;
use serde::Serialize;

use crate::event::Severity;

/// Half period of a blinking LED in milliseconds: 500 ms on, then 500 ms off.
pub const BLINK_HALF_PERIOD_MS: u64 = 500;

/// What the LEDs show, most important first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LedState {
    /// Green steady: capturing, nothing to acknowledge.
    Capturing,
    /// Amber steady: at least one unacknowledged warn alert, no critical one.
    Warn,
    /// Red blinking: at least one unacknowledged critical alert.
    Critical,
    /// Green blinking: capture down or the store failing, nothing to acknowledge.
    Fault,
    /// All off: the daemon stopped cleanly (never derived by [`led_state`]).
    Off,
}

impl LedState {
    /// The lowercase name printed by `phonehome leds --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            LedState::Capturing => "capturing",
            LedState::Warn => "warn",
            LedState::Critical => "critical",
            LedState::Fault => "fault",
            LedState::Off => "off",
        }
    }

    /// How each LED behaves in this state, as `[green, amber, red]`.
    pub fn modes(self) -> [LedMode; 3] {
        use LedMode::{Blinking, Off, On};
        match self {
            LedState::Capturing => [On, Off, Off],
            LedState::Warn => [Off, On, Off],
            LedState::Critical => [Off, Off, Blinking],
            LedState::Fault => [Blinking, Off, Off],
            LedState::Off => [Off, Off, Off],
        }
    }
}

/// How one LED behaves over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LedMode {
    /// Dark.
    Off,
    /// Lit steadily.
    On,
    /// Lit for [`BLINK_HALF_PERIOD_MS`], dark for as long, repeating.
    Blinking,
}

impl LedMode {
    /// The lowercase name printed by `phonehome leds`.
    pub fn as_str(self) -> &'static str {
        match self {
            LedMode::Off => "off",
            LedMode::On => "on",
            LedMode::Blinking => "blinking",
        }
    }

    /// Whether the LED is lit at `now_ms`.
    pub fn lit(self, now_ms: u64) -> bool {
        match self {
            LedMode::Off => false,
            LedMode::On => true,
            LedMode::Blinking => blink_on(now_ms),
        }
    }
}

/// The state the LEDs show for the daemon's situation.
///
/// Priority: an unacknowledged critical alert, then an unacknowledged warn alert (alerts stay
/// visible even while capture is down: they are stored and still need the user's attention),
/// then a fault (`!capturing` or `!store_ok`), then capturing. Info alerts light nothing.
pub fn led_state(capturing: bool, store_ok: bool, worst_unacked: Option<Severity>) -> LedState {
    match worst_unacked {
        Some(Severity::Critical) => LedState::Critical,
        Some(Severity::Warn) => LedState::Warn,
        Some(Severity::Info) | None if !capturing || !store_ok => LedState::Fault,
        Some(Severity::Info) | None => LedState::Capturing,
    }
}

/// Whether a blinking LED is lit at `now_ms`: lit in the first half of each period, starting at
/// time 0.
pub fn blink_on(now_ms: u64) -> bool {
    (now_ms / BLINK_HALF_PERIOD_MS) % 2 == 0
}

/// Pin levels (`true` = high = lit) as `[green, amber, red]` for `state` at `now_ms`.
pub fn levels(state: LedState, now_ms: u64) -> [bool; 3] {
    state.modes().map(|m| m.lit(now_ms))
}

/// The three LEDs on output pins, active high. All pins share one error type (on the Pi they
/// are all rppal GPIO pins).
#[derive(Debug)]
pub struct Leds<G, A, R> {
    green: G,
    amber: A,
    red: R,
}

impl<G, A, R> Leds<G, A, R>
where
    G: OutputPin,
    A: OutputPin<Error = G::Error>,
    R: OutputPin<Error = G::Error>,
{
    /// Takes the three pins; sets nothing until the first [`Leds::show`] or [`Leds::off`].
    pub fn new(green: G, amber: A, red: R) -> Self {
        Leds { green, amber, red }
    }

    /// Sets the pins for `state` at `now_ms` (call it on every tick; blinking follows the clock).
    ///
    /// Writes all three pins even when one fails, and returns the first error.
    pub fn show(&mut self, state: LedState, now_ms: u64) -> Result<(), G::Error> {
        let [g, a, r] = levels(state, now_ms);
        let eg = self.green.set_state(g.into());
        let ea = self.amber.set_state(a.into());
        let er = self.red.set_state(r.into());
        eg.and(ea).and(er)
    }

    /// Switches every LED off (on SIGTERM or a clean stop: `Drop` does not run on every signal
    /// path, so the daemon calls this explicitly). Tries all three pins; returns the first error.
    pub fn off(&mut self) -> Result<(), G::Error> {
        self.show(LedState::Off, 0)
    }

    /// Gives the pins back (e.g. to reconfigure them).
    pub fn release(self) -> (G, A, R) {
        (self.green, self.amber, self.red)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blink_phase_follows_the_clock() {
        assert!(blink_on(0));
        assert!(blink_on(499));
        assert!(!blink_on(500));
        assert!(!blink_on(999));
        assert!(blink_on(1000));
        assert!(blink_on(u64::MAX - (u64::MAX % 1000)));
    }

    #[test]
    fn levels_per_state() {
        assert_eq!(levels(LedState::Capturing, 700), [true, false, false]);
        assert_eq!(levels(LedState::Warn, 700), [false, true, false]);
        assert_eq!(levels(LedState::Critical, 100), [false, false, true]);
        assert_eq!(levels(LedState::Critical, 700), [false, false, false]);
        assert_eq!(levels(LedState::Fault, 100), [true, false, false]);
        assert_eq!(levels(LedState::Fault, 700), [false, false, false]);
        assert_eq!(levels(LedState::Off, 100), [false, false, false]);
    }

    #[test]
    fn state_names() {
        assert_eq!(LedState::Critical.as_str(), "critical");
        assert_eq!(
            serde_json::to_string(&LedState::Fault).unwrap(),
            "\"fault\""
        );
        assert_eq!(LedMode::Blinking.as_str(), "blinking");
    }
}
