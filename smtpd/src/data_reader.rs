//! Message content readers, sans I/O: [`DataReader`] for DATA (RFC 5321
//! §4.5.2 dot-unstuffing, first line included, end only at CRLF.CRLF
//! under [`Mode`]), [`ChunkReader`] for BDAT (RFC 3030: exact byte
//! counts, no dots). Both hand records to a sink (at most
//! `line_length_limit` bytes, "complete" unless the line continues) and
//! enforce `message_size_limit` the way Postfix's smtpd does: once the
//! limit is passed, the rest is read and thrown away, and the reply after
//! the end is 552.
//!
//! smtp-proto's DataReceiver is not used: it ignores the first line (an
//! empty message never ends, `..x` stays stuffed) and loses a CR when a
//! read ends between `.\r` and `\n`.

use std::ops::ControlFlow;

use crate::bare_newline::Mode;
use crate::lines::{LineSplitter, Record};

/// How the content ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted; `size` counts each line plus CRLF.
    Ok { size: u64 },
    /// Over `message_size_limit`.
    TooBig,
    /// A bare LF under `smtpd_forbid_bare_newline = reject`.
    BareNewline,
}

/// Size and bare-LF bookkeeping shared by both readers.
#[derive(Debug)]
struct Accounting {
    mode: Mode,
    limit: u64,
    size: u64,
    too_big: bool,
    bare_lf: bool,
}

impl Accounting {
    fn new(mode: Mode, limit: u64) -> Accounting {
        Accounting {
            mode,
            limit,
            size: 0,
            too_big: false,
            bare_lf: false,
        }
    }

    /// Count a record and pass it on unless the message is already lost.
    fn deliver(&mut self, bytes: &[u8], rec: &Record<'_>, sink: &mut impl FnMut(&[u8], bool)) {
        if rec.complete && !rec.crlf {
            self.bare_lf = true;
        }
        let len = bytes.len() as u64 + if rec.complete { 2 } else { 0 };
        if self.limit > 0 && self.limit.saturating_sub(self.size) < len {
            self.too_big = true;
        }
        if self.too_big || (self.bare_lf && self.mode == Mode::Reject) {
            return;
        }
        self.size += len;
        sink(bytes, rec.complete);
    }

    fn verdict(&self) -> Verdict {
        if self.too_big {
            Verdict::TooBig
        } else if self.bare_lf && self.mode == Mode::Reject {
            Verdict::BareNewline
        } else {
            Verdict::Ok { size: self.size }
        }
    }
}

/// What one [`DataReader::feed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the input used; the rest follows the end of data.
    pub used: usize,
    /// The end of data was seen.
    pub done: bool,
}

/// The DATA phase.
#[derive(Debug)]
pub struct DataReader {
    split: LineSplitter,
    acct: Accounting,
    /// The previous line ended in CRLF; the DATA command counts as one.
    prev_crlf: bool,
    done: bool,
}

impl DataReader {
    pub fn new(mode: Mode, line_length_limit: usize, message_size_limit: u64) -> DataReader {
        DataReader {
            split: LineSplitter::new(line_length_limit),
            acct: Accounting::new(mode, message_size_limit),
            prev_crlf: true,
            done: false,
        }
    }

    /// Read content from `input`, giving records to `sink`.
    pub fn feed(&mut self, input: &[u8], sink: &mut impl FnMut(&[u8], bool)) -> Progress {
        if self.done {
            return Progress {
                used: 0,
                done: true,
            };
        }
        let acct = &mut self.acct;
        let prev_crlf = &mut self.prev_crlf;
        let mut done = false;
        let used = self.split.feed(input, &mut |rec: Record<'_>| {
            if rec.is_whole() && rec.bytes == b"." {
                if acct.mode.ends_data(*prev_crlf, rec.crlf) {
                    done = true;
                    return ControlFlow::Break(());
                }
                // A lone dot next to a bare LF: not the end, and dropped.
                acct.bare_lf |= !(*prev_crlf && rec.crlf);
                *prev_crlf = rec.crlf;
                return ControlFlow::Continue(());
            }
            let bytes = match rec.bytes {
                [b'.', rest @ ..] if rec.first => rest,
                bytes => bytes,
            };
            acct.deliver(bytes, &rec, sink);
            if rec.complete {
                *prev_crlf = rec.crlf;
            }
            ControlFlow::Continue(())
        });
        self.done = done;
        Progress { used, done }
    }

    /// Only meaningful once `done`.
    pub fn verdict(&self) -> Verdict {
        self.acct.verdict()
    }
}

/// The BDAT phase: one reader for all chunks of a message.
#[derive(Debug)]
pub struct ChunkReader {
    split: LineSplitter,
    acct: Accounting,
    remaining: u64,
    received: u64,
    last_byte: Option<u8>,
}

impl ChunkReader {
    pub fn new(mode: Mode, line_length_limit: usize, message_size_limit: u64) -> ChunkReader {
        ChunkReader {
            split: LineSplitter::new(line_length_limit),
            acct: Accounting::new(mode, message_size_limit),
            remaining: 0,
            received: 0,
            last_byte: None,
        }
    }

    /// Expect `size` more bytes (one `BDAT size`).
    pub fn start_chunk(&mut self, size: u64) {
        self.remaining = size;
    }

    /// Bytes of the current chunk still to come.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Read up to the end of the current chunk; returns the bytes used.
    pub fn feed(&mut self, input: &[u8], sink: &mut impl FnMut(&[u8], bool)) -> usize {
        let take = input
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let chunk = &input[..take];
        let acct = &mut self.acct;
        self.split.feed(chunk, &mut |rec: Record<'_>| {
            acct.deliver(rec.bytes, &rec, sink);
            ControlFlow::Continue(())
        });
        self.remaining -= take as u64;
        self.received += take as u64;
        if let Some(&b) = chunk.last() {
            self.last_byte = Some(b);
        }
        take
    }

    /// After the LAST chunk: an unfinished last line is completed.
    pub fn finish(&mut self, sink: &mut impl FnMut(&[u8], bool)) {
        let acct = &mut self.acct;
        self.split.finish(&mut |rec: Record<'_>| {
            let rec = Record { crlf: true, ..rec };
            acct.deliver(rec.bytes, &rec, sink);
            ControlFlow::Continue(())
        });
    }

    /// The message size as Postfix reports it: the bytes received, plus
    /// the CRLF it adds to a last line without one.
    pub fn total(&self) -> u64 {
        match self.last_byte {
            Some(b'\n') | None => self.received,
            Some(_) => self.received + 2,
        }
    }

    pub fn verdict(&self) -> Verdict {
        self.acct.verdict()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(
        mode: Mode,
        max: usize,
        limit: u64,
        chunks: &[&[u8]],
    ) -> (Vec<String>, Progress, Verdict) {
        let mut r = DataReader::new(mode, max, limit);
        let mut lines = Vec::new();
        let mut last = Progress {
            used: 0,
            done: false,
        };
        for c in chunks {
            last = r.feed(c, &mut |b: &[u8], complete| {
                let mark = if complete { "" } else { "+" };
                lines.push(format!("{}{mark}", String::from_utf8_lossy(b)));
            });
        }
        (lines, last, r.verdict())
    }

    #[test]
    fn empty_message_ends_at_first_dot() {
        let (lines, p, v) = data(Mode::Normalize, 100, 0, &[b".\r\nQUIT\r\n"]);
        assert!(lines.is_empty());
        assert_eq!(
            p,
            Progress {
                used: 3,
                done: true
            }
        );
        assert_eq!(v, Verdict::Ok { size: 0 });
    }

    #[test]
    fn first_line_is_unstuffed() {
        let (lines, p, _) = data(Mode::Normalize, 100, 0, &[b"..x\r\n...\r\n.\r\n"]);
        assert_eq!(lines, [".x", ".."]);
        assert!(p.done);
    }

    #[test]
    fn terminator_split_across_reads() {
        let (lines, p, v) = data(Mode::Normalize, 100, 0, &[b"a\r\n.", b"\r", b"\nRSET"]);
        assert_eq!(lines, ["a"]);
        assert_eq!(
            p,
            Progress {
                used: 1,
                done: true
            }
        );
        assert_eq!(v, Verdict::Ok { size: 3 });
    }

    #[test]
    fn smuggling_attempts_do_not_end_data() {
        // CVE-2023-51764 shapes: only CRLF.CRLF ends the message.
        let input: &[u8] = b"a\n.\nMAIL\r\nb\r\n.\nc\n.\r\nd\r.\r\ne\r\n.\r\n";
        let (lines, p, v) = data(Mode::Normalize, 100, 0, &[input]);
        assert_eq!(lines, ["a", "MAIL", "b", "c", "d .", "e"]);
        assert!(p.done && p.used == input.len());
        assert!(matches!(v, Verdict::Ok { .. }));
    }

    #[test]
    fn reject_mode_reads_to_the_end_and_rejects() {
        let (lines, p, v) = data(Mode::Reject, 100, 0, &[b"a\r\nb\nc\r\n.\r\n"]);
        assert_eq!(lines, ["a"]);
        assert!(p.done);
        assert_eq!(v, Verdict::BareNewline);
    }

    #[test]
    fn lenient_mode_ends_at_bare_lf_dot() {
        let (lines, p, _) = data(Mode::Lenient, 100, 0, &[b"a\n.\nb\r\n"]);
        assert_eq!(lines, ["a"]);
        assert_eq!(p.used, 4);
    }

    #[test]
    fn long_lines_continue_and_dot_is_checked_once() {
        let (lines, _, _) = data(Mode::Normalize, 3, 0, &[b".abcdefg\r\n.\r\n"]);
        assert_eq!(lines, ["ab+", "cde+", "fg"]);
    }

    #[test]
    fn size_limit_reads_on_and_reports() {
        let (lines, p, v) = data(Mode::Normalize, 100, 8, &[b"1234\r\n5678\r\n.\r\n"]);
        assert_eq!(lines, ["1234"]);
        assert!(p.done);
        assert_eq!(v, Verdict::TooBig);
    }

    #[test]
    fn chunks_keep_exact_counts() {
        let mut r = ChunkReader::new(Mode::Normalize, 100, 0);
        let mut lines: Vec<String> = Vec::new();
        let mut sink = |b: &[u8], _c: bool| lines.push(String::from_utf8_lossy(b).into_owned());
        r.start_chunk(7);
        assert_eq!(r.feed(b"hel", &mut sink), 3);
        assert_eq!(r.feed(b"lo\r\n.\r\nBDAT", &mut sink), 4);
        assert_eq!(r.remaining(), 0);
        r.start_chunk(3);
        assert_eq!(r.feed(b".ab", &mut sink), 3);
        r.finish(&mut sink);
        assert_eq!(r.total(), 12);
        assert_eq!(lines, ["hello", ".ab"]);
        assert_eq!(r.verdict(), Verdict::Ok { size: 12 });
    }
}
