//! Link-layer decoding: Ethernet, 802.1Q, ARP, SLL/SLL2, NFLOG, 802.11/radiotap, GTP-U.
//! STUB: to be implemented.

use super::{DecodeError, LinkType, Packet};

/// Tunnel layers (GTP-U, nested VLANs) looked through at most: bounds recursion on crafted input.
pub const MAX_TUNNEL_DEPTH: u8 = 4;

/// See [`super::decode_frame`].
pub fn decode(_link: LinkType, _data: &[u8]) -> Result<Packet<'_>, DecodeError> {
    Err(DecodeError::UnsupportedLink)
}
