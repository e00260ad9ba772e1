//! Live capture of Ethernet frames with pnet on an AF_PACKET socket (the AP bridge).
//!
//! The socket is opened here (nix) rather than by pnet so its receive buffer can be raised to
//! [`LiveConfig::rcvbuf_bytes`] with `SO_RCVBUFFORCE` (falling back to `SO_RCVBUF`): the
//! kernel's ~128 KiB default lost a third of the packets at 50 k packets/s on this project's
//! machines. It is then handed to `pnet_datalink` through `Config.socket_fd`, which binds it,
//! sets promiscuous mode and owns (and closes) it from then on.
//!
//! Invariants:
//! - [`LiveSource::next_frame`] blocks at most [`LiveConfig::read_timeout`] (then `Ok(None)`),
//!   so the caller can check a stop flag;
//! - frames are at most `read_buffer` bytes (clamped to [`MAX_FRAME_LEN`]) and borrow pnet's
//!   receive buffer: no allocation per packet;
//! - timestamps are the wall clock at receipt, in µs;
//! - kernel counters are read with `getsockopt(PACKET_STATISTICS)`, which resets them on every
//!   read, so they are accumulated here.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockProtocol, SockType};
use pnet_datalink::{Channel, DataLinkReceiver, NetworkInterface};

use super::{CaptureError, Frame, MAX_FRAME_LEN};
use crate::decode::LinkType;
use crate::event::Ts;

/// Default socket receive buffer: 16 MiB absorbs bursts while the pipeline is busy.
pub const DEFAULT_RCVBUF: usize = 16 * 1024 * 1024;

/// Largest receive buffer we ask the kernel for: keeps the value within the kernel's `int`.
pub const MAX_RCVBUF: usize = 1024 * 1024 * 1024;

/// Default read buffer: segmentation offload hands the socket frames of up to 64 KiB (65,226
/// bytes seen on a veth bridge); 256 KiB leaves room and equals [`MAX_FRAME_LEN`].
pub const DEFAULT_READ_BUFFER: usize = 256 * 1024;

/// Smallest read buffer accepted: one full-size Ethernet frame with a VLAN tag.
pub const MIN_READ_BUFFER: usize = 1518;

/// Default read timeout: short enough for a prompt shutdown, long enough to cost nothing.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_millis(200);

/// `PACKET_STATISTICS` from `<linux/if_packet.h>` (not exported by every libc version).
const PACKET_STATISTICS: libc::c_int = 6;

/// Settings of a live capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveConfig {
    /// Put the interface in promiscuous mode (needed on a bridge to see bridged traffic).
    pub promiscuous: bool,
    /// Socket receive buffer in bytes (default [`DEFAULT_RCVBUF`], capped at [`MAX_RCVBUF`]).
    pub rcvbuf_bytes: usize,
    /// Largest frame read in bytes (default [`DEFAULT_READ_BUFFER`]; clamped to
    /// [`MIN_READ_BUFFER`]..=[`MAX_FRAME_LEN`]); longer frames are cut.
    pub read_buffer: usize,
    /// How long [`LiveSource::next_frame`] waits for a frame (default
    /// [`DEFAULT_READ_TIMEOUT`]).
    pub read_timeout: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            promiscuous: true,
            rcvbuf_bytes: DEFAULT_RCVBUF,
            read_buffer: DEFAULT_READ_BUFFER,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

/// Kernel counters of the capture socket since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Frames the kernel queued for the socket, dropped ones included.
    pub packets: u64,
    /// Frames dropped because the receive buffer was full.
    pub drops: u64,
}

/// A live capture on one interface, read as a lending iterator of Ethernet [`Frame`]s.
pub struct LiveSource {
    iface: String,
    rx: Box<dyn DataLinkReceiver>,
    /// The socket, owned by `rx` (pnet closes it when `rx` drops): valid as long as `self`.
    fd: RawFd,
    stats: Cell<KernelStats>,
    promiscuous: bool,
    packets: u64,
}

impl LiveSource {
    /// Opens a capture socket on interface `iface` (in the calling thread's network namespace).
    ///
    /// If promiscuous mode is asked for but fails with `ENOPROTOOPT` (as inside qemu-user), the
    /// socket is opened again without it; see [`LiveSource::promiscuous`]. Errors name the
    /// interface: missing interface, no permission (needs root or `CAP_NET_RAW`), socket
    /// errors.
    pub fn open(iface: &str, cfg: &LiveConfig) -> Result<LiveSource, CaptureError> {
        let fail = |msg: String| CaptureError::Live {
            iface: iface.to_string(),
            msg,
        };
        let ni = pnet_datalink::interfaces()
            .into_iter()
            .find(|i| i.name == iface)
            .ok_or_else(|| fail("no such network interface".to_string()))?;
        let mut promiscuous = cfg.promiscuous;
        let opened = match open_channel(&ni, cfg, promiscuous) {
            Err(e) if promiscuous && e.raw_os_error() == Some(libc::ENOPROTOOPT) => {
                tracing::warn!(
                    iface,
                    "promiscuous mode refused (ENOPROTOOPT); capturing without"
                );
                promiscuous = false;
                open_channel(&ni, cfg, false)
            }
            other => other,
        };
        let (rx, fd) = opened.map_err(|e| match e.kind() {
            io::ErrorKind::PermissionDenied => {
                fail(format!("capture needs root or CAP_NET_RAW: {e}"))
            }
            _ => fail(format!("cannot open capture socket: {e}")),
        })?;
        Ok(LiveSource {
            iface: iface.to_string(),
            rx,
            fd,
            stats: Cell::new(KernelStats::default()),
            promiscuous,
            packets: 0,
        })
    }

    /// The next frame, borrowing the receive buffer until the next call; `Ok(None)` when no
    /// frame arrived within the read timeout (or a signal interrupted the wait).
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        match self.rx.next() {
            Ok(data) => {
                self.packets += 1;
                Ok(Some(Frame {
                    ts: now_micros(),
                    link: LinkType::Ethernet,
                    data,
                    orig_len: u32::try_from(data.len()).unwrap_or(u32::MAX),
                }))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(CaptureError::Live {
                iface: self.iface.clone(),
                msg: format!("receive: {e}"),
            }),
        }
    }

    /// Kernel counters since the socket was opened (accumulated: the kernel resets them on
    /// each read). On a failed read, the counters known so far.
    pub fn kernel_stats(&self) -> KernelStats {
        let mut acc = self.stats.get();
        if let Some((packets, drops)) = read_packet_statistics(self.fd) {
            acc.packets = acc.packets.saturating_add(u64::from(packets));
            acc.drops = acc.drops.saturating_add(u64::from(drops));
            self.stats.set(acc);
        }
        acc
    }

    /// Whether the socket runs in promiscuous mode (false if asked for but refused).
    pub fn promiscuous(&self) -> bool {
        self.promiscuous
    }

    /// Frames delivered so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The interface name.
    pub fn iface(&self) -> &str {
        &self.iface
    }
}

/// Opens an AF_PACKET socket with the configured receive buffer and hands it to pnet.
fn open_channel(
    ni: &NetworkInterface,
    cfg: &LiveConfig,
    promiscuous: bool,
) -> io::Result<(Box<dyn DataLinkReceiver>, RawFd)> {
    let sock = socket::socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::EthAll,
    )?;
    let rcvbuf = cfg.rcvbuf_bytes.min(MAX_RCVBUF);
    if socket::setsockopt(&sock, sockopt::RcvBufForce, &rcvbuf).is_err() {
        // Without CAP_NET_ADMIN: the plain option, capped by net.core.rmem_max.
        if let Err(e) = socket::setsockopt(&sock, sockopt::RcvBuf, &rcvbuf) {
            tracing::warn!(iface = %ni.name, error = %e, "cannot set the socket receive buffer");
        }
    }
    let fd = sock.as_raw_fd();
    let config = pnet_datalink::Config {
        read_buffer_size: cfg.read_buffer.clamp(MIN_READ_BUFFER, MAX_FRAME_LEN),
        // The sender half is dropped at once: keep its buffer minimal.
        write_buffer_size: 64,
        read_timeout: Some(cfg.read_timeout),
        promiscuous,
        // pnet owns the descriptor from here on, and closes it on its own errors.
        socket_fd: Some(sock.into_raw_fd()),
        ..Default::default()
    };
    match pnet_datalink::channel(ni, config)? {
        Channel::Ethernet(_tx, rx) => Ok((rx, fd)),
        _ => Err(io::Error::other("pnet returned a non-Ethernet channel")),
    }
}

/// Reads and resets the socket's `tpacket_stats` (packets, drops).
#[allow(unsafe_code)]
fn read_packet_statistics(fd: RawFd) -> Option<(u32, u32)> {
    /// `struct tpacket_stats` of `<linux/if_packet.h>`.
    #[repr(C)]
    struct TpacketStats {
        tp_packets: libc::c_uint,
        tp_drops: libc::c_uint,
    }
    let mut st = TpacketStats {
        tp_packets: 0,
        tp_drops: 0,
    };
    let mut len = std::mem::size_of::<TpacketStats>() as libc::socklen_t;
    // SAFETY: `fd` is the open AF_PACKET socket owned by the live source's receiver, alive for
    // the borrow of the source that calls this; `st` and `len` are valid for writes and `len`
    // is `st`'s exact size, so the kernel writes at most that many bytes.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_PACKET,
            PACKET_STATISTICS,
            (&mut st as *mut TpacketStats).cast::<libc::c_void>(),
            &mut len,
        )
    };
    (rc == 0).then_some((st.tp_packets, st.tp_drops))
}

/// Wall-clock time in µs since the Unix epoch (0 before the epoch, saturating far after).
fn now_micros() -> Ts {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
