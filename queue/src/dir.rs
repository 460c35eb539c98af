//! The layout under `$queue_directory`: Postfix's queue and socket
//! directory names, and their modes from Postfix's `postfix-files`.
//!
//! Queue directories are flat: a file is `queue/ID`, never
//! `queue/A/B/ID` (Postfix's `hash_queue_depth`). [`QueueDirs::create_all`]
//! sets modes only; ownership (`mail_owner`, `setgid_group`) is the
//! master's job when it starts as root (issue 5).

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::Error;
use crate::id::QueueId;

/// A directory under `$queue_directory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueName {
    /// Local submissions (postdrop) waiting for pickup.
    Maildrop,
    /// Committed by cleanup, not yet seen by qmgr.
    Incoming,
    /// Being delivered by qmgr.
    Active,
    /// Waiting for a retry.
    Deferred,
    /// Held by a policy or the administrator.
    Hold,
    /// Damaged files, moved aside.
    Corrupt,
    /// Kept by `postsuper -s`-style actions.
    Saved,
    /// Per-message logs of deferred recipients.
    Defer,
    /// Per-message logs of bounced recipients.
    Bounce,
    /// Per-message delivery reports (DSN SUCCESS, `sendmail -bv`).
    Trace,
    /// Fast-flush logs (ETRN).
    Flush,
    /// Sockets of the internal services.
    Private,
    /// Sockets for postqueue and postdrop.
    Public,
}

impl QueueName {
    pub const ALL: [QueueName; 13] = [
        QueueName::Maildrop,
        QueueName::Incoming,
        QueueName::Active,
        QueueName::Deferred,
        QueueName::Hold,
        QueueName::Corrupt,
        QueueName::Saved,
        QueueName::Defer,
        QueueName::Bounce,
        QueueName::Trace,
        QueueName::Flush,
        QueueName::Private,
        QueueName::Public,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            QueueName::Maildrop => "maildrop",
            QueueName::Incoming => "incoming",
            QueueName::Active => "active",
            QueueName::Deferred => "deferred",
            QueueName::Hold => "hold",
            QueueName::Corrupt => "corrupt",
            QueueName::Saved => "saved",
            QueueName::Defer => "defer",
            QueueName::Bounce => "bounce",
            QueueName::Trace => "trace",
            QueueName::Flush => "flush",
            QueueName::Private => "private",
            QueueName::Public => "public",
        }
    }

    /// The mode in Postfix's `postfix-files`: `maildrop` 0730 and
    /// `public` 0710 (group `setgid_group` may write and search,
    /// respectively), everything else 0700.
    pub const fn mode(self) -> u32 {
        match self {
            QueueName::Maildrop => 0o730,
            QueueName::Public => 0o710,
            _ => 0o700,
        }
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for QueueName {
    type Err = ();

    fn from_str(s: &str) -> Result<QueueName, ()> {
        QueueName::ALL
            .into_iter()
            .find(|q| q.as_str() == s)
            .ok_or(())
    }
}

/// Mode of `$queue_directory` itself when we create it.
const ROOT_MODE: u32 = 0o755;

/// The queue directory tree of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDirs {
    root: PathBuf,
}

impl QueueDirs {
    pub fn new(queue_directory: impl Into<PathBuf>) -> QueueDirs {
        QueueDirs {
            root: queue_directory.into(),
        }
    }

    /// `$queue_directory`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, q: QueueName) -> PathBuf {
        self.root.join(q.as_str())
    }

    /// Where the file of `id` is in queue `q`.
    pub fn path(&self, q: QueueName, id: &QueueId) -> PathBuf {
        self.dir(q).join(id.as_str())
    }

    /// Create `$queue_directory` (0755) if missing, and every directory
    /// of [`QueueName::ALL`] with its mode, correcting the mode of one
    /// that exists. Idempotent. A name that exists as something other
    /// than a directory (a symlink included) is an error.
    pub fn create_all(&self) -> Result<(), Error> {
        make_dir(&self.root, ROOT_MODE, false)?;
        QueueName::ALL
            .into_iter()
            .try_for_each(|q| make_dir(&self.dir(q), q.mode(), true))
    }
}

/// Make `path` a directory with `mode` (not subject to the umask); with
/// `fix_mode`, also correct the mode of an existing one.
fn make_dir(path: &Path, mode: u32, fix_mode: bool) -> Result<(), Error> {
    let created = match fs::DirBuilder::new().mode(mode).create(path) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(Error::io("mkdir", path, e)),
    };
    let meta = fs::symlink_metadata(path).map_err(|e| Error::io("stat", path, e))?;
    if !meta.is_dir() {
        let e = io::Error::new(
            io::ErrorKind::AlreadyExists,
            "exists and is not a directory",
        );
        return Err(Error::io("mkdir", path, e));
    }
    if (created || fix_mode) && meta.permissions().mode() & 0o7777 != mode {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io("chmod", path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(p: &Path) -> u32 {
        fs::metadata(p).expect("stat").permissions().mode() & 0o7777
    }

    #[test]
    fn creates_every_directory_with_its_mode_idempotently() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = QueueDirs::new(tmp.path().join("spool"));
        dirs.create_all().expect("create");
        dirs.create_all().expect("again");
        assert_eq!(mode_of(dirs.root()), 0o755);
        for q in QueueName::ALL {
            assert_eq!(mode_of(&dirs.dir(q)), q.mode(), "{q}");
        }
        assert_eq!(mode_of(&dirs.dir(QueueName::Maildrop)), 0o730);
        assert_eq!(mode_of(&dirs.dir(QueueName::Public)), 0o710);
        assert_eq!(mode_of(&dirs.dir(QueueName::Incoming)), 0o700);
    }

    #[test]
    fn repairs_modes_and_refuses_non_directories() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = QueueDirs::new(tmp.path());
        dirs.create_all().expect("create");
        let active = dirs.dir(QueueName::Active);
        fs::set_permissions(&active, fs::Permissions::from_mode(0o777)).expect("chmod");
        dirs.create_all().expect("repair");
        assert_eq!(mode_of(&active), 0o700);

        fs::remove_dir(dirs.dir(QueueName::Hold)).expect("rmdir");
        std::os::unix::fs::symlink(tmp.path(), dirs.dir(QueueName::Hold)).expect("symlink");
        let err = dirs.create_all().expect_err("symlink refused");
        assert!(err.to_string().contains("not a directory"), "{err}");
    }

    #[test]
    fn names_and_paths() {
        let dirs = QueueDirs::new("/var/spool/mta");
        let id: QueueId = "4ZzCqG0yB3z12".parse().expect("id");
        assert_eq!(
            dirs.path(QueueName::Deferred, &id),
            Path::new("/var/spool/mta/deferred/4ZzCqG0yB3z12")
        );
        for q in QueueName::ALL {
            assert_eq!(q.as_str().parse(), Ok(q));
        }
        assert_eq!("pid".parse::<QueueName>(), Err(()));
    }
}
