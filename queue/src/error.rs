//! The crate's error type, and [`Corruption`]: every way a queue file can
//! be damaged, found by [`crate::reader`] and [`crate::record`].

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use crate::id::QueueId;
use crate::record::RecordType;

/// An error of the queue library. Each variant names the file, directory
/// or queue ID it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call on a queue file or directory failed; `op` is the
    /// operation (`create`, `write`, `fsync`, `rename`, ...).
    #[error("{op} {}: {}", path.display(), conf::io_reason(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The directory fsync shared by a batch of commits failed; every
    /// writer of the batch gets this error.
    #[error("fsync directory {}: {}", dir.display(), conf::io_reason(source))]
    DirSync {
        dir: PathBuf,
        #[source]
        source: Arc<io::Error>,
    },
    /// A queue file is damaged or incomplete.
    #[error("{}: {source}", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: Corruption,
    },
    /// A writer was used out of order (a bug in the caller).
    #[error("{id}: {detail}")]
    Sequence { id: QueueId, detail: &'static str },
    /// A value that cannot be stored: a control character, not UTF-8
    /// where UTF-8 is required, too long, or a bad attribute name.
    #[error("{id}: bad {what}: {detail}")]
    Value {
        id: QueueId,
        what: &'static str,
        detail: &'static str,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The damage, if this error is about a damaged queue file.
    pub fn corruption(&self) -> Option<&Corruption> {
        match self {
            Error::Corrupt { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// How a queue file is damaged. Offsets are file offsets of the record
/// at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    /// The file does not start with a version record and the signature.
    #[error("not a queue file")]
    NotQueueFile,
    #[error("unsupported queue file version {0}")]
    Version(u16),
    /// The file ends inside a record.
    #[error("offset {offset}: unexpected end of file inside a record")]
    Truncated { offset: u64 },
    #[error("offset {offset}: unknown record type {byte}")]
    UnknownType { offset: u64, byte: u8 },
    #[error("offset {offset}: {kind} record length {len} exceeds the limit")]
    TooLong {
        offset: u64,
        kind: RecordType,
        len: u32,
    },
    /// A record where that type may not be (envelope records out of
    /// order, content after the extracted section, a second sender ...).
    #[error("offset {offset}: {kind} record out of order")]
    OutOfOrder { offset: u64, kind: RecordType },
    #[error("offset {offset}: malformed {kind} record: {what}")]
    Malformed {
        offset: u64,
        kind: RecordType,
        what: &'static str,
    },
    /// The file ends before a required record (no end record: the file
    /// was never committed, or it was cut short).
    #[error("no {0} record")]
    Missing(RecordType),
    /// The size record disagrees with the file.
    #[error("size record says {field} {recorded}, file has {actual}")]
    SizeMismatch {
        field: &'static str,
        recorded: u64,
        actual: u64,
    },
    #[error("offset {offset}: data after the end record")]
    TrailingData { offset: u64 },
    /// The end record's checksum does not match the records before it.
    #[error("checksum mismatch")]
    Checksum,
}
