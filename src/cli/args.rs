//! Command-line syntax (clap). This interface is a contract scripts and other tools rely on.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Wi-Fi audit router: what your phone sends, to whom, and what leaks.
#[derive(Debug, Parser)]
#[command(name = "phonehome", version, about)]
pub struct Args {
    /// SQLite database [default: [store] path of the config, /var/lib/phonehome/phonehome.db]
    #[arg(long, global = true, env = "PHONEHOME_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Configuration file [default: /etc/phonehome/phonehome.toml if it exists]
    #[arg(long, global = true, env = "PHONEHOME_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug); PHONEHOME_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// Filters and format shared by the read commands.
#[derive(Debug, Clone, clap::Args)]
pub struct QueryArgs {
    /// Only records newer than a duration ago (90s, 30m, 1h, 1d, 2w) or since a time
    /// (RFC 3339 or epoch seconds). Without it: all records, oldest first.
    #[arg(long, value_name = "DUR|TS")]
    pub since: Option<String>,
    /// Only records of this device (MAC address).
    #[arg(long, value_name = "MAC")]
    pub device: Option<String>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// At most this many records (the newest ones).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print identifiers (IMEI, IMSI, e-mail, …) in full; by default they are masked to their
    /// last 4 characters.
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Capture live on the AP interface until SIGINT/SIGTERM.
    Run {
        /// Interface to capture on [default: [capture] interface, br0]
        #[arg(long, value_name = "IF")]
        iface: Option<String>,
    },
    /// Analyse pcap/pcapng files into the database.
    Analyze {
        #[arg(required = true, value_name = "PCAP")]
        pcaps: Vec<PathBuf>,
        /// Records only: run no detector (no alerts), e.g. to measure their cost.
        #[arg(long)]
        no_detect: bool,
    },
    /// Analyse the built-in sample capture (a phone joining the AP) and show what it found.
    Demo {
        /// Keep the demo database at this path instead of a temporary file.
        #[arg(long, value_name = "PATH")]
        keep: Option<PathBuf>,
    },
    /// Capture counters, flows, devices and database size.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// DNS queries with their answers.
    Dns(QueryArgs),
    /// Cleartext HTTP requests.
    Http(QueryArgs),
    /// TLS ClientHellos: server names and fingerprints.
    Tls(QueryArgs),
    /// DHCP messages: device identity.
    Dhcp(QueryArgs),
    /// Flows: who talked to whom, how much.
    Flows(QueryArgs),
    /// Devices seen (client MACs): OS, model, label; `devices name MAC NAME` names one.
    Devices(super::devices::DevicesArgs),
    /// Alerts raised by the detectors.
    Alerts(QueryArgs),
    /// The LED state the daemon shows now (unacknowledged alerts, capture running).
    Leds {
        /// One JSON object instead of a line of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the evidence capture (pcap) of a warn or critical alert.
    Evidence {
        /// The alert's id (the `id` column of `phonehome alerts`).
        id: i64,
        /// Output file; `-` writes the capture to stdout.
        #[arg(short, long, value_name = "OUT.pcap")]
        out: PathBuf,
        /// Replace OUT if it exists.
        #[arg(long)]
        force: bool,
    },
    /// A consistent copy of the database, taken while the daemon writes (SQLite online backup).
    Backup {
        /// Output file; `-` streams the copy to stdout (never to a terminal).
        #[arg(value_name = "FILE|-")]
        target: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// A summary for people, per device: alerts, destinations, countries, trackers, leaks.
    Report {
        /// Only what happened since a duration ago (1h, 1d, …) or a time (RFC 3339, epoch).
        #[arg(long, value_name = "DUR|TS")]
        since: Option<String>,
        /// Only this device (MAC address).
        #[arg(long, value_name = "MAC")]
        device: Option<String>,
        /// The same as one JSON object.
        #[arg(long)]
        json: bool,
        /// Show MAC addresses whole (masked to their last 4 digits by default).
        #[arg(long)]
        reveal: bool,
    },
    /// Every table (dns, http, tls, dhcp, flows, devices, alerts) as JSON lines, for archiving.
    Export {
        /// Only records since a duration ago (1h, 1d, …) or a time (RFC 3339, epoch).
        #[arg(long, value_name = "DUR|TS")]
        since: Option<String>,
        /// Print identifiers (IMEI, IMSI, e-mail, …) in full; by default they are masked as in
        /// the read commands.
        #[arg(long)]
        reveal: bool,
    },
    /// For a restricted SSH key: run the read command in SSH_ORIGINAL_COMMAND, refuse the rest.
    SshServe,
    /// Render a page of the OLED display, as it shows now, to a PNG (pixels ×4).
    Display {
        /// Page: 1 status, 2 latest alerts, 3 devices, 4 join QR code [default: 1]
        #[arg(long, value_name = "N")]
        page: Option<u8>,
        /// Output PNG file (512×256).
        #[arg(long, value_name = "OUT.png")]
        png: PathBuf,
    },
    /// The Wi-Fi access point: render its configuration files from [ap].
    Ap {
        #[command(subcommand)]
        command: super::ApCommand,
    },
}
