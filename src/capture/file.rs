//! Offline capture files: pcap (µs and ns resolution, both byte orders, the "modified" variant)
//! and pcapng (several sections, several interfaces with their own link type, `if_tsresol` and
//! `if_tsoffset`; Enhanced and Simple Packet Blocks; every other block skipped).
//!
//! Parsing is rusticata's `pcap-parser`: zero-copy nom parsers over one fixed circular buffer
//! filled straight from the file, so a 1.5 GB capture streams in [`READ_BUFFER`] bytes of
//! memory. `pcap-file` 2 (also a dependency) was checked and not used: its pcap reader rejects
//! records whose `orig_len` exceeds the snap length (any `tcpdump -s 96` capture, and the corpus
//! case `trunc-capture-record`), its pcapng reader turns EPB timestamps into nanoseconds whatever
//! `if_tsresol` says (the default is µs), and a record longer than its fixed 8 MB buffer comes
//! out as an unexplained end of file. Timestamp arithmetic is done here rather than with
//! pcap-parser's `build_ts`, which can overflow on a hostile `if_tsoffset` and rejects binary
//! resolutions.
//!
//! Invariants:
//! - memory: one [`READ_BUFFER`] allocation at open, plus at most [`MAX_INTERFACES`] small
//!   interface records; nothing per packet (pcap-parser only collects the options of an EPB that
//!   carries some into a `Vec`; dumpcap and tcpdump write none by default);
//! - a record longer than [`MAX_FRAME_LEN`] is an error, never an allocation;
//! - the first truncated or corrupt record ends the source: it yields
//!   [`CaptureError::Packet`] with the record's 1-based number, then `None` forever; the frames
//!   before it have been delivered.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{
    Block, InterfaceDescriptionBlock, LegacyPcapReader, OptionCode, PcapBlockOwned, PcapError,
    PcapNGReader,
};

use super::{CaptureError, Frame, MAX_FRAME_LEN};
use crate::decode::LinkType;
use crate::event::{Ts, MICROS};

/// Size of the read buffer, in bytes: bounds the memory a file source uses and the largest
/// block it can hold (pcapng name-resolution or decryption-secrets blocks can exceed a frame).
/// Large reads keep the per-packet cost of I/O negligible.
pub const READ_BUFFER: usize = 2 * 1024 * 1024;

/// Most interfaces one pcapng section may declare: bounds the interface table a hostile file
/// can make us grow (real captures have a handful).
pub const MAX_INTERFACES: usize = 1024;

/// Refills in a row that may bring no new bytes before a record is declared too large for the
/// read buffer: stops a parser that keeps asking for more than fits from looping forever.
const MAX_STALLED_REFILLS: u32 = 2;

/// pcap magic numbers, read little-endian from the first four bytes: µs, ns and "modified"
/// files written little-endian, then µs and ns files written big-endian.
const PCAP_MAGICS: [u32; 5] = [
    0xa1b2_c3d4,
    0xa1b2_3c4d,
    0xa1b2_cd34,
    0xd4c3_b2a1,
    0x4d3c_b2a1,
];

/// pcapng Section Header Block type (a palindrome, so byte order does not matter).
const PCAPNG_MAGIC: u32 = 0x0a0d_0d0a;

/// The streaming parser for the file's format.
enum Reader {
    Pcap(LegacyPcapReader<File>),
    PcapNg(PcapNGReader<File>),
}

impl Reader {
    fn iter(&mut self) -> &mut dyn PcapReaderIterator {
        match self {
            Reader::Pcap(r) => r,
            Reader::PcapNg(r) => r,
        }
    }
}

/// One pcapng interface (Interface Description Block).
#[derive(Clone, Copy, Debug)]
struct Iface {
    /// LINKTYPE number as written.
    linktype: i32,
    /// Timestamp units per second (from `if_tsresol`); None when the resolution is invalid.
    units_per_sec: Option<u64>,
    /// `if_tsoffset`: seconds added to every timestamp.
    offset_s: i64,
    /// Snap length; 0 means unlimited.
    snaplen: u32,
}

/// What the parser state knows about the file's layout.
enum Layout {
    Pcap {
        link: LinkType,
        nanos: bool,
    },
    PcapNg {
        big_endian: bool,
        ifaces: Vec<Iface>,
    },
}

/// What one parsed block means for the caller.
enum Step {
    /// Not a packet (header, statistics, names...): consume and go on.
    Skip,
    /// A packet whose bytes start at address `ptr` inside the reader's buffer.
    Packet {
        ptr: usize,
        len: usize,
        ts: Ts,
        link: LinkType,
        orig_len: u32,
    },
    /// A packet on an interface whose link type we cannot decode.
    Unsupported(String),
    /// A corrupt record.
    Bad(String),
}

/// A pcap or pcapng file read as a lending iterator of [`Frame`]s.
pub struct FileSource {
    path: String,
    reader: Reader,
    layout: Layout,
    /// Bytes of the block behind the last frame handed out, consumed at the next call (the
    /// frame borrows them until then).
    pending: usize,
    /// Frames delivered so far.
    packets: u64,
    /// Set after the end of the file or the first error.
    done: bool,
}

impl FileSource {
    /// Opens a pcap or pcapng file, detected from its magic number, and reads its header.
    ///
    /// Errors ([`CaptureError::File`]): the file cannot be opened, is empty or too short, is
    /// not a capture, or (pcap) has a link type [`LinkType::from_linktype`] does not know.
    pub fn open(path: impl AsRef<Path>) -> Result<FileSource, CaptureError> {
        Self::open_with_buffer(path.as_ref(), READ_BUFFER)
    }

    /// [`FileSource::open`] with a read buffer of `buffer` bytes (tests use small ones).
    pub(crate) fn open_with_buffer(path: &Path, buffer: usize) -> Result<FileSource, CaptureError> {
        let name = path.display().to_string();
        let fail = |msg: String| CaptureError::File {
            path: name.clone(),
            msg,
        };
        let mut file = File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
        let mut magic = [0u8; 4];
        let got = read_up_to(&mut file, &mut magic).map_err(|e| fail(format!("read: {e}")))?;
        if got < magic.len() {
            return Err(fail(format!("not a capture file: only {got} bytes")));
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| fail(format!("seek: {e}")))?;
        let magic = u32::from_le_bytes(magic);
        let header_err = |e: PcapError<&[u8]>| fail(format!("bad capture file header: {e}"));
        let mut reader = if magic == PCAPNG_MAGIC {
            Reader::PcapNg(PcapNGReader::new(buffer, file).map_err(header_err)?)
        } else if PCAP_MAGICS.contains(&magic) {
            Reader::Pcap(LegacyPcapReader::new(buffer, file).map_err(header_err)?)
        } else {
            return Err(fail(format!(
                "not a pcap or pcapng file (magic 0x{magic:08x})"
            )));
        };
        let layout = match &mut reader {
            Reader::PcapNg(_) => Layout::PcapNg {
                big_endian: false,
                ifaces: Vec::new(),
            },
            Reader::Pcap(r) => match r.next() {
                Ok((offset, PcapBlockOwned::LegacyHeader(h))) => {
                    let n = h.network.0;
                    let link = u32::try_from(n)
                        .ok()
                        .and_then(LinkType::from_linktype)
                        .ok_or_else(|| {
                            fail(format!("unsupported link type {n} ({})", h.network))
                        })?;
                    let nanos = h.is_nanosecond_precision();
                    r.consume(offset);
                    Layout::Pcap { link, nanos }
                }
                _ => return Err(fail("bad pcap file header".to_string())),
            },
        };
        Ok(FileSource {
            path: name,
            reader,
            layout,
            pending: 0,
            packets: 0,
            done: false,
        })
    }

    /// Number of frames delivered so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The path as given to [`FileSource::open`], for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The next frame, borrowing the internal buffer until the next call; `None` at the end of
    /// the file and after the first error.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        if self.pending > 0 {
            self.reader.iter().consume_noshift(self.pending);
            self.pending = 0;
        }
        let mut stalled = 0u32;
        let (ptr, len, ts, link, orig_len) = loop {
            let it = self.reader.iter();
            let (offset, step) = match it.next() {
                Ok((offset, block)) => (offset, classify(&block, &mut self.layout)),
                Err(PcapError::Eof) => {
                    self.done = true;
                    return None;
                }
                Err(PcapError::Incomplete(_)) => {
                    let before = it.data().len();
                    if it.refill().is_err() {
                        return Some(Err(self.fail("read error".to_string())));
                    }
                    if it.data().len() == before && !it.reader_exhausted() {
                        stalled += 1;
                        if stalled > MAX_STALLED_REFILLS {
                            let msg = "record larger than the read buffer".to_string();
                            return Some(Err(self.fail(msg)));
                        }
                    }
                    continue;
                }
                Err(PcapError::UnexpectedEof) => {
                    let msg = "truncated record: the file ends inside it".to_string();
                    return Some(Err(self.fail(msg)));
                }
                Err(PcapError::BufferTooSmall) => {
                    let msg = "record length exceeds the read buffer".to_string();
                    return Some(Err(self.fail(msg)));
                }
                Err(e) => {
                    let msg = format!("corrupt record: {e}");
                    return Some(Err(self.fail(msg)));
                }
            };
            match step {
                Step::Skip => it.consume_noshift(offset),
                Step::Packet {
                    ptr,
                    len,
                    ts,
                    link,
                    orig_len,
                } => {
                    self.pending = offset;
                    break (ptr, len, ts, link, orig_len);
                }
                Step::Unsupported(msg) => {
                    self.done = true;
                    return Some(Err(CaptureError::File {
                        path: self.path.clone(),
                        msg,
                    }));
                }
                Step::Bad(msg) => return Some(Err(self.fail(msg))),
            }
        };
        // The block was parsed from the start of `data()`, which has not moved since: locate
        // the packet bytes in it by address (safe arithmetic, then a checked slice).
        let buf = self.reader.iter().data();
        let data = ptr
            .checked_sub(buf.as_ptr() as usize)
            .and_then(|start| buf.get(start..start.checked_add(len)?));
        match data {
            Some(data) => {
                self.packets += 1;
                Some(Ok(Frame {
                    ts,
                    link,
                    data,
                    orig_len,
                }))
            }
            None => {
                self.done = true;
                Some(Err(CaptureError::Packet {
                    path: self.path.clone(),
                    packet: self.packets + 1,
                    msg: "packet data outside the parsed block".to_string(),
                }))
            }
        }
    }

    /// Ends the source with a [`CaptureError::Packet`] for the next record.
    fn fail(&mut self, msg: String) -> CaptureError {
        self.done = true;
        CaptureError::Packet {
            path: self.path.clone(),
            packet: self.packets + 1,
            msg,
        }
    }
}

/// Interprets one block, updating the pcapng interface table.
fn classify(block: &PcapBlockOwned<'_>, layout: &mut Layout) -> Step {
    match (block, layout) {
        (PcapBlockOwned::Legacy(b), Layout::Pcap { link, nanos }) => {
            let frac = if *nanos {
                i64::from(b.ts_usec) / 1000
            } else {
                i64::from(b.ts_usec)
            };
            let ts = i64::from(b.ts_sec) * MICROS + frac;
            packet(b.data, ts, *link, b.origlen)
        }
        (PcapBlockOwned::NG(block), Layout::PcapNg { big_endian, ifaces }) => match block {
            Block::SectionHeader(shb) => {
                *big_endian = shb.big_endian();
                ifaces.clear();
                Step::Skip
            }
            Block::InterfaceDescription(idb) => {
                if ifaces.len() >= MAX_INTERFACES {
                    return Step::Bad(format!("more than {MAX_INTERFACES} interfaces"));
                }
                ifaces.push(Iface {
                    linktype: idb.linktype.0,
                    units_per_sec: units_per_second(idb.if_tsresol),
                    offset_s: ts_offset(idb, *big_endian),
                    snaplen: idb.snaplen,
                });
                Step::Skip
            }
            Block::EnhancedPacket(epb) => {
                let Some(iface) = usize::try_from(epb.if_id).ok().and_then(|i| ifaces.get(i))
                else {
                    return Step::Bad(format!("packet on undeclared interface {}", epb.if_id));
                };
                let Some(link) = iface_link(iface) else {
                    return unsupported(iface, epb.if_id);
                };
                let Some(units) = iface.units_per_sec else {
                    return Step::Bad(format!("interface {}: invalid if_tsresol", epb.if_id));
                };
                let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let ts = ng_micros(raw, units, iface.offset_s);
                packet(epb.packet_data(), ts, link, epb.origlen)
            }
            Block::SimplePacket(spb) => {
                // SPBs belong to interface 0 and carry no timestamp.
                let Some(iface) = ifaces.first() else {
                    return Step::Bad("simple packet before any interface".to_string());
                };
                let Some(link) = iface_link(iface) else {
                    return unsupported(iface, 0);
                };
                let mut data = spb.packet_data();
                if iface.snaplen > 0 {
                    let cap = usize::try_from(iface.snaplen).unwrap_or(usize::MAX);
                    data = data.get(..cap).unwrap_or(data);
                }
                packet(data, 0, link, spb.origlen)
            }
            _ => Step::Skip,
        },
        // pcap-parser yields legacy blocks only from a legacy reader and pcapng blocks only
        // from a pcapng reader; anything else is skipped.
        _ => Step::Skip,
    }
}

/// A packet step, or an error if the record exceeds [`MAX_FRAME_LEN`].
fn packet(data: &[u8], ts: Ts, link: LinkType, orig_len: u32) -> Step {
    if data.len() > MAX_FRAME_LEN {
        return Step::Bad(format!(
            "record length {} exceeds the {MAX_FRAME_LEN}-byte limit",
            data.len()
        ));
    }
    Step::Packet {
        ptr: data.as_ptr() as usize,
        len: data.len(),
        ts,
        link,
        orig_len,
    }
}

/// The decodable link type of an interface, if any.
fn iface_link(iface: &Iface) -> Option<LinkType> {
    u32::try_from(iface.linktype)
        .ok()
        .and_then(LinkType::from_linktype)
}

/// The error step for a packet on an interface of unknown link type.
fn unsupported(iface: &Iface, id: u32) -> Step {
    Step::Unsupported(format!(
        "unsupported link type {} ({}) on interface {id}",
        iface.linktype,
        pcap_parser::Linktype(iface.linktype)
    ))
}

/// Timestamp units per second for a pcapng `if_tsresol` byte: 10^n, or 2^n when the top bit
/// is set; None when that does not fit in a u64.
pub(crate) fn units_per_second(tsresol: u8) -> Option<u64> {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp)
    }
}

/// `if_tsoffset` of an interface, read in the section's byte order (pcap-parser's own field
/// assumes little-endian).
fn ts_offset(idb: &InterfaceDescriptionBlock<'_>, big_endian: bool) -> i64 {
    idb.options
        .iter()
        .find(|o| o.code == OptionCode::IfTsoffset)
        .and_then(|o| o.value.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()))
        .map_or(0, |b| {
            if big_endian {
                i64::from_be_bytes(b)
            } else {
                i64::from_le_bytes(b)
            }
        })
}

/// Converts a pcapng timestamp of `units` per second plus an offset in seconds to µs since the
/// epoch, saturating instead of overflowing.
pub(crate) fn ng_micros(raw: u64, units: u64, offset_s: i64) -> Ts {
    let micros = u128::from(raw) * 1_000_000 / u128::from(units.max(1));
    i64::try_from(micros)
        .unwrap_or(i64::MAX)
        .saturating_add(offset_s.saturating_mul(MICROS))
}

/// Reads until `buf` is full or the end of the file; returns the bytes read.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..) {
        if rest.is_empty() {
            break;
        }
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
