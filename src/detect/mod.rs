//! Detectors turn records into alerts (issue 3). Pure: no I/O.

pub mod behaviour;
