//! Threat and network intelligence loaded from files: indicator lists ([`ioc`]).
//!
//! Pure data structures with fast lookups; loading does file I/O only at start and on reload,
//! never per packet.

pub mod ioc;
