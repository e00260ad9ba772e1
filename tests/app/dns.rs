//! DNS: corpus messages and hostile input.

use phonehome::decode::dns::{self, parse, qtype_name, rcode_name, DnsError, MAX_ANSWERS};
use proptest::prelude::*;

use crate::fixture;

fn data(m: &dns::DnsMessage) -> Vec<&str> {
    m.answers.iter().map(|a| a.data.as_str()).collect()
}

#[test]
fn mixed_case_qname_keeps_wire_case() {
    let m = parse(&fixture("dns-mixed-case-qname.f1")).expect("parses");
    assert_eq!(m.id, 20877);
    assert!(!m.is_response);
    assert_eq!(dns::opcode_name(m.opcode), "QUERY");
    assert_eq!(m.questions.len(), 1);
    assert_eq!(m.questions[0].name, "Us.V27.DiStRiBuTeD.NET");
    assert_eq!(qtype_name(m.questions[0].qtype), "A");
    assert!(m.answers.is_empty());
    assert!(!m.malformed);
}

#[test]
fn github_cname_answers() {
    for (q, r, addr) in [
        ("f1", "f2", "192.30.252.128"),
        ("f3", "f4", "192.30.252.130"),
    ] {
        let q = parse(&fixture(&format!("dns-udp-github-and-ptr.{q}"))).expect("query");
        assert_eq!((q.id, q.is_response), (57401, false));
        assert_eq!(q.questions[0].name, "www.github.com");
        assert_eq!(qtype_name(q.questions[0].qtype), "A");
        let r = parse(&fixture(&format!("dns-udp-github-and-ptr.{r}"))).expect("response");
        assert_eq!((r.id, r.is_response), (57401, true));
        assert_eq!(rcode_name(r.rcode), "NOERROR");
        assert_eq!(r.questions, q.questions);
        assert_eq!(data(&r), vec!["github.com", addr]);
        assert_eq!(r.answers[0].name, "www.github.com");
        assert_eq!(qtype_name(r.answers[0].rtype), "CNAME");
        assert_eq!(r.answers[1].name, "github.com");
        assert!(!r.malformed);
    }
}

#[test]
fn ptr_any_query_with_edns() {
    let m = parse(&fixture("dns-udp-github-and-ptr.f5")).expect("parses");
    assert_eq!(m.id, 51878);
    assert_eq!(m.questions[0].name, "10.100.10.10.in-addr.arpa");
    assert_eq!(qtype_name(m.questions[0].qtype), "ANY");
    assert_eq!(dns::opcode_name(m.opcode), "QUERY");
}

/// The corpus calls this LOC answer truncated, but on the wire RDLENGTH is 16, a complete
/// RFC 1876 version-0 LOC, and the RRSIG after it is complete too: both decode, as Zeek
/// reports them ("LOC …", "RRSIG 29 es.net"). The cut inside the RDATA is tested below.
#[test]
fn loc_answer_response_decodes_both_answers() {
    let q = parse(&fixture("dns-truncated-loc-answer.f1")).expect("query");
    assert_eq!(q.id, 33295);
    assert_eq!(q.questions[0].name, "sunn-pt1.es.net");
    assert_eq!(qtype_name(q.questions[0].qtype), "ANY");
    let r = parse(&fixture("dns-truncated-loc-answer.f2")).expect("response");
    assert_eq!((r.id, r.is_response), (33295, true));
    assert_eq!(rcode_name(r.rcode), "NOERROR");
    assert_eq!(r.questions, q.questions);
    assert!(!r.malformed);
    let types: Vec<String> = r.answers.iter().map(|a| qtype_name(a.rtype)).collect();
    assert_eq!(types, vec!["LOC", "RRSIG"]);
    assert_eq!(r.answers[0].name, "sunn-pt1.es.net");
    assert_eq!(r.answers[0].data, "LOC (16 bytes)");
    assert_eq!(r.answers[1].data, "LOC es.net");
}

#[test]
fn answer_cut_inside_rdata_keeps_header_and_question() {
    let full = fixture("dns-truncated-loc-answer.f2");
    // Header 12 + question 21 + owner pointer 2 + fixed RR fields 10: LOC RDATA at 45..61.
    let r = parse(&full[..53]).expect("header and question parse");
    assert_eq!(r.id, 33295);
    assert_eq!(r.questions[0].name, "sunn-pt1.es.net");
    assert!(r.answers.is_empty());
    assert!(r.malformed);
    // Cut inside the RRSIG: the LOC answer is kept.
    let r = parse(&full[..100]).expect("parses");
    assert_eq!(r.answers.len(), 1);
    assert_eq!(qtype_name(r.answers[0].rtype), "LOC");
    assert!(r.malformed);
}

/// (fixture, qname, qtype, rcode, answers) of dns-windows-ad-mixed responses.
const WINDOWS: &[(&str, &str, &str, &str, &[&str])] = &[
    ("f2", "google.com", "TXT", "NOERROR", &["v=spf1 ptr ?all"]),
    (
        "f4",
        "google.com",
        "MX",
        "NOERROR",
        &[
            "smtp4.google.com",
            "smtp5.google.com",
            "smtp6.google.com",
            "smtp1.google.com",
            "smtp2.google.com",
            "smtp3.google.com",
        ],
    ),
    (
        "f8",
        "104.9.192.66.in-addr.arpa",
        "PTR",
        "NOERROR",
        &["66-192-9-104.gen.twtelecom.net"],
    ),
    ("f10", "www.netbsd.org", "A", "NOERROR", &["204.152.190.12"]),
    (
        "f12",
        "www.netbsd.org",
        "AAAA",
        "NOERROR",
        &["2001:4f8:4:7:2e0:81ff:fe52:9a6b"],
    ),
    (
        "f16",
        "www.google.com",
        "AAAA",
        "NOERROR",
        &["www.l.google.com"],
    ),
    ("f22", "www.example.notginh", "AAAA", "NXDOMAIN", &[]),
    (
        "f26",
        "1.0.0.127.in-addr.arpa",
        "PTR",
        "NOERROR",
        &["localhost"],
    ),
    (
        "f29",
        "isc.org",
        "NS",
        "NOERROR",
        &[
            "ns-ext.nrt1.isc.org",
            "ns-ext.sth1.isc.org",
            "ns-ext.isc.org",
            "ns-ext.lga1.isc.org",
        ],
    ),
    (
        "f30",
        "_ldap._tcp.Default-First-Site-Name._sites.dc._msdcs.utelsystems.local",
        "SRV",
        "NXDOMAIN",
        &[],
    ),
];

#[test]
fn windows_sample_set_answers() {
    for &(f, qname, qtype, rcode, answers) in WINDOWS {
        let m = parse(&fixture(&format!("dns-windows-ad-mixed.{f}"))).expect(f);
        assert!(m.is_response, "{f}");
        assert_eq!(m.questions[0].name, qname, "{f}");
        assert_eq!(qtype_name(m.questions[0].qtype), qtype, "{f}");
        assert_eq!(rcode_name(m.rcode), rcode, "{f}");
        assert_eq!(data(&m), answers, "{f}");
        assert!(!m.malformed, "{f}");
    }
}

#[test]
fn windows_txt_query_and_any_response() {
    let q = parse(&fixture("dns-windows-ad-mixed.f1")).expect("query");
    assert_eq!((q.id, q.is_response), (4146, false));
    assert_eq!(qtype_name(q.questions[0].qtype), "TXT");
    // ANY www.isc.org: the expected addresses are among the answers (the A/AAAA ones).
    let m = parse(&fixture("dns-windows-ad-mixed.f24")).expect("response");
    assert_eq!(m.id, 65251);
    assert_eq!(qtype_name(m.questions[0].qtype), "ANY");
    let addrs: Vec<&str> = m
        .answers
        .iter()
        .filter(|a| a.rtype == 1 || a.rtype == 28)
        .map(|a| a.data.as_str())
        .collect();
    assert_eq!(addrs, vec!["2001:4f8:0:2::d", "204.152.184.88"]);
}

/// A 12-byte header with the given QD/AN counts, then `body`.
fn message(qd: u16, an: u16, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xAB, 0xCD, 0x81, 0x80];
    m.extend_from_slice(&qd.to_be_bytes());
    m.extend_from_slice(&an.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(body);
    m
}

#[test]
fn compression_loops_are_rejected() {
    // Question name is a pointer to itself.
    let m = message(1, 0, &[0xC0, 12, 0, 1, 0, 1]);
    assert_eq!(parse(&m), Err(DnsError::BadName));
    // Two pointers pointing at each other (12 -> 14 -> 12).
    let m = message(1, 0, &[0xC0, 14, 0xC0, 12, 0, 1, 0, 1]);
    assert_eq!(parse(&m), Err(DnsError::BadName));
    // A label then a pointer back to the label (a.a.a.… forever).
    let m = message(1, 0, &[1, b'a', 0xC0, 12, 0, 1, 0, 1]);
    assert_eq!(parse(&m), Err(DnsError::BadName));
    // Answer owner name loops: header and question survive, answer section malformed.
    let m = message(
        1,
        1,
        &[0, 0, 1, 0, 1, 0xC0, 17, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0],
    );
    let p = parse(&m).expect("question parses");
    assert_eq!(p.questions[0].name, "");
    assert!(p.malformed);
    assert!(p.answers.is_empty());
}

#[test]
fn huge_counts_stay_bounded() {
    // 65535 answers claimed, 200 real ones present: only MAX_ANSWERS are decoded.
    let mut body = vec![0, 0, 1, 0, 1];
    for _ in 0..200 {
        body.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 1]);
    }
    let p = parse(&message(1, u16::MAX, &body)).expect("parses");
    assert_eq!(p.answers.len(), MAX_ANSWERS);
    assert!(p.answers.capacity() <= MAX_ANSWERS);
    assert_eq!(p.answers[0].data, "10.0.0.1");
    assert!(p.malformed);
    // A bare header claiming 65535 questions is refused before allocating.
    assert_eq!(parse(&message(u16::MAX, 0, &[])), Err(DnsError::TooMany));
}

#[test]
fn rdata_that_does_not_fit_its_type_is_flagged() {
    // An A record with 3 bytes of RDATA: framing intact, record rendered generically.
    let body = [0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3];
    let p = parse(&message(1, 1, &body)).expect("parses");
    assert_eq!(p.answers[0].data, "A (3 bytes)");
    assert!(p.malformed);
    // A CNAME whose target runs past its RDLENGTH.
    let body = [0, 0, 1, 0, 1, 0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 1, 1, b'x', 0];
    let p = parse(&message(1, 1, &body)).expect("parses");
    assert_eq!(p.answers[0].data, "CNAME (1 bytes)");
    assert!(p.malformed);
}

#[test]
fn every_truncation_of_corpus_messages_is_safe() {
    for name in [
        "dns-udp-github-and-ptr.f2",
        "dns-truncated-loc-answer.f2",
        "dns-windows-ad-mixed.f4",
        "dns-windows-ad-mixed.f24",
        "dns-windows-ad-mixed.f29",
    ] {
        let full = fixture(name);
        let whole = parse(&full).expect(name);
        for n in 0..full.len() {
            if let Ok(p) = parse(&full[..n]) {
                // A prefix never yields more answers than the whole, and they agree.
                assert!(p.answers.len() <= whole.answers.len(), "{name} at {n}");
                assert_eq!(
                    p.answers[..],
                    whole.answers[..p.answers.len()],
                    "{name} at {n}"
                );
                assert_eq!(p.questions, whole.questions, "{name} at {n}");
            }
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse(&b);
    }

    #[test]
    fn mutated_corpus_message_never_panics(
        flips in proptest::collection::vec((0usize..212, any::<u8>()), 1..8)
    ) {
        let mut m = fixture("dns-udp-github-and-ptr.f2");
        for (i, v) in flips {
            if let Some(b) = m.get_mut(i) {
                *b = v;
            }
        }
        if let Ok(p) = parse(&m) {
            prop_assert!(p.answers.len() <= MAX_ANSWERS);
            for a in &p.answers {
                prop_assert!(a.name.len() <= 4 * 255);
            }
        }
    }
}
