//! Builds the detectors from the configuration: the configured identifiers, the indicator,
//! tracker and geo data (files read here, at the edge; the detectors themselves are pure).

use anyhow::Context;

use crate::config::Config;
use crate::detect::pii::{Identifier, KnownIdentifier, PiiScanner};
use crate::detect::{Detectors, DetectorsSetup};

/// The detectors `cfg` describes.
pub(super) fn detectors(cfg: &Config) -> anyhow::Result<Detectors> {
    let d = &cfg.detect;
    let known: Vec<KnownIdentifier> = d
        .identifiers
        .iter()
        .filter_map(|i| {
            Identifier::parse(&i.kind).map(|kind| KnownIdentifier {
                kind,
                value: i.value.clone(),
                device: i.device,
            })
        })
        .collect();
    let pii = PiiScanner::new(&known).context("[[identifiers]]")?;
    Ok(Detectors::new(DetectorsSetup {
        pii,
        allow: d.allow.clone(),
    }))
}
