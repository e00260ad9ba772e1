//! Credential sniffing in the first client bytes of cleartext line protocols: FTP, POP3,
//! IMAP, SMTP and Telnet, plus the binary MQTT CONNECT packet.
//!
//! [`scan_client_line_protocol`] reads the client → server bytes of one TCP flow (the
//! pipeline buffers the first [`MAX_SCAN_BYTES`]) and reports the protocol (from the server
//! port), the login name if one was sent, whether a password (or a password-equivalent such as
//! an APOP digest or a SASL PLAIN response) was sent, and whether the client asked to upgrade
//! to TLS (STARTTLS, STLS, AUTH TLS).
//!
//! Invariants: never more than [`MAX_SCAN_BYTES`] are looked at; only complete lines (ended
//! by LF, or CR/LF/NUL for Telnet) count; a password is never copied out — SASL responses are
//! decoded into a temporary buffer from which only the user name is taken, and
//! [`LineFinding`] has no field that could hold one. User names are cut to
//! [`MAX_USERNAME_LEN`] characters. No input panics (slices through `get` only).
//!
//! Hand-rolled: the crates of the field parse whole sessions of one protocol each (and keep
//! passwords); here a few commands of six protocols are needed, over a bounded prefix.
//! Base64 (SASL) uses the `base64` crate.

use base64::Engine;

/// Client bytes of one flow looked at: logins happen in the first few lines, and 4 KiB bounds
/// the work per flow however long the session is.
pub const MAX_SCAN_BYTES: usize = 4096;
/// Longest user name kept, in characters (a longer one is cut).
pub const MAX_USERNAME_LEN: usize = 128;
/// Longest IMAP literal accepted as a user name, in bytes.
const MAX_LITERAL_LEN: usize = 1024;

/// What the client side of a cleartext session revealed. Never holds a password.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineFinding {
    /// "ftp", "telnet", "smtp", "pop3", "imap" or "mqtt"; None when the port is none of
    /// these (nothing else is then looked at).
    pub protocol: Option<&'static str>,
    /// The login name sent in clear (unmasked: the caller masks it before any output).
    pub username: Option<String>,
    /// A password or password-equivalent was sent in clear.
    pub password_seen: bool,
    /// The client asked to switch to TLS (SMTP/IMAP STARTTLS, POP3 STLS, FTP AUTH TLS/SSL):
    /// what follows is encrypted.
    pub starttls: bool,
}

impl LineFinding {
    /// True when a user name or a password was seen.
    pub fn has_credentials(&self) -> bool {
        self.username.is_some() || self.password_seen
    }
}

/// The cleartext protocol conventionally served on `port`: FTP 21, Telnet 23, SMTP 25 and 587,
/// POP3 110, IMAP 143, MQTT 1883. Their TLS ports (990, 992, 465, 995, 993, 8883) are not.
pub fn is_cleartext_port(port: u16) -> Option<&'static str> {
    Some(match port {
        21 => "ftp",
        23 => "telnet",
        25 | 587 => "smtp",
        110 => "pop3",
        143 => "imap",
        1883 => "mqtt",
        _ => return None,
    })
}

/// True for protocols a client can upgrade in-band to TLS (so a flow on their port is only
/// cleartext when no upgrade was asked for).
pub fn can_upgrade_to_tls(protocol: &str) -> bool {
    matches!(protocol, "ftp" | "smtp" | "pop3" | "imap")
}

/// Scans the first client bytes of a TCP flow to `port` (see the module header).
pub fn scan_client_line_protocol(port: u16, client_bytes: &[u8]) -> LineFinding {
    let bytes = client_bytes.get(..MAX_SCAN_BYTES).unwrap_or(client_bytes);
    let mut f = LineFinding {
        protocol: is_cleartext_port(port),
        ..LineFinding::default()
    };
    match f.protocol {
        Some("ftp" | "pop3" | "smtp") => scan_commands(bytes, &mut f),
        Some("imap") => scan_imap(bytes, &mut f),
        Some("telnet") => scan_telnet(bytes, &mut f),
        Some("mqtt") => scan_mqtt(bytes, &mut f),
        _ => {}
    }
    f
}

/// Complete LF-terminated lines of `b`, without their CR/LF (a last line without LF is cut
/// short and ignored).
fn lines(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    b.split_inclusive(|&c| c == b'\n')
        .filter_map(|l| l.strip_suffix(b"\n"))
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Splits off the first space-separated word of `line`, and the rest (leading spaces trimmed).
fn word(line: &[u8]) -> (&[u8], &[u8]) {
    let line = trim_start(line);
    match line.iter().position(|&c| c == b' ') {
        Some(i) => (
            line.get(..i).unwrap_or_default(),
            trim_start(line.get(i..).unwrap_or_default()),
        ),
        None => (line, &[]),
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    b.get(n..).unwrap_or_default()
}

fn trim_end(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .rev()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    b.get(..b.len().saturating_sub(n)).unwrap_or_default()
}

/// A user name from raw bytes: lossy UTF-8, control characters dropped, cut to
/// [`MAX_USERNAME_LEN`]; None when nothing printable is left.
fn username(b: &[u8]) -> Option<String> {
    let s: String = String::from_utf8_lossy(b)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USERNAME_LEN)
        .collect();
    (!s.trim().is_empty()).then_some(s)
}

/// SASL exchange state across lines: which client response comes next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sasl {
    Idle,
    /// The next line is a base64 PLAIN response (authzid NUL authcid NUL password).
    PlainResponse,
    /// The next line is the base64 LOGIN user name, then the password.
    LoginUser,
    /// The next line is the base64 LOGIN password.
    LoginPassword,
}

/// Feeds one SASL mechanism start (`mech`, optional initial response `ir`) into `f`.
fn sasl_start(mech: &[u8], ir: &[u8], f: &mut LineFinding) -> Sasl {
    let ir = trim_end(ir);
    if mech.eq_ignore_ascii_case(b"PLAIN") {
        if ir.is_empty() || ir == b"=" {
            return Sasl::PlainResponse;
        }
        sasl_plain(ir, f);
        Sasl::Idle
    } else if mech.eq_ignore_ascii_case(b"LOGIN") {
        if ir.is_empty() || ir == b"=" {
            return Sasl::LoginUser;
        }
        sasl_login_user(ir, f);
        Sasl::LoginPassword
    } else {
        Sasl::Idle
    }
}

/// Continues a SASL exchange with client line `line`.
fn sasl_next(state: Sasl, line: &[u8], f: &mut LineFinding) -> Sasl {
    let line = trim_end(trim_start(line));
    if line == b"*" {
        return Sasl::Idle; // the client cancelled the exchange
    }
    match state {
        Sasl::PlainResponse => {
            sasl_plain(line, f);
            Sasl::Idle
        }
        Sasl::LoginUser => {
            sasl_login_user(line, f);
            Sasl::LoginPassword
        }
        Sasl::LoginPassword => {
            f.password_seen |= !line.is_empty();
            Sasl::Idle
        }
        Sasl::Idle => Sasl::Idle,
    }
}

/// A SASL PLAIN response: takes the authentication identity (else the authorisation
/// identity) as user name; the password part is only noted as seen and dropped with the buffer.
fn sasl_plain(b64: &[u8], f: &mut LineFinding) {
    let Ok(msg) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return;
    };
    let mut parts = msg.splitn(3, |&c| c == 0);
    let authzid = parts.next().unwrap_or_default();
    let authcid = parts.next().unwrap_or_default();
    let password = parts.next().unwrap_or_default();
    let user = if authcid.is_empty() { authzid } else { authcid };
    if let Some(u) = username(user) {
        f.username = Some(u);
    }
    f.password_seen |= !password.is_empty();
}

/// The base64 user name of SASL LOGIN.
fn sasl_login_user(b64: &[u8], f: &mut LineFinding) {
    if let Ok(user) = base64::engine::general_purpose::STANDARD.decode(b64) {
        if let Some(u) = username(&user) {
            f.username = Some(u);
        }
    }
}

/// FTP, POP3 and SMTP: untagged commands, one per line.
fn scan_commands(bytes: &[u8], f: &mut LineFinding) {
    let mut sasl = Sasl::Idle;
    for line in lines(bytes) {
        if sasl != Sasl::Idle {
            sasl = sasl_next(sasl, line, f);
            continue;
        }
        let (cmd, rest) = word(line);
        if cmd.eq_ignore_ascii_case(b"USER") {
            if let Some(u) = username(trim_end(rest)) {
                f.username = Some(u);
            }
        } else if cmd.eq_ignore_ascii_case(b"PASS") {
            f.password_seen = true;
        } else if cmd.eq_ignore_ascii_case(b"APOP") {
            // APOP name digest: the digest stands in for the password.
            let (name, digest) = word(rest);
            if let Some(u) = username(name) {
                f.username = Some(u);
            }
            f.password_seen |= !trim_end(digest).is_empty();
        } else if cmd.eq_ignore_ascii_case(b"AUTH") {
            let (mech, ir) = word(rest);
            let mech = trim_end(mech);
            if mech.eq_ignore_ascii_case(b"TLS") || mech.eq_ignore_ascii_case(b"SSL") {
                f.starttls = true; // FTP (RFC 4217)
                return;
            }
            sasl = sasl_start(mech, ir, f);
        } else if cmd.eq_ignore_ascii_case(b"STARTTLS") || cmd.eq_ignore_ascii_case(b"STLS") {
            f.starttls = true;
            return; // what follows is TLS
        }
    }
}

/// IMAP: `tag COMMAND args`; LOGIN's arguments are atoms, quoted strings or literals.
fn scan_imap(bytes: &[u8], f: &mut LineFinding) {
    let mut sasl = Sasl::Idle;
    // Bytes still owed to a `{n}` literal holding the user name.
    let mut literal_user: Option<usize> = None;
    for line in lines(bytes) {
        if let Some(n) = literal_user.take() {
            if let Some(u) = line.get(..n).and_then(username) {
                f.username = Some(u);
            }
            f.password_seen |= line.len() > n;
            continue;
        }
        if sasl != Sasl::Idle {
            sasl = sasl_next(sasl, line, f);
            continue;
        }
        let (_tag, rest) = word(line);
        let (cmd, args) = word(rest);
        if cmd.eq_ignore_ascii_case(b"LOGIN") {
            literal_user = imap_login(args, f);
        } else if cmd.eq_ignore_ascii_case(b"AUTHENTICATE") {
            let (mech, ir) = word(args);
            sasl = sasl_start(mech, ir, f);
        } else if cmd.eq_ignore_ascii_case(b"STARTTLS") {
            f.starttls = true;
            return;
        }
    }
}

/// IMAP `LOGIN user password`; returns the length of a user-name literal that follows on the
/// next line, if the user name is one.
fn imap_login(args: &[u8], f: &mut LineFinding) -> Option<usize> {
    let args = trim_end(args);
    match args.first() {
        Some(b'"') => {
            let mut user = Vec::new();
            let mut escaped = false;
            let mut end = None;
            for (i, &c) in args.iter().enumerate().skip(1) {
                if escaped {
                    user.push(c);
                    escaped = false;
                } else if c == b'\\' {
                    escaped = true;
                } else if c == b'"' {
                    end = Some(i);
                    break;
                } else {
                    user.push(c);
                }
            }
            let end = end?;
            f.username = username(&user);
            f.password_seen |= !trim_start(args.get(end + 1..).unwrap_or_default()).is_empty();
            None
        }
        Some(b'{') => {
            let close = args.iter().position(|&c| c == b'}')?;
            let digits = args.get(1..close)?;
            let digits = digits.strip_suffix(b"+").unwrap_or(digits);
            let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
            (n <= MAX_LITERAL_LEN).then_some(n)
        }
        Some(_) => {
            let (user, pass) = word(args);
            f.username = username(user);
            f.password_seen |= !pass.is_empty();
            None
        }
        None => None,
    }
}

/// Telnet option negotiation bytes (RFC 854/855).
const IAC: u8 = 255;
const SB: u8 = 250;
const SE: u8 = 240;

/// Telnet: the client's keystrokes with option negotiation removed. The first line typed is
/// the answer to the `login:` prompt, the second to `Password:` (the server's prompts are not
/// in the client bytes, so the order of the lines is what tells them apart).
fn scan_telnet(bytes: &[u8], f: &mut LineFinding) {
    let mut typed: Vec<u8> = Vec::with_capacity(bytes.len().min(256));
    let mut lines_done = 0usize;
    let mut i = 0usize;
    while let Some(&c) = bytes.get(i) {
        i += 1;
        if c == IAC {
            match bytes.get(i) {
                Some(&IAC) => {
                    typed.push(IAC);
                    i += 1;
                }
                Some(&SB) => {
                    // Subnegotiation: skip to IAC SE.
                    let rest = bytes.get(i..).unwrap_or_default();
                    i = match rest.windows(2).position(|w| w == [IAC, SE]) {
                        Some(p) => i + p + 2,
                        None => bytes.len(),
                    };
                }
                Some(251..=254) => i += 2, // WILL/WONT/DO/DONT option
                Some(_) => i += 1,
                None => {}
            }
            continue;
        }
        match c {
            b'\r' | b'\n' => {
                if !typed.is_empty() {
                    if lines_done == 0 {
                        f.username = username(&typed);
                    } else {
                        f.password_seen = true;
                        return;
                    }
                    lines_done += 1;
                    typed.clear();
                }
            }
            0x08 | 0x7f => {
                typed.pop(); // backspace / delete
            }
            0 => {}
            _ => typed.push(c),
        }
    }
}

/// MQTT control packet type of CONNECT (high nibble of the first byte).
const MQTT_CONNECT: u8 = 1;
/// CONNECT flag bits (MQTT 3.1.1 §3.1.2.3, 5.0 §3.1.2.3).
const MQTT_USERNAME: u8 = 0x80;
const MQTT_PASSWORD: u8 = 0x40;
const MQTT_WILL: u8 = 0x04;

/// MQTT 3.1, 3.1.1 and 5.0 CONNECT: user name and password flags and the user name field.
fn scan_mqtt(bytes: &[u8], f: &mut LineFinding) {
    let _ = mqtt_connect(bytes, f);
}

fn mqtt_connect(b: &[u8], f: &mut LineFinding) -> Option<()> {
    let first = *b.first()?;
    if first >> 4 != MQTT_CONNECT || first & 0x0f != 0 {
        return None;
    }
    let (_remaining, mut i) = varint(b, 1)?;
    let name_len = u16_at(b, i)? as usize;
    let name = b.get(i + 2..i + 2 + name_len)?;
    if name != b"MQTT" && name != b"MQIsdp" {
        return None;
    }
    i += 2 + name_len;
    let level = *b.get(i)?;
    let flags = *b.get(i + 1)?;
    i += 4; // level, flags, keep-alive
    if level >= 5 {
        let (props, next) = varint(b, i)?;
        i = next.checked_add(props)?;
    }
    f.password_seen = flags & MQTT_PASSWORD != 0;
    i = skip_u16_string(b, i)?; // client identifier
    if flags & MQTT_WILL != 0 {
        if level >= 5 {
            let (props, next) = varint(b, i)?;
            i = next.checked_add(props)?;
        }
        i = skip_u16_string(b, i)?; // will topic
        i = skip_u16_string(b, i)?; // will payload
    }
    if flags & MQTT_USERNAME != 0 {
        let n = u16_at(b, i)? as usize;
        f.username = username(b.get(i + 2..i + 2 + n)?);
    }
    Some(())
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i.checked_add(1)?)?]))
}

fn skip_u16_string(b: &[u8], i: usize) -> Option<usize> {
    let n = u16_at(b, i)? as usize;
    let end = i.checked_add(2 + n)?;
    (end <= b.len()).then_some(end)
}

/// MQTT variable byte integer at `i` (at most 4 bytes): its value and the index after it.
fn varint(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for shift in [0u32, 7, 14, 21] {
        let c = *b.get(i)?;
        i += 1;
        value |= usize::from(c & 0x7f) << shift;
        if c & 0x80 == 0 {
            return Some((value, i));
        }
    }
    None
}

#[cfg(test)]
#[path = "lineproto_tests.rs"]
mod tests;
