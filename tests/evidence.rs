//! Evidence captures end to end: a synthetic HTTP POST conversation kept by
//! `flow::evidence::FlowFrames`, written by `store::evidence::write_pcap`, read back by
//! `pcap-file` and by phonehome's own `FileSource` (and by tshark when installed); the caps;
//! retention; path checks; and `phonehome evidence ID -o OUT` against a store-written database.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use assert_cmd::prelude::*;
use predicates::prelude::*;

use phonehome::capture::FileSource;
use phonehome::decode::LinkType;
use phonehome::event::{Alert, MacAddr, Severity, MICROS};
use phonehome::flow::evidence::{
    EvidenceBudget, FlowFrames, KeptFrame, MAX_BYTES_PER_DIR, RECORD_OVERHEAD,
};
use phonehome::flow::table::Dir;
use phonehome::store::evidence::{self as ev, EvidenceError};
use phonehome::synth::http::http_response;
use phonehome::synth::{http_post, Endpoint, TcpConversation};

const PHONE_MAC: MacAddr = MacAddr([0x04, 0xf1, 0x28, 0x01, 0x02, 0x03]);
const GW_MAC: MacAddr = MacAddr([0xdc, 0xa6, 0x32, 0x00, 0x00, 0x01]);
const T0: i64 = 1_700_000_000 * MICROS;
const FLOW_ID: &str = "tcp 192.168.8.23:40001 203.0.113.77:80";

/// A whole HTTP POST connection (handshake, request with `body`, response, FIN teardown).
fn post_conversation(body: &[u8]) -> Vec<(i64, Vec<u8>)> {
    let phone = Endpoint {
        mac: PHONE_MAC,
        ip: "192.168.8.23".parse().unwrap(),
        port: 40001,
        ttl: 64,
    };
    let server = Endpoint {
        mac: GW_MAC,
        ip: "203.0.113.77".parse().unwrap(),
        port: 80,
        ttl: 52,
    };
    let mut c = TcpConversation::new(phone, server, T0).unwrap();
    c.handshake()
        .client_data(&http_post(
            "zzhc.vnet.cn",
            "/",
            "Dalvik/2.1.0",
            "application/x-www-form-urlencoded",
            body,
        ))
        .server_data(&http_response("200 OK", b"ok"))
        .close();
    c.frames().to_vec()
}

/// Direction of a frame: from the phone's MAC is up.
fn dir_of(frame: &[u8]) -> Dir {
    if frame.get(6..12) == Some(&PHONE_MAC.0[..]) {
        Dir::Up
    } else {
        Dir::Down
    }
}

fn keep(frames: &[(i64, Vec<u8>)], budget: &EvidenceBudget) -> FlowFrames {
    let mut f = FlowFrames::new(budget);
    for (ts, data) in frames {
        f.push(*ts, LinkType::Ethernet, data, dir_of(data));
    }
    f
}

/// (ts, orig_len, data) of every record, read by pcap-file.
fn read_pcap_file(path: &Path) -> (pcap_file::DataLink, Vec<(i64, u32, Vec<u8>)>) {
    let bytes = std::fs::read(path).unwrap();
    let mut r = pcap_file::pcap::PcapReader::new(&bytes[..]).expect("pcap header");
    let link = r.header().datalink;
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.expect("record");
        out.push((
            i64::try_from(p.timestamp.as_micros()).unwrap(),
            p.orig_len,
            p.data.to_vec(),
        ));
    }
    (link, out)
}

/// (ts, orig_len, data) of every frame, read by phonehome's own capture reader.
fn read_file_source(path: &Path) -> Vec<(i64, u32, Vec<u8>)> {
    let mut src = FileSource::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = src.next_frame() {
        let f = f.unwrap();
        assert_eq!(f.link, LinkType::Ethernet);
        out.push((f.ts, f.orig_len, f.data.to_vec()));
    }
    out
}

fn expected(kept: &[KeptFrame]) -> Vec<(i64, u32, Vec<u8>)> {
    kept.iter()
        .map(|k| (k.ts, k.orig_len, k.data.clone()))
        .collect()
}

#[test]
fn kept_post_flow_round_trips_through_pcap_file_and_file_source() {
    let conv = post_conversation(b"imei=356938035643809&model=TA-1046");
    let kept = keep(&conv, &EvidenceBudget::default()).take();
    assert_eq!(kept.len(), conv.len(), "a small flow is kept whole");
    let dir = tempfile::tempdir().unwrap();
    let path = ev::write_pcap(dir.path(), T0 + 2 * MICROS, FLOW_ID, &kept).unwrap();

    let name = path.file_name().unwrap().to_str().unwrap();
    assert_eq!(path.parent().unwrap(), dir.path().join("evidence"));
    assert_eq!(name, ev::evidence_name(T0 + 2 * MICROS, FLOW_ID));
    assert!(name.starts_with("20231114T221322Z-"), "{name}");
    assert!(!name.contains("192.168") && !name.contains("203.0"));

    let want: Vec<(i64, u32, Vec<u8>)> = conv
        .iter()
        .map(|(ts, f)| (*ts, f.len() as u32, f.clone()))
        .collect();
    assert_eq!(expected(&kept), want);
    let (link, got) = read_pcap_file(&path);
    assert_eq!(link, pcap_file::DataLink::ETHERNET);
    assert_eq!(got, want);
    assert_eq!(read_file_source(&path), want);
    let body: usize = conv.iter().map(|(_, f)| 16 + f.len()).sum();
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, 24 + body);
    assert!(
        String::from_utf8_lossy(&std::fs::read(&path).unwrap()).contains("imei=356938035643809")
    );
}

/// Every frame of a real capture: (ts, link, orig_len, data).
fn frames_of(path: &Path) -> Vec<(i64, LinkType, u32, Vec<u8>)> {
    let mut src = FileSource::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = src.next_frame() {
        let f = f.unwrap();
        out.push((f.ts, f.link, f.orig_len, f.data.to_vec()));
    }
    out
}

#[test]
fn real_corpus_captures_of_three_link_types_round_trip() {
    let corpus = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/pcaps"
    ));
    for (case, link, packets) in [
        ("http-post-small-body.pcap", LinkType::Ethernet, 14),
        ("http-nflog-linktype.pcap", LinkType::Nflog, 13),
        ("phone-iphone-gtp-tunnel.pcap", LinkType::LinuxSll, 106),
    ] {
        let path = corpus.join(case);
        if !path.exists() {
            println!("skipped: {} not present", path.display());
            continue;
        }
        let original = frames_of(&path);
        assert_eq!(original.len(), packets, "{case}");
        // These captures are small: one keeper holds them whole (split by parity to use both
        // directions' room).
        let mut keeper = FlowFrames::new(&EvidenceBudget::default());
        for (i, (ts, l, _, data)) in original.iter().enumerate() {
            let dir = if i % 2 == 0 { Dir::Up } else { Dir::Down };
            keeper.push(*ts, *l, data, dir);
        }
        let kept = keeper.take();
        let dir = tempfile::tempdir().unwrap();
        let out = ev::write_pcap(dir.path(), T0, case, &kept).unwrap();
        let back = frames_of(&out);
        assert!(back.iter().all(|f| f.1 == link), "{case}");
        // Keepers see the captured bytes only (as the pipeline does), so orig_len is their
        // length; none of these captures was cut by a snap length.
        assert_eq!(back, original, "{case}");
    }
}

#[test]
fn big_upload_keeps_the_first_64k_up_and_the_whole_way_down() {
    let body = vec![b'x'; 200_000];
    let conv = post_conversation(&body);
    let f = keep(&conv, &EvidenceBudget::default());
    assert_eq!(f.kept_bytes(Dir::Up), MAX_BYTES_PER_DIR);
    let kept = f.take();

    let up: Vec<&(i64, Vec<u8>)> = conv.iter().filter(|(_, d)| dir_of(d) == Dir::Up).collect();
    let down: Vec<&(i64, Vec<u8>)> = conv
        .iter()
        .filter(|(_, d)| dir_of(d) == Dir::Down)
        .collect();
    let kept_up: Vec<&KeptFrame> = kept.iter().filter(|k| k.dir == Dir::Up).collect();
    let kept_down: Vec<&KeptFrame> = kept.iter().filter(|k| k.dir == Dir::Down).collect();
    assert_eq!(
        kept_down.len(),
        down.len(),
        "the server side is small: kept whole"
    );
    assert!(kept_up.len() < up.len());
    // A prefix of the upload: every kept frame whole but the last, which is cut.
    let (last, whole) = kept_up.split_last().unwrap();
    for (k, (ts, d)) in whole.iter().zip(&up) {
        assert_eq!((k.ts, &k.data, k.orig_len), (*ts, d, d.len() as u32));
    }
    let (ts, d) = up[whole.len()];
    assert_eq!((last.ts, last.orig_len), (*ts, d.len() as u32));
    assert!(last.data.len() < d.len() && d.starts_with(&last.data));
    let up_bytes: usize = kept_up.iter().map(|k| RECORD_OVERHEAD + k.data.len()).sum();
    assert_eq!(up_bytes, MAX_BYTES_PER_DIR);

    let dir = tempfile::tempdir().unwrap();
    let path = ev::write_pcap(dir.path(), T0, FLOW_ID, &kept).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() as usize <= 24 + 2 * MAX_BYTES_PER_DIR);
    let got = read_file_source(&path);
    assert_eq!(got, expected(&kept));
    assert_eq!(read_pcap_file(&path).1, expected(&kept));
}

#[test]
fn global_budget_stops_a_flood_and_counts_refused_flows() {
    let cap = 64 * 1024;
    let budget = EvidenceBudget::new(cap);
    let big = post_conversation(&vec![b'y'; 200_000]);
    let a = keep(&big, &budget);
    assert!(a.is_stopped(), "the first flow outgrew the budget");
    assert!(budget.used() <= cap && budget.used() == a.charged());
    assert_eq!(budget.flows_cut(), 1);
    assert!(a.dropped() > 0);

    // Small flows fill the rest; once one cannot get its first buffers, new flows keep nothing.
    let small = post_conversation(b"a=1");
    let mut flows = Vec::new();
    let refused = loop {
        let f = keep(&small, &budget);
        if f.is_stopped() {
            break f;
        }
        assert_eq!(f.len(), small.len());
        flows.push(f);
        assert!(flows.len() < 100, "the budget never ran out");
    };
    assert!(!flows.is_empty());
    assert!(refused.is_empty());
    assert_eq!(refused.dropped(), small.len() as u64);
    assert_eq!((budget.flows_refused(), budget.flows_cut()), (1, 1));
    assert!(budget.used() <= cap, "{} > {cap}", budget.used());
    assert_eq!(
        budget.used(),
        a.charged() + flows.iter().map(FlowFrames::charged).sum::<usize>()
    );

    drop(a);
    drop(flows);
    drop(refused);
    assert_eq!(budget.used(), 0, "dropped flows give their bytes back");
    assert_eq!(keep(&small, &budget).len(), small.len());
}

#[test]
fn evidence_file_is_mode_0640_in_a_0750_folder() {
    let dir = tempfile::tempdir().unwrap();
    let kept = keep(&post_conversation(b"a=1"), &EvidenceBudget::default()).take();
    let path = ev::write_pcap(dir.path(), T0, FLOW_ID, &kept).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o640);
    assert_eq!(mode(&dir.path().join("evidence")), 0o750);
    // Rewriting the same alert's file replaces it and leaves no temporary behind.
    let again = ev::write_pcap(dir.path(), T0, FLOW_ID, &kept[..3]).unwrap();
    assert_eq!(again, path);
    assert_eq!(read_file_source(&path).len(), 3);
    assert_eq!(
        std::fs::read_dir(dir.path().join("evidence"))
            .unwrap()
            .count(),
        1
    );
    assert!(matches!(
        ev::write_pcap(dir.path(), T0, FLOW_ID, &[]),
        Err(EvidenceError::NoFrames)
    ));
}

/// Whether `tool` runs here; prints why a test is skipped otherwise.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("skipped: {tool} not installed (apt-get install -y tshark)");
    }
    ok
}

#[test]
fn tshark_and_capinfos_open_the_evidence_file() {
    let dir = tempfile::tempdir().unwrap();
    let conv = post_conversation(&vec![b'z'; 100_000]);
    let kept = keep(&conv, &EvidenceBudget::default()).take();
    let path = ev::write_pcap(dir.path(), T0, FLOW_ID, &kept).unwrap();
    if have("capinfos") {
        let out = Command::new("capinfos")
            .arg("-c")
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let n = text
            .lines()
            .find_map(|l| l.strip_prefix("Number of packets:"))
            .map(|v| v.trim().to_string());
        assert_eq!(n, Some(kept.len().to_string()), "{text}");
    }
    if have("tshark") {
        let out = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&path)
            .args([
                "-T",
                "fields",
                "-e",
                "frame.len",
                "-e",
                "frame.cap_len",
                "-e",
                "tcp.dstport",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("appears to be damaged"), "{stderr}");
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(lines.len(), kept.len());
        let want: Vec<String> = kept
            .iter()
            .map(|k| {
                let port = if k.dir == Dir::Up { 80 } else { 40001 };
                format!("{}\t{}\t{port}", k.orig_len, k.data.len())
            })
            .collect();
        assert_eq!(lines, want);
    }
}

fn alert(key: &str, detail: serde_json::Value) -> Alert {
    Alert {
        device_mac: Some(PHONE_MAC),
        summary: "IMEI …3809 sent in clear text".into(),
        detail,
        ..common::pii_alert(T0, Severity::Critical, key)
    }
}

/// A database written by the store writer holding `alerts` (ids 1, 2, … in order).
fn db_with(dir: &Path, alerts: Vec<Alert>) -> PathBuf {
    let db = dir.join("phonehome.db");
    common::write_alerts(&db, alerts);
    db
}

#[test]
fn read_for_alert_refuses_traversal_symlinks_and_reports_missing() {
    let dir = tempfile::tempdir().unwrap();
    let kept = keep(&post_conversation(b"a=1"), &EvidenceBudget::default()).take();
    let good = ev::write_pcap(dir.path(), T0, FLOW_ID, &kept).unwrap();
    let good_name = good.file_name().unwrap().to_str().unwrap().to_string();
    let link_name = ev::evidence_name(T0, "another flow");
    std::os::unix::fs::symlink(
        "/etc/hostname",
        dir.path().join("evidence").join(&link_name),
    )
    .unwrap();
    let gone_name = ev::evidence_name(T0, "a third flow");
    let names = [
        serde_json::json!({ "evidence": good_name }),
        serde_json::json!({ "evidence": "../phonehome.db" }),
        serde_json::json!({ "evidence": "/etc/passwd" }),
        serde_json::json!({ "evidence": format!("../evidence/{good_name}") }),
        serde_json::json!({ "evidence": link_name }),
        serde_json::json!({ "evidence": gone_name }),
        serde_json::json!({ "identifier": "imei" }),
        serde_json::json!({ "evidence": 7 }),
    ];
    let alerts = names
        .iter()
        .enumerate()
        .map(|(i, d)| alert(&format!("k{i}"), d.clone()))
        .collect();
    let db = db_with(dir.path(), alerts);
    let conn = phonehome::store::open_read(&db).unwrap();
    assert_eq!(ev::read_for_alert(&conn, 1).unwrap(), good);
    for id in 2..=5 {
        let r = ev::read_for_alert(&conn, id);
        assert!(
            matches!(r, Err(EvidenceError::UnsafeName(i)) if i == id),
            "{id}: {r:?}"
        );
    }
    let r = ev::read_for_alert(&conn, 6);
    assert!(
        matches!(r, Err(EvidenceError::Missing { id: 6, .. })),
        "{r:?}"
    );
    for id in [7, 8] {
        let r = ev::read_for_alert(&conn, id);
        assert!(
            matches!(r, Err(EvidenceError::NoEvidence(i)) if i == id),
            "{r:?}"
        );
    }
    let r = ev::read_for_alert(&conn, 99);
    assert!(matches!(r, Err(EvidenceError::UnknownAlert(99))), "{r:?}");
    assert_eq!(
        r.unwrap_err().to_string(),
        "no alert with id 99",
        "messages are plain and carry no identifier"
    );
}

#[test]
fn prune_deletes_old_files_then_oldest_beyond_the_size_cap() {
    let dir = tempfile::tempdir().unwrap();
    let kept = keep(&post_conversation(b"a=1"), &EvidenceBudget::default()).take();
    let now = SystemTime::now();
    let day = Duration::from_secs(86_400);
    let mut paths = Vec::new();
    for (flow, age_days) in [("old", 40), ("mid", 2), ("new", 0)] {
        let p = ev::write_pcap(dir.path(), T0, flow, &kept).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(now - day * age_days).unwrap();
        paths.push(p);
    }
    let other = dir.path().join("evidence").join("notes.txt");
    std::fs::write(&other, "not evidence").unwrap();
    let size = std::fs::metadata(&paths[0]).unwrap().len();

    let s = ev::prune(dir.path(), now, 30, 0).unwrap();
    assert_eq!(
        (s.deleted, s.freed_bytes, s.kept, s.kept_bytes),
        (1, size, 2, 2 * size)
    );
    assert!(!paths[0].exists() && paths[1].exists() && paths[2].exists());

    let s = ev::prune(dir.path(), now, 30, size).unwrap();
    assert_eq!((s.deleted, s.kept, s.failed), (1, 1, 0));
    assert!(
        !paths[1].exists() && paths[2].exists(),
        "the oldest goes first"
    );
    assert!(other.exists(), "only evidence-shaped names are touched");
    assert_eq!(
        ev::prune(&dir.path().join("none"), now, 1, 1).unwrap(),
        ev::PruneStats::default()
    );
}

/// The binary on database `db`, with an empty config beside it (never the machine's own).
fn bin(db: &Path) -> Command {
    let cfg = db.with_file_name("phonehome.toml");
    if !cfg.exists() {
        std::fs::write(&cfg, "").unwrap();
    }
    let mut c = Command::cargo_bin("phonehome").unwrap();
    c.env_remove("PHONEHOME_DB")
        .env_remove("PHONEHOME_CONFIG")
        .arg("--config")
        .arg(cfg)
        .arg("--db")
        .arg(db);
    c
}

#[test]
fn cli_writes_the_alerts_evidence_to_a_file_or_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let kept = keep(
        &post_conversation(b"imei=356938035643809"),
        &EvidenceBudget::default(),
    )
    .take();
    let src = ev::write_pcap(dir.path(), T0, FLOW_ID, &kept).unwrap();
    let name = src.file_name().unwrap().to_str().unwrap().to_string();
    let db = db_with(
        dir.path(),
        vec![
            alert(
                "imei",
                serde_json::json!({ "identifier": "imei", "evidence": name }),
            ),
            alert("info", serde_json::json!({})),
        ],
    );
    let original = std::fs::read(&src).unwrap();
    let out = dir.path().join("out.pcap");

    bin(&db)
        .args(["evidence", "1", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), original);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(read_file_source(&out), expected(&kept));

    std::fs::write(&out, b"keep me").unwrap();
    bin(&db)
        .args(["evidence", "1", "-o"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains("exists; use --force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    bin(&db)
        .args(["evidence", "1", "--force", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), original);

    let piped = bin(&db)
        .args(["evidence", "1", "-o", "-"])
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(piped.stdout, original);

    bin(&db)
        .args(["evidence", "42", "-o", "-"])
        .assert()
        .failure()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("no alert with id 42"));
    bin(&db)
        .args(["evidence", "2", "-o"])
        .arg(dir.path().join("x.pcap"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("alert 2 has no evidence capture"));
    assert!(!dir.path().join("x.pcap").exists());
}

/// Regression: evidence files follow the database's retention (the daemon's writer prunes
/// them after each retention pass), so a long-running router never fills its SD card.
#[test]
fn writer_retention_prunes_old_evidence_files() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("evidence");
    std::fs::create_dir(&ev).unwrap();
    let old = ev.join("20200101T000000Z-0123456789abcdef.pcap");
    let new = ev.join("20991231T000000Z-fedcba9876543210.pcap");
    for p in [&old, &new] {
        std::fs::write(p, b"pcap").unwrap();
    }
    let f = std::fs::File::options().write(true).open(&old).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 86_400))
        .unwrap();
    drop(f);
    let w = phonehome::store::writer::Writer::spawn(
        dir.path().join("t.db"),
        phonehome::store::writer::WriterConfig {
            retention_days: 30,
            ..Default::default()
        },
    )
    .unwrap();
    let stats = w.finish().unwrap();
    assert!(
        !old.exists(),
        "a 40-day-old evidence file survived 30-day retention"
    );
    assert!(new.exists(), "a fresh evidence file was deleted");
    assert_eq!(stats.evidence_pruned, 1);
}
