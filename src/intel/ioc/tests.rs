//! Unit tests of the pure parts: canonical forms, the STIX pattern parser, list parsing, the
//! merge rules and matching semantics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use super::format::{csv_fields, parse_list};
use super::normalize::{self, url_key, url_prefixes, IpNet, Value};
use super::pattern::{self, Pattern};
use super::{IndicatorKind, IocSet};

fn set(name: &str, body: &str) -> IocSet {
    let (s, errors) = IocSet::from_bytes(Path::new(name), body.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    s
}

#[test]
fn domains_are_canonical() {
    assert_eq!(normalize::domain("Evil.COM.").unwrap(), "evil.com");
    assert_eq!(normalize::domain("*.evil.com").unwrap(), "evil.com");
    assert_eq!(
        normalize::domain("_dmarc.x-y.evil.com").unwrap(),
        "_dmarc.x-y.evil.com"
    );
    assert!(normalize::domain("a..b").is_err());
    assert!(normalize::domain("bücher.de").is_err());
    assert!(normalize::domain("a b.com").is_err());
    assert!(normalize::domain(&format!("{}.com", "a".repeat(64))).is_err());
    assert!(normalize::domain(&"a.".repeat(127)).is_ok()); // 253 once the root dot goes
    assert!(normalize::domain(&format!("{}bc", "a.".repeat(127))).is_err());
    assert_eq!(
        normalize::host_value("176.223.111.131").unwrap(),
        Value::Net(IpNet::host("176.223.111.131".parse().unwrap()))
    );
    assert_eq!(
        normalize::host_value("fgr1w2gnsdvsb.xyz/x").unwrap(),
        Value::Url("fgr1w2gnsdvsb.xyz/x".into())
    );
}

#[test]
fn networks_are_masked_and_bounded() {
    let n = normalize::parse_net("192.0.2.77/24").unwrap();
    assert_eq!(
        (n.addr.to_string(), n.len, n.text()),
        ("192.0.2.0".into(), 24, "192.0.2.0/24".into())
    );
    assert_eq!(
        normalize::parse_net("2001:db8::1/32").unwrap().text(),
        "2001:db8::/32"
    );
    assert_eq!(normalize::parse_net("10.0.0.1").unwrap().text(), "10.0.0.1");
    assert!(normalize::parse_net("10.0.0.0/33").is_none());
    assert!(normalize::parse_net("10.0.0.0/").is_none());
    assert!(normalize::parse_net("10.0.0.0/+8").is_none());
    assert_eq!(normalize::parse_net("10.0.0.0/0").unwrap().len, 0);
}

#[test]
fn url_keys_drop_scheme_port_fragment_and_keep_path_case() {
    assert_eq!(
        url_key("HTTPS://User:pw@Evil.Com:443/A/b/?q=1#frag").unwrap(),
        "evil.com/A/b?q=1"
    );
    assert_eq!(url_key("http://evil.com").unwrap(), "evil.com/");
    assert_eq!(url_key("evil.com:8080/x/").unwrap(), "evil.com:8080/x");
    assert_eq!(
        url_key("http://[2001:DB8::1]:80/p").unwrap(),
        "[2001:db8::1]/p"
    );
    assert_eq!(url_key("http://10.1.2.3/p").unwrap(), "10.1.2.3/p");
    assert!(url_key("http:///nohost").is_none());
    assert!(url_key("http://evil.com:99999999/").is_none());
    assert!(url_key(&format!("evil.com/{}", "a".repeat(5000))).is_none());
    let k = url_key("evil.com/a/b/c?x=1").unwrap();
    let p: Vec<&str> = url_prefixes(&k).collect();
    assert_eq!(
        p,
        [
            "evil.com/a/b/c?x=1",
            "evil.com/a/b/c",
            "evil.com/a/b",
            "evil.com/a",
            "evil.com/"
        ]
    );
    let k = url_key("evil.com").unwrap();
    assert_eq!(url_prefixes(&k).collect::<Vec<_>>(), ["evil.com/"]);
    let deep = url_key(&format!("e.com{}", "/a".repeat(500))).unwrap();
    assert_eq!(url_prefixes(&deep).count(), normalize::MAX_URL_SEGMENTS);
}

#[test]
fn ja4_and_email_shapes() {
    let j = "t13d1516h2_8daaf6152771_02713d6af862";
    assert_eq!(normalize::ja4(&j.to_uppercase()).unwrap(), j);
    assert!(normalize::ja4("t13d1516h2_8daaf6152771_02713d6af86").is_none());
    assert!(normalize::ja4("x13d1516h2_8daaf6152771_02713d6af862").is_none());
    assert_eq!(
        normalize::email("mailto:Bob@Evil.Example").unwrap(),
        "bob@evil.example"
    );
    assert!(normalize::email("@evil.example").is_err());
    assert!(normalize::email("bob@").is_err());
}

#[test]
fn stix_patterns() {
    let one = |p: &str| pattern::parse(p).unwrap();
    assert_eq!(
        one("[domain-name:value='weather4free.com']"),
        Pattern::AnyOf(vec![(
            "domain-name:value".into(),
            "weather4free.com".into()
        )])
    );
    assert_eq!(
        one("[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value='5.6.7.8'] OR ([url:value='a\\'b'])"),
        Pattern::AnyOf(vec![
            ("ipv4-addr:value".into(), "1.2.3.4".into()),
            ("ipv4-addr:value".into(), "5.6.7.8".into()),
            ("url:value".into(), "a'b".into()),
        ])
    );
    assert_eq!(
        one("[file:hashes.'SHA-256'='ab']"),
        Pattern::AnyOf(vec![("file:hashes.'SHA-256'".into(), "ab".into())])
    );
    for unsupported in [
        "[domain-name:value='a' AND ipv4-addr:value='1.2.3.4']",
        "[domain-name:value='a'] FOLLOWEDBY [domain-name:value='b']",
        "[domain-name:value='a'] WITHIN 300 SECONDS",
        "[domain-name:value MATCHES '^a']",
        "[network-traffic:dst_port > 1024]",
        "[file:size IN (1, 2)]",
        "[email-message:to_refs[*].value = 'a@b.c'] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
        "[domain-name:value NOT = 'a']",
    ] {
        assert_eq!(pattern::parse(unsupported), Ok(Pattern::Unsupported), "{unsupported}");
    }
    for bad in [
        "[domain-name:value='a'",
        "domain-name:value='a'",
        "[domain-name:value='a]",
        "[domain-name:value=]",
        "[value='a']",
        "[domain-name:value='a'] OR",
        "[domain-name:value ! 'a']",
        "[domain-name:value='a\\x']",
        "",
    ] {
        assert!(pattern::parse(bad).is_err(), "{bad}");
    }
    let deep = format!("{}[a:b='c']{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(pattern::parse(&deep), Err("STIX pattern nested too deeply"));
}

#[test]
fn hosts_and_plain_lists() {
    let f = parse_list(
        "# comment\n127.0.0.1 localhost\n::1 ip6-localhost\nfe80::1%lo0 localhost\n0.0.0.0 0.0.0.0\n\
         0.0.0.0 Ads.Example # trailing comment\n127.0.0.1 a.example b.example\nbare.example\n\
         198.51.100.7\nhttp://x.example/p#frag\nbob@x.example\nt13d1516h2_8daaf6152771_02713d6af862\n\
         intranet\n127.0.0.1\n\n",
    )
    .unwrap();
    let v: Vec<&Value> = f.items.iter().map(|p| &p.value).collect();
    assert_eq!(
        v,
        [
            &Value::Domain("ads.example".into()),
            &Value::Domain("a.example".into()),
            &Value::Domain("b.example".into()),
            &Value::Domain("bare.example".into()),
            &Value::Net(IpNet::host("198.51.100.7".parse().unwrap())),
            &Value::Url("x.example/p".into()),
            &Value::Email("bob@x.example".into()),
            &Value::Ja4("t13d1516h2_8daaf6152771_02713d6af862".into()),
        ]
    );
    // localhost ×3, the 0.0.0.0 name, `intranet` (one label), the loopback address.
    assert_eq!(f.skipped_entries, 6);
    assert_eq!(
        parse_list("ok.example\nfoo bar\n").unwrap_err().line,
        Some(2)
    );
    assert_eq!(
        parse_list("0.0.0.0 ok.example bad!name\n")
            .unwrap_err()
            .line,
        Some(1)
    );
}

#[test]
fn csv_quoting() {
    assert_eq!(
        csv_fields("domain,\"a,b\",\"say \"\"hi\"\"\"").unwrap(),
        ["domain", "a,b", "say \"hi\""]
    );
    assert!(csv_fields("domain,\"open").is_none());
}

#[test]
fn domain_matching_covers_subdomains_only_at_label_boundaries() {
    let s = set("l.txt", "evil.example\n1ca43.appspot.com\n");
    assert_eq!(
        s.match_domain("EVIL.example.").unwrap().indicator,
        "evil.example"
    );
    assert_eq!(
        s.match_domain("a.b.evil.example").unwrap().indicator,
        "evil.example"
    );
    assert!(s.match_domain("notevil.example").is_none());
    assert!(s.match_domain("example").is_none());
    assert!(s.match_domain("appspot.com").is_none());
    assert!(s.match_domain(&"a".repeat(300)).is_none());
    assert_eq!(
        s.match_domain("x.1ca43.appspot.com").unwrap().source,
        "l.txt"
    );
}

#[test]
fn ip_matching_prefers_the_most_specific_network() {
    let s = set("ips", "10.0.0.0/8\n10.1.0.0/16\n10.1.2.3\n2001:db8::/32\n");
    assert_eq!(
        s.match_ip("10.1.2.3".parse().unwrap()).unwrap().indicator,
        "10.1.2.3"
    );
    assert_eq!(
        s.match_ip("10.1.9.9".parse().unwrap()).unwrap().indicator,
        "10.1.0.0/16"
    );
    assert_eq!(
        s.match_ip("10.200.0.1".parse().unwrap()).unwrap().indicator,
        "10.0.0.0/8"
    );
    assert_eq!(
        s.match_ip("2001:db8:1::5".parse().unwrap())
            .unwrap()
            .indicator,
        "2001:db8::/32"
    );
    assert!(s.match_ip("11.0.0.1".parse().unwrap()).is_none());
    // Too broad a network would flag the whole Internet: not loaded.
    let s = set("ips", "0.0.0.0/0\n1.0.0.0/7\n::/0\n");
    assert!(s.is_empty());
    assert_eq!(s.stats().skipped_entries, 3);
}

#[test]
fn url_email_ja4_matching() {
    let s = set(
        "l",
        "evil.example/drop/\nbob@evil.example\nT13D1516H2_8DAAF6152771_02713D6AF862\n",
    );
    assert_eq!(
        s.match_url("https://EVIL.example/drop/stage.apk")
            .unwrap()
            .indicator,
        "evil.example/drop"
    );
    assert!(s.match_url("https://evil.example/dropper").is_none());
    assert!(s.match_url("https://evil.example/").is_none());
    assert_eq!(
        s.match_email("Bob@EVIL.example").unwrap().kind,
        IndicatorKind::Email
    );
    assert_eq!(
        s.match_ja4("t13d1516h2_8daaf6152771_02713d6af862")
            .unwrap()
            .kind,
        IndicatorKind::Ja4
    );
    assert!(s
        .match_ja4("t13d1516h2_8daaf6152771_000000000000")
        .is_none());
    assert_eq!(s.counts().map(|(_, n)| n), [0, 0, 0, 1, 1, 1]);
}

#[test]
fn duplicates_keep_the_richest_record() {
    let yaml = "- name: Spy\n  websites:\n  - spy.example\n  - both.example\n  c2:\n    domains:\n    - both.example\n";
    let dir = tempfile::tempdir().unwrap();
    let w = |n: &str, b: &str| std::fs::write(dir.path().join(n), b).unwrap();
    w("a_list.txt", "spy.example\nboth.example\nonly.example\n");
    w("b_ioc.yaml", yaml);
    let (s, errors) = IocSet::load(&[dir.path().to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    // The YAML's website role and family beat the bare list's plain record.
    let hit = s.match_domain("spy.example").unwrap();
    assert_eq!(
        (hit.kind, hit.family),
        (IndicatorKind::Website, Some("Spy"))
    );
    assert!(hit.source.ends_with("b_ioc.yaml"));
    // Within one source, C2 outranks website.
    assert_eq!(
        s.match_domain("both.example").unwrap().kind,
        IndicatorKind::Domain
    );
    assert_eq!(s.match_domain("only.example").unwrap().family, None);
    assert_eq!(s.count(IndicatorKind::Domain), 2);
    assert_eq!(s.count(IndicatorKind::Website), 1);
    assert_eq!(s.stats().duplicates, 3);
    assert!(s.heap_bytes() > 0);
}

#[test]
fn error_display_is_path_line_message() {
    let (_, errors) = IocSet::from_bytes(
        Path::new("/etc/x.json"),
        b"{\"iocs\": [\n  {\"type\": \"domain\"}\n]}",
    );
    assert_eq!(errors.len(), 1);
    let e = errors[0].to_string();
    assert!(
        e.starts_with("/etc/x.json:2: invalid JSON: missing field `value`"),
        "{e}"
    );
    let (_, errors) = IocSet::from_bytes(Path::new("bin"), b"ok.example\n\xff\xfe\n");
    assert_eq!(errors[0].to_string(), "bin:2: not UTF-8 text");
    let (s, errors) = IocSet::from_bytes(Path::new("i.yaml"), b"indicators:\n  - type: github\n");
    assert!(errors.is_empty() && s.is_empty());
    assert_eq!(s.stats().files_skipped.len(), 1);
}
