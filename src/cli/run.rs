//! `phonehome run`: the live daemon. Capture runs on this thread and never waits for the
//! store (a full queue drops and counts); a small tokio runtime on its own thread turns
//! SIGINT/SIGTERM into a stop flag; on stop the pipeline is flushed and the writer drained.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::analyze::{capture_stats, load, now_micros, pipeline_config, writer_config};
use super::Args;
use crate::capture::live::{LiveConfig, LiveSource};
use crate::config::Config;
use crate::intel::ioc::IocSet;
use crate::pipeline::Pipeline;
use crate::store::writer::Writer;

/// How often counters are written to the store while capturing.
const STATS_INTERVAL: Duration = Duration::from_secs(10);

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
    let detectors = crate::detect::setup::detectors(&cfg)?;
    let mut pipe = Pipeline::with_detectors(pipeline_config(&cfg), detectors);
    let mut emit = |ev| {
        sink.send(ev);
    };
    let mut last_stats = Instant::now();
    let mut result = Ok(());
    while !stop.load(Ordering::Relaxed) {
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
                result = Err(anyhow::Error::new(e));
                break;
            }
        }
        if last_stats.elapsed() >= STATS_INTERVAL {
            last_stats = Instant::now();
            let k = src.kernel_stats();
            sink.send_stats(capture_stats(&iface, &pipe.counters(), k.drops, &sink));
        }
    }
    pipe.finish(&mut emit);
    let k = src.kernel_stats();
    sink.send_stats(capture_stats(&iface, &pipe.counters(), k.drops, &sink));
    drop(sink);
    let ws = writer.finish().context("finishing the database writes")?;
    tracing::info!(written = ws.written.total(), "stopped");
    result?;
    Ok(ExitCode::SUCCESS)
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
