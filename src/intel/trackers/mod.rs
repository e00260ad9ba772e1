//! Tracker matcher (in progress).
