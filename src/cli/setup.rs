//! Builds the detectors from the configuration: the configured identifiers, the indicator,
//! tracker and geo data (files read here, at the edge; the detectors themselves are pure).
//!
//! Data sources: indicators from `[ioc] paths` (by default the packaged folder, and when that
//! is absent the set built into the binary); trackers built in, plus `[trackers] paths`; geo
//! from `[geo]` (by default the packaged files, skipped when absent: flows then carry no
//! country). A malformed indicator file is reported with its file and line and the others
//! still load.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::config::{Config, DetectConfig};
use crate::detect::behaviour::BehaviourConfig;
use crate::detect::pii::{Identifier, KnownIdentifier, PiiScanner};
use crate::detect::{Detectors, DetectorsSetup, TrackerLists};
use crate::intel::geo::GeoDb;
use crate::intel::ioc::IocSet;
use crate::intel::trackers::Trackers;

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
    let trackers = if d.tracker_paths.is_empty() {
        TrackerLists::Builtin(Trackers::builtin())
    } else {
        TrackerLists::Extended(Box::new(
            Trackers::load_extra(&d.tracker_paths).context("[trackers] paths")?,
        ))
    };
    Ok(Detectors::new(DetectorsSetup {
        pii,
        ioc: load_ioc(d),
        trackers,
        geo: load_geo(d)?,
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
pub(super) fn load_ioc(d: &DetectConfig) -> IocSet {
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
fn load_geo(d: &DetectConfig) -> anyhow::Result<GeoDb> {
    let keep = |p: &Path| d.geo_explicit || p.exists();
    let country = d.country_db.as_deref().filter(|p| keep(p));
    let asn: Vec<PathBuf> = d.asn_dbs.iter().filter(|p| keep(p)).cloned().collect();
    if country.is_none() && asn.is_empty() {
        return Ok(GeoDb::empty());
    }
    let start = Instant::now();
    let geo = GeoDb::open(country, &asn).context("[geo]")?;
    tracing::info!(
        heap_bytes = geo.heap_bytes(),
        ms = start.elapsed().as_millis() as u64,
        "geo databases loaded"
    );
    Ok(geo)
}
