use base64::Engine;
use proptest::prelude::*;

use super::*;

fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The finding's Debug rendering: everything it holds, to check no password leaked into it.
fn rendered(f: &LineFinding) -> String {
    format!("{f:?}")
}

#[test]
fn ports_map_to_protocols() {
    assert_eq!(is_cleartext_port(21), Some("ftp"));
    assert_eq!(is_cleartext_port(23), Some("telnet"));
    assert_eq!(is_cleartext_port(25), Some("smtp"));
    assert_eq!(is_cleartext_port(587), Some("smtp"));
    assert_eq!(is_cleartext_port(110), Some("pop3"));
    assert_eq!(is_cleartext_port(143), Some("imap"));
    assert_eq!(is_cleartext_port(1883), Some("mqtt"));
    for tls_port in [443, 465, 990, 992, 993, 995, 8883] {
        assert_eq!(is_cleartext_port(tls_port), None, "{tls_port}");
    }
    assert!(can_upgrade_to_tls("smtp") && !can_upgrade_to_tls("telnet"));
}

#[test]
fn ftp_user_and_pass() {
    let f = scan_client_line_protocol(21, b"USER alice\r\nPASS s3cr3t-pw\r\nSYST\r\n");
    assert_eq!(f.protocol, Some("ftp"));
    assert_eq!(f.username.as_deref(), Some("alice"));
    assert!(f.password_seen && !f.starttls);
    assert!(!rendered(&f).contains("s3cr3t"));
}

#[test]
fn ftp_auth_tls_upgrades_and_hides_the_rest() {
    let f = scan_client_line_protocol(21, b"AUTH TLS\r\n\x16\x03\x01USER x\r\n");
    assert!(f.starttls);
    assert_eq!(f.username, None);
    assert!(!f.password_seen);
}

#[test]
fn pop3_user_pass_and_apop() {
    let f = scan_client_line_protocol(110, b"CAPA\r\nuser bob\r\npass hunter2\r\n");
    assert_eq!(
        (f.protocol, f.username.as_deref(), f.password_seen),
        (Some("pop3"), Some("bob"), true)
    );
    let f = scan_client_line_protocol(110, b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
    assert_eq!(f.username.as_deref(), Some("mrose"));
    assert!(f.password_seen);
    let f = scan_client_line_protocol(110, b"STLS\r\n");
    assert!(f.starttls && !f.has_credentials());
}

#[test]
fn imap_login_atom_quoted_and_literal() {
    let f = scan_client_line_protocol(143, b"a001 CAPABILITY\r\na002 LOGIN carol Pa55word\r\n");
    assert_eq!(f.protocol, Some("imap"));
    assert_eq!(f.username.as_deref(), Some("carol"));
    assert!(f.password_seen);
    assert!(!rendered(&f).contains("Pa55"));

    let f = scan_client_line_protocol(143, b"A1 login \"dan \\\"d\\\" k\" \"pw pw\"\r\n");
    assert_eq!(f.username.as_deref(), Some("dan \"d\" k"));
    assert!(f.password_seen);

    let f = scan_client_line_protocol(143, b"A1 LOGIN {5}\r\nerin1 {6}\r\n");
    assert_eq!(f.username.as_deref(), Some("erin1"));
    assert!(f.password_seen);
}

#[test]
fn imap_authenticate_plain_with_and_without_initial_response() {
    let resp = b64(b"\0frank@example.org\0letmein");
    let f = scan_client_line_protocol(143, format!("a AUTHENTICATE PLAIN {resp}\r\n").as_bytes());
    assert_eq!(f.username.as_deref(), Some("frank@example.org"));
    assert!(f.password_seen);
    assert!(!rendered(&f).contains("letmein"));

    let f = scan_client_line_protocol(
        143,
        format!("a AUTHENTICATE PLAIN\r\n{resp}\r\n").as_bytes(),
    );
    assert_eq!(f.username.as_deref(), Some("frank@example.org"));
    assert!(f.password_seen);

    let f = scan_client_line_protocol(143, b"a AUTHENTICATE PLAIN\r\n*\r\n");
    assert!(!f.has_credentials(), "a cancelled exchange sends nothing");

    let f = scan_client_line_protocol(143, b"a1 STARTTLS\r\n");
    assert!(f.starttls);
}

#[test]
fn smtp_auth_plain_and_login() {
    let plain = b64(b"\0grace\0tr0ub4dor");
    let f = scan_client_line_protocol(
        587,
        format!("EHLO phone\r\nAUTH PLAIN {plain}\r\nMAIL FROM:<g@example.org>\r\n").as_bytes(),
    );
    assert_eq!(f.protocol, Some("smtp"));
    assert_eq!(f.username.as_deref(), Some("grace"));
    assert!(f.password_seen);
    assert!(!rendered(&f).contains("tr0ub4dor"));

    let user = b64(b"heidi");
    let pass = b64(b"correct horse");
    let f = scan_client_line_protocol(
        25,
        format!("EHLO x\r\nAUTH LOGIN\r\n{user}\r\n{pass}\r\n").as_bytes(),
    );
    assert_eq!(f.username.as_deref(), Some("heidi"));
    assert!(f.password_seen);

    let f = scan_client_line_protocol(25, format!("AUTH LOGIN {user}\r\n{pass}\r\n").as_bytes());
    assert_eq!(f.username.as_deref(), Some("heidi"));
    assert!(f.password_seen);
}

#[test]
fn smtp_starttls_is_not_cleartext_login() {
    let f = scan_client_line_protocol(587, b"EHLO phone\r\nSTARTTLS\r\n\x16\x03\x01\x02\x00");
    assert!(f.starttls);
    assert!(!f.has_credentials());
}

#[test]
fn only_complete_lines_count() {
    let f = scan_client_line_protocol(21, b"USER ivan\r\nPASS par");
    assert_eq!(f.username.as_deref(), Some("ivan"));
    assert!(!f.password_seen, "the PASS line was cut before its end");
}

#[test]
fn telnet_login_after_option_negotiation() {
    let mut s = vec![
        255, 251, 24, 255, 250, 24, 0, b'x', b't', 255, 240, 255, 253, 1,
    ];
    s.extend_from_slice(b"ro");
    s.push(0x7f); // backspace over "o"
    s.extend_from_slice(b"oot\r\0s3cret\r\n");
    let f = scan_client_line_protocol(23, &s);
    assert_eq!(f.protocol, Some("telnet"));
    assert_eq!(f.username.as_deref(), Some("root"));
    assert!(f.password_seen);
    assert!(!rendered(&f).contains("s3cret"));

    let f = scan_client_line_protocol(23, &[255, 253, 3, 255, 251, 31]);
    assert!(!f.has_credentials(), "negotiation alone is no login");
}

/// An MQTT CONNECT packet: protocol level, flags, then payload fields as u16-length strings.
fn mqtt_connect(level: u8, flags: u8, props: Option<&[u8]>, payload: &[&[u8]]) -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', level, flags, 0, 60];
    if let Some(p) = props {
        body.push(p.len() as u8);
        body.extend_from_slice(p);
    }
    for field in payload {
        body.extend_from_slice(&(field.len() as u16).to_be_bytes());
        body.extend_from_slice(field);
    }
    let mut pkt = vec![0x10, body.len() as u8];
    pkt.extend(body);
    pkt
}

#[test]
fn mqtt_connect_with_user_and_password() {
    let pkt = mqtt_connect(4, 0xc2, None, &[b"sensor-17", b"judy", b"mqttpw"]);
    let f = scan_client_line_protocol(1883, &pkt);
    assert_eq!(f.protocol, Some("mqtt"));
    assert_eq!(f.username.as_deref(), Some("judy"));
    assert!(f.password_seen);

    // MQTT 5 with CONNECT properties and a will (with its own properties, topic, payload).
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 5, 0xc6, 0, 60, 3, 0x21, 0, 10];
    let field = |body: &mut Vec<u8>, v: &[u8]| {
        body.extend_from_slice(&(v.len() as u16).to_be_bytes());
        body.extend_from_slice(v);
    };
    field(&mut body, b"cid");
    body.push(0); // will properties: none
    for v in [&b"will/t"[..], b"bye", b"ken", b"pw"] {
        field(&mut body, v);
    }
    let mut pkt = vec![0x10, body.len() as u8];
    pkt.extend(body);
    let f = scan_client_line_protocol(1883, &pkt);
    assert_eq!(f.username.as_deref(), Some("ken"));
    assert!(f.password_seen);

    let anon = mqtt_connect(4, 0x02, None, &[b"cid"]);
    assert!(!scan_client_line_protocol(1883, &anon).has_credentials());
}

#[test]
fn other_ports_are_not_scanned() {
    let f = scan_client_line_protocol(8080, b"USER alice\r\nPASS x\r\n");
    assert_eq!(f, LineFinding::default());
}

#[test]
fn bytes_past_the_scan_bound_are_ignored() {
    let mut s = vec![b'N'; MAX_SCAN_BYTES];
    s.extend_from_slice(b"\r\nUSER late\r\n");
    assert_eq!(scan_client_line_protocol(21, &s).username, None);
}

#[test]
fn long_user_names_are_cut() {
    let s = format!("USER {}\r\n", "u".repeat(5000));
    let f = scan_client_line_protocol(21, &s.as_bytes()[..MAX_SCAN_BYTES.min(s.len())]);
    // The line is longer than the scan bound, so it is incomplete and ignored.
    assert_eq!(f.username, None);
    let s = format!("USER {}\r\n", "u".repeat(1000));
    let f = scan_client_line_protocol(21, s.as_bytes());
    assert_eq!(
        f.username.map(|u| u.chars().count()),
        Some(MAX_USERNAME_LEN)
    );
}

proptest! {
    #[test]
    fn never_panics_on_garbage(
        port in prop::sample::select(vec![21u16, 23, 25, 110, 143, 587, 1883, 80]),
        bytes in prop::collection::vec(any::<u8>(), 0..6000),
    ) {
        let f = scan_client_line_protocol(port, &bytes);
        prop_assert!(f.username.map_or(0, |u| u.chars().count()) <= MAX_USERNAME_LEN);
    }

    #[test]
    fn never_panics_on_command_shaped_garbage(
        port in prop::sample::select(vec![21u16, 23, 25, 110, 143, 1883]),
        lines in prop::collection::vec(
            (prop::sample::select(vec!["USER ", "PASS ", "APOP ", "AUTH PLAIN ", "AUTH LOGIN ",
                "a LOGIN ", "a LOGIN {", "a AUTHENTICATE PLAIN ", "", "\u{10}"]),
             "[ -~]{0,40}"),
            0..20),
    ) {
        let mut s = String::new();
        for (cmd, arg) in lines {
            s.push_str(cmd);
            s.push_str(&arg);
            s.push_str("\r\n");
        }
        let _ = scan_client_line_protocol(port, s.as_bytes());
    }
}
