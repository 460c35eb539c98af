//! Group commit on a thread of its own.
//!
//! A finished queue file must be fdatasync'ed, linked into `incoming/`,
//! and `incoming/` fsync'ed after the link, before the client hears 250.
//! Every [`Writer`](super::Writer) of a process hands its finished file
//! to its [`Committer`]'s commit thread and waits on a [`Pending`] (a
//! future, or [`Pending::wait`] for blocking callers). The thread takes
//! everything that arrived while it was busy as one batch:
//!
//! 1. fdatasyncs each file, several at a time ([`super::datasync`]):
//!    concurrent fdatasyncs share a journal commit (ext4 with a
//!    journal) and the block layer merges their disk cache flushes;
//! 2. links each file under its queue ID;
//! 3. fsyncs each directory once, for every link of the batch in it;
//! 4. completes each writer's [`Pending`]: with the result of its own
//!    fdatasync and link, and of the directory fsync that covered it.
//!
//! So the directory fsync is shared by the whole batch, and no session
//! needs a blocking thread of its own: one hand-off to the commit thread
//! and one wake-up back, where a blocking task per open and per finish
//! cost two of each.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::Committed;
use super::datasync::Datasync;
use super::pending::{Pending, Slot};
use super::staging::Staging;
use crate::error::Error;

/// Shared by all writers of a process (clone it; clones share the commit
/// thread and its batches). The thread starts with the first commit and
/// ends when the last clone is dropped.
#[derive(Debug, Clone, Default)]
pub struct Committer {
    owner: Arc<Owner>,
}

/// Held by the clones of one [`Committer`]; dropping the last one ends
/// the thread.
#[derive(Debug, Default)]
struct Owner {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// The commit thread waits here for work.
    work: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// The next batch.
    jobs: Vec<Job>,
    /// The commit thread is running.
    running: bool,
    /// It waits for work (else it needs no wake-up: notifying a condvar
    /// is a system call even when nobody waits).
    waiting: bool,
    /// Every [`Committer`] clone is gone.
    closed: bool,
    /// Directory fsyncs done per directory, for tests and statistics.
    syncs: HashMap<PathBuf, u64>,
}

/// A finished queue file on its way into `incoming/`.
#[derive(Debug)]
pub(super) struct Job {
    pub(super) file: Arc<File>,
    /// `None` once the file has its name.
    pub(super) staging: Option<Staging>,
    /// The directory the file is linked into.
    pub(super) dir: PathBuf,
    /// Its queue-file name, `dir/ID`.
    pub(super) path: PathBuf,
    /// The name for error messages while it has no name.
    pub(super) temp: PathBuf,
    pub(super) committed: Committed,
    pub(super) slot: Arc<Slot>,
}

impl Job {
    fn fail(self, error: Error) {
        self.slot.complete(Err(error));
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(staging) = self.staging.take() {
            staging.discard();
        }
        // Only takes effect if nobody completed the job (the commit
        // thread panicked): the writer gets an error, never a hang.
        self.slot.complete(Err(Error::io(
            "commit",
            &self.path,
            io::Error::other("commit abandoned"),
        )));
    }
}

impl Committer {
    pub fn new() -> Committer {
        Committer::default()
    }

    /// Queue `job` for the commit thread, starting it if needed.
    pub(super) fn submit(&self, job: Job) -> Pending {
        let pending = Pending::of(&job.slot);
        let shared = &self.owner.shared;
        let mut state = shared.lock();
        state.jobs.push(job);
        if state.running {
            let waiting = state.waiting;
            drop(state);
            if waiting {
                shared.work.notify_one();
            }
            return pending;
        }
        state.running = true;
        drop(state);
        let thread = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("queue-commit".into())
            .spawn(move || run(&thread));
        if let Err(e) = spawned {
            // No thread: fail what is queued (a 4xx; the client retries).
            let jobs = {
                let mut state = shared.lock();
                state.running = false;
                std::mem::take(&mut state.jobs)
            };
            for job in jobs {
                let path = job.path.clone();
                job.fail(Error::io(
                    "start commit thread for",
                    path,
                    io::Error::from(e.kind()),
                ));
            }
        }
        pending
    }

    /// How many directory fsyncs this committer has done for `dir`.
    pub fn sync_count(&self, dir: &Path) -> u64 {
        self.owner
            .shared
            .lock()
            .syncs
            .get(dir)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_one();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of the state is a single push, take or assignment:
        // it stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The commit thread: batches until every [`Committer`] clone is gone.
fn run(shared: &Shared) {
    let _running = Running(shared);
    // Directories kept open: no open and close per fsync.
    let mut dirs: HashMap<PathBuf, File> = HashMap::new();
    let mut datasync = Datasync::default();
    loop {
        let batch = {
            let mut state = shared.lock();
            while state.jobs.is_empty() && !state.closed {
                state.waiting = true;
                state = shared
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                state.waiting = false;
            }
            if state.jobs.is_empty() {
                return;
            }
            std::mem::take(&mut state.jobs)
        };
        commit_batch(shared, &mut dirs, &mut datasync, batch);
    }
}

/// Marks the thread gone when it ends, even by a panic; jobs queued for
/// it then fail (by their `Drop`) instead of waiting for ever.
struct Running<'a>(&'a Shared);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let jobs = {
            let mut state = self.0.lock();
            state.running = false;
            std::mem::take(&mut state.jobs)
        };
        drop(jobs);
    }
}

/// Steps 1–4 of the module documentation for one batch.
fn commit_batch(
    shared: &Shared,
    dirs: &mut HashMap<PathBuf, File>,
    datasync: &mut Datasync,
    batch: Vec<Job>,
) {
    let synced = datasync.sync_all(batch.iter().map(|j| Arc::clone(&j.file)).collect());
    let mut linked = Vec::with_capacity(batch.len());
    for (job, synced) in batch.into_iter().zip(synced) {
        if let Err(e) = synced {
            let temp = job.temp.clone();
            job.fail(Error::io("fsync", temp, e));
            continue;
        }
        let published = match &job.staging {
            Some(staging) => staging.publish(&job.file, &job.path),
            None => Err(io::Error::other("no staging file")),
        };
        match published {
            Ok(()) => {
                let mut job = job;
                job.staging = None;
                linked.push(job);
            }
            Err(e) => {
                let path = job.path.clone();
                job.fail(Error::io("rename", path, e));
            }
        }
    }
    while let Some(first) = linked.first() {
        let dir = first.dir.clone();
        let (these, rest): (Vec<Job>, Vec<Job>) = linked.into_iter().partition(|j| j.dir == dir);
        linked = rest;
        let result = fsync_dir(dirs, &dir);
        *shared.lock().syncs.entry(dir.clone()).or_default() += 1;
        match result {
            Ok(()) => {
                for job in these {
                    let committed = job.committed.clone();
                    job.slot.complete(Ok(committed));
                }
            }
            Err(e) => {
                dirs.remove(&dir);
                let source = Arc::new(e);
                for job in these {
                    // Not durable, so not acknowledged: the client
                    // retries, and a second copy must not be delivered
                    // as well.
                    let _ = fs::remove_file(&job.path);
                    job.fail(Error::DirSync {
                        dir: dir.clone(),
                        source: Arc::clone(&source),
                    });
                }
            }
        }
    }
}

/// fsync `dir` through its kept handle, opening it the first time.
fn fsync_dir(dirs: &mut HashMap<PathBuf, File>, dir: &Path) -> io::Result<()> {
    let handle = match dirs.get(dir) {
        Some(handle) => handle,
        None => {
            let handle = File::open(dir)?;
            dirs.entry(dir.to_path_buf()).or_insert(handle)
        }
    };
    handle.sync_all()
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use crate::{QueueDirs, QueueName, Writer};

    use super::*;

    fn writer(dirs: &QueueDirs, committer: &Committer) -> Writer {
        let mut w = Writer::create(dirs, committer, SystemTime::now()).expect("create");
        w.sender("a@example.org").expect("sender");
        w.line(b"Subject: x", true).expect("line");
        w
    }

    #[test]
    fn failed_links_reach_their_writers_and_the_committer_goes_on() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = QueueDirs::new(tmp.path());
        dirs.create_all().expect("dirs");
        let committer = Committer::new();
        let incoming = dirs.dir(QueueName::Incoming);
        let writers: Vec<Writer> = (0..8).map(|_| writer(&dirs, &committer)).collect();
        // Files being written stay usable; their directory goes away.
        fs::rename(&incoming, tmp.path().join("gone")).expect("rename");
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = writers
                .into_iter()
                .map(|w| s.spawn(move || w.finish()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic"))
                .collect()
        });
        for result in results {
            assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
        }
        fs::create_dir(&incoming).expect("mkdir");
        let committed = writer(&dirs, &committer).finish().expect("commit");
        assert!(dirs.path(QueueName::Incoming, &committed.id).is_file());
        assert!(committer.sync_count(&incoming) >= 1);
    }
}
