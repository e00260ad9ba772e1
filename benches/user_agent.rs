//! User-Agent parsing (`flow::identity::UaParser`, see `benches/README.md`).
//!
//! Before measuring, prints the time to load the uap-core file (parse every pattern and build
//! the literal prefilter) and each sample User-Agent's first parse, which compiles the
//! patterns the prefilter lets through. `identity/ua_parse` then measures a parse once those
//! are compiled (a device's new User-Agent mostly needs patterns an earlier one compiled),
//! `identity/ua_parse_cached` a User-Agent already answered (phones of one model and app send
//! the same string).

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use phonehome::flow::identity::UaParser;

const SAMPLES: [&str; 5] = [
    "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/119.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
     like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Dalvik/2.1.0 (Linux; U; Android 11; Nokia 7 plus Build/RKQ1.200928.002)",
    "okhttp/4.9.2",
    "MobileSafari/8616.1.6.11.2 CFNetwork/1410.0.3 Darwin/22.6.0",
];

fn benches(c: &mut Criterion) {
    let t = Instant::now();
    let p = UaParser::get();
    eprintln!("load: {:?} ({} patterns)", t.elapsed(), p.patterns());
    for ua in SAMPLES {
        let t = Instant::now();
        let info = p.parse(ua);
        eprintln!("first parse: {:?} {:?} ← {ua}", t.elapsed(), info);
    }
    let mut g = c.benchmark_group("identity");
    g.throughput(Throughput::Elements(SAMPLES.len() as u64));
    g.bench_function("ua_parse", |b| {
        b.iter(|| SAMPLES.map(|ua| black_box(p.parse_uncached(black_box(ua)))))
    });
    g.bench_function("ua_parse_cached", |b| {
        b.iter(|| SAMPLES.map(|ua| black_box(p.parse(black_box(ua)))))
    });
    g.finish();
}

criterion_group!(user_agent, benches);
criterion_main!(user_agent);
