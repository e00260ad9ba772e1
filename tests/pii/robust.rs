//! The scanner against the real corpus and hostile input: every HTTP request, body and DNS
//! name of `../shared/corpus` gives no finding; findings per call, gzip bombs and garbage stay
//! within their bounds. Shares the helpers of `tests/pii.rs`.

use std::path::Path;

use phonehome::capture::file::FileSource;
use phonehome::detect::pii::{Encoding, Identifier, Place, MAX_FINDINGS_PER_CALL};
use phonehome::event::{Event, HttpRecord};
use phonehome::pipeline::{Pipeline, PipelineConfig};
use proptest::prelude::*;

use super::{body, gzip, known_imei, row, rows, scanner};

#[test]
fn findings_per_call_are_bounded() {
    let s = scanner();
    let mut b = String::new();
    for i in 0..500u64 {
        b.push_str(&format!("+86138{i:08} "));
    }
    let out = body(&s, b.as_bytes(), None, None);
    assert_eq!(out.len(), MAX_FINDINGS_PER_CALL);
}

#[test]
fn gzip_bomb_stays_within_the_bound() {
    use phonehome::detect::pii::{MAX_INFLATED, MAX_INFLATE_INPUT};
    let s = scanner();
    // 32 MiB of spaces with an IMEI in front and one after the bound.
    let mut raw = b"imei=490154203237518 ".to_vec();
    raw.resize(32 << 20, b' ');
    raw.extend_from_slice(b" imsi=460030123456789");
    let gz = gzip(&raw);
    assert!(gz.len() <= MAX_INFLATE_INPUT, "{}", gz.len());
    let t = std::time::Instant::now();
    let out = body(&s, &gz, None, Some("gzip"));
    assert_eq!(
        rows(&out),
        vec![row(
            Identifier::Imei,
            "…7518",
            Some("imei"),
            Encoding::Plain
        )]
    );
    assert!(MAX_INFLATED < raw.len());
    assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
}

fn corpus_records(path: &Path) -> (Vec<HttpRecord>, Vec<String>) {
    let (mut http, mut dns) = (Vec::new(), Vec::new());
    let mut pipe = Pipeline::new(PipelineConfig::default());
    let mut sink = |ev: Event| match ev {
        Event::Http(r) => http.push(r),
        Event::Dns(r) => dns.push(r.qname),
        _ => {}
    };
    if let Ok(mut src) = FileSource::open(path) {
        while let Some(Ok(f)) = src.next_frame() {
            pipe.ingest(f.ts, f.link, f.data, &mut sink);
        }
    }
    pipe.finish(&mut sink);
    (http, dns)
}

/// A request head rebuilt from the record's fields (the record does not keep the raw head).
fn head_of(r: &HttpRecord) -> String {
    let mut h = format!("{} {} HTTP/{}\r\n", r.method, r.uri, r.version);
    for (name, v) in [
        ("Host", &r.host),
        ("User-Agent", &r.user_agent),
        ("Referer", &r.referrer),
        ("Content-Type", &r.content_type),
        ("Content-Encoding", &r.content_encoding),
    ] {
        if let Some(v) = v {
            h.push_str(&format!("{name}: {v}\r\n"));
        }
    }
    h + "\r\n"
}

/// Every HTTP request (URI, headers, body) and DNS name of every real capture: no finding.
///
/// `phone-xiaomi-android10-app` is the one capture that sends device parameters: its
/// `sign_d` request carries `sdk`, `t` (a 10-digit Unix time), `s` (a 32-hex signature), `sid`
/// (a 12-character session token) and `bssid=02%3A00%3A00%3A00%3A00%3A00`. The BSSID is
/// Android's placeholder (an app without location permission reads `02:00:00:00:00:00`), not a
/// device's MAC, and none of the other values is an identifier by the validators: no finding is
/// correct. The test checks that this request was seen, so the exemption is not vacuous.
#[test]
fn real_corpus_gives_no_finding() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/pcaps"
    ));
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("skipped: {} not found", dir.display());
        return;
    };
    let s = known_imei();
    let (mut requests, mut bodies, mut names, mut xiaomi_bssid) = (0, 0, 0, false);
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in &paths {
        let (http, dns) = corpus_records(path);
        let case = path.file_name().unwrap().to_string_lossy().to_string();
        for r in &http {
            let mut out = Vec::new();
            s.scan_http_request(&r.uri, head_of(r).as_bytes(), &mut out);
            s.scan_http_body(
                &r.body,
                r.content_type.as_deref(),
                r.content_encoding.as_deref(),
                &mut out,
            );
            assert_eq!(out, vec![], "{case}: {} {}", r.method, r.uri);
            requests += 1;
            bodies += usize::from(!r.body.is_empty());
            xiaomi_bssid |=
                case.starts_with("phone-xiaomi") && r.uri.contains("bssid=02%3A00%3A00");
        }
        for n in &dns {
            let mut out = Vec::new();
            s.scan_dns_name(n, &mut out);
            assert_eq!(out, vec![], "{case}: {n}");
            names += 1;
        }
    }
    println!("corpus: {requests} HTTP requests ({bodies} with a body), {names} DNS names");
    assert!(
        requests >= 30 && bodies >= 3 && names >= 50,
        "{requests} {bodies} {names}"
    );
    assert!(xiaomi_bssid, "the Xiaomi sign_d request was not seen");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ce in 0u8..4) {
        let s = known_imei();
        let mut out = Vec::new();
        s.scan(Place::Payload, &bytes, &mut out);
        let ce = [None, Some("gzip"), Some("deflate"), Some("br")][usize::from(ce)];
        s.scan_http_body(&bytes, Some("application/x-www-form-urlencoded"), ce, &mut out);
        let text = String::from_utf8_lossy(&bytes);
        s.scan_http_request(&text, &bytes, &mut out);
        s.scan_dns_name(&text, &mut out);
        prop_assert!(out.len() <= 4 * MAX_FINDINGS_PER_CALL);
    }

    #[test]
    fn identifier_soup_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            proptest::sample::select(vec![
                "imei=", "\":\"", "490154203237518", "%3A", "+86", "@ex.org", "lat=48.858370",
                "lon=-2.294481", "3c:5a:", "-", ".", "89860318123456789013", "sn=", "<imei>",
            ]).prop_map(str::to_string),
            "[0-9a-fA-F]{0,20}",
            "[ -~]{0,8}",
        ], 0..64)) {
        let s = known_imei();
        let b = parts.concat();
        let mut out = Vec::new();
        s.scan(Place::Body, b.as_bytes(), &mut out);
        s.scan_http_body(b.as_bytes(), None, None, &mut out);
        for f in &out {
            prop_assert!(f.masked.starts_with('…') && f.masked.chars().count() <= 5);
        }
    }
}
