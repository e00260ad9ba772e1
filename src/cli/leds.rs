//! `phonehome leds [--json]`: the LED state the daemon would show now, read from the database
//! (unacknowledged alerts, freshness of the live capture statistics).

use std::io::{self, Write};
use std::process::ExitCode;

use super::analyze::{load, now_micros};
use super::Args;
use crate::indicate::{self, LedState, Situation};
use crate::store;

/// Prints the LED state: one line for people, or one JSON object with `--json`.
pub(super) fn leds(args: &Args, json: bool) -> anyhow::Result<ExitCode> {
    let (_, db) = load(args)?;
    let conn = store::open_read(&db)?;
    let situation = indicate::read_situation(&conn, now_micros())
        .map_err(|e| anyhow::anyhow!("{}: {e}", db.display()))?;
    // The database answered, so the store is readable; write failures are only known to the
    // running daemon.
    let state = situation.state(true);
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer(&mut w, &json_value(state, situation))?;
        w.write_all(b"\n")?;
    } else {
        writeln!(w, "{}", plain_line(state, situation))?;
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `{"state": …, "green": …, "amber": …, "red": …, "unacknowledged": {"critical": n, "warn": n}}`.
fn json_value(state: LedState, s: Situation) -> serde_json::Value {
    let [g, a, r] = state.modes();
    serde_json::json!({
        "state": state.as_str(),
        "green": g.as_str(),
        "amber": a.as_str(),
        "red": r.as_str(),
        "capturing": s.capturing,
        "unacknowledged": s.unacknowledged,
    })
}

/// `green: off, amber: off, red: blinking (1 critical alert not acknowledged)`.
fn plain_line(state: LedState, s: Situation) -> String {
    let [g, a, r] = state.modes();
    let u = s.unacknowledged;
    let plural = |n: u64| if n == 1 { "alert" } else { "alerts" };
    let why = match (u.critical, u.warn) {
        (0, 0) if s.capturing => "capturing, no alert to acknowledge".to_string(),
        (0, 0) => format!(
            "no live capture in the last {} s, no alert to acknowledge",
            indicate::CAPTURE_FRESH_FOR / crate::event::MICROS
        ),
        (0, w) => format!("{w} warn {} not acknowledged", plural(w)),
        (c, 0) => format!("{c} critical {} not acknowledged", plural(c)),
        (c, w) => format!(
            "{c} critical and {w} warn {} not acknowledged",
            plural(c + w)
        ),
    };
    format!(
        "green: {}, amber: {}, red: {} ({why})",
        g.as_str(),
        a.as_str(),
        r.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicate::Unacknowledged;

    fn sit(capturing: bool, critical: u64, warn: u64) -> Situation {
        Situation {
            capturing,
            unacknowledged: Unacknowledged { critical, warn },
        }
    }

    #[test]
    fn plain_lines() {
        let s = sit(true, 1, 0);
        assert_eq!(
            plain_line(s.state(true), s),
            "green: off, amber: off, red: blinking (1 critical alert not acknowledged)"
        );
        let s = sit(true, 0, 2);
        assert_eq!(
            plain_line(s.state(true), s),
            "green: off, amber: on, red: off (2 warn alerts not acknowledged)"
        );
        let s = sit(false, 0, 0);
        assert_eq!(
            plain_line(s.state(true), s),
            "green: blinking, amber: off, red: off (no live capture in the last 60 s, no alert \
             to acknowledge)"
        );
        let s = sit(true, 0, 0);
        assert_eq!(
            plain_line(s.state(true), s),
            "green: on, amber: off, red: off (capturing, no alert to acknowledge)"
        );
    }

    #[test]
    fn json_object() {
        let s = sit(false, 1, 3);
        assert_eq!(
            json_value(s.state(true), s),
            serde_json::json!({
                "state": "critical", "green": "off", "amber": "off", "red": "blinking",
                "capturing": false, "unacknowledged": {"critical": 1, "warn": 3}
            })
        );
    }
}
