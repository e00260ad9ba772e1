//! Which name led a device to a server address (from DNS answers).
//! STUB: to be implemented.
