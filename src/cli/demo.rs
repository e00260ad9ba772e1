//! `phonehome demo`: the README's first command. Analyses the sample capture built into the
//! binary (`data/demo.pcap`, made by [`crate::synth::demo_capture`]: a phone joining the AP,
//! DHCP, DNS, TLS to several servers, one cleartext HTTP request) into a temporary database and
//! prints what a user looks at first. Needs no root, no network and no files outside the binary.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::analyze::analyze_file;
use super::output;
use crate::pipeline::PipelineConfig;
use crate::store::writer::{Writer, WriterConfig};
use crate::store::{self, query, Kind};

/// The sample capture (regenerated and checked byte for byte by `tests/synth_fixture.rs`).
pub const DEMO_PCAP: &[u8] = include_bytes!("../../data/demo.pcap");

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn demo(keep: Option<&Path>) -> anyhow::Result<ExitCode> {
    let tmp = TempDir(std::env::temp_dir().join(format!("phonehome-demo-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).with_context(|| format!("creating {}", tmp.0.display()))?;
    let pcap = tmp.0.join("demo.pcap");
    std::fs::write(&pcap, DEMO_PCAP).with_context(|| format!("writing {}", pcap.display()))?;
    let db = keep.map_or_else(|| tmp.0.join("demo.db"), Path::to_path_buf);

    let writer = Writer::spawn(
        &db,
        WriterConfig {
            retention_days: 0,
            ..WriterConfig::default()
        },
    )?;
    let sink = writer.sink();
    let detectors = crate::detect::setup::detectors(&crate::config::Config::default())?;
    let (out, _) = analyze_file(&pcap, PipelineConfig::default(), Some(detectors), &sink);
    drop(sink);
    writer.finish()?;
    if let Some(e) = out.error {
        anyhow::bail!("demo capture: {e}");
    }

    let conn = store::open_read(&db)?;
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    writeln!(
        w,
        "phonehome demo: a phone joins the Wi-Fi ({} packets analysed)\n",
        out.counters.frames
    )?;
    for (kind, title) in [
        (Kind::Alerts, "Alerts — what deserves a look"),
        (Kind::Devices, "Devices — who joined"),
        (Kind::Dhcp, "DHCP — how the phone identified itself"),
        (Kind::Dns, "DNS — what it looked up"),
        (
            Kind::Tls,
            "TLS — encrypted connections: server names and fingerprints",
        ),
        (
            Kind::Http,
            "HTTP — cleartext requests anyone on the path can read",
        ),
        (Kind::Flows, "Flows — whom it talked to, how much"),
    ] {
        writeln!(w, "== {title}")?;
        query::each(&conn, kind, &query::Filter::default(), |rows| {
            output::print_table(&mut w, kind, rows)
        })??;
        writeln!(w)?;
    }
    match keep {
        Some(p) => writeln!(
            w,
            "Database kept at {}; try: phonehome --db {} dns --json",
            p.display(),
            p.display()
        )?,
        None => writeln!(
            w,
            "On the router the same commands read the live log over SSH, e.g.\n  ssh admin@phonehome.local phonehome dns --since 1h"
        )?,
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}
