//! `phonehome analyze PCAP...` and the shared plumbing that feeds frames from a source through
//! the pipeline into the store.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use super::Args;
use crate::capture::file::FileSource;
use crate::config::Config;
use crate::detect::Detectors;
use crate::pipeline::{Counters, Pipeline, PipelineConfig};
use crate::store::writer::{EventSink, Writer, WriterConfig};
use crate::store::CaptureStats;

/// The config file and the database path the command line selects.
pub(super) fn load(args: &Args) -> anyhow::Result<(Config, PathBuf)> {
    let cfg = Config::load(args.config.as_deref())?;
    let db = args.db.clone().unwrap_or_else(|| cfg.store.path.clone());
    Ok((cfg, db))
}

pub(super) fn pipeline_config(cfg: &Config) -> PipelineConfig {
    let mut p = PipelineConfig::default();
    p.flows.max_flows = cfg.flows.max_flows;
    p.flows.tcp_idle = cfg.flows.tcp_idle_secs as i64 * crate::event::MICROS;
    p.flows.udp_idle = cfg.flows.udp_idle_secs as i64 * crate::event::MICROS;
    p.inspect_bytes = cfg.flows.inspect_bytes;
    p
}

pub(super) fn writer_config(cfg: &Config) -> WriterConfig {
    WriterConfig {
        queue_capacity: cfg.store.queue_capacity,
        batch_max: cfg.store.batch_max,
        retention_days: cfg.store.retention_days,
        ..WriterConfig::default()
    }
}

/// Wall-clock time in microseconds since the epoch.
pub(super) fn now_micros() -> crate::event::Ts {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros().min(i64::MAX as u128) as i64)
}

/// What one analysed file produced.
pub(super) struct FileOutcome {
    pub counters: Counters,
    pub error: Option<String>,
}

/// Runs one capture file through a fresh pipeline (with `detectors`, when given) into `sink`.
/// A read error stops the file (reported in the outcome); everything before it has been
/// sent. Returns the detectors for the next file.
pub(super) fn analyze_file(
    path: &Path,
    pcfg: PipelineConfig,
    detectors: Option<Detectors>,
    sink: &EventSink,
) -> (FileOutcome, Option<Detectors>) {
    let mut pipe = match detectors {
        Some(d) => Pipeline::with_detectors(pcfg, d),
        None => Pipeline::new(pcfg),
    };
    let mut error = None;
    match FileSource::open(path) {
        Err(e) => error = Some(e.to_string()),
        Ok(mut src) => {
            let mut emit = |ev| {
                sink.send_blocking(ev);
            };
            while let Some(r) = src.next_frame() {
                match r {
                    Ok(f) => pipe.ingest(f.ts, f.link, f.data, &mut emit),
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            pipe.finish(&mut emit);
        }
    }
    let counters = pipe.counters();
    sink.send_stats(capture_stats(
        &path.display().to_string(),
        &counters,
        0,
        sink,
    ));
    (FileOutcome { counters, error }, pipe.take_detectors())
}

/// The counters row stored for a run or a file.
pub(super) fn capture_stats(
    source: &str,
    c: &Counters,
    kernel_drops: u64,
    sink: &EventSink,
) -> CaptureStats {
    CaptureStats {
        ts: now_micros(),
        source: source.to_string(),
        packets_seen: c.frames,
        bytes_seen: c.bytes,
        packets_decoded: c.decoded,
        kernel_drops,
        queue_drops: sink.dropped(),
        decode_errors: c.decode_errors(),
        flows_created: c.flows_created,
        flows_evicted: c.flows_evicted,
    }
}

pub(super) fn analyze_cmd(
    args: &Args,
    pcaps: &[PathBuf],
    no_detect: bool,
) -> anyhow::Result<ExitCode> {
    let (cfg, db) = load(args)?;
    // Loading the User-Agent parser is set-up like loading the detectors' data: done beside
    // it, and outside the timed pipeline.
    let ua_parser = std::thread::Builder::new()
        .name("ua-parser".into())
        .spawn(|| {
            crate::flow::identity::UaParser::get();
        });
    let mut detectors = if no_detect {
        None
    } else {
        Some(crate::detect::setup::detectors(&cfg)?)
    };
    // Capture files carry their own (often old) timestamps: retention would delete their
    // records as they are written, so an offline run never prunes.
    let wcfg = WriterConfig {
        retention_days: 0,
        ..writer_config(&cfg)
    };
    let writer = Writer::spawn(&db, wcfg).with_context(|| format!("opening {}", db.display()))?;
    let sink = writer.sink();
    let pcfg = pipeline_config(&cfg);
    let mut failed = false;
    let mut total = Counters::default();
    if let Ok(t) = ua_parser {
        let _ = t.join();
    }
    let start = Instant::now();
    for path in pcaps {
        let (out, back) = analyze_file(path, pcfg, detectors.take(), &sink);
        detectors = back;
        if let Some(e) = &out.error {
            eprintln!("phonehome: {e}");
            failed = true;
        }
        total.frames += out.counters.frames;
        total.decoded += out.counters.decoded;
        total.flows_created += out.counters.flows_created;
    }
    let secs = start.elapsed().as_secs_f64();
    drop(sink);
    let ws = writer.finish().context("finishing the database writes")?;
    eprintln!(
        "analyzed {} packets ({} decoded) in {:.2} s ({:.0} packets/s), {} flows, {} records written to {}",
        total.frames,
        total.decoded,
        secs,
        total.frames as f64 / secs.max(1e-9),
        total.flows_created,
        ws.written.total(),
        db.display()
    );
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
