//! IPv4/IPv6 fragment reassembly, bounded.
//! STUB: to be implemented.
