//! Building an [`IocSet`]: merging the parsed files into its maps.
//!
//! Invariants: one record per canonical value; on a duplicate the record with the higher
//! (source rank, kind strength) wins, ties keep the first, and a winner without a family keeps
//! the loser's; the set never holds more than [`MAX_INDICATORS`] values.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::collections::hash_map::Entry;
use std::path::Path;

use rustc_hash::FxHashMap;

use super::format::{ParsedFile, Pending};
use super::normalize::Value;
use super::{IndicatorKind, IocSet, Meta, MAX_INDICATORS, NO_FAMILY};

/// An [`IocSet`] under construction.
#[derive(Default)]
pub struct Builder {
    set: IocSet,
    family_ids: FxHashMap<Box<str>, u32>,
}

/// C2, distribution, addresses … outrank a vendor's website.
fn strength(k: IndicatorKind) -> u8 {
    u8::from(k != IndicatorKind::Website)
}

fn id(m: &mut Meta) -> &mut Meta {
    m
}

fn second(v: &mut (Box<str>, Meta)) -> &mut Meta {
    &mut v.1
}

/// How an insertion went.
enum Merged {
    New,
    /// The value was there; its kind before and after the merge.
    Dup(IndicatorKind, IndicatorKind),
}

/// Inserts `meta` under `key`, or merges it into the record already there; Err(()) when the
/// value is new and the set is full.
fn merge<K: std::hash::Hash + Eq, V>(
    map: &mut FxHashMap<K, V>,
    key: K,
    make: impl FnOnce() -> V,
    meta_of: impl Fn(&mut V) -> &mut Meta,
    meta: Meta,
    room: bool,
) -> Result<Merged, ()> {
    match map.entry(key) {
        Entry::Occupied(mut e) => {
            let old = meta_of(e.get_mut());
            let before = old.kind;
            if (meta.rank, strength(meta.kind)) > (old.rank, strength(old.kind)) {
                let family = if meta.family == NO_FAMILY {
                    old.family
                } else {
                    meta.family
                };
                *old = Meta { family, ..meta };
            }
            Ok(Merged::Dup(before, old.kind))
        }
        Entry::Vacant(e) => {
            if !room {
                return Err(());
            }
            let mut v = make();
            *meta_of(&mut v) = meta;
            e.insert(v);
            Ok(Merged::New)
        }
    }
}

impl Builder {
    fn intern_family(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.family_ids.get(name) {
            return i;
        }
        let Ok(i) = u32::try_from(self.set.families.len()) else {
            return NO_FAMILY;
        };
        self.set.families.push(name.into());
        self.family_ids.insert(name.into(), i);
        i
    }

    /// Records a file recognised as holding no indicators.
    pub fn skipped_file(&mut self, path: &Path, reason: &'static str) {
        self.set
            .stats
            .files_skipped
            .push((path.to_path_buf(), reason));
    }

    /// Adds every value of a parsed file. Err carries how many values did not fit.
    pub fn add_file(&mut self, path: &Path, file: ParsedFile) -> Result<(), usize> {
        let source = u32::try_from(self.set.sources.len()).unwrap_or(u32::MAX);
        self.set
            .sources
            .push(path.display().to_string().into_boxed_str());
        let fams: Vec<u32> = file
            .families
            .iter()
            .map(|f| self.intern_family(f))
            .collect();
        self.set.stats.files_loaded += 1;
        self.set.stats.skipped_patterns += file.skipped_patterns;
        self.set.stats.skipped_entries += file.skipped_entries;
        let mut refused = 0usize;
        for Pending {
            value,
            website,
            family,
        } in file.items
        {
            let family = family
                .and_then(|f| fams.get(usize::try_from(f).ok()?).copied())
                .unwrap_or(NO_FAMILY);
            if self
                .insert(value, website, file.rank, source, family)
                .is_err()
            {
                refused += 1;
            }
        }
        if refused > 0 {
            Err(refused)
        } else {
            Ok(())
        }
    }

    fn insert(
        &mut self,
        value: Value,
        website: bool,
        rank: super::format::Rank,
        source: u32,
        family: u32,
    ) -> Result<(), ()> {
        let kind = match &value {
            Value::Domain(_) if website => IndicatorKind::Website,
            Value::Domain(_) => IndicatorKind::Domain,
            Value::Net(_) => IndicatorKind::Ip,
            Value::Url(_) => IndicatorKind::Url,
            Value::Email(_) => IndicatorKind::Email,
            Value::Ja4(_) => IndicatorKind::Ja4,
        };
        let meta = Meta {
            kind,
            rank,
            source,
            family,
        };
        let room = self.set.len() < MAX_INDICATORS;
        let s = &mut self.set;
        let merged = match value {
            Value::Domain(d) => merge(&mut s.domains, d.into_boxed_str(), || meta, id, meta, room)?,
            Value::Net(n) => {
                let lens = if n.addr.is_ipv4() {
                    &mut s.v4_lens
                } else {
                    &mut s.v6_lens
                };
                if !lens.contains(&n.len) {
                    lens.push(n.len);
                    lens.sort_unstable_by(|a, b| b.cmp(a));
                }
                let text = || (n.text().into_boxed_str(), meta);
                merge(&mut s.nets, n, text, second, meta, room)?
            }
            Value::Url(u) => merge(&mut s.urls, u.into_boxed_str(), || meta, id, meta, room)?,
            Value::Email(e) => merge(&mut s.emails, e.into_boxed_str(), || meta, id, meta, room)?,
            Value::Ja4(j) => merge(&mut s.ja4, j.into_boxed_str(), || meta, id, meta, room)?,
        };
        let (minus, plus) = match merged {
            Merged::New => (None, Some(kind)),
            Merged::Dup(before, after) => {
                s.stats.duplicates += 1;
                if before == after {
                    (None, None)
                } else {
                    (Some(before), Some(after))
                }
            }
        };
        if let Some(c) = minus.and_then(|k| s.counts.get_mut(k.index())) {
            *c = c.saturating_sub(1);
        }
        if let Some(c) = plus.and_then(|k| s.counts.get_mut(k.index())) {
            *c += 1;
        }
        Ok(())
    }

    /// The finished set.
    pub fn finish(self) -> IocSet {
        self.set
    }
}
