//! Offline intelligence loaded from files at start (and on reload), never per packet:
//! indicator lists of spyware and stalkerware ([`ioc`]), where an address is and who runs it
//! ([`geo`]), and whether a host name belongs to a known tracker ([`trackers`]).
//!
//! Pure data structures with fast lookups: no I/O after loading, no allocation per query.

pub mod geo;
pub mod ioc;
pub mod trackers;

/// Names hosts files list as the machine itself (`127.0.0.1 localhost`), neither indicators
/// nor trackers: both list loaders skip them.
pub(crate) const HOSTS_LOCAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "ip6-localnet",
    "ip6-mcastprefix",
    "ip6-allnodes",
    "ip6-allrouters",
    "ip6-allhosts",
];
