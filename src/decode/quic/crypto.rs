//! Reassembly of the Initial CRYPTO stream: fragments arrive out of order, overlapping and
//! across packets (Chrome scatters its ClientHello over many small CRYPTO frames, and one with
//! post-quantum key shares spans two Initial packets).
//!
//! Bytes beyond [`MAX_CRYPTO_BYTES`] are refused, so a connection holds at most that much
//! plus a bitmap of one bit per byte. A byte-granular bitmap (rather than a range list) makes
//! every overlap pattern trivially correct; retransmitted bytes simply overwrite.

/// Most CRYPTO stream bytes kept per connection: a ClientHello is usually under 2 KiB and
/// about 8 KiB with post-quantum key shares; more than this is not a hello we decode.
pub const MAX_CRYPTO_BYTES: usize = 16 * 1024;

/// Why a fragment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

/// The CRYPTO stream received so far.
#[derive(Debug, Default)]
pub struct CryptoStream {
    buf: Vec<u8>,
    /// One bit per byte of `buf`: received.
    filled: Vec<u64>,
    /// Bytes received contiguously from offset 0.
    contiguous: usize,
}

impl CryptoStream {
    /// An empty stream (allocates on the first fragment).
    pub fn new() -> CryptoStream {
        CryptoStream::default()
    }

    /// Stores `data` at stream `offset`. Refuses fragments ending past [`MAX_CRYPTO_BYTES`]
    /// (nothing of them is stored).
    pub fn insert(&mut self, offset: u64, data: &[u8]) -> Result<(), TooLong> {
        let start = usize::try_from(offset).map_err(|_| TooLong)?;
        let end = start.checked_add(data.len()).ok_or(TooLong)?;
        if end > MAX_CRYPTO_BYTES {
            return Err(TooLong);
        }
        if end > self.buf.len() {
            self.buf.resize(end, 0);
            self.filled.resize(end.div_ceil(64), 0);
        }
        if let Some(dst) = self.buf.get_mut(start..end) {
            dst.copy_from_slice(data);
        }
        for i in start..end {
            if let Some(w) = self.filled.get_mut(i / 64) {
                *w |= 1u64 << (i % 64);
            }
        }
        while self.contiguous < self.buf.len() {
            let i = self.contiguous;
            let Some(&w) = self.filled.get(i / 64) else {
                break;
            };
            let run = (w >> (i % 64)).trailing_ones() as usize;
            if run == 0 {
                break;
            }
            self.contiguous = (i + run).min(self.buf.len());
        }
        Ok(())
    }

    /// The bytes received contiguously from offset 0.
    pub fn contiguous(&self) -> &[u8] {
        self.buf.get(..self.contiguous).unwrap_or_default()
    }

    /// Bytes of the stream buffered (including holes).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_and_overlapping() {
        let mut s = CryptoStream::new();
        s.insert(5, b"fgh").unwrap();
        assert_eq!(s.contiguous(), b"");
        s.insert(0, b"abc").unwrap();
        assert_eq!(s.contiguous(), b"abc");
        s.insert(2, b"cde").unwrap();
        assert_eq!(s.contiguous(), b"abcdefgh");
        let long: Vec<u8> = (0..200u8).collect();
        s.insert(0, &long).unwrap();
        assert_eq!(s.contiguous(), &long[..]);
    }

    #[test]
    fn bound_is_enforced() {
        let mut s = CryptoStream::new();
        assert_eq!(s.insert(MAX_CRYPTO_BYTES as u64, b"x"), Err(TooLong));
        assert_eq!(s.insert(u64::MAX, b"x"), Err(TooLong));
        assert!(s.insert(MAX_CRYPTO_BYTES as u64 - 1, b"x").is_ok());
        assert_eq!(s.buffered(), MAX_CRYPTO_BYTES);
        assert_eq!(s.contiguous(), b"");
    }
}
