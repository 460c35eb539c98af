//! Diagnostics in Postfix's shape: `postconf: warning: text` on stderr.
//!
//! Like Postfix's `printable()`, every byte outside printable ASCII is
//! shown as `?`, so a tab or newline from a configuration file cannot
//! forge output lines. Standard output is buffered separately (see
//! [`crate::output`]), as Postfix's is.

use std::fmt::Display;
use std::process::ExitCode;

const PROGNAME: &str = "postconf";

/// `text` with each byte that is not printable ASCII replaced by `?`.
fn printable(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

pub(crate) fn warn(text: impl Display) {
    eprintln!("{PROGNAME}: warning: {}", printable(&text.to_string()));
}

/// Report a fatal error; the caller returns the exit code.
pub(crate) fn fatal(text: impl Display) -> ExitCode {
    eprintln!("{PROGNAME}: fatal: {}", printable(&text.to_string()));
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_non_ascii_bytes_become_question_marks() {
        assert_eq!(printable("a\tb\nc"), "a?b?c");
        assert_eq!(printable("caf\u{e9}"), "caf??");
        assert_eq!(printable("plain text"), "plain text");
    }
}
