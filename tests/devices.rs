//! Device identity end to end: DHCP fingerprints of real corpus captures map to the right OS,
//! User-Agents of real captures give OS, model and app, a phone that rejoins under a new MAC
//! with the same DHCP client identifier and hostname keeps its label (and its user-set name),
//! and `phonehome devices name` persists and shows.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use phonehome::capture::file::FileSource;
use phonehome::decode::LinkType;
use phonehome::event::{DeviceSighting, Event, MacAddr, MICROS};
use phonehome::flow::identity::{os_from_dhcp, OsFamily, UaParser};
use phonehome::pipeline::{Pipeline, PipelineConfig};
use phonehome::synth::dhcp::{dhcp, DhcpSpec};
use phonehome::synth::net::udp_frame;
use phonehome::synth::{Endpoint, PcapBuilder};
use serde_json::Value;

const T0: i64 = 1_700_000_000 * MICROS;

fn corpus_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.join("index.json").exists() {
        Some(p)
    } else {
        println!("skipped: corpus not present at {}", p.display());
        None
    }
}

/// The latest sighting of each MAC after running frames through a pipeline.
fn latest(
    frames: impl Iterator<Item = (i64, LinkType, Vec<u8>)>,
) -> HashMap<MacAddr, DeviceSighting> {
    let mut out = HashMap::new();
    let mut p = Pipeline::new(PipelineConfig::default());
    let mut sink = |e: Event| {
        if let Event::Device(s) = e {
            out.insert(s.mac, s);
        }
    };
    for (ts, link, f) in frames {
        p.ingest(ts, link, &f, &mut sink);
    }
    p.finish(&mut sink);
    out
}

fn corpus_devices(case: &str) -> Option<HashMap<MacAddr, DeviceSighting>> {
    let path = corpus_dir()?.join("pcaps").join(format!("{case}.pcap"));
    let mut src = FileSource::open(&path).ok()?;
    let mut frames = Vec::new();
    while let Some(Ok(f)) = src.next_frame() {
        frames.push((f.ts, f.link, f.data.to_vec()));
    }
    Some(latest(frames.into_iter()))
}

fn mac(s: &str) -> MacAddr {
    MacAddr::parse(s).unwrap()
}

/// Every DHCP client message of the corpus whose expected section lists a fingerprint maps
/// as the capture's description says: Android 9 (`android-dhcp-9`) and the iMac.
#[test]
fn corpus_dhcp_fingerprints_map_to_the_right_os() {
    let Some(dir) = corpus_dir() else { return };
    let want: HashMap<&str, OsFamily> = [
        ("4c:6a:f6:9f:f6:27", OsFamily::Android),
        ("d8:30:62:56:00:1c", OsFamily::MacOs),
    ]
    .into();
    let mut checked = 0;
    for case in ["phone-android9-mixed", "mobile-app-whatsapp-login"] {
        let text = std::fs::read_to_string(dir.join(format!("expected/{case}.json"))).unwrap();
        let e: Value = serde_json::from_str(&text).unwrap();
        for m in e["dhcp_messages"].as_array().unwrap() {
            let Some(prl) = m["param_list"].as_array() else {
                continue;
            };
            let prl: Vec<u8> = prl.iter().map(|c| c.as_u64().unwrap() as u8).collect();
            let os = os_from_dhcp(m["vendor_class"].as_str(), &prl);
            let client = m["client_mac"].as_str().unwrap();
            assert_eq!(os, want.get(client).copied(), "{case} {client} {prl:?}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} fingerprints");
}

/// The same through the whole pipeline: the Android 9 phone of the corpus gets its OS from
/// DHCP and its version and model from its browser's User-Agent (`Android 9; Nokia 2.2`,
/// which uap-core reads as model `Nokia 2`),
/// the iMac its OS from DHCP, both labelled.
#[test]
fn corpus_android_phone_identity_through_the_pipeline() {
    let Some(devs) = corpus_devices("phone-android9-mixed") else {
        return;
    };
    let phone = &devs[&mac("4c:6a:f6:9f:f6:27")].identity;
    assert_eq!(phone.vendor_class.as_deref(), Some("android-dhcp-9"));
    assert_eq!(phone.os.as_deref(), Some("Android 9"));
    assert_eq!(phone.model.as_deref(), Some("Nokia 2"));
    assert_eq!(phone.label.as_deref(), Some("Nokia 2 f627"));
    let imac = &devs[&mac("d8:30:62:56:00:1c")];
    assert_eq!(imac.identity.os.as_deref(), Some("macOS"));
    assert_eq!(imac.identity.label.as_deref(), Some("Lucas-iMac"));
}

/// Real User-Agents of the corpus' http sections.
#[test]
fn corpus_user_agents_parse() {
    let p = UaParser::get();
    assert_eq!(p.skipped(), 0, "every uap-core regex compiles");
    assert!(p.patterns() > 1200, "{}", p.patterns());
    let cases = [
        (
            "Mozilla/5.0 (Linux; Android 9; Nokia 2.2) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/79.0.3945.93 Mobile Safari/537.36",
            Some("Android 9"),
            // uap-core's Nokia rule takes `[A-Za-z0-9-]+` after the brand: "2", not "2.2".
            Some("Nokia 2"),
            Some("Chrome Mobile"),
        ),
        (
            "Dalvik/2.1.0 (Linux; U; Android 10; Redmi Note 9 Pro MIUI/V12.0.3.0.QJZMIXM)",
            Some("Android 10"),
            Some("XiaoMi Redmi Note 9 Pro"),
            Some("Android"),
        ),
        (
            "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/44.0.2403.125 Safari/537.36",
            Some("Windows 7"),
            None,
            Some("Chrome"),
        ),
        ("curl/7.50.1", None, None, Some("curl")),
    ];
    for (ua, os, model, app) in cases {
        let got = p.parse(ua);
        assert_eq!(
            (got.os.as_deref(), got.model.as_deref(), got.app.as_deref()),
            (os, model, app),
            "{ua}"
        );
    }
}

const SERVER: Endpoint = Endpoint {
    mac: MacAddr([0xdc, 0xa6, 0x32, 0, 0, 1]),
    ip: std::net::IpAddr::V4(Ipv4Addr::new(192, 168, 8, 1)),
    port: 67,
    ttl: 64,
};

/// A DHCP DISCOVER + REQUEST from `client` whose option 61 carries `client_id` (6 bytes after
/// the hardware type) instead of the MAC synth puts there, then the server's ACK.
fn join(b: &mut PcapBuilder, ts: i64, client: MacAddr, client_id: [u8; 6], host: &str, ip: u8) {
    let from = Endpoint {
        mac: client,
        ip: Ipv4Addr::UNSPECIFIED.into(),
        port: 68,
        ttl: 64,
    };
    let to = Endpoint {
        mac: MacAddr([0xff; 6]),
        ip: Ipv4Addr::BROADCAST.into(),
        port: 67,
        ttl: 64,
    };
    let prl = [1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108];
    for (i, ty) in [1u8, 3].into_iter().enumerate() {
        let mut spec = DhcpSpec::new(ty, 7 + u32::from(ip), client);
        spec.hostname = Some(host);
        spec.vendor_class = Some("android-dhcp-14");
        spec.param_list = &prl;
        let mut p = dhcp(&spec);
        let mut old = vec![61u8, 7, 1];
        old.extend_from_slice(&client.0);
        let at = p
            .windows(old.len())
            .position(|w| w == old.as_slice())
            .unwrap();
        p[at + 3..at + 9].copy_from_slice(&client_id);
        b.push(ts + i as i64 * 1000, udp_frame(&from, &to, 1, &p).unwrap());
    }
    let mut ack = DhcpSpec::new(5, 7 + u32::from(ip), client);
    ack.yiaddr = Ipv4Addr::new(192, 168, 8, ip);
    ack.server_id = Some(Ipv4Addr::new(192, 168, 8, 1));
    let dst = Endpoint {
        mac: client,
        ip: Ipv4Addr::new(192, 168, 8, ip).into(),
        port: 68,
        ttl: 64,
    };
    b.push(ts + 5000, udp_frame(&SERVER, &dst, 2, &dhcp(&ack)).unwrap());
}

const OLD: MacAddr = MacAddr([0x02, 0xaa, 0xbb, 0xcc, 0x00, 0x01]);
const NEW: MacAddr = MacAddr([0x06, 0x12, 0x34, 0x56, 0x00, 0x02]);
const OTHER: MacAddr = MacAddr([0x0a, 0x99, 0x99, 0x99, 0x00, 0x03]);
const CID: [u8; 6] = [0x58, 0x11, 0x22, 0x33, 0x44, 0x55];

fn rejoin_capture() -> PcapBuilder {
    let mut b = PcapBuilder::new();
    join(&mut b, T0, OLD, CID, "Galaxy-S24", 20);
    // Same phone, new random MAC, same client id and hostname.
    join(&mut b, T0 + 600 * MICROS, NEW, CID, "Galaxy-S24", 21);
    // Another phone with the same hostname (a common default) but its own client id.
    join(&mut b, T0 + 700 * MICROS, OTHER, [9; 6], "Galaxy-S24", 22);
    b
}

#[test]
fn phone_changing_mac_keeps_its_label() {
    let b = rejoin_capture();
    let devs = latest(
        b.frames()
            .iter()
            .map(|(t, f)| (*t, LinkType::Ethernet, f.clone())),
    );
    let old = &devs[&OLD].identity;
    assert_eq!(old.label.as_deref(), Some("Galaxy-S24"));
    assert_eq!(old.os.as_deref(), Some("Android"));
    assert_eq!(old.same_as, None);
    let new = &devs[&NEW].identity;
    assert_eq!(new.same_as, Some(OLD));
    assert_eq!(new.label, old.label);
    assert_eq!(
        devs[&OTHER].identity.same_as, None,
        "other client id: not the same phone"
    );
}

fn bin(dir: &Path) -> Command {
    let cfg = dir.join("phonehome.toml");
    if !cfg.exists() {
        std::fs::write(&cfg, "").unwrap();
    }
    let mut c = Command::cargo_bin("phonehome").unwrap();
    c.env_remove("PHONEHOME_DB").env_remove("PHONEHOME_CONFIG");
    c.arg("--db").arg(dir.join("t.db")).arg("--config").arg(cfg);
    c
}

fn devices_json(dir: &Path) -> HashMap<String, Value> {
    let out = bin(dir).args(["devices", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["mac"].as_str().unwrap().to_owned(), v))
        .collect()
}

/// `devices name` stores a name on the device and on the MACs linked to it, `devices` shows
/// it (JSON and table), the link and label are stored, a later rejoin inherits the name, and
/// bad requests fail with a message.
#[test]
fn devices_name_persists_follows_links_and_shows() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("rejoin.pcap");
    std::fs::write(&pcap, rejoin_capture().finish()).unwrap();
    bin(dir.path()).arg("analyze").arg(&pcap).assert().success();
    let d = devices_json(dir.path());
    let new = &d["06:12:34:56:00:02"];
    assert_eq!(new["same_as"], "02:aa:bb:cc:00:01");
    assert_eq!(new["label"], "Galaxy-S24");
    assert_eq!(new["os"], "Android");
    assert_eq!(new["vendor_class"], "android-dhcp-14");
    assert_eq!(new["name"], Value::Null);

    bin(dir.path())
        .args(["devices", "name", "02:AA:BB:CC:00:01", "Anna's phone"])
        .assert()
        .success();
    let d = devices_json(dir.path());
    assert_eq!(d["02:aa:bb:cc:00:01"]["name"], "Anna's phone");
    assert_eq!(d["06:12:34:56:00:02"]["name"], "Anna's phone", "linked MAC");
    assert_eq!(d["0a:99:99:99:00:03"]["name"], Value::Null);
    let table = bin(dir.path()).arg("devices").output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("mac") && header.contains("name"),
        "{header}"
    );
    assert!(
        header.find("name") < header.find("hostname"),
        "name shown first: {header}"
    );
    assert!(table.contains("Anna's phone"), "{table}");

    // Records name their device by it too (user's name, else label, hostname, vendor).
    let out = bin(dir.path()).args(["dhcp", "--json"]).output().unwrap();
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 9);
    for r in &rows {
        let want = match r["device_mac"].as_str().unwrap() {
            "0a:99:99:99:00:03" => "Galaxy-S24",
            _ => "Anna's phone",
        };
        assert_eq!(r["device"], want, "{r}");
    }

    // Over a restricted SSH key naming is refused: it writes.
    let out = bin(dir.path())
        .arg("ssh-serve")
        .env(
            "SSH_ORIGINAL_COMMAND",
            "devices name 02:aa:bb:cc:00:01 Mallory",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        devices_json(dir.path())["02:aa:bb:cc:00:01"]["name"],
        "Anna's phone"
    );

    // Analysing the capture again (the daemon's upserts) keeps the name.
    bin(dir.path()).arg("analyze").arg(&pcap).assert().success();
    assert_eq!(
        devices_json(dir.path())["06:12:34:56:00:02"]["name"],
        "Anna's phone"
    );

    // Clearing, unknown MAC, bad name, bad MAC.
    bin(dir.path())
        .args(["devices", "name", "0a:99:99:99:00:03", ""])
        .assert()
        .success();
    for (args, msg) in [
        (
            vec!["devices", "name", "00:00:5e:00:53:99", "x"],
            "no device 00:00:5e:00:53:99",
        ),
        (
            vec!["devices", "name", "02:aa:bb:cc:00:01", "a\u{7}b"],
            "control character",
        ),
        (vec!["devices", "name", "nope", "x"], "not a MAC address"),
    ] {
        let out = bin(dir.path()).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
    }
}
