//! The done flip: a recipient is marked done by overwriting the type
//! byte of its record, `R`, with `D` (docs/queue-format.md, "The done
//! flip"). qmgr does this after each final delivery status.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::{Corruption, Error};
use crate::record::RecordType;

/// Mark the recipient whose record starts at `offset` as done: the type
/// byte `R` becomes `D` by a one-byte write, then the file is
/// fdatasync'ed. A crash leaves either byte, never a torn record; a
/// recipient already done stays done. `file` must be open for writing.
pub fn mark_done(file: &File, path: &Path, offset: u64) -> Result<(), Error> {
    let mut b = [0u8];
    file.read_exact_at(&mut b, offset)
        .map_err(|e| Error::io("read", path, e))?;
    if b[0] == RecordType::DoneRecipient.byte() {
        return Ok(());
    }
    if b[0] != RecordType::Recipient.byte() {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            source: Corruption::Malformed {
                offset,
                kind: RecordType::Recipient,
                what: "no recipient record at this offset",
            },
        });
    }
    file.write_all_at(&[RecordType::DoneRecipient.byte()], offset)
        .map_err(|e| Error::io("write", path, e))?;
    file.sync_data().map_err(|e| Error::io("fsync", path, e))
}

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::time::SystemTime;

    use super::*;
    use crate::dir::{QueueDirs, QueueName};
    use crate::envelope::Recipient;
    use crate::writer::{Committer, Writer};

    #[test]
    fn mark_done_flips_one_byte() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = QueueDirs::new(tmp.path());
        dirs.create_all().expect("dirs");
        let c = Committer::new();
        let mut w = Writer::create(&dirs, &c, SystemTime::now()).expect("create");
        w.sender("").expect("sender");
        let rcpt_offset = w.offset;
        w.recipient(&Recipient::new("a@b")).expect("rcpt");
        let done = w.finish().expect("finish");
        let path = dirs.path(QueueName::Incoming, &done.id);
        let before = fs::read(&path).expect("read");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open");
        mark_done(&file, &path, rcpt_offset).expect("mark");
        mark_done(&file, &path, rcpt_offset).expect("idempotent");
        let after = fs::read(&path).expect("read");
        let diff: Vec<usize> = (0..before.len())
            .filter(|&i| before[i] != after[i])
            .collect();
        assert_eq!(diff, [rcpt_offset as usize]);
        assert_eq!(after[rcpt_offset as usize], b'D');
        assert!(mark_done(&file, &path, 0).is_err());
    }
}
