//! Offline intelligence loaded from files at start (and on reload), never per packet:
//! indicator lists of spyware and stalkerware ([`ioc`]), where an address is and who runs it
//! ([`geo`]), and whether a host name belongs to a known tracker ([`trackers`]).
//!
//! Pure data structures with fast lookups: no I/O after loading, no allocation per query.

pub mod geo;
pub mod ioc;
pub mod trackers;
