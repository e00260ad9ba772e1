//! DNS query/response pairing: one [`DnsRecord`] per question of each query, completed with the
//! rcode and answers of its response, or emitted unanswered after [`DNS_TIMEOUT`] of packet
//! time. Responses whose query was not captured become `response_only` records. mDNS queries
//! go to a multicast group and are answered by anyone, so they are emitted without pairing.
//!
//! The protocol is named by the server's port: 53 is classic DNS (over UDP or TCP, same
//! records), 5353 mDNS, 5355 LLMNR. Only classic DNS responses teach the [`DomainMap`] which
//! name led this client to an address (the query name, through the CNAME chain:
//! [`chain_addresses`]); mDNS and LLMNR answers describe hosts on the local link and never name
//! a flow. Over TCP the caller (`tcp.rs`) hands over one length-prefixed message at a time.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::{Counters, Sink};
use crate::decode::dns::{self, DnsMessage};
use crate::event::{DnsProtocol, DnsRecord, Event, MacAddr, Transport, Ts, MICROS};
use crate::flow::domains::{chain_addresses, DomainMap};

/// How long a query waits for its response (packet time).
pub const DNS_TIMEOUT: Ts = 30 * MICROS;
/// Queries waiting for a response at most; beyond it new queries are emitted unanswered at
/// once. Bounds memory under a flood of unanswered queries.
pub const MAX_PENDING: usize = 8192;
/// Records (questions) held by pending queries at most; beyond it new queries are emitted
/// unanswered at once. [`MAX_PENDING`] alone would let a flood of 8-question queries, each
/// retransmitted under its key, hold 8192 × 16 records with names of up to 255 bytes (~60 MB);
/// this keeps the worst case near 7 MB while real traffic (one question per key) never nears it.
pub const MAX_PENDING_RECORDS: usize = 16_384;
/// Questions per message turned into records (real messages carry one).
pub const MAX_QUESTIONS: usize = 8;
/// Answers kept per record.
pub const MAX_ANSWERS: usize = 32;
/// Records of one query key (retransmissions) waiting at most.
pub const MAX_RETRANSMITTED_RECORDS: usize = 16;
/// Answer types whose data names a server (A, NS, CNAME, PTR, MX, AAAA, SRV, DNAME): signatures,
/// keys and other records say nothing about whom a device talks to and are not kept.
const ANSWER_TYPES: [u16; 8] = [1, 2, 5, 12, 15, 28, 33, 39];

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    client: IpAddr,
    client_port: u16,
    server: IpAddr,
    server_port: u16,
    id: u16,
    tcp: bool,
}

struct Pending {
    ts: Ts,
    records: Vec<DnsRecord>,
}

/// Queries waiting for their responses.
pub(super) struct DnsPairing {
    pending: FxHashMap<Key, Pending>,
    /// Records held over all of `pending` (≤ [`MAX_PENDING_RECORDS`]).
    held: usize,
}

/// One DNS message with its addressing, as handed over by the UDP or TCP path.
pub(super) struct Wire<'a> {
    pub ts: Ts,
    pub transport: Transport,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
    pub payload: &'a [u8],
    /// The device side's MAC (sender of a query, receiver of a response).
    pub mac: Option<MacAddr>,
}

impl DnsPairing {
    pub fn new() -> Self {
        DnsPairing {
            pending: FxHashMap::default(),
            held: 0,
        }
    }

    /// Queries (keys) and records waiting for a response.
    pub fn held(&self) -> (usize, usize) {
        (self.pending.len(), self.held)
    }

    /// Handles one DNS/mDNS/LLMNR message.
    pub fn message(
        &mut self,
        w: &Wire<'_>,
        domains: &mut DomainMap,
        counters: &mut Counters,
        sink: &mut Sink<'_>,
    ) {
        let msg = match dns::parse(w.payload) {
            Ok(m) => m,
            Err(_) => {
                counters.app_errors += 1;
                return;
            }
        };
        counters.dns_messages += 1;
        // The server's port names the protocol (a resolver may be asked from port 5353).
        let server_port = if msg.is_response { w.sport } else { w.dport };
        let protocol = match server_port {
            5353 => DnsProtocol::Mdns,
            5355 => DnsProtocol::Llmnr,
            53 => DnsProtocol::Dns,
            _ if w.sport == 5353 || w.dport == 5353 => DnsProtocol::Mdns,
            _ if w.sport == 5355 || w.dport == 5355 => DnsProtocol::Llmnr,
            _ => DnsProtocol::Dns,
        };
        if msg.is_response {
            self.response(w, &msg, protocol, domains, sink);
        } else {
            self.query(w, &msg, protocol, sink);
        }
    }

    fn query(
        &mut self,
        w: &Wire<'_>,
        msg: &DnsMessage,
        protocol: DnsProtocol,
        sink: &mut Sink<'_>,
    ) {
        let records: Vec<DnsRecord> = msg
            .questions
            .iter()
            .take(MAX_QUESTIONS)
            .map(|q| DnsRecord {
                ts: w.ts,
                device_mac: w.mac,
                client_ip: w.src,
                client_port: w.sport,
                server_ip: w.dst,
                server_port: w.dport,
                transport: w.transport,
                protocol,
                trans_id: msg.id,
                opcode: msg.opcode,
                qname: q.name.clone(),
                qtype: q.qtype,
                rcode: None,
                answers: Vec::new(),
                response_only: false,
            })
            .collect();
        if records.is_empty() {
            return;
        }
        if protocol == DnsProtocol::Mdns
            || self.pending.len() >= MAX_PENDING
            || self.held.saturating_add(records.len()) > MAX_PENDING_RECORDS
        {
            records.into_iter().for_each(|r| sink(Event::Dns(r)));
            return;
        }
        let key = Key {
            client: w.src,
            client_port: w.sport,
            server: w.dst,
            server_port: w.dport,
            id: msg.id,
            tcp: w.transport == Transport::Tcp,
        };
        // A retransmitted query waits for the same response as the first copy, unless the
        // client keeps retrying without answer: then the oldest copies go out unanswered.
        match self.pending.get_mut(&key) {
            Some(p) => {
                if p.records.len() + records.len() > MAX_RETRANSMITTED_RECORDS {
                    self.held = self.held.saturating_sub(p.records.len());
                    p.records.drain(..).for_each(|r| sink(Event::Dns(r)));
                }
                p.ts = w.ts;
                self.held += records.len();
                p.records.extend(records);
            }
            None => {
                self.held += records.len();
                self.pending.insert(key, Pending { ts: w.ts, records });
            }
        }
    }

    fn response(
        &mut self,
        w: &Wire<'_>,
        msg: &DnsMessage,
        protocol: DnsProtocol,
        domains: &mut DomainMap,
        sink: &mut Sink<'_>,
    ) {
        let mut answers: Vec<String> = msg
            .answers
            .iter()
            .filter(|a| ANSWER_TYPES.contains(&a.rtype))
            .take(MAX_ANSWERS)
            .map(|a| a.data.clone())
            .collect();
        // Teach the domain map: the first question's name led the client to every address its
        // CNAME chain reaches. Only resolver traffic: mDNS/LLMNR answers name hosts on the link.
        if protocol == DnsProtocol::Dns {
            if let Some(q) = msg.questions.first() {
                let addrs = chain_addresses(&q.name, &msg.answers);
                if !addrs.is_empty() {
                    let name = q.name.trim_end_matches('.').to_ascii_lowercase();
                    for addr in addrs {
                        domains.insert(w.ts, w.dst, addr, &name);
                    }
                }
            }
        }
        let key = Key {
            client: w.dst,
            client_port: w.dport,
            server: w.src,
            server_port: w.sport,
            id: msg.id,
            tcp: w.transport == Transport::Tcp,
        };
        if let Some(p) = self.pending.remove(&key) {
            self.held = self.held.saturating_sub(p.records.len());
            // Usually one record: the last one takes the answers, earlier ones get copies.
            let last = p.records.len().saturating_sub(1);
            for (i, mut r) in p.records.into_iter().enumerate() {
                r.rcode = Some(msg.rcode);
                r.answers = if i == last {
                    std::mem::take(&mut answers)
                } else {
                    answers.clone()
                };
                sink(Event::Dns(r));
            }
            return;
        }
        for q in msg.questions.iter().take(MAX_QUESTIONS) {
            sink(Event::Dns(DnsRecord {
                ts: w.ts,
                device_mac: w.mac,
                client_ip: w.dst,
                client_port: w.dport,
                server_ip: w.src,
                server_port: w.sport,
                transport: w.transport,
                protocol,
                trans_id: msg.id,
                opcode: msg.opcode,
                qname: q.name.clone(),
                qtype: q.qtype,
                rcode: Some(msg.rcode),
                answers: answers.clone(),
                response_only: true,
            }));
        }
    }

    /// Emits queries unanswered for [`DNS_TIMEOUT`].
    pub fn expire(&mut self, now: Ts, sink: &mut Sink<'_>) {
        if self.pending.is_empty() {
            return;
        }
        let mut done: Vec<Key> = Vec::new();
        for (k, p) in &self.pending {
            if now.saturating_sub(p.ts) > DNS_TIMEOUT {
                done.push(*k);
            }
        }
        for k in done {
            if let Some(p) = self.pending.remove(&k) {
                self.held = self.held.saturating_sub(p.records.len());
                p.records.into_iter().for_each(|r| sink(Event::Dns(r)));
            }
        }
    }

    /// Emits every pending query (end of capture).
    pub fn flush(&mut self, sink: &mut Sink<'_>) {
        let mut all: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        self.held = 0;
        all.sort_by_key(|p| p.ts);
        for p in all {
            p.records.into_iter().for_each(|r| sink(Event::Dns(r)));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::synth::{dns_query, dns_response, DnsAnswer, RData};

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 8, 23));
    const RESOLVER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 8, 1));
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 34);

    fn wire(ts: Ts, query: bool, payload: &[u8]) -> Wire<'_> {
        let (src, sport, dst, dport) = if query {
            (CLIENT, 40_000, RESOLVER, 53)
        } else {
            (RESOLVER, 53, CLIENT, 40_000)
        };
        Wire {
            ts,
            transport: Transport::Udp,
            src,
            sport,
            dst,
            dport,
            payload,
            mac: None,
        }
    }

    /// Pins the pairing path that moves the answers into the last record instead of cloning
    /// them: every copy of a retransmitted query gets the same rcode and answers, and the
    /// domain map learns the lowered name.
    #[test]
    fn retransmitted_queries_all_get_the_answers() {
        let mut pairing = DnsPairing::new();
        let mut domains = DomainMap::new();
        let mut counters = Counters::default();
        let mut out = Vec::new();
        let mut sink = |e: Event| out.push(e);
        let q = dns_query(0x1234, "Example.COM", 1);
        pairing.message(&wire(0, true, &q), &mut domains, &mut counters, &mut sink);
        pairing.message(
            &wire(1_000, true, &q),
            &mut domains,
            &mut counters,
            &mut sink,
        );
        let answers = [
            DnsAnswer {
                name: "Example.COM",
                ttl: 60,
                data: RData::Cname("edge.example.net"),
            },
            DnsAnswer {
                name: "edge.example.net",
                ttl: 60,
                data: RData::A(SERVER),
            },
        ];
        let r = dns_response(0x1234, "Example.COM", 1, &answers);
        pairing.message(
            &wire(9_000, false, &r),
            &mut domains,
            &mut counters,
            &mut sink,
        );
        let records: Vec<DnsRecord> = out
            .into_iter()
            .filter_map(|e| match e {
                Event::Dns(d) => Some(d),
                _ => None,
            })
            .collect();
        assert_eq!(records.len(), 2);
        for (rec, ts) in records.iter().zip([0, 1_000]) {
            assert_eq!(rec.ts, ts);
            assert_eq!(rec.qname, "Example.COM");
            assert_eq!(rec.rcode, Some(0));
            assert_eq!(rec.answers, ["edge.example.net", "192.0.2.34"]);
            assert!(!rec.response_only);
        }
        assert_eq!(
            domains.lookup(CLIENT, IpAddr::V4(SERVER)),
            Some("example.com")
        );
        assert_eq!(counters.dns_messages, 3);
    }
}
