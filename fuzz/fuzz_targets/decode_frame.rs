//! Fuzz target over the whole lower decoding path: the first input byte picks the link type,
//! the rest is the captured frame. `decode_frame` and `transport::parse` must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome::decode::{decode_frame, transport, LinkType, Net};

/// pcap LINKTYPE numbers of every link type the decoder accepts.
const LINKTYPES: [u32; 11] = [1, 101, 228, 229, 113, 276, 239, 105, 127, 0, 108];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let n = LINKTYPES[usize::from(selector) % LINKTYPES.len()];
    let Some(link) = LinkType::from_linktype(n) else {
        return;
    };
    if let Ok(packet) = decode_frame(link, frame) {
        if let Net::Ip(ip) = packet.net {
            // The flow layer re-parses reassembled datagrams this way.
            let _ = transport::parse(ip.proto, ip.payload);
        }
    }
});
