//! Offline intelligence about destinations: where an address is and who runs it ([`geo`]),
//! and whether a host name belongs to a known tracker ([`trackers`]).
//!
//! Pure lookups over data loaded once at start: no I/O after loading, no allocation per query.

pub mod geo;
pub mod trackers;
