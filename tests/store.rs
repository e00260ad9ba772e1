//! The SQLite store end to end, on real files in a tempdir: migrations, the writer thread
//! (batches, queue drops, retention, disk full, crash), and every CLI query's JSON fields.
//!
//! Records are built from the verification corpus (`/work/shared/corpus/expected/*.json`,
//! the peer tools' extraction of real captures) so stored and printed values are real ones;
//! device MACs are synthetic (the corpus records carry none). Fixtures live in
//! `store/corpus.rs`, output tests in `store/output.rs`.

#[path = "store/corpus.rs"]
mod corpus;
#[path = "store/output.rs"]
mod output;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use corpus::*;
use phonehome::decode::{dhcp as dhcpd, dns as dnsd};
use phonehome::event::*;
use phonehome::store::{
    self, query, retention, schema, CaptureStats, Filter, Kind, Writer, WriterConfig,
};
use serde_json::{json, Value};

#[test]
fn migrates_from_zero_and_reopens_idempotently() {
    let (_d, p) = db();
    let conn = schema::open_write(&p).expect("create");
    assert_eq!(
        schema::user_version(&conn).expect("v"),
        schema::SCHEMA_VERSION
    );
    let mut st = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .expect("prep");
    let tables: Vec<String> = st
        .query_map([], |r| r.get(0))
        .expect("q")
        .map(|r| r.expect("r"))
        .collect();
    assert_eq!(
        tables,
        [
            "alerts",
            "capture_stats",
            "device_ips",
            "devices",
            "dhcp",
            "dns",
            "flows",
            "http",
            "meta",
            "tls"
        ]
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("jm");
    assert_eq!(mode, "wal");
    drop(st);
    drop(conn);
    write(&p, all_events());
    // Reopening runs no migration and keeps the data.
    let conn = schema::open_write(&p).expect("reopen");
    assert_eq!(
        schema::user_version(&conn).expect("v"),
        schema::SCHEMA_VERSION
    );
    assert_eq!(list(&p, Kind::Dns, Filter::default()).len(), 2);
    // A file from a newer phonehome is refused, for writing and reading.
    conn.execute_batch("PRAGMA user_version = 99")
        .expect("bump");
    drop(conn);
    let err = schema::open_write(&p)
        .expect_err("newer accepted")
        .to_string();
    assert!(err.contains("schema version 99 is newer"), "{err}");
    assert!(err.contains(&p.display().to_string()), "{err}");
    assert!(store::open_read(&p).is_err());
}

#[test]
fn open_read_names_a_missing_file() {
    let (_d, p) = db();
    let err = store::open_read(&p)
        .expect_err("missing opened")
        .to_string();
    assert!(
        err.contains(&p.display().to_string()) && err.contains("no such file"),
        "{err}"
    );
    assert!(!p.exists(), "open_read must not create the file");
}

#[test]
fn files_are_mode_0640() {
    let (_d, p) = db();
    let w = Writer::spawn(&p, quick()).expect("spawn");
    w.sink().send(all_events().remove(0));
    w.flush().expect("flush");
    for suffix in ["", "-wal", "-shm"] {
        let f = format!("{}{suffix}", p.display());
        let mode = std::fs::metadata(&f).expect(&f).permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "{f}");
    }
    w.finish().expect("finish");
}

#[test]
fn every_kind_round_trips_with_exact_fields() {
    let (_d, p) = db();
    let stats = write(&p, all_events());
    assert_eq!(
        (stats.written.dns, stats.written.tls, stats.written.flows),
        (2, 1, 1)
    );
    assert_eq!(
        (stats.written.http, stats.written.dhcp, stats.failed_batches),
        (1, 4, 0)
    );

    let dns = list(&p, Kind::Dns, Filter::default());
    assert_eq!(
        dns[1],
        json!({
            "ts": "2019-08-07T21:08:34.674980Z", "device_mac": PHONE, "device": null,
            "client_ip": "192.168.65.3", "server_ip": "192.168.65.1",
            "qname": "enabled.tls13.com", "qtype": dnsd::qtype_name(28), "rcode": dnsd::rcode_name(0),
            "answers": ["2606:4700::6810:7d22", "2606:4700::6810:7e22"],
            "qname_wire": "enabled.tls13.com", "client_port": 42060, "server_port": 53,
            "transport": "udp", "protocol": "dns", "trans_id": 44321,
        })
    );

    assert_eq!(
        list(&p, Kind::Tls, Filter::default()),
        [json!({
            "ts": "2019-08-07T21:08:34.709050Z", "device_mac": PHONE, "device": null,
            "client_ip": "192.168.65.3", "client_port": 46638,
            "server_ip": "104.16.125.34", "server_port": 443, "transport": "tcp",
            "quic_version": null,
            "sni": "enabled.tls13.com", "alpn": ["h2", "http/1.1"],
            "ja3": "eeadfd2f446a45ded96f804720a0c75b", "ja4": "t13d0413h2_16476d049b0b_ffceb19bae65",
            "version": "0x0303", "ja3_string": corpus_tls().ja3_string, "ja4_r": corpus_tls().ja4_r,
            "supported_versions": ["0x0304"],
        })]
    );

    assert_eq!(
        list(&p, Kind::Flows, Filter::default()),
        [json!({
            "ts": "2019-08-07T21:08:34.677276Z", "last_ts": "2019-08-07T21:08:34.804877Z",
            "device_mac": PHONE, "device": null, "proto": "tcp", "client_ip": "192.168.65.3", "client_port": 46638,
            "server_ip": "104.16.125.34", "server_port": 443, "bytes_up": 4000, "bytes_down": 2785,
            "packets_up": 15, "packets_down": 16, "domain": "enabled.tls13.com",
            "country": "US", "asn": 13335, "as_org": "CLOUDFLARENET",
            "tcp_state": "closed", "end": "closed",
        })]
    );

    assert_eq!(
        list(&p, Kind::Http, Filter::default()),
        [json!({
            "ts": "2013-03-07T21:42:06.939527Z", "device_mac": null, "device": null,
            "client_ip": "141.142.228.5", "server_ip": "192.150.187.43", "server_port": 80,
            "method": "GET", "host": "bro.org", "uri": "/download/CHANGES.bro-aux.txt",
            "user_agent": "Wget/1.14 (darwin12.2.0)", "client_port": 59856, "version": "1.1",
            "referrer": null, "content_type": null, "auth_scheme": null, "content_length": null,
        })]
    );

    let dhcp = list(&p, Kind::Dhcp, Filter::default());
    assert_eq!(dhcp.len(), 4);
    assert_eq!(
        dhcp[0],
        json!({
            "ts": "2004-12-05T19:16:24.317453Z", "device_mac": LAPTOP, "device": null, "client_mac": LAPTOP,
            "msg_type": dhcpd::msg_type_name(1), "hostname": null, "vendor_class": null,
            "param_list": [1, 3, 6, 42], "requested_ip": "0.0.0.0", "xid": "0x00003d1d",
            "src_ip": "0.0.0.0", "dst_ip": "255.255.255.255", "server_id": null, "yiaddr": null,
        })
    );
    assert_eq!(dhcp[3]["xid"], "0x00003d1e");
    assert_eq!(dhcp[3]["yiaddr"], "192.168.0.10");
    assert_eq!(dhcp[3]["msg_type"], json!(dhcpd::msg_type_name(5)));
}

#[test]
fn qname_is_lowercased_and_wire_case_kept() {
    // dns-mixed-case-qname: the 0x20-randomised query of the corpus.
    let c = case("dns-mixed-case-qname");
    let mut r = corpus_dns().remove(0);
    r.qname = s(&c["dns_queries"][0]["qname"]).expect("qname");
    r.rcode = None;
    r.answers.clear();
    let (_d, p) = db();
    write(&p, vec![Event::Dns(r)]);
    let row = &list(&p, Kind::Dns, Filter::default())[0];
    assert_eq!(row["qname"], "us.v27.distributed.net");
    assert_eq!(row["qname_wire"], "Us.V27.DiStRiBuTeD.NET");
    assert_eq!((&row["rcode"], &row["answers"]), (&Value::Null, &json!([])));
}

#[test]
fn devices_merge_sightings_in_time_order() {
    let (_d, p) = db();
    let t0 = 1_714_564_800 * MICROS;
    write(
        &p,
        vec![
            sighting(t0 + 200, PHONE, Some("Pixel-7"), None, Some("192.168.4.23")),
            sighting(t0 + 100, PHONE, Some("android-old"), Some("Google"), None),
            sighting(t0 + 300, PHONE, None, None, Some("fe80::1")),
            sighting(t0 + 50, PHONE, None, None, Some("192.168.4.23")),
            sighting(
                t0 + 10,
                LAPTOP,
                None,
                Some("Cisco-Linksys"),
                Some("192.168.0.10"),
            ),
        ],
    );
    assert_eq!(
        list(&p, Kind::Devices, Filter::default()),
        [
            json!({"mac": LAPTOP, "vendor": "Cisco-Linksys", "randomized": false, "hostname": null,
               "ips": ["192.168.0.10"], "first_seen": "2024-05-01T12:00:00.000010Z",
               "last_seen": "2024-05-01T12:00:00.000010Z", "name": null, "label": null, "os": null, "model": null, "app": null,
               "vendor_class": null, "same_as": null}),
            json!({"mac": PHONE, "vendor": "Google", "randomized": true, "hostname": "Pixel-7",
               "ips": ["192.168.4.23", "fe80::1"], "first_seen": "2024-05-01T12:00:00.000050Z",
               "last_seen": "2024-05-01T12:00:00.000300Z", "name": null, "label": null, "os": null, "model": null, "app": null,
               "vendor_class": null, "same_as": null}),
        ]
    );
}

#[test]
fn filters_and_ordering() {
    let (_d, p) = db();
    // Written newest first: listings still come oldest first.
    let mut evs = all_events();
    evs.reverse();
    write(&p, evs);
    let ts = |rows: &[Value]| {
        rows.iter()
            .map(|r| r["ts"].as_str().expect("ts").to_string())
            .collect::<Vec<_>>()
    };
    let dhcp = list(&p, Kind::Dhcp, Filter::default());
    let mut sorted = ts(&dhcp);
    sorted.sort();
    assert_eq!(ts(&dhcp), sorted);

    let since = us(&json!(1565212114.67498));
    let dns = list(
        &p,
        Kind::Dns,
        Filter {
            since: Some(since),
            ..Filter::default()
        },
    );
    assert_eq!(ts(&dns), ["2019-08-07T21:08:34.674980Z"]);

    let phone = Filter {
        device: Some(mac(PHONE)),
        ..Filter::default()
    };
    assert_eq!(list(&p, Kind::Dns, phone).len(), 2);
    assert_eq!(list(&p, Kind::Http, phone).len(), 0);
    assert_eq!(
        list(
            &p,
            Kind::Dhcp,
            Filter {
                device: Some(mac(LAPTOP)),
                ..phone
            }
        )
        .len(),
        4
    );

    // limit keeps the newest N, printed oldest first.
    let last2 = list(
        &p,
        Kind::Dhcp,
        Filter {
            limit: Some(2),
            ..Filter::default()
        },
    );
    assert_eq!(ts(&last2), ts(&dhcp)[2..]);
    assert_eq!(last2[0]["msg_type"], json!(dhcpd::msg_type_name(3)));
}

#[test]
fn full_queue_drops_and_counts() {
    let (_d, p) = db();
    let cfg = WriterConfig {
        queue_capacity: 1,
        batch_max: 1,
        ..quick()
    };
    let w = Writer::spawn(&p, cfg).expect("spawn");
    let sink = w.sink();
    let ev = Event::Dns(corpus_dns().remove(0));
    let sent = 20_000u64;
    let accepted = (0..sent).filter(|_| sink.send(ev.clone())).count() as u64;
    let stats = w.finish().expect("finish");
    assert!(stats.dropped_queue > 0, "nothing dropped");
    assert_eq!(stats.dropped_queue, sent - accepted);
    assert_eq!(stats.written.dns, accepted);
    assert_eq!(
        list(&p, Kind::Dns, Filter::default()).len() as u64,
        accepted
    );
}

#[test]
fn retention_deletes_old_rows_in_chunks_and_keeps_new_ones() {
    let (_d, p) = db();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_micros() as Ts;
    let old = corpus_dns().remove(0); // 2019: far beyond 30 days
    let mut evs: Vec<Event> = (0..2500).map(|_| Event::Dns(old.clone())).collect();
    evs.push(Event::Dns(DnsRecord {
        ts: now,
        ..old.clone()
    }));
    evs.push(sighting(old.ts, LAPTOP, None, None, Some("192.168.0.10")));
    evs.push(sighting(now, PHONE, None, None, None));
    write(&p, evs);

    // One step deletes at most a chunk per table and says whether more remain.
    let conn = schema::open_write(&p).expect("open");
    let cutoff = retention::cutoff(now, 30);
    let s1 = retention::step(&conn, cutoff, 1000).expect("step");
    assert_eq!((s1.deleted, s1.more), (1002, true)); // 1000 dns + device_ips + devices
    drop(conn);

    // The writer finishes the job at start, chunk by chunk.
    let w = Writer::spawn(
        &p,
        WriterConfig {
            retention_days: 30,
            ..quick()
        },
    )
    .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    let stats = loop {
        let st = w.flush().expect("flush");
        if st.retention_deleted >= 1500 || Instant::now() > deadline {
            break st;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!((stats.retention_deleted, stats.retention_chunks), (1500, 2));
    w.finish().expect("finish");
    let left = list(&p, Kind::Dns, Filter::default());
    assert_eq!(left.len(), 1);
    let devices = list(&p, Kind::Devices, Filter::default());
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["mac"], PHONE);
}

#[test]
fn committed_batches_survive_a_crash() {
    let (d, p) = db();
    let w = Writer::spawn(&p, quick()).expect("spawn");
    let sink = w.sink();
    for e in all_events() {
        sink.send(e);
    }
    w.flush().expect("flush");
    // Copy the files while the writer still holds them, as power loss would leave them:
    // the committed batch lives only in the WAL.
    let crashed = d.path().join("crashed.db");
    std::fs::copy(&p, &crashed).expect("copy db");
    std::fs::copy(
        format!("{}-wal", p.display()),
        format!("{}-wal", crashed.display()),
    )
    .expect("copy wal");
    drop(w); // no finish: the thread lives on while `sink` does
    assert_eq!(
        list(&p, Kind::Dhcp, Filter::default()).len(),
        4,
        "readable while the writer runs"
    );
    drop(sink);
    drop(schema::open_write(&crashed).expect("recover"));
    assert_eq!(list(&crashed, Kind::Dhcp, Filter::default()).len(), 4);
    assert_eq!(list(&crashed, Kind::Dns, Filter::default()).len(), 2);
}

#[test]
fn disk_full_loses_the_batch_and_the_writer_goes_on() {
    let (_d, p) = db();
    // max_db_bytes below the schema's size pins the file at its current page count.
    let cfg = WriterConfig {
        max_db_bytes: 1,
        batch_max: 10_000,
        flush_interval: Duration::from_secs(3600),
        ..quick()
    };
    let w = Writer::spawn(&p, cfg).expect("spawn");
    let sink = w.sink();
    let mut big = corpus_dns().remove(0);
    big.answers = (0..30)
        .map(|i| format!("2606:4700:4700::{i:04x}:1111:2222:3333"))
        .collect();
    for _ in 0..2000 {
        assert!(sink.send(Event::Dns(big.clone())));
    }
    let st = w.flush().expect("flush");
    assert_eq!(
        (st.failed_batches, st.lost_events, st.written.dns),
        (1, 2000, 0)
    );
    // A small batch still fits in the pages the file has.
    sink.send(Event::Dns(corpus_dns().remove(1)));
    let st = w.flush().expect("flush");
    assert_eq!((st.failed_batches, st.written.dns), (1, 1));
    w.finish().expect("finish");
    let rows = list(&p, Kind::Dns, Filter::default());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["trans_id"], 44321);
}

#[test]
fn status_reports_latest_counters_and_counts() {
    let (_d, p) = db();
    let w = Writer::spawn(&p, quick()).expect("spawn");
    let sink = w.sink();
    let snap = |ts, seen| CaptureStats {
        ts,
        source: "br0".into(),
        packets_seen: seen,
        bytes_seen: seen * 100,
        packets_decoded: seen - 3,
        decode_errors: 3,
        kernel_drops: 7,
        queue_drops: 2,
        flows_created: 40,
        flows_evicted: 1,
    };
    sink.send_stats(snap(1_000_000, 500));
    sink.send_stats(snap(2_000_000, 900));
    for e in all_events() {
        sink.send(e);
    }
    sink.send(sighting(5, PHONE, None, None, None));
    w.finish().expect("finish");
    let conn = schema::open_write(&p).expect("open");
    conn.execute(
        "INSERT INTO alerts (ts, severity, kind, device_mac, server_ip, server_port, proto, domain, country, asn, summary, detail, count) \
         VALUES (3000000, 'high', 'cleartext_password', ?1, '192.150.187.43', 80, 'tcp', 'bro.org', 'US', 25, 'HTTP Basic credentials sent in clear', '{\"header\":\"Authorization\"}', 2)",
        [PHONE],
    ).expect("alert");
    drop(conn);
    let conn = store::open_read(&p).expect("open_read");
    let st = query::status(&conn).expect("status");
    let cap = st.capture.expect("capture");
    assert_eq!(cap.stats, snap(2_000_000, 900));
    assert_eq!(cap.store_drops, 0);
    let r = st.records;
    assert_eq!(
        (
            r.dns,
            r.http,
            r.tls,
            r.dhcp,
            r.flows,
            r.devices,
            r.alerts,
            r.alerts_open
        ),
        (2, 1, 1, 4, 1, 1, 1, 1)
    );
    assert!(st.db_bytes >= 4096 * 20, "{}", st.db_bytes);
    assert_eq!(
        serde_json::to_value(&cap).expect("json")["ts"],
        "1970-01-01T00:00:02.000000Z"
    );

    assert_eq!(
        query::rows(&conn, Kind::Alerts, &Filter::default())
            .expect("alerts")
            .len(),
        1
    );
    let alerts = list(
        &p,
        Kind::Alerts,
        Filter {
            device: Some(mac(PHONE)),
            ..Filter::default()
        },
    );
    assert_eq!(
        alerts,
        [json!({
            "ts": "1970-01-01T00:00:03.000000Z", "severity": "high", "kind": "cleartext_password",
            "device_mac": PHONE, "device": null, "client_ip": null, "server_ip": "192.150.187.43", "server_port": 80,
            "proto": "tcp", "domain": "bro.org", "country": "US", "asn": 25,
            "summary": "HTTP Basic credentials sent in clear", "detail": {"header": "Authorization"},
            "count": 2, "last_ts": null, "acknowledged_at": null, "id": 1,
        })]
    );
}
