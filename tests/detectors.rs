//! Scenario tests of issue 3's detectors, end to end: captures written with
//! `phonehome::synth` go through the real pipeline with the detectors the product builds from
//! its configuration (`detect::setup`), and the alerts that come out are checked by kind,
//! severity and detail. Real data where it applies: the shared geo databases, the Echap and
//! MVT indicator files, the built-in tracker lists.

#[path = "detectors/harness.rs"]
mod harness;

#[path = "detectors/nokia.rs"]
mod nokia;

#[path = "detectors/ioc.rs"]
mod ioc;

#[path = "detectors/known.rs"]
mod known;

#[path = "detectors/fires.rs"]
mod fires;

#[path = "detectors/benign.rs"]
mod benign;
