//! phonehome: a Wi-Fi travel router that audits what connected phones send.
//!
//! Data flows one way, and the modules follow it:
//! [`capture`] (pcap files, live AF_PACKET) → [`decode`] (pure parsers) → [`flow`] (flows,
//! reassembly, devices) → [`detect`] (alerts) → [`store`] (SQLite). [`pipeline`] drives the
//! pure core for one frame at a time and emits [`event::Event`]s; [`cli`] is the one binary's
//! front end. `decode`, `flow`, `detect` and `pipeline` perform no I/O (except
//! `detect::setup` and `intel`, which read their data files once at start and on reload).
#![deny(unsafe_code)]

pub mod ap;
pub mod capture;
pub mod cli;
pub mod config;
pub mod decode;
pub mod detect;
pub mod event;
pub mod flow;
pub mod indicate;
pub mod intel;
pub mod pipeline;
pub mod store;
pub mod synth;
