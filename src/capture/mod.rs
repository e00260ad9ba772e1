//! Frame sources: pcap/pcapng files and live AF_PACKET capture. The only place that touches
//! capture I/O; frames go to [`crate::pipeline::Pipeline`].

pub mod file;
pub mod live;

/// Errors of the capture layer.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {msg}")]
    File { path: String, msg: String },
    #[error("{path}: packet {packet}: {msg}")]
    Packet {
        path: String,
        packet: u64,
        msg: String,
    },
    #[error("interface {iface}: {msg}")]
    Live { iface: String, msg: String },
}
