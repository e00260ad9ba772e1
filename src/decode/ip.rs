//! IPv4 and IPv6 decoding.
//! STUB: to be implemented.
