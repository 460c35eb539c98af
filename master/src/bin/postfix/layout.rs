//! The queue tree as Postfix's `postfix-files` describes it: each
//! directory's owner, group and mode. `check` compares the tree with it
//! and creates what is missing; `set-permissions` applies it.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use queue::QueueName;

/// Who owns an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Root,
    MailOwner,
}

/// One directory of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// As find(1) prints it in postfix-script: `$queue_directory/.`,
    /// `$queue_directory/pid`, `$queue_directory/hold`.
    pub(crate) path: PathBuf,
    pub(crate) owner: Owner,
    /// Group `setgid_group` (maildrop, public); else the owner's group.
    pub(crate) setgid_group: bool,
    pub(crate) mode: u32,
    /// A queue (or socket) directory, not `$queue_directory` or `pid`.
    pub(crate) is_queue: bool,
}

/// The tree under `queue_dir`, `$queue_directory` itself first.
pub(crate) fn entries(queue_dir: &Path) -> Vec<Entry> {
    let root = |name: &str| Entry {
        path: queue_dir.join(name),
        owner: Owner::Root,
        setgid_group: false,
        mode: 0o755,
        is_queue: false,
    };
    let mut out = vec![root("."), root("pid")];
    out.extend(QueueName::ALL.into_iter().map(|q| Entry {
        path: queue_dir.join(q.as_str()),
        owner: Owner::MailOwner,
        setgid_group: matches!(q, QueueName::Maildrop | QueueName::Public),
        mode: q.mode(),
        is_queue: true,
    }));
    out
}

/// Whether `mode` lets someone write who should not: other, or the group
/// where the entry's own mode does not grant it (maildrop's 0730 does).
pub(crate) fn is_too_writable(entry: &Entry, mode: u32) -> bool {
    let extra = mode & !entry.mode;
    extra & 0o022 != 0
}

/// Creates each missing directory with its mode (Postfix's
/// `post-install create-missing`); returns the ones created. A directory
/// that exists keeps its mode, so that `check` can report it.
pub(crate) fn create_missing(queue_dir: &Path) -> io::Result<Vec<Entry>> {
    let mut created = Vec::new();
    for entry in entries(queue_dir) {
        // `$queue_directory/.` is made as `$queue_directory` (paths
        // compare by components, which drop a trailing `.`).
        let path = if entry.path == queue_dir {
            queue_dir
        } else {
            &entry.path
        };
        match fs::DirBuilder::new().mode(entry.mode).create(path) {
            Ok(()) => {
                // The umask may have taken bits away.
                fs::set_permissions(path, fs::Permissions::from_mode(entry.mode))?;
                created.push(entry);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // A file, or a symlink below `$queue_directory`, in its
                // place is not a queue.
                let meta = if path == queue_dir {
                    fs::metadata(path)?
                } else {
                    fs::symlink_metadata(path)?
                };
                if !meta.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotADirectory,
                        format!("{} is not a directory", path.display()),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}

/// The ids that [`Owner`] and `setgid_group` stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids {
    pub(crate) mail_owner: (u32, u32),
    pub(crate) setgid_group: u32,
}

impl Ids {
    /// (uid, gid) that `entry` should have.
    pub(crate) fn of(&self, entry: &Entry) -> (u32, u32) {
        let (uid, gid) = match entry.owner {
            Owner::Root => (0, 0),
            Owner::MailOwner => self.mail_owner,
        };
        if entry.setgid_group {
            (uid, self.setgid_group)
        } else {
            (uid, gid)
        }
    }
}

/// Sets the mode of `entry`, and its owner and group when `ids` is given
/// (only root may give files away).
pub(crate) fn apply(entry: &Entry, ids: Option<&Ids>) -> io::Result<()> {
    if let Some(ids) = ids {
        let (uid, gid) = ids.of(entry);
        std::os::unix::fs::chown(&entry.path, Some(uid), Some(gid))?;
    }
    fs::set_permissions(&entry.path, fs::Permissions::from_mode(entry.mode))
}

/// `set-permissions`: creates what is missing, then gives every entry
/// its mode, and its owner and group when `ids` is given. Returns the
/// entries that could not be fixed, with the reason.
pub(crate) fn set_all(queue_dir: &Path, ids: Option<&Ids>) -> Vec<(PathBuf, io::Error)> {
    if let Err(e) = create_missing(queue_dir) {
        return vec![(queue_dir.to_path_buf(), e)];
    }
    entries(queue_dir)
        .into_iter()
        .filter_map(|entry| apply(&entry, ids).err().map(|e| (entry.path, e)))
        .collect()
}

/// The mode bits and owner of `path`, not following a symlink.
pub(crate) fn stat(path: &Path) -> io::Result<(u32, u32, u32)> {
    let meta = fs::symlink_metadata(path)?;
    Ok((meta.mode() & 0o7777, meta.uid(), meta.gid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, dir: &Path) -> Entry {
        entries(dir)
            .into_iter()
            .find(|e| e.path == dir.join(name))
            .unwrap()
    }

    #[test]
    fn modes_are_postfix_files() {
        let q = Path::new("/q");
        assert_eq!(entry(".", q).mode, 0o755);
        assert_eq!(entry("pid", q).owner, Owner::Root);
        assert_eq!(entry("maildrop", q).mode, 0o730);
        assert!(entry("public", q).setgid_group);
        assert_eq!(entry("hold", q).mode, 0o700);
        assert_eq!(entries(q).len(), 15);
    }

    #[test]
    fn too_writable_allows_what_postfix_files_grants() {
        let q = Path::new("/q");
        assert!(!is_too_writable(&entry("maildrop", q), 0o730));
        assert!(is_too_writable(&entry("maildrop", q), 0o732));
        assert!(is_too_writable(&entry("hold", q), 0o777));
        assert!(is_too_writable(&entry("hold", q), 0o720));
        assert!(!is_too_writable(&entry("hold", q), 0o700));
        assert!(!is_too_writable(&entry(".", q), 0o755));
    }

    #[test]
    fn create_missing_keeps_existing_modes() {
        let dir = tempfile::tempdir().unwrap();
        let hold = dir.path().join("hold");
        fs::create_dir(&hold).unwrap();
        fs::set_permissions(&hold, fs::Permissions::from_mode(0o777)).unwrap();
        let created = create_missing(dir.path()).unwrap();
        assert_eq!(created.len(), 13);
        assert_eq!(stat(&hold).unwrap().0, 0o777);
        assert_eq!(stat(&dir.path().join("maildrop")).unwrap().0, 0o730);
        assert!(create_missing(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn a_symlinked_queue_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/tmp", dir.path().join("hold")).unwrap();
        let err = create_missing(dir.path()).unwrap_err();
        assert!(
            err.to_string().ends_with("/hold is not a directory"),
            "{err}"
        );
    }

    #[test]
    fn set_all_restores_modes() {
        let dir = tempfile::tempdir().unwrap();
        create_missing(dir.path()).unwrap();
        let public = dir.path().join("public");
        fs::set_permissions(&public, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(set_all(dir.path(), None).is_empty());
        assert_eq!(stat(&public).unwrap().0, 0o710);
    }

    #[test]
    fn ids_follow_owner_and_group() {
        let ids = Ids {
            mail_owner: (100, 101),
            setgid_group: 102,
        };
        let q = Path::new("/q");
        assert_eq!(ids.of(&entry("pid", q)), (0, 0));
        assert_eq!(ids.of(&entry("hold", q)), (100, 101));
        assert_eq!(ids.of(&entry("public", q)), (100, 102));
    }
}
