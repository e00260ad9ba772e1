//! Read queries for the CLI.
//! STUB: to be implemented.
