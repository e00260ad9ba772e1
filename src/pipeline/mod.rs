//! The analysis core for one frame at a time: decode → defragment → flow → application
//! decoders → records. Pure: frames and their timestamps go in, [`Event`]s come out through a
//! callback; nothing here touches files, sockets or the database, so the live daemon, the
//! offline analyser, tests and fuzzers all run the same code.
//!
//! Packet time drives everything (flow expiry, DNS pairing windows), so a replayed capture
//! behaves like the live run. The common path (a packet of an already-classified flow) does
//! no heap allocation: decoding borrows the frame and the flow lookup is a hash probe.

mod counters;
mod dns;
mod quic;
mod tcp;

pub use counters::{Counters, Held};
pub use dns::{MAX_PENDING as MAX_DNS_PENDING, MAX_PENDING_RECORDS as MAX_DNS_PENDING_RECORDS};
pub use quic::MAX_QUIC_PENDING;

use std::net::IpAddr;

use crate::decode::{self, dhcp, LinkType, Net, Packet, Transport as L4};
use crate::detect::Detectors;
use crate::event::{
    DhcpRecord, Event, FlowEnd, FlowEvidence, MacAddr, PayloadSample, Transport, Ts, MICROS,
};
use crate::flow::defrag::Defragmenter;
use crate::flow::devices::DeviceTable;
use crate::flow::domains::DomainMap;
use crate::flow::evidence::{EvidenceBudget, FlowFrames};
use crate::flow::ipv6bind;
use crate::flow::table::{Dir, Flow, FlowConfig, FlowTable, PacketMeta};

use dns::DnsPairing;
use tcp::AppState;

/// Tuning of the core; defaults suit a Pi.
#[derive(Clone, Copy, Debug)]
pub struct PipelineConfig {
    pub flows: FlowConfig,
    /// Bytes of each TCP direction kept for application decoding (HTTP heads, ClientHellos).
    pub inspect_bytes: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            flows: FlowConfig::default(),
            inspect_bytes: 16 * 1024,
        }
    }
}

/// Client datagrams of a UDP flow (other than DNS, DHCP and QUIC) sampled for the detectors,
/// and the bytes of each: identifiers sent in clear over UDP show up in the first packets.
const MAX_UDP_SAMPLES: u8 = 4;
const UDP_SAMPLE_BYTES: usize = 1500;

/// How often (packet time) idle flows, fragments and unanswered DNS queries are expired.
const HOUSEKEEPING_INTERVAL: Ts = MICROS;

/// The analysis core. Feed it frames with [`Pipeline::ingest`], then call
/// [`Pipeline::finish`] at the end of a capture or on shutdown.
pub struct Pipeline {
    cfg: PipelineConfig,
    flows: FlowTable<AppState>,
    defrag: Defragmenter,
    devices: DeviceTable,
    domains: DomainMap,
    dns: DnsPairing,
    next_housekeeping: Ts,
    counters: Counters,
    /// Taken out while a frame is processed (so the sink wrapper can borrow it).
    detectors: Option<Box<Detectors>>,
    /// Detectors are on: keep request heads and sample unclaimed payloads for them.
    detectors_on: bool,
    /// Caps the evidence frames all flows keep together.
    budget: EvidenceBudget,
    /// Caps the QUIC connections decoded at once.
    quic_budget: quic::QuicBudget,
    /// The packet being processed came through a tunnel (GTP-U).
    tunnelled: bool,
}

/// Where a packet's records go.
pub type Sink<'s> = dyn FnMut(Event) + 's;

impl Pipeline {
    pub fn new(cfg: PipelineConfig) -> Pipeline {
        Pipeline {
            cfg,
            flows: FlowTable::new(cfg.flows),
            defrag: Defragmenter::new(),
            devices: DeviceTable::new(),
            domains: DomainMap::new(),
            dns: DnsPairing::new(),
            next_housekeeping: Ts::MIN,
            counters: Counters::default(),
            detectors: None,
            detectors_on: false,
            budget: EvidenceBudget::default(),
            quic_budget: quic::QuicBudget::default(),
            tunnelled: false,
        }
    }

    /// A pipeline whose records also go through `detectors`, which add alerts (and fill the
    /// flows' country and AS) before anything reaches the sink.
    pub fn with_detectors(cfg: PipelineConfig, detectors: Detectors) -> Pipeline {
        let mut p = Pipeline::new(cfg);
        p.detectors = Some(Box::new(detectors));
        p.detectors_on = true;
        p
    }

    /// Takes the detectors back (to reuse them for the next capture file).
    pub fn take_detectors(&mut self) -> Option<Detectors> {
        self.detectors_on = false;
        self.detectors.take().map(|d| *d)
    }

    /// The detectors, if on (e.g. to reload indicators on SIGHUP).
    pub fn detectors_mut(&mut self) -> Option<&mut Detectors> {
        self.detectors.as_deref_mut()
    }

    /// Counters so far (flow-table counters included).
    pub fn counters(&self) -> Counters {
        let mut c = self.counters;
        let fs = self.flows.stats();
        c.flows_created = fs.created;
        c.flows_evicted = fs.evicted;
        c.flows_active = fs.active;
        c
    }

    /// Sizes of the state held now (see [`Held`]).
    pub fn held(&self) -> Held {
        let (dns_queries, dns_records) = self.dns.held();
        Held {
            flows: self.flows.len(),
            fragment_datagrams: self.defrag.in_progress(),
            fragment_bytes: self.defrag.buffered_bytes(),
            dns_queries,
            dns_records,
            quic_connections: self.quic_budget.pending(),
        }
    }

    /// Processes one captured frame.
    pub fn ingest(&mut self, ts: Ts, link: LinkType, data: &[u8], sink: &mut Sink<'_>) {
        match self.detectors.take() {
            None => self.ingest_frame(ts, link, data, sink),
            Some(mut d) => {
                let due = ts >= self.next_housekeeping;
                self.ingest_frame(ts, link, data, &mut |ev| d.process(ev, sink));
                if due {
                    d.tick(ts, sink);
                }
                self.detectors = Some(d);
            }
        }
    }

    fn ingest_frame(&mut self, ts: Ts, link: LinkType, data: &[u8], sink: &mut Sink<'_>) {
        self.counters.frames += 1;
        self.counters.bytes += data.len() as u64;
        if ts >= self.next_housekeeping {
            self.housekeeping(ts, sink);
            self.next_housekeeping = ts.saturating_add(HOUSEKEEPING_INTERVAL);
        }
        let pkt = match decode::decode_frame(link, data) {
            Ok(p) => p,
            Err(e) => {
                self.counters.count_decode_error(e);
                return;
            }
        };
        self.counters.decoded += 1;
        match &pkt.net {
            Net::Arp(arp) => {
                self.counters.arp += 1;
                if let Some(ev) =
                    self.devices
                        .observe_arp(ts, arp.sender_mac, IpAddr::V4(arp.sender_ip))
                {
                    sink(Event::Device(ev));
                }
            }
            Net::Ip(ip) => self.ip(ts, &pkt, ip, (link, data), sink),
            Net::Other => self.counters.other_net += 1,
        }
    }

    fn ip(
        &mut self,
        ts: Ts,
        pkt: &Packet<'_>,
        ip: &decode::IpPacket<'_>,
        frame: (LinkType, &[u8]),
        sink: &mut Sink<'_>,
    ) {
        match ip.src {
            IpAddr::V4(_) => self.counters.ipv4 += 1,
            IpAddr::V6(_) => self.counters.ipv6 += 1,
        }
        // MACs of a tunnelled packet belong to the tunnel, not to the inner endpoints.
        self.tunnelled = pkt.tunnel_depth > 0;
        let (src_mac, dst_mac) = if pkt.tunnel_depth > 0 {
            (None, None)
        } else {
            (pkt.src_mac, pkt.dst_mac)
        };
        // Neighbour discovery binds IPv6 addresses to MACs (and names routers).
        if let (IpAddr::V6(src6), Some(mac), None) = (ip.src, src_mac, ip.fragment) {
            if ip.proto == decode::transport::PROTO_ICMPV6 {
                ipv6bind::learn_ndp(
                    &mut self.devices,
                    ts,
                    (mac, src6, ip.ttl),
                    ip.payload,
                    &mut |s| sink(Event::Device(s)),
                );
            }
        }
        if let Some(frag) = ip.fragment {
            self.counters.fragments += 1;
            let Some(whole) = self
                .defrag
                .push(ts, ip.src, ip.dst, ip.proto, frag, ip.payload)
            else {
                return;
            };
            self.counters.reassembled += 1;
            let l4 = decode::transport::parse(ip.proto, &whole);
            self.transport(ts, ip.src, ip.dst, src_mac, dst_mac, l4, frame, sink);
            return;
        }
        self.transport(
            ts,
            ip.src,
            ip.dst,
            src_mac,
            dst_mac,
            ip.transport,
            frame,
            sink,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn transport(
        &mut self,
        ts: Ts,
        src: IpAddr,
        dst: IpAddr,
        src_mac: Option<MacAddr>,
        dst_mac: Option<MacAddr>,
        l4: L4<'_>,
        (link, frame): (LinkType, &[u8]),
        sink: &mut Sink<'_>,
    ) {
        let frame_len = frame.len() as u32;
        let (transport, sport, dport, flags) = match l4 {
            L4::Tcp(t) => (Transport::Tcp, t.src_port, t.dst_port, t.flags),
            L4::Udp(u) => (Transport::Udp, u.src_port, u.dst_port, 0),
            L4::Icmp { .. } => {
                self.counters.icmp += 1;
                return;
            }
            L4::Fragment | L4::Other => {
                self.counters.other_transport += 1;
                return;
            }
        };
        let meta = PacketMeta {
            ts,
            transport,
            src_ip: src,
            src_port: sport,
            dst_ip: dst,
            dst_port: dport,
            tcp_flags: flags,
            frame_len,
            src_mac,
            dst_mac,
        };
        let Pipeline {
            flows,
            devices,
            domains,
            dns,
            counters,
            cfg,
            detectors_on,
            budget,
            quic_budget,
            tunnelled,
            ..
        } = self;
        let mut ended = |f: Flow<AppState>, end: FlowEnd| {
            Self::flow_ended(devices, f, end, &mut *sink);
        };
        // `ended` borrows the sink; records of this packet are emitted after it is dropped.
        let (flow, dir) = flows.track(&meta, &mut ended);
        let new_flow = flow.packets_up + flow.packets_down == 1;
        if new_flow {
            counters.count_new_flow(transport);
            flow.app.tunnelled = *tunnelled;
            if flow.domain.is_none() {
                flow.domain = domains
                    .lookup(flow.client_ip, flow.server_ip)
                    .map(str::to_owned);
            }
            if let (Some(mac), Dir::Up) = (flow.client_mac, dir) {
                if let Some(ev) = devices.observe_traffic(ts, mac, flow.client_ip) {
                    sink(Event::Device(ev));
                }
            }
        }
        let device_mac = device_of(devices, flow);
        if *detectors_on && keeps_evidence(flow) {
            flow.app
                .frames
                .get_or_insert_with(|| FlowFrames::new(budget))
                .push(ts, link, frame, dir);
        }
        match l4 {
            L4::Tcp(seg) => {
                let mut cx = tcp::Ctx {
                    ts,
                    detectors: *detectors_on,
                    device_mac,
                    inspect_bytes: cfg.inspect_bytes,
                    dns,
                    domains,
                    counters,
                };
                let mut tap = |ev: Event| {
                    note_user_agent(devices, &ev, sink);
                    sink(ev);
                };
                tcp::segment(flow, dir, &seg, &mut cx, &mut tap);
            }
            L4::Udp(d) => {
                if is_dns_port(d.src_port) || is_dns_port(d.dst_port) {
                    let mac = if dir == Dir::Up { src_mac } else { dst_mac };
                    let wire = dns::Wire {
                        ts,
                        transport,
                        src,
                        sport: d.src_port,
                        dst,
                        dport: d.dst_port,
                        payload: d.payload,
                        mac: mac.or(device_mac),
                    };
                    dns.message(&wire, domains, counters, sink);
                } else if matches!((d.src_port, d.dst_port), (68, 67) | (67, 68) | (67, 67)) {
                    Self::dhcp(devices, counters, ts, (src, src_mac), dst, d.payload, sink);
                } else if matches!((d.src_port, d.dst_port), (546, 547) | (547, 546)) {
                    let client = if d.src_port == 546 { src_mac } else { dst_mac };
                    ipv6bind::learn_dhcpv6(devices, ts, client, d.payload, &mut |s| {
                        sink(Event::Device(s))
                    });
                } else if dir == Dir::Up
                    && quic::client_datagram(
                        flow,
                        d.payload,
                        ts,
                        device_mac,
                        (quic_budget, counters),
                        sink,
                    )
                {
                    // QUIC: the ClientHello became a TLS record; the rest is encrypted.
                } else if *detectors_on
                    && !flow.app.tunnelled
                    && dir == Dir::Up
                    && flow.server_port != 443
                    && !d.payload.is_empty()
                    && flow.app.udp_samples < MAX_UDP_SAMPLES
                {
                    flow.app.udp_samples += 1;
                    let bytes = d.payload.get(..UDP_SAMPLE_BYTES).unwrap_or(d.payload);
                    sink(Event::Payload(PayloadSample {
                        ts,
                        device_mac,
                        transport,
                        client_ip: flow.client_ip,
                        client_port: flow.client_port,
                        server_ip: flow.server_ip,
                        server_port: flow.server_port,
                        domain: flow.domain.clone(),
                        bytes: bytes.to_vec(),
                    }));
                }
            }
            _ => {}
        }
        if *detectors_on && !flow.app.evidence_done && evidence_complete(flow) {
            flow.app.evidence_done = true;
            if let Some(frames) = flow.app.frames.take().filter(|k| !k.is_empty()) {
                sink(Event::FlowFrames(FlowEvidence {
                    transport: flow.transport,
                    client_ip: flow.client_ip,
                    client_port: flow.client_port,
                    server_ip: flow.server_ip,
                    server_port: flow.server_port,
                    frames: frames.take(),
                }));
            }
        }
    }

    fn dhcp(
        devices: &mut DeviceTable,
        counters: &mut Counters,
        ts: Ts,
        (src, src_mac): (IpAddr, Option<MacAddr>),
        dst: IpAddr,
        payload: &[u8],
        sink: &mut Sink<'_>,
    ) {
        let Some(m) = dhcp::parse(payload) else {
            counters.app_errors += 1;
            return;
        };
        counters.dhcp += 1;
        // Whoever answers DHCP is the network's router (or the AP itself), not a phone.
        if let (2, Some(server_mac)) = (m.op, src_mac) {
            devices.set_router(ts, server_mac);
        }
        let v4 = |a: std::net::Ipv4Addr| (!a.is_unspecified()).then_some(IpAddr::V4(a));
        let rec = DhcpRecord {
            ts,
            device_mac: Some(m.client_mac),
            src_ip: src,
            dst_ip: dst,
            op: m.op,
            xid: m.xid,
            client_mac: m.client_mac,
            msg_type: m.msg_type,
            ciaddr: v4(m.ciaddr),
            yiaddr: v4(m.yiaddr),
            hostname: m.hostname.clone(),
            vendor_class: m.vendor_class.clone(),
            param_list: m.param_list.clone(),
            requested_ip: m.requested_ip.map(IpAddr::V4),
            server_id: m.server_id.map(IpAddr::V4),
            client_id: m.client_id.as_deref().map(hex::encode),
            options_present: m.options_present.clone(),
        };
        if let Some(ev) = devices.observe_dhcp(ts, (&rec).into()) {
            sink(Event::Device(ev));
        }
        sink(Event::Dhcp(rec));
    }

    fn flow_ended(
        devices: &mut DeviceTable,
        mut f: Flow<AppState>,
        end: FlowEnd,
        sink: &mut Sink<'_>,
    ) {
        let device_mac = device_of(devices, &f);
        tcp::flush_app(&mut f, device_mac, &mut |ev: Event| {
            note_user_agent(devices, &ev, sink);
            sink(ev);
        });
        sink(Event::Flow(f.record(device_mac, end)));
        if let Some(frames) = f.app.frames.take().filter(|k| !k.is_empty()) {
            sink(Event::FlowFrames(FlowEvidence {
                transport: f.transport,
                client_ip: f.client_ip,
                client_port: f.client_port,
                server_ip: f.server_ip,
                server_port: f.server_port,
                frames: frames.take(),
            }));
        }
    }

    fn housekeeping(&mut self, now: Ts, sink: &mut Sink<'_>) {
        let Pipeline {
            flows,
            devices,
            dns,
            defrag,
            ..
        } = self;
        flows.expire(now, &mut |f, end| {
            Self::flow_ended(devices, f, end, &mut *sink)
        });
        defrag.expire(now);
        dns.expire(now, sink);
    }

    /// Runs the time-driven work at `now` when no packet arrives (a quiet live interface),
    /// so idle flows still end on time.
    pub fn tick(&mut self, now: Ts, sink: &mut Sink<'_>) {
        if now < self.next_housekeeping {
            return;
        }
        self.next_housekeeping = now.saturating_add(HOUSEKEEPING_INTERVAL);
        match self.detectors.take() {
            None => self.housekeeping(now, sink),
            Some(mut d) => {
                self.housekeeping(now, &mut |ev| d.process(ev, sink));
                d.tick(now, sink);
                self.detectors = Some(d);
            }
        }
    }

    /// Ends every flow and pending DNS query (end of capture, shutdown), then closes the
    /// detectors' open windows.
    pub fn finish(&mut self, sink: &mut Sink<'_>) {
        let mut detectors = self.detectors.take();
        let Pipeline {
            flows,
            devices,
            dns,
            ..
        } = self;
        match detectors.as_mut() {
            None => {
                flows.flush(&mut |f, end| Self::flow_ended(devices, f, end, &mut *sink));
                dns.flush(sink);
            }
            Some(d) => {
                let mut emit = |ev| d.process(ev, sink);
                flows.flush(&mut |f, end| Self::flow_ended(devices, f, end, &mut emit));
                dns.flush(&mut emit);
                d.finish(sink);
            }
        }
        self.detectors = detectors;
    }
}

/// A User-Agent tells the device's OS, model and app: an HTTP request's goes to its device
/// (parsed only when new to it, see `flow::identity`), and a changed identity is reported
/// before the request.
fn note_user_agent(devices: &mut DeviceTable, ev: &Event, sink: &mut Sink<'_>) {
    if let Event::Http(h) = ev {
        if let (Some(mac), Some(ua)) = (h.device_mac, h.user_agent.as_deref()) {
            if let Some(s) = devices.observe_user_agent(h.ts, mac, ua) {
                sink(Event::Device(s));
            }
        }
    }
}

/// The device behind a flow's client side: the client's own MAC when the capture has one,
/// else the MAC bound to the client address by DHCP/ARP.
fn device_of<A>(devices: &DeviceTable, f: &Flow<A>) -> Option<MacAddr> {
    f.client_mac
        .filter(|m| !m.is_multicast() && !m.is_zero())
        .or_else(|| devices.mac_for(f.client_ip))
}

/// Frames kept for evidence per UDP flow (and per TCP flow whose protocol is still unknown).
const EVIDENCE_PACKETS: u64 = 16;

/// Whether this packet of `f` is kept as evidence: TCP flows while they are inspected
/// (encrypted payloads are not worth keeping once the ClientHello is seen), UDP flows for
/// their first packets.
fn keeps_evidence(f: &Flow<AppState>) -> bool {
    if f.app.evidence_done {
        return false;
    }
    let packets = f.packets_up + f.packets_down;
    match f.transport {
        Transport::Tcp => f.app.inspecting() || packets <= 3,
        // QUIC payloads are encrypted: nothing there is evidence a person can read.
        _ => f.server_port != 443 && packets <= EVIDENCE_PACKETS,
    }
}

/// Whether a flow's evidence is complete long before the flow ends, so its frames go to the
/// detectors now (which keep them only if an alert asked) instead of holding the shared budget
/// for the flow's whole life: a TLS flow once its handshake is decoded (an alert about its
/// server name comes with the ClientHello), a DNS exchange once answered, any other UDP flow
/// after its first packets.
fn evidence_complete(f: &Flow<AppState>) -> bool {
    match f.transport {
        Transport::Tcp => f.app.tls_seen && !f.app.inspecting(),
        _ if is_dns_port(f.server_port) => f.packets_down > 0,
        _ => f.packets_up + f.packets_down >= EVIDENCE_PACKETS,
    }
}

/// DNS, mDNS and LLMNR ports.
fn is_dns_port(p: u16) -> bool {
    matches!(p, 53 | 5353 | 5355)
}
