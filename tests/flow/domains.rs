//! DomainMap: per-client lookup, server fallback, replacement, eviction, interning.

use std::net::IpAddr;

use phonehome::flow::domains::{DomainMap, MAX_NAME_LEN};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn per_client_then_server_fallback() {
    let mut m = DomainMap::new();
    m.insert(1, ip("192.168.8.23"), ip("140.82.121.4"), "www.github.com");
    m.insert(2, ip("192.168.8.42"), ip("140.82.121.4"), "github.com");
    assert_eq!(
        m.lookup(ip("192.168.8.23"), ip("140.82.121.4")),
        Some("www.github.com")
    );
    assert_eq!(
        m.lookup(ip("192.168.8.42"), ip("140.82.121.4")),
        Some("github.com")
    );
    // A client whose lookup we did not see gets the latest name for that server.
    assert_eq!(
        m.lookup(ip("192.168.8.99"), ip("140.82.121.4")),
        Some("github.com")
    );
    assert_eq!(
        m.lookup_with_ts(ip("192.168.8.99"), ip("140.82.121.4")),
        Some(("github.com", 2))
    );
    assert_eq!(m.lookup(ip("192.168.8.23"), ip("2001:db8::1")), None);
    assert_eq!(m.len(), 2);
}

#[test]
fn reinsert_replaces_name() {
    let mut m = DomainMap::new();
    let (c, s) = (ip("10.0.0.2"), ip("2606:4700::6810:7c22"));
    m.insert(1, c, s, "a.example");
    m.insert(2, c, s, "b.example");
    assert_eq!(m.lookup(c, s), Some("b.example"));
    assert_eq!((m.len(), m.distinct_names()), (1, 1));
}

#[test]
fn eviction_drops_the_oldest_pair_and_its_fallback() {
    let mut m = DomainMap::with_max_entries(2);
    let c = ip("10.0.0.2");
    m.insert(1, c, ip("1.1.1.1"), "one.example");
    m.insert(2, c, ip("2.2.2.2"), "two.example");
    m.insert(3, c, ip("1.1.1.1"), "one.example"); // refreshes the first pair
    m.insert(4, c, ip("3.3.3.3"), "three.example");
    assert_eq!(m.evicted(), 1);
    assert_eq!(m.lookup(c, ip("2.2.2.2")), None);
    assert_eq!(m.lookup(ip("10.9.9.9"), ip("2.2.2.2")), None);
    assert_eq!(m.lookup(c, ip("1.1.1.1")), Some("one.example"));
    assert_eq!(m.lookup(c, ip("3.3.3.3")), Some("three.example"));
    assert_eq!((m.len(), m.distinct_names()), (2, 2));
}

#[test]
fn fallback_survives_eviction_of_an_older_pair() {
    let mut m = DomainMap::with_max_entries(2);
    let s = ip("1.1.1.1");
    m.insert(1, ip("10.0.0.2"), s, "old.example");
    m.insert(2, ip("10.0.0.3"), s, "new.example");
    m.insert(3, ip("10.0.0.4"), ip("9.9.9.9"), "other.example");
    assert_eq!(m.lookup(ip("10.0.0.2"), s), Some("new.example"));
    assert_eq!(m.distinct_names(), 2);
}

#[test]
fn bounded_under_many_inserts_and_names_interned() {
    let mut m = DomainMap::with_max_entries(1000);
    for i in 0..10_000u32 {
        let server = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
        m.insert(
            i64::from(i),
            ip("192.168.8.23"),
            server,
            ["cdn.example", "api.example"][i as usize % 2],
        );
    }
    assert_eq!((m.len(), m.evicted(), m.distinct_names()), (1000, 9000, 2));
    assert_eq!(
        m.lookup(ip("192.168.8.23"), ip("10.0.39.15")),
        Some("api.example")
    ); // i = 9999
    assert_eq!(m.lookup(ip("192.168.8.23"), ip("10.0.0.0")), None);
}

#[test]
fn rejects_empty_and_overlong_names() {
    let mut m = DomainMap::new();
    m.insert(0, ip("10.0.0.2"), ip("1.1.1.1"), "");
    m.insert(
        0,
        ip("10.0.0.2"),
        ip("1.1.1.1"),
        &"a".repeat(MAX_NAME_LEN + 1),
    );
    assert!(m.is_empty());
}
