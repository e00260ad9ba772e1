//! Offline IP → country and autonomous-system lookup.
//!
//! Country comes from a MaxMind-format database (e.g. ip-location-db's
//! `geo-whois-asn-country.mmdb`, whose records hold one top-level `country_code` string), read
//! with the `maxminddb` crate. The AS number and organisation come from ip-location-db's
//! `asn-ipv4.csv` / `asn-ipv6.csv`, compacted into sorted range tables ([`asn`]).
//!
//! Invariants: [`GeoDb::lookup`] never fails, never allocates and answers nothing for private,
//! reserved, documentation or multicast addresses ([`addr`]). The MMDB is opened with
//! `Reader::from_source` over the file read into one bounded heap buffer (what `open_readfile`
//! does; 7.8 MB for the 2026 file) rather than `open_mmap`: mapping is `unsafe` (another process
//! truncating the file would be undefined behaviour), this crate denies unsafe code, and the
//! buffer fits the 64 MB budget.
//! The reader is structurally checked at open; a record that fails to decode later gives no
//! country rather than an error.

mod addr;
mod asn;

use std::fs::File;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use asn::{MAX_ASN_RANGES, MAX_ORG_ARENA, MAX_ORG_LEN};

/// What the offline databases know about one address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeoInfo<'a> {
    /// ISO 3166-1 alpha-2 country code, upper case ASCII (`*b"US"`).
    pub country: Option<[u8; 2]>,
    /// Autonomous system number of the range holding the address.
    pub asn: Option<u32>,
    /// Organisation that holds the AS, as the ASN database names it.
    pub as_org: Option<&'a str>,
}

impl GeoInfo<'_> {
    /// The country code as a string slice (`"US"`).
    pub fn country_str(&self) -> Option<&str> {
        self.country
            .as_ref()
            .and_then(|c| std::str::from_utf8(c).ok())
    }

    /// True when neither database knows the address.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.asn.is_none()
    }
}

/// Why a geo database could not be opened.
#[derive(Debug, Error)]
pub enum GeoError {
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The MMDB file is missing, not a MaxMind DB, or corrupt.
    #[error("{}: not a usable MaxMind DB: {source}", path.display())]
    Mmdb {
        /// The file.
        path: PathBuf,
        /// What `maxminddb` reported.
        source: maxminddb::MaxMindDbError,
    },
    /// The MMDB has no `country_code` string where the test address should have one.
    #[error("{}: records have no `country_code` string field", path.display())]
    NoCountryField {
        /// The file.
        path: PathBuf,
    },
    /// A file is larger than the limit for its kind.
    #[error("{}: larger than {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A malformed row in an ASN CSV file.
    #[error("{}:{line}: {reason}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with the row.
        reason: String,
    },
}

/// The loaded geo databases. Cheap to query from any thread (`Send + Sync`).
pub struct GeoDb {
    country: Option<maxminddb::Reader<Vec<u8>>>,
    /// Size of the MMDB buffer `country` owns.
    country_bytes: usize,
    asn: asn::AsnTable,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("country_db", &self.country.is_some())
            .field("v4_ranges", &self.asn.v4.len())
            .field("v6_ranges", &self.asn.v6.len())
            .finish()
    }
}

/// Address whose record every country database covers, used to check the field at open.
const PROBE_ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(8, 8, 8, 8));

impl GeoDb {
    /// Opens the country MMDB (if given) and loads every ASN CSV file.
    ///
    /// Errors name the file, and for CSV rows the line. An empty database (no MMDB, no CSV)
    /// is valid and answers nothing.
    pub fn open(country_mmdb: Option<&Path>, asn_csvs: &[PathBuf]) -> Result<GeoDb, GeoError> {
        let (country, country_bytes) = match country_mmdb {
            Some(path) => {
                let (reader, len) = open_mmdb(path)?;
                (Some(reader), len)
            }
            None => (None, 0),
        };
        let asn = asn::AsnTable::load(asn_csvs)?;
        Ok(GeoDb {
            country,
            country_bytes,
            asn,
        })
    }

    /// A database that knows nothing: every lookup is empty.
    pub fn empty() -> GeoDb {
        GeoDb {
            country: None,
            country_bytes: 0,
            asn: asn::AsnTable::default(),
        }
    }

    /// Country, ASN and AS organisation of `ip`; all `None` for non-public addresses.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo<'_> {
        let Some(key) = addr::lookup_key(ip) else {
            return GeoInfo::default();
        };
        let as_idx = match key {
            addr::LookupKey::V4(a) => self.asn.v4.find(a),
            addr::LookupKey::V6(a) => self.asn.v6.find(a),
        };
        let (asn, as_org) = as_idx
            .and_then(|i| self.asn.as_info(i))
            .map_or((None, None), |(n, o)| (Some(n), Some(o)));
        GeoInfo {
            country: self
                .country
                .as_ref()
                .and_then(|r| country_of(r, key.addr())),
            asn,
            as_org,
        }
    }

    /// Heap bytes held: the MMDB buffer plus the ASN tables.
    pub fn heap_bytes(&self) -> usize {
        self.country_bytes + self.asn.heap_bytes()
    }

    /// (IPv4 ranges, IPv6 ranges, distinct AS/organisation pairs) after compaction.
    pub fn asn_counts(&self) -> (usize, usize, usize) {
        (self.asn.v4.len(), self.asn.v6.len(), self.asn.as_count())
    }
}

/// Largest MMDB file read, in bytes: bounds the heap buffer (a country database is ~8 MB;
/// a full city database ~70 MB would already break the 64 MB budget).
pub const MAX_MMDB_BYTES: u64 = 64 * 1024 * 1024;

/// Reads the MMDB into memory (at most [`MAX_MMDB_BYTES`]); returns the reader and its size.
fn open_mmdb(path: &Path) -> Result<(maxminddb::Reader<Vec<u8>>, usize), GeoError> {
    let io_err = |source| GeoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let mut buf = Vec::new();
    file.take(MAX_MMDB_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(io_err)?;
    if buf.len() as u64 > MAX_MMDB_BYTES {
        return Err(GeoError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_MMDB_BYTES,
        });
    }
    buf.shrink_to_fit();
    let len = buf.len();
    let reader = maxminddb::Reader::from_source(buf).map_err(|source| GeoError::Mmdb {
        path: path.to_path_buf(),
        source,
    })?;
    // A database of another kind (e.g. a GeoLite2 City file, `country.iso_code`) would
    // otherwise silently answer nothing for every address.
    if country_of(&reader, PROBE_ADDR).is_none() {
        return Err(GeoError::NoCountryField {
            path: path.to_path_buf(),
        });
    }
    Ok((reader, len))
}

/// The `country_code` of `ip`'s record, when it is two ASCII letters.
fn country_of(reader: &maxminddb::Reader<Vec<u8>>, ip: IpAddr) -> Option<[u8; 2]> {
    let found = reader.lookup(ip).ok()?;
    let code: &str = found
        .decode_path(&maxminddb::path!["country_code"])
        .ok()??;
    let [a, b]: [u8; 2] = code.as_bytes().try_into().ok()?;
    (a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
        .then(|| [a.to_ascii_uppercase(), b.to_ascii_uppercase()])
}
