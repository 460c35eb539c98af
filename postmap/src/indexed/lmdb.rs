//! `lmdb` tables through heed. Keys and values are stored with a
//! terminating NUL, as Postfix's dict_lmdb writes them by default, so our
//! files and Postfix's can be read by either.
//!
//! Files are never written in place: postmap builds a fresh environment
//! in a temporary file (`NO_SUB_DIR`, one file, no lock file) and renames
//! it over the table, also for `-i` and `-d`. That is what makes readers
//! with `READ_ONLY | NO_LOCK` safe: LMDB's lock table exists to let a
//! writer know which pages readers still use, and no writer ever touches
//! a file that a reader has mapped; the old inode lives on, unchanged,
//! until its last reader closes it. Where heed cannot open the temporary
//! file by its absolute path, the environment is built in a private
//! scratch directory and copied into it (see `write`).

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use heed::types::Bytes;
use heed::{CompactionOption, Database, Env, EnvFlags, EnvOpenOptions, PutFlags, WithoutTls};

use crate::source::Records;

/// Open an environment: the one unsafe call of this crate.
fn open_env(
    path: &Path,
    flags: EnvFlags,
    map_size: Option<usize>,
) -> heed::Result<Env<WithoutTls>> {
    let mut options = EnvOpenOptions::new().read_txn_without_tls();
    if let Some(size) = map_size {
        options.map_size(size);
    }
    #[allow(unsafe_code)]
    // SAFETY: heed makes `flags` and `open` unsafe because LMDB cannot
    // protect the mapping from misuse. Here: (1) each path is opened once
    // per process (readers share one `Shared` per canonical path, builders
    // use a fresh temporary name), as LMDB requires; (2) readers use
    // NO_LOCK only on files that nobody writes in place (see the module
    // comment), so no page they map can change under them; (3) NO_TLS
    // (`read_txn_without_tls`) because transactions are short-lived and
    // may run on any thread of a daemon.
    unsafe {
        options.flags(flags).open(path)
    }
}

/// A table file opened for lookups.
pub(super) struct Reader {
    env: Env<WithoutTls>,
    db: Database<Bytes, Bytes>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("lmdb::Reader").finish_non_exhaustive()
    }
}

fn reason(e: &heed::Error) -> String {
    match e {
        heed::Error::Io(io) => conf::io_reason(io),
        other => other.to_string(),
    }
}

/// Drop the NUL that Postfix and we append to keys and values.
fn strip_nul(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\0").unwrap_or(bytes)
}

impl Reader {
    /// Open `path` read-only. The error is the reason Postfix prints
    /// after `open database PATH: `, e.g. `MDB_INVALID: File is not an
    /// LMDB file`.
    pub(super) fn open(path: &Path) -> Result<Reader, String> {
        // Garbage shorter than a page makes LMDB read past the end of its
        // mapping; refuse it before it gets that far.
        let len = fs::metadata(path).map_err(|e| conf::io_reason(&e))?.len();
        if len < 2 * 4096 {
            return Err(reason(&heed::Error::Mdb(heed::MdbError::Invalid)));
        }
        let flags = EnvFlags::READ_ONLY | EnvFlags::NO_LOCK | EnvFlags::NO_SUB_DIR;
        let env = open_env(path, flags, None).map_err(|e| reason(&e))?;
        // A truncated file would fault (SIGBUS) on the first access to a
        // page past its end: the last page in use must be in the file.
        let info = env.info();
        let page = u64::from(env.stat().page_size);
        let used = (info.last_page_number as u64 + 1).saturating_mul(page);
        let real = env
            .try_clone_inner_file()
            .and_then(|f| Ok(f.metadata()?.len()));
        if real.map_err(|e| reason(&e))? < used {
            return Err(reason(&heed::Error::Mdb(heed::MdbError::Corrupted)));
        }
        let rtxn = env.read_txn().map_err(|e| reason(&e))?;
        let db = env
            .open_database::<Bytes, Bytes>(&rtxn, None)
            .map_err(|e| reason(&e))?
            .ok_or_else(|| reason(&heed::Error::Mdb(heed::MdbError::NotFound)))?;
        rtxn.commit().map_err(|e| reason(&e))?;
        Ok(Reader { env, db })
    }

    pub(super) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        // Short keys get their NUL on the stack: no allocation but the value.
        let mut stack = [0u8; 256];
        let heap;
        let with_nul: &[u8] = if key.len() < stack.len() {
            stack[..key.len()].copy_from_slice(key);
            &stack[..=key.len()]
        } else {
            heap = [key, b"\0"].concat();
            &heap
        };
        let rtxn = self.env.read_txn().map_err(|e| reason(&e))?;
        let value = self.db.get(&rtxn, with_nul).map_err(|e| reason(&e))?;
        Ok(value.map(|v| strip_nul(v).to_vec()))
    }

    /// Every entry, in key order (LMDB's only order).
    pub(super) fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) -> Result<(), String> {
        let rtxn = self.env.read_txn().map_err(|e| reason(&e))?;
        for entry in self.db.iter(&rtxn).map_err(|e| reason(&e))? {
            let (key, value) = entry.map_err(|e| reason(&e))?;
            f(strip_nul(key), strip_nul(value));
        }
        Ok(())
    }
}

/// Map size for a build: LMDB needs it up front. Twice the data plus
/// per-entry node overhead, rounded to 1 MiB (a multiple of any page
/// size); `write` doubles it when that proves short.
fn map_size(records: &Records, winners: &[usize]) -> usize {
    let data: usize = winners
        .iter()
        .filter_map(|&i| records.get(i))
        .map(|r| r.key.len() + r.value.len() + 2 + 16)
        .sum();
    (2 * data + (4 << 20)).next_multiple_of(1 << 20)
}

/// Build a table at the new path `tmp` from the `winners` of `records`
/// (sorted here: LMDB appends sorted keys fastest and most compactly),
/// fsync it and set its mode. The caller renames it into place.
pub(super) fn write(tmp: &Path, records: &Records, winners: &[usize], mode: u32) -> io::Result<()> {
    let mut sorted = winners.to_vec();
    sorted.sort_unstable_by(|&a, &b| {
        let key = |i: usize| records.get(i).map(|r| r.key);
        key(a).cmp(&key(b))
    });
    let mut file = create(tmp, mode)?;
    match build(tmp, &file, records, &sorted, None) {
        // heed opens an environment by its canonical path, which needs
        // search permission on every directory above it, where LMDB itself
        // (and Postfix) would open the name as given. When root runs
        // postmap in a directory that the source's owner can use but not
        // reach from `/`, the build runs as that owner (Postfix's
        // set_eugid) and fails here although `tmp` is the owner's own new
        // file. Build in a private scratch directory instead and copy the
        // environment into the file we hold open.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            file.set_len(0)?;
            build_elsewhere(&mut file, records, &sorted)?;
        }
        other => other?,
    }
    file.sync_all()
}

/// Create the new file ourselves, exclusively: LMDB would follow a
/// symlink planted at the temporary name. LMDB takes an existing empty
/// file for a new environment.
fn create(path: &Path, mode: u32) -> io::Result<File> {
    let file = File::options()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    // Set explicitly: the umask must not narrow a copied mode.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    Ok(file)
}

/// Write the environment at `path` (whose empty file is `file`), growing
/// the map until the data fits; then, with `copy_to`, copy it there.
fn build(
    path: &Path,
    file: &File,
    records: &Records,
    sorted: &[usize],
    mut copy_to: Option<&mut File>,
) -> io::Result<()> {
    let mut size = map_size(records, sorted);
    loop {
        match write_env(path, records, sorted, size, copy_to.as_deref_mut()) {
            Err(heed::Error::Mdb(heed::MdbError::MapFull)) if size < usize::MAX / 4 => {
                // Start again from an empty file with a map twice as big.
                file.set_len(0)?;
                size *= 2;
            }
            Err(heed::Error::Io(e)) => return Err(e),
            Err(e) => return Err(io::Error::other(reason(&e))),
            Ok(()) => return Ok(()),
        }
    }
}

/// A directory of our own under the system's temporary directory,
/// removed with everything in it when dropped.
#[derive(Debug)]
struct Scratch(PathBuf);

impl Scratch {
    fn create() -> io::Result<Scratch> {
        let base = std::env::temp_dir();
        let mut attempt = 0u32;
        loop {
            let dir = base.join(format!("postmap-lmdb.{}.{attempt}", std::process::id()));
            // 0700 and created by us: no one else can plant files in it.
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(Scratch(dir)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Build the environment in a [`Scratch`] directory and copy it into
/// `target` (empty, open for writing): the same table, written twice.
fn build_elsewhere(target: &mut File, records: &Records, sorted: &[usize]) -> io::Result<()> {
    let scratch = Scratch::create()?;
    let path = scratch.0.join("table.lmdb");
    let file = create(&path, 0o600)?;
    build(&path, &file, records, sorted, Some(target))
}

fn write_env(
    path: &Path,
    records: &Records,
    sorted: &[usize],
    size: usize,
    copy_to: Option<&mut File>,
) -> heed::Result<()> {
    // NO_SYNC: `write` fsyncs the whole file once, after the commit.
    let flags = EnvFlags::NO_SUB_DIR | EnvFlags::NO_LOCK | EnvFlags::NO_SYNC;
    let env = open_env(path, flags, Some(size))?;
    let mut wtxn = env.write_txn()?;
    let db: Database<Bytes, Bytes> = env.create_database(&mut wtxn, None)?;
    let (mut key, mut value) = (Vec::new(), Vec::new());
    for record in sorted.iter().filter_map(|&i| records.get(i)) {
        key.clear();
        key.extend_from_slice(record.key);
        key.push(0);
        value.clear();
        value.extend_from_slice(record.value);
        value.push(0);
        db.put_with_flags(&mut wtxn, PutFlags::APPEND, &key, &value)?;
    }
    wtxn.commit()?;
    if let Some(target) = copy_to {
        env.copy_to_file(target, CompactionOption::Disabled)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(path: &Path, entries: &[(&str, &str)]) {
        let mut records = Records::new();
        for (k, v) in entries {
            records.push(k.as_bytes(), v.as_bytes(), 0);
        }
        let winners: Vec<usize> = (0..records.len()).collect();
        write(path, &records, &winners, 0o640).expect("write");
    }

    #[test]
    fn round_trip_sorted_without_nul() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.lmdb");
        build(
            &path,
            &[("b", "2"), ("a", "1"), ("", "empty key"), ("ab", "3")],
        );
        let r = Reader::open(&path).expect("open");
        assert_eq!(r.get(b"a"), Ok(Some(b"1".to_vec())));
        assert_eq!(r.get(b""), Ok(Some(b"empty key".to_vec())));
        assert_eq!(r.get(b"c"), Ok(None));
        let long = "x".repeat(300);
        assert_eq!(r.get(long.as_bytes()), Ok(None));
        let mut keys = Vec::new();
        r.for_each(&mut |k, _| keys.push(String::from_utf8_lossy(k).into_owned()))
            .expect("iterate");
        assert_eq!(keys, ["", "a", "ab", "b"]);
        let mode = fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert!(!dir.path().join("t.lmdb-lock").exists());
    }

    /// The way around heed's canonical paths (`write`): the table built in
    /// a scratch directory and copied into the file we hold is the same
    /// table, and the scratch directory is gone afterwards.
    #[test]
    fn a_table_built_elsewhere_is_the_same_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.lmdb");
        let mut records = Records::new();
        for (k, v) in [("b", "2"), ("a", "1")] {
            records.push(k.as_bytes(), v.as_bytes(), 0);
        }
        let mut file = create(&path, 0o640).expect("create");
        build_elsewhere(&mut file, &records, &[1, 0]).expect("build");
        drop(file);
        let r = Reader::open(&path).expect("open");
        assert_eq!(r.get(b"a"), Ok(Some(b"1".to_vec())));
        assert_eq!(r.get(b"b"), Ok(Some(b"2".to_vec())));
        let mode = fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let prefix = format!("postmap-lmdb.{}.", std::process::id());
        let left: Vec<_> = fs::read_dir(std::env::temp_dir())
            .expect("temp dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn grows_the_map_when_the_estimate_is_short() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.lmdb");
        let value = "v".repeat(3000);
        let entries: Vec<(String, String)> = (0..3000)
            .map(|i| (format!("k{i:05}"), value.clone()))
            .collect();
        let mut records = Records::new();
        for (k, v) in &entries {
            records.push(k.as_bytes(), v.as_bytes(), 0);
        }
        let winners: Vec<usize> = (0..records.len()).collect();
        // Overflow pages make the real size well above the estimate.
        write(&path, &records, &winners, 0o644).expect("write");
        let r = Reader::open(&path).expect("open");
        assert_eq!(r.get(b"k02999").map(|v| v.map(|v| v.len())), Ok(Some(3000)));
    }

    #[test]
    fn garbage_and_truncation_are_open_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.lmdb");
        let entries: Vec<(String, String)> = (0..2000)
            .map(|i| (format!("key{i}"), format!("value{i}")))
            .collect();
        let refs: Vec<(&str, &str)> = entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        build(&path, &refs);
        let good = fs::read(&path).expect("read");
        let bad = dir.path().join("bad.lmdb");
        fs::write(&bad, b"garbage\n").expect("write");
        assert_eq!(
            Reader::open(&bad).map(|_| ()),
            Err("MDB_INVALID: File is not an LMDB file".to_string())
        );
        fs::write(&bad, vec![0x5au8; 20000]).expect("write");
        assert!(Reader::open(&bad).is_err());
        for cut in [4096, 8192, good.len() / 2, good.len() - 4096] {
            fs::write(&bad, &good[..cut]).expect("write");
            assert!(Reader::open(&bad).is_err(), "cut at {cut}");
        }
    }
}
