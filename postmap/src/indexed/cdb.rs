//! `hash`, `btree` and `cdb` tables: D. J. Bernstein's constant database
//! (the format Postfix's `cdb:` type uses), written with `cdb2::CDBMake`
//! and read through `cdb2::CDB`, which maps the file read-only. Keys and
//! values are stored without a terminating NUL, as Postfix's cdb does.
//!
//! cdb2's reader trusts the file's structure, so [`Reader::open`] first
//! checks the 2 KiB header: 256 hash tables that must lie back to back
//! after the records and end exactly at the end of the file. A garbage or
//! truncated file fails that check and is an open error, never a panic.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::source::Records;

const HEADER: usize = 2048;

/// A table file opened for lookups.
pub(super) struct Reader {
    cdb: cdb2::CDB,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("cdb::Reader").finish_non_exhaustive()
    }
}

/// Whether `header` describes the hash tables of a `len`-byte cdb file.
fn header_is_sane(header: &[u8; HEADER], len: u64) -> bool {
    let word = |i: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&header[i..i + 4]);
        u64::from(u32::from_le_bytes(b))
    };
    let mut expected = word(0);
    if expected < HEADER as u64 {
        return false;
    }
    for table in 0..256 {
        let (pos, slots) = (word(table * 8), word(table * 8 + 4));
        if pos != expected {
            return false;
        }
        expected = pos + slots * 8;
    }
    expected == len
}

impl Reader {
    /// Open `path`. The error is the reason Postfix would print after
    /// `open database PATH: `; a file that is not a sane cdb is
    /// "Invalid argument" (what Berkeley DB says, for `hash`/`btree`) or
    /// "Protocol error" (what tinycdb says, for `cdb`).
    pub(super) fn open(path: &Path, is_cdb: bool) -> Result<Reader, String> {
        let invalid = || {
            let errno = if is_cdb { 71 } else { 22 }; // EPROTO, EINVAL
            conf::io_reason(&io::Error::from_raw_os_error(errno))
        };
        let mut file = File::open(path).map_err(|e| conf::io_reason(&e))?;
        let len = file.metadata().map_err(|e| conf::io_reason(&e))?.len();
        let mut header = [0u8; HEADER];
        if len > u64::from(u32::MAX) || file.read_exact(&mut header).is_err() {
            return Err(invalid());
        }
        if !header_is_sane(&header, len) {
            return Err(invalid());
        }
        let cdb = cdb2::CDB::open(path).map_err(|_| invalid())?;
        Ok(Reader { cdb })
    }

    pub(super) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        match self.cdb.get(key) {
            None => Ok(None),
            Some(Ok(value)) => Ok(Some(value)),
            Some(Err(e)) => Err(conf::io_reason(&e)),
        }
    }

    /// Every record in file order (the order it was written in).
    pub(super) fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) -> Result<(), String> {
        for record in self.cdb.iter() {
            let (key, value) = record.map_err(|e| conf::io_reason(&e))?;
            f(&key, &value);
        }
        Ok(())
    }
}

/// Write the `winners` of `records`, in that order, to `file` and fsync
/// it. cdb2's `CDBMake::finish` only flushes, so a duplicate handle of
/// the file does the fsync.
pub(super) fn write(file: File, records: &Records, winners: &[usize]) -> io::Result<()> {
    let sync = file.try_clone()?;
    let mut make = cdb2::CDBMake::new(file)?;
    for record in winners.iter().filter_map(|&i| records.get(i)) {
        make.add(record.key, record.value)?;
    }
    make.finish()?;
    sync.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(dir: &Path, entries: &[(&str, &str)]) -> std::path::PathBuf {
        let path = dir.join("t.cdb");
        let mut records = Records::new();
        for (k, v) in entries {
            records.push(k.as_bytes(), v.as_bytes(), 0);
        }
        let winners: Vec<usize> = (0..records.len()).collect();
        let file = File::create(&path).expect("create");
        write(file, &records, &winners).expect("write");
        path
    }

    #[test]
    fn round_trip_in_file_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = build(dir.path(), &[("b", "2"), ("a", "1"), ("", "empty key")]);
        let r = Reader::open(&path, true).expect("open");
        assert_eq!(r.get(b"a"), Ok(Some(b"1".to_vec())));
        assert_eq!(r.get(b""), Ok(Some(b"empty key".to_vec())));
        assert_eq!(r.get(b"c"), Ok(None));
        let mut all = Vec::new();
        r.for_each(&mut |k, v| all.push((k.to_vec(), v.to_vec())))
            .expect("iterate");
        assert_eq!(all[0], (b"b".to_vec(), b"2".to_vec()));
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn empty_table_is_valid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = build(dir.path(), &[]);
        let r = Reader::open(&path, false).expect("open");
        assert_eq!(r.get(b"x"), Ok(None));
    }

    #[test]
    fn garbage_and_truncation_are_open_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let entries: Vec<(String, String)> = (0..300)
            .map(|i| (format!("key{i}"), format!("value{i}")))
            .collect();
        let refs: Vec<(&str, &str)> = entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let path = build(dir.path(), &refs);
        let good = std::fs::read(&path).expect("read");
        let bad = dir.path().join("bad.cdb");
        for cut in [
            0,
            1,
            100,
            HEADER - 1,
            HEADER,
            HEADER + 9,
            good.len() / 2,
            good.len() - 1,
        ] {
            std::fs::write(&bad, &good[..cut]).expect("write");
            assert_eq!(
                Reader::open(&bad, false).map(|_| ()),
                Err("Invalid argument".to_string()),
                "cut at {cut}"
            );
        }
        std::fs::write(&bad, vec![0xa5u8; 5000]).expect("write");
        assert_eq!(
            Reader::open(&bad, true).map(|_| ()),
            Err("Protocol error".to_string())
        );
        assert_eq!(
            Reader::open(&dir.path().join("missing"), true).map(|_| ()),
            Err("No such file or directory".to_string())
        );
    }

    #[test]
    fn corrupt_records_give_errors_not_panics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let entries: Vec<(String, String)> = (0..200)
            .map(|i| (format!("k{i}"), format!("v{i}")))
            .collect();
        let refs: Vec<(&str, &str)> = entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let path = build(dir.path(), &refs);
        let good = std::fs::read(&path).expect("read");
        let mut seed = 0x1234_5678_9abc_def1_u64;
        // Scribble over records and hash slots; the header stays sane, so
        // the file opens and every lookup must answer or fail cleanly.
        for round in 0..50 {
            let mut bytes = good.clone();
            for _ in 0..(1 + round) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = HEADER + (seed as usize) % (bytes.len() - HEADER);
                bytes[at] = (seed >> 32) as u8;
            }
            let bad = dir.path().join("scribbled.cdb");
            std::fs::write(&bad, &bytes).expect("write");
            if let Ok(r) = Reader::open(&bad, true) {
                for (k, _) in &entries {
                    let _ = r.get(k.as_bytes());
                }
                let _ = r.for_each(&mut |_, _| {});
            }
        }
    }
}
