//! Where a queue file is written before it is complete. Preferably an
//! unnamed file in `incoming/` (Linux `O_TMPFILE`): invisible to every
//! scanner, gone by itself if the writer dies, and published with one
//! directory operation (a link) instead of two (create and rename), which
//! matters when many sessions create files in one directory. Where the
//! file system cannot do that, a temporary name `.PID.N`, renamed at the
//! end; the leading dot keeps scanners away (no queue ID has a dot).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags};

use crate::error::Error;

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// How the file being written can be found.
#[derive(Debug)]
pub(super) enum Staging {
    /// No name at all yet.
    Unnamed,
    /// A temporary name, removed if the writer gives up.
    Named(PathBuf),
}

impl Staging {
    /// The path to name in error messages.
    pub(super) fn describe(&self, incoming: &Path) -> PathBuf {
        match self {
            Staging::Unnamed => incoming.to_path_buf(),
            Staging::Named(path) => path.clone(),
        }
    }

    /// Gives the complete file its queue-file name `to`, never replacing
    /// an existing file.
    pub(super) fn publish(&self, file: &File, to: &Path) -> io::Result<()> {
        match self {
            Staging::Unnamed => {
                let fd = format!("/proc/self/fd/{}", file.as_raw_fd());
                nix::unistd::linkat(
                    AT_FDCWD,
                    fd.as_str(),
                    AT_FDCWD,
                    to,
                    AtFlags::AT_SYMLINK_FOLLOW,
                )
                .map_err(io::Error::from)
            }
            Staging::Named(from) => rename_noreplace(from, to),
        }
    }

    /// Removes what is left of an abandoned file.
    pub(super) fn discard(&self) {
        if let Staging::Named(path) = self {
            let _ = fs::remove_file(path);
        }
    }
}

/// Creates the file to write in `incoming`, mode 0600.
pub(super) fn create(incoming: &Path) -> Result<(File, Staging), Error> {
    let unnamed = OpenOptions::new()
        .write(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_TMPFILE)
        .open(incoming);
    match unnamed {
        Ok(file) if has_proc_fd() => Ok((file, Staging::Unnamed)),
        Ok(_) => create_named(incoming),
        // EOPNOTSUPP or EISDIR: no O_TMPFILE on this file system or kernel.
        Err(e) if matches!(e.raw_os_error(), Some(code) if code == Errno::EOPNOTSUPP as i32 || code == Errno::EISDIR as i32) => {
            create_named(incoming)
        }
        Err(e) => Err(Error::io("create", incoming, e)),
    }
}

/// `/proc/self/fd`, through which an unnamed file is linked, exists
/// (looked at once per process).
fn has_proc_fd() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| Path::new("/proc/self/fd").is_dir())
}

fn create_named(incoming: &Path) -> Result<(File, Staging), Error> {
    let pid = std::process::id();
    let mut tries = 0;
    loop {
        let n = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
        let path = incoming.join(format!(".{pid}.{n}"));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
        match opened {
            Ok(file) => return Ok((file, Staging::Named(path))),
            // Left over by a crashed process that had our pid.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 100 => tries += 1,
            Err(e) => return Err(Error::io("create", path, e)),
        }
    }
}

/// Rename without replacing an existing file.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use nix::fcntl::{RenameFlags, renameat2};
    match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => Ok(()),
        // A file system without RENAME_NOREPLACE.
        Err(Errno::EINVAL | Errno::ENOSYS) => link_and_unlink(from, to),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    link_and_unlink(from, to)
}

/// qmail's way: link() refuses an existing name.
fn link_and_unlink(from: &Path, to: &Path) -> io::Result<()> {
    fs::hard_link(from, to)?;
    fs::remove_file(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("readdir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn named_staging_is_a_dot_name_until_published() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut file, staging) = create_named(tmp.path()).expect("create");
        file.write_all(b"x").expect("write");
        let temp = names(tmp.path());
        assert_eq!(temp.len(), 1);
        assert!(temp[0].starts_with('.'), "{temp:?}");
        let mode = fs::metadata(tmp.path().join(&temp[0]))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let to = tmp.path().join("final");
        staging.publish(&file, &to).expect("publish");
        assert_eq!(names(tmp.path()), ["final"]);
        // Never over an existing file.
        let (file, staging) = create_named(tmp.path()).expect("create");
        assert!(staging.publish(&file, &to).is_err());
        staging.discard();
        assert_eq!(names(tmp.path()), ["final"]);
    }

    #[test]
    fn unnamed_staging_has_no_name_until_published() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut file, staging) = create(tmp.path()).expect("create");
        file.write_all(b"x").expect("write");
        if matches!(staging, Staging::Named(_)) {
            eprintln!("skipped: no O_TMPFILE here");
            return;
        }
        assert!(names(tmp.path()).is_empty());
        let to = tmp.path().join("final");
        staging.publish(&file, &to).expect("publish");
        assert_eq!(fs::read(&to).expect("read"), b"x");
        let (file, staging) = create(tmp.path()).expect("create");
        assert!(staging.publish(&file, &to).is_err(), "must not replace");
    }
}
