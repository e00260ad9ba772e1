//! `phonehome ssh-serve`: the forced command of a restricted SSH key
//! (`command="phonehome ssh-serve",restrict ssh-ed25519 AAAA… laptop` in authorized_keys).
//!
//! sshd runs it instead of whatever the client asked for and puts the request in
//! `SSH_ORIGINAL_COMMAND`. The request is split into words without a shell (POSIX quoting via
//! `shlex`, no expansion, no globbing), checked against an allow list of read commands, and
//! run in this process on the configured database.
//!
//! Invariants:
//! - Only `alerts dns http tls dhcp flows devices report export status leds` (with their own
//!   flags) and `backup -` run. Everything else — commands that capture, write or render
//!   files (`run`, `analyze`, `evidence`, `demo`, `display`, `ap`, …), `backup FILE`, the
//!   global `--db`/`--config` that would point at another file, an empty request — is refused
//!   on stderr with exit code [`REFUSED`] before anything runs.
//! - The request is bounded ([`MAX_COMMAND_LEN`] bytes, [`MAX_WORDS`] words) and may not
//!   hold shell syntax (`;|&$` and backquote), a backslash, or control characters: nothing
//!   is ever handed to a shell, so these can only be a mistake or an attack, and refusing
//!   them is clearer than treating them literally.
//! - The database and config are those of the `ssh-serve` invocation itself (its own `--db`,
//!   `--config`, or the environment sshd gives it), never the client's.

use std::process::ExitCode;

use clap::Parser;

use super::{dispatch, Args, Command};

/// Exit code of a refused request (as for a usage error).
pub const REFUSED: u8 = 2;

/// Longest request accepted, in bytes: far above any real read command with its flags,
/// small enough that a hostile client cannot make the splitter work on megabytes.
pub const MAX_COMMAND_LEN: usize = 1024;

/// Most words in a request.
pub const MAX_WORDS: usize = 32;

/// The environment variable sshd sets to the command the client asked for.
pub const ORIGINAL_COMMAND_VAR: &str = "SSH_ORIGINAL_COMMAND";

/// The read commands a restricted key may run (`backup` only as `backup -`).
pub const ALLOWED: &[&str] = &[
    "alerts", "dns", "http", "tls", "dhcp", "flows", "devices", "report", "export", "status",
    "leds", "backup",
];

/// Characters refused anywhere in a request: shell syntax and escapes.
const FORBIDDEN: &[char] = &[';', '|', '&', '$', '`', '\\'];

/// Runs the command: reads [`ORIGINAL_COMMAND_VAR`], refuses or runs it.
pub(super) fn ssh_serve(outer: &Args) -> anyhow::Result<ExitCode> {
    let request = std::env::var_os(ORIGINAL_COMMAND_VAR)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match check(&request) {
        Ok(mut inner) => {
            inner.db.clone_from(&outer.db);
            inner.config.clone_from(&outer.config);
            inner.verbose = outer.verbose;
            dispatch(inner)
        }
        Err(Refusal::Help(text)) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(Refusal::Refused(msg)) => {
            eprintln!("phonehome ssh-serve: {msg}");
            Ok(ExitCode::from(REFUSED))
        }
    }
}

/// Why a request does not run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Refused, with the message for the client.
    Refused(String),
    /// `--help` of an allowed command: printed, not run.
    Help(String),
}

fn usage(why: &str) -> Refusal {
    Refusal::Refused(format!(
        "{why}\nThis key may run: phonehome {{{}}} [OPTIONS], and phonehome backup - > audit.db\n\
         e.g. ssh HOST phonehome alerts --since 1d",
        ALLOWED
            .iter()
            .filter(|c| **c != "backup")
            .copied()
            .collect::<Vec<_>>()
            .join("|")
    ))
}

/// Splits and checks a request; returns the parsed command line when it may run.
pub fn check(request: &str) -> Result<Args, Refusal> {
    if request.len() > MAX_COMMAND_LEN {
        return Err(Refusal::Refused(format!(
            "command refused: longer than {MAX_COMMAND_LEN} bytes"
        )));
    }
    if let Some(c) = request.chars().find(|c| FORBIDDEN.contains(c)) {
        return Err(Refusal::Refused(format!(
            "command refused: character '{c}' is not allowed (no shell runs here: no pipes, \
             separators, variables, substitutions or escapes)"
        )));
    }
    if request.chars().any(char::is_control) {
        return Err(Refusal::Refused(
            "command refused: control characters are not allowed".into(),
        ));
    }
    let Some(mut words) = shlex::split(request) else {
        return Err(Refusal::Refused(
            "command refused: unbalanced quotes".into(),
        ));
    };
    if words.len() > MAX_WORDS {
        return Err(Refusal::Refused(format!(
            "command refused: more than {MAX_WORDS} words"
        )));
    }
    // `ssh host phonehome alerts` and `ssh host alerts` mean the same.
    if words.first().is_some_and(|w| w == "phonehome") {
        words.remove(0);
    }
    if words.is_empty() {
        return Err(usage("no command given."));
    }
    for w in &words {
        let name = w.split_once('=').map_or(w.as_str(), |(n, _)| n);
        if name == "--db" || name == "--config" {
            return Err(Refusal::Refused(format!(
                "command refused: `{name}` is not allowed over this key (it reads the \
                 router's own database)"
            )));
        }
    }
    let argv = std::iter::once("phonehome".to_string()).chain(words.iter().cloned());
    let args = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            use clap::error::ErrorKind;
            let first = words.iter().find(|w| !w.starts_with('-'));
            let allowed_cmd = first.is_some_and(|c| ALLOWED.contains(&c.as_str()));
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion if allowed_cmd => {
                    Err(Refusal::Help(e.render().to_string()))
                }
                _ if allowed_cmd => Err(Refusal::Refused(e.render().to_string())),
                _ => Err(usage(&format!(
                    "command refused: `{}` is not a read command.",
                    first.map_or("", |s| s.as_str())
                ))),
            };
        }
    };
    let allowed = match &args.command {
        Command::Alerts(_)
        | Command::Dns(_)
        | Command::Http(_)
        | Command::Tls(_)
        | Command::Dhcp(_)
        | Command::Flows(_)
        | Command::Devices(super::devices::DevicesArgs { action: None, .. })
        | Command::Report { .. }
        | Command::Export { .. }
        | Command::Status { .. }
        | Command::Leds { .. } => true,
        Command::Backup { target, force } => {
            if target.as_os_str() != "-" || *force {
                return Err(Refusal::Refused(
                    "command refused: over this key backup writes only to stdout: \
                     phonehome backup - > audit.db"
                        .into(),
                ));
            }
            true
        }
        _ => false,
    };
    if !allowed {
        let name = words.iter().find(|w| !w.starts_with('-'));
        return Err(usage(&format!(
            "command refused: `{}` is not a read command.",
            name.map_or("", |s| s.as_str())
        )));
    }
    Ok(args)
}
