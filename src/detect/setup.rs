//! Builds the [`Detectors`] a [`Config`] describes: the configured identifiers, and the
//! indicator, tracker and geo data. This is the one part of `detect` that reads files, once at
//! startup; the detectors themselves stay pure. The CLI (`run`, `analyze`, `demo`) and the
//! scenario tests call the same functions, so tests exercise the product's detectors.
//!
//! Data sources: indicators from `[ioc] paths` (by default the packaged folder, and when that
//! is absent the set built into the binary); trackers built in, plus `[trackers] paths`; geo
//! from `[geo]` (by default the packaged files, skipped when absent: flows then carry no
//! country). A malformed indicator file is reported with its file and line and the others
//! still load.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use thiserror::Error;

use super::behaviour::BehaviourConfig;
use super::pii::{Identifier, KnownIdentifier, PiiError, PiiScanner};
use super::{Detectors, DetectorsSetup, TrackerLists};
use crate::config::{Config, DetectConfig};
use crate::intel::geo::{GeoDb, GeoError};
use crate::intel::ioc::IocSet;
use crate::intel::trackers::{TrackerError, Trackers};

/// Why the detectors could not be built; each names the configuration section at fault.
#[derive(Debug, Error)]
pub enum SetupError {
    /// A configured identifier is unusable.
    #[error("[[identifiers]]: {0}")]
    Identifiers(#[from] PiiError),
    /// A configured tracker list could not be loaded.
    #[error("[trackers] paths: {0}")]
    Trackers(#[from] TrackerError),
    /// A configured geo database could not be opened.
    #[error("[geo]: {0}")]
    Geo(#[from] GeoError),
}

/// The detectors `cfg` describes, with its geo databases loaded.
pub fn detectors(cfg: &Config) -> Result<Detectors, SetupError> {
    let geo = load_geo(&cfg.detect)?;
    detectors_with_geo(cfg, Arc::new(geo))
}

/// The detectors `cfg` describes, with geo databases already loaded (by [`load_geo`] from the
/// same configuration): lets a caller that builds many detectors load them once.
pub fn detectors_with_geo(cfg: &Config, geo: Arc<GeoDb>) -> Result<Detectors, SetupError> {
    let d = &cfg.detect;
    let pii = pii_scanner(d)?;
    let trackers = if d.tracker_paths.is_empty() {
        TrackerLists::Builtin(Trackers::builtin())
    } else {
        TrackerLists::Extended(Box::new(Trackers::load_extra(&d.tracker_paths)?))
    };
    Ok(Detectors::new(DetectorsSetup {
        pii,
        ioc: load_ioc(d),
        trackers,
        geo,
        behaviour: BehaviourConfig {
            boot_window_secs: d.boot_window_secs,
            watch_countries: d.watch_countries.clone(),
            watch_asns: d.watch_asns.clone(),
            allow: d.allow.clone(),
            local_resolvers: d.local_resolvers.clone(),
            ..BehaviourConfig::default()
        },
        allow: d.allow.clone(),
    }))
}

/// Loads the indicators; a bad file is logged (file:line) and skipped, the rest loads.
pub fn load_ioc(d: &DetectConfig) -> IocSet {
    let start = Instant::now();
    let explicit = d.ioc_paths_explicit;
    let present: Vec<PathBuf> = d
        .ioc_paths
        .iter()
        .filter(|p| explicit || p.exists())
        .cloned()
        .collect();
    let (set, errors) = if present.is_empty() {
        IocSet::builtin()
    } else {
        IocSet::load(&present)
    };
    for e in &errors {
        eprintln!("phonehome: indicators: {e}");
    }
    tracing::info!(
        indicators = set.len(),
        files_with_errors = errors.len(),
        ms = start.elapsed().as_millis() as u64,
        "indicators loaded"
    );
    set
}

/// Opens the geo databases: explicitly configured files must exist; the packaged defaults are
/// skipped when absent.
pub fn load_geo(d: &DetectConfig) -> Result<GeoDb, SetupError> {
    let keep = |p: &Path| d.geo_explicit || p.exists();
    let country = d.country_db.as_deref().filter(|p| keep(p));
    let asn: Vec<PathBuf> = d.asn_dbs.iter().filter(|p| keep(p)).cloned().collect();
    if country.is_none() && asn.is_empty() {
        return Ok(GeoDb::empty());
    }
    let start = Instant::now();
    let geo = GeoDb::open(country, &asn)?;
    tracing::info!(
        heap_bytes = geo.heap_bytes(),
        ms = start.elapsed().as_millis() as u64,
        "geo databases loaded"
    );
    Ok(geo)
}

/// The identifier scanner for the configured `[[identifiers]]` (also used by the CLI to mask
/// what it prints).
pub fn pii_scanner(d: &DetectConfig) -> Result<PiiScanner, SetupError> {
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
    Ok(PiiScanner::new(&known)?)
}
