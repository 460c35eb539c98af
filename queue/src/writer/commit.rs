//! Durable publication of finished queue files, on threads of their own.
//!
//! Before the client hears 250, a finished queue file must be linked into
//! `incoming/` under its queue ID, and then both the file (fdatasync) and
//! the directory (fsync) must be on disk. Every
//! [`Writer`](super::Writer) of a process hands its finished file to its
//! [`Committer`] and waits on a [`Pending`] (a future, or
//! [`Pending::wait`] for blocking callers). The committer's threads:
//!
//! - **Commit threads** (up to [`THREADS`]; another starts when a file
//!   arrives and none is idle) each take one file, link it, hand it to
//!   the directory thread, and fdatasync it. Several files are synced at
//!   once: concurrent fdatasyncs overlap their writes, share a journal
//!   commit (ext4 with a journal) and have their disk cache flushes
//!   merged by the block layer. One thread alone synced a batch of 50
//!   files about ten times slower.
//! - **The directory thread** takes every file linked since its last
//!   round and fsyncs each directory once for all of them: a group
//!   commit.
//!
//! A file's [`Pending`] completes when the second of its two syncs is
//! done. The link comes first so that the fdatasync writes the inode with
//! its link count: on ext4 without a journal, an inode synced before its
//! link stays on disk with no links, and after a power loss e2fsck
//! clears the directory entry that names it (`tests/power_loss.rs`).
//! The two syncs then run at the same time, which also shortens the wait
//! for the 250. If either fails, the name is removed and the writer gets
//! the error: what is not acknowledged must not be delivered as well.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::Committed;
use super::pending::{Pending, Slot};
use super::staging::Staging;
use crate::error::Error;

/// Commit threads at most. More gains little: the flushes of this many
/// concurrent fdatasyncs already merge.
const THREADS: usize = 8;

/// Shared by all writers of a process (clone it; clones share the
/// threads). Threads start when needed and end when the last clone is
/// dropped and nothing is left to commit.
#[derive(Debug, Clone, Default)]
pub struct Committer {
    owner: Arc<Owner>,
}

/// Held by the clones of one [`Committer`]; dropping the last one ends
/// the threads.
#[derive(Debug, Default)]
struct Owner {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Idle commit threads wait here for files.
    work: Condvar,
    /// The directory thread waits here for links.
    links: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Files no commit thread has taken yet.
    queued: VecDeque<Job>,
    /// Files linked since the directory thread's last round.
    linked: Vec<Arc<Linked>>,
    /// Commit threads running, and how many of them wait for work (an
    /// idle one is woken; notifying a condvar is a system call even when
    /// nobody waits).
    threads: usize,
    idle: usize,
    /// The directory thread is running, and whether it waits for links.
    dir_thread: bool,
    dir_waiting: bool,
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
    pub(super) committed: Committed,
    pub(super) slot: Arc<Slot>,
}

impl Job {
    fn fail(&self, error: Error) {
        self.slot.complete(Err(error));
    }

    /// Give the file its queue-file name; the job back if that worked.
    fn link(mut self) -> Option<Job> {
        let published = match &self.staging {
            Some(staging) => staging.publish(&self.file, &self.path),
            None => Err(io::Error::other("no staging file")),
        };
        match published {
            Ok(()) => {
                self.staging = None;
                Some(self)
            }
            Err(e) => {
                self.fail(Error::io("rename", &self.path, e));
                None
            }
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(staging) = self.staging.take() {
            staging.discard();
        }
        // Only takes effect if nobody completed the job (a thread
        // panicked): the writer gets an error, never a hang.
        self.slot.complete(Err(Error::io(
            "commit",
            &self.path,
            io::Error::other("commit abandoned"),
        )));
    }
}

/// A linked file waiting for its two syncs.
#[derive(Debug)]
struct Linked {
    job: Job,
    /// Syncs not done yet: the file's and its directory's.
    waiting_for: AtomicU8,
    /// The first sync that failed.
    error: Mutex<Option<Error>>,
}

impl Linked {
    fn new(job: Job) -> Linked {
        Linked {
            job,
            waiting_for: AtomicU8::new(2),
            error: Mutex::default(),
        }
    }

    /// One of the two syncs is done; after the second, the writer hears
    /// the outcome. A failed sync removes the name.
    fn synced(&self, result: Result<(), Error>) {
        let mut error = self.error.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = result
            && error.is_none()
        {
            let _ = fs::remove_file(&self.job.path);
            *error = Some(e);
        }
        if self.waiting_for.fetch_sub(1, Ordering::AcqRel) == 1 {
            let outcome = match error.take() {
                Some(e) => Err(e),
                None => Ok(self.job.committed.clone()),
            };
            drop(error);
            self.job.slot.complete(outcome);
        }
    }
}

impl Committer {
    pub fn new() -> Committer {
        Committer::default()
    }

    /// Queue `job` for a commit thread, starting one if none is idle.
    pub(super) fn submit(&self, job: Job) -> Pending {
        let pending = Pending::of(&job.slot);
        let shared = &self.owner.shared;
        let mut state = shared.lock();
        state.queued.push_back(job);
        if state.idle > 0 {
            drop(state);
            shared.work.notify_one();
            return pending;
        }
        if state.threads >= THREADS {
            // A busy thread takes it next.
            return pending;
        }
        let dir_thread = !state.dir_thread;
        state.threads += 1;
        state.dir_thread = true;
        drop(state);
        if dir_thread && !spawn("queue-dirsync", shared, sync_dirs) {
            // Each file fails when linked; a later commit tries again.
            shared.lock().dir_thread = false;
        }
        if !spawn("queue-commit", shared, commit_files) {
            fail_queued(shared);
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
        self.shared.work.notify_all();
        self.shared.links.notify_one();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of the state is a single push, take or assignment:
        // it stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Start a thread running `f`; false if the system has none to give.
fn spawn(name: &str, shared: &Arc<Shared>, f: fn(&Shared)) -> bool {
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || f(&shared))
        .is_ok()
}

/// A commit thread could not be started: with no other one, the queued
/// files fail (a 4xx; the client retries).
fn fail_queued(shared: &Shared) {
    let jobs = {
        let mut state = shared.lock();
        state.threads -= 1;
        if state.threads > 0 {
            return;
        }
        std::mem::take(&mut state.queued)
    };
    for job in jobs {
        job.fail(Error::io(
            "start commit thread for",
            &job.path,
            io::Error::other("no thread"),
        ));
    }
}

/// A commit thread: link, hand over, fdatasync, until every
/// [`Committer`] clone is gone and nothing is queued.
fn commit_files(shared: &Shared) {
    let _running = CommitThread(shared);
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if let Some(job) = state.queued.pop_front() {
                    break job;
                }
                if state.closed {
                    return;
                }
                state.idle += 1;
                state = shared
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                state.idle -= 1;
            }
        };
        let Some(job) = job.link() else {
            continue;
        };
        let linked = Arc::new(Linked::new(job));
        let mut state = shared.lock();
        if state.dir_thread {
            state.linked.push(Arc::clone(&linked));
            let wake = std::mem::take(&mut state.dir_waiting);
            drop(state);
            if wake {
                shared.links.notify_one();
            }
        } else {
            // It could not be started, or it panicked.
            drop(state);
            let dir = &linked.job.dir;
            linked.synced(Err(Error::io(
                "fsync",
                dir,
                io::Error::other("no directory thread"),
            )));
        }
        let synced = linked
            .job
            .file
            .sync_data()
            .map_err(|e| Error::io("fsync", &linked.job.path, e));
        linked.synced(synced);
    }
}

/// Marks a commit thread gone when it ends, even by a panic. The last
/// one fails what is still queued (by the jobs' `Drop`) instead of
/// leaving it waiting for ever, and lets the directory thread end.
struct CommitThread<'a>(&'a Shared);

impl Drop for CommitThread<'_> {
    fn drop(&mut self) {
        let jobs = {
            let mut state = self.0.lock();
            state.threads -= 1;
            if state.threads > 0 {
                return;
            }
            std::mem::take(&mut state.queued)
        };
        drop(jobs);
        self.0.links.notify_one();
    }
}

/// The directory thread: fsync the directories of the files linked since
/// the last round, until the commit threads are gone and nothing is
/// linked.
fn sync_dirs(shared: &Shared) {
    let _running = DirThread(shared);
    // Directories kept open: no open and close per fsync.
    let mut dirs: HashMap<PathBuf, File> = HashMap::new();
    loop {
        let mut linked = {
            let mut state = shared.lock();
            while state.linked.is_empty() {
                if state.closed && state.threads == 0 {
                    return;
                }
                state.dir_waiting = true;
                state = shared
                    .links
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            std::mem::take(&mut state.linked)
        };
        while let Some(first) = linked.first() {
            let dir = first.job.dir.clone();
            let (these, rest): (Vec<_>, Vec<_>) =
                linked.into_iter().partition(|l| l.job.dir == dir);
            linked = rest;
            let result = fsync_dir(&mut dirs, &dir).map_err(|e| {
                dirs.remove(&dir);
                Arc::new(e)
            });
            *shared.lock().syncs.entry(dir.clone()).or_default() += 1;
            for l in these {
                l.synced(result.clone().map_err(|source| Error::DirSync {
                    dir: dir.clone(),
                    source,
                }));
            }
        }
    }
}

/// Marks the directory thread gone when it ends. After a panic, the
/// files linked since fail, and the next commit starts a new one.
struct DirThread<'a>(&'a Shared);

impl Drop for DirThread<'_> {
    fn drop(&mut self) {
        let linked = {
            let mut state = self.0.lock();
            state.dir_thread = false;
            state.dir_waiting = false;
            std::mem::take(&mut state.linked)
        };
        for l in linked {
            l.synced(Err(Error::io(
                "fsync",
                &l.job.dir,
                io::Error::other("directory thread ended"),
            )));
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

    #[test]
    fn a_failed_sync_removes_the_name() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = QueueDirs::new(tmp.path());
        dirs.create_all().expect("dirs");
        let committer = Committer::new();
        let job = writer(&dirs, &committer).complete().expect("complete");
        let path = job.path.clone();
        let slot = Arc::clone(&job.slot);
        let linked = Linked::new(job.link().expect("link"));
        assert!(path.is_file());
        linked.synced(Ok(()));
        assert!(path.is_file(), "waits for the second sync");
        linked.synced(Err(Error::io("fsync", &path, io::Error::other("EIO"))));
        assert!(!path.exists());
        let result = Pending::of(&slot).wait();
        assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
    }

    #[test]
    fn files_linked_since_the_last_round_share_one_directory_fsync() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = QueueDirs::new(tmp.path());
        dirs.create_all().expect("dirs");
        let committer = Committer::new();
        let mut pending = Vec::new();
        let mut linked = Vec::new();
        for _ in 0..3 {
            let job = writer(&dirs, &committer).complete().expect("complete");
            pending.push(Pending::of(&job.slot));
            let l = Arc::new(Linked::new(job.link().expect("link")));
            l.synced(Ok(())); // the file's own sync
            linked.push(l);
        }
        let shared = &committer.owner.shared;
        {
            let mut state = shared.lock();
            state.linked = linked;
            state.dir_thread = true;
            // No commit thread: the directory thread ends after its rounds.
            state.closed = true;
        }
        sync_dirs(shared);
        assert_eq!(committer.sync_count(&dirs.dir(QueueName::Incoming)), 1);
        for p in pending {
            let committed = p.wait().expect("commit");
            assert!(dirs.path(QueueName::Incoming, &committed.id).is_file());
        }
    }

    #[test]
    fn many_concurrent_commits_share_directory_fsyncs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = QueueDirs::new(tmp.path());
        dirs.create_all().expect("dirs");
        let committer = Committer::new();
        let n = 64;
        let writers: Vec<Writer> = (0..n).map(|_| writer(&dirs, &committer)).collect();
        let pending: Vec<Pending> = writers.into_iter().map(Writer::commit).collect();
        for p in pending {
            let committed = p.wait().expect("commit");
            let path = dirs.path(QueueName::Incoming, &committed.id);
            assert!(path.is_file(), "{}", path.display());
        }
        let syncs = committer.sync_count(&dirs.dir(QueueName::Incoming));
        assert!((1..=n).contains(&syncs), "{syncs} directory fsyncs");
        let state = committer.owner.shared.lock();
        assert!(state.threads <= THREADS);
        assert!(state.queued.is_empty() && state.linked.is_empty());
    }
}
