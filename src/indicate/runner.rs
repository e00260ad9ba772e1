//! The daemon's indicator loop: samples the button, keeps the LEDs and the OLED in step with
//! the database, and acknowledges alerts on a short press.
//!
//! One [`IndicatorLoop::tick`] every [`TICK`] (fast enough to debounce the button and blink
//! the LEDs), but the database is read and the page redrawn at most once per
//! [`REFRESH_INTERVAL`], so a busy store never sees more than one small read a second. The
//! LED state comes from the stored alerts (so it survives a restart) and from two live facts
//! the daemon hands in: whether capture is running and whether the store is failing.
//!
//! A short press acknowledges every alert that was in the database when the screen was last
//! drawn (what the user saw), through the store writer; an alert raised after that stays
//! open. A long press shows the next page. A board part that fails (an I2C glitch, a GPIO
//! error) is logged once, retried on every tick and logged again when it recovers: the
//! indicators never stop the daemon.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};

use super::board::{Board, BoardError};
use super::button::{Button, Press};
use super::display::png::{render_frame, Frame};
use super::display::{display_data, DisplayData, Page};
use super::leds::LedState;
use super::{read_situation, Situation};
use crate::event::Ts;
use crate::store::EventSink;

/// Time between two ticks: the button is sampled this often (debounce is 30 ms).
pub const TICK: Duration = Duration::from_millis(10);
/// The page is redrawn and the database read at most this often.
pub const REFRESH_INTERVAL_MS: u64 = 1000;
/// [`REFRESH_INTERVAL_MS`] as a duration.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(REFRESH_INTERVAL_MS);

/// What the daemon knows that the database does not (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    /// The capture socket is open and reading.
    pub capturing: bool,
    /// The store's latest batch failed (disk full, I/O error).
    pub store_failing: bool,
}

/// The Wi-Fi the join page's QR code describes, and where SSH answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Join {
    /// The access point's SSID.
    pub ssid: String,
    /// Its WPA passphrase (only ever drawn into the QR code).
    pub passphrase: String,
}

/// The indicator loop's state; see the module documentation.
pub struct IndicatorLoop<B: Board> {
    board: B,
    conn: Connection,
    sink: EventSink,
    join: Join,
    button: Button,
    page: Page,
    /// From the last refresh; None before the first or while the database cannot be read.
    situation: Option<Situation>,
    /// The newest alert id when the screen was last drawn: what a short press acknowledges.
    shown_up_to: Option<i64>,
    last_refresh: Option<u64>,
    /// The frame on the display, to skip identical redraws; None after a display error, so
    /// the next refresh draws again.
    last_frame: Option<Frame>,
    state: LedState,
    failing: FailureLog,
}

impl<B: Board> IndicatorLoop<B> {
    /// A loop driving `board` from the database behind `conn` (opened read-only by the
    /// caller), acknowledging through `sink` (the store writer's).
    pub fn new(board: B, conn: Connection, sink: EventSink, join: Join) -> Self {
        IndicatorLoop {
            board,
            conn,
            sink,
            join,
            button: Button::new(),
            page: Page::Status,
            situation: None,
            shown_up_to: None,
            last_refresh: None,
            last_frame: None,
            state: LedState::Fault,
            failing: FailureLog::default(),
        }
    }

    /// One step at `now_ms` (a monotonic clock, for debounce, blinking and the refresh rate)
    /// and `now` (wall clock, µs since the epoch, for ages and acknowledgements). Returns the
    /// press handled in this step, if any.
    pub fn tick(&mut self, now_ms: u64, now: Ts, health: Health) -> Option<Press> {
        let low = self.board.button_low();
        let press = match self.failing.check("button", low) {
            Some(low) => self.button.poll(low, now_ms),
            None => None,
        };
        match press {
            Some(Press::Short) => self.acknowledge(now),
            Some(Press::Long) => {
                self.page = self.page.next();
                tracing::debug!(page = self.page.number(), "display page");
            }
            None => {}
        }
        let due = self
            .last_refresh
            .map_or(true, |t| now_ms.saturating_sub(t) >= REFRESH_INTERVAL_MS);
        if due {
            self.last_refresh = Some(now_ms);
            self.refresh(now);
        }
        self.state = match self.situation {
            Some(s) => Situation {
                capturing: health.capturing,
                ..s
            }
            .state(!health.store_failing),
            None => LedState::Fault,
        };
        let shown = self.board.set_leds(self.state, now_ms);
        self.failing.check("leds", shown);
        press
    }

    /// The LED state set by the latest tick.
    pub fn led_state(&self) -> LedState {
        self.state
    }

    /// The page shown now.
    pub fn page(&self) -> Page {
        self.page
    }

    /// The board, to inspect it.
    pub fn board(&self) -> &B {
        &self.board
    }

    /// The board, to change it (a test pressing the in-memory button).
    pub fn board_mut(&mut self) -> &mut B {
        &mut self.board
    }

    /// Clean stop: LEDs off and the display blanked, explicitly (see [`Board::shutdown`]).
    pub fn shutdown(&mut self) {
        if let Err(e) = self.board.shutdown() {
            tracing::warn!(error = %e, "indicators not switched off");
        }
    }

    /// Reads the database and redraws the page when it changed.
    fn refresh(&mut self, now: Ts) {
        let read = self.read(now);
        let Some(data) = self.failing.check_db(read) else {
            self.situation = None;
            return;
        };
        let frame = render_frame(self.page, &data);
        if self.last_frame.as_ref() == Some(&frame) {
            return;
        }
        let drawn = self.board.show_frame(&frame);
        self.last_frame = self.failing.check("display", drawn).map(|()| frame);
    }

    /// The newest alert id, the LED situation and the page data, in one read transaction so
    /// they agree with each other.
    fn read(&mut self, now: Ts) -> rusqlite::Result<DisplayData> {
        let tx = self.conn.transaction()?;
        let newest: Option<i64> = tx
            .query_row("SELECT max(id) FROM alerts", [], |r| r.get(0))
            .optional()?
            .flatten();
        let situation = read_situation(&tx, now)?;
        let mut data = display_data(&tx, now)?;
        tx.finish()?;
        self.shown_up_to = newest;
        self.situation = Some(situation);
        data.ssid.clone_from(&self.join.ssid);
        data.passphrase.clone_from(&self.join.passphrase);
        data.ssh_address = ssh_address().map(|ip| ip.to_string());
        Ok(data)
    }

    /// A short press: acknowledge what the screen showed. The LEDs and the page follow at the
    /// next refresh (within a second).
    fn acknowledge(&mut self, now: Ts) {
        let Some(up_to) = self.shown_up_to else {
            return;
        };
        match self.sink.acknowledge(up_to, now) {
            Ok(n) => tracing::info!(alerts = n, "alerts acknowledged (button)"),
            Err(e) => tracing::warn!(error = %e, "alerts not acknowledged"),
        }
    }
}

/// Runs `lp` until `stop` is set, reading `health` on every tick; then switches the
/// indicators off. For the daemon's indicator thread.
pub fn run<B: Board>(
    mut lp: IndicatorLoop<B>,
    stop: &AtomicBool,
    health: impl Fn() -> Health,
    wall_now: impl Fn() -> Ts,
) {
    let start = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        lp.tick(now_ms, wall_now(), health());
        std::thread::sleep(TICK);
    }
    lp.shutdown();
}

/// Board parts and the database that are failing now: each failure is logged when it starts
/// and when it ends, not on every tick.
#[derive(Debug, Default)]
struct FailureLog {
    failing: Vec<&'static str>,
}

impl FailureLog {
    fn check<T>(&mut self, part: &'static str, r: Result<T, BoardError>) -> Option<T> {
        match r {
            Ok(v) => {
                self.recovered(part);
                Some(v)
            }
            Err(e) => {
                if !self.failing.contains(&part) {
                    self.failing.push(part);
                    tracing::warn!(error = %e, "indicator {part} failing; retrying");
                }
                None
            }
        }
    }

    fn check_db<T>(&mut self, r: rusqlite::Result<T>) -> Option<T> {
        self.check("database", r.map_err(|e| BoardError::new("database", e)))
    }

    fn recovered(&mut self, part: &'static str) {
        if let Some(i) = self.failing.iter().position(|p| *p == part) {
            self.failing.swap_remove(i);
            tracing::info!("indicator {part} working again");
        }
    }
}

/// The first IPv4 address of an interface that is up and not loopback: where SSH answers.
pub fn ssh_address() -> Option<IpAddr> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    addrs
        .filter(|a| {
            a.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP)
                && !a
                    .flags
                    .contains(nix::net::if_::InterfaceFlags::IFF_LOOPBACK)
        })
        .find_map(|a| a.address?.as_sockaddr_in().map(|s| IpAddr::V4(s.ip())))
}
