//! Per-connection and per-device state built from decoded packets: the flow table, TCP stream
//! reassembly, IP defragmentation, device identity and the names that led devices to servers.
//!
//! Pure like [`crate::decode`]: no I/O, time comes from packet timestamps.

pub mod conn;
pub mod defrag;
pub mod devices;
pub mod domains;
pub mod evidence;
pub mod identity;
pub mod ipv6bind;
pub mod oui;
pub mod reassembly;
pub mod table;
