//! CLI. STUB

pub mod output;
pub mod since;
