//! `intel::geo` against the real ip-location-db files in ../shared/geo (skipped, with a printed
//! reason, when they are absent), plus malformed-input cases on files written here.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use phonehome::intel::geo::{GeoDb, GeoError, GeoInfo};

/// Counts this thread's allocations (tests run in parallel threads).
struct Counting;

thread_local! {
    static ALLOCS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; the counter is a const-initialised
// thread local, which never allocates.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        unsafe { std::alloc::System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const GEO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/geo");

fn shared(name: &str) -> Option<PathBuf> {
    let p = Path::new(GEO_DIR).join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

/// The real databases, loaded once for every test of this file.
fn real() -> Option<&'static GeoDb> {
    static DB: OnceLock<Option<GeoDb>> = OnceLock::new();
    DB.get_or_init(|| {
        let mmdb = shared("geo-whois-asn-country.mmdb")?;
        let csvs = vec![shared("asn-ipv4.csv")?, shared("asn-ipv6.csv")?];
        let t = Instant::now();
        let db = GeoDb::open(Some(&mmdb), &csvs).expect("real geo files load");
        let (v4, v6, ases) = db.asn_counts();
        eprintln!(
            "geo load: {:?} (debug build), heap {} bytes, {v4} IPv4 + {v6} IPv6 ranges, {ases} AS/org pairs",
            t.elapsed(),
            db.heap_bytes()
        );
        Some(db)
    })
    .as_ref()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn info(country: &str, asn: u32, org: &'static str) -> GeoInfo<'static> {
    let c = country.as_bytes();
    GeoInfo {
        country: Some([c[0], c[1]]),
        asn: Some(asn),
        as_org: Some(org),
    }
}

#[test]
fn google_dns_is_us_as15169() {
    let Some(db) = real() else { return };
    assert_eq!(db.lookup(ip("8.8.8.8")), info("US", 15169, "Google LLC"));
    assert_eq!(db.lookup(ip("8.8.8.8")).country_str(), Some("US"));
    // The IPv4-mapped form is the same address.
    assert_eq!(
        db.lookup(ip("::ffff:8.8.8.8")),
        info("US", 15169, "Google LLC")
    );
}

#[test]
fn lookups_allocate_nothing() {
    let Some(db) = real() else { return };
    let before = ALLOCS.with(std::cell::Cell::get);
    for s in [
        "8.8.8.8",
        "1.48.0.1",
        "2001:4860:4860::8888",
        "192.168.1.1",
        "2.26.200.1",
    ] {
        std::hint::black_box(db.lookup(ip(s)));
    }
    assert_eq!(ALLOCS.with(std::cell::Cell::get), before);
}

#[test]
fn china_telecom_is_cn_as4134() {
    let Some(db) = real() else { return };
    // asn-ipv4.csv: `1.48.0.0,1.48.63.255,4134,Chinanet`; also the merged neighbour range.
    assert_eq!(db.lookup(ip("1.48.0.1")), info("CN", 4134, "Chinanet"));
    assert_eq!(db.lookup(ip("1.48.63.255")), info("CN", 4134, "Chinanet"));
}

#[test]
fn cloudflare_dns_both_families() {
    let Some(db) = real() else { return };
    assert_eq!(
        db.lookup(ip("1.1.1.1")),
        info("AU", 13335, "Cloudflare, Inc.")
    );
    assert_eq!(
        db.lookup(ip("2606:4700:4700::1111")),
        info("US", 13335, "Cloudflare, Inc.")
    );
}

#[test]
fn ipv6_google_dns() {
    let Some(db) = real() else { return };
    assert_eq!(
        db.lookup(ip("2001:4860:4860::8888")),
        info("US", 15169, "Google LLC")
    );
}

#[test]
fn quoted_org_with_escaped_quotes_is_unescaped() {
    let Some(db) = real() else { return };
    // asn-ipv4.csv: `2.26.200.0,2.26.215.255,201907,"LLC ""SPUTNIK"""`
    let got = db.lookup(ip("2.26.200.1"));
    assert_eq!(
        (got.asn, got.as_org),
        (Some(201907), Some("LLC \"SPUTNIK\""))
    );
}

#[test]
fn private_and_reserved_addresses_give_nothing() {
    let Some(db) = real() else { return };
    for s in [
        "192.168.1.1",
        "10.0.0.1",
        "127.0.0.1",
        "100.64.1.1",
        "169.254.10.10",
        "192.0.2.1",
        "224.0.0.251",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fd12:3456::1",
        "2001:db8::1",
        "ff02::fb",
    ] {
        assert_eq!(db.lookup(ip(s)), GeoInfo::default(), "{s}");
        assert!(db.lookup(ip(s)).is_empty(), "{s}");
    }
}

#[test]
fn real_tables_are_compact() {
    let Some(db) = real() else { return };
    let (v4, v6, ases) = db.asn_counts();
    // The published rows are already merged per AS, and the one overlap is a partial one, so
    // every row stays one range.
    assert_eq!((v4, v6), (411_961, 103_197));
    assert_eq!(ases, 91_065);
    // Well inside the 64 MB process budget, MMDB buffer included.
    assert!(db.heap_bytes() < 24 * 1024 * 1024, "{}", db.heap_bytes());

    // Lookup cost, spread over the address space (debug build: release is several times faster).
    let n = 200_000u32;
    let t = Instant::now();
    let mut found = 0u32;
    for i in 0..n {
        let a = IpAddr::from(std::net::Ipv4Addr::from(i.wrapping_mul(2_654_435_761)));
        found += u32::from(db.lookup(a).asn.is_some());
    }
    eprintln!(
        "geo lookup: {} ns each (debug build), {found} of {n} addresses have an AS",
        t.elapsed().as_nanos() / u128::from(n)
    );
    assert!(found > n / 2);
}

fn write_csv(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
    let p = dir.path().join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(body.as_bytes()).unwrap();
    p
}

fn csv_error(body: &str) -> (String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = write_csv(&dir, "asn.csv", body);
    let err = GeoDb::open(None, std::slice::from_ref(&p)).unwrap_err();
    (err.to_string(), p)
}

#[test]
fn malformed_csv_lines_name_file_and_line() {
    let good = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n";
    for (bad_row, reason) in [
        ("1.0.1.0,1.0.1.255,notanumber,X\n", "AS number"),
        ("1.0.1.0,1.0.1.x,13335,X\n", "not an IP address"),
        ("1.0.1.0,1.0.1.255,13335\n", "expected 4 fields"),
        ("1.0.1.0,::1,13335,X\n", "different families"),
        ("1.0.1.9,1.0.1.0,13335,X\n", "ends before it starts"),
        (
            "1.0.1.0,1.0.1.255,13335,X,Y\n",
            "expected 4 fields, found 5",
        ),
    ] {
        let (msg, p) = csv_error(&format!("{good}{bad_row}"));
        let want = format!("{}:2: ", p.display());
        assert!(msg.starts_with(&want), "{msg:?} should start with {want:?}");
        assert!(msg.contains(reason), "{msg:?} should say {reason:?}");
    }
}

#[test]
fn small_csv_loads_merges_and_looks_up() {
    let dir = tempfile::tempdir().unwrap();
    let v4 = write_csv(
        &dir,
        "v4.csv",
        "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n\
         1.0.1.0,1.0.1.255,13335,\"Cloudflare, Inc.\"\n\
         9.9.9.0,9.9.9.255,19281,Quad9\n",
    );
    let v6 = write_csv(&dir, "v6.csv", "2620:fe::,2620:fe::ffff,19281,Quad9\n");
    let db = GeoDb::open(None, &[v4, v6]).unwrap();
    assert_eq!(db.asn_counts(), (2, 1, 2));
    let q9 = GeoInfo {
        country: None,
        asn: Some(19281),
        as_org: Some("Quad9"),
    };
    assert_eq!(db.lookup(ip("9.9.9.9")), q9);
    assert_eq!(db.lookup(ip("2620:fe::fe")), q9);
    assert_eq!(db.lookup(ip("1.0.1.7")).asn, Some(13335));
    assert_eq!(db.lookup(ip("1.0.2.0")), GeoInfo::default());
    assert_eq!(db.lookup(ip("2620:fe::1:0")), GeoInfo::default());
}

#[test]
fn overlapping_files_later_start_wins() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_csv(&dir, "a.csv", "1.0.0.0,1.0.0.255,1,A\n");
    let b = write_csv(&dir, "b.csv", "1.0.0.128,1.0.0.131,2,B\n");
    let db = GeoDb::open(None, &[a, b]).unwrap();
    assert_eq!(db.lookup(ip("1.0.0.127")).asn, Some(1));
    assert_eq!(db.lookup(ip("1.0.0.130")).asn, Some(2));
    assert_eq!(db.lookup(ip("1.0.0.132")).asn, Some(1));
}

#[test]
fn real_overlap_is_resolved() {
    let Some(db) = real() else { return };
    // 214.95.0.0-215.0.255.255 AS749 overlaps 215.0.0.0-215.1.3.255 AS721 in asn-ipv4.csv.
    assert_eq!(db.lookup(ip("214.255.0.1")).asn, Some(749));
    assert_eq!(db.lookup(ip("215.0.0.1")).asn, Some(721));
}

#[test]
fn missing_or_bogus_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let err = GeoDb::open(None, std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(err, GeoError::Io { .. }));
    assert!(err.to_string().starts_with(&missing.display().to_string()));

    let bogus = write_csv(&dir, "country.mmdb", "not a maxmind database");
    let err = GeoDb::open(Some(&bogus), &[]).unwrap_err();
    assert!(matches!(err, GeoError::Mmdb { .. }), "{err}");
    assert!(err.to_string().starts_with(&bogus.display().to_string()));
}

#[test]
fn empty_database_answers_nothing() {
    let db = GeoDb::empty();
    assert_eq!(db.lookup(ip("8.8.8.8")), GeoInfo::default());
    assert_eq!(db.heap_bytes(), 0);
}
