//! Postfix's built-in content inspection (header_checks(5)):
//! header_checks, mime_header_checks, nested_header_checks and
//! body_checks, applied while walking a message's MIME structure.
//!
//! - [`Maps`] holds the opened tables of the four parameters (cleanup's,
//!   or a delivery agent's `smtp_*`/`lmtp_*` ones).
//! - [`Action`] is a parsed table answer.
//! - [`Inspector`] walks one message and applies the checks: it reports
//!   [`Output`]s (what to write, what was removed, what was logged) and
//!   collects the [`Verdict`] (reject, discard, hold, filter, redirect,
//!   bcc).
//! - [`LogContext`] and [`Logged`] render the log lines in Postfix's
//!   shape.
//!
//! Which table a header goes to: MIME headers (`Content-*`,
//! `MIME-Version`) to mime_header_checks wherever they are; other headers
//! of the primary block to header_checks, of an attached message to
//! nested_header_checks, and of a multipart part to mime_header_checks.
//! Body lines, boundaries included, go to body_checks, up to
//! body_checks_size_limit bytes into each body part. Empty lines are
//! never looked up.

mod action;
mod inspect;
mod log;
mod maps;
mod verdict;

pub use action::Action;
pub use inspect::{Inspector, Output, Profile, cleanup_mime_options};
pub use log::{LogAction, LogContext, Logged, printable};
pub use maps::{Family, Maps, Specs};
pub use verdict::{Rejection, Verdict};

/// Whether a check looked at a header or a body line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Header,
    Body,
}

impl Context {
    /// The word log lines use: `header` or `body`.
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Header => "header",
            Context::Body => "body",
        }
    }
}
