//! Writing indexed tables: a full build ([`create`], `postmap file`),
//! an incremental update ([`update`], `postmap -i`) and deletes
//! ([`delete`], `postmap -d`). Each writes a complete new file and
//! renames it over the table, so readers see the old or the new table,
//! never a mix. An update or delete reads the current table, applies the
//! change and writes it all again: O(table size), which is fine for a
//! command run by hand, and keeps every file a constant database (or,
//! for lmdb, an environment no one writes into while readers map it).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::reopen::Shared;
use super::{Kind, cdb, lmdb};
use crate::source::{Duplicates, Parsed, Records, Warning, fold, merge_warnings};

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The existing table could not be read (`-i`, `-d`).
    #[error("open database {path}: {reason}")]
    Open { path: String, reason: String },
    /// A step of writing the new file failed.
    #[error("{op} {path}: {reason}")]
    Io {
        op: &'static str,
        path: String,
        reason: String,
    },
}

/// How a table is written (postmap's `-r`, `-w`; the mode of new files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    pub dup: Duplicates,
    /// Permission bits of a new table file. A file that replaces an
    /// existing table takes that table's mode and owner instead, as
    /// Postfix's rebuild in place keeps them.
    pub mode: u32,
}

impl Default for WriteOptions {
    fn default() -> WriteOptions {
        WriteOptions {
            dup: Duplicates::Warn,
            mode: 0o644,
        }
    }
}

impl WriteOptions {
    /// The mode postmap gives a new table built from a source file with
    /// mode `source_mode` (unless `-p`): 0644 without the group and
    /// other read bits the source lacks.
    pub fn mode_from_source(source_mode: u32) -> u32 {
        0o644 & !(0o022 | (!source_mode & 0o077))
    }
}

fn io_error<'a>(op: &'static str, path: &'a Path) -> impl Fn(io::Error) -> BuildError + 'a {
    move |e| BuildError::Io {
        op,
        path: path.display().to_string(),
        reason: conf::io_reason(&e),
    }
}

/// Build table `name` (file `name + suffix`) from parsed source records,
/// replacing any existing table. Returns the parser's and the store's
/// warnings merged in source-line order, the order Postfix prints them
/// in, each to be printed after `postmap: warning: `.
pub fn create(
    kind: Kind,
    name: &str,
    parsed: &Parsed,
    opts: &WriteOptions,
) -> Result<Vec<String>, BuildError> {
    let path = kind.path(name);
    let existing = fs::metadata(&path).ok();
    let mut dups = Vec::new();
    let winners = parsed.records.dedup(opts.dup, |r| {
        dups.push(Warning {
            line: r.line,
            text: kind.duplicate_warning(name, r.key),
        })
    });
    install(
        kind,
        &path,
        &parsed.records,
        &winners,
        opts.mode,
        existing.as_ref(),
    )?;
    Ok(merge_warnings(parsed.warnings.clone(), dups))
}

/// Add parsed records (from stdin, for `-i`) to table `name`; a missing
/// table is created. Existing entries come first for the duplicate
/// policy: by default a new record for an existing key is warned about
/// and dropped. Returns the warnings as [`create`] does.
pub fn update(
    kind: Kind,
    name: &str,
    parsed: &Parsed,
    opts: &WriteOptions,
) -> Result<Vec<String>, BuildError> {
    let path = kind.path(name);
    let (mut all, existing) = match fs::metadata(&path) {
        Ok(meta) => (read_all(kind, &path)?, Some(meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (Records::new(), None),
        Err(e) => return Err(open_error(&path, conf::io_reason(&e))),
    };
    all.append(&parsed.records);
    let mut dups = Vec::new();
    let winners = all.dedup(opts.dup, |r| {
        dups.push(Warning {
            line: r.line,
            text: kind.duplicate_warning(name, r.key),
        })
    });
    install(kind, &path, &all, &winners, opts.mode, existing.as_ref())?;
    Ok(merge_warnings(parsed.warnings.clone(), dups))
}

/// Delete `keys` (folded first when `fold`) from table `name`. Returns,
/// per key, whether it was there; the file is rewritten only when one
/// was. A missing table is [`BuildError::Open`].
pub fn delete(
    kind: Kind,
    name: &str,
    keys: &[&str],
    fold_keys: bool,
) -> Result<Vec<bool>, BuildError> {
    let path = kind.path(name);
    let existing = fs::metadata(&path).map_err(|e| open_error(&path, conf::io_reason(&e)))?;
    let all = read_all(kind, &path)?;
    let keys: Vec<String> = keys
        .iter()
        .map(|k| {
            if fold_keys {
                fold(k).into_owned()
            } else {
                k.to_string()
            }
        })
        .collect();
    let doomed: HashSet<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    let mut present: HashSet<&[u8]> = HashSet::new();
    let mut winners = Vec::with_capacity(all.len());
    for (i, record) in all.iter().enumerate() {
        if doomed.contains(record.key) {
            present.insert(record.key);
        } else {
            winners.push(i);
        }
    }
    let found: Vec<bool> = keys
        .iter()
        .map(|k| present.contains(k.as_bytes()))
        .collect();
    if !present.is_empty() {
        install(kind, &path, &all, &winners, 0o644, Some(&existing))?;
    }
    Ok(found)
}

fn open_error(path: &Path, reason: String) -> BuildError {
    BuildError::Open {
        path: path.display().to_string(),
        reason,
    }
}

/// Every entry of the table file at `path`, in stored order, through the
/// process's shared reader (LMDB allows one environment per file).
fn read_all(kind: Kind, path: &Path) -> Result<Records, BuildError> {
    let shared = Shared::acquire(kind, path).map_err(|reason| open_error(path, reason))?;
    shared.refresh(path);
    let state = shared.read();
    let Some(reader) = &state.reader else {
        return Err(open_error(path, state.broken.clone().unwrap_or_default()));
    };
    let mut records = Records::new();
    reader
        .for_each(&mut |k, v| records.push(k, v, 0))
        .map_err(|reason| open_error(path, reason))?;
    Ok(records)
}

/// A temporary name beside `path`, unique to this process and call, so
/// that two postmaps building the same table do not write one file.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // "./name" rather than "name": heed resolves the directory of a file
    // that does not exist yet, and "" is no directory.
    let mut name = match path.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Path::new(".").join(path).into_os_string(),
        _ => path.as_os_str().to_owned(),
    };
    name.push(format!(".{}.{n}.tmp", std::process::id()));
    PathBuf::from(name)
}

/// Write `winners` of `records` to a new file and rename it over `path`:
/// fsync the file, rename, fsync the directory. The new file gets the
/// mode and owner of `existing` (the table it replaces) or `mode`.
fn install(
    kind: Kind,
    path: &Path,
    records: &Records,
    winners: &[usize],
    mode: u32,
    existing: Option<&fs::Metadata>,
) -> Result<(), BuildError> {
    let mode = existing.map_or(mode, |m| m.mode() & 0o7777);
    let tmp = temp_path(path);
    let result = write_file(kind, &tmp, records, winners, mode, existing)
        .and_then(|()| fs::rename(&tmp, path).map_err(io_error("rename", &tmp)))
        .and_then(|()| {
            conf::atomic::sync_parent(path).map_err(io_error("sync directory of", path))
        });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_file(
    kind: Kind,
    tmp: &Path,
    records: &Records,
    winners: &[usize],
    mode: u32,
    existing: Option<&fs::Metadata>,
) -> Result<(), BuildError> {
    let write_error = io_error("write", tmp);
    match kind {
        Kind::Lmdb => lmdb::write(tmp, records, winners, mode).map_err(&write_error)?,
        Kind::Hash | Kind::Btree | Kind::Cdb => {
            let file = File::options()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(tmp)
                .map_err(io_error("create", tmp))?;
            // Set explicitly: the umask must not narrow a copied mode.
            file.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(&write_error)?;
            cdb::write(file, records, winners).map_err(&write_error)?;
        }
    }
    if let Some(meta) = existing {
        copy_owner(tmp, meta).map_err(io_error("chown", tmp))?;
    }
    Ok(())
}

/// Give `tmp` the owner of the table it replaces, so that a rebuild by
/// root keeps a table owned by its user. Only root may give a file away;
/// anyone else keeps the file as created, as Postfix run by that user
/// would.
fn copy_owner(tmp: &Path, meta: &fs::Metadata) -> io::Result<()> {
    let now = fs::metadata(tmp)?;
    if now.uid() == meta.uid() && now.gid() == meta.gid() {
        return Ok(());
    }
    match std::os::unix::fs::chown(tmp, Some(meta.uid()), Some(meta.gid())) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Ok(()),
        other => other?,
    }
    // The owner change must be on disk before the rename is.
    File::open(tmp)?.sync_all()
}
