//! The personal-identifier scanner (`phonehome::detect::pii`): every identifier and every
//! encoding found with its exact masked value, key and encoding; compressed and base64-wrapped
//! bodies; the Nokia 7 Plus registration POST; and silence on what is not an identifier —
//! timestamps, non-Luhn numbers, bare UUIDs, version strings, and every HTTP request, body and
//! DNS name of the real captures in `../shared/corpus`.
//!
//! Test identifiers: IMEI 490154203237518 (Wikipedia's IMEI example) and 352099001761481
//! (3GPP TS 23.003's), IMSI 460030123456789 (China Telecom's MCC+MNC 460-03), ICCID
//! 89860318123456789013 (Luhn-completed). None belongs to a person.

use std::io::Write;

use base64::Engine;
use phonehome::detect::pii::{
    dedup_for_device, Encoding, Finding, Identifier, KnownIdentifier, PiiScanner, Place,
};
use phonehome::event::MacAddr;

#[path = "pii/robust.rs"]
mod robust;

fn scanner() -> PiiScanner {
    PiiScanner::new(&[]).unwrap()
}

fn known_imei() -> PiiScanner {
    PiiScanner::new(&[KnownIdentifier {
        kind: Identifier::Imei,
        value: "490154203237518".into(),
        device: MacAddr::parse("3c:5a:b4:00:00:01"),
    }])
    .unwrap()
}

/// (identifier, masked, key, encoding, known) of each finding, for exact comparison.
type Row = (Identifier, String, Option<String>, Encoding, bool);

fn rows(f: &[Finding]) -> Vec<Row> {
    let mut v: Vec<Row> = f
        .iter()
        .map(|f| {
            (
                f.identifier,
                f.masked.clone(),
                f.key.clone(),
                f.encoding,
                f.known,
            )
        })
        .collect();
    v.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    v
}

fn row(id: Identifier, masked: &str, key: Option<&str>, enc: Encoding) -> Row {
    (id, masked.to_string(), key.map(str::to_string), enc, false)
}

fn body(s: &PiiScanner, b: &[u8], ct: Option<&str>, ce: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    s.scan_http_body(b, ct, ce, &mut out);
    out
}

fn request(s: &PiiScanner, uri: &str, head: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    s.scan_http_request(uri, head.as_bytes(), &mut out);
    out
}

#[test]
fn each_identifier_with_its_mask_and_key() {
    use Encoding::Plain;
    use Identifier::*;
    let s = scanner();
    let cases: &[(&str, Row)] = &[
        (
            "imei=490154203237518",
            row(Imei, "…7518", Some("imei"), Plain),
        ),
        (
            r#"{"deviceId":"352099001761481"}"#,
            row(Imei, "…1481", Some("deviceId"), Plain),
        ),
        ("id 490154203237518 end", row(Imei, "…7518", None, Plain)),
        (
            "imeisv=3520990017614823",
            row(Imei, "…4823", Some("imeisv"), Plain),
        ),
        (
            r#"{"MEID":"A1000049F8D2C3"}"#,
            row(Imei, "…D2C3", Some("MEID"), Plain),
        ),
        (
            "imsi=460030123456789",
            row(Imsi, "…6789", Some("imsi"), Plain),
        ),
        ("x 460030123456789 y", row(Imsi, "…6789", None, Plain)),
        (
            "iccid=89860318123456789013",
            row(Iccid, "…9013", Some("iccid"), Plain),
        ),
        (
            "sim: 8986031812345678901;",
            row(Iccid, "…8901", Some("sim"), Plain),
        ),
        (
            r#"{"serial":"B2NGAA8831702707"}"#,
            row(Serial, "…2707", Some("serial"), Plain),
        ),
        (
            "[ro.serialno]: [ZX1G22KHQK]",
            row(Serial, "…KHQK", Some("ro.serialno"), Plain),
        ),
        ("sn=R58M40ABCDE", row(Serial, "…BCDE", Some("sn"), Plain)),
        ("wifi 3c:5a:b4:11:22:33 up", row(Mac, "…2:33", None, Plain)),
        (
            "mac=3C-5A-B4-11-22-33",
            row(Mac, "…2-33", Some("mac"), Plain),
        ),
        (
            r#"{"wifi_mac":"3c5ab4112233"}"#,
            row(Mac, "…2233", Some("wifi_mac"), Plain),
        ),
        ("call +8613812345678 now", row(Phone, "…5678", None, Plain)),
        (
            "msisdn=8613812345678",
            row(Phone, "…5678", Some("msisdn"), Plain),
        ),
        (
            "to: alice.doe@example.org.",
            row(Email, "….org", Some("to"), Plain),
        ),
        (
            "lat=48.858370&lon=2.294481",
            row(Location, "…4481", Some("lat"), Plain),
        ),
        (
            r#"{"latitude": -33.856784, "longitude": 151.215297}"#,
            row(Location, "…5297", Some("latitude"), Plain),
        ),
        (
            r#"{"SIM1CELLID":"21733507"}"#,
            row(Location, "…3507", Some("SIM1CELLID"), Plain),
        ),
        (
            "android_id=9774d56d682e549c",
            row(AndroidId, "…549c", Some("android_id"), Plain),
        ),
        (
            r#"{"gaid":"38400000-8cf0-11bd-b23e-10b96e40000d"}"#,
            row(AdvertisingId, "…000d", Some("gaid"), Plain),
        ),
        (
            "idfa=6D92078A-8246-4BA4-AE5B-76104861E7DC",
            row(AdvertisingId, "…E7DC", Some("idfa"), Plain),
        ),
    ];
    for (input, want) in cases {
        let mut out = Vec::new();
        s.scan(Place::Payload, input.as_bytes(), &mut out);
        assert_eq!(rows(&out), vec![want.clone()], "input {input:?}");
        assert!(out
            .iter()
            .all(|f| f.place == Place::Payload && f.device.is_none()));
    }
}

#[test]
fn known_identifier_in_every_encoding() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use md5::Digest;
    let s = known_imei();
    let v = "490154203237518";
    let json = format!("{{\"a\":1,\"IMEI1\":\"{v}\"}}");
    let cases: Vec<(String, Encoding)> = vec![
        (format!("q={v}"), Encoding::Plain),
        (hex::encode(v), Encoding::Hex),
        (hex::encode_upper(v), Encoding::Hex),
        (hex::encode(md5::Md5::digest(v)), Encoding::Md5),
        (hex::encode_upper(md5::Md5::digest(v)), Encoding::Md5),
        (hex::encode(sha1::Sha1::digest(v)), Encoding::Sha1),
        (hex::encode_upper(sha1::Sha1::digest(v)), Encoding::Sha1),
        (hex::encode(sha2::Sha256::digest(v)), Encoding::Sha256),
        (hex::encode_upper(sha2::Sha256::digest(v)), Encoding::Sha256),
        (STANDARD.encode(&json), Encoding::Base64),
        (URL_SAFE_NO_PAD.encode(format!("x{json}")), Encoding::Base64),
        (STANDARD.encode(format!("xy{json}")), Encoding::Base64),
    ];
    for (payload, enc) in cases {
        let mut out = Vec::new();
        s.scan(Place::Payload, payload.as_bytes(), &mut out);
        let known: Vec<_> = out.iter().filter(|f| f.known).collect();
        assert_eq!(known.len(), 1, "{enc:?} in {payload}: {out:?}");
        let f = known[0];
        assert_eq!(
            (f.identifier, f.encoding, f.masked.as_str()),
            (Identifier::Imei, enc, "…7518")
        );
        assert_eq!(f.device, MacAddr::parse("3c:5a:b4:00:00:01"));
        // For its device, the unkeyed pattern finding of the same plain IMEI is folded into
        // the known one (for another device, it is the report: see dedup_for_device).
        let device = f.device;
        dedup_for_device(&mut out, device);
        assert_eq!(out.len(), 1, "{out:?}");
    }
    // A known e-mail, percent-encoded in a query string: one finding, `urlencoded`.
    let s = PiiScanner::new(&[KnownIdentifier {
        kind: Identifier::Email,
        value: "Alice.Doe+x@example.org".into(),
        device: None,
    }])
    .unwrap();
    let out = request(
        &s,
        "/a?user=Alice.Doe%2Bx%40example.org&b=1",
        "GET / HTTP/1.1\r\n\r\n",
    );
    assert_eq!(
        rows(&out),
        vec![(
            Identifier::Email,
            "….org".into(),
            Some("user".into()),
            Encoding::Urlencoded,
            true
        )]
    );
    // A known MAC configured with dashes is found as bare upper-case hex.
    let s = PiiScanner::new(&[KnownIdentifier {
        kind: Identifier::Mac,
        value: "3c-5a-b4-11-22-33".into(),
        device: None,
    }])
    .unwrap();
    let mut out = Vec::new();
    s.scan(Place::Payload, b"m=3C5AB4112233", &mut out);
    assert_eq!(
        rows(&out),
        vec![(
            Identifier::Mac,
            "…2-33".into(),
            Some("m".into()),
            Encoding::Plain,
            true
        )]
    );
}

#[test]
fn bad_known_values_are_errors_that_mask_the_value() {
    for (kind, value) in [
        (Identifier::Imei, "12345"),
        (Identifier::Mac, "not-a-mac-address"),
    ] {
        let e = PiiScanner::new(&[KnownIdentifier {
            kind,
            value: value.into(),
            device: None,
        }])
        .unwrap_err();
        let msg = e.to_string();
        assert!(!msg.contains(value), "{msg}");
    }
}

/// The placeholder BSSID of the Xiaomi corpus capture is silent (see
/// `real_corpus_gives_no_finding`); a real one in the same place is found.
#[test]
fn real_bssid_in_a_query_is_found() {
    let out = request(
        &scanner(),
        "/164566/sign_d?net=wifi&bssid=3c%3A5a%3Ab4%3A11%3A22%3A33",
        "",
    );
    assert_eq!(
        rows(&out),
        vec![row(
            Identifier::Mac,
            "…2:33",
            Some("bssid"),
            Encoding::Urlencoded
        )]
    );
}

#[test]
fn uri_and_headers() {
    let s = scanner();
    let out = request(
        &s,
        "/reg?msisdn=%2B8613812345678&lat=48.858370&lon=2.294481&t=1650284179123",
        "GET /reg HTTP/1.1\r\nHost: a.example\r\nX-Android-Id: 9774d56d682e549c\r\nUser-Agent: Dalvik/2.1.0 (Linux; U; Android 10; Redmi Note 9 Pro MIUI/V12.0.3.0.QJZMIXM)\r\n\r\n",
    );
    let mut got: Vec<_> = out
        .iter()
        .map(|f| (f.identifier, f.masked.as_str(), f.encoding, f.place))
        .collect();
    got.sort_by_key(|g| g.0);
    assert_eq!(
        got,
        vec![
            (Identifier::Phone, "…5678", Encoding::Urlencoded, Place::Uri),
            (Identifier::Location, "…4481", Encoding::Plain, Place::Uri),
            (
                Identifier::AndroidId,
                "…549c",
                Encoding::Plain,
                Place::Header
            ),
        ]
    );
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn compressed_and_wrapped_bodies() {
    let s = scanner();
    let json = br#"{"imei":"490154203237518","ts":1650284179123}"#;
    let want = vec![row(
        Identifier::Imei,
        "…7518",
        Some("imei"),
        Encoding::Plain,
    )];
    let gz = gzip(json);
    assert_eq!(
        rows(&body(&s, &gz, Some("application/json"), Some("gzip"))),
        want
    );
    // gzip without a Content-Encoding header is recognised by its magic bytes.
    assert_eq!(rows(&body(&s, &gz, None, None)), want);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json).unwrap();
    assert_eq!(
        rows(&body(&s, &z.finish().unwrap(), None, Some("deflate"))),
        want
    );
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    d.write_all(json).unwrap();
    assert_eq!(
        rows(&body(&s, &d.finish().unwrap(), None, Some("Deflate"))),
        want
    );
    // Wholly base64, quoted, with a line break; and base64 of gzip.
    let b64 = base64::engine::general_purpose::STANDARD.encode(json);
    let wrapped = format!("\"{}\n{}\"\r\n", &b64[..20], &b64[20..]);
    let want64 = vec![row(
        Identifier::Imei,
        "…7518",
        Some("imei"),
        Encoding::Base64,
    )];
    assert_eq!(
        rows(&body(&s, wrapped.as_bytes(), Some("text/plain"), None)),
        want64
    );
    let b64gz = base64::engine::general_purpose::STANDARD.encode(&gz);
    assert_eq!(rows(&body(&s, b64gz.as_bytes(), None, None)), want64);
    // A URL-encoded form.
    let form = b"name=a+b&mail=alice.doe%40example.org&imsi=460030123456789";
    assert_eq!(
        rows(&body(
            &s,
            form,
            Some("application/x-www-form-urlencoded"),
            None
        )),
        vec![
            row(Identifier::Imsi, "…6789", Some("imsi"), Encoding::Plain),
            row(
                Identifier::Email,
                "….org",
                Some("mail"),
                Encoding::Urlencoded
            ),
        ]
    );
}

/// The China Telecom self-registration the Nokia 7 Plus sent to zzhc.vnet.cn in 2019: a
/// base64-wrapped JSON object of device and SIM fields (field names as in that protocol).
#[test]
fn nokia_7_plus_registration_post() {
    let json = br#"{"REGVER":"5.0","MEID":"","MODEL":"TA-1046","SWVER":"00WW_3_22C","SIM1ICCID":"89860318123456789013","SIM1LTEIMSI":"460030123456789","SIM1CELLID":"21733507","IMEI1":"490154203237518","SERIALNO":"B2NGAA8831702707","MACID":"3c:5a:b4:11:22:33","ACCESSTYPE":"1","REGDATE":"2019-03-14 10:22:31"}"#;
    let post = base64::engine::general_purpose::STANDARD.encode(json);
    let out = body(
        &scanner(),
        post.as_bytes(),
        Some("application/encrypted-json"),
        None,
    );
    use Encoding::Base64;
    assert_eq!(
        rows(&out),
        vec![
            row(Identifier::Imei, "…7518", Some("IMEI1"), Base64),
            row(Identifier::Imsi, "…6789", Some("SIM1LTEIMSI"), Base64),
            row(Identifier::Iccid, "…9013", Some("SIM1ICCID"), Base64),
            row(Identifier::Serial, "…2707", Some("SERIALNO"), Base64),
            row(Identifier::Mac, "…2:33", Some("MACID"), Base64),
            row(Identifier::Location, "…3507", Some("SIM1CELLID"), Base64),
        ]
    );
    assert!(out.iter().all(|f| f.place == Place::Body && !f.known));
}

#[test]
fn what_is_not_an_identifier() {
    let s = known_imei();
    let benign: &[&str] = &[
        // 13-digit millisecond and 16-digit microsecond timestamps, in JSON and queries.
        r#"{"ts":1650284179123,"start_at":1681371995000,"us":1650284179123456,"id":42}"#,
        "/v1/ping?t=1650284179123&_=1650284179",
        // Non-Luhn 15-digit numbers with no MCC+MNC prefix; a keyed non-Luhn "IMEI".
        "order=123456789012345&ref=161234567890123 imei=490154203237519",
        // UUIDs that are not configured and have no advertising key.
        r#"{"requestId":"ddf4654b-fc9b-4d40-a914-964cff6cf379","uuid":"6D92078A-8246-4BA4-AE5B-76104861E7DC"}"#,
        // Version strings, dotted numbers and build ids.
        "Dalvik/2.1.0 (Linux; U; Android 10; Redmi Note 9 Pro MIUI/V12.0.3.0.QJZMIXM) 352.099001761481.2",
        "okhttp/4.9.3 app 10.20.30.40 build 4901542032375180",
        // Hex digests and tokens that contain digit runs.
        "s=762f2c07cf9262c61753f45b4117c232&sid=jccM7PF4XY0T",
        // An opted-out advertising ID, the Android MAC placeholder, broadcast, times.
        "gaid=00000000-0000-0000-0000-000000000000&bssid=02%3A00%3A00%3A00%3A00%3A00 ff:ff:ff:ff:ff:ff 12:30:45",
        // Coordinates with too few decimals or out of range; a lat without a lon.
        "lat=48.85&lon=2.29",
        "latitude=91.123456&longitude=2.294481",
        "lat=10.123456",
        // Retina asset names and URL user info are not e-mail addresses.
        "/img/icon@2x.png http://user@host.example/ a@b",
        // Phone-like numbers without + or a phone key; a plus inside a token.
        "tel 8613812345678 id=a+8613812345678 +0123456789",
        // Serial keys with placeholder values.
        "serial=unknown&sn=0123456789ABCDEF&serialno=000000000",
    ];
    for b in benign {
        let mut out = Vec::new();
        s.scan(Place::Payload, b.as_bytes(), &mut out);
        assert_eq!(out, vec![], "{b}");
        let out = request(&s, b, "GET / HTTP/1.1\r\n\r\n");
        assert_eq!(out, vec![], "{b}");
        assert_eq!(body(&s, b.as_bytes(), None, None), vec![], "{b}");
    }
    let mut out = Vec::new();
    s.scan_dns_name(
        "1650284179123.v12.0.3.0.ddf4654b-fc9b-4d40-a914-964cff6cf379.example.com",
        &mut out,
    );
    assert_eq!(out, vec![]);
}
