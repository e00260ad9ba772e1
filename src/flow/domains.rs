//! Which DNS name led a client to a server address.
//!
//! The pipeline inserts, for every A/AAAA answer address of a DNS response, the original query
//! name (a CNAME chain resolves to the name the device asked for). A flow then looks up
//! `(client, server)`; when that client's own lookup was not seen (e.g. a cached answer), the
//! most recent name any client resolved to that server address is the fallback.
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

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::event::Ts;

/// Default number of (client, server) entries kept: bounds memory on a long-running router
/// (65,536 entries is a few MiB).
pub const MAX_ENTRIES: usize = 65_536;

/// Longest name accepted, in bytes: a DNS name has at most 253 characters in text form (255
/// on the wire); anything longer is not a name a resolver returned.
pub const MAX_NAME_LEN: usize = 255;

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
