//! Diagnostics on stderr as Postfix's msg(3) writes them:
//! `postcat: warning: text`, `postcat: fatal: text`, each byte outside
//! printable ASCII shown as `?` (msg_output.c `printable()`).

use std::io::Write;

const PROGRAM: &str = "postcat";

fn printable(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if (b' '..=b'~').contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

fn emit(level: Option<&str>, text: &str) {
    let text = printable(text);
    let line = match level {
        Some(level) => format!("{PROGRAM}: {level}: {text}\n"),
        None => format!("{PROGRAM}: {text}\n"),
    };
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// `postcat: text`, as getopt complains.
pub(crate) fn plain(text: &str) {
    emit(None, text);
}

pub(crate) fn warning(text: &str) {
    emit(Some("warning"), text);
}

/// Print a fatal error; the caller exits with status 1.
pub(crate) fn fatal(text: &str) {
    emit(Some("fatal"), text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_non_ascii_bytes_become_question_marks() {
        assert_eq!(printable("a\tb\n"), "a?b?");
        assert_eq!(printable("é"), "??");
        assert_eq!(printable("ok ~"), "ok ~");
    }
}
