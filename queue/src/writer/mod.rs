//! Durable enqueue: a queue file is written without a name (or under a
//! temporary one) in `incoming/`, completed with an end record, its size
//! record patched in place, linked or renamed to `incoming/ID`, and then
//! fdatasync'ed while `incoming/` is fsync'ed (shared by concurrent
//! commits through a [`Committer`]). Only then may smtpd answer 250
//! (DESIGN.md, "The queue"; docs/queue-format.md says why the link
//! comes before the fdatasync).
//!
//! Records go through a 64 KiB buffer: no system call per line, and
//! nothing that waits for the disk until the end. The durable part (the
//! fsyncs and the link) runs on the [`Committer`]'s threads, grouped with
//! the other sessions' files: [`Writer::commit`] returns a [`Pending`]
//! to `.await`; [`Writer::finish`] is the same for blocking callers.

mod commit;
mod done;
mod pending;
mod staging;

pub use commit::Committer;
pub use done::mark_done;
pub use pending::Pending;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::dir::{QueueDirs, QueueName};
use crate::envelope::{self, Notify, Recipient};
use crate::error::Error;
use crate::id::QueueId;
use crate::record::{self, Checksum, MAX_PAYLOAD, RecordType, SIZE_PAYLOAD_OFFSET, Size};

use commit::Job;
use pending::Slot;
use staging::Staging;

/// What a successful commit reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub id: QueueId,
    /// The message length ([`crate::record::Size::content_size`]).
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Envelope,
    Content,
    Extracted,
}

/// A queue file being written. Dropping it unfinished (or calling
/// [`Writer::abort`]) removes the temporary file.
#[derive(Debug)]
pub struct Writer {
    out: Option<BufWriter<File>>,
    /// `None` once the committer has the file.
    staging: Option<Staging>,
    /// The staging file in messages: its temporary name, or `incoming/`.
    temp: PathBuf,
    incoming: PathBuf,
    id: QueueId,
    committer: Committer,
    section: Section,
    /// Bytes written so far: the offset of the next record.
    offset: u64,
    checksum: Checksum,
    size: Size,
    has_sender: bool,
    attributes: Vec<String>,
    prev_partial: bool,
    header_ended: bool,
    extracted: [bool; 3],
    /// A write failed; the file is useless.
    failed: bool,
}

const BUFFER: usize = 64 * 1024;

impl Writer {
    /// Start a queue file in `incoming/` under a temporary name. The
    /// queue ID comes from `arrival` and the file's inode.
    pub fn create(
        dirs: &QueueDirs,
        committer: &Committer,
        arrival: SystemTime,
    ) -> Result<Writer, Error> {
        let incoming = dirs.dir(QueueName::Incoming);
        let (file, staging) = staging::create(&incoming)?;
        let temp = staging.describe(&incoming);
        let inode = match file.metadata() {
            Ok(meta) => meta.ino(),
            Err(e) => {
                staging.discard();
                return Err(Error::io("stat", temp, e));
            }
        };
        let mut w = Writer {
            out: Some(BufWriter::with_capacity(BUFFER, file)),
            staging: Some(staging),
            temp,
            incoming,
            id: QueueId::new(arrival, inode),
            committer: committer.clone(),
            section: Section::Envelope,
            offset: 0,
            checksum: Checksum::for_version(record::VERSION),
            size: Size::default(),
            has_sender: false,
            attributes: Vec::new(),
            prev_partial: false,
            header_ended: false,
            extracted: [false; 3],
            failed: false,
        };
        let since = arrival.duration_since(UNIX_EPOCH).unwrap_or_default();
        w.put(RecordType::Version, &record::version_payload())?;
        // Patched at commit; the width never changes.
        w.put(RecordType::Size, &[0; record::SIZE_LEN])?;
        w.put(
            RecordType::Time,
            &record::encode_time(since.as_secs(), since.subsec_micros()),
        )?;
        Ok(w)
    }

    pub fn id(&self) -> &QueueId {
        &self.id
    }

    fn sequence(&self, detail: &'static str) -> Error {
        Error::Sequence {
            id: self.id.clone(),
            detail,
        }
    }

    fn value(&self, what: &'static str, detail: &'static str) -> Error {
        Error::Value {
            id: self.id.clone(),
            what,
            detail,
        }
    }

    /// Write one record.
    fn put(&mut self, kind: RecordType, payload: &[u8]) -> Result<(), Error> {
        if self.failed {
            return Err(self.sequence("an earlier write failed"));
        }
        if payload.len() > MAX_PAYLOAD {
            return Err(self.value(kind.name(), "too long"));
        }
        let out = self.out.as_mut().ok_or_else(|| Error::Sequence {
            id: self.id.clone(),
            detail: "file already closed",
        })?;
        if let Err(e) = record::write(out, kind, payload) {
            self.failed = true;
            return Err(Error::io("write", &self.temp, e));
        }
        // payload.len() <= MAX_PAYLOAD, checked by record::write.
        self.offset += record::HEADER_LEN + payload.len() as u64;
        self.checksum.add(kind, payload);
        Ok(())
    }

    /// Check an envelope string ([`Writer::put`] checks the length of
    /// the record).
    fn text(&self, what: &'static str, s: &str) -> Result<(), Error> {
        envelope::check_text(s).map_err(|detail| self.value(what, detail))
    }

    fn in_envelope(&self, what: &'static str) -> Result<(), Error> {
        match self.section {
            Section::Envelope => Ok(()),
            _ => Err(self.sequence(what)),
        }
    }

    /// The envelope sender; empty for `<>`. Exactly once, before the
    /// content.
    pub fn sender(&mut self, address: &str) -> Result<(), Error> {
        self.in_envelope("sender after the envelope")?;
        if self.has_sender {
            return Err(self.sequence("second sender"));
        }
        self.text("sender", address)?;
        self.put(RecordType::Sender, address.as_bytes())?;
        self.has_sender = true;
        Ok(())
    }

    /// A named attribute (names in [`crate::envelope::attr`]); each name
    /// once, before the content.
    pub fn attribute(&mut self, name: &str, value: &str) -> Result<(), Error> {
        self.in_envelope("attribute after the envelope")?;
        envelope::check_attr_name(name).map_err(|d| self.value("attribute name", d))?;
        self.text("attribute value", value)?;
        if self.attributes.iter().any(|a| a == name) {
            return Err(self.value("attribute name", "duplicate"));
        }
        let payload = [name.as_bytes(), b"=", value.as_bytes()].concat();
        self.put(RecordType::Attribute, &payload)?;
        self.attributes.push(name.to_string());
        Ok(())
    }

    /// A recipient: in the envelope before the content, or in the
    /// extracted section after it (recipients added by BCC actions).
    pub fn recipient(&mut self, r: &Recipient) -> Result<(), Error> {
        if self.section == Section::Content {
            return Err(self.sequence("recipient inside the content"));
        }
        if r.address.is_empty() {
            return Err(self.value("recipient", "empty address"));
        }
        if Notify::from_bits(r.notify.bits()).is_none() {
            return Err(self.value("recipient", "NEVER with other NOTIFY keywords"));
        }
        self.text("recipient", &r.address)?;
        self.text("original recipient", &r.original)?;
        self.text("ORCPT", r.orcpt.as_deref().unwrap_or_default())?;
        self.put(RecordType::Recipient, &r.encode())?;
        self.size.recipient_count += 1;
        Ok(())
    }

    /// End the envelope; content lines follow. The first content call
    /// does this too.
    pub fn begin_content(&mut self) -> Result<(), Error> {
        self.in_envelope("content started twice")?;
        self.put(RecordType::ContentStart, b"")?;
        self.size.content_offset = self.offset;
        self.section = Section::Content;
        Ok(())
    }

    fn in_content(&mut self, what: &'static str) -> Result<(), Error> {
        match self.section {
            Section::Envelope => self.begin_content(),
            Section::Content => Ok(()),
            Section::Extracted => Err(self.sequence(what)),
        }
    }

    /// A content line without its terminator. With `complete == false`
    /// the line continues in the next call. Lines longer than a record
    /// are split into partial-line records.
    pub fn line(&mut self, bytes: &[u8], complete: bool) -> Result<(), Error> {
        self.in_content("content after the extracted section")?;
        if bytes.is_empty() && !complete {
            return Ok(());
        }
        let mut chunks = bytes.chunks(MAX_PAYLOAD).peekable();
        if bytes.is_empty() {
            self.put(RecordType::Line, b"")?;
        }
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            let kind = match last && complete {
                true => RecordType::Line,
                false => RecordType::PartialLine,
            };
            self.put(kind, chunk)?;
        }
        self.size.content_size += bytes.len() as u64 + u64::from(complete);
        self.prev_partial = !complete;
        Ok(())
    }

    /// The boundary between header and body: readers see an empty line
    /// here. At most once, not inside a partial line.
    pub fn end_headers(&mut self) -> Result<(), Error> {
        self.in_content("header end after the content")?;
        if self.header_ended {
            return Err(self.sequence("second header end"));
        }
        if self.prev_partial {
            return Err(self.sequence("header end inside a partial line"));
        }
        self.put(RecordType::HeaderEnd, b"")?;
        self.size.content_size += 1;
        self.header_ended = true;
        Ok(())
    }

    /// End the content (a partial last line stays unterminated); hold,
    /// filter, redirect and extra recipients may follow. Calling it again
    /// does nothing.
    pub fn begin_extracted(&mut self) -> Result<(), Error> {
        match self.section {
            Section::Extracted => return Ok(()),
            Section::Envelope => self.begin_content()?,
            Section::Content => {}
        }
        self.put(RecordType::ExtractedStart, b"")?;
        self.section = Section::Extracted;
        Ok(())
    }

    fn extracted_once(
        &mut self,
        slot: usize,
        kind: RecordType,
        what: &'static str,
        value: &str,
    ) -> Result<(), Error> {
        self.begin_extracted()?;
        if self.extracted[slot] {
            return Err(self.value(what, "given twice"));
        }
        if value.is_empty() && kind != RecordType::Hold {
            return Err(self.value(what, "empty"));
        }
        self.text(what, value)?;
        self.put(kind, value.as_bytes())?;
        self.extracted[slot] = true;
        Ok(())
    }

    /// Put the message on hold (a HOLD action), with the reason.
    pub fn hold(&mut self, reason: &str) -> Result<(), Error> {
        self.extracted_once(0, RecordType::Hold, "hold reason", reason)
    }

    /// Route the message through a content filter, `transport:nexthop`
    /// (a FILTER action or `content_filter`).
    pub fn filter(&mut self, nexthop: &str) -> Result<(), Error> {
        if !nexthop.contains(':') {
            return Err(self.value("filter", "not transport:nexthop"));
        }
        self.extracted_once(1, RecordType::Filter, "filter", nexthop)
    }

    /// Deliver to `addr` instead of the recipients (a REDIRECT action).
    pub fn redirect(&mut self, addr: &str) -> Result<(), Error> {
        self.extracted_once(2, RecordType::Redirect, "redirect", addr)
    }

    /// Commit: end record, size record patched, then on the committer's
    /// threads link or rename to `incoming/ID`, and fdatasync the file
    /// while the directory is fsynced. When the [`Pending`] says `Ok` the
    /// message is safe from a crash or power loss; on error there is no
    /// queue file.
    pub fn commit(mut self) -> Pending {
        match self.complete() {
            Ok(job) => self.committer.submit(job),
            Err(e) => Pending::failed(e),
        }
    }

    /// [`Writer::commit`], blocking until it is done.
    pub fn finish(self) -> Result<Committed, Error> {
        self.commit().wait()
    }

    /// Write what is buffered, with the final size record: patched in
    /// the buffer when the whole file is still there (one write; the
    /// usual case, below 64 KiB), else in the file.
    fn write_out(&self, out: BufWriter<File>) -> Result<File, Error> {
        let size = self.size.encode();
        let write_error = |e| Error::io("write", &self.temp, e);
        if out.buffer().len() as u64 != self.offset {
            let file = out.into_inner().map_err(|e| write_error(e.into_error()))?;
            file.write_all_at(&size, SIZE_PAYLOAD_OFFSET)
                .map_err(write_error)?;
            return Ok(file);
        }
        let (mut file, buffered) = out.into_parts();
        // The buffer comes back unless a write into it panicked.
        let mut buffered =
            buffered.map_err(|_| write_error(io::Error::other("writer panicked")))?;
        let at = usize::try_from(SIZE_PAYLOAD_OFFSET).unwrap_or(usize::MAX);
        buffered
            .get_mut(at..at + size.len())
            .ok_or_else(|| write_error(io::Error::other("no size record")))?
            .copy_from_slice(&size);
        file.write_all(&buffered).map_err(write_error)?;
        Ok(file)
    }

    /// Write the end record and patch the size record: the file is
    /// complete (in the page cache) and goes to the commit thread.
    fn complete(&mut self) -> Result<Job, Error> {
        if !self.has_sender {
            return Err(self.sequence("no sender"));
        }
        self.begin_extracted()?;
        self.put(RecordType::End, &self.checksum.value().to_be_bytes())?;
        let out = self.out.take().ok_or(Error::Sequence {
            id: self.id.clone(),
            detail: "file already closed",
        })?;
        let file = self.write_out(out)?;
        Ok(Job {
            file: Arc::new(file),
            staging: self.staging.take(),
            dir: self.incoming.clone(),
            path: self.incoming.join(self.id.as_str()),
            committed: Committed {
                id: self.id.clone(),
                size: self.size.content_size,
            },
            slot: Arc::new(Slot::default()),
        })
    }

    /// Give up; the temporary file is removed.
    pub fn abort(self) {}
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(staging) = self.staging.take() {
            staging.discard();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn setup() -> (tempfile::TempDir, QueueDirs, Committer) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dirs = QueueDirs::new(tmp.path());
        dirs.create_all().expect("dirs");
        (tmp, dirs, Committer::new())
    }

    fn incoming_names(dirs: &QueueDirs) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dirs.dir(QueueName::Incoming))
            .expect("readdir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writers_move_to_blocking_threads_and_committers_are_shared() {
        fn send<T: Send + 'static>() {}
        fn shared<T: Send + Sync + 'static>() {}
        send::<Writer>();
        shared::<Committer>();
        shared::<crate::QueueFile>();
    }

    #[test]
    fn drop_and_abort_remove_the_temporary_file() {
        let (_tmp, dirs, c) = setup();
        let w = Writer::create(&dirs, &c, SystemTime::now()).expect("create");
        for name in incoming_names(&dirs) {
            assert!(name.starts_with('.'), "{name}");
            assert!(name.parse::<QueueId>().is_err());
        }
        w.abort();
        assert!(incoming_names(&dirs).is_empty());
        drop(Writer::create(&dirs, &c, SystemTime::now()).expect("create"));
        assert!(incoming_names(&dirs).is_empty());
    }

    #[test]
    fn misuse_is_a_sequence_error() {
        let (_tmp, dirs, c) = setup();
        let mut w = Writer::create(&dirs, &c, SystemTime::now()).expect("create");
        w.sender("a@b").expect("sender");
        assert!(matches!(w.sender("c@d"), Err(Error::Sequence { .. })));
        w.line(b"Subject: x", false).expect("line");
        assert!(matches!(w.end_headers(), Err(Error::Sequence { .. })));
        assert!(matches!(
            w.recipient(&Recipient::new("x@y")),
            Err(Error::Sequence { .. })
        ));
        assert!(matches!(w.attribute("a", "b"), Err(Error::Sequence { .. })));
        w.begin_extracted().expect("extracted");
        assert!(matches!(w.line(b"x", true), Err(Error::Sequence { .. })));
        w.hold("why").expect("hold");
        assert!(matches!(w.hold("again"), Err(Error::Value { .. })));
        assert!(matches!(w.filter("nocolon"), Err(Error::Value { .. })));
    }

    #[test]
    fn bad_values_are_refused() {
        let (_tmp, dirs, c) = setup();
        let mut w = Writer::create(&dirs, &c, SystemTime::now()).expect("create");
        assert!(matches!(
            w.sender("a\r\nRCPT TO:<x>"),
            Err(Error::Value { .. })
        ));
        assert!(matches!(
            w.attribute("Bad=Name", "v"),
            Err(Error::Value { .. })
        ));
        w.attribute("helo_name", "x").expect("attr");
        assert!(matches!(
            w.attribute("helo_name", "y"),
            Err(Error::Value { .. })
        ));
        let never_and_success = Recipient {
            notify: Notify::NEVER | Notify::SUCCESS,
            ..Recipient::new("a@b")
        };
        assert!(matches!(
            w.recipient(&never_and_success),
            Err(Error::Value { .. })
        ));
        assert!(matches!(
            w.recipient(&Recipient::new("")),
            Err(Error::Value { .. })
        ));
    }

    #[test]
    fn values_longer_than_a_record_are_refused_and_the_file_stays_usable() {
        let (_tmp, dirs, c) = setup();
        let mut w = Writer::create(&dirs, &c, SystemTime::now()).expect("create");
        let long = "x".repeat(MAX_PAYLOAD);
        assert!(matches!(
            w.attribute("helo_name", &long),
            Err(Error::Value { .. })
        ));
        assert!(matches!(w.sender(&long), Ok(())));
        assert!(matches!(
            w.recipient(&Recipient::new(long)),
            Err(Error::Value { .. })
        ));
        w.recipient(&Recipient::new("a@b")).expect("rcpt");
        w.finish().expect("finish");
    }

    #[test]
    fn finish_without_sender_leaves_nothing() {
        let (_tmp, dirs, c) = setup();
        let w = Writer::create(&dirs, &c, SystemTime::now()).expect("create");
        assert!(matches!(w.finish(), Err(Error::Sequence { .. })));
        assert!(incoming_names(&dirs).is_empty());
    }
}
