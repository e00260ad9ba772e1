//! Streaming decoder for `Transfer-Encoding: chunked` request bodies (RFC 9112 §7.1).
//!
//! Hand-rolled because `httparse::parse_chunk_size` needs a whole size line in one buffer,
//! while TCP segments split the stream anywhere; this state machine takes the bytes as they
//! come and keeps no buffer of its own.
//!
//! Invariants: every loop turn consumes at least one byte or returns, so a call always
//! terminates; chunk sizes are accumulated with checked arithmetic (a size that overflows u64
//! is an error; an absurd but representable size just means "more body follows"); chunk-size
//! lines (with extensions) and trailer lines are bounded by [`MAX_CHUNK_LINE`], the trailer
//! section by [`MAX_TRAILER_BYTES`]; output beyond the caller's cap is counted, never stored.
//! Bare LF line endings are accepted, as most servers do.

/// Longest chunk-size line (size, extensions, CRLF) or trailer line accepted: bounds the
/// bytes spent on framing that carries no body.
pub const MAX_CHUNK_LINE: usize = 4096;
/// Longest trailer section accepted, same bound as a request head.
pub const MAX_TRAILER_BYTES: usize = super::MAX_HEAD;

/// Why a chunked body cannot be decoded further.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A chunk-size line does not start with a hex digit.
    #[error("invalid chunk size")]
    BadSize,
    /// A chunk size does not fit in 64 bits.
    #[error("chunk size overflows")]
    SizeOverflow,
    /// Chunk data is not followed by CRLF, or a bare CR is not followed by LF.
    #[error("missing CRLF after chunk")]
    BadDelimiter,
    /// A size or trailer line, or the trailer section, is over its limit.
    #[error("chunk framing line too long")]
    LineTooLong,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum State {
    /// Reading hex digits of a chunk size.
    #[default]
    Size,
    /// After the digits: chunk extensions or blanks, up to LF.
    SizeRest,
    /// Inside chunk data.
    Data,
    /// After chunk data: expecting CR or LF.
    DataEnd,
    /// After chunk data and CR: expecting LF.
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// The final empty line's CR was seen: expecting LF.
    FinalLf,
    /// The last chunk and trailers have been read.
    Done,
    /// A framing error was found; no more input is accepted.
    Failed(ChunkError),
}

/// Decodes a chunked body incrementally: feed it the bytes after the request head, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChunkedDecoder {
    state: State,
    /// Chunk size being read, then data bytes left in the current chunk.
    remaining: u64,
    /// Hex digits read on the current size line.
    digits: usize,
    /// Bytes of the current size or trailer line.
    line_len: usize,
    /// Bytes of the trailer section so far.
    trailer_len: usize,
    /// De-chunked body bytes seen (saturating).
    body_len: u64,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder::default()
    }

    /// True once the last chunk and the trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// De-chunked body bytes seen so far, including those beyond the caller's cap
    /// (saturating).
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// Decodes `input`, appending body bytes to `out` while `out.len() < cap` (further body
    /// bytes are counted in [`body_len`](Self::body_len) but dropped).
    ///
    /// Returns the bytes consumed: all of `input`, unless the body ends inside it (then the
    /// bytes up to the end of the body; the rest belongs to the next request). Once the body
    /// is done, consumes nothing. After an error the decoder stays failed and returns it again.
    pub fn feed(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<usize, ChunkError> {
        let mut i = 0;
        loop {
            match self.state {
                State::Failed(e) => return Err(e),
                State::Done => return Ok(i),
                State::Data => {
                    let Some(rest) = input.get(i..).filter(|r| !r.is_empty()) else {
                        return Ok(i);
                    };
                    let take = usize::try_from(self.remaining)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    let keep = cap.saturating_sub(out.len()).min(take);
                    if let Some(kept) = rest.get(..keep) {
                        out.extend_from_slice(kept);
                    }
                    // take <= remaining and take <= rest.len(): neither step can wrap.
                    self.remaining -= take as u64;
                    self.body_len = self.body_len.saturating_add(take as u64);
                    i += take;
                    if self.remaining == 0 {
                        self.state = State::DataEnd;
                    }
                }
                _ => {
                    let Some(&b) = input.get(i) else {
                        return Ok(i);
                    };
                    i += 1;
                    self.state = self.step(b);
                }
            }
        }
    }

    /// One framing byte (any state but `Data`, `Done`, `Failed`).
    fn step(&mut self, b: u8) -> State {
        use State::*;
        match self.state {
            Size | SizeRest => self.size_byte(b),
            DataEnd => match b {
                b'\r' => DataLf,
                b'\n' => Size,
                _ => Failed(ChunkError::BadDelimiter),
            },
            DataLf if b == b'\n' => Size,
            DataLf => Failed(ChunkError::BadDelimiter),
            TrailerStart => match b {
                b'\r' => FinalLf,
                b'\n' => Done,
                _ => self.trailer_byte(b),
            },
            Trailer => self.trailer_byte(b),
            FinalLf if b == b'\n' => Done,
            FinalLf => Failed(ChunkError::BadDelimiter),
            Data | Done | Failed(_) => self.state,
        }
    }

    /// A byte of a chunk-size line: hex digits, then anything (extensions) up to LF.
    fn size_byte(&mut self, b: u8) -> State {
        self.line_len += 1;
        if self.line_len > MAX_CHUNK_LINE {
            return State::Failed(ChunkError::LineTooLong);
        }
        if self.state == State::Size {
            if let Some(d) = char::from(b).to_digit(16) {
                self.digits += 1;
                return match self
                    .remaining
                    .checked_mul(16)
                    .and_then(|v| v.checked_add(u64::from(d)))
                {
                    Some(v) => {
                        self.remaining = v;
                        State::Size
                    }
                    None => State::Failed(ChunkError::SizeOverflow),
                };
            }
            if self.digits == 0 {
                return State::Failed(ChunkError::BadSize);
            }
        }
        if b != b'\n' {
            return State::SizeRest;
        }
        self.line_len = 0;
        self.digits = 0;
        if self.remaining == 0 {
            State::TrailerStart
        } else {
            State::Data
        }
    }

    /// A byte of the trailer section (after the last chunk).
    fn trailer_byte(&mut self, b: u8) -> State {
        self.line_len += 1;
        self.trailer_len += 1;
        if self.line_len > MAX_CHUNK_LINE || self.trailer_len > MAX_TRAILER_BYTES {
            return State::Failed(ChunkError::LineTooLong);
        }
        if b == b'\n' {
            self.line_len = 0;
            State::TrailerStart
        } else {
            State::Trailer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], cap: usize) -> (Result<usize, ChunkError>, Vec<u8>, bool) {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        let r = d.feed(input, &mut out, cap);
        (r, out, d.is_done())
    }

    #[test]
    fn decodes_chunks_extensions_and_trailers() {
        let body = b"4;name=val\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        let (r, out, done) = decode_all(body, 1024);
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
        assert!(done);
        assert_eq!(r, Ok(body.len() - 4));
    }

    #[test]
    fn byte_at_a_time_equals_whole() {
        let body = b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        for b in body.chunks(1) {
            assert_eq!(d.feed(b, &mut out, 1024), Ok(1));
        }
        assert!(d.is_done());
        assert_eq!(out, b"abc0123456789abcdef");
        assert_eq!(d.body_len(), 19);
    }

    #[test]
    fn cap_limits_output_but_not_counting() {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        assert_eq!(d.feed(b"a\r\n0123456789\r\n0\n\n", &mut out, 4), Ok(18));
        assert_eq!(out, b"0123");
        assert_eq!(d.body_len(), 10);
        assert!(d.is_done());
    }

    #[test]
    fn absurd_sizes() {
        // The largest u64 is a legal size: its data just never ends here.
        let (r, out, done) = decode_all(b"ffffffffffffffff\r\nabc", 1024);
        assert_eq!((r, out.as_slice(), done), (Ok(21), &b"abc"[..], false));
        // One more digit overflows.
        let (r, _, _) = decode_all(b"1ffffffffffffffff\r\n", 1024);
        assert_eq!(r, Err(ChunkError::SizeOverflow));
        // Leading zeros are fine until the line limit.
        let mut long = vec![b'0'; MAX_CHUNK_LINE + 1];
        long.push(b'1');
        assert_eq!(decode_all(&long, 8).0, Err(ChunkError::LineTooLong));
    }

    #[test]
    fn framing_errors_stick() {
        assert_eq!(decode_all(b"zz\r\n", 8).0, Err(ChunkError::BadSize));
        assert_eq!(decode_all(b"\r\n", 8).0, Err(ChunkError::BadSize));
        assert_eq!(decode_all(b"1\r\nab", 8).0, Err(ChunkError::BadDelimiter));
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        assert_eq!(
            d.feed(b"1\r\naXX", &mut out, 8),
            Err(ChunkError::BadDelimiter)
        );
        assert_eq!(
            d.feed(b"0\r\n\r\n", &mut out, 8),
            Err(ChunkError::BadDelimiter)
        );
        assert!(!d.is_done());
    }

    #[test]
    fn done_consumes_nothing_more() {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        assert_eq!(d.feed(b"0\r\n\r\n", &mut out, 8), Ok(5));
        assert_eq!(d.feed(b"GET / HTTP/1.1\r\n", &mut out, 8), Ok(0));
        assert!(out.is_empty());
    }
}
