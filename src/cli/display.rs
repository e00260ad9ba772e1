//! `phonehome display [--page N] --png OUT.png`: renders what the OLED shows now, from the
//! database, as a ×4 PNG that a person can read on any machine.

use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::analyze::{load, now_micros};
use super::Args;
use crate::indicate::display::{self, png, Page};
use crate::store;

/// Renders page `page` (default 1) to `out`.
pub(super) fn display(args: &Args, page: Option<u8>, out: &Path) -> anyhow::Result<ExitCode> {
    let n = page.unwrap_or(1);
    let page = Page::from_number(n)
        .with_context(|| format!("--page: no page {n} (pages are 1 to {})", Page::ALL.len()))?;
    let (cfg, db) = load(args)?;
    let conn = store::open_read(&db)?;
    let mut data = display::display_data(&conn, now_micros())
        .with_context(|| format!("reading {}", db.display()))?;
    data.ssid.clone_from(&cfg.ap.ssid);
    data.passphrase = cfg.ap.passphrase.clone().unwrap_or_default();
    data.ssh_address = crate::indicate::runner::ssh_address().map(|ip| ip.to_string());
    let frame = png::render_frame(page, &data);
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    png::write_png(&frame, BufWriter::new(file))
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(ExitCode::SUCCESS)
}
