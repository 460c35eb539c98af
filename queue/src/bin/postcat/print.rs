//! The record printer: postcat's state machine (envelope, header, body),
//! which prints records in file order as they are read, so that what
//! precedes damage in a file is still shown. Line shapes are Postfix's
//! (`postcat.c`); the record names are in [`queue::RecordType::name`].

use std::io::{self, Read, Write};

use jiff::tz::TimeZone as Zone;
use queue::envelope::attr;
use queue::record::{self, ReadError, Record, RecordType, Size};
use queue::{Corruption, Recipient};

use super::diag;
use super::opts::Flags;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Envelope,
    Header,
    Body,
}

/// How printing one input ended badly.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Standard output failed.
    Write(io::Error),
    /// A record could not be read: warn with the text, then fail with
    /// `record read error`, as Postfix does.
    Record(String),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::Write(e)
    }
}

/// Prints the records of one input.
pub(crate) struct Printer<'a, W: Write> {
    out: &'a mut W,
    flags: Flags,
    zone: &'a Zone,
    /// The input's name in markers and messages.
    name: &'a str,
    /// The file offset where reading starts (`-s`).
    start: u64,
    state: State,
    /// Whether records of the current section are printed.
    do_print: bool,
    /// The type of the previous record, unless it ended its own line.
    prev: Option<RecordType>,
}

/// Whether to read on after a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Next,
    Done,
}

impl<'a, W: Write> Printer<'a, W> {
    pub(crate) fn new(out: &'a mut W, flags: Flags, zone: &'a Zone, name: &'a str) -> Self {
        Printer {
            out,
            flags,
            zone,
            name,
            start: 0,
            state: State::Envelope,
            do_print: flags.envelope,
            prev: None,
        }
    }

    /// Print `input`, whose first byte is at file offset `start`.
    pub(crate) fn run<R: Read>(&mut self, input: R, start: u64) -> Result<(), Stop> {
        self.start = start;
        let mut reader = record::Reader::starting_at(input, start);
        if start == 0 {
            let version = match reader.next_record() {
                Ok(None) => return Ok(()),
                Ok(Some(rec)) if is_version(&rec) => {
                    let version = rec
                        .payload
                        .get(4..)
                        .and_then(|v| <[u8; 2]>::try_from(v).ok());
                    version.map_or(0, u16::from_be_bytes)
                }
                Ok(Some(_)) | Err(ReadError::Corrupt(_)) => {
                    self.warn(format!("{}: input is not a valid queue file", self.name))?;
                    return Ok(());
                }
                Err(ReadError::Io(e)) => return Err(self.read_error(e)),
            };
            if !record::READ_VERSIONS.contains(&version) {
                let text = format!("{}: unsupported queue file version {version}", self.name);
                self.warn(text)?;
                return Ok(());
            }
            if self.flags.envelope {
                // Without -o/-d prefixes, as in Postfix.
                writeln!(self.out, "*** ENVELOPE RECORDS {} ***", self.name)?;
            }
            if self.flags.envelope && self.flags.verbose > 0 {
                self.prefix(0, RecordType::Version)?;
                writeln!(self.out, "{}: {version}", RecordType::Version.name())?;
            }
        }
        loop {
            let rec = match reader.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => {
                    let text = format!(
                        "{}: premature end of file: no message_end record",
                        self.name
                    );
                    self.warn(text)?;
                    return Ok(());
                }
                Err(ReadError::Io(e)) => return Err(self.read_error(e)),
                Err(ReadError::Corrupt(c)) => return Err(self.corrupt(&c)),
            };
            if self.record(&rec)? == Flow::Done {
                return Ok(());
            }
            self.prev = Some(rec.kind).filter(|_| !self.ends_partial(&rec));
        }
    }

    /// Switch sections at the markers, print what the flags select.
    fn record(&mut self, rec: &Record<'_>) -> Result<Flow, Stop> {
        match rec.kind {
            RecordType::ContentStart => {
                if self.state != State::Envelope {
                    self.out_of_order("message content")?;
                }
                if self.flags.envelope {
                    self.marker(rec.offset, rec.kind, "MESSAGE CONTENTS")?;
                }
                self.state = State::Header;
                self.do_print = self.flags.header;
            }
            RecordType::HeaderEnd => {
                self.state = State::Body;
                self.do_print = self.flags.body;
                if !self.do_print && !self.flags.envelope {
                    return Ok(Flow::Done);
                }
                if self.do_print {
                    // The empty line between header and body.
                    self.text(rec, RecordType::Line)?;
                }
            }
            RecordType::ExtractedStart => return self.extracted_start(rec),
            RecordType::End => return self.end(rec),
            RecordType::Line | RecordType::PartialLine if self.do_print => {
                self.text(rec, rec.kind)?;
            }
            _ if self.do_print => self.envelope_record(rec)?,
            _ => {}
        }
        Ok(Flow::Next)
    }

    fn extracted_start(&mut self, rec: &Record<'_>) -> Result<Flow, Stop> {
        if self.state == State::Envelope {
            self.out_of_order("extracted segment")?;
        }
        if self.do_print && self.prev == Some(RecordType::PartialLine) {
            self.out.write_all(b"\n")?;
        }
        if self.flags.envelope {
            self.marker(rec.offset, rec.kind, "HEADER EXTRACTED")?;
        }
        self.state = State::Envelope;
        self.do_print = self.flags.envelope;
        Ok(if self.do_print {
            Flow::Next
        } else {
            Flow::Done
        })
    }

    fn end(&mut self, rec: &Record<'_>) -> Result<Flow, Stop> {
        if self.state != State::Envelope {
            self.out_of_order("message end")?;
        }
        let sum = <[u8; record::END_LEN]>::try_from(rec.payload)
            .ok()
            .map(u64::from_be_bytes);
        if self.start == 0 && sum != rec.checksum_before {
            self.warn(format!("{}: {}", self.name, Corruption::Checksum))?;
        }
        if self.flags.envelope {
            self.marker(rec.offset, rec.kind, "MESSAGE FILE END")?;
        }
        Ok(if self.flags.raw {
            Flow::Next
        } else {
            Flow::Done
        })
    }

    /// Whether a partial line was already ended with a newline (in
    /// verbose or offset mode every record gets its own line).
    fn ends_partial(&self, rec: &Record<'_>) -> bool {
        rec.kind == RecordType::PartialLine && (self.flags.verbose > 0 || self.flags.offset)
    }

    fn read_error(&self, e: io::Error) -> Stop {
        Stop::Record(format!(
            "{}: read error: {}",
            self.name,
            conf::io_reason(&e)
        ))
    }

    fn corrupt(&self, c: &Corruption) -> Stop {
        Stop::Record(format!("{}: {c}", self.name))
    }

    /// A warning on stderr, after what stdout has so far.
    fn warn(&mut self, text: String) -> io::Result<()> {
        self.out.flush()?;
        diag::warning(&text);
        Ok(())
    }

    fn out_of_order(&mut self, what: &str) -> io::Result<()> {
        self.warn(format!("{}: out-of-order {what} marker", self.name))
    }

    /// `-o` and `-d` prefixes.
    fn prefix(&mut self, offset: u64, kind: RecordType) -> io::Result<()> {
        if self.flags.offset {
            write!(self.out, "{offset:9} ")?;
        }
        if self.flags.decimal {
            write!(self.out, "{:3} ", kind.byte())?;
        }
        Ok(())
    }

    fn marker(&mut self, offset: u64, kind: RecordType, text: &str) -> io::Result<()> {
        self.prefix(offset, kind)?;
        writeln!(self.out, "*** {text} {} ***", self.name)
    }

    /// A content line; `kind` says whether it is complete.
    fn text(&mut self, rec: &Record<'_>, kind: RecordType) -> io::Result<()> {
        self.prefix(rec.offset, rec.kind)?;
        if self.flags.verbose > 0 {
            write!(self.out, "{}: ", kind.name())?;
        }
        self.out.write_all(rec.payload)?;
        if kind == RecordType::Line || self.flags.verbose > 0 || self.flags.offset {
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn line(&mut self, rec: &Record<'_>, name: &str, value: &str) -> io::Result<()> {
        self.prefix(rec.offset, rec.kind)?;
        writeln!(self.out, "{name}: {value}")
    }

    /// Envelope and extracted records, one line each (a recipient gives
    /// Postfix's lines for its DSN attributes too).
    fn envelope_record(&mut self, rec: &Record<'_>) -> Result<(), Stop> {
        let text = String::from_utf8_lossy(rec.payload);
        match rec.kind {
            RecordType::Version if self.flags.verbose > 0 => {
                let v = rec
                    .payload
                    .get(4..6)
                    .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
                self.line(rec, rec.kind.name(), &v.to_string())?;
            }
            RecordType::Version => {}
            RecordType::Size => match Size::decode(rec.payload) {
                Some(s) => {
                    let fields = format!(
                        "{:15} {:15} {:15} {:15} {:15}",
                        s.content_size, s.content_offset, s.recipient_count, 0, s.content_size
                    );
                    self.line(rec, rec.kind.name(), &fields)?;
                }
                None => self.malformed(rec)?,
            },
            RecordType::Time => match record::decode_time(rec.payload) {
                Some((secs, _)) => {
                    let when = self.asctime(i64::try_from(secs).unwrap_or(i64::MAX));
                    self.line(rec, rec.kind.name(), &when)?;
                }
                None => self.malformed(rec)?,
            },
            RecordType::Attribute => self.attribute(rec)?,
            RecordType::Recipient | RecordType::DoneRecipient => self.recipient(rec)?,
            _ => self.line(rec, rec.kind.name(), &text)?,
        }
        Ok(())
    }

    fn asctime(&self, secs: i64) -> String {
        let stamp = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        stamp
            .to_zoned(self.zone.clone())
            .strftime("%a %b %e %H:%M:%S %Y")
            .to_string()
    }

    fn malformed(&mut self, rec: &Record<'_>) -> io::Result<()> {
        self.warn(format!(
            "{}: malformed {} record",
            self.name,
            rec.kind.name()
        ))
    }

    fn attribute(&mut self, rec: &Record<'_>) -> io::Result<()> {
        let text = String::from_utf8_lossy(rec.payload);
        let Some((name, value)) = text.split_once('=') else {
            return self.warn(format!("{}: malformed attribute: {:.100}", self.name, text));
        };
        match (name, value.parse::<i64>()) {
            (attr::CREATE_TIME, Ok(secs)) => {
                let when = self.asctime(secs);
                self.line(rec, attr::CREATE_TIME, &when)
            }
            _ => self.line(rec, rec.kind.name(), &text),
        }
    }

    fn recipient(&mut self, rec: &Record<'_>) -> io::Result<()> {
        let Ok(r) = Recipient::decode(rec.payload) else {
            return self.malformed(rec);
        };
        let attribute = RecordType::Attribute.name();
        if !r.notify.is_empty() {
            let value = format!("notify_flags={}", r.notify.bits());
            self.line(rec, attribute, &value)?;
        }
        if let Some(orcpt) = &r.orcpt {
            self.line(rec, attribute, &format!("dsn_orig_rcpt={orcpt}"))?;
        }
        self.line(rec, "original_recipient", &r.original)?;
        self.line(rec, rec.kind.name(), &r.address)
    }
}

fn is_version(rec: &Record<'_>) -> bool {
    rec.kind == RecordType::Version && rec.payload.starts_with(record::MAGIC)
}
