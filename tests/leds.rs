//! LEDs and button through embedded-hal-mock pin transactions, and `phonehome leds` on a
//! database written by the store writer.

mod common;

use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;
use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as T};
use embedded_hal_mock::eh1::MockError;
use phonehome::event::{Alert, Event, Severity, MICROS};
use phonehome::indicate::button::{Button, Press};
use phonehome::indicate::leds::{led_state, LedState, Leds};
use phonehome::store::CaptureStats;
use serde_json::{json, Value};

const HIGH: State = State::High;
const LOW: State = State::Low;

/// One `set` transaction per level.
fn sets(levels: &[State]) -> Vec<T> {
    levels.iter().map(|&l| T::set(l)).collect()
}

/// Drives fresh mock pins through `steps` (state, time) and checks every pin saw exactly
/// `green`, `amber`, `red` (one level per step).
fn expect(steps: &[(LedState, u64)], green: &[State], amber: &[State], red: &[State]) {
    let (g, a, r) = (
        Pin::new(&sets(green)),
        Pin::new(&sets(amber)),
        Pin::new(&sets(red)),
    );
    let mut leds = Leds::new(g, a, r);
    for &(state, now) in steps {
        leds.show(state, now).unwrap();
    }
    let (mut g, mut a, mut r) = leds.release();
    g.done();
    a.done();
    r.done();
}

#[test]
fn capturing_is_green_steady() {
    let s = [(LedState::Capturing, 0), (LedState::Capturing, 700)];
    expect(&s, &[HIGH, HIGH], &[LOW, LOW], &[LOW, LOW]);
}

#[test]
fn warn_is_amber_steady() {
    let s = [(LedState::Warn, 0), (LedState::Warn, 700)];
    expect(&s, &[LOW, LOW], &[HIGH, HIGH], &[LOW, LOW]);
}

#[test]
fn critical_blinks_red_500_ms_on_500_ms_off() {
    let s = [
        (LedState::Critical, 0),
        (LedState::Critical, 499),
        (LedState::Critical, 500),
        (LedState::Critical, 999),
        (LedState::Critical, 1000),
    ];
    expect(
        &s,
        &[LOW, LOW, LOW, LOW, LOW],
        &[LOW, LOW, LOW, LOW, LOW],
        &[HIGH, HIGH, LOW, LOW, HIGH],
    );
}

#[test]
fn fault_blinks_green() {
    let s = [
        (LedState::Fault, 250),
        (LedState::Fault, 750),
        (LedState::Fault, 1250),
    ];
    expect(&s, &[HIGH, LOW, HIGH], &[LOW, LOW, LOW], &[LOW, LOW, LOW]);
}

#[test]
fn off_state_and_off_switch_everything_low() {
    let s = [(LedState::Capturing, 0), (LedState::Off, 0)];
    expect(&s, &[HIGH, LOW], &[LOW, LOW], &[LOW, LOW]);

    // off() after a lit red phase.
    let (g, a, r) = (
        Pin::new(&sets(&[LOW, LOW])),
        Pin::new(&sets(&[LOW, LOW])),
        Pin::new(&sets(&[HIGH, LOW])),
    );
    let mut leds = Leds::new(g, a, r);
    leds.show(LedState::Critical, 100).unwrap();
    leds.off().unwrap();
    let (mut g, mut a, mut r) = leds.release();
    g.done();
    a.done();
    r.done();
}

/// A failing pin does not stop the others from being switched off; its error is returned.
#[test]
fn off_tries_every_pin_and_reports_the_error() {
    let err = MockError::Io(std::io::ErrorKind::NotConnected);
    let (g, a, r) = (
        Pin::new(&[T::set(LOW).with_error(err.clone())]),
        Pin::new(&sets(&[LOW])),
        Pin::new(&sets(&[LOW])),
    );
    let mut leds = Leds::new(g, a, r);
    assert_eq!(leds.off(), Err(err));
    let (mut g, mut a, mut r) = leds.release();
    g.done();
    a.done();
    r.done();
}

#[test]
fn led_state_table() {
    use Severity::{Critical, Info, Warn};
    let table: &[(bool, bool, Option<Severity>, LedState)] = &[
        (true, true, None, LedState::Capturing),
        (true, true, Some(Info), LedState::Capturing),
        (true, true, Some(Warn), LedState::Warn),
        (true, true, Some(Critical), LedState::Critical),
        (false, true, None, LedState::Fault),
        (true, false, None, LedState::Fault),
        (false, false, Some(Info), LedState::Fault),
        (false, true, Some(Warn), LedState::Warn),
        (true, false, Some(Critical), LedState::Critical),
        (false, false, Some(Critical), LedState::Critical),
    ];
    for &(capturing, store_ok, worst, want) in table {
        assert_eq!(
            led_state(capturing, store_ok, worst),
            want,
            "capturing={capturing} store_ok={store_ok} worst={worst:?}"
        );
    }
}

/// Samples `level_low` every 5 ms over `[from, to)`; returns the presses with their time.
fn hold(b: &mut Button, from: u64, to: u64, low: bool) -> Vec<(u64, Press)> {
    (from..to)
        .step_by(5)
        .filter_map(|t| b.poll(low, t).map(|p| (t, p)))
        .collect()
}

#[test]
fn a_10_ms_glitch_is_no_press() {
    let mut b = Button::new();
    let mut got = hold(&mut b, 0, 100, false);
    got.extend(hold(&mut b, 100, 110, true));
    got.extend(hold(&mut b, 110, 2000, false));
    assert_eq!(got, vec![]);
}

#[test]
fn a_200_ms_press_is_one_short() {
    let mut b = Button::new();
    let mut got = hold(&mut b, 0, 100, false);
    got.extend(hold(&mut b, 100, 300, true));
    got.extend(hold(&mut b, 300, 2000, false));
    // Reported once the release has been stable for 30 ms.
    assert_eq!(got, vec![(330, Press::Short)]);
}

#[test]
fn a_1500_ms_hold_is_one_long_while_held() {
    let mut b = Button::new();
    let mut got = hold(&mut b, 0, 100, false);
    got.extend(hold(&mut b, 100, 1600, true));
    got.extend(hold(&mut b, 1600, 3000, false));
    assert_eq!(got, vec![(1100, Press::Long)]);
}

#[test]
fn button_reads_the_input_pin_pressed_low() {
    let mut pin = Pin::new(&[
        T::get(State::Low),
        T::get(State::Low),
        T::get(State::High),
        T::get(State::High),
    ]);
    let mut b = Button::new();
    assert_eq!(b.poll_pin(&mut pin, 0).unwrap(), None);
    assert_eq!(b.poll_pin(&mut pin, 50).unwrap(), None);
    assert!(b.is_pressed());
    assert_eq!(b.poll_pin(&mut pin, 100).unwrap(), None);
    assert_eq!(b.poll_pin(&mut pin, 140).unwrap(), Some(Press::Short));
    pin.done();
}

// ---- `phonehome leds` ----

fn now_micros() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(d.as_micros()).unwrap()
}

use common::pii_alert as alert;

/// Writes `alerts` and one capture statistics row per `(ts, source)` with the store writer.
fn write(db: &Path, alerts: Vec<Alert>, stats: &[(i64, &str)]) {
    let w = common::writer(db);
    let sink = w.sink();
    for a in alerts {
        assert!(sink.send_blocking(Event::Alert(a)));
    }
    for &(ts, source) in stats {
        assert!(sink.send_stats(CaptureStats {
            ts,
            source: source.into(),
            ..CaptureStats::default()
        }));
    }
    drop(sink);
    w.finish().unwrap();
}

/// `phonehome --db DIR/t.db --config DIR/phonehome.toml leds [--json]` (empty config).
fn leds_cmd(dir: &Path, db: &str) -> Command {
    let cfg = dir.join("phonehome.toml");
    std::fs::write(&cfg, "").unwrap();
    let mut c = Command::cargo_bin("phonehome").unwrap();
    c.env_remove("PHONEHOME_DB").env_remove("PHONEHOME_CONFIG");
    c.arg("--db")
        .arg(dir.join(db))
        .arg("--config")
        .arg(cfg)
        .arg("leds");
    c
}

fn leds(dir: &Path, json: bool) -> String {
    let mut c = leds_cmd(dir, "t.db");
    if json {
        c.arg("--json");
    }
    let out = c.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

fn leds_json(dir: &Path) -> Value {
    serde_json::from_str(&leds(dir, true)).unwrap()
}

fn ack_all(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE alerts SET acknowledged_at = 1", [])
        .unwrap();
}

#[test]
fn cli_critical_then_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let now = now_micros();
    write(
        &db,
        vec![
            alert(now - 5 * MICROS, Severity::Critical, "imei"),
            alert(now - 4 * MICROS, Severity::Warn, "email"),
            alert(now - 3 * MICROS, Severity::Info, "model"),
        ],
        &[(now - 2 * MICROS, "br0")],
    );
    assert_eq!(
        leds_json(dir.path()),
        json!({
            "state": "critical", "green": "off", "amber": "off", "red": "blinking",
            "capturing": true, "unacknowledged": {"critical": 1, "warn": 1}
        })
    );
    assert_eq!(
        leds(dir.path(), false),
        "green: off, amber: off, red: blinking (1 critical and 1 warn alerts not acknowledged)\n"
    );

    ack_all(&db);
    assert_eq!(
        leds_json(dir.path()),
        json!({
            "state": "capturing", "green": "on", "amber": "off", "red": "off",
            "capturing": true, "unacknowledged": {"critical": 0, "warn": 0}
        })
    );
}

#[test]
fn cli_warn_only_is_amber() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_micros();
    write(
        &dir.path().join("t.db"),
        vec![
            alert(now, Severity::Warn, "email"),
            alert(now, Severity::Warn, "phone"),
        ],
        &[(now, "wlan0")],
    );
    let v = leds_json(dir.path());
    assert_eq!(v["state"], "warn");
    assert_eq!(v["amber"], "on");
    assert_eq!(v["unacknowledged"], json!({"critical": 0, "warn": 2}));
}

/// Rows of `phonehome analyze` (a file path as source) and stale live rows are no capture.
#[test]
fn cli_no_live_capture_is_fault() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_micros();
    write(
        &dir.path().join("t.db"),
        vec![],
        &[(now - 120 * MICROS, "br0"), (now, "/tmp/phone.pcap")],
    );
    assert_eq!(
        leds_json(dir.path()),
        json!({
            "state": "fault", "green": "blinking", "amber": "off", "red": "off",
            "capturing": false, "unacknowledged": {"critical": 0, "warn": 0}
        })
    );

    let stale = tempfile::tempdir().unwrap();
    write(
        &stale.path().join("t.db"),
        vec![],
        &[(now - 61 * MICROS, "br0")],
    );
    assert_eq!(leds_json(stale.path())["state"], "fault");
}

#[test]
fn cli_missing_database_fails_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = leds_cmd(dir.path(), "none.db");
    let out = c.assert().failure().get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&out).contains("none.db: no such file"));
}
