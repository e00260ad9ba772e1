//! Frames of a decrypted Initial packet (RFC 9000 §19, §12.4 Table 3): PADDING, PING, ACK,
//! CRYPTO and CONNECTION_CLOSE (transport) are the only frames allowed there. CRYPTO data is
//! handed to a callback; ACKs are skipped; anything else ends the walk as a protocol violation.
//!
//! Every loop consumes at least one byte of the payload per step, so the walk is bounded by
//! the payload length whatever the (authenticated, but possibly hostile) sender wrote.

use super::header::varint;

/// How a frame walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameEnd {
    /// Every frame parsed.
    Complete,
    /// A CONNECTION_CLOSE frame: the client gave up.
    ConnectionClose,
    /// A truncated frame or a frame type not allowed in Initial packets.
    Malformed,
}

/// Frame type codes allowed in Initial packets.
mod ty {
    pub const PADDING: u64 = 0x00;
    pub const PING: u64 = 0x01;
    pub const ACK: u64 = 0x02;
    pub const ACK_ECN: u64 = 0x03;
    pub const CRYPTO: u64 = 0x06;
    pub const CONNECTION_CLOSE: u64 = 0x1c;
}

/// A reader of varints over the payload.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let (v, n) = varint(self.0)?;
        self.0 = self.0.get(n..)?;
        Some(v)
    }
    fn bytes(&mut self, n: u64) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(usize::try_from(n).ok()?)?;
        self.0 = tail;
        Some(head)
    }
}

/// Walks the frames of `payload`, calling `crypto(offset, data)` for every CRYPTO frame in
/// the order they appear.
pub fn walk(payload: &[u8], mut crypto: impl FnMut(u64, &[u8])) -> FrameEnd {
    let mut r = Reader(payload);
    while !r.0.is_empty() {
        let Some(t) = r.varint() else {
            return FrameEnd::Malformed;
        };
        let ok = match t {
            ty::PADDING => {
                let zeros = r.0.iter().position(|&b| b != 0).unwrap_or(r.0.len());
                r.0 = r.0.get(zeros..).unwrap_or_default();
                Some(())
            }
            ty::PING => Some(()),
            ty::ACK | ty::ACK_ECN => skip_ack(&mut r, t == ty::ACK_ECN),
            ty::CRYPTO => (|| {
                let offset = r.varint()?;
                let len = r.varint()?;
                let data = r.bytes(len)?;
                crypto(offset, data);
                Some(())
            })(),
            ty::CONNECTION_CLOSE => return FrameEnd::ConnectionClose,
            _ => None,
        };
        if ok.is_none() {
            return FrameEnd::Malformed;
        }
    }
    FrameEnd::Complete
}

/// Skips an ACK frame body (RFC 9000 §19.3). Each range costs at least two payload bytes, so
/// a huge range count ends at the payload's end.
fn skip_ack(r: &mut Reader<'_>, ecn: bool) -> Option<()> {
    r.varint()?; // largest acknowledged
    r.varint()?; // ack delay
    let ranges = r.varint()?;
    r.varint()?; // first range
    for _ in 0..ranges {
        r.varint()?; // gap
        r.varint()?; // range length
    }
    if ecn {
        for _ in 0..3 {
            r.varint()?;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(p: &[u8]) -> (Vec<(u64, Vec<u8>)>, FrameEnd) {
        let mut v = Vec::new();
        let end = walk(p, |o, d| v.push((o, d.to_vec())));
        (v, end)
    }

    #[test]
    fn crypto_ping_padding_ack() {
        let p = [
            0x01, 0x06, 0x03, 0x02, b'l', b'o', 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00,
            0x00, 0x06, 0x00, 0x03, b'h', b'e', b'l', 0x00,
        ];
        let (v, end) = collect(&p);
        assert_eq!(end, FrameEnd::Complete);
        assert_eq!(v, vec![(3, b"lo".to_vec()), (0, b"hel".to_vec())]);
    }

    #[test]
    fn truncated_huge_and_forbidden_frames() {
        assert_eq!(collect(&[0x06, 0x00, 0x0a, 1, 2]).1, FrameEnd::Malformed);
        // CRYPTO length 2^62-1.
        let huge = [
            0x06, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1,
        ];
        assert_eq!(collect(&huge).1, FrameEnd::Malformed);
        // ACK with 2^62-1 ranges and no bytes for them.
        let acks = [
            0x02, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
        ];
        assert_eq!(collect(&acks).1, FrameEnd::Malformed);
        // STREAM frame.
        assert_eq!(collect(&[0x08, 0x00]).1, FrameEnd::Malformed);
        assert_eq!(collect(&[0x1c, 0x0a, 0, 0]).1, FrameEnd::ConnectionClose);
    }
}
