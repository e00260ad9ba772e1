//! Live capture. WIP
/// Live stats.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelStats;
/// Live config.
pub struct LiveConfig;
/// Live source.
pub struct LiveSource;
