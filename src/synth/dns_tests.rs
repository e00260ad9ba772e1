//! Tests of the DNS builders: exact bytes, counts, and compression pointers that a strict
//! reader can follow.

use super::*;

/// Reads the name at `off`, following pointers, insisting that each pointer goes strictly
/// backwards to a position where a name was being written. Returns (name, bytes consumed at
/// `off`, pointers followed).
fn read_name(msg: &[u8], mut off: usize) -> (String, usize, usize) {
    let mut labels = Vec::new();
    let mut consumed = None;
    let mut pointers = 0;
    loop {
        let len = msg[off] as usize;
        if len & 0xc0 == 0xc0 {
            let target = ((len & 0x3f) << 8) | msg[off + 1] as usize;
            assert!(
                target < off,
                "pointer at {off} to {target} does not go backwards"
            );
            assert!(target >= 12, "pointer into the header");
            consumed.get_or_insert(off + 2);
            pointers += 1;
            off = target;
            continue;
        }
        assert!(len <= MAX_LABEL_LEN);
        if len == 0 {
            consumed.get_or_insert(off + 1);
            break;
        }
        labels.push(String::from_utf8(msg[off + 1..off + 1 + len].to_vec()).expect("ascii"));
        off += 1 + len;
    }
    (labels.join("."), consumed.expect("set"), pointers)
}

fn u16_at(m: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([m[i], m[i + 1]])
}

#[test]
fn query_bytes_exact() {
    let q = dns_query(0x1234, "a.example", TYPE_AAAA);
    assert_eq!(
        hex::encode(q),
        "1234010000010000000000000161076578616d706c650000 1c0001".replace(' ', "")
    );
}

#[test]
fn cname_chain_response_is_compressed_and_decodes() {
    let answers = [
        DnsAnswer {
            name: "www.hmdglobal.com",
            ttl: 300,
            data: RData::Cname("www.hmdglobal.com.edgekey.net"),
        },
        DnsAnswer {
            name: "www.hmdglobal.com.edgekey.net",
            ttl: 300,
            data: RData::Cname("e7003.a.akamaiedge.net"),
        },
        DnsAnswer {
            name: "e7003.a.akamaiedge.net",
            ttl: 20,
            data: RData::A(Ipv4Addr::new(203, 0, 113, 90)),
        },
    ];
    let m = dns_response(0xbeef, "www.hmdglobal.com", TYPE_A, &answers);
    assert_eq!(u16_at(&m, 2), 0x8180);
    assert_eq!(
        (u16_at(&m, 4), u16_at(&m, 6), u16_at(&m, 8), u16_at(&m, 10)),
        (1, 3, 0, 0)
    );
    let (qname, end, p) = read_name(&m, 12);
    assert_eq!((qname.as_str(), p), ("www.hmdglobal.com", 0));
    let mut off = end + 4;
    let mut seen = Vec::new();
    let mut total_pointers = 0;
    for _ in 0..3 {
        let (owner, end, p1) = read_name(&m, off);
        total_pointers += p1;
        let rtype = u16_at(&m, end);
        let rdlen = u16_at(&m, end + 8) as usize;
        let rdata = end + 10;
        let data = match rtype {
            TYPE_CNAME => {
                let (t, used, p2) = read_name(&m, rdata);
                assert_eq!(
                    used,
                    rdata + rdlen,
                    "rdlength covers the compressed name exactly"
                );
                total_pointers += p2;
                t
            }
            TYPE_A => {
                assert_eq!(rdlen, 4);
                Ipv4Addr::new(m[rdata], m[rdata + 1], m[rdata + 2], m[rdata + 3]).to_string()
            }
            other => panic!("unexpected type {other}"),
        };
        seen.push((owner, rtype, data));
        off = rdata + rdlen;
    }
    assert_eq!(off, m.len(), "no trailing bytes");
    assert_eq!(
        seen,
        vec![
            (
                "www.hmdglobal.com".into(),
                TYPE_CNAME,
                "www.hmdglobal.com.edgekey.net".into()
            ),
            (
                "www.hmdglobal.com.edgekey.net".into(),
                TYPE_CNAME,
                "e7003.a.akamaiedge.net".into()
            ),
            (
                "e7003.a.akamaiedge.net".into(),
                TYPE_A,
                "203.0.113.90".into()
            ),
        ]
    );
    // Followed pointers: owner 1 → the question (1); target 1 shares no suffix and is written
    // in full (0); owner 2 → target 1 (1); target 2 ends in "net" → target 1's "net" (1);
    // owner 3 → target 2, whose tail points on to "net" (2).
    assert_eq!(total_pointers, 5);
    // The first answer's owner is the classic pointer to offset 12.
    assert_eq!(
        &m[end_of_question(&m)..end_of_question(&m) + 2],
        &[0xc0, 0x0c]
    );
}

fn end_of_question(m: &[u8]) -> usize {
    read_name(m, 12).1 + 4
}

#[test]
fn aaaa_answer_and_limits() {
    let ip: Ipv6Addr = "2001:db8::1".parse().expect("literal");
    let many = vec![
        DnsAnswer {
            name: "x.test",
            ttl: 1,
            data: RData::Aaaa(ip)
        };
        MAX_ANSWERS + 5
    ];
    let m = dns_response(1, "x.test", TYPE_AAAA, &many);
    assert_eq!(u16_at(&m, 6) as usize, MAX_ANSWERS);
    // question 12 + 8 + 4, each answer pointer 2 + 10 + 16.
    assert_eq!(m.len(), 12 + 8 + 4 + MAX_ANSWERS * 28);
    let long = format!("{}.{}", "a".repeat(100), "b.".repeat(200));
    let q = dns_query(2, &long, TYPE_A);
    let (name, end, _) = read_name(&q, 12);
    assert!(end - 12 <= MAX_NAME_LEN);
    assert!(name.starts_with(&"a".repeat(MAX_LABEL_LEN)));
    assert_eq!(q.len(), end + 4);
}
