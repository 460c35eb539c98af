//! Group commit of directory fsyncs.
//!
//! A committed queue file needs an fsync of `incoming/` after its rename,
//! and the fsync must start after the rename. Sessions that finish at the
//! same time share one: a caller joins the pending batch; whoever finds
//! no fsync running takes the batch and syncs for everyone in it, while
//! newcomers join the next batch. Each batch gets its own result, so an
//! error reaches exactly the writers whose renames it covered; when it is
//! done the leader wakes its batch and one writer of the next, who leads
//! that one.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::error::Error;

/// Shared by all sessions of a process (clone it; clones share batches).
#[derive(Debug, Clone, Default)]
pub struct Committer {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    dirs: Mutex<HashMap<PathBuf, DirState>>,
}

#[derive(Debug, Default)]
struct DirState {
    /// The batch new callers join; taken by the next leader.
    pending: Option<Arc<Batch>>,
    /// An fsync of this directory is running.
    syncing: bool,
    /// Directory fsyncs done, for tests and statistics.
    syncs: u64,
    /// The directory, kept open: no open and close per fsync.
    handle: Option<Arc<File>>,
}

#[derive(Debug, Default)]
struct Batch {
    result: OnceLock<Result<(), Arc<io::Error>>>,
    /// Its members wait here (with the `dirs` mutex), so that a finished
    /// fsync wakes only the writers it covered, plus one of the next
    /// batch to lead it.
    done: Condvar,
}

impl Committer {
    pub fn new() -> Committer {
        Committer::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, DirState>> {
        // The map stays consistent even if a holder panicked: every
        // update is a single assignment.
        self.shared
            .dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Make every rename done in `dir` before this call durable: return
    /// once an fsync of `dir` that started after the call has finished.
    pub fn sync_dir(&self, dir: &Path) -> Result<(), Error> {
        let mut dirs = self.lock();
        let batch = dirs
            .entry(dir.to_path_buf())
            .or_default()
            .pending
            .get_or_insert_with(Arc::default)
            .clone();
        loop {
            if let Some(result) = batch.result.get() {
                return result.clone().map_err(|source| Error::DirSync {
                    dir: dir.to_path_buf(),
                    source,
                });
            }
            let state = dirs.entry(dir.to_path_buf()).or_default();
            if !state.syncing {
                // Our batch is still pending (a leader that took it would
                // have set its result before clearing `syncing`).
                if let Some(lead) = state.pending.take() {
                    state.syncing = true;
                    let handle = state.handle.clone();
                    drop(dirs);
                    let guard = Leader {
                        committer: self,
                        dir,
                        batch: lead,
                    };
                    let result = self.fsync_dir(dir, handle).map_err(Arc::new);
                    guard.finish(result);
                    dirs = self.lock();
                    continue;
                }
            }
            dirs = batch
                .done
                .wait(dirs)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// fsync `dir` through its kept handle, opening it the first time.
    fn fsync_dir(&self, dir: &Path, handle: Option<Arc<File>>) -> io::Result<()> {
        let handle = match handle {
            Some(handle) => handle,
            None => {
                let handle = Arc::new(File::open(dir)?);
                let mut dirs = self.lock();
                let state = dirs.entry(dir.to_path_buf()).or_default();
                state.handle.get_or_insert(handle).clone()
            }
        };
        handle.sync_all()
    }

    /// How many directory fsyncs this committer has done for `dir`.
    pub fn sync_count(&self, dir: &Path) -> u64 {
        self.lock().get(dir).map_or(0, |s| s.syncs)
    }
}

/// The leader of one batch. Publishing the result happens in `Drop`, so
/// that even an unwinding leader wakes its waiters (with an error).
struct Leader<'a> {
    committer: &'a Committer,
    dir: &'a Path,
    batch: Arc<Batch>,
}

impl Leader<'_> {
    fn finish(self, result: Result<(), Arc<io::Error>>) {
        let _ = self.batch.result.set(result);
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        let _ = self
            .batch
            .result
            .set(Err(Arc::new(io::Error::other("directory fsync abandoned"))));
        let mut dirs = self.committer.lock();
        let state = dirs.entry(self.dir.to_path_buf()).or_default();
        state.syncing = false;
        state.syncs += 1;
        let next = state.pending.clone();
        drop(dirs);
        self.batch.done.notify_all();
        if let Some(next) = next {
            next.done.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_callers_share_fsyncs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = Committer::new();
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    for _ in 0..20 {
                        c.sync_dir(tmp.path()).expect("sync");
                    }
                });
            }
        });
        let n = c.sync_count(tmp.path());
        assert!((1..=320).contains(&n), "{n}");
    }

    #[test]
    fn errors_reach_every_waiter_and_nobody_hangs() {
        let c = Committer::new();
        let missing = Path::new("/nonexistent/queue/incoming");
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| c.sync_dir(missing))).collect();
            for h in handles {
                let err = h.join().expect("no panic").expect_err("fails");
                assert!(matches!(err, Error::DirSync { .. }), "{err}");
            }
        });
        // The committer still works afterwards.
        let tmp = tempfile::tempdir().expect("tempdir");
        c.sync_dir(tmp.path()).expect("sync");
    }
}
