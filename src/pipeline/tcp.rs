//! Application decoding on TCP flows: the client stream is reassembled (up to a byte cap)
//! until its protocol is known — a TLS ClientHello, HTTP/1.x requests, or DNS over TCP — and
//! then decoded; anything else is left alone at once. After a ClientHello the flow is done:
//! encrypted payloads are never looked at again, which keeps the common path to counters only.

use super::dns::{DnsPairing, Wire};
use super::{Counters, Sink};
use crate::decode::http::{self, HeadParse, MAX_BODY_KEPT};
use crate::decode::tls::{self, TlsScan};
use crate::decode::{ja, tcp_flags, TcpSegment};
use crate::event::{Event, HttpRecord, MacAddr, PayloadSample, TlsRecord, Transport, Ts};
use crate::flow::domains::DomainMap;
use crate::flow::evidence::FlowFrames;
use crate::flow::reassembly::StreamBuf;
use crate::flow::table::{Dir, Flow};

/// Requests decoded per HTTP flow at most: bounds the work one keep-alive flow can cause.
pub const MAX_HTTP_REQUESTS: u32 = 256;
/// DNS messages decoded per TCP flow at most.
pub const MAX_DNS_TCP_MESSAGES: u32 = 256;
/// Data segments a flow may carry before its protocol must be known (server-first protocols
/// and unknown payloads stop being inspected here).
pub const MAX_UNDECIDED_SEGMENTS: u8 = 8;

/// Per-flow application state: a few bytes when idle, a boxed inspector while decoding.
#[derive(Debug, Default)]
pub struct AppState {
    /// Nothing more to decode on this flow.
    done: bool,
    /// Initial sequence numbers seen in SYN / SYN-ACK, before any payload.
    isn_up: Option<u32>,
    isn_down: Option<u32>,
    inspect: Option<Box<Inspect>>,
    /// UDP datagrams of this flow already sampled for the detectors.
    pub(super) udp_samples: u8,
    /// Frames kept as evidence (detectors on only).
    pub(super) frames: Option<FlowFrames>,
    /// A TLS ClientHello was decoded on this flow.
    pub(super) tls_seen: bool,
    /// The flow's evidence frames were handed over already (see `evidence_complete`).
    pub(super) evidence_done: bool,
    /// Seen inside a mobile-core tunnel (GTP-U): operator traffic, not a Wi-Fi client's, so
    /// its payloads are not sampled for the identifier scan (IMS registration carries the IMSI
    /// to the subscriber's own operator by design).
    pub(super) tunnelled: bool,
    /// QUIC Initial inspection of a UDP flow (see `pipeline/quic.rs`).
    pub(super) quic: super::quic::QuicFlow,
}

impl AppState {
    /// Still decoding this flow's application data.
    pub(super) fn inspecting(&self) -> bool {
        !self.done
    }
}

#[derive(Debug)]
struct Inspect {
    kind: Kind,
    up: StreamBuf,
    down: StreamBuf,
    undecided_segments: u8,
    http: HttpState,
    messages: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Undecided,
    Tls,
    /// First ClientHello seen; a second one follows if the server sent a HelloRetryRequest.
    TlsRetry,
    Http,
    Dns,
    /// Nothing decodes it: the first client bytes go to the detectors as a payload sample.
    Raw,
}

#[derive(Debug, Default)]
struct HttpState {
    /// A request whose body is still arriving.
    pending: Option<HttpRecord>,
    /// Body bytes still expected (Content-Length framing).
    body_left: u64,
    chunked: Option<http::ChunkedDecoder>,
    /// Bytes at the front of the stream already searched for the end of a request head, so a
    /// head arriving in many small segments is scanned once, not once per segment.
    scanned: usize,
}

/// What the TCP path needs from the pipeline.
pub(super) struct Ctx<'a> {
    pub ts: Ts,
    /// Detectors are on: keep request heads and sample unclaimed payloads for them.
    pub detectors: bool,
    pub device_mac: Option<MacAddr>,
    pub inspect_bytes: usize,
    pub dns: &'a mut DnsPairing,
    pub domains: &'a mut DomainMap,
    pub counters: &'a mut Counters,
}

/// Feeds one segment of `flow` travelling `dir`.
pub(super) fn segment(
    flow: &mut Flow<AppState>,
    dir: Dir,
    seg: &TcpSegment<'_>,
    cx: &mut Ctx<'_>,
    sink: &mut Sink<'_>,
) {
    if flow.app.done {
        return;
    }
    let syn = seg.flags & tcp_flags::SYN != 0;
    if syn && seg.payload.is_empty() {
        match dir {
            Dir::Up => flow.app.isn_up = Some(seg.seq),
            Dir::Down => flow.app.isn_down = Some(seg.seq),
        }
        return;
    }
    if seg.payload.is_empty() {
        return;
    }
    let cap = cx.inspect_bytes;
    let sample_raw = cx.detectors && !flow.app.tunnelled;
    let app = &mut flow.app;
    let insp = app.inspect.get_or_insert_with(|| {
        let mut up = StreamBuf::new(cap);
        let mut down = StreamBuf::new(cap);
        if let Some(isn) = app.isn_up {
            up.push(isn, true, &[]);
        }
        if let Some(isn) = app.isn_down {
            down.push(isn, true, &[]);
        }
        Box::new(Inspect {
            kind: Kind::Undecided,
            up,
            down,
            undecided_segments: 0,
            http: HttpState::default(),
            messages: 0,
        })
    });
    match dir {
        Dir::Up => insp.up.push(seg.seq, syn, seg.payload),
        Dir::Down => {
            if insp.kind != Kind::Dns && !(insp.kind == Kind::Undecided && flow.server_port == 53) {
                insp.undecided_segments = insp.undecided_segments.saturating_add(1);
                if insp.kind == Kind::Undecided && insp.undecided_segments > MAX_UNDECIDED_SEGMENTS
                {
                    finish(flow);
                }
                return;
            }
            insp.down.push(seg.seq, syn, seg.payload);
        }
    }
    if insp.kind == Kind::Undecided {
        let data = insp.up.data();
        if data.is_empty() {
            insp.undecided_segments = insp.undecided_segments.saturating_add(1);
            if insp.undecided_segments > MAX_UNDECIDED_SEGMENTS {
                finish(flow);
            }
            return;
        }
        insp.kind = if data.first() == Some(&0x16) {
            Kind::Tls
        } else if flow.server_port == 53 {
            Kind::Dns
        } else if http::parse_request_head(data) != HeadParse::NotHttp {
            Kind::Http
        } else if sample_raw {
            Kind::Raw
        } else {
            finish(flow);
            return;
        };
    }
    let done = match insp.kind {
        Kind::Tls | Kind::TlsRetry => tls_step(flow, cx, sink),
        Kind::Http => http_step(flow, cx, sink),
        Kind::Dns => dns_step(flow, cx, sink),
        Kind::Raw => raw_step(flow, cx, sink),
        Kind::Undecided => true,
    };
    if done {
        finish(flow);
    }
}

/// Stops inspecting a flow and frees its buffers.
fn finish(flow: &mut Flow<AppState>) {
    flow.app.done = true;
    flow.app.inspect = None;
}

/// Client bytes of an unclaimed flow handed to the detectors: enough for a login exchange
/// or a JSON upload, small enough to scan once per flow.
pub const RAW_SAMPLE_BYTES: usize = 4096;

/// Collects the first [`RAW_SAMPLE_BYTES`] of an unclaimed flow's client stream and emits them
/// once; the flow is done after that.
fn raw_step(flow: &mut Flow<AppState>, cx: &mut Ctx<'_>, sink: &mut Sink<'_>) -> bool {
    let Some(insp) = flow.app.inspect.as_ref() else {
        return true;
    };
    let data = insp.up.data();
    if data.len() < RAW_SAMPLE_BYTES && !insp.up.is_capped() {
        return false;
    }
    emit_sample(flow, cx.ts, cx.device_mac, sink);
    true
}

/// Emits the buffered client bytes of a raw flow as a payload sample.
fn emit_sample(flow: &Flow<AppState>, ts: Ts, device_mac: Option<MacAddr>, sink: &mut Sink<'_>) {
    let Some(insp) = flow.app.inspect.as_ref() else {
        return;
    };
    let data = insp.up.data();
    if data.is_empty() {
        return;
    }
    sink(Event::Payload(PayloadSample {
        ts,
        device_mac,
        transport: Transport::Tcp,
        client_ip: flow.client_ip,
        client_port: flow.client_port,
        server_ip: flow.server_ip,
        server_port: flow.server_port,
        domain: flow.domain.clone(),
        bytes: data.get(..RAW_SAMPLE_BYTES).unwrap_or(data).to_vec(),
    }));
}

/// Returns true when the flow needs no more inspection.
fn tls_step(flow: &mut Flow<AppState>, cx: &mut Ctx<'_>, sink: &mut Sink<'_>) -> bool {
    let Some(insp) = flow.app.inspect.as_mut() else {
        return true;
    };
    let retry = insp.kind == Kind::TlsRetry;
    let scan = if retry {
        tls::scan_retry_hello(insp.up.data())
    } else {
        tls::scan_client_stream(insp.up.data())
    };
    match scan {
        TlsScan::NotTls => true,
        TlsScan::NeedMore(n) => n > cx.inspect_bytes,
        TlsScan::ClientHello(ch) => {
            insp.kind = Kind::TlsRetry;
            flow.app.tls_seen = true;
            cx.counters.tls_client_hellos += 1;
            sink(Event::Tls(client_hello_record(
                flow,
                ch,
                cx.ts,
                cx.device_mac,
                Transport::Tcp,
                None,
            )));
            // Keep reading for a second hello only after the first one.
            retry
        }
    }
}

fn dns_step(flow: &mut Flow<AppState>, cx: &mut Ctx<'_>, sink: &mut Sink<'_>) -> bool {
    let Some(insp) = flow.app.inspect.as_mut() else {
        return true;
    };
    for dir in [Dir::Up, Dir::Down] {
        loop {
            let buf = if dir == Dir::Up {
                &mut insp.up
            } else {
                &mut insp.down
            };
            let data = buf.data();
            let Some(len) = data
                .get(..2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            else {
                break;
            };
            let Some(msg) = data.get(2..2 + len) else {
                break;
            };
            let (src, sport, dst, dport) = if dir == Dir::Up {
                (
                    flow.client_ip,
                    flow.client_port,
                    flow.server_ip,
                    flow.server_port,
                )
            } else {
                (
                    flow.server_ip,
                    flow.server_port,
                    flow.client_ip,
                    flow.client_port,
                )
            };
            let wire = Wire {
                ts: cx.ts,
                transport: Transport::Tcp,
                src,
                sport,
                dst,
                dport,
                payload: msg,
                mac: cx.device_mac,
            };
            cx.dns.message(&wire, cx.domains, cx.counters, sink);
            buf.consume(2 + len);
            insp.messages += 1;
            if insp.messages >= MAX_DNS_TCP_MESSAGES {
                return true;
            }
        }
    }
    false
}

fn http_step(flow: &mut Flow<AppState>, cx: &mut Ctx<'_>, sink: &mut Sink<'_>) -> bool {
    let Some(insp) = flow.app.inspect.as_mut() else {
        return true;
    };
    loop {
        let st = &mut insp.http;
        if let Some(rec) = st.pending.as_mut() {
            // Receiving a body.
            let data = insp.up.data();
            if data.is_empty() {
                return false;
            }
            let used = if let Some(dec) = st.chunked.as_mut() {
                match dec.feed(data, &mut rec.body, MAX_BODY_KEPT) {
                    Ok(n) => {
                        st.body_left = u64::from(!dec.is_done());
                        n
                    }
                    Err(_) => {
                        // Broken chunking: the request is still worth reporting, the
                        // stream no longer parses.
                        cx.counters.app_errors += 1;
                        if let Some(r) = st.pending.take() {
                            sink(Event::Http(r));
                        }
                        return true;
                    }
                }
            } else {
                let n = (data.len() as u64).min(st.body_left) as usize;
                let room = MAX_BODY_KEPT.saturating_sub(rec.body.len());
                rec.body.extend_from_slice(&data[..n.min(room)]);
                st.body_left -= n as u64;
                n
            };
            insp.up.consume(used);
            if st.body_left > 0 {
                if used == 0 {
                    return false;
                }
                continue;
            }
            st.chunked = None;
            if let Some(mut r) = st.pending.take() {
                r.ts = cx.ts;
                sink(Event::Http(r));
            }
            continue;
        }
        let data = insp.up.data();
        if data.is_empty() {
            return false;
        }
        // Parse only once the blank line ending the head can be there; a non-HTTP start is
        // still rejected at once (the cheap method check in parse_request_head).
        let from = insp.http.scanned.saturating_sub(3);
        if insp.http.scanned > 0 && !data.get(from..).is_some_and(has_head_end) {
            insp.http.scanned = data.len();
            return insp.up.is_capped();
        }
        match http::parse_request_head(data) {
            HeadParse::Partial => {
                insp.http.scanned = data.len();
                return insp.up.is_capped();
            }
            HeadParse::NotHttp => return true,
            HeadParse::Complete(h) => {
                insp.http.scanned = 0;
                cx.counters.http_requests += 1;
                insp.messages += 1;
                let head = if cx.detectors {
                    data.get(..h.head_len).unwrap_or_default().to_vec()
                } else {
                    Vec::new()
                };
                insp.up.consume(h.head_len);
                if let Some(host) = h.host.as_deref().map(host_name).filter(|h| !h.is_empty()) {
                    flow.domain = Some(host);
                }
                let rec = HttpRecord {
                    ts: cx.ts,
                    device_mac: cx.device_mac,
                    client_ip: flow.client_ip,
                    client_port: flow.client_port,
                    server_ip: flow.server_ip,
                    server_port: flow.server_port,
                    method: h.method,
                    host: h.host,
                    uri: h.uri,
                    version: h.version,
                    user_agent: h.user_agent,
                    referrer: h.referrer,
                    content_type: h.content_type,
                    content_encoding: h.content_encoding,
                    auth_scheme: h.auth_scheme,
                    cookie_present: h.cookie_present,
                    content_length: h.content_length,
                    chunked: h.chunked,
                    body: Vec::new(),
                    head,
                };
                let connect = rec.method.eq_ignore_ascii_case("CONNECT");
                let st = &mut insp.http;
                if h.chunked {
                    st.chunked = Some(http::ChunkedDecoder::new());
                    st.body_left = 1;
                    st.pending = Some(rec);
                } else if let Some(n) = h.content_length.filter(|n| *n > 0) {
                    st.body_left = n;
                    st.pending = Some(rec);
                } else {
                    sink(Event::Http(rec));
                }
                // A CONNECT turns the stream into a tunnel; more requests cannot follow.
                if connect || insp.messages >= MAX_HTTP_REQUESTS {
                    if let Some(r) = insp.http.pending.take() {
                        sink(Event::Http(r));
                    }
                    return true;
                }
            }
        }
    }
}

/// True when `b` holds the end of a request head (an empty line, CRLF or bare LF).
fn has_head_end(b: &[u8]) -> bool {
    b.windows(2).any(|w| w == b"\n\n") || b.windows(3).any(|w| w == b"\n\r\n")
}

/// The host part of a Host header, lowercased (no port, no IPv6 brackets).
fn host_name(h: &str) -> String {
    let h = h.trim();
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        h.rsplit_once(':').map_or(h, |(a, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                a
            } else {
                h
            }
        })
    };
    h.to_ascii_lowercase()
}

/// Emits what a flow still holds when it ends (a request whose body never completed).
pub(super) fn flush_app(
    flow: &mut Flow<AppState>,
    device_mac: Option<MacAddr>,
    sink: &mut Sink<'_>,
) {
    if flow
        .app
        .inspect
        .as_ref()
        .is_some_and(|i| i.kind == Kind::Raw)
    {
        emit_sample(flow, flow.last_ts, device_mac, sink);
        return;
    }
    if let Some(insp) = flow.app.inspect.as_mut() {
        if let Some(r) = insp.http.pending.take() {
            sink(Event::Http(r));
        }
    }
}

/// The TLS record of a ClientHello seen on `flow` (TCP or QUIC), with its JA3 and JA4 (`t` or
/// `q` marker); names the flow after the SNI, since the name the client declared beats the
/// DNS-by-address guess (a CDN address serves many names, see `flow::domains`).
pub(super) fn client_hello_record(
    flow: &mut Flow<AppState>,
    ch: tls::ClientHello,
    ts: Ts,
    device_mac: Option<MacAddr>,
    transport: Transport,
    quic_version: Option<&'static str>,
) -> TlsRecord {
    let marker = if transport == Transport::Quic {
        'q'
    } else {
        't'
    };
    let (ja3, ja3_string) = ja::ja3(&ch);
    let (ja4, ja4_r) = ja::ja4(&ch, marker);
    if let Some(sni) = ch.sni.as_ref().filter(|s| !s.is_empty()) {
        flow.domain = Some(sni.to_ascii_lowercase());
    }
    TlsRecord {
        ts,
        device_mac,
        client_ip: flow.client_ip,
        client_port: flow.client_port,
        server_ip: flow.server_ip,
        server_port: flow.server_port,
        transport,
        sni: ch.sni,
        alpn: ch.alpn.iter().map(|a| tls::alpn_display(a)).collect(),
        version: ch.legacy_version,
        supported_versions: ch.supported_versions,
        ja3,
        ja3_string,
        ja4,
        ja4_r,
        quic_version,
    }
}
