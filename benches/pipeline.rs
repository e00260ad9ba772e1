//! Throughput benchmarks of the offline path (see `benches/README.md`).
//!
//! - `pipeline/replay`: every frame of an in-memory capture through a fresh
//!   [`Pipeline`] (ingest, then `finish` to end every flow), events counted and dropped:
//!   decoding, flows, reassembly and application decoders without file I/O or SQLite.
//! - `capture/file_source`: [`FileSource`] reading the same capture from a file (page cache
//!   warm after the first pass): the cost of pcap parsing and the copy out of the kernel.
//!
//! Both report elements = packets, so criterion prints packets/s ("elem/s"). Input: the file
//! named by `PHONEHOME_BENCH_PCAP`, else a synthetic phone mix of ~50k packets
//! (`common/mix.rs`). Design target: ≥ 1 M packets/s on one core for `pipeline/replay`.

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use phonehome::capture::FileSource;
use phonehome::event::Event;
use phonehome::pipeline::{Pipeline, PipelineConfig};

use common::Replay;

/// Events of one replay, by kind: checks the bench really exercises every decoder.
#[derive(Default, Debug)]
struct Tally {
    dns: u64,
    http: u64,
    tls: u64,
    dhcp: u64,
    flow: u64,
    device: u64,
}

impl Tally {
    fn add(&mut self, ev: &Event) {
        match ev {
            Event::Dns(_) => self.dns += 1,
            Event::Http(_) => self.http += 1,
            Event::Tls(_) => self.tls += 1,
            Event::Dhcp(_) => self.dhcp += 1,
            Event::Flow(_) => self.flow += 1,
            Event::Device(_) => self.device += 1,
        }
    }
}

/// Runs the whole capture through a fresh pipeline.
fn replay(r: &Replay) -> Tally {
    let mut pipe = Pipeline::new(PipelineConfig::default());
    let mut tally = Tally::default();
    let mut sink = |ev: Event| tally.add(black_box(&ev));
    for (ts, link, data) in r.frames() {
        pipe.ingest(ts, link, black_box(data), &mut sink);
    }
    pipe.finish(&mut sink);
    tally
}

fn benches(c: &mut Criterion) {
    let r = Replay::load();
    let t = replay(&r);
    eprintln!(
        "bench input: {}: {} packets, {} bytes of frames; one replay emits {t:?}",
        r.origin,
        r.len(),
        r.bytes()
    );
    // Large captures take long per iteration: fewer samples keep a run under a minute.
    let (samples, time) = if r.len() > 100_000 {
        (10, Duration::from_secs(20))
    } else {
        (20, Duration::from_secs(10))
    };

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(r.len() as u64))
        .sample_size(samples)
        .measurement_time(time);
    g.bench_function("replay", |b| b.iter(|| replay(&r)));
    g.finish();

    let mut g = c.benchmark_group("capture");
    g.throughput(Throughput::Elements(r.len() as u64))
        .sample_size(samples)
        .measurement_time(time);
    g.bench_function("file_source", |b| {
        b.iter_batched(
            || FileSource::open(&r.path).unwrap_or_else(|e| panic!("{e}")),
            |mut src| {
                let mut bytes = 0usize;
                while let Some(Ok(f)) = src.next_frame() {
                    bytes += black_box(f.data).len();
                }
                (src.packets(), bytes)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
