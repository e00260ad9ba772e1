//! `phonehome devices`: lists the devices (as the other read commands do), and
//! `phonehome devices name MAC "Anna's phone"` gives one a name, stored in the database and
//! shown first wherever a device is named (`devices`, the OLED pages, reports).
//!
//! Naming writes, so it is not a read command: `ssh-serve` refuses it. The name goes to the
//! device and to every device linked to it by `same_as` (the same phone under an earlier or
//! later MAC of the session), so renaming follows a phone across MAC changes. An empty name
//! clears it. Names are bounded ([`MAX_NAME_CHARS`]) and may not hold control characters
//! (they end up on a terminal and the OLED).

use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;

use super::analyze::load;
use super::args::QueryArgs;
use super::read::{self, Kind};
use super::Args;
use crate::event::MacAddr;
use crate::store::schema;

/// Longest device name, in characters: a line of `phonehome devices` or of the OLED.
pub const MAX_NAME_CHARS: usize = 64;

/// `phonehome devices [FILTERS] | devices name MAC NAME`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DevicesArgs {
    /// Something to do instead of listing.
    #[command(subcommand)]
    pub action: Option<DevicesAction>,
    /// Filters and format of the listing.
    #[command(flatten)]
    pub query: QueryArgs,
}

/// What `devices` can do besides listing.
#[derive(Debug, Clone, Subcommand)]
pub enum DevicesAction {
    /// Name a device (shown first wherever the device is named); "" clears the name.
    Name {
        /// The device's MAC address.
        mac: String,
        /// The name, e.g. "Anna's phone".
        name: String,
    },
}

/// Runs `devices`.
pub(super) fn devices(args: &Args, d: &DevicesArgs) -> anyhow::Result<ExitCode> {
    match &d.action {
        None => read::records(args, Kind::Devices, &d.query),
        Some(DevicesAction::Name { mac, name }) => {
            let mac = MacAddr::parse(mac).with_context(|| format!("not a MAC address: {mac}"))?;
            let name = check_name(name)?;
            let (_, db) = load(args)?;
            if !db.exists() {
                bail!("{}: no database yet (nothing captured)", db.display());
            }
            let n = set_name(&db, mac, name)?;
            if n == 0 {
                bail!("no device {mac} in {}", db.display());
            }
            match name {
                Some(name) => println!("{mac}: named {name:?} ({n} device record(s))"),
                None => println!("{mac}: name cleared ({n} device record(s))"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The name to store: trimmed, None for empty; refused when too long or holding control
/// characters.
pub fn check_name(name: &str) -> anyhow::Result<Option<&str>> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        bail!("name longer than {MAX_NAME_CHARS} characters");
    }
    if name.chars().any(char::is_control) {
        bail!("name holds a control character");
    }
    Ok((!name.is_empty()).then_some(name))
}

/// Sets (or clears) the name of `mac` and of the devices linked to it by `same_as`, either
/// way; returns how many device rows changed.
pub fn set_name(db: &std::path::Path, mac: MacAddr, name: Option<&str>) -> anyhow::Result<usize> {
    let conn = schema::open_write(db)?;
    // UNION (not UNION ALL) drops rows already found, so a cycle of links ends.
    let n = conn
        .execute(
            "WITH RECURSIVE linked(mac) AS ( \
               SELECT mac FROM devices WHERE mac = ?1 \
               UNION \
               SELECT d.mac FROM devices d, linked l \
                 WHERE d.same_as = l.mac \
                    OR d.mac = (SELECT same_as FROM devices WHERE mac = l.mac)) \
             UPDATE devices SET name = ?2 WHERE mac IN (SELECT mac FROM linked)",
            rusqlite::params![mac.to_string(), name],
        )
        .with_context(|| format!("{}: cannot store the name", db.display()))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("  Anna's phone ").unwrap(), Some("Anna's phone"));
        assert_eq!(check_name("").unwrap(), None);
        assert!(check_name("a\u{1b}[2J").is_err());
        assert!(check_name(&"é".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(check_name(&"é".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
