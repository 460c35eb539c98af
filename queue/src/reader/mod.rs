//! Reading queue files as untrusted input: [`QueueFile::read`] validates a
//! whole file (every length, the record order, UTF-8 in the envelope,
//! the size record, the end record) before returning anything, and
//! never panics. A damaged file gives [`Error::Corrupt`]; [`quarantine`]
//! moves it to `corrupt/` with Postfix's log lines.

mod content;
mod quarantine;
mod scan;

pub use content::{Content, ContentRecord, ContentRef};
pub use quarantine::{Quarantined, quarantine};

use std::fs::{File, OpenOptions};
use std::io::BufReader;
use std::ops::Range;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::envelope::{Envelope, Recipient};
use crate::error::{Corruption, Error};
use crate::id::QueueId;
use crate::record::ReadError;

use content::{ReadAt, Source};

/// A recipient as queued, with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecipient {
    pub recipient: Recipient,
    /// Delivered, bounced or otherwise finished: never to be tried again.
    pub done: bool,
    /// File offset of its record: where [`crate::writer::mark_done`]
    /// flips the type byte.
    pub offset: u64,
    /// Added after the content (a BCC action), not by the client.
    pub extracted: bool,
}

/// The extracted section: decisions taken while the content was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// HOLD: the reason.
    pub hold: Option<String>,
    /// FILTER: `transport:nexthop`.
    pub filter: Option<String>,
    /// REDIRECT: the one address to deliver to.
    pub redirect: Option<String>,
}

#[derive(Debug)]
enum Backing {
    File(File),
    Memory(Vec<u8>),
}

/// A validated queue file.
#[derive(Debug)]
pub struct QueueFile {
    pub version: u16,
    pub envelope: Envelope,
    /// Envelope recipients, then extracted ones, in file order.
    pub recipients: Vec<QueuedRecipient>,
    pub extracted: Extracted,
    content: Range<u64>,
    path: PathBuf,
    backing: Backing,
}

/// Read buffer for the validating pass.
const BUFFER: usize = 64 * 1024;

impl QueueFile {
    /// Open and validate the file at `path` (not following a symlink).
    pub fn read(path: impl AsRef<Path>) -> Result<QueueFile, Error> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        QueueFile::from_file(file, path)
    }

    /// Validate an open file, from offset 0 whatever its file offset;
    /// `path` names it in errors.
    pub fn from_file(file: File, path: impl Into<PathBuf>) -> Result<QueueFile, Error> {
        let path = path.into();
        let input = BufReader::with_capacity(
            BUFFER,
            ReadAt {
                file: &file,
                pos: 0,
                end: u64::MAX,
            },
        );
        let scanned = match scan::scan(input) {
            Ok(s) => s,
            Err(ReadError::Io(e)) => return Err(Error::io("read", path, e)),
            Err(ReadError::Corrupt(source)) => return Err(Error::Corrupt { path, source }),
        };
        Ok(QueueFile::from_scan(scanned, path, Backing::File(file)))
    }

    /// Validate a queue file held in memory.
    pub fn parse(bytes: Vec<u8>) -> Result<QueueFile, Corruption> {
        let scanned = match scan::scan(&bytes[..]) {
            Ok(s) => s,
            Err(ReadError::Corrupt(c)) => return Err(c),
            // Reading a slice fails only by ending, which the scanner
            // reports as corruption itself.
            Err(ReadError::Io(_)) => return Err(Corruption::Missing(crate::RecordType::End)),
        };
        Ok(QueueFile::from_scan(
            scanned,
            PathBuf::from("-"),
            Backing::Memory(bytes),
        ))
    }

    fn from_scan(s: scan::Scanned, path: PathBuf, backing: Backing) -> QueueFile {
        QueueFile {
            version: s.version,
            envelope: s.envelope,
            recipients: s.recipients,
            extracted: s.extracted,
            content: s.content,
            path,
            backing,
        }
    }

    /// The path it was read from (`-` when parsed from memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The queue ID of its file name, if that is one.
    pub fn id(&self) -> Option<QueueId> {
        self.path.file_name()?.to_str()?.parse().ok()
    }

    /// File offsets of the content records: from the first one to the
    /// extracted start record.
    pub fn content_range(&self) -> Range<u64> {
        self.content.clone()
    }

    /// The open file it was read from (`None` when parsed from memory),
    /// e.g. for [`crate::writer::mark_done`] when opened for writing.
    pub fn file(&self) -> Option<&File> {
        match &self.backing {
            Backing::File(file) => Some(file),
            Backing::Memory(_) => None,
        }
    }

    /// The recipients not done yet.
    pub fn pending(&self) -> impl Iterator<Item = &QueuedRecipient> {
        self.recipients.iter().filter(|r| !r.done)
    }

    /// The content records, read from the file as they are consumed.
    pub fn content(&self) -> Content<'_> {
        let source = match &self.backing {
            Backing::File(file) => Source::File(BufReader::with_capacity(
                BUFFER,
                ReadAt {
                    file,
                    pos: self.content.start,
                    end: self.content.end,
                },
            )),
            Backing::Memory(bytes) => {
                let start = usize::try_from(self.content.start).unwrap_or(bytes.len());
                Source::Memory(bytes.get(start..).unwrap_or_default())
            }
        };
        Content::new(source, self.content.start, self.content.end, &self.path)
    }
}
