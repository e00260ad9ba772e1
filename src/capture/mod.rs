//! Frame sources: pcap/pcapng files ([`file::FileSource`]) and live AF_PACKET capture
//! ([`live::LiveSource`]). The only place that touches capture I/O; frames go to
//! [`crate::pipeline::Pipeline`].
//!
//! Invariants shared by both sources:
//! - a [`Frame`] borrows the source's internal buffer (a lending iterator): no allocation per
//!   packet, and the frame must be dropped before the next call;
//! - `Frame::data.len()` never exceeds [`MAX_FRAME_LEN`], whatever the input claims;
//! - timestamps are microseconds since the Unix epoch ([`Ts`]): file time for files, wall clock
//!   at receipt for live capture.

pub mod file;
pub mod live;

pub use file::FileSource;
pub use live::{KernelStats, LiveConfig, LiveSource};

use crate::decode::LinkType;
use crate::event::Ts;

/// Largest captured frame a source will hand out, in bytes. A file record claiming more is an
/// error, never an allocation. 256 KiB is four times the largest frame segmentation offload
/// produces (64 KiB), so no real capture reaches it.
pub const MAX_FRAME_LEN: usize = 256 * 1024;

/// One captured frame, borrowed from its source's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Capture time, microseconds since the Unix epoch.
    pub ts: Ts,
    /// Link-layer type of `data`.
    pub link: LinkType,
    /// The captured bytes (possibly fewer than `orig_len` when the capture was cut by a
    /// snap length).
    pub data: &'a [u8],
    /// Length of the frame on the wire, as recorded by the capturer.
    pub orig_len: u32,
}

/// Errors of the capture layer.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The capture file cannot be opened or used at all (missing, not a capture, unsupported
    /// link type).
    #[error("{path}: {msg}")]
    File {
        /// The file as given by the caller.
        path: String,
        /// What is wrong.
        msg: String,
    },
    /// A record of the capture file is truncated or corrupt. The frames before it were
    /// delivered; the source returns nothing after this error.
    #[error("{path}: packet {packet}: {msg}")]
    Packet {
        /// The file as given by the caller.
        path: String,
        /// 1-based number of the bad packet record (frames delivered before it + 1).
        packet: u64,
        /// What is wrong.
        msg: String,
    },
    /// Live capture failed (interface missing, socket or permission error).
    #[error("interface {iface}: {msg}")]
    Live {
        /// The interface name as given by the caller.
        iface: String,
        /// What is wrong.
        msg: String,
    },
}
