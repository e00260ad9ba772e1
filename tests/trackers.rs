//! `intel::trackers` with the built-in table (generated from the real Exodus, AdAway and Perflyst
//! data) and with user lists written here. Also measures build time, heap and lookup cost, and
//! checks that a lookup allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use phonehome::intel::trackers::{TrackerError, TrackerHit, Trackers};

/// Counts this thread's allocations, so tests running in parallel do not disturb each other.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; the counters are const-initialised
// thread locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        LIVE.with(|c| c.set(c.get() + l.size() as i64));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.with(|c| c.set(c.get() - l.size() as i64));
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

fn live() -> i64 {
    LIVE.with(Cell::get)
}

fn hit(name: &'static str, source: &'static str) -> Option<TrackerHit<'static>> {
    Some(TrackerHit { name, source })
}

const FACEBOOK: &str = "Facebook Audience, Facebook Ads, Facebook Analytics, Facebook Login, \
                        Facebook Notifications, Facebook Places, Facebook Share";

#[test]
fn real_tracker_hosts_match_with_their_names() {
    let t = Trackers::builtin();
    for (host, want) in [
        // Exodus network signatures.
        ("graph.facebook.com", hit(FACEBOOK, "exodus")),
        (
            "firebaselogging-pa.googleapis.com",
            hit("Google Firebase Analytics", "exodus"),
        ),
        (
            "ssl.google-analytics.com",
            hit("Google Analytics", "exodus"),
        ),
        ("e.crashlytics.com", hit("Google CrashLytics", "exodus")),
        ("events.appsflyer.com", hit("AppsFlyer", "exodus")),
        ("api.mixpanel.com", hit("MixPanel", "exodus")),
        ("databerries.com", hit("Teemo", "exodus")),
        ("x.databerries.com", hit("Teemo", "exodus")),
        ("fidzup.com", hit("FidZup", "exodus")),
        ("mst3.is.autonavi.com", hit("AutoNavi / Amap", "exodus")),
        (
            "alog.umeng.com",
            hit("Umeng Analytics, Umeng Feedback", "exodus"),
        ),
        // Most specific signature wins: AdMob's exact host over DoubleClick's domain.
        ("googleads.g.doubleclick.net", hit("Google AdMob", "exodus")),
        ("ad.doubleclick.net", hit("Google DoubleClick", "exodus")),
        // Hosts lists: exact, parent domain, AdAway group and Perflyst section labels.
        (
            "app-measurement.com",
            hit("Perflyst Android tracking", "perflyst"),
        ),
        ("crashlogs.whatsapp.net", hit("Whatsapp", "perflyst")),
        ("analytics.163.com", hit("163.com", "adaway")),
        ("eu.analytics.163.com", hit("163.com", "adaway")),
        (
            "tr.snapchat.com",
            hit("Snapchat ads and tracking", "perflyst"),
        ),
        // Case and a trailing dot do not matter.
        (
            "App-Measurement.COM.",
            hit("Perflyst Android tracking", "perflyst"),
        ),
    ] {
        assert_eq!(t.match_host(host), want, "{host}");
    }
}

#[test]
fn ordinary_hosts_are_not_trackers() {
    let t = Trackers::builtin();
    for host in [
        "www.wikipedia.org",
        "en.wikipedia.org",
        // OS connectivity checks and time: never trackers.
        "connectivitycheck.gstatic.com",
        "connectivitycheck.android.com",
        "clients3.google.com",
        "www.google.com",
        "captive.apple.com",
        "time.android.com",
        // Exodus' over-broad `\.google\.com` and Microsoft sign-in alternatives are dropped.
        "mail.google.com",
        "login.microsoftonline.com",
        // Anchoring: a signature matches whole labels at the end of the name only.
        "notdataberries.com",
        "databerries.com.evil",
        "notdataberries.com.evil",
        "notfidzup.com",
        "facebook.com.evil.example",
        "example.com",
        "com",
        "",
        ".",
        "bad host.com",
        "163.com",
    ] {
        assert_eq!(t.match_host(host), None, "{host}");
    }
}

fn write(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    p
}

#[test]
fn extra_lists_add_hosts_with_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = write(
        &dir,
        "my-hosts.txt",
        "127.0.0.1 localhost\n::1 localhost\n0.0.0.0 tracker.example.net\n\
         # [evilcorp.example]\n0.0.0.0 a.evilcorp.example b.evilcorp.example\n",
    );
    let plain = write(
        &dir,
        "domains.list",
        "# mine\ngstatic.com\nspy.example.org\n",
    );
    let t = Trackers::load_extra(&[hosts, plain]).unwrap();
    assert_eq!(
        t.match_host("tracker.example.net"),
        hit("my-hosts", "my-hosts.txt")
    );
    assert_eq!(
        t.match_host("x.b.evilcorp.example"),
        hit("evilcorp.example", "my-hosts.txt")
    );
    assert_eq!(
        t.match_host("spy.example.org"),
        hit("domains", "domains.list")
    );
    assert_eq!(
        t.match_host("fonts.gstatic.com"),
        hit("domains", "domains.list")
    );
    // A user list cannot turn a connectivity check into a tracker.
    assert_eq!(t.match_host("connectivitycheck.gstatic.com"), None);
    // The built-in data is still there.
    assert_eq!(t.match_host("graph.facebook.com"), hit(FACEBOOK, "exodus"));
    assert_eq!(t.counts().1, Trackers::builtin().counts().1 + 5);
}

#[test]
fn bad_extra_file_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        &dir,
        "bad.txt",
        "# ok\nfine.example.com\n0.0.0.0 also.fine.com\nthis is not a list\n",
    );
    let err = Trackers::load_extra(std::slice::from_ref(&bad)).unwrap_err();
    assert!(matches!(err, TrackerError::Parse { line: 4, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}:4: expected `ADDRESS HOST…` or one domain",
            bad.display()
        )
    );

    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"a.example.com\nb\xe9.example.com\n").unwrap();
    let err = Trackers::load_extra(std::slice::from_ref(&latin1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:2: not UTF-8", latin1.display())
    );

    let missing = dir.path().join("missing.txt");
    let err = Trackers::load_extra(std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(err, TrackerError::Io { .. }), "{err}");
}

#[test]
fn lookups_allocate_nothing() {
    let t = Trackers::builtin();
    let hosts = [
        "graph.facebook.com",
        "www.wikipedia.org",
        "eu.analytics.163.com",
        "a.very.deep.sub.domain.of.something.example.org",
        "connectivitycheck.gstatic.com",
    ];
    // Warm up: the automaton's per-thread lazy-DFA cache is created and grows its states on
    // first use (bounded by its capacity), not per call.
    for h in hosts {
        let _ = t.match_host(h);
    }
    let before = allocs();
    for _ in 0..3 {
        for h in hosts {
            let _ = std::hint::black_box(t.match_host(h));
        }
    }
    assert_eq!(allocs(), before);
}

#[test]
fn measure_build_heap_and_lookup_cost() {
    let live0 = live();
    let start = Instant::now();
    let t = Trackers::load_extra(&[]).unwrap();
    let build = start.elapsed();
    let held = live() - live0;
    let hosts = [
        "graph.facebook.com",
        "www.wikipedia.org",
        "app-measurement.com",
        "eu.analytics.163.com",
        "connectivitycheck.gstatic.com",
        "cdn.example.org",
        "googleads.g.doubleclick.net",
        "a.b.c.d.e.example.com",
    ];
    let rounds = 5_000u32;
    let start = Instant::now();
    let mut found = 0u32;
    for _ in 0..rounds {
        for h in hosts {
            found += u32::from(std::hint::black_box(t.match_host(h)).is_some());
        }
    }
    let per = start.elapsed().as_nanos() / u128::from(rounds * hosts.len() as u32);
    eprintln!(
        "trackers: build {build:?} (debug build), {held} heap bytes held (estimate {}), \
         {:?} patterns/hosts, {per} ns per lookup (debug build)",
        t.heap_bytes(),
        t.counts()
    );
    assert_eq!(found, rounds * 4);
    // Generous bounds: the point is to notice a regression by an order of magnitude.
    assert!(held < 16 * 1024 * 1024, "{held}");
}
