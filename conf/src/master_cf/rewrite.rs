//! Replacing master.cf after an edit, the way Postfix's `edit_file` does
//! it: the new text goes to `master.cf.tmp`, which is locked first so
//! that two concurrent `postconf` edits take turns; then it is fsynced
//! and renamed over master.cf, and the directory is fsynced.
//!
//! Unlike Postfix, a failed edit removes the temporary file, and the new
//! file keeps the permission bits of the old one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::edit::{self, Request};
use super::{Error, Warning};

/// Edit the master.cf at `path` in place.
pub fn rewrite(
    path: &Path,
    requests: &[Request],
    warn: &mut dyn FnMut(Warning),
) -> Result<(), Error> {
    let shown = path.display().to_string();
    let tmp_path = temp_path(path);
    let temp = open_locked(&tmp_path).map_err(|source| Error::TempOpen {
        path: shown.clone(),
        source,
    })?;
    let result = edit_into(path, &shown, temp, requests, warn);
    if result.is_err() {
        // We hold the only claim on this name (it was locked), so it is
        // ours to remove.
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

fn edit_into(
    path: &Path,
    shown: &str,
    mut temp: File,
    requests: &[Request],
    warn: &mut dyn FnMut(Warning),
) -> Result<(), Error> {
    let mut source = File::open(path).map_err(|source| Error::ReadOpen {
        path: shown.to_string(),
        source,
    })?;
    let mut text = Vec::new();
    let read = source
        .read_to_end(&mut text)
        .and_then(|_| source.metadata());
    let mode = read
        .map_err(|source| Error::Read {
            path: shown.to_string(),
            source,
        })?
        .permissions()
        .mode()
        & 0o7777;
    let new = edit::apply(&text, shown, requests, warn)?;
    let close = |source| Error::Close {
        path: shown.to_string(),
        source,
    };
    temp.write_all(&new).map_err(close)?;
    temp.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(close)?;
    temp.sync_all().map_err(close)?;
    fs::rename(temp_path(path), path).map_err(close)?;
    crate::atomic::sync_parent(path).map_err(close)
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Open and exclusively lock the temporary file, making sure that the file
/// we locked is still the one at that name (another postconf may have
/// renamed it while we waited), then empty it.
fn open_locked(tmp_path: &Path) -> io::Result<File> {
    loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(tmp_path)?;
        file.lock()?;
        let ours = file.metadata()?;
        match fs::metadata(tmp_path) {
            Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {
                file.set_len(0)?;
                return Ok(file);
            }
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master_cf::Pattern;
    use crate::master_cf::edit::Change;

    fn request(raw: &str, change: Change) -> Request {
        Request {
            raw: raw.to_string(),
            pattern: Pattern::parse(raw, 2, 2).expect("pattern"),
            change,
        }
    }

    #[test]
    fn rewrites_in_place_and_keeps_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.cf");
        fs::write(
            &path,
            "# c\nfoo unix - n n - 0 other\nbar unix - n n - 0 x\n",
        )
        .expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        rewrite(
            &path,
            &[request("foo/unix", Change::CommentOut)],
            &mut |_| {},
        )
        .expect("edit");
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "# c\n#foo unix - n n - 0 other\nbar unix - n n - 0 x\n"
        );
        let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert!(!temp_path(&path).exists());
    }

    #[test]
    fn missing_file_is_reported_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.cf");
        let err = rewrite(&path, &[request("foo/unix", Change::Remove)], &mut |_| {})
            .expect_err("no master.cf");
        assert_eq!(
            err.to_string(),
            format!(
                "open {} for reading: No such file or directory",
                path.display()
            )
        );
        assert!(!temp_path(&path).exists());
    }

    #[test]
    fn failed_edit_leaves_file_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.cf");
        fs::write(&path, "foo\n").expect("write");
        let err = rewrite(&path, &[request("foo/unix", Change::Remove)], &mut |_| {})
            .expect_err("bad line");
        assert!(
            err.to_string()
                .ends_with("specify service name and type on the same line")
        );
        assert_eq!(fs::read_to_string(&path).expect("read"), "foo\n");
        assert!(!temp_path(&path).exists());
    }
}
