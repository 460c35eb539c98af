//! Postfix's `readllines()`: logical lines of a table source. `#`
//! comment lines and blank lines are skipped, a line that starts with
//! white space continues the previous one (even across comments and
//! blank lines), and a continuation with nothing to continue is warned
//! about and dropped, so that a bad line never truncates a table.

use std::borrow::Cow;

use super::Warning;

/// One logical line and the physical lines it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine<'a> {
    pub text: Cow<'a, [u8]>,
    /// The line number of its first non-blank, non-comment line.
    pub first: usize,
}

/// What [`LogicalLines`] yields: a line, or a warning about input that is
/// skipped (a continuation line with nothing to continue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Line(LogicalLine<'a>),
    Warning(Warning),
}

/// Logical lines of `text`. `label` names the
/// input in warnings (the path as given, or `stdin`).
#[derive(Debug, Clone)]
pub struct LogicalLines<'a> {
    text: &'a [u8],
    pos: usize,
    lineno: usize,
    label: &'a str,
}

/// Postfix's ISSPACE: ASCII white space including \v and \f.
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Text from a table as Postfix's logging shows it: every byte outside
/// printable ASCII becomes `?` (msg_output.c runs each message through
/// `printable()`; with SMTPUTF8 off that is ASCII only).
pub(crate) fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

/// The part of a line a C string would see: up to the first NUL.
pub(crate) fn c_str(line: &[u8]) -> &[u8] {
    match line.iter().position(|&c| c == 0) {
        Some(n) => &line[..n],
        None => line,
    }
}

impl<'a> LogicalLines<'a> {
    pub fn new(text: &'a [u8], label: &'a str) -> LogicalLines<'a> {
        LogicalLines {
            text,
            pos: 0,
            lineno: 0,
            label,
        }
    }

    /// Read one physical line and whether a newline ended it.
    fn physical(&mut self) -> (&'a [u8], bool) {
        let rest = &self.text[self.pos.min(self.text.len())..];
        match rest.iter().position(|&c| c == b'\n') {
            Some(n) => {
                self.pos += n + 1;
                (&rest[..n], true)
            }
            None => {
                self.pos = self.text.len();
                (rest, false)
            }
        }
    }

    fn warn_leading_space(&self, line: &[u8]) -> Warning {
        let shown = c_str(line);
        let cut = &shown[..shown.len().min(30)];
        Warning {
            line: self.lineno,
            text: format!(
                "{}: logical line must not start with whitespace: \"{}{}\"",
                self.label,
                printable(cut),
                if line.len() > 30 { "..." } else { "" }
            ),
        }
    }
}

impl<'a> Iterator for LogicalLines<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let mut first_seg: Option<&'a [u8]> = None;
        let mut joined: Option<Vec<u8>> = None;
        let mut first = 0;
        loop {
            let was_empty = first_seg.is_none();
            let (line, newline) = self.physical();
            if newline || !line.is_empty() {
                self.lineno += 1;
            }
            let blank = match line.iter().find(|&&c| !is_space(c)) {
                None => true,
                Some(&c) => c == b'#',
            };
            if !blank {
                match (&mut joined, first_seg) {
                    (None, None) => first_seg = Some(line),
                    (None, Some(seg)) => joined = Some([seg, line].concat()),
                    (Some(buf), _) => buf.extend_from_slice(line),
                }
            }
            if was_empty {
                first = self.lineno;
            }
            if !newline {
                break;
            }
            if first_seg.is_some() {
                match self.text.get(self.pos) {
                    Some(&c) if c == b'#' || is_space(c) => {}
                    _ => break,
                }
            }
        }
        let text: Cow<'a, [u8]> = match (joined, first_seg) {
            (Some(buf), _) => Cow::Owned(buf),
            (None, Some(seg)) => Cow::Borrowed(seg),
            (None, None) => return None,
        };
        if text.first().is_some_and(|&c| is_space(c)) {
            return Some(Piece::Warning(self.warn_leading_space(&text)));
        }
        Some(Piece::Line(LogicalLine { text, first }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{ParseOptions, parse};

    fn lines(text: &str) -> Vec<(String, usize)> {
        LogicalLines::new(text.as_bytes(), "t")
            .filter_map(|p| match p {
                Piece::Line(l) => Some((String::from_utf8_lossy(&l.text).into_owned(), l.first)),
                Piece::Warning(_) => None,
            })
            .collect()
    }

    #[test]
    fn logical_lines_follow_readllines() {
        // The cases of Postfix's readlline.c self-test.
        assert_eq!(lines("#abc\ndef"), [("def".into(), 2)]);
        assert_eq!(lines("\nabc\n"), [("abc".into(), 2)]);
        assert_eq!(lines(" \nabc\n"), [("abc".into(), 2)]);
        assert_eq!(lines("abc def"), [("abc def".into(), 1)]);
        assert!(lines("#abc def").is_empty());
        assert_eq!(lines("abc\n def\n"), [("abc def".into(), 1)]);
        assert_eq!(lines("abc\n #def\n ghi"), [("abc ghi".into(), 1)]);
        assert_eq!(lines("abc\n#def\n ghi"), [("abc ghi".into(), 1)]);
        assert_eq!(lines("abc\n \n ghi"), [("abc ghi".into(), 1)]);
        assert_eq!(lines("abc\n\n ghi"), [("abc ghi".into(), 1)]);
        assert_eq!(lines("abc\n#def\n"), [("abc".into(), 1)]);
        assert_eq!(lines("abc\n "), [("abc".into(), 1)]);
        assert!(lines("\n \n").is_empty());
        assert_eq!(lines(" abcde\nfghij\n"), [("fghij".into(), 2)]);
    }

    #[test]
    fn leading_white_space_is_warned_and_skipped() {
        let p = parse(b"  lead x\nkey v\n", "t2", &ParseOptions::default());
        assert_eq!(
            p.warnings
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
            ["t2: logical line must not start with whitespace: \"  lead x\""]
        );
        let long = format!(" {}\nk v\n", "x".repeat(40));
        let p = parse(long.as_bytes(), "t", &ParseOptions::default());
        assert_eq!(
            p.warnings
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
            [format!(
                "t: logical line must not start with whitespace: \" {}...\"",
                "x".repeat(29)
            )]
        );
    }
}
