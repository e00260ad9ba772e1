//! Display pages: snapshot tests against the golden PNGs in `tests/golden/display/`
//! (`PHONEHOME_UPDATE_GOLDEN=1` rewrites them; review every changed image by eye), word-fitted
//! text, `display_data` over a database written by the store writer, and the CLI export.

mod common;

use std::path::{Path, PathBuf};

use phonehome::event::{Alert, AlertKind, DeviceSighting, Event, MacAddr, Severity, MICROS};
use phonehome::indicate::display::png::{render_frame, scaled_gray, write_png, SCALE};
use phonehome::indicate::display::text::{fit_words, left_right};
use phonehome::indicate::display::{
    display_data, AlertLine, DeviceLine, DisplayData, Page, HEIGHT, WIDTH,
};
use phonehome::store::writer::{Writer, WriterConfig};

const T0: i64 = 1_700_000_000 * MICROS;
const MAC: MacAddr = MacAddr([0x04, 0xf1, 0x28, 1, 2, 3]);

fn fixture() -> DisplayData {
    DisplayData {
        ssid: "phonehome-travel".into(),
        passphrase: "correct horse battery".into(),
        ssh_address: Some("192.168.8.1".into()),
        clients: 3,
        uptime_secs: Some(2 * 86_400 + 4 * 3_600 + 13 * 60),
        packets_per_sec: Some(1_234),
        drops: 12,
        unacknowledged: 5,
        alerts: vec![
            AlertLine {
                device: "Marie's Galaxy S23 Ultra".into(),
                kind: "pii_leak".into(),
                destination: "zzhc.vnet.cn".into(),
                country: Some("CN".into()),
                age_secs: 180,
            },
            AlertLine {
                device: "iPhone".into(),
                kind: "tracker".into(),
                destination: "app-measurement.googleapis.com".into(),
                country: Some("US".into()),
                age_secs: 3_900,
            },
        ],
        devices: vec![
            DeviceLine {
                name: "Marie's Galaxy S23 Ultra".into(),
                flows: 1_432,
                countries: ["US", "CN", "IE", "DE", "NL", "FR", "SG", "JP"]
                    .map(String::from)
                    .to_vec(),
                leaks: 2,
                trackers: 17,
            },
            DeviceLine {
                name: "iPhone".into(),
                flows: 87,
                countries: vec!["US".into()],
                leaks: 0,
                trackers: 4,
            },
        ],
    }
}

fn golden(page: Page) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/display")
        .join(format!("page{}.png", page.number()))
}

/// Decodes a PNG into (width, height, 8-bit gray pixels).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn every_page_matches_its_golden_image() {
    let data = fixture();
    let update = std::env::var_os("PHONEHOME_UPDATE_GOLDEN").is_some_and(|v| v == "1");
    for page in Page::ALL {
        let frame = render_frame(page, &data);
        let mut encoded = Vec::new();
        write_png(&frame, &mut encoded).unwrap();
        let path = golden(page);
        if update {
            std::fs::write(&path, &encoded).unwrap();
            continue;
        }
        let want = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (PHONEHOME_UPDATE_GOLDEN=1)", path.display()));
        let (w, h, want) = decode(&want);
        assert_eq!((w, h), (WIDTH * SCALE, HEIGHT * SCALE));
        let (_, _, got) = decode(&encoded);
        let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(differ, 0, "page {}: {differ} pixels differ", page.number());
        // Something is drawn, and the export is the frame scaled: nothing else.
        assert!(got.contains(&255));
        assert_eq!(got, scaled_gray(&frame));
    }
}

#[test]
fn long_names_are_truncated_at_word_boundaries() {
    let name = "Marie's Galaxy S23 Ultra";
    // Page 2's heading: 21 columns, age flush right.
    assert_eq!(left_right(name, "3m", 21), "Marie's Galaxy…    3m");
    assert_eq!(left_right(name, "1432 flows", 21), "Marie's…   1432 flows");
    assert_eq!(
        fit_words("US CN IE DE NL FR SG JP", 21),
        "US CN IE DE NL FR SG…"
    );
    // A short name is not touched and the right part stays flush right.
    assert_eq!(left_right("iPhone", "1h05m", 21), "iPhone          1h05m");
}

#[test]
fn pages_cycle_in_order() {
    assert_eq!(Page::from_number(0), None);
    assert_eq!(Page::from_number(5), None);
    assert_eq!(Page::from_number(2), Some(Page::Alerts));
    assert_eq!(Page::Join.next(), Page::Status);
    assert_eq!(Page::Status.next(), Page::Alerts);
}

/// A database with one named device, a tracker and a leak alert, through the store writer.
fn write_db(db: &Path, t: i64) {
    let w = Writer::spawn(
        db,
        WriterConfig {
            retention_days: 0,
            ..WriterConfig::default()
        },
    )
    .unwrap();
    let sink = w.sink();
    assert!(sink.send_blocking(Event::Device(DeviceSighting {
        ts: t,
        mac: MAC,
        vendor: Some("Samsung Electronics".into()),
        randomized: false,
        hostname: Some("Galaxy-S23".into()),
        ip: Some("192.168.8.23".parse().unwrap()),
        identity: Default::default(),
    })));
    let alert = |ts, kind, domain: &str, country: &str| Alert {
        kind,
        device_mac: Some(MAC),
        domain: Some(domain.into()),
        country: Some(country.into()),
        asn: None,
        summary: "test".into(),
        detail: serde_json::json!({}),
        dedup_key: String::new(),
        ..common::pii_alert(ts, Severity::Warn, "")
    };
    let a1 = alert(
        t - 90 * MICROS,
        AlertKind::Tracker,
        "graph.facebook.com",
        "US",
    );
    let a2 = alert(t - 30 * MICROS, AlertKind::PiiLeak, "zzhc.vnet.cn", "CN");
    assert!(sink.send_blocking(Event::Alert(a1)));
    assert!(sink.send_blocking(Event::Alert(a2)));
    drop(sink);
    w.finish().unwrap();
}

#[test]
fn display_data_reads_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    write_db(&db, T0);
    let conn = phonehome::store::open_read(&db).unwrap();
    let d = display_data(&conn, T0 + 60 * MICROS).unwrap();
    assert_eq!(d.clients, 1);
    assert_eq!(d.unacknowledged, 2);
    assert_eq!(d.uptime_secs, None, "no capture snapshot: capture down");
    let names: Vec<_> = d
        .alerts
        .iter()
        .map(|a| (a.kind.as_str(), a.age_secs))
        .collect();
    assert_eq!(names, [("pii_leak", 90), ("tracker", 150)]);
    assert_eq!(d.alerts[0].device, "Galaxy-S23");
    assert_eq!(d.alerts[0].destination, "zzhc.vnet.cn");
    assert_eq!(d.alerts[0].country.as_deref(), Some("CN"));
    assert_eq!(d.devices.len(), 1);
    assert_eq!((d.devices[0].leaks, d.devices[0].trackers), (1, 1));
    // Ten minutes later the phone is no longer counted as connected.
    let later = display_data(&conn, T0 + 600 * MICROS).unwrap();
    assert_eq!(later.clients, 0);
}

#[test]
fn cli_writes_a_512_by_256_png() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    write_db(&db, now);
    let out = dir.path().join("out.png");
    assert_cmd::Command::cargo_bin("phonehome")
        .unwrap()
        .env_remove("PHONEHOME_CONFIG")
        .arg("--db")
        .arg(&db)
        .args(["display", "--page", "2", "--png"])
        .arg(&out)
        .assert()
        .success();
    let (w, h, px) = decode(&std::fs::read(&out).unwrap());
    assert_eq!((w, h), (512, 256));
    assert!(px.contains(&255) && px.contains(&0));
    assert_cmd::Command::cargo_bin("phonehome")
        .unwrap()
        .arg("--db")
        .arg(&db)
        .args(["display", "--page", "9", "--png"])
        .arg(&out)
        .assert()
        .failure();
}

#[test]
fn uptime_rate_and_drops_come_from_the_current_run() {
    use phonehome::store::CaptureStats;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let w = Writer::spawn(&db, WriterConfig::default()).unwrap();
    let sink = w.sink();
    let snap = |s: i64, packets: u64, kernel_drops: u64| CaptureStats {
        ts: T0 + s * MICROS,
        source: "br0".into(),
        packets_seen: packets,
        kernel_drops,
        ..CaptureStats::default()
    };
    // An earlier run, then a restart (counter back to 0) at +100 s.
    for s in [
        snap(0, 0, 0),
        snap(60, 9_000, 5),
        snap(100, 0, 0),
        snap(160, 6_000, 1),
    ] {
        assert!(sink.send_stats(s));
    }
    assert!(sink.send_stats(snap(220, 66_000, 3)));
    drop(sink);
    w.finish().unwrap();
    let conn = phonehome::store::open_read(&db).unwrap();
    let d = display_data(&conn, T0 + 230 * MICROS).unwrap();
    assert_eq!(d.uptime_secs, Some(130));
    assert_eq!(d.packets_per_sec, Some(1_000));
    assert_eq!(d.drops, 3);
    // Five minutes without a snapshot: capture is down.
    let d = display_data(&conn, T0 + 520 * MICROS).unwrap();
    assert_eq!((d.uptime_secs, d.packets_per_sec), (None, None));
}

#[test]
fn join_page_without_a_passphrase_says_how_to_set_it() {
    let with = render_frame(Page::Join, &fixture());
    let data = DisplayData {
        passphrase: String::new(),
        ..fixture()
    };
    let frame = render_frame(Page::Join, &data);
    assert_ne!(frame, with);
    // No QR code: the left 64×64 square (lit quiet zone and modules) is mostly dark now.
    let gray = scaled_gray(&frame);
    let row = (WIDTH * SCALE) as usize;
    let lit_in_square = (0..(HEIGHT * SCALE) as usize)
        .flat_map(|y| (0..(HEIGHT * SCALE) as usize).map(move |x| y * row + x))
        .filter(|&i| gray[i] == 255)
        .count();
    let square = ((HEIGHT * SCALE) * (HEIGHT * SCALE)) as usize;
    assert!(
        lit_in_square < square / 4,
        "{lit_in_square} of {square} lit"
    );
    let with_gray = scaled_gray(&with);
    let lit_with = (0..square)
        .map(|i| (i / (HEIGHT * SCALE) as usize) * row + i % (HEIGHT * SCALE) as usize)
        .filter(|&i| with_gray[i] == 255)
        .count();
    assert!(
        lit_with > square / 2,
        "the QR page lights its square: {lit_with}"
    );
}
