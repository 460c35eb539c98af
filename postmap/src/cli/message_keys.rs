//! Lookup keys from a message, for `postmap -h`/`-b -q -`: what Postfix's
//! MIME engine (mime_state.c) hands postmap. Sans-IO: feed it lines, it
//! calls back with keys.
//!
//! - A header starts at a line `name:` (`name :` is normalized to
//!   `name:`); lines that start with a space or tab continue it, joined
//!   with a newline; up to `header_size_limit` bytes are kept. With `-h`
//!   each complete header is a key.
//! - The first line that is neither ends the header block. An empty line
//!   is the first body line; any other line after the primary headers is
//!   preceded by an empty body line. With `-b` each body line is a key.
//!   With `-h` alone (no `-b`, no `-m`), input stops there.
//! - With `-m` ([`Mime`]), a `--boundary` line of a multipart starts a new
//!   header block (the part's headers), and so does the empty line after
//!   the headers of a `message/rfc822` part; those headers are `-h` keys
//!   too, and not `-b` keys.

use super::mime::{Ctype, Delimiter, Mime, Stype};
use super::query::c_str;

/// Whether to feed more input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Continue,
    /// `-h` without `-b`: the headers are done, stop reading.
    Done,
}

#[derive(Debug, Clone)]
pub(crate) struct MessageKeys {
    header_keys: bool,
    body_keys: bool,
    /// `header_size_limit`.
    limit: usize,
    /// With `-m`: the MIME structure.
    mime: Option<Mime>,
    in_body: bool,
    /// Stop at the end of the primary headers (`-h` alone).
    stop_after_headers: bool,
    /// In the primary header block (not a part's or nested message's).
    primary: bool,
    /// The header being collected.
    pending: Vec<u8>,
}

/// Postfix `is_header()`: the length of the header name when `line`
/// starts with `name:` or `name :` (printable ASCII, no space, in the
/// name), else 0.
fn header_name_len(line: &[u8]) -> usize {
    let mut len = 0;
    let mut after_space = false;
    for &c in line {
        match c {
            b':' => return len,
            b' ' | b'\t' if len > 0 => after_space = true,
            c if c.is_ascii_graphic() && !after_space => len += 1,
            _ => return 0,
        }
    }
    0
}

impl MessageKeys {
    pub(crate) fn new(
        header_keys: bool,
        body_keys: bool,
        limit: usize,
        mime: Option<Mime>,
    ) -> MessageKeys {
        MessageKeys {
            header_keys,
            body_keys,
            limit,
            stop_after_headers: header_keys && !body_keys && mime.is_none(),
            mime,
            in_body: false,
            primary: true,
            pending: Vec::new(),
        }
    }

    fn flush_header<E>(&mut self, key: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let header = std::mem::take(&mut self.pending);
        if let Some(mime) = &mut self.mime {
            mime.header(&header);
        }
        if self.header_keys {
            key(&header)?;
        }
        Ok(())
    }

    /// A body line: a key with `-b`; with `-m` a boundary may start the
    /// headers of a part.
    fn body<E>(
        &mut self,
        line: &[u8],
        key: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        if let Some(mime) = &mut self.mime
            && mime.delimiter(line) == Some(Delimiter::Part)
        {
            self.in_body = false;
        }
        if self.body_keys {
            key(c_str(line))
        } else {
            Ok(())
        }
    }

    /// The empty line that ends a header block: what comes next.
    fn after_headers(&mut self) {
        let Some(mime) = &mut self.mime else {
            return;
        };
        match mime.ctype {
            Ctype::Message if mime.stype == Stype::Rfc822 => {
                (mime.ctype, mime.stype) = (Ctype::Text, Stype::Plain);
                self.in_body = false;
            }
            Ctype::Multipart => (mime.ctype, mime.stype) = (Ctype::Other, Stype::Other),
            _ => {}
        }
    }

    /// One input line, without its newline. Keys end at a NUL, as the C
    /// strings Postfix looks up do; structure is judged on the whole line.
    pub(crate) fn line<E>(
        &mut self,
        line: &[u8],
        key: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<Step, E> {
        if self.in_body {
            self.body(line, key)?;
            return Ok(Step::Continue);
        }
        if !self.pending.is_empty() && matches!(line.first(), Some(b' ' | b'\t')) {
            if self.pending.len() < self.limit {
                self.pending.push(b'\n');
                self.pending.extend_from_slice(c_str(line));
            }
            return Ok(Step::Continue);
        }
        self.flush_header(key)?;
        let name = header_name_len(line);
        if name > 0 {
            let rest = &line[name..];
            let colon = rest.iter().position(|&c| c == b':').unwrap_or(0);
            self.pending.extend_from_slice(&line[..name]);
            self.pending.extend_from_slice(c_str(&rest[colon..]));
            return Ok(Step::Continue);
        }
        if self.primary && self.stop_after_headers {
            return Ok(Step::Done);
        }
        let primary = std::mem::replace(&mut self.primary, false);
        self.in_body = true;
        if line.is_empty() {
            self.after_headers();
        } else if primary {
            // Only the primary headers get a blank line before garbage:
            // Postfix leaves attachments as they are.
            self.body(b"", key)?;
        }
        self.body(line, key)?;
        Ok(Step::Continue)
    }

    /// The end of the input: a header still being collected is a key.
    pub(crate) fn finish<E>(
        &mut self,
        key: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        self.flush_header(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(headers: bool, body: bool, limit: usize, input: &str) -> Vec<String> {
        run(MessageKeys::new(headers, body, limit, None), input)
    }

    fn mime_keys(headers: bool, body: bool, input: &str) -> Vec<String> {
        run(
            MessageKeys::new(headers, body, 1000, Some(Mime::new(100, 2048))),
            input,
        )
    }

    fn run(mut keys: MessageKeys, input: &str) -> Vec<String> {
        let mut got = Vec::new();
        let mut collect = |k: &[u8]| -> Result<(), ()> {
            got.push(String::from_utf8_lossy(k).into_owned());
            Ok(())
        };
        for line in input.split('\n') {
            if keys.line(line.as_bytes(), &mut collect) == Ok(Step::Done) {
                break;
            }
        }
        let _ = keys.finish(&mut collect);
        got
    }

    const MESSAGE: &str = "From: a@b\nSubject : hi\n\tthere\nX-Empty:\n\nbody 1\n\nbody 2";

    #[test]
    fn headers_are_joined_and_normalized() {
        assert_eq!(
            keys(true, false, 1000, MESSAGE),
            ["From: a@b", "Subject: hi\n\tthere", "X-Empty:"]
        );
    }

    #[test]
    fn body_starts_with_the_empty_line() {
        assert_eq!(
            keys(false, true, 1000, MESSAGE),
            ["", "body 1", "", "body 2"]
        );
        assert_eq!(
            keys(true, true, 1000, MESSAGE).len(),
            7,
            "headers then body lines"
        );
    }

    #[test]
    fn a_non_header_line_gets_an_empty_line_before_it() {
        assert_eq!(
            keys(false, true, 1000, "A: b\nnot a header\nx"),
            ["", "not a header", "x"]
        );
        assert_eq!(
            keys(true, true, 1000, " leading space"),
            ["", " leading space"]
        );
    }

    #[test]
    fn header_at_end_of_input_is_flushed() {
        assert_eq!(keys(true, false, 1000, "A: b\n c"), ["A: b\n c"]);
    }

    #[test]
    fn long_headers_are_cut_after_the_limit() {
        assert_eq!(keys(true, false, 4, "A: b\n c\n d"), ["A: b"]);
        assert_eq!(keys(true, false, 5, "A: b\n c\n d"), ["A: b\n c"]);
    }

    #[test]
    fn header_names_follow_is_header() {
        assert_eq!(header_name_len(b"Subject: x"), 7);
        assert_eq!(header_name_len(b"Subject \t: x"), 7);
        assert_eq!(header_name_len(b"Sub ject: x"), 0);
        assert_eq!(header_name_len(b" Subject: x"), 0);
        assert_eq!(header_name_len(b": x"), 0);
        assert_eq!(header_name_len(b"no colon"), 0);
        assert_eq!(header_name_len("Ä: x".as_bytes()), 0);
    }

    const MULTIPART: &str = "Subject: s\nContent-Type: multipart/mixed; boundary=\"b\"\n\n\
        preamble\n--b\nContent-Type: text/plain\n\npart 1\n--b\n\
        Content-Type: message/rfc822\n\nFrom: inner\n\ninner body\n--b--\nepilogue";

    #[test]
    fn mime_finds_part_and_nested_headers() {
        assert_eq!(
            mime_keys(true, false, MULTIPART),
            [
                "Subject: s",
                "Content-Type: multipart/mixed; boundary=\"b\"",
                "Content-Type: text/plain",
                "Content-Type: message/rfc822",
                "From: inner",
            ]
        );
        assert_eq!(
            mime_keys(false, true, MULTIPART),
            [
                "",
                "preamble",
                "--b",
                "",
                "part 1",
                "--b",
                "",
                "",
                "inner body",
                "--b--",
                "epilogue"
            ]
        );
    }

    #[test]
    fn without_mime_parts_are_body_text() {
        let headers = keys(true, false, 1000, MULTIPART);
        assert_eq!(headers.len(), 2);
        assert!(keys(false, true, 1000, MULTIPART).contains(&"Content-Type: text/plain".into()));
    }

    #[test]
    fn garbage_in_a_part_gets_no_blank_line() {
        let message = "Content-Type: multipart/mixed; boundary=b\n\n--b\nbad\nA: b\n--\n---b";
        assert_eq!(
            mime_keys(false, true, message),
            ["", "--b", "bad", "A: b", "--", "---b"]
        );
    }

    #[test]
    fn keys_end_at_nul_but_lines_do_not() {
        let mut keys = MessageKeys::new(true, true, 1000, None);
        let mut got = Vec::new();
        let mut collect = |k: &[u8]| -> Result<(), ()> {
            got.push(k.to_vec());
            Ok(())
        };
        for line in [&b"A: b\0c"[..], b" d\0e", b"\0xyz", b"B: c"] {
            let _ = keys.line(line, &mut collect);
        }
        let _ = keys.finish(&mut collect);
        assert_eq!(got, [&b"A: b\n d"[..], b"", b"", b"B: c"]);
    }
}
