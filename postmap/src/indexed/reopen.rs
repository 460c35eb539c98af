//! Noticing a rebuilt table. postmap replaces a table by renaming a new
//! file over the old one, so a reader keeps its old, consistent mapping
//! until it looks at the path again: it compares the path's device,
//! inode, size and mtime with those of the file it has open and reopens
//! when they differ.
//!
//! One process opens each file once, whatever the number of tables that
//! name it: LMDB forbids two environments on one file in one process
//! (heed enforces it per canonical path), so readers of the same path
//! share one [`Shared`] through a process-wide registry.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, RwLock, RwLockReadGuard, Weak};
use std::time::{Duration, Instant};

use super::Kind;
use super::{cdb, lmdb};

/// How often a reader looks at the path for a new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// Before every lookup: one `stat` per lookup (about as costly as the
    /// lookup itself), and never an answer from a replaced file once the
    /// rename is visible.
    Always,
    /// At most once per interval: a clock read per lookup.
    Every(Duration),
    /// Never: like Postfix daemons, which do not reopen tables but exit
    /// when one changed.
    Never,
}

impl Default for Recheck {
    /// Once per second: a daemon answers from the new table within a
    /// second of the rename, and a burst of 100k lookups (`postmap -q -`)
    /// pays no `stat` per key. Postfix itself only notices a change
    /// between requests and restarts the daemon.
    fn default() -> Recheck {
        Recheck::Every(Duration::from_secs(1))
    }
}

/// What identifies one version of a table file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileId {
    pub(super) fn of(meta: &fs::Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }
}

/// An open table file of either format.
#[derive(Debug)]
pub(super) enum Reader {
    Cdb(cdb::Reader),
    Lmdb(lmdb::Reader),
}

impl Reader {
    fn open(kind: Kind, path: &Path) -> Result<Reader, String> {
        match kind {
            Kind::Lmdb => lmdb::Reader::open(path).map(Reader::Lmdb),
            Kind::Hash | Kind::Btree | Kind::Cdb => {
                cdb::Reader::open(path, kind == Kind::Cdb).map(Reader::Cdb)
            }
        }
    }

    pub(super) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        match self {
            Reader::Cdb(r) => r.get(key),
            Reader::Lmdb(r) => r.get(key),
        }
    }

    pub(super) fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) -> Result<(), String> {
        match self {
            Reader::Cdb(r) => r.for_each(f),
            Reader::Lmdb(r) => r.for_each(f),
        }
    }
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) reader: Option<Reader>,
    id: FileId,
    /// Why `reader` is missing: the file that replaced it would not open.
    pub(super) broken: Option<String>,
}

/// The open file behind every reader of one path in this process.
#[derive(Debug)]
pub(super) struct Shared {
    kind: Kind,
    state: RwLock<State>,
}

type Registry = Mutex<HashMap<PathBuf, Weak<Shared>>>;

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);

impl Shared {
    /// The shared reader of `path` (name + suffix), opening it if no
    /// table of this process has it open. The error is the reason only.
    pub(super) fn acquire(kind: Kind, path: &Path) -> Result<Arc<Shared>, String> {
        let meta = fs::metadata(path).map_err(|e| conf::io_reason(&e))?;
        let canonical = fs::canonicalize(path).map_err(|e| conf::io_reason(&e))?;
        // Held while opening, so two threads cannot both open one LMDB file.
        let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = registry.get(&canonical).and_then(Weak::upgrade)
            && shared.kind.same_format(kind)
        {
            return Ok(shared);
        }
        let reader = Reader::open(kind, path)?;
        let shared = Arc::new(Shared {
            kind,
            state: RwLock::new(State {
                reader: Some(reader),
                id: FileId::of(&meta),
                broken: None,
            }),
        });
        registry.retain(|_, weak| weak.strong_count() > 0);
        registry.insert(canonical, Arc::downgrade(&shared));
        Ok(shared)
    }

    pub(super) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Look at `path` and reopen it if it is no longer the file we have.
    /// A path that cannot be looked at (removed for a moment by hand) is
    /// not a reason to stop answering from the file we have.
    pub(super) fn refresh(&self, path: &Path) {
        let Ok(meta) = fs::metadata(path) else {
            return;
        };
        let id = FileId::of(&meta);
        if self.read().id == id {
            return;
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if state.id == id {
            return;
        }
        // The id is taken before opening: if the file is replaced again
        // meanwhile, we hold a newer file than `id` says and merely
        // reopen once more at the next check.
        state.id = id;
        if self.kind == Kind::Lmdb {
            // heed refuses a second environment for the same path, so the
            // old one must go first; lookups wait on the lock meanwhile.
            state.reader = None;
        }
        match Reader::open(self.kind, path) {
            Ok(reader) => {
                state.reader = Some(reader);
                state.broken = None;
            }
            // A cdb reader keeps answering from the old file: it is
            // consistent, and better than failing every lookup.
            Err(reason) => state.broken = Some(reason),
        }
    }
}

/// Nanoseconds on a monotonic clock, for cheap rate limiting in atomics.
pub(super) fn now_nanos() -> u64 {
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    u64::try_from(START.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
