//! Indicators: phonehome's state made visible on the router itself (three LEDs, a button,
//! a 128×64 OLED whose pages [`display`] draws).
//!
//! [`leds`] derives the LED state and drives three output pins; [`button`] debounces the
//! acknowledge button. Both are written against the embedded-hal 1.x traits, so the Pi backend
//! ([`hw`]: rppal GPIO and I2C and the SSD1306/SH1106 drivers, cargo features `pi` and `oled`)
//! and in-memory or mock pins run the same code. The daemon drives a [`Board`] from
//! [`runner`]. This module adds [`read_situation`]: what the LEDs must show, read from the
//! database, so the state survives a daemon restart and `phonehome leds` shows it from a shell.

pub mod board;
pub mod button;
pub mod display;
pub mod hw;
pub mod leds;
pub mod runner;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::event::{Severity, Ts, MICROS};
use crate::store::insert::severity_from_str;

pub use board::{Board, BoardError, MemoryBoard};
pub use button::{Button, Press};
pub use leds::{led_state, LedMode, LedState, Leds};

/// A live capture counts as running while its latest statistics row is younger than this. The
/// daemon writes one every 10 s, so this tolerates five missed snapshots (a busy store).
pub const CAPTURE_FRESH_FOR: Ts = 60 * MICROS;

/// Unacknowledged alerts by severity (rows of the `alerts` table; a merged row counts once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Unacknowledged {
    /// Critical alerts nobody acknowledged.
    pub critical: u64,
    /// Warn alerts nobody acknowledged.
    pub warn: u64,
}

impl Unacknowledged {
    /// The worst severity among them (`None` when there are none; info alerts are not counted).
    pub fn worst(self) -> Option<Severity> {
        if self.critical > 0 {
            Some(Severity::Critical)
        } else if self.warn > 0 {
            Some(Severity::Warn)
        } else {
            None
        }
    }
}

/// What the LEDs depend on, as read from the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Situation {
    /// A live capture wrote statistics less than [`CAPTURE_FRESH_FOR`] ago.
    pub capturing: bool,
    /// Unacknowledged warn and critical alerts.
    pub unacknowledged: Unacknowledged,
}

impl Situation {
    /// The LED state for this situation (`store_ok`: the store is readable and writable).
    pub fn state(self, store_ok: bool) -> LedState {
        led_state(self.capturing, store_ok, self.unacknowledged.worst())
    }
}

/// Reads the LED situation at `now` (microseconds since the epoch) from the database.
///
/// Capturing means the newest `capture_stats` row is younger than [`CAPTURE_FRESH_FOR`] and
/// comes from an interface: rows whose `source` contains '/' were written by `phonehome
/// analyze` for a file and do not mean a capture is running. A row dated in the future (clock
/// stepped back) counts as fresh.
pub fn read_situation(conn: &Connection, now: Ts) -> rusqlite::Result<Situation> {
    let mut unacknowledged = Unacknowledged::default();
    let mut stmt = conn.prepare(
        "SELECT severity, COUNT(*) FROM alerts WHERE acknowledged_at IS NULL GROUP BY severity",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let severity: String = row.get(0)?;
        let n = u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
        match severity_from_str(&severity) {
            Severity::Critical => {
                unacknowledged.critical = unacknowledged.critical.saturating_add(n)
            }
            Severity::Warn => unacknowledged.warn = unacknowledged.warn.saturating_add(n),
            Severity::Info => {}
        }
    }
    let latest: Option<(Ts, String)> = conn
        .query_row(
            "SELECT ts, source FROM capture_stats ORDER BY ts DESC, id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let capturing = latest.is_some_and(|(ts, source)| {
        !source.contains('/') && now.saturating_sub(ts) < CAPTURE_FRESH_FOR
    });
    Ok(Situation {
        capturing,
        unacknowledged,
    })
}
