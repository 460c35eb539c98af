//! Line structure of master.cf, as Postfix's `readllines()` sees it:
//! `#` lines and blank lines are ignored, a line that starts with white
//! space continues the previous one. The editor needs the physical lines
//! too, so this module gives both views.

use super::Warning;
use super::args::is_space;

/// One logical line: its physical lines glued together (without the
/// newlines, as Postfix does), and the number of its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logical {
    pub(crate) text: String,
    pub(crate) line: usize,
}

/// A physical line, without its newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Physical<'a> {
    pub(crate) bytes: &'a [u8],
    /// False only for a last line that does not end in a newline.
    pub(crate) newline: bool,
}

impl Physical<'_> {
    /// A comment, blank or empty line: not part of any entry.
    pub(crate) fn is_passive(&self) -> bool {
        match self.bytes.iter().find(|&&b| !is_space(b)) {
            None => true,
            Some(&b) => b == b'#',
        }
    }

    /// Text that starts with white space: continues the entry before it.
    pub(crate) fn is_continuation(&self) -> bool {
        self.bytes.first().is_some_and(|&b| is_space(b))
    }

    /// What Postfix peeks at to decide whether a line continues the one
    /// before: its first byte, `\n` for an empty line.
    fn first(&self) -> Option<u8> {
        match self.bytes.first() {
            Some(&b) => Some(b),
            None if self.newline => Some(b'\n'),
            None => None,
        }
    }

    /// Whether this line joins the logical line before it (a comment, or
    /// anything that starts with white space, blank lines included).
    pub(crate) fn joins_previous(&self) -> bool {
        self.first().is_some_and(|b| b == b'#' || is_space(b))
    }
}

/// Where bytes that are not UTF-8 go: U+F780..U+F7FF (private use), one
/// char per byte, so that an edit writes them back unchanged.
const ESCAPE_BASE: u32 = 0xF700;

/// master.cf bytes as text; bytes that are not UTF-8 are escaped (see
/// [`bytes_of`]).
pub(crate) fn text_of(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let mut text = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for &b in chunk.invalid() {
            text.extend(char::from_u32(ESCAPE_BASE + u32::from(b)));
        }
    }
    text
}

/// Text from [`text_of`] (or anything printed from it) back to the bytes
/// it came from.
pub fn bytes_of(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u32::from(c).checked_sub(ESCAPE_BASE) {
            Some(b @ 0x80..=0xff) => out.push(b as u8),
            _ => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out
}

/// Split into physical lines. A final newline does not start a new line.
pub(crate) fn physical(bytes: &[u8]) -> Vec<Physical<'_>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                out.push(Physical {
                    bytes: &rest[..i],
                    newline: true,
                });
                rest = &rest[i + 1..];
            }
            None => {
                out.push(Physical {
                    bytes: rest,
                    newline: false,
                });
                rest = &[];
            }
        }
    }
    out
}

/// The logical lines of `bytes`. Text that continues nothing is dropped
/// with a warning, like Postfix does, so one bad line does not hide the
/// rest of the file.
pub(crate) fn logical_lines(
    bytes: &[u8],
    path: &str,
    warn: &mut dyn FnMut(Warning),
) -> Vec<Logical> {
    let lines = physical(bytes);
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut first = 0;
    for (i, line) in lines.iter().enumerate() {
        if !line.is_passive() {
            if buf.is_empty() {
                first = i + 1;
            }
            buf.extend_from_slice(line.bytes);
        }
        let ends = lines.get(i + 1).is_none_or(|next| !next.joins_previous());
        if buf.is_empty() || !ends {
            continue;
        }
        let text = text_of(&buf);
        buf.clear();
        if text.as_bytes().first().is_some_and(|&b| is_space(b)) {
            warn(Warning::LeadingWhitespace {
                path: path.to_string(),
                text,
            });
        } else {
            out.push(Logical { text, line: first });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logical(text: &str) -> (Vec<(usize, String)>, Vec<String>) {
        let mut warnings = Vec::new();
        let lines = logical_lines(text.as_bytes(), "./master.cf", &mut |w| {
            warnings.push(w.to_string())
        });
        (
            lines.into_iter().map(|l| (l.line, l.text)).collect(),
            warnings,
        )
    }

    #[test]
    fn continuation_comments_and_blank_lines() {
        let (lines, w) = logical(
            "# c\nsmtp inet n - n - - smtpd\n\n# comment\n   # indented\n  \n -o a=b\nx y\n",
        );
        assert_eq!(
            lines,
            vec![
                (2, "smtp inet n - n - - smtpd -o a=b".to_string()),
                (8, "x y".to_string())
            ]
        );
        assert!(w.is_empty());
    }

    #[test]
    fn leading_continuation_is_dropped_with_warning() {
        let (lines, w) = logical("  -o foo=bar\n more\nsmtp inet\n");
        assert_eq!(lines, vec![(3, "smtp inet".to_string())]);
        assert_eq!(
            w,
            vec!["./master.cf: logical line must not start with whitespace: \"  -o foo=bar more\""]
        );
    }

    #[test]
    fn last_line_without_newline() {
        let (lines, _) = logical("a b\n c");
        assert_eq!(lines, vec![(1, "a b c".to_string())]);
        assert!(logical("").0.is_empty());
        assert!(logical("\n\n#x").0.is_empty());
    }

    #[test]
    fn bytes_that_are_not_utf8_survive() {
        let raw = b"a=\xff caf\xc3\xa9 \xc3";
        let text = text_of(raw);
        assert!(text.contains("caf\u{e9}"));
        assert_eq!(bytes_of(&text), raw);
        assert_eq!(bytes_of("plain \u{e9}"), "plain \u{e9}".as_bytes());
    }

    #[test]
    fn physical_line_kinds() {
        let lines = physical(b"a\n\n #x\n\tb\nc");
        assert_eq!(lines.len(), 5);
        assert!(!lines[0].is_passive() && !lines[0].is_continuation());
        assert!(lines[1].is_passive() && lines[1].joins_previous());
        assert!(lines[2].is_passive() && lines[2].joins_previous());
        assert!(lines[3].is_continuation());
        assert!(!lines[4].newline && !lines[4].joins_previous());
    }
}
