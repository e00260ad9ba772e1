//! The daemon's indicator loop on a real database written by the store writer: LED state from
//! the stored alerts and the daemon's health, a short press acknowledging what the screen
//! showed (and only that), a long press changing the page, at most one redraw a second, a
//! failing display that does not stop the LEDs, and the explicit switch-off at stop.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use phonehome::event::{Alert, Event, Severity, Ts, MICROS};
use phonehome::indicate::board::{Board, BoardError, MemoryBoard};
use phonehome::indicate::button::Press;
use phonehome::indicate::display::png::Frame;
use phonehome::indicate::display::Page;
use phonehome::indicate::leds::LedState;
use phonehome::indicate::runner::{self, Health, IndicatorLoop, Join};
use phonehome::store::writer::Writer;
use phonehome::store::{open_read, EventSink};

/// Wall clock of the tests: 2026-11-28 10:00 UTC, in µs.
const NOW: Ts = 1_795_860_000 * MICROS;
const HEALTHY: Health = Health {
    capturing: true,
    store_failing: false,
};

use common::pii_alert as alert;

/// A database with a running writer, and `alerts` already committed.
fn store(dir: &Path, alerts: Vec<Alert>) -> (Writer, EventSink, std::path::PathBuf) {
    let db = dir.join("phonehome.db");
    let w = common::writer(&db);
    let sink = w.sink();
    for a in alerts {
        assert!(sink.send(Event::Alert(a)));
    }
    w.flush().unwrap();
    (w, sink, db)
}

fn new_loop<B: Board>(board: B, db: &Path, sink: &EventSink) -> IndicatorLoop<B> {
    let join = Join {
        ssid: "phonehome".into(),
        passphrase: "correct horse battery".into(),
    };
    IndicatorLoop::new(board, open_read(db).unwrap(), sink.clone(), join)
}

/// Ticks every 10 ms from `from` to `to` (exclusive), holding the button down or not
/// (`None`: leave it); the wall clock advances with the tick clock. Returns the presses seen.
fn ticks(
    lp: &mut IndicatorLoop<MemoryBoard>,
    from: u64,
    to: u64,
    health: Health,
    button: Option<bool>,
) -> Vec<Press> {
    let mut presses = Vec::new();
    for t in (from..to).step_by(10) {
        if let Some(down) = button {
            lp.board_mut().button_down = down;
        }
        let wall = NOW + Ts::try_from(t).unwrap() * 1000;
        presses.extend(lp.tick(t, wall, health));
    }
    presses
}

/// Alert ids and whether each is acknowledged.
fn acknowledged(db: &Path) -> Vec<(i64, bool)> {
    let conn = open_read(db).unwrap();
    let mut st = conn
        .prepare("SELECT id, acknowledged_at IS NOT NULL FROM alerts ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn leds_follow_the_stored_alerts_and_the_daemon_health() {
    let dir = tempfile::tempdir().unwrap();
    let (w, sink, db) = store(dir.path(), vec![alert(NOW, Severity::Critical, "imei")]);
    let mut lp = new_loop(MemoryBoard::default(), &db, &sink);
    lp.tick(0, NOW, HEALTHY);
    assert_eq!(lp.led_state(), LedState::Critical);
    assert_eq!(
        lp.board().leds,
        [false, false, true],
        "red on in the first half second"
    );
    lp.tick(600, NOW, HEALTHY);
    assert_eq!(
        lp.board().leds,
        [false, false, false],
        "red off in the second half"
    );
    // An unacknowledged alert outranks a fault: it still needs the user's attention.
    lp.tick(
        1000,
        NOW,
        Health {
            capturing: false,
            ..HEALTHY
        },
    );
    assert_eq!(lp.led_state(), LedState::Critical);
    // Once it is acknowledged, capture down or store failing is a fault: green blinking.
    assert_eq!(sink.acknowledge(i64::MAX, NOW), Ok(1));
    lp.tick(
        2000,
        NOW,
        Health {
            capturing: false,
            ..HEALTHY
        },
    );
    assert_eq!(
        (lp.led_state(), lp.board().leds),
        (LedState::Fault, [true, false, false])
    );
    lp.tick(
        2600,
        NOW,
        Health {
            capturing: false,
            ..HEALTHY
        },
    );
    assert_eq!(lp.board().leds, [false, false, false]);
    lp.tick(
        3000,
        NOW,
        Health {
            store_failing: true,
            ..HEALTHY
        },
    );
    assert_eq!(lp.led_state(), LedState::Fault);
    lp.tick(3100, NOW, HEALTHY);
    assert_eq!(
        (lp.led_state(), lp.board().leds),
        (LedState::Capturing, [true, false, false])
    );
    drop(sink);
    w.finish().unwrap();
}

#[test]
fn short_press_acknowledges_what_was_shown_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (w, sink, db) = store(
        dir.path(),
        vec![
            alert(NOW - 60 * MICROS, Severity::Critical, "imei"),
            alert(NOW - 30 * MICROS, Severity::Warn, "email"),
        ],
    );
    let mut lp = new_loop(MemoryBoard::default(), &db, &sink);
    assert!(ticks(&mut lp, 0, 500, HEALTHY, Some(false)).is_empty());
    assert_eq!(lp.led_state(), LedState::Critical);
    // An alert raised after the screen was drawn: the user has not seen it.
    assert!(sink.send(Event::Alert(alert(NOW, Severity::Warn, "imsi"))));
    w.flush().unwrap();
    // A 200 ms press, then the next refresh (once a second: at 1000 ms).
    let mut presses = ticks(&mut lp, 500, 700, HEALTHY, Some(true));
    presses.extend(ticks(&mut lp, 700, 800, HEALTHY, Some(false)));
    assert_eq!(presses, [Press::Short]);
    assert_eq!(acknowledged(&db), [(1, true), (2, true), (3, false)]);
    ticks(&mut lp, 800, 1010, HEALTHY, Some(false));
    assert_eq!(
        lp.led_state(),
        LedState::Warn,
        "the unseen warn alert stays open"
    );
    // A new loop on the same database (a daemon restart) shows the same state.
    let mut again = new_loop(MemoryBoard::default(), &db, &sink);
    again.tick(0, NOW, HEALTHY);
    assert_eq!(again.led_state(), LedState::Warn);
    // The next press, after the redraw that showed alert 3, acknowledges it too.
    let mut presses = ticks(&mut lp, 1010, 1210, HEALTHY, Some(true));
    presses.extend(ticks(&mut lp, 1210, 1300, HEALTHY, Some(false)));
    assert_eq!(presses, [Press::Short]);
    assert_eq!(acknowledged(&db), [(1, true), (2, true), (3, true)]);
    ticks(&mut lp, 1300, 2010, HEALTHY, Some(false));
    assert_eq!(lp.led_state(), LedState::Capturing);
    assert_eq!(lp.board().leds, [true, false, false], "green steady");
    drop(sink);
    w.finish().unwrap();
}

#[test]
fn long_press_cycles_the_pages_and_acknowledges_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (w, sink, db) = store(dir.path(), vec![alert(NOW, Severity::Critical, "imei")]);
    let mut lp = new_loop(MemoryBoard::default(), &db, &sink);
    ticks(&mut lp, 0, 100, HEALTHY, Some(false));
    assert_eq!(lp.page(), Page::Status);
    let status = lp.board().frame.clone().expect("page drawn");
    let mut t = 100;
    for expected in [Page::Alerts, Page::Devices, Page::Join, Page::Status] {
        let mut presses = ticks(&mut lp, t, t + 1500, HEALTHY, Some(true));
        presses.extend(ticks(&mut lp, t + 1500, t + 2600, HEALTHY, Some(false)));
        assert_eq!(presses, [Press::Long], "one long press per 1.5 s hold");
        assert_eq!(lp.page(), expected);
        t += 2600;
    }
    assert_eq!(acknowledged(&db), [(1, false)]);
    // Back on the status page, drawing the same data gives the first frame again.
    assert_eq!(lp.board().frame.as_ref(), Some(&status));
    drop(sink);
    w.finish().unwrap();
}

#[test]
fn the_page_is_redrawn_at_most_once_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let (w, sink, db) = store(dir.path(), vec![alert(NOW, Severity::Warn, "email")]);
    let mut lp = new_loop(MemoryBoard::default(), &db, &sink);
    // The alerts page shows the alert's age, which changes every second of wall clock.
    lp.tick(0, NOW, HEALTHY);
    ticks(&mut lp, 10, 1510, HEALTHY, Some(true));
    ticks(&mut lp, 1510, 2000, HEALTHY, Some(false));
    assert_eq!(lp.page(), Page::Alerts);
    let before = lp.board().frames_drawn;
    ticks(&mut lp, 2000, 7000, HEALTHY, None);
    let drawn = lp.board().frames_drawn - before;
    assert!((3..=5).contains(&drawn), "{drawn} frames in 5 s");
    // With the wall clock standing still nothing changes, and nothing is sent to the display.
    let before = lp.board().frames_drawn;
    for t in (7000..10_000).step_by(10) {
        lp.tick(t, NOW + 7 * MICROS, HEALTHY);
    }
    assert_eq!(
        lp.board().frames_drawn - before,
        1,
        "one redraw for the clock step"
    );
    drop(sink);
    w.finish().unwrap();
}

/// A board whose display always fails.
#[derive(Default)]
struct BrokenDisplay(MemoryBoard);

impl Board for BrokenDisplay {
    fn set_leds(&mut self, state: LedState, now_ms: u64) -> Result<(), BoardError> {
        self.0.set_leds(state, now_ms)
    }
    fn button_low(&mut self) -> Result<bool, BoardError> {
        self.0.button_low()
    }
    fn show_frame(&mut self, _: &Frame) -> Result<(), BoardError> {
        Err(BoardError {
            part: "display",
            message: "I2C: no acknowledge".into(),
        })
    }
    fn shutdown(&mut self) -> Result<(), BoardError> {
        self.0.shutdown()
    }
}

#[test]
fn a_failing_display_does_not_stop_the_leds() {
    let dir = tempfile::tempdir().unwrap();
    let (w, sink, db) = store(dir.path(), vec![alert(NOW, Severity::Warn, "email")]);
    let mut lp = new_loop(BrokenDisplay::default(), &db, &sink);
    for t in (0..3000).step_by(10) {
        lp.tick(t, NOW, HEALTHY);
    }
    assert_eq!(lp.led_state(), LedState::Warn);
    assert_eq!(lp.board().0.leds, [false, true, false]);
    drop(sink);
    w.finish().unwrap();
}

/// A board shared with the test while the loop runs on its own thread.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<MemoryBoard>>);

impl Board for Shared {
    fn set_leds(&mut self, state: LedState, now_ms: u64) -> Result<(), BoardError> {
        self.0.lock().unwrap().set_leds(state, now_ms)
    }
    fn button_low(&mut self) -> Result<bool, BoardError> {
        self.0.lock().unwrap().button_low()
    }
    fn show_frame(&mut self, frame: &Frame) -> Result<(), BoardError> {
        self.0.lock().unwrap().show_frame(frame)
    }
    fn shutdown(&mut self) -> Result<(), BoardError> {
        self.0.lock().unwrap().shutdown()
    }
}

#[test]
fn stopping_switches_everything_off() {
    let dir = tempfile::tempdir().unwrap();
    let (w, sink, db) = store(dir.path(), vec![]);
    let board = Shared::default();
    let lp = new_loop(board.clone(), &db, &sink);
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || runner::run(lp, &stop, || HEALTHY, || NOW))
    };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while board.0.lock().unwrap().leds != [true, false, false] {
        assert!(std::time::Instant::now() < until, "green never came on");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(board.0.lock().unwrap().frame.is_some());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    thread.join().unwrap();
    let b = board.0.lock().unwrap();
    assert!(b.shut_down);
    assert_eq!(b.leds, [false, false, false]);
    assert!(b.frame.is_none());
    drop(sink);
    w.finish().unwrap();
}
