//! `phonehome ap render [--out DIR]`: writes the access point's configuration files (hostapd,
//! systemd-networkd, and in routed mode dnsmasq, nftables, sysctl) rendered from `[ap]`.
//! Prints the paths written, never the contents (hostapd.conf holds the passphrase).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use super::Args;
use crate::ap;
use crate::config::{ApMode, Config, DEFAULT_PATH};

/// `phonehome ap …`.
#[derive(Debug, Subcommand)]
pub enum ApCommand {
    /// Write hostapd, systemd-networkd (and, in routed mode, dnsmasq, nftables, sysctl) files
    /// from [ap] in phonehome.toml; files of the other mode are removed.
    Render {
        /// Root folder the files go under (hostapd/, systemd/network/, dnsmasq.d/, …).
        #[arg(long, value_name = "DIR", default_value = ap::DEFAULT_ROOT)]
        out: PathBuf,
    },
}

/// Runs an `ap` subcommand.
pub(super) fn ap_cmd(args: &Args, cmd: &ApCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ApCommand::Render { out } => render(args, out),
    }
}

fn render(args: &Args, out: &Path) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(args.config.as_deref())?;
    let source = cfg
        .source
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
    let files = ap::render(&cfg.ap).with_context(|| source.display().to_string())?;
    let written = ap::write_files(out, &files)?;
    let removed = ap::remove_stale(out, &files)?;
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    for (path, f) in written.iter().zip(&files) {
        writeln!(w, "wrote {} ({:o})", path.display(), f.mode)?;
    }
    for path in &removed {
        writeln!(w, "removed {} (other mode)", path.display())?;
    }
    let units = match cfg.ap.mode {
        ApMode::Bridge => "systemd-networkd hostapd",
        ApMode::Routed => "systemd-networkd hostapd dnsmasq nftables systemd-sysctl",
    };
    writeln!(w, "apply with: systemctl restart {units}")?;
    w.flush()?;
    let want = ap::capture_interface(&cfg.ap);
    if cfg.capture.interface != want {
        eprintln!(
            "phonehome: note: [capture] interface is \"{}\" but the access point's traffic \
             passes through \"{want}\" in this mode: set [capture] interface = \"{want}\"",
            cfg.capture.interface
        );
    }
    Ok(ExitCode::SUCCESS)
}
