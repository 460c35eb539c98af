//! Command lines out of the input buffer, with our own length limit
//! (`line_length_limit`): smtp-proto's applies only when a line spans two
//! reads, and then desynchronises pipelined replies.
//!
//! As Postfix's `smtp_get(..., SMTP_GET_FLAG_SKIP)`, an over-long line is
//! cut at the limit, the rest up to its LF is read and dropped, and the
//! cut line is then parsed as the command. A line ends at LF; the CR
//! before it is dropped and its absence reported (`bare_lf`) for
//! `smtpd_forbid_bare_newline`. A bare CR inside becomes a space, so that
//! smtp-proto, which silently drops CR, never joins two tokens.

use std::borrow::Cow;

use memchr::memchr;

/// One command line, without its line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub text: Cow<'a, [u8]>,
    /// Ended in LF without CR.
    pub bare_lf: bool,
    /// Cut at the limit; the rest was dropped.
    pub truncated: bool,
}

/// What [`CommandReader::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A line; `used` bytes of the buffer are consumed.
    Line { line: Line<'a>, used: usize },
    /// No complete line yet; `used` bytes (of an over-long line) may be
    /// dropped from the buffer already.
    NeedMore { used: usize },
}

/// Finds command lines; remembers the head of an over-long line.
#[derive(Debug)]
pub struct CommandReader {
    limit: usize,
    /// The first `limit` bytes of the line being skipped.
    overflow: Option<Vec<u8>>,
    /// The last skipped byte was a CR.
    skipped_cr: bool,
}

impl CommandReader {
    pub fn new(limit: usize) -> CommandReader {
        CommandReader {
            limit: limit.max(1),
            overflow: None,
            skipped_cr: false,
        }
    }

    /// The next line in `buf` (which starts where the last one ended).
    pub fn next<'a>(&mut self, buf: &'a [u8]) -> Next<'a> {
        let Some(lf) = memchr(b'\n', buf) else {
            return self.no_line_yet(buf);
        };
        if let Some(head) = self.overflow.take() {
            let cr = if lf == 0 {
                self.skipped_cr
            } else {
                buf[lf - 1] == b'\r'
            };
            let line = Line {
                text: clean(Cow::Owned(head)),
                bare_lf: !cr,
                truncated: true,
            };
            return Next::Line { line, used: lf + 1 };
        }
        let (text, cr) = match buf[..lf].strip_suffix(b"\r") {
            Some(text) => (text, true),
            None => (&buf[..lf], false),
        };
        let truncated = text.len() > self.limit;
        let text = if truncated { &text[..self.limit] } else { text };
        let line = Line {
            text: clean(Cow::Borrowed(text)),
            bare_lf: !cr,
            truncated,
        };
        Next::Line { line, used: lf + 1 }
    }

    fn no_line_yet<'a>(&mut self, buf: &'a [u8]) -> Next<'a> {
        if self.overflow.is_some() {
            if let Some(&last) = buf.last() {
                self.skipped_cr = last == b'\r';
            }
            return Next::NeedMore { used: buf.len() };
        }
        // One byte of slack: the line may end in CR and fit exactly.
        if buf.len() > self.limit + 1 {
            self.overflow = Some(buf[..self.limit].to_vec());
            self.skipped_cr = buf.last() == Some(&b'\r');
            return Next::NeedMore { used: buf.len() };
        }
        Next::NeedMore { used: 0 }
    }

    /// An over-long line is being skipped (for the "request longer
    /// than" warning, which Postfix logs once per line).
    pub fn is_skipping(&self) -> bool {
        self.overflow.is_some()
    }
}

/// Bare CR becomes a space.
fn clean(text: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    if memchr(b'\r', &text).is_none() {
        return text;
    }
    let mut owned = text.into_owned();
    for b in owned.iter_mut().filter(|b| **b == b'\r') {
        *b = b' ';
    }
    Cow::Owned(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &[u8], bare_lf: bool, truncated: bool) -> Line<'_> {
        Line {
            text: Cow::Borrowed(text),
            bare_lf,
            truncated,
        }
    }

    #[test]
    fn crlf_and_bare_lf() {
        let mut r = CommandReader::new(100);
        assert_eq!(
            r.next(b"NOOP\r\nQUIT\r\n"),
            Next::Line {
                line: line(b"NOOP", false, false),
                used: 6
            }
        );
        assert_eq!(
            r.next(b"QUIT\nX"),
            Next::Line {
                line: line(b"QUIT", true, false),
                used: 5
            }
        );
        assert_eq!(r.next(b"QUI"), Next::NeedMore { used: 0 });
    }

    #[test]
    fn bare_cr_is_a_space() {
        let mut r = CommandReader::new(100);
        let Next::Line { line, .. } = r.next(b"MAIL FROM:<a\r@b>\r\n") else {
            panic!("expected a line");
        };
        assert_eq!(&line.text[..], b"MAIL FROM:<a @b>");
    }

    #[test]
    fn long_line_in_one_read_is_cut() {
        let mut r = CommandReader::new(8);
        assert_eq!(
            r.next(b"NOOP 123456789\r\nQUIT\r\n"),
            Next::Line {
                line: line(b"NOOP 123", false, true),
                used: 16
            }
        );
    }

    #[test]
    fn long_line_over_several_reads_is_skipped_then_cut() {
        let mut r = CommandReader::new(8);
        assert_eq!(r.next(b"NOOP 1234567"), Next::NeedMore { used: 12 });
        assert!(r.is_skipping());
        assert_eq!(r.next(b"89 more\r"), Next::NeedMore { used: 8 });
        let Next::Line { line, used } = r.next(b"\nQUIT\r\n") else {
            panic!("expected the cut line");
        };
        assert_eq!(
            (&line.text[..], line.bare_lf, line.truncated, used),
            (&b"NOOP 123"[..], false, true, 1)
        );
        assert!(!r.is_skipping());
    }

    #[test]
    fn exact_limit_with_cr_fits() {
        let mut r = CommandReader::new(4);
        assert_eq!(r.next(b"NOOP\r"), Next::NeedMore { used: 0 });
        assert_eq!(
            r.next(b"NOOP\r\n"),
            Next::Line {
                line: line(b"NOOP", false, false),
                used: 6
            }
        );
    }
}
