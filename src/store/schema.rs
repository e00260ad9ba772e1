//! Schema and migrations (PRAGMA user_version ladder).
//! STUB: to be implemented.
