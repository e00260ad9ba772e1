//! The one binary's front end: daemon (`run`), offline analyser (`analyze`), the demo, and the
//! read commands used over SSH. Errors become one line on stderr and a non-zero exit; a broken
//! pipe (`phonehome dns | head`) exits 0.

mod analyze;
mod ap;
mod args;
mod backup;
mod demo;
mod devices;
mod display;
mod evidence;
mod export;
mod leds;
mod notify;
pub mod output;
mod read;
mod redact;
mod report;
mod run;
pub mod since;
mod ssh_serve;

use std::io;
use std::process::ExitCode;

use clap::Parser;

pub use ap::ApCommand;
pub use args::{Args, Command};

/// Parses the command line, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.verbose);
    match dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("phonehome: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: Args) -> anyhow::Result<ExitCode> {
    match &args.command {
        Command::Run { iface } => run::run(&args, iface.as_deref()),
        Command::Analyze { pcaps, no_detect } => analyze::analyze_cmd(&args, pcaps, *no_detect),
        Command::Demo { keep } => demo::demo(keep.as_deref()),
        Command::Status { json } => read::status(&args, *json),
        Command::Dns(q) => read::records(&args, read::Kind::Dns, q),
        Command::Http(q) => read::records(&args, read::Kind::Http, q),
        Command::Tls(q) => read::records(&args, read::Kind::Tls, q),
        Command::Dhcp(q) => read::records(&args, read::Kind::Dhcp, q),
        Command::Flows(q) => read::records(&args, read::Kind::Flows, q),
        Command::Devices(d) => devices::devices(&args, d),
        Command::Alerts(q) => read::records(&args, read::Kind::Alerts, q),
        Command::Leds { json } => leds::leds(&args, *json),
        Command::Evidence { id, out, force } => evidence::evidence(&args, *id, out, *force),
        Command::Display { page, png } => display::display(&args, *page, png),
        Command::Ap { command } => ap::ap_cmd(&args, command),
        Command::Backup { target, force } => backup::backup(&args, target, *force),
        Command::Report {
            since,
            device,
            json,
            reveal,
        } => report::report(&args, since.as_deref(), device.as_deref(), *json, *reveal),
        Command::Export { since, reveal } => export::export(&args, since.as_deref(), *reveal),
        Command::SshServe => ssh_serve::ssh_serve(&args),
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PHONEHOME_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        // No colour codes in the journal or in files: only on a terminal.
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .with_target(false)
        .try_init();
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
