//! The validating pass over a whole queue file: record order, payload
//! syntax, and the size record checked against what the file holds.
//! Content records are checked and counted, not kept.

use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;
use std::time::{Duration, UNIX_EPOCH};

use crate::envelope::{self, Attribute, Envelope, Recipient};
use crate::error::Corruption;
use crate::record::{self, ReadError, Record, RecordType, Size};

use super::{Extracted, QueuedRecipient};

/// What the scan keeps.
#[derive(Debug)]
pub(super) struct Scanned {
    pub(super) version: u16,
    pub(super) envelope: Envelope,
    pub(super) recipients: Vec<QueuedRecipient>,
    pub(super) extracted: Extracted,
    /// From the first content record to the extracted start record.
    pub(super) content: Range<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Version,
    Size,
    Time,
    Envelope,
    Content,
    Extracted,
}

/// The state of the scan between records.
#[derive(Debug)]
struct Scan {
    stage: Stage,
    version: u16,
    size: Size,
    arrival: (u64, u32),
    sender: Option<String>,
    attributes: Vec<Attribute>,
    names: HashSet<String>,
    recipients: Vec<QueuedRecipient>,
    extracted: Extracted,
    content: Range<u64>,
    content_size: u64,
    prev_partial: bool,
    header_ended: bool,
}

pub(super) fn scan<R: Read>(input: R) -> Result<Scanned, ReadError> {
    let mut reader = record::Reader::new(input);
    let mut scan = Scan {
        stage: Stage::Version,
        version: 0,
        size: Size::default(),
        arrival: (0, 0),
        sender: None,
        attributes: Vec::new(),
        names: HashSet::new(),
        recipients: Vec::new(),
        extracted: Extracted::default(),
        content: 0..0,
        content_size: 0,
        prev_partial: false,
        header_ended: false,
    };
    loop {
        let Some(rec) = reader.next_record()? else {
            let missing = match scan.stage {
                Stage::Version => RecordType::Version,
                _ => RecordType::End,
            };
            return Err(Corruption::Missing(missing).into());
        };
        if rec.kind == RecordType::End && scan.stage == Stage::Extracted {
            let sum = <[u8; record::END_LEN]>::try_from(rec.payload)
                .map_err(|_| malformed(&rec, "wrong length"))?;
            if Some(u64::from_be_bytes(sum)) != rec.checksum_before {
                return Err(Corruption::Checksum.into());
            }
            let end = reader.offset();
            if !reader.is_at_end()? {
                return Err(Corruption::TrailingData { offset: end }.into());
            }
            return Ok(scan.finish()?);
        }
        let kind = rec.kind;
        scan.record(&rec)?;
        if kind == RecordType::ContentStart {
            scan.content = reader.offset()..reader.offset();
        }
    }
}

fn malformed(rec: &Record<'_>, what: &'static str) -> Corruption {
    Corruption::Malformed {
        offset: rec.offset,
        kind: rec.kind,
        what,
    }
}

fn empty(rec: &Record<'_>) -> Result<(), Corruption> {
    match rec.payload.is_empty() {
        true => Ok(()),
        false => Err(malformed(rec, "payload not empty")),
    }
}

/// An envelope string: UTF-8 without control characters.
fn text(rec: &Record<'_>) -> Result<String, Corruption> {
    let s = std::str::from_utf8(rec.payload).map_err(|_| malformed(rec, "not UTF-8"))?;
    envelope::check_text(s).map_err(|what| malformed(rec, what))?;
    Ok(s.to_string())
}

impl Scan {
    /// Take one record (not the final end record).
    fn record(&mut self, rec: &Record<'_>) -> Result<(), Corruption> {
        use RecordType as T;
        match (self.stage, rec.kind) {
            (Stage::Version, T::Version) => self.version(rec)?,
            (Stage::Version, _) => return Err(Corruption::NotQueueFile),
            (Stage::Size, T::Size) => {
                self.size = Size::decode(rec.payload).ok_or(malformed(rec, "wrong length"))?;
                self.stage = Stage::Time;
            }
            (Stage::Time, T::Time) => {
                self.arrival = record::decode_time(rec.payload)
                    .ok_or(malformed(rec, "wrong length or microseconds"))?;
                self.stage = Stage::Envelope;
            }
            (Stage::Envelope, T::Attribute) => {
                let a = envelope::decode_attribute(rec.payload).map_err(|w| malformed(rec, w))?;
                if !self.names.insert(a.name.clone()) {
                    return Err(malformed(rec, "duplicate attribute"));
                }
                self.attributes.push(a);
            }
            (Stage::Envelope, T::Sender) if self.sender.is_none() => {
                self.sender = Some(text(rec)?);
            }
            (Stage::Envelope | Stage::Extracted, T::Recipient | T::DoneRecipient) => {
                let recipient = Recipient::decode(rec.payload).map_err(|w| malformed(rec, w))?;
                self.recipients.push(QueuedRecipient {
                    recipient,
                    done: rec.kind == T::DoneRecipient,
                    offset: rec.offset,
                    extracted: self.stage == Stage::Extracted,
                });
            }
            (Stage::Envelope, T::ContentStart) => {
                empty(rec)?;
                if self.sender.is_none() {
                    return Err(Corruption::Missing(T::Sender));
                }
                self.stage = Stage::Content;
            }
            (Stage::Content, T::Line | T::PartialLine | T::HeaderEnd | T::ExtractedStart) => {
                self.content(rec)?;
            }
            (Stage::Extracted, T::Hold | T::Filter | T::Redirect) => self.extracted(rec)?,
            _ => {
                return Err(Corruption::OutOfOrder {
                    offset: rec.offset,
                    kind: rec.kind,
                });
            }
        }
        Ok(())
    }

    fn version(&mut self, rec: &Record<'_>) -> Result<(), Corruption> {
        let Some((magic, version)) = rec.payload.split_first_chunk::<4>() else {
            return Err(Corruption::NotQueueFile);
        };
        if magic != record::MAGIC {
            return Err(Corruption::NotQueueFile);
        }
        let version = <[u8; 2]>::try_from(version)
            .map(u16::from_be_bytes)
            .map_err(|_| malformed(rec, "wrong length"))?;
        if !record::READ_VERSIONS.contains(&version) {
            return Err(Corruption::Version(version));
        }
        self.version = version;
        self.stage = Stage::Size;
        Ok(())
    }

    fn content(&mut self, rec: &Record<'_>) -> Result<(), Corruption> {
        let len = rec.payload.len() as u64;
        match rec.kind {
            RecordType::Line => {
                self.content_size += len + 1;
                self.prev_partial = false;
            }
            RecordType::PartialLine => {
                self.content_size += len;
                self.prev_partial = true;
            }
            RecordType::HeaderEnd => {
                empty(rec)?;
                if self.header_ended || self.prev_partial {
                    return Err(Corruption::OutOfOrder {
                        offset: rec.offset,
                        kind: rec.kind,
                    });
                }
                self.header_ended = true;
                self.content_size += 1;
            }
            _ => {
                empty(rec)?;
                self.content.end = rec.offset;
                self.stage = Stage::Extracted;
            }
        }
        Ok(())
    }

    fn extracted(&mut self, rec: &Record<'_>) -> Result<(), Corruption> {
        let value = text(rec)?;
        if value.is_empty() && rec.kind != RecordType::Hold {
            return Err(malformed(rec, "empty"));
        }
        let slot = match rec.kind {
            RecordType::Hold => &mut self.extracted.hold,
            RecordType::Filter => &mut self.extracted.filter,
            _ => &mut self.extracted.redirect,
        };
        if slot.is_some() {
            return Err(Corruption::OutOfOrder {
                offset: rec.offset,
                kind: rec.kind,
            });
        }
        *slot = Some(value);
        Ok(())
    }

    /// After the end record: the size record must agree with the file.
    fn finish(self) -> Result<Scanned, Corruption> {
        let checks = [
            ("content size", self.size.content_size, self.content_size),
            (
                "content offset",
                self.size.content_offset,
                self.content.start,
            ),
            (
                "recipient count",
                self.size.recipient_count,
                self.recipients.len() as u64,
            ),
        ];
        for (field, recorded, actual) in checks {
            if recorded != actual {
                return Err(Corruption::SizeMismatch {
                    field,
                    recorded,
                    actual,
                });
            }
        }
        let (secs, usecs) = self.arrival;
        let arrival = UNIX_EPOCH
            .checked_add(Duration::new(secs, usecs * 1000))
            .ok_or(Corruption::Malformed {
                offset: record::SIZE_PAYLOAD_OFFSET + record::SIZE_LEN as u64,
                kind: RecordType::Time,
                what: "time out of range",
            })?;
        Ok(Scanned {
            version: self.version,
            envelope: Envelope {
                arrival,
                sender: self.sender.unwrap_or_default(),
                attributes: self.attributes,
                content_size: self.content_size,
            },
            recipients: self.recipients,
            extracted: self.extracted,
            content: self.content,
        })
    }
}
