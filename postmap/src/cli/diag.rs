//! Diagnostics and standard output the way Postfix's postmap produces
//! them: `postmap: warning: text` on stderr, unbuffered; every message run
//! through `printable()` (msg_output.c), so tabs, control characters and
//! non-ASCII bytes show as `?`; and standard output held in a 4096-byte
//! buffer (a VSTREAM) that is written when full or at a normal exit, and
//! dropped by a fatal error, as `msg_fatal()` exits without flushing it.

use std::fmt::Display;
use std::io::{self, BufWriter, Stdout, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// The program name in messages: `postmap` or `postalias`.
static PROGRAM: OnceLock<&'static str> = OnceLock::new();
/// `smtputf8_enable = yes`: valid UTF-8 is printable too.
static UTF8: AtomicBool = AtomicBool::new(false);

/// A fatal error: the text after `postmap: fatal: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fatal(pub(crate) String);

pub(crate) fn fatal(text: impl Display) -> Fatal {
    Fatal(text.to_string())
}

/// Name the program in every later message (call once, first).
pub(crate) fn set_program(name: &'static str) {
    let _ = PROGRAM.set(name);
}

/// Let valid UTF-8 through in messages (`smtputf8_enable = yes`).
pub(crate) fn set_utf8(on: bool) {
    UTF8.store(on, Ordering::Relaxed);
}

fn program() -> &'static str {
    PROGRAM.get().copied().unwrap_or("postmap")
}

/// Postfix `printable()`: each byte outside printable ASCII becomes `?`,
/// except, with SMTPUTF8, the bytes of valid multi-byte UTF-8.
pub(crate) fn printable_bytes(bytes: &[u8]) -> String {
    let utf8 = UTF8.load(Ordering::Relaxed);
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if (' '..='~').contains(&c) || (utf8 && !c.is_ascii() && !c.is_control()) {
                out.push(c);
            } else {
                (0..c.len_utf8()).for_each(|_| out.push('?'));
            }
        }
        (0..chunk.invalid().len()).for_each(|_| out.push('?'));
    }
    out
}

/// `postmap: text`, as getopt complains, without a severity.
pub(crate) fn plain(text: impl Display) {
    emit(None, &text.to_string());
}

pub(crate) fn warn(text: impl Display) {
    emit(Some("warning"), &text.to_string());
}

/// Print a fatal error; the caller exits with status 1.
pub(crate) fn print_fatal(err: &Fatal) {
    emit(Some("fatal"), &err.0);
}

fn emit(level: Option<&str>, text: &str) {
    let text = printable_bytes(text.as_bytes());
    let line = match level {
        Some(level) => format!("{}: {level}: {text}\n", program()),
        None => format!("{}: {text}\n", program()),
    };
    let _ = io::stderr().write_all(line.as_bytes());
}

/// Overwrite the status line on a terminal (no newline): `\r`, the
/// text, then erase to the end of the line. An empty text erases it.
pub(crate) fn status_line(text: &str) {
    let line = if text.is_empty() {
        "\r\x1b[K".to_string()
    } else {
        format!(
            "\r{}: {}\x1b[K",
            program(),
            printable_bytes(text.as_bytes())
        )
    };
    let _ = io::stderr().write_all(line.as_bytes());
}

/// Standard output, buffered like a VSTREAM.
#[derive(Debug)]
pub(crate) struct Output {
    w: BufWriter<Stdout>,
}

impl Default for Output {
    fn default() -> Output {
        Output {
            w: BufWriter::with_capacity(4096, io::stdout()),
        }
    }
}

impl Output {
    /// Write `parts` followed by a newline.
    pub(crate) fn line(&mut self, parts: &[&[u8]]) -> Result<(), Fatal> {
        parts
            .iter()
            .try_for_each(|p| self.w.write_all(p))
            .and_then(|()| self.w.write_all(b"\n"))
            .map_err(write_error)
    }

    /// Write what is buffered: the end of a successful run.
    pub(crate) fn flush(&mut self) -> Result<(), Fatal> {
        self.w.flush().map_err(write_error)
    }

    /// Drop what is buffered, as a fatal error does.
    pub(crate) fn discard(self) {
        let _ = self.w.into_parts();
    }
}

fn write_error(e: io::Error) -> Fatal {
    fatal(format!("write standard output: {}", conf::io_reason(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_replaces_each_byte() {
        set_utf8(false);
        assert_eq!(printable_bytes(b"a\tb"), "a?b");
        assert_eq!(printable_bytes(b"k\xe4 v"), "k? v");
        assert_eq!(printable_bytes("ä".as_bytes()), "??");
        assert_eq!(printable_bytes(b"ok ~"), "ok ~");
    }
}
