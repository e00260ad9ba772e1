//! Indicator loading and matching on the real public sets under ../shared/ioc (MVT / Amnesty
//! STIX 2.1, Echap stalkerware indicators, hosts lists), cross-checked against counts computed
//! here independently with serde_json and serde_norway; malformed files; garbage never panics.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use phonehome::intel::ioc::{IndicatorKind, IocSet};
use proptest::prelude::*;

const IOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/ioc");

/// Counts the heap bytes each thread holds and its peak, to measure what a load costs
/// (thread-local, so the other tests running in parallel do not disturb the figure).
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static NOW: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn add(n: isize) {
        let _ = NOW.try_with(|c| {
            let v = c.get() + n;
            c.set(v);
            let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
        });
    }

    // SAFETY: every call is forwarded unchanged to the system allocator; only counters change.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            add(l.size() as isize);
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            add(-(l.size() as isize));
            unsafe { System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            add(new as isize - l.size() as isize);
            unsafe { System.realloc(p, l, new) }
        }
    }

    /// (bytes held now, peak) on this thread; `reset` starts a new measurement.
    pub fn now_and_peak() -> (isize, isize) {
        (NOW.with(Cell::get), PEAK.with(Cell::get))
    }
    pub fn reset_peak() {
        PEAK.with(|p| p.set(NOW.with(Cell::get)));
    }
}

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(IOC).join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// What the test expects per kind, built independently of the loader.
#[derive(Default)]
struct Expect {
    /// Names listed as C2 / distribution / STIX domain-name by a structured source.
    strong_structured: BTreeSet<String>,
    /// Names from flattened sources (hosts, network.csv, TinyCheck, quad9).
    flat: BTreeSet<String>,
    websites: BTreeSet<String>,
    ips: BTreeSet<IpAddr>,
    urls: BTreeSet<String>,
    emails: BTreeSet<String>,
    skipped_patterns: usize,
}

impl Expect {
    /// A value declared as a host name: IP literals are addresses, `host/path` is a URL.
    fn host(&mut self, v: &str, strong: bool, website: bool) {
        if let Ok(ip) = v.parse::<IpAddr>() {
            self.ips.insert(ip);
            return;
        }
        if v.contains('/') {
            // URL key: no scheme, host lowercase, path case kept.
            let v = v.strip_prefix("https://").unwrap_or(v);
            let (host, path) = v.split_once('/').unwrap();
            self.urls
                .insert(format!("{}/{path}", host.to_ascii_lowercase()));
            return;
        }
        let v = v.to_ascii_lowercase();
        if !v.contains('.') {
            // Single-label names (predator.stix2 has `despachosnegocios`) are not loaded: they
            // would cover a whole top-level domain.
            return;
        }
        if website {
            self.websites.insert(v);
        } else if strong {
            self.strong_structured.insert(v);
        } else {
            self.flat.insert(v);
        }
    }

    fn domains(&self) -> BTreeSet<String> {
        let websites = self.website_kind();
        let all: BTreeSet<&String> = self.strong_structured.union(&self.flat).collect();
        all.into_iter()
            .chain(&self.websites)
            .filter(|d| !websites.contains(*d))
            .cloned()
            .collect()
    }

    /// A website keeps its kind unless a structured source also lists it as C2/distribution.
    fn website_kind(&self) -> BTreeSet<String> {
        self.websites
            .difference(&self.strong_structured)
            .cloned()
            .collect()
    }

    fn stix(&mut self, path: &Path) {
        let doc: serde_json::Value = serde_json::from_str(&read(path)).unwrap();
        for o in doc["objects"].as_array().unwrap() {
            if o["type"] != "indicator" {
                continue;
            }
            // Every pattern in these files is one comparison `[path='value']`.
            let p = o["pattern"].as_str().unwrap();
            let inner = p.strip_prefix('[').unwrap().strip_suffix(']').unwrap();
            let (path, value) = inner.split_once('=').unwrap();
            let value = value.trim_matches('\'');
            match path {
                "domain-name:value" => self.host(value, true, false),
                "ipv4-addr:value" | "ipv6-addr:value" => {
                    self.ips.insert(value.parse().unwrap());
                }
                "email-addr:value" => {
                    self.emails.insert(value.to_lowercase());
                }
                _ => self.skipped_patterns += 1,
            }
        }
    }

    fn echap_yaml(&mut self, path: &Path) {
        let apps: serde_norway::Value = serde_norway::from_str(&read(path)).unwrap();
        for app in apps.as_sequence().unwrap() {
            let list = |v: &serde_norway::Value| -> Vec<String> {
                v.as_sequence()
                    .map(|s| s.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default()
            };
            let c2 = &app["c2"];
            for v in list(&c2["domains"])
                .iter()
                .chain(&list(&c2["ips"]))
                .chain(&list(&c2["ip"]))
            {
                self.host(v, true, false);
            }
            for v in list(&app["distribution"]) {
                self.host(&v, true, false);
            }
            for v in list(&app["websites"]) {
                self.host(&v, true, true);
            }
        }
    }

    fn flat_lines(&mut self, path: &Path) {
        for l in read(path).lines().filter(|l| !l.trim().is_empty()) {
            self.host(l.trim(), false, false);
        }
    }
}

fn load_real() -> Option<(IocSet, Expect)> {
    let mvt = shared("mvt")?;
    let echap = shared("stalkerware-indicators")?;
    heap::reset_peak();
    let (before, _) = heap::now_and_peak();
    let started = Instant::now();
    let (set, errors) = IocSet::load(&[mvt.clone(), echap.clone()]);
    let elapsed = started.elapsed();
    let (after, peak) = heap::now_and_peak();
    eprintln!(
        "loaded {} indicators in {elapsed:?} (debug build); heap held {} KiB (estimate {} KiB), \
         peak during load {} KiB",
        set.len(),
        (after - before) / 1024,
        set.heap_bytes() / 1024,
        (peak - before) / 1024
    );
    // The estimate is within a factor of two of the measured figure.
    let held = usize::try_from(after - before).unwrap();
    assert!(
        set.heap_bytes() * 2 > held && set.heap_bytes() < held * 2,
        "{held}"
    );
    assert!(errors.is_empty(), "{errors:?}");

    let mut e = Expect::default();
    for f in std::fs::read_dir(&mvt).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|x| x == "stix2") {
            e.stix(&p);
        }
    }
    e.echap_yaml(&echap.join("ioc.yaml"));
    e.echap_yaml(&echap.join("watchware.yaml"));
    for f in ["hosts", "hosts_full", "quad9_blocklist.txt"] {
        e.flat_lines(&echap.join(f));
    }
    for row in read(&echap.join("network.csv")).lines().skip(1) {
        let [ty, v, _app]: [&str; 3] = row.split(',').collect::<Vec<_>>().try_into().unwrap();
        match ty {
            "domain" => e.host(v, false, false),
            "ipv4" => {
                e.ips.insert(v.parse().unwrap());
            }
            other => panic!("unexpected network.csv type {other}"),
        }
    }
    let tiny: serde_json::Value =
        serde_json::from_str(&read(&echap.join("indicators-for-tinycheck.json"))).unwrap();
    for i in tiny["iocs"].as_array().unwrap() {
        let v = i["value"].as_str().unwrap();
        match i["type"].as_str().unwrap() {
            "domain" => e.host(v, false, false),
            "ip4addr" => {
                e.ips.insert(v.parse().unwrap());
            }
            other => panic!("unexpected TinyCheck type {other}"),
        }
    }
    Some((set, e))
}

#[test]
fn real_sets_load_with_exact_counts_per_kind() {
    let Some((set, e)) = load_real() else { return };
    assert_eq!(set.count(IndicatorKind::Domain), e.domains().len());
    assert_eq!(set.count(IndicatorKind::Website), e.website_kind().len());
    assert_eq!(set.count(IndicatorKind::Ip), e.ips.len());
    assert_eq!(set.count(IndicatorKind::Url), e.urls.len());
    assert_eq!(set.count(IndicatorKind::Email), e.emails.len());
    assert_eq!(set.count(IndicatorKind::Ja4), 0);
    assert_eq!(set.stats().skipped_patterns, e.skipped_patterns);
    // coruna's `fgr1w2gnsdvsb.xyz/x` and Echap's two GitHub repository URLs (AndroRAT,
    // android_hack); 65 e-mail patterns (../shared/ioc/README.md).
    assert_eq!(e.urls.len(), 3);
    assert_eq!(e.emails.len(), 65);
    assert!(
        e.website_kind().len() > 300,
        "websites kept apart: {}",
        e.website_kind().len()
    );
    let skipped: Vec<&str> = set
        .stats()
        .files_skipped
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(skipped, ["indicators.yaml", "samples.csv"]);
    // 14 STIX files + 7 Echap files.
    assert_eq!(set.stats().files_loaded, 21);
    eprintln!("counts: {:?}; stats: {:?}", set.counts(), set.stats());
}

#[test]
fn builtin_set_equals_the_real_files_it_is_generated_from() {
    let Some((real, _)) = load_real() else { return };
    let (builtin, errors) = IocSet::builtin();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(builtin.counts(), real.counts());
    let hit = builtin.match_domain("x.weather4free.com").unwrap();
    assert_eq!(
        (hit.family, hit.source),
        (Some("Pegasus"), phonehome::intel::ioc::BUILTIN_SOURCE)
    );
    assert_eq!(
        builtin.match_domain("1ca43.appspot.com").unwrap().family,
        Some("TheTruthSpy")
    );
    assert_eq!(
        builtin.match_domain("copy9.com").unwrap().kind,
        IndicatorKind::Domain
    );
    assert_eq!(
        builtin
            .match_ip("176.223.111.131".parse().unwrap())
            .unwrap()
            .family,
        Some("NoviSpy")
    );
    assert_eq!(
        builtin
            .match_email("bajablaster101@gmail.com")
            .unwrap()
            .kind,
        IndicatorKind::Email
    );
}

#[test]
fn pegasus_domain_and_subdomains_match_with_family() {
    let Some((set, _)) = load_real() else { return };
    // The first pattern of pegasus.stix2.
    let hit = set.match_domain("weather4free.com").unwrap();
    assert_eq!(hit.indicator, "weather4free.com");
    assert_eq!(hit.kind, IndicatorKind::Domain);
    assert_eq!(hit.family, Some("Pegasus"));
    assert!(hit.source.ends_with("mvt/pegasus.stix2"), "{}", hit.source);
    let sub = set.match_domain("CDN.Api.Weather4Free.com.").unwrap();
    assert_eq!(
        (sub.indicator, sub.family),
        ("weather4free.com", Some("Pegasus"))
    );
    assert!(set.match_domain("notweather4free.com").is_none());
}

#[test]
fn echap_c2_domain_matches_with_app_name() {
    let Some((set, _)) = load_real() else { return };
    // First c2 domain of TheTruthSpy in ioc.yaml; also in hosts/network.csv/TinyCheck, whose
    // records must not hide the app name.
    let hit = set.match_domain("1ca43.appspot.com").unwrap();
    assert_eq!(hit.kind, IndicatorKind::Domain);
    assert_eq!(hit.family, Some("TheTruthSpy"));
    assert!(
        hit.source.ends_with("stalkerware-indicators/ioc.yaml"),
        "{}",
        hit.source
    );
    // A watchware C2 domain, listed only by watchware.yaml and hosts_full.
    let yaml: serde_norway::Value = serde_norway::from_str(&read(
        &Path::new(IOC).join("stalkerware-indicators/watchware.yaml"),
    ))
    .unwrap();
    let app = yaml
        .as_sequence()
        .unwrap()
        .iter()
        .find(|a| a["c2"]["domains"].is_sequence())
        .unwrap();
    let dom = app["c2"]["domains"][0].as_str().unwrap();
    let hit = set.match_domain(dom).unwrap();
    assert_eq!(hit.family, app["name"].as_str());
}

#[test]
fn vendor_websites_are_a_separate_weaker_kind() {
    let Some((set, e)) = load_real() else { return };
    let site = e.website_kind().into_iter().next().unwrap();
    let hit = set.match_domain(&format!("www.{site}")).unwrap();
    assert_eq!(hit.kind, IndicatorKind::Website);
    assert!(hit.family.is_some());
    // copy9.com is both a TheTruthSpy website and (network.csv) a C2 row: the structured
    // source's role wins.
    assert_eq!(
        set.match_domain("copy9.com").unwrap().family,
        Some("TheTruthSpy")
    );
}

#[test]
fn stix_addresses_match_as_ip_including_ips_typed_as_domains() {
    let Some((set, _)) = load_real() else { return };
    let hit = set.match_ip("83.220.169.120".parse().unwrap()).unwrap();
    assert_eq!(
        (hit.indicator, hit.kind, hit.family),
        ("83.220.169.120", IndicatorKind::Ip, Some("ResidentBat"))
    );
    // novispy.stix2: `[domain-name:value='176.223.111.131']`.
    let hit = set.match_ip("176.223.111.131".parse().unwrap()).unwrap();
    assert_eq!((hit.kind, hit.family), (IndicatorKind::Ip, Some("NoviSpy")));
    assert!(hit.source.ends_with("novispy.stix2"));
    assert!(set.match_domain("176.223.111.131").is_none());
    // IPv4-mapped IPv6 is the same address.
    assert!(set
        .match_ip("::ffff:176.223.111.131".parse().unwrap())
        .is_some());
    assert!(set.match_ip("176.223.111.130".parse().unwrap()).is_none());
    // network.csv `domain,178.63.71.15,HelloSpy`.
    assert_eq!(
        set.match_ip("178.63.71.15".parse().unwrap())
            .unwrap()
            .family,
        Some("HelloSpy")
    );
}

#[test]
fn coruna_domain_with_path_is_a_url_indicator() {
    let Some((set, _)) = load_real() else { return };
    let hit = set
        .match_url("http://fgr1w2gnsdvsb.xyz/x/stage2.js?a=1")
        .unwrap();
    assert_eq!(
        (hit.indicator, hit.kind, hit.family),
        ("fgr1w2gnsdvsb.xyz/x", IndicatorKind::Url, Some("Coruna"))
    );
    assert!(set.match_url("https://fgr1w2gnsdvsb.xyz/xy").is_none());
    assert!(set.match_domain("fgr1w2gnsdvsb.xyz").is_none());
}

#[test]
fn stix_email_matches() {
    let Some((set, _)) = load_real() else { return };
    let hit = set.match_email("<BajaBlaster101@gmail.com>").unwrap();
    assert_eq!(
        (hit.kind, hit.family),
        (IndicatorKind::Email, Some("OperationTriangulation"))
    );
    assert!(set.match_email("someone@gmail.com").is_none());
}

#[test]
fn unrelated_names_and_parents_of_indicators_do_not_match() {
    let Some((set, _)) = load_real() else { return };
    for name in [
        "google.com",
        "www.google.com",
        "appspot.com",
        "firebaseio.com",
        "com",
        "",
        ".",
        "x1ca43.appspot.com",
        "s3.amazonaws.com",
        "connectivitycheck.gstatic.com",
    ] {
        assert!(
            set.match_domain(name).is_none(),
            "{name} matched {:?}",
            set.match_domain(name)
        );
    }
    for ip in ["8.8.8.8", "1.1.1.1", "127.0.0.1", "::1"] {
        assert!(set.match_ip(ip.parse().unwrap()).is_none(), "{ip}");
    }
}

#[test]
fn hosts_dialects_load_exact_names() {
    let Some(adaway) = shared("trackers/adaway-hosts.txt") else {
        return;
    };
    let (set, errors) = IocSet::load(std::slice::from_ref(&adaway));
    assert!(errors.is_empty(), "{errors:?}");
    let expected: BTreeSet<String> = read(&adaway)
        .lines()
        .filter(|l| l.starts_with("127.0.0.1 "))
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|h| *h != "localhost")
        .map(str::to_ascii_lowercase)
        .collect();
    assert_eq!(set.count(IndicatorKind::Domain), expected.len());
    assert_eq!(set.len(), expected.len());
    assert!(set.match_domain("analytics.163.com").is_some());
    assert!(set.match_domain("localhost").is_none());

    let Some(sb) = shared("noncommercial/stevenblack-hosts") else {
        return;
    };
    let started = Instant::now();
    let (set, errors) = IocSet::load(&[sb]);
    assert!(errors.is_empty(), "{errors:?}");
    // The file's header: "Number of unique domains: 85,643".
    assert_eq!(set.count(IndicatorKind::Domain), 85_643);
    assert_eq!(set.len(), 85_643);
    eprintln!(
        "StevenBlack: {:?}, heap ≈ {} KiB",
        started.elapsed(),
        set.heap_bytes() / 1024
    );
}

#[test]
fn malformed_files_give_path_line_errors_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    w("a_good.txt", "# my list\nevil.example\n10.9.8.7\n");
    let bad_json = w(
        "b_bad.json",
        "{\"type\": \"bundle\",\n \"objects\": [\n  {\"type\": \"indicator\" \"id\": 1}\n]}\n",
    );
    let bad_yaml = w(
        "c_bad.yaml",
        "- name: Spy\n  c2:\n    domains:\n    - ok.example\n   - bad: [\n",
    );
    let bad_pattern = w(
        "d_bad.stix2",
        "{\"type\": \"bundle\", \"objects\": [\n{\"type\": \"malware\", \"id\": \"malware--1\", \"name\": \"X\"},\n{\"type\": \"indicator\", \"id\": \"indicator--1\", \"pattern_type\": \"stix\",\n \"pattern\": \"[domain-name:value='fine.example']\"},\n{\"type\": \"indicator\", \"id\": \"indicator--2\", \"pattern_type\": \"stix\",\n \"pattern\": \"[domain-name:value='broken.example]\"}\n]}\n",
    );
    let bad_list = w("e_bad.txt", "ok.example\nnot a domain\n");
    let bad_value = w(
        "f_bad.yaml",
        "- name: Spy\n  c2:\n    domains:\n    - ok.example\n    - bad domain.example\n",
    );
    let good_stix = w(
        "g_good.stix2",
        "{\"type\": \"bundle\", \"objects\": [{\"type\": \"malware\", \"id\": \"malware--1\", \"name\": \"Fam\"}, {\"type\": \"indicator\", \"id\": \"indicator--1\", \"pattern\": \"[ipv4-addr:value='192.0.2.0/24'] OR [domain-name:value='c2.example']\", \"pattern_type\": \"stix\"}, {\"type\": \"indicator\", \"id\": \"indicator--2\", \"pattern\": \"[process:name='x']\"}]}",
    );
    let (set, errors) = IocSet::load(&[dir.path().to_path_buf()]);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let expect_at = |p: &Path, line: usize| format!("{}:{line}: ", p.display());
    assert_eq!(errors.len(), 5, "{shown:#?}");
    assert!(
        shown[0].starts_with(&expect_at(&bad_json, 3)),
        "{}",
        shown[0]
    );
    assert!(
        shown[1].starts_with(&expect_at(&bad_yaml, 5)),
        "{}",
        shown[1]
    );
    assert!(
        shown[2].starts_with(&expect_at(&bad_pattern, 6)),
        "{}",
        shown[2]
    );
    assert!(shown[2].contains("unterminated string"), "{}", shown[2]);
    assert!(
        shown[3].starts_with(&expect_at(&bad_list, 2)),
        "{}",
        shown[3]
    );
    assert!(
        shown[4].starts_with(&expect_at(&bad_value, 5)),
        "{}",
        shown[4]
    );
    // The good files loaded; nothing of the malformed ones did (a file is all or nothing).
    assert_eq!(set.len(), 4);
    assert!(set.match_domain("evil.example").is_some());
    assert!(set.match_domain("fine.example").is_none());
    assert!(set.match_domain("ok.example").is_none());
    let hit = set.match_ip("192.0.2.77".parse().unwrap()).unwrap();
    assert_eq!((hit.indicator, hit.family), ("192.0.2.0/24", Some("Fam")));
    assert_eq!(hit.source, good_stix.display().to_string());
    assert_eq!(
        set.match_domain("x.c2.example").unwrap().family,
        Some("Fam")
    );
    assert_eq!(set.stats().skipped_patterns, 1);
}

#[test]
fn missing_path_is_an_error_naming_it() {
    let (set, errors) = IocSet::load(&[PathBuf::from("/nonexistent/iocs.txt")]);
    assert!(set.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .to_string()
            .starts_with("/nonexistent/iocs.txt: cannot read"),
        "{}",
        errors[0]
    );
}

fn real_sample() -> Vec<u8> {
    shared("mvt/novispy.stix2")
        .map(|p| std::fs::read(p).unwrap())
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn garbage_files_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        name in prop::sample::select(vec!["x.json", "x.yaml", "x.csv", "x.stix2", "hosts", "x.txt"]),
        prefix in prop::sample::select(vec![
            "", "{\"type\":\"bundle\",\"objects\":[", "{\"iocs\":[", "- name: a\n  c2:\n    domains:\n    - ",
            "type,indicator,app\n", "0.0.0.0 ", "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"pattern\":\"[",
        ]),
    ) {
        let mut data = prefix.as_bytes().to_vec();
        data.extend_from_slice(&bytes);
        let (set, errors) = IocSet::from_bytes(Path::new(name), &data);
        for e in &errors {
            prop_assert!(e.to_string().starts_with(name));
        }
        let _ = set.match_domain(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_real_stix_never_panics(cut in 0usize..20_000, flip in any::<u8>(), at in 0usize..20_000) {
        let mut data = real_sample();
        if data.is_empty() { return Ok(()); }
        let at = at % data.len();
        data[at] ^= flip;
        data.truncate(cut.min(data.len()));
        let _ = IocSet::from_bytes(Path::new("novispy.stix2"), &data);
    }

    #[test]
    fn lookups_of_hostile_input_never_panic(s in "\\PC{0,300}") {
        let (set, _) = IocSet::from_bytes(Path::new("l"), b"evil.example\n1.2.3.4\nevil.example/x\na@evil.example\n");
        let _ = set.match_domain(&s);
        let _ = set.match_url(&s);
        let _ = set.match_email(&s);
        let _ = set.match_ja4(&s);
    }
}
