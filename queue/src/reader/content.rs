//! Reading the content of a validated queue file, record by record, with
//! positional reads (the file offset of a shared handle is never used).
//! The records are checked again as they are read: the file may have
//! changed since it was validated.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::{Corruption, Error};
use crate::record::{self, ReadError, RecordType};

/// One content record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentRecord {
    /// Line bytes without a terminator; `complete == false` when the
    /// line continues in the next record (or is the unterminated last
    /// line).
    Line { bytes: Vec<u8>, complete: bool },
    /// The header ends; an empty line is implied here.
    HeaderEnd,
}

/// A borrowed [`ContentRecord`], from [`Content::next_ref`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRef<'a> {
    Line { bytes: &'a [u8], complete: bool },
    HeaderEnd,
}

/// Reads `file` from `pos` up to `end` with `read_at`.
#[derive(Debug)]
pub(super) struct ReadAt<'a> {
    pub(super) file: &'a File,
    pub(super) pos: u64,
    pub(super) end: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[derive(Debug)]
pub(super) enum Source<'a> {
    File(BufReader<ReadAt<'a>>),
    Memory(&'a [u8]),
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::File(r) => r.read(buf),
            Source::Memory(r) => r.read(buf),
        }
    }
}

/// The content records of a queue file, in order.
#[derive(Debug)]
pub struct Content<'a> {
    reader: record::Reader<Source<'a>>,
    end: u64,
    path: &'a Path,
    failed: bool,
}

impl<'a> Content<'a> {
    pub(super) fn new(source: Source<'a>, start: u64, end: u64, path: &'a Path) -> Content<'a> {
        Content {
            reader: record::Reader::starting_at(source, start),
            end,
            path,
            failed: false,
        }
    }

    /// The next record, borrowed; `None` at the end of the content.
    pub fn next_ref(&mut self) -> Result<Option<ContentRef<'_>>, Error> {
        let start = self.reader.offset();
        if self.failed || start >= self.end {
            return Ok(None);
        }
        let path = self.path;
        // Errors set only `failed`: the payload borrows `reader`.
        let failed = &mut self.failed;
        let corrupt = |failed: &mut bool, source| {
            *failed = true;
            Error::Corrupt {
                path: path.to_path_buf(),
                source,
            }
        };
        let rec = match self.reader.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => return Err(corrupt(failed, Corruption::Truncated { offset: start })),
            Err(ReadError::Io(e)) => {
                *failed = true;
                return Err(Error::io("read", path, e));
            }
            Err(ReadError::Corrupt(c)) => return Err(corrupt(failed, c)),
        };
        if rec.offset + record::HEADER_LEN + rec.payload.len() as u64 > self.end {
            let source = Corruption::Malformed {
                offset: rec.offset,
                kind: rec.kind,
                what: "record crosses the end of the content",
            };
            return Err(corrupt(failed, source));
        }
        match rec.kind {
            RecordType::Line | RecordType::PartialLine => Ok(Some(ContentRef::Line {
                bytes: rec.payload,
                complete: rec.kind == RecordType::Line,
            })),
            RecordType::HeaderEnd if rec.payload.is_empty() => Ok(Some(ContentRef::HeaderEnd)),
            kind => Err(corrupt(
                failed,
                Corruption::OutOfOrder {
                    offset: rec.offset,
                    kind,
                },
            )),
        }
    }

    /// Write the message as text, each line ended by `eol` (`b"\r\n"` for
    /// SMTP, `b"\n"` for a mailbox); the header end is an empty line.
    pub fn write_to<W: io::Write>(mut self, out: &mut W, eol: &[u8]) -> Result<(), Error> {
        let path = self.path;
        let werr = |e| Error::io("write message of", path, e);
        while let Some(rec) = self.next_ref()? {
            match rec {
                ContentRef::Line { bytes, complete } => {
                    out.write_all(bytes).map_err(werr)?;
                    if complete {
                        out.write_all(eol).map_err(werr)?;
                    }
                }
                ContentRef::HeaderEnd => out.write_all(eol).map_err(werr)?,
            }
        }
        Ok(())
    }
}

impl Iterator for Content<'_> {
    type Item = Result<ContentRecord, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let rec = match self.next_ref() {
            Ok(rec) => rec?,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(match rec {
            ContentRef::Line { bytes, complete } => ContentRecord::Line {
                bytes: bytes.to_vec(),
                complete,
            },
            ContentRef::HeaderEnd => ContentRecord::HeaderEnd,
        }))
    }
}
