//! Tests of the DHCP builder: exact option order (the fingerprint) and an independent decode
//! with dhcproto.

use super::*;
use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder};

const MAC: MacAddr = MacAddr([0x04, 0xf1, 0x28, 0x5c, 0x3a, 0x7e]);

/// Option codes in wire order, pad and end excluded, asserting the lengths tile the options
/// area up to the end option.
fn option_order(m: &[u8]) -> Vec<u8> {
    assert_eq!(m[236..240], MAGIC_COOKIE);
    let mut i = 240;
    let mut codes = Vec::new();
    loop {
        match m[i] {
            255 => break,
            0 => i += 1,
            c => {
                codes.push(c);
                i += 2 + m[i + 1] as usize;
            }
        }
    }
    assert!(m[i + 1..].iter().all(|b| *b == 0), "only padding after end");
    codes
}

fn android_request() -> Vec<u8> {
    dhcp(&DhcpSpec {
        requested_ip: Some(Ipv4Addr::new(192, 168, 8, 23)),
        server_id: Some(Ipv4Addr::new(192, 168, 8, 1)),
        max_message_size: Some(1500),
        vendor_class: Some("android-dhcp-10"),
        hostname: Some("Nokia-7-plus"),
        param_list: &ANDROID_10_PARAMS,
        ..DhcpSpec::new(REQUEST, 0x3903_f326, MAC)
    })
}

#[test]
fn android_request_has_android_10_option_order() {
    let m = android_request();
    // 240 fixed bytes, options 53 (3) 61 (9) 50 (6) 54 (6) 57 (4) 60 (17) 12 (14) 55 (12)
    // and end (1): past the 300-byte minimum, so no padding.
    assert_eq!(m.len(), 312);
    assert_eq!(option_order(&m), vec![53, 61, 50, 54, 57, 60, 12, 55]);
}

#[test]
fn dhcproto_decodes_the_request() {
    let m = android_request();
    let msg = Message::decode(&mut Decoder::new(&m)).expect("decodes");
    assert_eq!(msg.opcode(), Opcode::BootRequest);
    assert_eq!(msg.xid(), 0x3903_f326);
    assert_eq!(msg.chaddr(), &MAC.0);
    let o = msg.opts();
    assert_eq!(o.msg_type(), Some(MessageType::Request));
    assert_eq!(
        o.get(OptionCode::Hostname),
        Some(&DhcpOption::Hostname("Nokia-7-plus".into()))
    );
    assert_eq!(
        o.get(OptionCode::ClassIdentifier),
        Some(&DhcpOption::ClassIdentifier(b"android-dhcp-10".to_vec()))
    );
    assert_eq!(
        o.get(OptionCode::ClientIdentifier),
        Some(&DhcpOption::ClientIdentifier(vec![
            1, 0x04, 0xf1, 0x28, 0x5c, 0x3a, 0x7e
        ]))
    );
    let Some(DhcpOption::ParameterRequestList(p)) = o.get(OptionCode::ParameterRequestList) else {
        panic!("no option 55");
    };
    let p: Vec<u8> = p.iter().map(|c| u8::from(*c)).collect();
    assert_eq!(p, ANDROID_10_PARAMS);
}

#[test]
fn ack_is_a_reply_with_lease_and_network_options() {
    let dns = [Ipv4Addr::new(192, 168, 8, 1)];
    let m = dhcp(&DhcpSpec {
        yiaddr: Ipv4Addr::new(192, 168, 8, 23),
        server_id: Some(Ipv4Addr::new(192, 168, 8, 1)),
        lease_secs: Some(43_200),
        subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
        router: Some(Ipv4Addr::new(192, 168, 8, 1)),
        dns: &dns,
        ..DhcpSpec::new(ACK, 7, MAC)
    });
    assert_eq!(option_order(&m), vec![53, 54, 51, 58, 59, 1, 3, 6]);
    let msg = Message::decode(&mut Decoder::new(&m)).expect("decodes");
    assert_eq!(msg.opcode(), Opcode::BootReply);
    assert_eq!(msg.yiaddr(), Ipv4Addr::new(192, 168, 8, 23));
    assert_eq!(
        msg.opts().get(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(43_200))
    );
    assert_eq!(
        msg.opts().get(OptionCode::Rebinding),
        Some(&DhcpOption::Rebinding(37_800))
    );
}

#[test]
fn overlong_values_are_cut_to_one_length_byte() {
    let long = "h".repeat(400);
    let params = [1u8; 300];
    let m = dhcp(&DhcpSpec {
        hostname: Some(&long),
        param_list: &params,
        ..DhcpSpec::new(DISCOVER, 1, MAC)
    });
    assert_eq!(option_order(&m), vec![53, 61, 12, 55]);
    assert_eq!(m.len(), 240 + 3 + 9 + 2 * (2 + MAX_OPTION_LEN) + 1);
}
