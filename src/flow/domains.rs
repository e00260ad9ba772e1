//! Which DNS name led a client to a server address.
//!
//! The pipeline inserts, for every address a classic DNS response gives for its question, the
//! question's name: [`chain_addresses`] follows the CNAME chain from the query name (at most
//! [`MAX_CNAME_CHAIN`] links), so `a.example → CNAME b.cdn.net → A 1.2.3.4` names flows to
//! 1.2.3.4 `a.example`, the name the device asked for, not the CDN's. Address records whose
//! owner is not on the chain (stray or injected extra records) teach nothing. mDNS and LLMNR
//! answers never come here: they name hosts on the local link, not servers a resolver chose.
//! A flow then looks up `(client, server)`; when that client's own lookup was not seen (e.g. a
//! cached answer), the most recent name any client resolved to that server address is the
//! fallback.
//!
//! Precedence of a flow's domain (set in `pipeline`): the name from this map, looked up when the
//! flow starts, is replaced by the name the client itself declares once it is seen: the TLS
//! SNI (TCP or QUIC) or the HTTP Host. The map's name is a guess by address, and one CDN
//! address serves many names; the client's own name is what it connected for. For a CNAME
//! chain the map's name is the query name, which is the name the client also puts in its SNI,
//! so the two agree in the common case.
//!
//! Invariants:
//! - At most `max_entries` (client, server) pairs (default [`MAX_ENTRIES`]); inserting beyond
//!   it evicts the oldest insertion, so long captures use constant memory. The by-server
//!   fallback map never holds more entries than the pair map.
//! - Names are interned (`Arc<str>`, shared by every pair that resolved the same name), so an
//!   entry costs two addresses, a pointer and two integers; names longer than
//!   [`MAX_NAME_LEN`] are refused.
//! - Every operation is O(1) amortised: eviction order is a queue of insertion serials with
//!   lazily skipped stale entries, compacted when it grows past twice the entry count.
//!   [`chain_addresses`] is O(chain × answers), both bounded.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::decode::dns::Answer;
use crate::event::Ts;

/// Default number of (client, server) entries kept: bounds memory on a long-running router
/// (65,536 entries is a few MiB).
pub const MAX_ENTRIES: usize = 65_536;

/// Longest name accepted, in bytes: a DNS name has at most 253 characters in text form (255
/// on the wire); anything longer is not a name a resolver returned.
pub const MAX_NAME_LEN: usize = 255;

/// Longest CNAME chain followed from the query name, in links. Resolvers stop at 8–16
/// (BIND's `max-cname-chain`-like limits); a longer chain, or a loop, in one answer is hostile
/// or broken, and its addresses are learnt only up to this depth.
pub const MAX_CNAME_CHAIN: usize = 16;

/// Addresses at most returned by [`chain_addresses`] for one response (the DNS decoder keeps
/// at most 128 answers anyway).
pub const MAX_CHAIN_ADDRESSES: usize = 64;

/// DNS record types used here.
const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;

/// The A/AAAA addresses that `answers` give for `qname`: those owned by the query name or by a
/// name the CNAME chain from it reaches within [`MAX_CNAME_CHAIN`] links (names compared
/// without case and trailing dot). At most [`MAX_CHAIN_ADDRESSES`], in answer order.
pub fn chain_addresses(qname: &str, answers: &[Answer]) -> Vec<IpAddr> {
    let mut chain: Vec<&str> = vec![trim_dot(qname)];
    let mut tail = trim_dot(qname);
    for _ in 0..MAX_CNAME_CHAIN {
        let next = answers
            .iter()
            .find(|a| a.rtype == TYPE_CNAME && trim_dot(&a.name).eq_ignore_ascii_case(tail))
            .map(|a| trim_dot(&a.data));
        match next {
            // A loop adds nothing new: stop.
            Some(n) if !chain.iter().any(|c| c.eq_ignore_ascii_case(n)) => {
                chain.push(n);
                tail = n;
            }
            _ => break,
        }
    }
    answers
        .iter()
        .filter(|a| matches!(a.rtype, TYPE_A | TYPE_AAAA))
        .filter(|a| {
            let owner = trim_dot(&a.name);
            chain.iter().any(|c| c.eq_ignore_ascii_case(owner))
        })
        .filter_map(|a| a.data.parse::<IpAddr>().ok())
        .take(MAX_CHAIN_ADDRESSES)
        .collect()
}

fn trim_dot(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

struct Entry {
    name: Arc<str>,
    serial: u64,
    ts: Ts,
}

/// Bounded map (client, server address) → the DNS name that led there.
pub struct DomainMap {
    max_entries: usize,
    by_pair: FxHashMap<(IpAddr, IpAddr), Entry>,
    /// Latest name per server address, with the serial of the pair insertion that set it.
    by_server: FxHashMap<IpAddr, Entry>,
    /// Interned names; a name leaves when no entry uses it any more.
    names: FxHashSet<Arc<str>>,
    /// Pair insertions in order: (serial, client, server).
    order: VecDeque<(u64, IpAddr, IpAddr)>,
    next_serial: u64,
    evicted: u64,
}

impl Default for DomainMap {
    fn default() -> Self {
        DomainMap::new()
    }
}

impl DomainMap {
    /// An empty map holding at most [`MAX_ENTRIES`] pairs.
    pub fn new() -> Self {
        DomainMap::with_max_entries(MAX_ENTRIES)
    }

    /// An empty map holding at most `max_entries` pairs (at least 1).
    pub fn with_max_entries(max_entries: usize) -> Self {
        DomainMap {
            max_entries: max_entries.max(1),
            by_pair: FxHashMap::default(),
            by_server: FxHashMap::default(),
            names: FxHashSet::default(),
            order: VecDeque::new(),
            next_serial: 0,
            evicted: 0,
        }
    }

    /// Records that `client` resolved `name` to `server` at `ts`. A newer insertion for the
    /// same pair replaces the name and makes the pair the newest. Empty or over-long names are
    /// ignored.
    pub fn insert(&mut self, ts: Ts, client: IpAddr, server: IpAddr, name: &str) {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return;
        }
        let name = self.intern(name);
        let serial = self.next_serial;
        self.next_serial += 1;
        let old = self.by_pair.insert(
            (client, server),
            Entry {
                name: name.clone(),
                serial,
                ts,
            },
        );
        let old_server = self.by_server.insert(server, Entry { name, serial, ts });
        for e in [old, old_server].into_iter().flatten() {
            self.release(e.name);
        }
        self.order.push_back((serial, client, server));
        while self.by_pair.len() > self.max_entries {
            if !self.evict_oldest() {
                break;
            }
        }
        if self.order.len() > 2 * self.max_entries.max(self.by_pair.len()) + 16 {
            let by_pair = &self.by_pair;
            self.order
                .retain(|(s, c, sv)| by_pair.get(&(*c, *sv)).is_some_and(|e| e.serial == *s));
        }
    }

    /// The name that led `client` to `server`, else the latest name any client resolved to
    /// `server`.
    pub fn lookup(&self, client: IpAddr, server: IpAddr) -> Option<&str> {
        self.by_pair
            .get(&(client, server))
            .or_else(|| self.by_server.get(&server))
            .map(|e| &*e.name)
    }

    /// Like [`DomainMap::lookup`], with the packet time of the answer that set the name.
    pub fn lookup_with_ts(&self, client: IpAddr, server: IpAddr) -> Option<(&str, Ts)> {
        self.by_pair
            .get(&(client, server))
            .or_else(|| self.by_server.get(&server))
            .map(|e| (&*e.name, e.ts))
    }

    /// Number of (client, server) pairs held.
    pub fn len(&self) -> usize {
        self.by_pair.len()
    }

    /// True when no pair is held.
    pub fn is_empty(&self) -> bool {
        self.by_pair.is_empty()
    }

    /// Pairs evicted to stay within the limit.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Distinct names held.
    pub fn distinct_names(&self) -> usize {
        self.names.len()
    }

    fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(name);
        self.names.insert(n.clone());
        n
    }

    /// Forgets an interned name once only the interner holds it.
    fn release(&mut self, name: Arc<str>) {
        // Two references left: `name` here and the interner's.
        if Arc::strong_count(&name) <= 2 {
            self.names.remove(&*name);
        }
    }

    /// Removes the oldest live pair (and its server fallback if no newer pair set it).
    fn evict_oldest(&mut self) -> bool {
        while let Some((serial, client, server)) = self.order.pop_front() {
            let live = self
                .by_pair
                .get(&(client, server))
                .is_some_and(|e| e.serial == serial);
            if !live {
                continue;
            }
            let pair = self.by_pair.remove(&(client, server)).map(|e| e.name);
            let fallback = if self
                .by_server
                .get(&server)
                .is_some_and(|e| e.serial == serial)
            {
                self.by_server.remove(&server).map(|e| e.name)
            } else {
                None
            };
            // One reference at a time, so the count check sees the other one.
            for n in [pair, fallback].into_iter().flatten() {
                self.release(n);
            }
            self.evicted += 1;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rr(name: &str, rtype: u16, data: &str) -> Answer {
        Answer {
            name: name.to_string(),
            rtype,
            data: data.to_string(),
        }
    }

    /// Parsed addresses (the literals below are all valid).
    fn ips(v: &[&str]) -> Vec<IpAddr> {
        v.iter().filter_map(|s| s.parse().ok()).collect()
    }

    #[test]
    fn chain_reaches_addresses_of_every_link_and_ignores_strays() {
        let answers = [
            rr("A.Example", TYPE_CNAME, "b.cdn.net"),
            rr("b.cdn.net", TYPE_CNAME, "c.edge.net."),
            rr("c.edge.net", TYPE_A, "1.2.3.4"),
            rr("c.edge.net", TYPE_AAAA, "2001:db8::4"),
            // Not on the chain: an extra record must not be credited to a.example.
            rr("evil.example", TYPE_A, "6.6.6.6"),
            rr("b.cdn.net", TYPE_A, "not an address"),
        ];
        assert_eq!(
            chain_addresses("a.example.", &answers),
            ips(&["1.2.3.4", "2001:db8::4"])
        );
        assert!(chain_addresses("other.example", &answers).is_empty());
    }

    #[test]
    fn chain_is_bounded_and_loops_end() {
        // n0 → n1 → … → n40, address on n40: beyond MAX_CNAME_CHAIN links, not learnt.
        let mut answers: Vec<Answer> = (0..40)
            .map(|i| rr(&format!("n{i}"), TYPE_CNAME, &format!("n{}", i + 1)))
            .collect();
        answers.push(rr("n40", TYPE_A, "1.2.3.4"));
        answers.push(rr(&format!("n{MAX_CNAME_CHAIN}"), TYPE_A, "5.6.7.8"));
        assert_eq!(chain_addresses("n0", &answers), ips(&["5.6.7.8"]));
        let looped = [
            rr("x", TYPE_CNAME, "y"),
            rr("y", TYPE_CNAME, "X"),
            rr("y", TYPE_A, "9.9.9.9"),
        ];
        assert_eq!(chain_addresses("x", &looped), ips(&["9.9.9.9"]));
    }
}
