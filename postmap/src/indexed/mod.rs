//! Indexed tables: `hash`, `btree` and `cdb` (all a constant database,
//! see `cdb.rs`) and `lmdb` (see `lmdb.rs`), built by postmap and postalias
//! from a source file and read by every daemon.
//!
//! Writers never change a table file in place. Every build, `-i` update
//! and `-d` delete writes a complete new file beside the table, fsyncs
//! it, renames it over `name + suffix` and fsyncs the directory; many
//! processes may read meanwhile, without locks. A reader keeps the file
//! it opened (a consistent old version) and notices the new one by
//! looking at the path (see [`Recheck`]).
//!
//! Building: parse with [`crate::source::read`] or [`crate::aliases::read`],
//! then [`create`]; `-i` is [`update`], `-d` is [`delete`], `-s` is
//! [`Table::entries`] of [`open`]. Lookups: [`open`].
//!
//! Keys are stored the way Postfix stores them by default for the type:
//! without a terminating NUL in cdb files, with one in lmdb files (so
//! Postfix's postmap reads our lmdb tables and we read its). Our `hash`
//! and `btree` files are cdb files, not Berkeley DB, so postmap's `-N`
//! and `-n` change nothing observable: `-q` and `-s` give Postfix's
//! answers either way.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::source::fold;
use crate::table::{Error, OpenOptions, Opened, Table};

mod build;
mod cdb;
mod lmdb;
mod reopen;

pub use build::{BuildError, WriteOptions, create, delete, update};
pub use reopen::Recheck;
use reopen::{Shared, now_nanos};

/// The indexed table types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Hash,
    Btree,
    Cdb,
    Lmdb,
}

impl Kind {
    /// The type for a `type:` prefix, if it is an indexed one.
    pub fn from_type(t: &str) -> Option<Kind> {
        match t {
            "hash" => Some(Kind::Hash),
            "btree" => Some(Kind::Btree),
            "cdb" => Some(Kind::Cdb),
            "lmdb" => Some(Kind::Lmdb),
            _ => None,
        }
    }

    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Hash => "hash",
            Kind::Btree => "btree",
            Kind::Cdb => "cdb",
            Kind::Lmdb => "lmdb",
        }
    }

    /// What postmap appends to the source name: `.db`, `.db`, `.cdb`, `.lmdb`.
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::Hash | Kind::Btree => ".db",
            Kind::Cdb => ".cdb",
            Kind::Lmdb => ".lmdb",
        }
    }

    /// The table file of source `name`.
    pub fn path(self, name: &str) -> PathBuf {
        PathBuf::from(format!("{name}{}", self.suffix()))
    }

    /// The name Postfix's dictionary carries in messages that print
    /// `dict->name`: Berkeley DB tables are named with their `.db`
    /// (`table hash:map.db: query error`), cdb and lmdb ones without.
    pub fn dict_name(self, name: &str) -> String {
        match self {
            Kind::Hash | Kind::Btree => format!("{name}.db"),
            Kind::Cdb | Kind::Lmdb => name.to_string(),
        }
    }

    /// Postfix's duplicate-key warning for this type (dict_db.c,
    /// dict_cdb.c and dict_lmdb.c each word it their own way).
    fn duplicate_warning(self, name: &str, key: &[u8]) -> String {
        let key = crate::source::printable(key);
        match self {
            Kind::Hash | Kind::Btree | Kind::Cdb => {
                format!("{}: duplicate entry: \"{key}\"", self.dict_name(name))
            }
            Kind::Lmdb => format!("lmdb:{name}: duplicate entry: \"{key}\""),
        }
    }

    /// Whether two kinds use the same file format (and reader).
    fn same_format(self, other: Kind) -> bool {
        (self == Kind::Lmdb) == (other == Kind::Lmdb)
    }
}

/// An indexed table opened for lookups.
#[derive(Debug)]
pub struct IndexedTable {
    spec: String,
    kind: Kind,
    path: PathBuf,
    fold: bool,
    recheck: Recheck,
    /// When to look at the path again, in [`now_nanos`] time.
    next_check: AtomicU64,
    shared: Arc<Shared>,
}

/// Open the table file of source `name` (`name + kind.suffix()`) for
/// lookups, noticing rebuilds once per second ([`Recheck::default`]).
/// `spec` is what [`Table::spec`] reports. A missing or unreadable file
/// is `Error::Open("open database map.in.db: No such file or directory")`.
pub fn open(kind: Kind, spec: &str, name: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    IndexedTable::open(kind, spec, name, opts, Recheck::default()).map(Opened::new)
}

impl IndexedTable {
    /// [`open`] with a chosen [`Recheck`] policy.
    pub fn open(
        kind: Kind,
        spec: &str,
        name: &str,
        opts: &OpenOptions,
        recheck: Recheck,
    ) -> Result<IndexedTable, Error> {
        let path = kind.path(name);
        let shared = Shared::acquire(kind, &path)
            .map_err(|reason| Error::Open(format!("open database {}: {reason}", path.display())))?;
        // Another table of this process may hold an older file.
        shared.refresh(&path);
        Ok(IndexedTable {
            spec: spec.to_string(),
            kind,
            path,
            fold: opts.fold,
            recheck,
            next_check: AtomicU64::new(0),
            shared,
        })
    }

    fn refresh(&self) {
        match self.recheck {
            Recheck::Never => return,
            Recheck::Always => {}
            Recheck::Every(interval) => {
                let now = now_nanos();
                if now < self.next_check.load(Ordering::Relaxed) {
                    return;
                }
                let step = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
                self.next_check
                    .store(now.saturating_add(step), Ordering::Relaxed);
            }
        }
        self.shared.refresh(&self.path);
    }

    fn lookup_error(&self, reason: String) -> Error {
        Error::Lookup {
            spec: self.spec.clone(),
            reason,
        }
    }

    /// The value stored under `key` exactly as given (already folded).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.refresh();
        let state = self.shared.read();
        match &state.reader {
            Some(reader) => reader.get(key).map_err(|r| self.lookup_error(r)),
            None => Err(self.lookup_error(state.broken.clone().unwrap_or_default())),
        }
    }

    /// Call `f` for every entry in stored order, all from one version of
    /// the file.
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) -> Result<(), Error> {
        self.refresh();
        let state = self.shared.read();
        match &state.reader {
            Some(reader) => reader.for_each(f).map_err(|r| self.lookup_error(r)),
            None => Err(self.lookup_error(state.broken.clone().unwrap_or_default())),
        }
    }

    /// The table file this table reads.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Table for IndexedTable {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, Error> {
        let key = if self.fold {
            fold(key)
        } else {
            Cow::Borrowed(key)
        };
        Ok(self.get(key.as_bytes())?.map(into_string))
    }

    /// Stored order: insertion order for hash and cdb, key order for
    /// lmdb, and sorted by key for btree (as a B-tree dumps).
    fn entries(&self) -> Result<Vec<(String, String)>, Error> {
        let mut raw: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        self.for_each(&mut |k, v| raw.push((k.to_vec(), v.to_vec())))?;
        if self.kind == Kind::Btree {
            raw.sort_unstable();
        }
        Ok(raw
            .into_iter()
            .map(|(k, v)| (into_string(k), into_string(v)))
            .collect())
    }
}

#[cfg(test)]
mod tests;
