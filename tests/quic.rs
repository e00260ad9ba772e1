//! QUIC Initial decryption end to end: the RFC 9001 and RFC 9369 Appendix A packets, Initials
//! this file encrypts itself (a test encryptor written from RFC 9001 §5, independent of the
//! decoder's packet code: it seals with `aes-gcm` and masks with `aes` directly), a
//! ClientHello spanning two Initial packets with CRYPTO frames out of order, the pipeline
//! (TLS record with transport quic, JA4 `q…`, the flow's domain, an indicator match), and
//! garbage on UDP/443 (random, truncated, huge varints, DCID length 255, 1-RTT): no panic, no
//! record.

#[path = "detectors/harness.rs"]
mod harness;

use aes::cipher::{BlockEncrypt, KeyInit};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::Aes128Gcm;
use phonehome::decode::quic::keys::{initial_keys, Side};
use phonehome::decode::quic::{header, packet, ClientInitials, Progress, Version};
use phonehome::decode::{ja, tls};
use phonehome::event::{AlertKind, Event, Transport, MICROS};
use proptest::prelude::*;

use harness::*;

/// RFC 9001 A.1: the client's Destination Connection ID.
const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

/// RFC 9001 A.2 / RFC 9369 A.2: the CRYPTO frame (ClientHello for example.com) that starts
/// the client Initial's 1162-byte payload; PADDING follows.
const A2_CRYPTO_FRAME: &str = "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868\
04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578\
616d706c652e636f6dff01000100000a00080006001d00170018001000070005\
04616c706e000500050100000000003300260024001d00209370b2c9caa47fba\
baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400\
0d0010000e0403050306030203080408050806002d00020101001c0002400100\
3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000\
75300901100f088394c8f03e51570806048000ffff";
/// Bytes of the A.2 payload (CRYPTO frame + PADDING).
const A2_PAYLOAD_LEN: usize = 1162;

/// RFC 9001 A.2: the protected client Initial packet.
const RFC9001_A2_PACKET: &str = "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df621230c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c2084dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f89937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c7468449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe5896425c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009ddc324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450efc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e72404790a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f440591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f0940054da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd46840647e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44860018ab0856972e194cd934";

/// RFC 9369 A.2: the protected QUIC v2 client Initial packet (same payload, v2 keys).
const RFC9369_A2_PACKET: &str = "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad049f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd6818f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff3312ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1fac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c1216ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e54df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de714d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff99c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e7071010d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d134b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e38d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b536f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb199a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96ba18b2faa745b6fe189cf772a9f84cbfc";

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test hex")
}

/// The A.2 plaintext payload: the CRYPTO frame then PADDING.
fn a2_payload() -> Vec<u8> {
    let mut p = unhex(A2_CRYPTO_FRAME);
    p.resize(A2_PAYLOAD_LEN, 0);
    p
}

// ---------------------------------------------------------------------------------------
// The test encryptor (RFC 9001 §5.3-5.4, RFC 9000 §17.2.2).

/// A QUIC varint of `v` in its shortest form.
fn varint(v: u64, out: &mut Vec<u8>) {
    match v {
        0..=63 => out.push(v as u8),
        64..=16_383 => out.extend_from_slice(&(0x4000 | v as u16).to_be_bytes()),
        16_384..=1_073_741_823 => out.extend_from_slice(&(0x8000_0000 | v as u32).to_be_bytes()),
        _ => out.extend_from_slice(&(0xc000_0000_0000_0000 | v).to_be_bytes()),
    }
}

/// A CRYPTO frame carrying `data` at `offset`.
fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    varint(offset, &mut f);
    varint(data.len() as u64, &mut f);
    f.extend_from_slice(data);
    f
}

/// A protected client Initial of `wire_version` with a 4-byte packet number `pn`, whose
/// plaintext is `payload`, its Length always a 2-byte varint (as RFC 9001 A.2 writes it).
fn seal_initial(wire_version: u32, dcid: &[u8], scid: &[u8], pn: u32, payload: &[u8]) -> Vec<u8> {
    let version = Version::from_wire(wire_version).expect("known version");
    let type_bits = if version == Version::V2 { 1 } else { 0 };
    let mut p = vec![0xc0 | type_bits << 4 | 0x03];
    p.extend_from_slice(&wire_version.to_be_bytes());
    p.push(dcid.len() as u8);
    p.extend_from_slice(dcid);
    p.push(scid.len() as u8);
    p.extend_from_slice(scid);
    p.push(0); // no token
    let length = 4 + payload.len() + 16;
    assert!(length < 16_384);
    p.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
    let pn_offset = p.len();
    p.extend_from_slice(&pn.to_be_bytes());
    let keys = initial_keys(version, dcid, Side::Client);
    let mut nonce = keys.iv;
    for (n, b) in nonce[4..].iter_mut().zip(u64::from(pn).to_be_bytes()) {
        *n ^= b;
    }
    let mut body = payload.to_vec();
    let tag = Aes128Gcm::new(&keys.key.into())
        .encrypt_in_place_detached(&nonce.into(), &p, &mut body)
        .expect("seal");
    p.extend_from_slice(&body);
    p.extend_from_slice(&tag);
    let mut sample = aes::Block::clone_from_slice(&p[pn_offset + 4..pn_offset + 20]);
    aes::Aes128::new(&keys.hp.into()).encrypt_block(&mut sample);
    p[0] ^= sample[0] & 0x0f;
    for i in 0..4 {
        p[pn_offset + i] ^= sample[1 + i];
    }
    p
}

/// Pads a frame list with PADDING so the datagram reaches the 1200 bytes clients must send.
fn padded(mut frames: Vec<u8>, header_len: usize) -> Vec<u8> {
    let min = 1200usize.saturating_sub(header_len + 4 + 16);
    if frames.len() < min {
        frames.resize(min, 0);
    }
    frames
}

/// A TLS 1.3 ClientHello handshake message (type, length, body) in the shape of Chrome's with
/// a post-quantum key share: about 1.5 KiB, so it needs two Initial packets.
fn big_client_hello(sni: &str) -> Vec<u8> {
    fn ext(t: u16, body: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&t.to_be_bytes());
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
    }
    let mut exts = Vec::new();
    let mut sn = Vec::new();
    sn.extend_from_slice(&((sni.len() + 3) as u16).to_be_bytes());
    sn.push(0);
    sn.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sn.extend_from_slice(sni.as_bytes());
    ext(0x0a0a, &[], &mut exts); // GREASE
    ext(0, &sn, &mut exts);
    ext(10, &[0, 4, 0x11, 0xec, 0x00, 0x1d], &mut exts);
    ext(16, &[0, 3, 2, b'h', b'3'], &mut exts);
    ext(43, &[2, 0x03, 0x04], &mut exts);
    ext(13, &[0, 4, 0x04, 0x03, 0x08, 0x04], &mut exts);
    let mut ks = Vec::new();
    let entries_len = 4 + 1216 + 4 + 32;
    ks.extend_from_slice(&(entries_len as u16).to_be_bytes());
    ks.extend_from_slice(&[0x11, 0xec, 0x04, 0xc0]);
    ks.extend((0..1216u32).map(|i| (i * 7) as u8));
    ks.extend_from_slice(&[0x00, 0x1d, 0x00, 0x20]);
    ks.extend([0x42u8; 32]);
    ext(51, &ks, &mut exts);
    ext(57, &[0x01, 0x04, 0x80, 0x00, 0xea, 0x60], &mut exts);
    let mut body = vec![0x03, 0x03];
    body.extend([0x11u8; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 6, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03]);
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut msg = vec![1];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&body);
    msg
}

/// Two datagrams carrying `hello`: the first holds the hello's tail then a middle part, the
/// second its head (Chrome-style scattering: every CRYPTO frame out of order).
fn two_initials(wire_version: u32, dcid: &[u8], hello: &[u8]) -> [Vec<u8>; 2] {
    let (a, rest) = hello.split_at(900);
    let (b, c) = rest.split_at(300);
    let mut f1 = crypto_frame(1200, c);
    f1.push(0x01); // PING
    f1.extend(crypto_frame(900, b));
    let mut f2 = vec![0x00, 0x00]; // PADDING first
    f2.extend(crypto_frame(400, &a[400..]));
    f2.extend(crypto_frame(0, &a[..400]));
    let hlen = 1 + 4 + 1 + dcid.len() + 1 + 3 + 2;
    [
        seal_initial(wire_version, dcid, &[1, 2, 3, 4], 0, &padded(f1, hlen)),
        seal_initial(wire_version, dcid, &[1, 2, 3, 4], 1, &padded(f2, hlen)),
    ]
}

// ---------------------------------------------------------------------------------------
// RFC vectors.

#[test]
fn rfc9001_a2_client_initial_decrypts_to_its_crypto_frame() {
    let pkt = unhex(RFC9001_A2_PACKET);
    let h = header::parse_long_header(&pkt).expect("header");
    assert_eq!((h.wire_version, h.dcid, h.scid), (1, &DCID[..], &[][..]));
    assert_eq!((h.pn_offset, h.packet_len), (18, pkt.len()));
    let keys = initial_keys(Version::V1, h.dcid, Side::Client);
    let mut scratch = Vec::new();
    let o = packet::open(&pkt, &h, &keys, None, &mut scratch).expect("decrypts");
    assert_eq!(o.packet_number, 2);
    assert_eq!(o.payload, &a2_payload()[..]);
}

#[test]
fn test_encryptor_reproduces_rfc9001_a2_packet() {
    let sealed = seal_initial(1, &DCID, &[], 2, &a2_payload());
    assert_eq!(hex::encode(sealed), RFC9001_A2_PACKET);
}

#[test]
fn rfc9369_a2_v2_client_initial_decrypts_and_reseals() {
    let pkt = unhex(RFC9369_A2_PACKET);
    let h = header::parse_long_header(&pkt).expect("header");
    assert_eq!(h.version, Version::V2);
    assert_eq!(h.packet_type, header::PacketType::Initial);
    let keys = initial_keys(Version::V2, &DCID, Side::Client);
    let mut scratch = Vec::new();
    let o = packet::open(&pkt, &h, &keys, None, &mut scratch).expect("decrypts");
    assert_eq!(o.packet_number, 2);
    assert_eq!(o.payload, &a2_payload()[..]);
    assert_eq!(
        hex::encode(seal_initial(0x6b33_43cf, &DCID, &[], 2, &a2_payload())),
        RFC9369_A2_PACKET
    );
}

#[test]
fn rfc_packets_give_the_example_com_hello() {
    for (pkt, version) in [(RFC9001_A2_PACKET, 1), (RFC9369_A2_PACKET, 0x6b33_43cf)] {
        let (c, p) = ClientInitials::start(&unhex(pkt)).expect("QUIC");
        assert_eq!(c.wire_version(), version);
        let Progress::Hello(ch) = p else {
            panic!("{p:?}")
        };
        assert_eq!(ch.sni.as_deref(), Some("example.com"));
        assert_eq!(ch.alpn, vec![b"alpn".to_vec()]);
        assert_eq!(ch.cipher_suites, vec![0x1301, 0x1302]);
    }
}

// ---------------------------------------------------------------------------------------
// Two packets, out of order, every version.

#[test]
fn hello_spanning_two_initials_out_of_order_in_v1_v2_and_draft29() {
    let hello = big_client_hello("two.example.org");
    assert!(hello.len() > 1300, "{}", hello.len());
    let expected = tls::parse_client_hello(&hello).expect("our hello parses");
    for version in [1, 0x6b33_43cf, 0xff00_001d] {
        let [d1, d2] = two_initials(version, &[9, 8, 7, 6, 5, 4, 3, 2, 1], &hello);
        assert!(d1.len() >= 1200 && d2.len() >= 1200);
        let (mut c, p) = ClientInitials::start(&d1).expect("QUIC");
        assert_eq!(p, Progress::NeedMore, "{version:#x}");
        let Progress::Hello(ch) = c.feed(&d2) else {
            panic!("{version:#x}: no hello")
        };
        assert_eq!(*ch, expected);
        assert_eq!(ch.sni.as_deref(), Some("two.example.org"));
    }
}

#[test]
fn second_datagram_alone_is_not_enough_and_budget_ends_inspection() {
    let hello = big_client_hello("two.example.org");
    let [d1, _] = two_initials(1, &[1; 8], &hello);
    let (mut c, _) = ClientInitials::start(&d1).expect("QUIC");
    // Retransmissions of the same datagram never complete the hello; the budget ends it.
    let mut last = Progress::NeedMore;
    for _ in 0..20 {
        last = c.feed(&d1);
        if last != Progress::NeedMore {
            break;
        }
    }
    assert_eq!(last, Progress::GiveUp);
}

#[test]
fn one_rtt_datagram_after_start_gives_up_and_connection_close_ends_it() {
    let hello = big_client_hello("x.example");
    let [d1, _] = two_initials(1, &[1; 8], &hello);
    let (mut c, _) = ClientInitials::start(&d1).expect("QUIC");
    assert_eq!(c.feed(&[0x40, 1, 2, 3, 4, 5]), Progress::GiveUp);
    let close = seal_initial(1, &[1; 8], &[], 5, &padded(vec![0x1c, 0x0a, 0, 0], 20));
    let (mut c, _) = ClientInitials::start(&d1).expect("QUIC");
    assert_eq!(c.feed(&close), Progress::GiveUp);
}

// ---------------------------------------------------------------------------------------
// Through the pipeline and the detectors.

/// A FlexiSpy command-and-control name (Echap's stalkerware list).
const FLEXISPY_C2: &str = "api.flexispy.com";

const IOC_CONFIG: &str = r#"
[ioc]
paths = ["../shared/ioc/stalkerware-indicators/ioc.yaml"]
"#;

#[test]
fn quic_hello_becomes_a_quic_tls_record_names_the_flow_and_reaches_the_detectors() {
    let ioc_file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/ioc/stalkerware-indicators/ioc.yaml");
    let cfg = if ioc_file.exists() {
        config(IOC_CONFIG)
    } else {
        println!("../shared/ioc missing: indicator assertion skipped");
        config("")
    };
    let hello = big_client_hello(FLEXISPY_C2);
    let mut c = Capture::new();
    let port = c.port();
    let [d1, d2] = two_initials(1, &[0xab; 8], &hello);
    let srv = server("104.21.48.3", 443);
    c.udp(T0, &phone(port), &srv, &d1);
    c.udp(T0 + 1000, &phone(port), &srv, &d2);
    c.udp(T0 + 30_000, &srv, &phone(port), &[0xc0; 1200]);
    // 1-RTT traffic afterwards.
    for i in 0..5 {
        c.udp(T0 + 40_000 + i, &phone(port), &srv, &[0x41; 60]);
    }
    // The same hello over TCP, as a TLS record.
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(hello.len() as u16).to_be_bytes());
    record.extend_from_slice(&hello);
    c.tcp(T0 + MICROS, server("104.21.48.4", 443), &record, b"");
    let events = c.run(detectors(&cfg));

    let tls: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Tls(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(tls.len(), 2, "{tls:#?}");
    let (q, t) = (tls[0], tls[1]);
    assert_eq!(q.transport, Transport::Quic);
    assert_eq!(t.transport, Transport::Tcp);
    assert_eq!((q.quic_version, t.quic_version), (Some("v1"), None));
    assert_eq!((q.client_port, q.server_port), (port, 443));
    assert_eq!(q.device_mac, Some(PHONE_MAC));
    assert_eq!(q.sni.as_deref(), Some(FLEXISPY_C2));
    assert_eq!(q.alpn, vec!["h3".to_owned()]);
    assert_eq!(q.supported_versions, vec![0x0304]);
    // GREASE excluded: 7 extensions, 3 ciphers, TLS 1.3, SNI present, ALPN h3.
    assert!(q.ja4.starts_with("q13d0307h3_"), "{}", q.ja4);
    assert_eq!(q.ja4[1..], t.ja4[1..]);
    assert_eq!(&t.ja4[..1], "t");
    assert_eq!((&q.ja3, &q.ja3_string), (&t.ja3, &t.ja3_string));
    let ch = tls::parse_client_hello(&hello).unwrap();
    assert_eq!(q.ja4, ja::ja4(&ch, 'q').0);

    let flow = events
        .iter()
        .find_map(|e| match e {
            Event::Flow(f) if f.client_port == port => Some(f),
            _ => None,
        })
        .expect("flow record");
    assert_eq!(flow.domain.as_deref(), Some(FLEXISPY_C2));
    assert_eq!(flow.packets_up, 7);

    if ioc_file.exists() {
        let hits: Vec<_> = of_kind(&events, AlertKind::IocMatch)
            .into_iter()
            .filter(|a| a.proto.as_deref() == Some("quic"))
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "{:#?}",
            at_least(&events, phonehome::event::Severity::Info)
        );
        assert_eq!(hits[0].client_port, Some(port));
        assert_eq!(detail_str(hits[0], "family"), Some("FlexiSpy"));
    }
}

#[test]
fn quic_on_another_port_is_found_and_not_sampled_as_cleartext() {
    let hello = big_client_hello("alt.example.net");
    for (wire, name) in [(1, "v1"), (0x6b33_43cf, "v2"), (0xff00_001d, "draft-29")] {
        let mut c = Capture::new();
        let port = c.port();
        let [mut d1, d2] = two_initials(wire, &[7; 12], &hello);
        // An IMEI in clear after the Initial would raise a leak if the datagram were sampled.
        d1.extend_from_slice(b"imei=490154203237518");
        let srv = server("203.0.113.9", 8443);
        c.udp(T0, &phone(port), &srv, &d1);
        c.udp(T0 + 1, &phone(port), &srv, &d2);
        let events = c.run(detectors(&config("")));
        let sni: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Tls(r) => Some((r.transport, r.quic_version, r.sni.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            sni,
            vec![(Transport::Quic, Some(name), Some("alt.example.net".into()))]
        );
        assert!(of_kind(&events, AlertKind::PiiLeak).is_empty());
    }
}

/// A flood of QUIC connections that never finish their hello holds decoder state for at most
/// `MAX_QUIC_PENDING` of them; the rest are counted, not decoded, and not sampled as
/// cleartext; a finished hello or an ended flow gives its place back.
#[test]
fn pending_hellos_are_capped_and_released() {
    use phonehome::decode::LinkType;
    use phonehome::pipeline::{Pipeline, PipelineConfig, MAX_QUIC_PENDING};
    use phonehome::synth::net::udp_frame;

    let hello = big_client_hello("flood.example.net");
    let extra = 10;
    let mut cfg = PipelineConfig::default();
    cfg.flows.max_flows = 4 * MAX_QUIC_PENDING;
    // Detectors on and a port other than 443: a datagram taken for cleartext is sampled.
    let mut p = Pipeline::with_detectors(cfg, detectors(&config("")));
    let mut events = Vec::new();
    let mut sink = |e: Event| events.push(e);
    let srv = server("203.0.113.9", 8443);
    let mut seconds = Vec::new();
    for i in 0..MAX_QUIC_PENDING + extra {
        let port = 20_000 + i as u16;
        let dcid = (i as u64).to_be_bytes();
        let [mut d1, d2] = two_initials(1, &dcid, &hello);
        // After the Initial, in the same datagram: an IMEI in clear. Only a datagram taken
        // for cleartext is sampled, and a sampled IMEI raises a leak.
        d1.extend_from_slice(b"imei=490154203237518");
        let f = udp_frame(&phone(port), &srv, 1, &d1).unwrap();
        p.ingest(T0 + i as i64, LinkType::Ethernet, &f, &mut sink);
        seconds.push(udp_frame(&phone(port), &srv, 2, &d2).unwrap());
    }
    assert_eq!(p.held().quic_connections, MAX_QUIC_PENDING);
    assert_eq!(p.counters().quic_not_inspected, extra as u64);
    // The first connection completes its hello: a TLS record, and its place is free again.
    p.ingest(T0 + MICROS, LinkType::Ethernet, &seconds[0], &mut sink);
    assert_eq!(p.held().quic_connections, MAX_QUIC_PENDING - 1);
    // A connection over the cap sends its second Initial: still nothing decoded or sampled.
    p.ingest(
        T0 + MICROS,
        LinkType::Ethernet,
        &seconds[MAX_QUIC_PENDING],
        &mut sink,
    );
    p.finish(&mut sink);
    assert_eq!(p.held().quic_connections, 0);
    let tls = events.iter().filter(|e| matches!(e, Event::Tls(_))).count();
    assert_eq!(tls, 1);
    assert!(of_kind(&events, AlertKind::PiiLeak).is_empty());
}

// ---------------------------------------------------------------------------------------
// Garbage.

/// A deterministic byte generator (xorshift) for reproducible garbage.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn garbage_datagrams() -> Vec<Vec<u8>> {
    let valid = seal_initial(
        1,
        &DCID,
        &[],
        0,
        &padded(crypto_frame(0, b"\x01\x00\x00\x10"), 24),
    );
    let mut g: Vec<Vec<u8>> = (0..64)
        .map(|i| noise(i, 1 + (i as usize * 37) % 1400))
        .collect();
    // Random bytes behind a plausible first byte and version.
    for i in 0..32 {
        let mut d = vec![0xc3, 0, 0, 0, 1];
        d.extend(noise(1000 + i, 1250));
        g.push(d);
    }
    // Truncated headers and packets.
    for n in [
        0,
        1,
        4,
        5,
        6,
        13,
        14,
        15,
        16,
        17,
        18,
        19,
        30,
        600,
        valid.len() - 1,
    ] {
        g.push(valid[..n].to_vec());
    }
    // DCID length 255, and 21.
    let mut d = vec![0xc0, 0, 0, 0, 1, 255];
    d.extend(noise(7, 1300));
    g.push(d);
    let mut d = vec![0xc0, 0, 0, 0, 1, 21];
    d.extend(noise(8, 1300));
    g.push(d);
    // Huge token length and Length varints.
    let mut d = vec![
        0xc0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ];
    d.extend(noise(9, 1200));
    g.push(d);
    let mut d = vec![
        0xc0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ];
    d.extend(noise(10, 1200));
    g.push(d);
    // A valid packet with one ciphertext bit flipped, and a 1-RTT packet.
    let mut d = valid.clone();
    d[100] ^= 1;
    g.push(d);
    g.push(vec![0x40; 1200]);
    // A CRYPTO frame claiming an offset far past the bound, properly encrypted.
    g.push(seal_initial(
        1,
        &DCID,
        &[],
        0,
        &padded(crypto_frame(1 << 40, b"xx"), 24),
    ));
    g
}

#[test]
fn garbage_on_udp_443_gives_no_record_and_no_panic() {
    let mut c = Capture::new();
    let srv = server("198.51.100.7", 443);
    for (i, d) in garbage_datagrams().iter().enumerate() {
        // One flow per datagram, so each is a "first client datagram", then twice more.
        let port = c.port();
        for k in 0..3 {
            c.udp(T0 + (i as i64) * 10 + k, &phone(port), &srv, d);
        }
    }
    let events = c.run(detectors(&config("")));
    let tls: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Tls(_)))
        .collect();
    assert!(tls.is_empty(), "{tls:#?}");
    for d in garbage_datagrams() {
        let hello = ClientInitials::start(&d).is_some_and(|(_, p)| matches!(p, Progress::Hello(_)));
        assert!(!hello, "{}", hex::encode(&d[..d.len().min(32)]));
    }
}

proptest! {
    #[test]
    fn decoder_never_panics_on_arbitrary_datagrams(
        first in proptest::collection::vec(any::<u8>(), 0..1500),
        more in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..1500), 0..4),
    ) {
        if let Some((mut c, _)) = ClientInitials::start(&first) {
            for d in &more {
                let _ = c.feed(d);
            }
        }
        let _ = header::parse_long_header(&first);
    }

    #[test]
    fn decoder_never_panics_on_mutated_initials(pos in 0usize..1300, byte in any::<u8>(), cut in 0usize..1300) {
        let hello = big_client_hello("m.example");
        let [d1, d2] = two_initials(1, &DCID, &hello);
        let mut m = d1.clone();
        if let Some(b) = m.get_mut(pos) {
            *b = byte;
        }
        m.truncate(cut.max(1));
        if let Some((mut c, _)) = ClientInitials::start(&m) {
            let _ = c.feed(&d2);
        }
        if let Some((mut c, _)) = ClientInitials::start(&d1) {
            let mut m2 = d2.clone();
            if let Some(b) = m2.get_mut(pos) {
                *b ^= byte | 1;
                // A changed ciphertext or header never authenticates: no hello.
                if pos >= 5 {
                    prop_assert!(!matches!(c.feed(&m2), Progress::Hello(_)));
                }
            }
        }
    }
}
