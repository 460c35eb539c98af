//! Diagnostics in Postfix's shape: `postconf: warning: text` on stderr.
//!
//! Standard output is flushed before each diagnostic, so that the two
//! streams interleave as they do with the real postconf when both are sent
//! to one file.

use std::fmt::Display;
use std::io::Write;
use std::process::ExitCode;

const PROGNAME: &str = "postconf";

pub(crate) fn warn(text: impl Display) {
    let _ = std::io::stdout().flush();
    eprintln!("{PROGNAME}: warning: {text}");
}

/// Report a fatal error; the caller returns the exit code.
pub(crate) fn fatal(text: impl Display) -> ExitCode {
    let _ = std::io::stdout().flush();
    eprintln!("{PROGNAME}: fatal: {text}");
    ExitCode::FAILURE
}
