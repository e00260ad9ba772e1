//! `phonehome run`: the live daemon. Capture runs on this thread and never waits for the
//! store (a full queue drops and counts); a small tokio runtime on its own thread turns
//! SIGINT/SIGTERM into a stop flag; the indicator thread drives the LEDs, button and OLED
//! from the database. On stop the pipeline is flushed, the indicators are switched off and
//! the writer drained. A capture interface that disappears is reopened, the LEDs showing the
//! fault meanwhile.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::analyze::{capture_stats, load, now_micros, pipeline_config, writer_config};
use super::notify::Notifier;
use super::Args;
use crate::capture::live::{LiveConfig, LiveSource};
use crate::config::Config;
use crate::indicate::runner::{self, Health, IndicatorLoop, Join};
use crate::intel::ioc::IocSet;
use crate::pipeline::Pipeline;
use crate::store::writer::Writer;
use crate::store::EventSink;

/// How often counters are written to the store while capturing.
const STATS_INTERVAL: Duration = Duration::from_secs(10);
/// How often a lost capture interface is tried again.
const REOPEN_INTERVAL: Duration = Duration::from_secs(2);

pub(super) fn run(args: &Args, iface: Option<&str>) -> anyhow::Result<ExitCode> {
    let (cfg, db) = load(args)?;
    let iface = iface.unwrap_or(&cfg.capture.interface).to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let (reload_tx, reload_rx) = crossbeam_channel::bounded::<IocSet>(1);
    spawn_signal_thread(stop.clone(), reload_tx, args.config.clone())?;
    let writer = Writer::spawn(&db, writer_config(&cfg))
        .with_context(|| format!("opening {}", db.display()))?;
    let sink = writer.sink();
    let live_cfg = LiveConfig {
        promiscuous: cfg.capture.promiscuous,
        rcvbuf_bytes: cfg.capture.rcvbuf_mib as usize * 1024 * 1024,
        ..LiveConfig::default()
    };
    let mut src = LiveSource::open(&iface, &live_cfg)?;
    tracing::info!(%iface, db = %db.display(), "capturing");
    // The User-Agent parser reads ~1,300 regexes and builds its literal prefilter on first
    // use (~60 ms on x86-64, several times that on a Pi): do it now, off the capture thread,
    // rather than at the first HTTP request.
    let _ = std::thread::Builder::new()
        .name("ua-parser".into())
        .spawn(|| {
            crate::flow::identity::UaParser::get();
        });
    let capturing = Arc::new(AtomicBool::new(true));
    let indicators = spawn_indicators(&cfg, &db, &sink, &stop, &capturing)?;
    let detectors = crate::detect::setup::detectors(&cfg)?;
    let mut pipe = Pipeline::with_detectors(pipeline_config(&cfg), detectors);
    let mut emit = |ev| {
        sink.send(ev);
    };
    // Kernel drops of earlier sockets, when capture had to be reopened.
    let mut drops_before = 0u64;
    let stats = |src: &LiveSource, pipe: &Pipeline, drops_before: u64| {
        let drops = drops_before.saturating_add(src.kernel_stats().drops);
        capture_stats(&iface, &pipe.counters(), drops, &sink)
    };
    // A first snapshot at once: `phonehome leds`/`status` see the capture running.
    sink.send_stats(stats(&src, &pipe, drops_before));
    let mut notifier = Notifier::new();
    notifier.ready(&format!("capturing on {iface}"));
    let mut last_stats = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        notifier.alive();
        // Indicators reloaded on SIGHUP (loaded off the capture thread, swapped in here).
        if let Ok(ioc) = reload_rx.try_recv() {
            tracing::info!(indicators = ioc.len(), "indicators reloaded");
            if let Some(d) = pipe.detectors_mut() {
                d.set_ioc(ioc);
            }
        }
        match src.next_frame() {
            Ok(Some(f)) => pipe.ingest(f.ts, f.link, f.data, &mut emit),
            Ok(None) => pipe.tick(now_micros(), &mut emit),
            Err(e) => {
                // The interface went away (hostapd or the bridge restarting): keep the flow
                // state, show the fault on the LEDs and reopen until it is back.
                tracing::error!(%iface, error = %e, "capture failed; reopening");
                capturing.store(false, Ordering::Relaxed);
                drops_before = drops_before.saturating_add(src.kernel_stats().drops);
                notifier.status(&format!("capture on {iface} lost; reopening"));
                match reopen(&iface, &live_cfg, &stop, &mut notifier) {
                    Some(s) => src = s,
                    None => break,
                }
                tracing::info!(%iface, "capturing again");
                notifier.status(&format!("capturing on {iface}"));
                capturing.store(true, Ordering::Relaxed);
            }
        }
        if last_stats.elapsed() >= STATS_INTERVAL {
            last_stats = Instant::now();
            sink.send_stats(stats(&src, &pipe, drops_before));
        }
    }
    notifier.stopping();
    pipe.finish(&mut emit);
    sink.send_stats(stats(&src, &pipe, drops_before));
    capturing.store(false, Ordering::Relaxed);
    // Signal handlers set `stop`; a capture that stopped on its own sets it here, so the
    // indicator thread switches the LEDs off in every case.
    stop.store(true, Ordering::Relaxed);
    if let Some(h) = indicators {
        if h.join().is_err() {
            tracing::error!("indicator thread panicked");
        }
    }
    drop(sink);
    let ws = writer.finish().context("finishing the database writes")?;
    tracing::info!(written = ws.written.total(), "stopped");
    Ok(ExitCode::SUCCESS)
}

/// Opens the capture again, every [`REOPEN_INTERVAL`], until it works or `stop` is set. The
/// watchdog is fed meanwhile: the daemon is alive, and a restart would not bring the
/// interface back.
fn reopen(
    iface: &str,
    cfg: &LiveConfig,
    stop: &AtomicBool,
    notifier: &mut Notifier,
) -> Option<LiveSource> {
    let mut logged = false;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(REOPEN_INTERVAL);
        notifier.alive();
        match LiveSource::open(iface, cfg) {
            Ok(s) => return Some(s),
            Err(e) if !logged => {
                logged = true;
                tracing::warn!(%iface, error = %e, "capture not back yet; retrying");
            }
            Err(_) => {}
        }
    }
    None
}

/// Starts the indicator thread (LEDs, button, OLED) unless `[indicators] enabled = false`.
/// The board is opened on that thread; without the hardware it logs one line and ends, and
/// the daemon runs on.
fn spawn_indicators(
    cfg: &Config,
    db: &std::path::Path,
    sink: &EventSink,
    stop: &Arc<AtomicBool>,
    capturing: &Arc<AtomicBool>,
) -> anyhow::Result<Option<std::thread::JoinHandle<()>>> {
    if !cfg.indicators.enabled {
        tracing::debug!("indicators disabled in the configuration");
        return Ok(None);
    }
    let conn = crate::store::open_read(db)?;
    let (ind, sink, stop, capturing) = (
        cfg.indicators.clone(),
        sink.clone(),
        Arc::clone(stop),
        Arc::clone(capturing),
    );
    let join = Join {
        ssid: cfg.ap.ssid.clone(),
        passphrase: cfg.ap.passphrase.clone().unwrap_or_default(),
    };
    let handle = std::thread::Builder::new()
        .name("indicators".into())
        .spawn(move || {
            let board = match crate::indicate::hw::open(&ind) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "no LEDs or display: running without them ([indicators] enabled = false silences this)"
                    );
                    return;
                }
            };
            let health = || Health {
                capturing: capturing.load(Ordering::Relaxed),
                store_failing: sink.store_failing(),
            };
            let lp = IndicatorLoop::new(board, conn, sink.clone(), join);
            runner::run(lp, &stop, health, now_micros);
        })
        .context("spawning the indicator thread")?;
    Ok(Some(handle))
}

/// Sets `stop` on SIGINT or SIGTERM; on SIGHUP re-reads the configuration and loads the
/// indicators again (on this thread, so capture goes on), sending the new set to `reload`.
fn spawn_signal_thread(
    stop: Arc<AtomicBool>,
    reload: crossbeam_channel::Sender<IocSet>,
    config: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("starting the signal runtime")?;
    // Register the handlers before returning so no early signal is lost.
    let (mut term, mut int, mut hup) = rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        Ok::<_, std::io::Error>((
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
            signal(SignalKind::hangup())?,
        ))
    })?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            rt.block_on(async {
                loop {
                    tokio::select! {
                        _ = term.recv() => break,
                        _ = int.recv() => break,
                        _ = hup.recv() => match Config::load(config.as_deref()) {
                            Ok(cfg) => {
                                let _ = reload.try_send(crate::detect::setup::load_ioc(&cfg.detect));
                            }
                            Err(e) => tracing::error!(error = %e, "SIGHUP: configuration not reloaded"),
                        },
                    }
                }
            });
            stop.store(true, Ordering::Relaxed);
        })
        .context("spawning the signal thread")?;
    Ok(())
}
