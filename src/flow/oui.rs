//! IEEE OUI vendor lookup.
//! STUB: to be implemented.
