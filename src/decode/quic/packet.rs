//! Removing Initial packet protection (RFC 9001 §5.3-5.4): the AES-128-ECB header-protection
//! mask over a 16-byte sample of the ciphertext, packet number recovery (RFC 9000 §17.1,
//! Appendix A.3), then AES-128-GCM with nonce = IV XOR packet number and the header as AAD.
//!
//! The packet is copied into a caller-owned scratch buffer (one per connection, reused), so
//! opening a packet allocates nothing once that buffer has grown to the datagram size.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce, Tag};

use super::header::LongHeader;
use super::keys::InitialKeys;

/// Bytes of the AES-GCM authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes of the header-protection sample, taken 4 bytes after the packet number starts.
pub const SAMPLE_LEN: usize = 16;

/// A decrypted packet: its full packet number and plaintext frames.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened<'s> {
    pub packet_number: u64,
    pub payload: &'s [u8],
}

/// The header-protection mask for `sample` (RFC 9001 §5.4.3).
pub fn hp_mask(hp: &[u8; 16], sample: &[u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(hp.into());
    let mut block = (*sample).into();
    cipher.encrypt_block(&mut block);
    block.into()
}

/// The nonce of packet number `pn` (RFC 9001 §5.3).
pub fn nonce(iv: &[u8; 12], pn: u64) -> [u8; 12] {
    let mut n = *iv;
    for (b, p) in n.iter_mut().skip(4).zip(pn.to_be_bytes()) {
        *b ^= p;
    }
    n
}

/// Recovers a full packet number from its `len`-byte truncation, given the largest packet
/// number received so far (RFC 9000 Appendix A.3).
pub fn decode_packet_number(largest: Option<u64>, truncated: u64, len: usize) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let win = 1u64 << (8 * len.clamp(1, 4));
    let hwin = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | truncated;
    if candidate.saturating_add(hwin) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// Removes header protection from and decrypts the packet `packet` (exactly
/// `header.packet_len` bytes) with `keys`. `None` when it is too short or does not
/// authenticate (wrong keys, corrupted, not QUIC).
pub fn open<'s>(
    packet: &[u8],
    header: &LongHeader<'_>,
    keys: &InitialKeys,
    largest_pn: Option<u64>,
    scratch: &'s mut Vec<u8>,
) -> Option<Opened<'s>> {
    let packet = packet.get(..header.packet_len)?;
    let pn_offset = header.pn_offset;
    let sample: &[u8; SAMPLE_LEN] = packet
        .get(pn_offset + 4..pn_offset + 4 + SAMPLE_LEN)?
        .try_into()
        .ok()?;
    let mask = hp_mask(&keys.hp, sample);
    scratch.clear();
    scratch.extend_from_slice(packet);
    let first = scratch.first_mut()?;
    *first ^= mask[0] & 0x0f;
    let pn_len = usize::from(*first & 0x03) + 1;
    let header_len = pn_offset + pn_len;
    if header_len + TAG_LEN > scratch.len() {
        return None;
    }
    let mut truncated = 0u64;
    for (b, m) in scratch
        .get_mut(pn_offset..header_len)?
        .iter_mut()
        .zip(&mask[1..])
    {
        *b ^= m;
        truncated = truncated << 8 | u64::from(*b);
    }
    let pn = decode_packet_number(largest_pn, truncated, pn_len);
    let (aad, rest) = scratch.split_at_mut(header_len);
    let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
    let cipher = Aes128Gcm::new(&keys.key.into());
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(&nonce(&keys.iv, pn)),
            aad,
            body,
            Tag::from_slice(tag),
        )
        .ok()?;
    let payload = scratch.get(header_len..scratch.len() - TAG_LEN)?;
    Some(Opened {
        packet_number: pn,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_numbers_of_rfc9000_appendix_a3() {
        assert_eq!(
            decode_packet_number(Some(0xa82f30ea), 0x9b32, 2),
            0xa82f9b32
        );
        assert_eq!(decode_packet_number(None, 2, 4), 2);
        assert_eq!(decode_packet_number(Some(0xff), 0x01, 1), 0x101);
        // Absurd history never overflows.
        let _ = decode_packet_number(Some(u64::MAX), 0, 1);
    }

    #[test]
    fn rfc9001_appendix_a2_header_protection_mask() {
        let hp = hex::decode("9f50449e04a0e810283a1e9933adedd2").unwrap();
        let sample = hex::decode("d1b1c98dd7689fb8ec11d242b123dc9b").unwrap();
        let m = hp_mask(
            hp.as_slice().try_into().unwrap(),
            sample.as_slice().try_into().unwrap(),
        );
        assert_eq!(hex::encode(&m[..5]), "437b9aec36");
    }
}
