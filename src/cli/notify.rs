//! systemd readiness and watchdog for `phonehome run` (the unit is `Type=notify` with
//! `WatchdogSec=`): READY once the capture is open, WATCHDOG from the capture loop itself at
//! half the watchdog interval, so a loop that stops turning gets the daemon restarted, and
//! STOPPING on the way out. Without `NOTIFY_SOCKET` (not started by systemd) every call does
//! nothing.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// Pings systemd's watchdog while the capture loop turns.
pub(super) struct Notifier {
    /// Half the watchdog interval; None when systemd set no watchdog.
    every: Option<Duration>,
    last: Instant,
}

impl Notifier {
    /// Reads the watchdog interval systemd passed (`WATCHDOG_USEC`, `WATCHDOG_PID`).
    pub(super) fn new() -> Notifier {
        let mut usec = 0;
        let every = sd_notify::watchdog_enabled(false, &mut usec)
            .then(|| Duration::from_micros(usec / 2).max(Duration::from_millis(100)));
        Notifier {
            every,
            last: Instant::now(),
        }
    }

    /// Tells systemd the daemon is up, with a one-line status.
    pub(super) fn ready(&mut self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
        self.last = Instant::now();
    }

    /// Sends a one-line status (shown by `systemctl status`).
    pub(super) fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    /// Pings the watchdog when half its interval has passed; call on every loop turn.
    pub(super) fn alive(&mut self) {
        if let Some(every) = self.every {
            if self.last.elapsed() >= every {
                self.last = Instant::now();
                self.send(&[NotifyState::Watchdog]);
            }
        }
    }

    /// Tells systemd the daemon is stopping.
    pub(super) fn stopping(&self) {
        self.send(&[NotifyState::Stopping]);
    }

    fn send(&self, state: &[NotifyState<'_>]) {
        if let Err(e) = sd_notify::notify(false, state) {
            tracing::debug!(error = %e, "systemd notification not sent");
        }
    }
}
