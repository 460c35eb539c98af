//! Message content as records: bytes in, lines out, each cut into
//! records of at most `line_length_limit` bytes (all but the last of a
//! long line marked "continues", as Postfix's `REC_TYPE_CONT`). Shared by
//! the DATA and BDAT readers.
//!
//! A line ends at LF; a CR right before it is dropped and remembered
//! (`crlf`), so the readers can apply `smtpd_forbid_bare_newline`. A CR
//! anywhere else (a bare CR) becomes a space, as Postfix 3.7.11 stores
//! it; the line does not end there.

use std::ops::ControlFlow;

use memchr::memchr;

/// One record of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub bytes: &'a [u8],
    /// The first record of its line.
    pub first: bool,
    /// The last record of its line (the line ended here).
    pub complete: bool,
    /// The line ended in CRLF (only meaningful when `complete`).
    pub crlf: bool,
}

impl Record<'_> {
    /// The whole line in one record.
    pub fn is_whole(&self) -> bool {
        self.first && self.complete
    }
}

/// Splits a byte stream into records, keeping the unfinished line.
#[derive(Debug)]
pub struct LineSplitter {
    max: usize,
    /// The unfinished line (never more than `max` bytes after a feed).
    pending: Vec<u8>,
    /// Records of the unfinished line were already given out.
    continued: bool,
    scratch: Vec<u8>,
}

impl LineSplitter {
    pub fn new(max: usize) -> LineSplitter {
        LineSplitter {
            max: max.max(1),
            pending: Vec::new(),
            continued: false,
            scratch: Vec::new(),
        }
    }

    /// Split `input`, calling `f` for each record until it breaks.
    /// Returns how many bytes of `input` were used: all of them, or up
    /// to and including the LF of the line whose record broke.
    pub fn feed<F>(&mut self, input: &[u8], f: &mut F) -> usize
    where
        F: FnMut(Record<'_>) -> ControlFlow<()>,
    {
        let mut pos = 0;
        while pos < input.len() {
            let Some(i) = memchr(b'\n', &input[pos..]) else {
                self.pending.extend_from_slice(&input[pos..]);
                self.flush_overflow(f);
                return input.len();
            };
            let end = pos + i;
            let flow = if self.pending.is_empty() {
                self.finish_line(&input[pos..end], f)
            } else {
                let mut line = std::mem::take(&mut self.pending);
                line.extend_from_slice(&input[pos..end]);
                let flow = self.finish_line(&line, f);
                line.clear();
                self.pending = line;
                flow
            };
            pos = end + 1;
            if flow.is_break() {
                return pos;
            }
        }
        pos
    }

    /// The stream ended without a final LF (BDAT LAST): the unfinished
    /// line becomes a complete one (without CRLF).
    pub fn finish<F>(&mut self, f: &mut F)
    where
        F: FnMut(Record<'_>) -> ControlFlow<()>,
    {
        if self.pending.is_empty() && !self.continued {
            return;
        }
        let line = std::mem::take(&mut self.pending);
        let _ = self.emit(&line, true, false, f);
        self.continued = false;
    }

    /// Whether a line is unfinished.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.continued
    }

    /// Give out full records of an over-long unfinished line. A CR at the
    /// very end stays: it may be the start of CRLF.
    fn flush_overflow<F>(&mut self, f: &mut F)
    where
        F: FnMut(Record<'_>) -> ControlFlow<()>,
    {
        // A final CR is not content yet: it may belong to CRLF.
        let content = |p: &[u8]| p.len() - usize::from(p.last() == Some(&b'\r'));
        while content(&self.pending) > self.max {
            let head: Vec<u8> = self.pending.drain(..self.max).collect();
            let _ = self.emit(&head, false, false, f);
        }
    }

    /// A line without its LF.
    fn finish_line<F>(&mut self, line: &[u8], f: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Record<'_>) -> ControlFlow<()>,
    {
        let (body, crlf) = match line.strip_suffix(b"\r") {
            Some(body) => (body, true),
            None => (line, false),
        };
        let mut rest = body;
        while rest.len() > self.max {
            let (head, tail) = rest.split_at(self.max);
            let _ = self.emit(head, false, crlf, f);
            rest = tail;
        }
        let flow = self.emit(rest, true, crlf, f);
        self.continued = false;
        flow
    }

    fn emit<F>(&mut self, bytes: &[u8], complete: bool, crlf: bool, f: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Record<'_>) -> ControlFlow<()>,
    {
        let first = !self.continued;
        self.continued = !complete;
        let bytes = if memchr(b'\r', bytes).is_some() {
            self.scratch.clear();
            self.scratch
                .extend(bytes.iter().map(|&b| if b == b'\r' { b' ' } else { b }));
            &self.scratch[..]
        } else {
            bytes
        };
        f(Record {
            bytes,
            first,
            complete,
            crlf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<(String, bool, bool)> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut |r: Record<'_>| {
                out.push((
                    String::from_utf8_lossy(r.bytes).into_owned(),
                    r.complete,
                    r.crlf,
                ));
                ControlFlow::Continue(())
            });
        }
        s.finish(&mut |r: Record<'_>| {
            out.push((
                String::from_utf8_lossy(r.bytes).into_owned(),
                r.complete,
                r.crlf,
            ));
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn crlf_and_bare_lf_end_lines() {
        assert_eq!(
            split(100, &[b"a\r\nb\nc\r", b"\nd"]),
            [
                ("a".into(), true, true),
                ("b".into(), true, false),
                ("c".into(), true, true),
                ("d".into(), true, false)
            ]
        );
    }

    #[test]
    fn bare_cr_becomes_space() {
        assert_eq!(split(100, &[b"a\rb\r\r\n"]), [("a b ".into(), true, true)]);
    }

    #[test]
    fn long_lines_are_cut_into_records() {
        assert_eq!(
            split(3, &[b"abcdefg\r\n"]),
            [
                ("abc".into(), false, true),
                ("def".into(), false, true),
                ("g".into(), true, true)
            ]
        );
        // Split across feeds, with the CR of CRLF at a feed boundary.
        assert_eq!(
            split(3, &[b"abcd", b"efg\r", b"\nx\r\n"]),
            [
                ("abc".into(), false, false),
                ("def".into(), false, false),
                ("g".into(), true, true),
                ("x".into(), true, true)
            ]
        );
    }

    #[test]
    fn first_marks_the_start_of_a_line() {
        let mut s = LineSplitter::new(2);
        let mut firsts = Vec::new();
        s.feed(b"abcde\r\nfg\r\n", &mut |r: Record<'_>| {
            firsts.push(r.first);
            ControlFlow::Continue(())
        });
        assert_eq!(firsts, [true, false, false, true]);
    }

    #[test]
    fn break_stops_after_the_line() {
        let mut s = LineSplitter::new(100);
        let used = s.feed(b"a\r\n.\r\nQUIT\r\n", &mut |r: Record<'_>| {
            if r.bytes == b"." {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(used, 6);
    }
}
