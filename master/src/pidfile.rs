//! The master's pid file and lock: how `postfix status|stop|reload` find a
//! running master and how a second master is refused.
//!
//! As in Postfix, the file is `$queue_directory/pid/master.pid`, holds the
//! pid right-aligned in 10 columns and a newline, and is locked with
//! flock(2) for as long as the master runs. A file that exists but is not
//! locked is left over from a master that is gone: nothing is running.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What goes wrong with the pid file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another master holds the lock.
    #[error("the Postfix mail system is already running")]
    Running,
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A locked pid file whose contents are not a pid.
    #[error("{}: bad pid file contents: {text:?}", path.display())]
    Corrupt { path: PathBuf, text: String },
}

/// `$queue_directory/pid/master.pid`.
pub fn path(queue_dir: &Path) -> PathBuf {
    queue_dir.join("pid").join("master.pid")
}

/// The pid of the running master of the instance at `queue_dir`, or None
/// when no master holds the lock (no file, or a stale one).
pub fn running(queue_dir: &Path) -> Result<Option<u32>, Error> {
    let path = path(queue_dir);
    let io_err = |op, source| Error::Io {
        op,
        path: path.clone(),
        source,
    };
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("open", e)),
    };
    match file.try_lock_shared() {
        // We got it, so nobody holds it; dropping the file unlocks.
        Ok(()) => return Ok(None),
        Err(fs::TryLockError::WouldBlock) => {}
        Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", e)),
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| io_err("read", e))?;
    match text.trim().parse() {
        Ok(pid) => Ok(Some(pid)),
        Err(_) => Err(Error::Corrupt { path, text }),
    }
}

/// The pid file, written and locked; the lock lasts as long as this value
/// (normally the life of the master).
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

impl Lock {
    /// Create `$queue_directory/pid` if needed, lock `master.pid` and
    /// write this process's pid into it. Fails with [`Error::Running`]
    /// when another process holds the lock.
    pub fn acquire(queue_dir: &Path) -> Result<Lock, Error> {
        let path = path(queue_dir);
        let io_err = |op, path: &Path, source| Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            // Postfix's postfix-files: `$queue_directory/pid:d:root:-:755`.
            match fs::DirBuilder::new().mode(0o755).create(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("mkdir", dir, e)),
            }
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(&path)
            .map_err(|e| io_err("open", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Running),
            Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", &path, e)),
        }
        // Overwrite, then cut: a reader never sees an empty file, only
        // the old pid or the new one (both 11 bytes).
        let text = format_pid(std::process::id());
        file.rewind()
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.set_len(text.len() as u64))
            .and_then(|()| file.sync_all())
            .map_err(|e| io_err("write", &path, e))?;
        Ok(Lock { file, path })
    }

    /// Where the pid file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The locked file, for the record.
    pub fn file(&self) -> &File {
        &self.file
    }
}

/// The pid as Postfix writes it: right-aligned in 10 columns, newline.
fn format_pid(pid: u32) -> String {
    format!("{pid:>10}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_is_right_aligned_in_ten_columns() {
        assert_eq!(format_pid(456), "       456\n");
        assert_eq!(format_pid(4_000_000_000), "4000000000\n");
    }

    #[test]
    fn nothing_runs_without_a_pid_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(running(dir.path()).unwrap(), None);
    }

    #[test]
    fn lock_is_seen_and_a_second_lock_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::acquire(dir.path()).unwrap();
        let text = fs::read_to_string(path(dir.path())).unwrap();
        assert_eq!(text, format_pid(std::process::id()));
        assert_eq!(running(dir.path()).unwrap(), Some(std::process::id()));
        let second = Lock::acquire(dir.path()).unwrap_err();
        assert_eq!(
            second.to_string(),
            "the Postfix mail system is already running"
        );
        drop(lock);
        assert_eq!(running(dir.path()).unwrap(), None);
        // A stale file is reused.
        Lock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn stale_file_with_other_contents_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("pid")).unwrap();
        fs::write(path(dir.path()), "longer garbage than any pid\n").unwrap();
        assert_eq!(running(dir.path()).unwrap(), None);
        let lock = Lock::acquire(dir.path()).unwrap();
        assert_eq!(lock.path(), path(dir.path()));
        let text = fs::read_to_string(path(dir.path())).unwrap();
        assert_eq!(text, format_pid(std::process::id()));
    }
}
