//! Owned records: the contract between the analysis core (decode → flow → detect) and its
//! outputs (the SQLite store, the CLI, tests).
//!
//! Every record is produced by [`crate::pipeline::Pipeline`] from packets and carries the packet
//! timestamp that completed it. Records never hold raw payloads beyond the bounded evidence a
//! detector asks for (`HttpRecord::body`, capped at [`crate::decode::http::MAX_BODY_KEPT`]).

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

/// Microseconds since the Unix epoch, UTC. Packet time drives every time decision.
pub type Ts = i64;

/// Microseconds in one second.
pub const MICROS: i64 = 1_000_000;

/// A 48-bit IEEE MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Builds a MAC from the first six bytes of `b`, if there are six.
    pub fn from_slice(b: &[u8]) -> Option<MacAddr> {
        let a: [u8; 6] = b.get(..6)?.try_into().ok()?;
        Some(MacAddr(a))
    }
    /// True for a locally administered address (the U/L bit set): Android 10+ and iOS 14+
    /// randomise per network, so no vendor can be looked up for these.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
    /// True for group (multicast/broadcast) addresses; those are never devices.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }
    /// True for the all-zero address (seen in some cooked captures).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
    /// Parses `aa:bb:cc:dd:ee:ff` (also `-` separated, any case).
    pub fn parse(s: &str) -> Option<MacAddr> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for b in out.iter_mut() {
            let p = parts.next()?;
            if p.len() != 2 {
                return None;
            }
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Transport protocol of a flow or record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
    /// QUIC over UDP (issue 6).
    Quic,
}

impl Transport {
    /// Lowercase name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Quic => "quic",
        }
    }
}

/// Which DNS-family protocol carried a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsProtocol {
    Dns,
    Mdns,
    Llmnr,
}

impl DnsProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            DnsProtocol::Dns => "dns",
            DnsProtocol::Mdns => "mdns",
            DnsProtocol::Llmnr => "llmnr",
        }
    }
}

/// One question of a DNS query, with the answers of its matched response (if one was seen).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DnsRecord {
    /// Time of the query packet.
    pub ts: Ts,
    pub device_mac: Option<MacAddr>,
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    pub transport: Transport,
    pub protocol: DnsProtocol,
    pub trans_id: u16,
    /// DNS opcode (0 = QUERY).
    pub opcode: u8,
    /// Query name as on the wire (case preserved), no trailing dot; "" for the root.
    pub qname: String,
    pub qtype: u16,
    /// Response code of the matched response; None when no response was seen.
    pub rcode: Option<u8>,
    /// Answer-section data of the matched response: addresses for A/AAAA, target names for
    /// CNAME/PTR/NS/MX/SRV, a short rendering for other types.
    pub answers: Vec<String>,
    /// True when this record was built from a response whose query was not captured.
    pub response_only: bool,
}

/// One HTTP/1.x request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpRecord {
    /// Time of the packet that completed the request head.
    pub ts: Ts,
    pub device_mac: Option<MacAddr>,
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    pub method: String,
    /// Host header verbatim (may include `:port`); None when absent.
    pub host: Option<String>,
    /// Request target verbatim, query string included.
    pub uri: String,
    /// "1.0" or "1.1".
    pub version: String,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    /// Authentication scheme of an Authorization header ("Basic", "Digest", …); the credentials
    /// themselves are never kept.
    pub auth_scheme: Option<String>,
    pub cookie_present: bool,
    /// Declared Content-Length, if any.
    pub content_length: Option<u64>,
    /// True when the body uses chunked transfer encoding.
    pub chunked: bool,
    /// The first bytes of the request body (bounded), kept for detectors; not printed.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The raw request head (request line and headers, bounded by the head limit), kept for
    /// detectors (identifiers in custom headers); not printed or stored.
    #[serde(skip)]
    pub head: Vec<u8>,
}

/// One TLS ClientHello (after TCP reassembly).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TlsRecord {
    pub ts: Ts,
    pub device_mac: Option<MacAddr>,
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    pub transport: Transport,
    pub sni: Option<String>,
    /// ALPN values in order; non-printable values as `0x` + hex.
    pub alpn: Vec<String>,
    /// ClientHello legacy_version, e.g. 0x0303.
    pub version: u16,
    /// supported_versions extension values as sent (GREASE included).
    pub supported_versions: Vec<u16>,
    pub ja3: String,
    pub ja3_string: String,
    pub ja4: String,
    pub ja4_r: String,
    /// For a ClientHello in QUIC Initials: the QUIC version (`v1`, `v2`, `draft-29` …).
    pub quic_version: Option<&'static str>,
}

/// One DHCPv4 message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DhcpRecord {
    pub ts: Ts,
    /// The device this message is about: the client hardware address (chaddr).
    pub device_mac: Option<MacAddr>,
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    /// BOOTP op: 1 request, 2 reply.
    pub op: u8,
    pub xid: u32,
    pub client_mac: MacAddr,
    /// Option 53 value (1 DISCOVER … 8 INFORM); None when absent.
    pub msg_type: Option<u8>,
    pub ciaddr: Option<IpAddr>,
    pub yiaddr: Option<IpAddr>,
    /// Option 12.
    pub hostname: Option<String>,
    /// Option 60.
    pub vendor_class: Option<String>,
    /// Option 55, in order: the DHCP fingerprint.
    pub param_list: Vec<u8>,
    /// Option 50.
    pub requested_ip: Option<IpAddr>,
    /// Option 54.
    pub server_id: Option<IpAddr>,
    /// Option 61 as hex.
    pub client_id: Option<String>,
    /// Option codes in order (pad/end excluded).
    pub options_present: Vec<u8>,
}

/// State of a TCP flow as far as the handshake and teardown were seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpState {
    /// Not TCP.
    None,
    SynSent,
    Established,
    /// Seen mid-stream (no handshake captured).
    Midstream,
    FinWait,
    Closed,
    Reset,
}

impl TcpState {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpState::None => "none",
            TcpState::SynSent => "syn_sent",
            TcpState::Established => "established",
            TcpState::Midstream => "midstream",
            TcpState::FinWait => "fin_wait",
            TcpState::Closed => "closed",
            TcpState::Reset => "reset",
        }
    }
}

/// Why a flow record was emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowEnd {
    /// FIN/RST seen and the flow went quiet.
    Closed,
    /// No packet for the idle timeout.
    Idle,
    /// Pushed out of a full table.
    Evicted,
    /// End of the capture file or daemon shutdown.
    Flushed,
}

impl FlowEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowEnd::Closed => "closed",
            FlowEnd::Idle => "idle",
            FlowEnd::Evicted => "evicted",
            FlowEnd::Flushed => "flushed",
        }
    }
}

/// One bidirectional flow, oriented from the device (client) to the server.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowRecord {
    /// First packet.
    pub ts: Ts,
    pub last_ts: Ts,
    pub device_mac: Option<MacAddr>,
    pub transport: Transport,
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    /// Captured frame bytes client → server.
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub packets_up: u64,
    pub packets_down: u64,
    /// The name that led the device to this server (DNS answer, SNI or HTTP Host).
    pub domain: Option<String>,
    /// ISO 3166 alpha-2 country of the server address (offline geo database).
    pub country: Option<String>,
    /// Autonomous system of the server address, and its organisation.
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub tcp_state: TcpState,
    pub end: FlowEnd,
}

/// Something learned about a device (a client MAC) from one packet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceSighting {
    pub ts: Ts,
    pub mac: MacAddr,
    /// Vendor from the IEEE registry (None for randomised or unknown MACs).
    pub vendor: Option<String>,
    pub randomized: bool,
    pub hostname: Option<String>,
    /// An address bound to this MAC (from DHCP, ARP/NDP, DHCPv6 or traffic).
    pub ip: Option<IpAddr>,
    /// What the device is (DHCP fingerprint, User-Agent) and its label.
    pub identity: DeviceIdentity,
}

/// What is known about a device beyond its MAC (see [`crate::flow::identity`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeviceIdentity {
    /// DHCP option 60, e.g. `android-dhcp-13`.
    pub vendor_class: Option<String>,
    /// OS family, with the major version when a User-Agent gave it (`Android 10`, `iOS`).
    pub os: Option<String>,
    /// Brand and model from a User-Agent (`Samsung SM-G960F`).
    pub model: Option<String>,
    /// Latest browser or app family from a User-Agent (`Chrome Mobile`, `Facebook`).
    pub app: Option<String>,
    /// The stable label shown for the device when the user has not named it.
    pub label: Option<String>,
    /// The MAC this device used before in this session, whose label (and name) it inherits.
    pub same_as: Option<MacAddr>,
}

/// How much an alert matters. Ordered: `Info < Warn < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Critical => "critical",
        }
    }
}

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A personal identifier in a cleartext payload.
    PiiLeak,
    /// A name, address, URL or fingerprint on an indicator list (spyware, stalkerware).
    IocMatch,
    /// A destination in a country or AS the user watches.
    WatchedDestination,
    /// What a device sent in its first minutes after joining.
    BootPhoneHome,
    /// Credentials sent in clear text (HTTP Basic/Digest, FTP, POP3, IMAP, SMTP, Telnet).
    CleartextCredentials,
    /// A protocol without encryption (HTTP, FTP, Telnet, mail, MQTT, DNS to a foreign resolver).
    CleartextProtocol,
    /// Contact with a known tracker.
    Tracker,
    /// A public address contacted without a DNS answer naming it.
    NoDnsContact,
    /// Regular, machine-timed connections to one destination.
    Beacon,
    /// DNS resolved through an encrypted public resolver (DoH, DoT, DoQ), bypassing the
    /// network's own.
    EncryptedDns,
}

impl AlertKind {
    /// Every kind, in documentation order.
    pub const ALL: [AlertKind; 10] = [
        AlertKind::PiiLeak,
        AlertKind::IocMatch,
        AlertKind::WatchedDestination,
        AlertKind::BootPhoneHome,
        AlertKind::CleartextCredentials,
        AlertKind::CleartextProtocol,
        AlertKind::Tracker,
        AlertKind::NoDnsContact,
        AlertKind::Beacon,
        AlertKind::EncryptedDns,
    ];

    /// The snake_case name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::PiiLeak => "pii_leak",
            AlertKind::IocMatch => "ioc_match",
            AlertKind::WatchedDestination => "watched_destination",
            AlertKind::BootPhoneHome => "boot_phone_home",
            AlertKind::CleartextCredentials => "cleartext_credentials",
            AlertKind::CleartextProtocol => "cleartext_protocol",
            AlertKind::Tracker => "tracker",
            AlertKind::NoDnsContact => "no_dns_contact",
            AlertKind::Beacon => "beacon",
            AlertKind::EncryptedDns => "encrypted_dns",
        }
    }
}

/// One alert. The store merges alerts with the same kind, device, destination and
/// `dedup_key` within its window into one row with a count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    pub ts: Ts,
    pub severity: Severity,
    pub kind: AlertKind,
    pub device_mac: Option<MacAddr>,
    pub client_ip: Option<IpAddr>,
    /// With the other endpoint fields, names the flow the alert is about (for its evidence);
    /// not stored.
    pub client_port: Option<u16>,
    pub server_ip: Option<IpAddr>,
    pub server_port: Option<u16>,
    /// "tcp", "udp", "quic", "dns", "http", … — the protocol the evidence was seen in.
    pub proto: Option<String>,
    pub domain: Option<String>,
    /// ISO 3166 alpha-2 country of `server_ip`.
    pub country: Option<String>,
    pub asn: Option<u32>,
    /// One human sentence; never contains an unmasked identifier.
    pub summary: String,
    /// Kind-specific facts (a JSON object); identifiers in it are masked.
    pub detail: serde_json::Value,
    /// What else besides kind, device and destination makes two alerts different (e.g. the
    /// identifier kind of a pii_leak); "" when nothing.
    pub dedup_key: String,
}

/// The first bytes a device sent on a flow that no decoder claimed (not TLS, QUIC, HTTP, DNS or
/// DHCP): what the detectors scan for identifiers and cleartext logins. Never stored.
#[derive(Clone, Debug, PartialEq)]
pub struct PayloadSample {
    pub ts: Ts,
    pub device_mac: Option<MacAddr>,
    pub transport: Transport,
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    pub domain: Option<String>,
    /// Client → server bytes from the start of the flow (TCP, reassembled) or of one datagram
    /// (UDP), bounded.
    pub bytes: Vec<u8>,
}

/// The frames a flow kept (bounded), handed to the detectors when the flow ends; they pass
/// them on as an [`EvidenceFile`] when the flow raised a warn or critical alert.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowEvidence {
    pub transport: Transport,
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    pub frames: Vec<crate::flow::evidence::KeptFrame>,
}

impl FlowEvidence {
    /// The flow's identity as evidence file names hash it.
    pub fn flow_id(&self) -> String {
        flow_id(
            self.transport,
            self.client_ip,
            self.client_port,
            self.server_ip,
            self.server_port,
        )
    }
}

/// The identity of a flow (transport and both endpoints) as one string.
pub fn flow_id(t: Transport, cip: IpAddr, cport: u16, sip: IpAddr, sport: u16) -> String {
    format!("{} {cip} {cport} {sip} {sport}", t.as_str())
}

/// A pcap to write for an alert: the store writes it under its data directory as
/// `store::evidence::evidence_name(alert_ts, flow_id)`.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceFile {
    pub alert_ts: Ts,
    pub flow_id: String,
    pub frames: Vec<crate::flow::evidence::KeptFrame>,
}

/// Everything the analysis core emits.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Dns(DnsRecord),
    Http(HttpRecord),
    Tls(TlsRecord),
    Dhcp(DhcpRecord),
    Flow(FlowRecord),
    Device(DeviceSighting),
    Alert(Alert),
    /// For the detectors only: the pipeline never hands these to the store.
    Payload(PayloadSample),
    /// For the detectors only: a flow's kept frames at its end.
    FlowFrames(FlowEvidence),
    /// An evidence pcap for the store to write.
    Evidence(EvidenceFile),
}
