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
//!
//! Before measuring, one replay runs under a counting allocator and the bench prints the
//! records it emitted and the heap allocations it made per packet and per record: the common
//! path (a packet of a known flow) must not allocate, so allocations should track records,
//! not packets. The counter is one relaxed atomic add per allocation.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use phonehome::capture::FileSource;
use phonehome::event::Event;
use phonehome::pipeline::{Pipeline, PipelineConfig};

use common::Replay;

/// The system allocator, counting allocations (including reallocations).
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Events of one replay, by kind: checks the bench really exercises every decoder.
#[derive(Default, Debug)]
struct Tally {
    dns: u64,
    http: u64,
    tls: u64,
    dhcp: u64,
    flow: u64,
    device: u64,
    alert: u64,
}

impl Tally {
    fn total(&self) -> u64 {
        self.dns + self.http + self.tls + self.dhcp + self.flow + self.device + self.alert
    }

    fn add(&mut self, ev: &Event) {
        match ev {
            Event::Dns(_) => self.dns += 1,
            Event::Http(_) => self.http += 1,
            Event::Tls(_) => self.tls += 1,
            Event::Dhcp(_) => self.dhcp += 1,
            Event::Flow(_) => self.flow += 1,
            Event::Device(_) => self.device += 1,
            Event::Alert(_) => self.alert += 1,
            Event::Payload(_) | Event::FlowFrames(_) | Event::Evidence(_) => {}
        }
    }
}

/// What the allocation-counting replay saw.
struct AllocReport {
    tally: Tally,
    /// Heap allocations during the whole replay (ingest and finish).
    allocations: u64,
    /// Packets whose ingest allocated at least once.
    allocating_packets: u64,
}

/// [`replay`] with allocations counted per packet (not for timing: the counter reads cost).
fn replay_counting_allocations(r: &Replay) -> AllocReport {
    let start = ALLOCATIONS.load(Ordering::Relaxed);
    let mut pipe = Pipeline::new(PipelineConfig::default());
    let mut tally = Tally::default();
    let mut sink = |ev: Event| tally.add(black_box(&ev));
    let mut allocating_packets = 0;
    for (ts, link, data) in r.frames() {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        pipe.ingest(ts, link, black_box(data), &mut sink);
        if ALLOCATIONS.load(Ordering::Relaxed) != before {
            allocating_packets += 1;
        }
    }
    pipe.finish(&mut sink);
    AllocReport {
        tally,
        allocations: ALLOCATIONS.load(Ordering::Relaxed) - start,
        allocating_packets,
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
    let a = replay_counting_allocations(&r);
    let (n, records) = (r.len() as u64, a.tally.total());
    let per = |x: u64, d: u64| x as f64 / d.max(1) as f64;
    eprintln!(
        "bench input: {}: {n} packets, {} bytes of frames\n\
         one replay: {records} records {:?}\n\
         heap: {} allocations ({:.3} per packet, {:.1} per record); \
         {} packets ({:.2}%) allocated at all",
        r.origin,
        r.bytes(),
        a.tally,
        a.allocations,
        per(a.allocations, n),
        per(a.allocations, records),
        a.allocating_packets,
        100.0 * per(a.allocating_packets, n),
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
