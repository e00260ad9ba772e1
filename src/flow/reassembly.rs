//! TCP stream reassembly for the bytes an application decoder inspects.
//! STUB: to be implemented.

/// One direction of a TCP stream, from its first byte, up to a byte cap.
#[derive(Debug, Default)]
pub struct StreamBuf {}

impl StreamBuf {
    /// A buffer that keeps at most `cap` bytes in order (plus bounded out-of-order segments).
    pub fn new(_cap: usize) -> Self {
        StreamBuf {}
    }
    /// Adds a segment. `syn` marks the SYN segment, whose seq+1 is the stream's first byte.
    pub fn push(&mut self, _seq: u32, _syn: bool, _data: &[u8]) {}
    /// The contiguous bytes available from the current read position.
    pub fn data(&self) -> &[u8] {
        &[]
    }
    /// Drops `n` bytes from the front (consumed by a decoder).
    pub fn consume(&mut self, _n: usize) {}
}
