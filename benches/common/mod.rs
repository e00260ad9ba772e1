//! Shared bench input: a capture loaded into memory, from `PHONEHOME_BENCH_PCAP` or synthesised.

pub mod mix;

use std::io::Write;
use std::path::{Path, PathBuf};

use phonehome::capture::FileSource;
use phonehome::decode::LinkType;
use phonehome::event::Ts;

/// Environment variable naming a pcap/pcapng file to benchmark instead of the synthetic mix.
pub const PCAP_ENV: &str = "PHONEHOME_BENCH_PCAP";

/// Largest capture loaded into memory, in bytes of frame data: the `large` file of
/// gen_traffic.py (~1.5 GB) would not fit beside the benchmark on a small machine.
const MAX_LOADED_BYTES: usize = 1 << 30;

/// Frames of a capture, stored back to back in one buffer (as a reader's buffer would hold
/// them), so replaying touches memory sequentially and does no I/O.
pub struct Replay {
    /// Where the frames came from, for the report.
    pub origin: String,
    /// The capture file (the synthetic mix is written to a temporary file).
    pub path: PathBuf,
    /// Keeps the synthetic capture's temporary file alive.
    _tmp: Option<tempfile::NamedTempFile>,
    data: Vec<u8>,
    frames: Vec<(Ts, LinkType, usize, usize)>,
}

impl Replay {
    /// The capture named by [`PCAP_ENV`] (unless empty), else the synthetic mix of [`mix::TARGET_PACKETS`].
    pub fn load() -> Replay {
        match std::env::var_os(PCAP_ENV).filter(|p| !p.is_empty()) {
            Some(p) => {
                let path = PathBuf::from(p);
                let mut r = Replay::read(&path, None);
                r.origin = path.display().to_string();
                r
            }
            None => {
                let bytes = mix::capture(mix::TARGET_PACKETS);
                let mut tmp = tempfile::NamedTempFile::new().expect("temporary file");
                tmp.write_all(&bytes)
                    .expect("writing the synthetic capture");
                let path = tmp.path().to_path_buf();
                let mut r = Replay::read(&path, Some(tmp));
                r.origin = format!("synthetic phone mix ({} bytes)", bytes.len());
                r
            }
        }
    }

    fn read(path: &Path, tmp: Option<tempfile::NamedTempFile>) -> Replay {
        let mut src = FileSource::open(path).unwrap_or_else(|e| panic!("{e}"));
        let mut data = Vec::new();
        let mut frames = Vec::new();
        while let Some(f) = src.next_frame() {
            let f = f.unwrap_or_else(|e| panic!("{e}"));
            assert!(
                data.len() + f.data.len() <= MAX_LOADED_BYTES,
                "{}: more than {MAX_LOADED_BYTES} bytes of frames; use a smaller capture",
                path.display()
            );
            frames.push((f.ts, f.link, data.len(), f.data.len()));
            data.extend_from_slice(f.data);
        }
        assert!(!frames.is_empty(), "{}: no frames", path.display());
        Replay {
            origin: String::new(),
            path: path.to_path_buf(),
            _tmp: tmp,
            data,
            frames,
        }
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Bytes of frame data.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// The frames in capture order.
    pub fn frames(&self) -> impl Iterator<Item = (Ts, LinkType, &[u8])> + '_ {
        self.frames
            .iter()
            .map(|&(ts, link, at, len)| (ts, link, &self.data[at..at + len]))
    }
}
