//! Initial packet keys (RFC 9001 §5.2, RFC 9369 §3.3.1-3.3.2): HKDF-SHA256 from the client's
//! original Destination Connection ID with a per-version salt, then HKDF-Expand-Label (RFC 8446
//! §7.1) for the AEAD key, IV and header-protection key.
//!
//! Anyone on the path can compute these keys (that is the point of Initial protection: it
//! stops ossification, not eavesdroppers), so deriving them here reveals nothing secret.

use hkdf::Hkdf;
use sha2::Sha256;

use super::Version;

/// The QUIC v1 initial salt (RFC 9001 §5.2).
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// The QUIC v2 initial salt (RFC 9369 §3.3.1).
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
/// The salt of drafts 29 to 32 (draft-ietf-quic-tls-29 §5.2).
const SALT_DRAFT29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];

/// The AEAD key, IV and header-protection key of one direction (AES-128-GCM suites).
#[derive(Clone, PartialEq, Eq)]
pub struct InitialKeys {
    pub key: [u8; 16],
    pub iv: [u8; 12],
    pub hp: [u8; 16],
}

impl std::fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "InitialKeys {{ key: {}, iv: {}, hp: {} }}",
            hex::encode(self.key),
            hex::encode(self.iv),
            hex::encode(self.hp)
        )
    }
}

/// Which endpoint's Initial packets the keys protect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Derives the Initial keys of `side` for a connection whose client chose `dcid` as the
/// Destination Connection ID of its first Initial packet.
pub fn initial_keys(version: Version, dcid: &[u8], side: Side) -> InitialKeys {
    let (salt, labels) = match version {
        Version::V1 => (&SALT_V1, ["quic key", "quic iv", "quic hp"]),
        Version::Draft29 => (&SALT_DRAFT29, ["quic key", "quic iv", "quic hp"]),
        Version::V2 => (&SALT_V2, ["quicv2 key", "quicv2 iv", "quicv2 hp"]),
    };
    let (initial_secret, _) = Hkdf::<Sha256>::extract(Some(salt), dcid);
    let mut secret = [0u8; 32];
    let side_label = match side {
        Side::Client => "client in",
        Side::Server => "server in",
    };
    expand_label(&initial_secret, side_label, &mut secret);
    let mut keys = InitialKeys {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    let [k, iv, hp] = labels;
    expand_label(&secret, k, &mut keys.key);
    expand_label(&secret, iv, &mut keys.iv);
    expand_label(&secret, hp, &mut keys.hp);
    keys
}

/// Longest label used here ("quicv2 key") plus the "tls13 " prefix, with room to spare.
const MAX_LABEL: usize = 32;

/// HKDF-Expand-Label(secret, label, "", out.len()) of RFC 8446 §7.1.
fn expand_label(secret: &[u8], label: &str, out: &mut [u8]) {
    let mut info = [0u8; 4 + MAX_LABEL];
    let full_len = 6 + label.len();
    // Labels are the constants above and outputs are at most 32 bytes: the casts are exact.
    info[0..2].copy_from_slice(&(out.len() as u16).to_be_bytes());
    info[2] = full_len as u8;
    info[3..9].copy_from_slice(b"tls13 ");
    info[9..3 + full_len].copy_from_slice(label.as_bytes());
    // info[3 + full_len] is the empty context's length byte, already 0.
    let info = &info[..4 + full_len];
    // A 32-byte PRK is always a valid HKDF-SHA256 key, and every output here is far below the
    // 255 * 32 bytes HKDF can produce, so neither call can fail.
    if let Ok(h) = Hkdf::<Sha256>::from_prk(secret) {
        let _ = h.expand(info, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

    fn hexs(k: &InitialKeys) -> (String, String, String) {
        (hex::encode(k.key), hex::encode(k.iv), hex::encode(k.hp))
    }

    #[test]
    fn rfc9001_appendix_a1_keys() {
        let c = initial_keys(Version::V1, &DCID, Side::Client);
        assert_eq!(
            hexs(&c),
            (
                "1f369613dd76d5467730efcbe3b1a22d".into(),
                "fa044b2f42a3fd3b46fb255c".into(),
                "9f50449e04a0e810283a1e9933adedd2".into()
            )
        );
        let s = initial_keys(Version::V1, &DCID, Side::Server);
        assert_eq!(
            hexs(&s),
            (
                "cf3a5331653c364c88f0f379b6067e37".into(),
                "0ac1493ca1905853b0bba03e".into(),
                "c206b8d9b9f0f37644430b490eeaa314".into()
            )
        );
    }

    #[test]
    fn rfc9369_appendix_a1_keys() {
        let c = initial_keys(Version::V2, &DCID, Side::Client);
        assert_eq!(
            hexs(&c),
            (
                "8b1a0bc121284290a29e0971b5cd045d".into(),
                "91f73e2351d8fa91660e909f".into(),
                "45b95e15235d6f45a6b19cbcb0294ba9".into()
            )
        );
        let s = initial_keys(Version::V2, &DCID, Side::Server);
        assert_eq!(
            hexs(&s),
            (
                "82db637861d55e1d011f19ea71d5d2a7".into(),
                "dd13c276499c0249d3310652".into(),
                "edf6d05c83121201b436e16877593c3a".into()
            )
        );
    }
}
