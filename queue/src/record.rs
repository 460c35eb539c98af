//! The record codec of queue files: a type byte, the payload length as a
//! 32-bit big-endian number, then the payload. It knows record types and
//! lengths only; which record may follow which is [`crate::reader`]'s
//! business, and `docs/queue-format.md` is the specification.
//!
//! Reading is bounded: a length over [`MAX_PAYLOAD`] or an unknown type
//! byte is reported before any payload is read or allocated.

use std::fmt;
use std::io::{self, Read, Write};
use std::ops::RangeInclusive;

pub use crate::checksum::Checksum;
use crate::error::Corruption;

/// Bytes before each payload: the type and the length.
pub const HEADER_LEN: u64 = 5;
/// The largest payload a record may carry. The writer splits longer
/// content lines into partial-line records.
pub const MAX_PAYLOAD: usize = 1 << 20;
/// The format version this crate writes.
pub const VERSION: u16 = 2;
/// The format versions this crate reads: the current one and the one
/// before it, whose checksum differs (see [`Checksum`]).
pub const READ_VERSIONS: RangeInclusive<u16> = 1..=VERSION;
/// The payload of the version record: a signature, then the version.
pub const MAGIC: &[u8; 4] = b"MTAQ";
/// Offset of the size record's payload, patched in place at commit:
/// after the version record (5 + 6 bytes) and the size record header.
pub const SIZE_PAYLOAD_OFFSET: u64 = HEADER_LEN + 6 + HEADER_LEN;
/// Length of the size record payload: three 64-bit numbers.
pub const SIZE_LEN: usize = 24;
/// Length of the arrival time payload: seconds (64 bits), microseconds
/// (32 bits).
pub const TIME_LEN: usize = 12;
/// Length of the end record payload: the checksum.
pub const END_LEN: usize = 8;

/// Every record type, named for what it holds. The type byte is an ASCII
/// letter so that a hex dump is readable; where Postfix has a record of
/// the same meaning, the letter is Postfix's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// `V`: signature and format version; always the first record.
    Version,
    /// `C`: content size, content offset, recipient count (fixed width,
    /// patched at commit); always the second record.
    Size,
    /// `T`: arrival time; always the third record.
    Time,
    /// `A`: a named attribute, `name=value`.
    Attribute,
    /// `S`: the envelope sender (empty for the null sender).
    Sender,
    /// `R`: a recipient still to be delivered.
    Recipient,
    /// `D`: a recipient that is done; an `R` flipped in place.
    DoneRecipient,
    /// `M`: the content starts after this record.
    ContentStart,
    /// `N`: a content line, complete (its terminator is not stored).
    Line,
    /// `L`: part of a content line that continues in the next record.
    PartialLine,
    /// `B`: end of the header; an empty line is implied here.
    HeaderEnd,
    /// `X`: the content ends; the extracted section follows.
    ExtractedStart,
    /// `H`: the message is to be put on hold, with the reason.
    Hold,
    /// `F`: content filter, `transport:nexthop`.
    Filter,
    /// `>`: deliver to this address instead of the recipients.
    Redirect,
    /// `E`: end of file; a file without it is incomplete.
    End,
}

impl RecordType {
    pub const ALL: [RecordType; 16] = [
        RecordType::Version,
        RecordType::Size,
        RecordType::Time,
        RecordType::Attribute,
        RecordType::Sender,
        RecordType::Recipient,
        RecordType::DoneRecipient,
        RecordType::ContentStart,
        RecordType::Line,
        RecordType::PartialLine,
        RecordType::HeaderEnd,
        RecordType::ExtractedStart,
        RecordType::Hold,
        RecordType::Filter,
        RecordType::Redirect,
        RecordType::End,
    ];

    pub const fn byte(self) -> u8 {
        match self {
            RecordType::Version => b'V',
            RecordType::Size => b'C',
            RecordType::Time => b'T',
            RecordType::Attribute => b'A',
            RecordType::Sender => b'S',
            RecordType::Recipient => b'R',
            RecordType::DoneRecipient => b'D',
            RecordType::ContentStart => b'M',
            RecordType::Line => b'N',
            RecordType::PartialLine => b'L',
            RecordType::HeaderEnd => b'B',
            RecordType::ExtractedStart => b'X',
            RecordType::Hold => b'H',
            RecordType::Filter => b'F',
            RecordType::Redirect => b'>',
            RecordType::End => b'E',
        }
    }

    pub fn from_byte(b: u8) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.byte() == b)
    }

    /// The name postcat prints, Postfix's `rec_type_name()` where Postfix
    /// has the record.
    pub const fn name(self) -> &'static str {
        match self {
            RecordType::Version => "queue_file_version",
            RecordType::Size => "message_size",
            RecordType::Time => "message_arrival_time",
            RecordType::Attribute => "named_attribute",
            RecordType::Sender => "sender",
            RecordType::Recipient => "recipient",
            RecordType::DoneRecipient => "done_recipient",
            RecordType::ContentStart => "message_content",
            RecordType::Line => "regular_text",
            RecordType::PartialLine => "unterminated_text",
            RecordType::HeaderEnd => "header_end",
            RecordType::ExtractedStart => "extracted_info",
            RecordType::Hold => "hold_reason",
            RecordType::Filter => "content_filter",
            RecordType::Redirect => "redirect_to",
            RecordType::End => "message_end",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The 5 header bytes of a record with `len` payload bytes.
pub fn header(kind: RecordType, len: usize) -> io::Result<[u8; 5]> {
    if len > MAX_PAYLOAD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "record payload too long",
        ));
    }
    // len <= MAX_PAYLOAD, which fits in 32 bits.
    let n = (len as u32).to_be_bytes();
    Ok([kind.byte(), n[0], n[1], n[2], n[3]])
}

/// Write one record.
pub fn write<W: Write>(w: &mut W, kind: RecordType, payload: &[u8]) -> io::Result<()> {
    w.write_all(&header(kind, payload.len())?)?;
    w.write_all(payload)
}

/// The payload of the version record.
pub fn version_payload() -> [u8; 6] {
    let v = VERSION.to_be_bytes();
    [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], v[0], v[1]]
}

/// The version in a version record's payload; `None` unless it is
/// [`MAGIC`] and a u16.
fn decode_version(payload: &[u8]) -> Option<u16> {
    let (magic, version) = payload.split_first_chunk::<4>()?;
    let version = <[u8; 2]>::try_from(version).ok()?;
    (magic == MAGIC).then_some(u16::from_be_bytes(version))
}

/// The numbers of the size record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    /// The message length: content bytes plus one per line end (the
    /// implied empty line at the header end included).
    pub content_size: u64,
    /// File offset of the first record after the content start record.
    pub content_offset: u64,
    /// Number of recipient records, done or not.
    pub recipient_count: u64,
}

impl Size {
    pub fn encode(&self) -> [u8; SIZE_LEN] {
        let mut out = [0u8; SIZE_LEN];
        out[..8].copy_from_slice(&self.content_size.to_be_bytes());
        out[8..16].copy_from_slice(&self.content_offset.to_be_bytes());
        out[16..].copy_from_slice(&self.recipient_count.to_be_bytes());
        out
    }

    pub fn decode(payload: &[u8]) -> Option<Size> {
        let b: &[u8; SIZE_LEN] = payload.try_into().ok()?;
        let n = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(w)
        };
        Some(Size {
            content_size: n(0),
            content_offset: n(8),
            recipient_count: n(16),
        })
    }
}

/// The arrival time record: seconds and microseconds since the epoch.
pub fn encode_time(secs: u64, usecs: u32) -> [u8; TIME_LEN] {
    let mut out = [0u8; TIME_LEN];
    out[..8].copy_from_slice(&secs.to_be_bytes());
    out[8..].copy_from_slice(&usecs.to_be_bytes());
    out
}

/// `(secs, usecs)` from an arrival time payload; `None` unless it has the
/// right length and fewer than a million microseconds.
pub fn decode_time(payload: &[u8]) -> Option<(u64, u32)> {
    let b: &[u8; TIME_LEN] = payload.try_into().ok()?;
    let mut s = [0u8; 8];
    s.copy_from_slice(&b[..8]);
    let mut u = [0u8; 4];
    u.copy_from_slice(&b[8..]);
    let usecs = u32::from_be_bytes(u);
    (usecs < 1_000_000).then_some((u64::from_be_bytes(s), usecs))
}

/// One record as read: where it starts, its type, its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub offset: u64,
    pub kind: RecordType,
    pub payload: &'a [u8],
    /// For an end record, the [`Checksum`] of the records before it (to
    /// compare with its payload); `None` for every other record, since
    /// computing a digest per record would cost time for nothing.
    pub checksum_before: Option<u64>,
}

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Corrupt(#[from] Corruption),
}

/// Reads records one at a time from a byte stream (give it a buffered
/// reader), reusing one payload buffer. The version record at offset 0
/// picks the [`Checksum`] (the current one if that record is missing or
/// not a version record).
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    offset: u64,
    buf: Vec<u8>,
    checksum: Checksum,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Reader<R> {
        Reader::starting_at(inner, 0)
    }

    /// A reader whose stream starts at file offset `offset`.
    pub fn starting_at(inner: R, offset: u64) -> Reader<R> {
        Reader {
            inner,
            offset,
            buf: Vec::new(),
            checksum: Checksum::for_version(VERSION),
        }
    }

    /// The file offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record, or `None` at the end of the stream exactly
    /// between records.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, ReadError> {
        let offset = self.offset;
        let mut head = [0u8; 5];
        let got = read_full(&mut self.inner, &mut head)?;
        if got == 0 {
            return Ok(None);
        }
        if got < head.len() {
            return Err(Corruption::Truncated { offset }.into());
        }
        let kind = RecordType::from_byte(head[0]).ok_or(Corruption::UnknownType {
            offset,
            byte: head[0],
        })?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= MAX_PAYLOAD)
            .ok_or(Corruption::TooLong { offset, kind, len })?;
        self.buf.resize(len, 0);
        if read_full(&mut self.inner, &mut self.buf)? < len {
            return Err(Corruption::Truncated { offset }.into());
        }
        // len <= MAX_PAYLOAD: no overflow in a file offset.
        self.offset += HEADER_LEN + len as u64;
        if offset == 0 {
            let version = match kind {
                RecordType::Version => decode_version(&self.buf),
                _ => None,
            };
            self.checksum = Checksum::for_version(version.unwrap_or(VERSION));
        }
        let checksum_before = (kind == RecordType::End).then(|| self.checksum.value());
        self.checksum.add(kind, &self.buf);
        Ok(Some(Record {
            offset,
            kind,
            payload: &self.buf,
            checksum_before,
        }))
    }

    /// Whether the stream has no more bytes (consumes one if it has).
    pub fn is_at_end(&mut self) -> io::Result<bool> {
        Ok(read_full(&mut self.inner, &mut [0u8; 1])? == 0)
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// Fill `buf` as far as the stream allows; the number of bytes read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bytes_are_distinct_and_round_trip() {
        for t in RecordType::ALL {
            assert_eq!(RecordType::from_byte(t.byte()), Some(t));
        }
        let mut bytes: Vec<u8> = RecordType::ALL.iter().map(|t| t.byte()).collect();
        bytes.sort_unstable();
        bytes.dedup();
        assert_eq!(bytes.len(), RecordType::ALL.len());
        assert_eq!(RecordType::from_byte(b'Z'), None);
    }

    #[test]
    fn reads_what_it_writes() {
        let mut file = Vec::new();
        write(&mut file, RecordType::Version, &version_payload()).expect("write");
        write(&mut file, RecordType::Line, b"hello").expect("write");
        write(&mut file, RecordType::End, b"").expect("write");
        assert_eq!(&file[..11], b"V\0\0\0\x06MTAQ\0\x02");
        let mut r = Reader::new(&file[..]);
        let v = r.next_record().expect("ok").expect("record");
        assert_eq!((v.offset, v.kind), (0, RecordType::Version));
        let n = r.next_record().expect("ok").expect("record");
        assert_eq!(
            (n.offset, n.kind, n.payload),
            (11, RecordType::Line, &b"hello"[..])
        );
        let e = r.next_record().expect("ok").expect("record");
        assert_eq!(
            (e.offset, e.kind, e.payload.len()),
            (21, RecordType::End, 0)
        );
        assert!(r.next_record().expect("ok").is_none());
    }

    #[test]
    fn bad_headers_are_corruption() {
        let corrupt = |bytes: &[u8]| match Reader::new(bytes).next_record() {
            Err(ReadError::Corrupt(c)) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(corrupt(b"N\0\0"), Corruption::Truncated { offset: 0 });
        assert_eq!(
            corrupt(b"N\0\0\0\x05abc"),
            Corruption::Truncated { offset: 0 }
        );
        assert_eq!(
            corrupt(b"?\0\0\0\0"),
            Corruption::UnknownType {
                offset: 0,
                byte: b'?'
            }
        );
        assert_eq!(
            corrupt(b"N\xff\xff\xff\xff"),
            Corruption::TooLong {
                offset: 0,
                kind: RecordType::Line,
                len: u32::MAX
            }
        );
        assert!(header(RecordType::Line, MAX_PAYLOAD + 1).is_err());
    }

    /// `V` with `version`, `N hello`, then `E` with `sum` over those.
    fn tiny_file(version: &[u8], mut sum: Checksum) -> Vec<u8> {
        let mut file = Vec::new();
        let records: [(RecordType, &[u8]); 2] =
            [(RecordType::Version, version), (RecordType::Line, b"hello")];
        for (kind, payload) in records {
            write(&mut file, kind, payload).expect("write");
            sum.add(kind, payload);
        }
        write(&mut file, RecordType::End, &sum.value().to_be_bytes()).expect("write");
        file
    }

    #[test]
    fn the_version_record_picks_the_checksum() {
        // An unknown version, or no valid version record: the current
        // checksum (the scanner refuses such files).
        let files = [
            tiny_file(b"MTAQ\0\x01", Checksum::for_version(1)),
            tiny_file(b"MTAQ\0\x02", Checksum::for_version(2)),
            tiny_file(b"MTAQ\0\x03", Checksum::for_version(VERSION)),
            tiny_file(b"XTAQ\0\x01", Checksum::for_version(VERSION)),
        ];
        for file in files {
            let mut r = Reader::new(&file[..]);
            let mut sums = Vec::new();
            while let Some(rec) = r.next_record().expect("ok") {
                sums.push(rec.checksum_before);
            }
            let end = file[file.len() - END_LEN..].try_into().expect("8 bytes");
            assert_eq!(sums, [None, None, Some(u64::from_be_bytes(end))]);
        }
    }

    #[test]
    fn fixed_payloads_round_trip() {
        let size = Size {
            content_size: 1,
            content_offset: 2,
            recipient_count: u64::MAX,
        };
        assert_eq!(Size::decode(&size.encode()), Some(size));
        assert_eq!(Size::decode(&[0; 23]), None);
        assert_eq!(decode_time(&encode_time(7, 999_999)), Some((7, 999_999)));
        assert_eq!(decode_time(&encode_time(7, 1_000_000)), None);
        assert_eq!(decode_time(&[0; 11]), None);
    }
}
