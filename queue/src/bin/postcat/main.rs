//! # NAME
//! `postcat` — show queue file contents.
//!
//! # SYNOPSIS
//! ```text
//! postcat [-bdehoqrv] [-c config_dir] [-s offset] [files...]
//! ```
//!
//! # DESCRIPTION
//! Prints the named queue files, or standard input when none is named,
//! in human-readable form, with the section markers and line shapes of
//! Postfix's postcat: `*** ENVELOPE RECORDS file ***`, `message_size:`,
//! `message_arrival_time:` (local time, `asctime(3)` form),
//! `named_attribute: name=value`, `sender:`, `original_recipient:`,
//! `recipient:` or `done_recipient:`, `*** MESSAGE CONTENTS file ***`,
//! the message lines, `*** HEADER EXTRACTED file ***` with `hold_reason:`,
//! `content_filter:`, `redirect_to:` and added recipients, and
//! `*** MESSAGE FILE END file ***`.
//!
//! - `-e`, `-h`, `-b`: show the envelope (with the section markers), the
//!   header lines, the body lines (from the empty line after the header);
//!   any combination; none means all three.
//! - `-q`: the arguments are queue IDs, looked up in `maildrop`,
//!   `incoming`, `active`, `deferred`, `hold` and `saved`.
//! - `-o`: print each record's file offset; `-d`: its type byte as a
//!   decimal number.
//! - `-s offset`: start reading at that file offset.
//! - `-v`: also show record type names of content lines and the format
//!   version. `-r` is accepted: there are no pointer records to follow.
//! - `-c config_dir`: read `main.cf` there.
//!
//! A recipient's DSN parameters show as Postfix shows them:
//! `named_attribute: notify_flags=N` and `named_attribute: dsn_orig_rcpt=...`.
//! The files are in this suite's queue format (`docs/queue-format.md`);
//! Postfix's own queue files are not understood (`input is not a valid
//! queue file`), and Postfix's postcat cannot read ours. `message_size:`
//! shows the message length, content offset and recipient count in
//! Postfix's first three columns.
//!
//! # SECURITY
//! Not set-uid; runs with the caller's privileges and reads the files as
//! untrusted input: every record length is checked before it is read,
//! and a damaged record ends the output with an error, never a crash.
//! Message lines are written to standard output as stored, unfiltered.
//!
//! # DIAGNOSTICS
//! Problems go to stderr as `postcat: warning: ...` and
//! `postcat: fatal: ...`. Exit status 0 on success, also after the
//! warnings `input is not a valid queue file` and `unsupported queue
//! file version N` (the next file is read), `premature end of file` and
//! `checksum mismatch`; 1 after a fatal error: an unreadable
//! file (`open file: reason`, `open queue file ID: reason`), a bad
//! queue ID, a damaged record (a warning naming the damage, then
//! `record read error`), a usage error, or a missing `main.cf`.
//!
//! # CONFIGURATION PARAMETERS
//! - `queue_directory` (`/var/spool/postfix`): where `-q` looks.
//!
//! The configuration directory is `-c config_dir`, else `$MAIL_CONFIG`,
//! else `/etc/postfix`; its `main.cf` must exist.
//!
//! # FILES
//! `$queue_directory/{maildrop,incoming,active,deferred,hold,saved}/ID`.
//! The time zone is `$TZ`, else `/etc/localtime`.
//!
//! # SEE ALSO
//! postconf(5), docs/queue-format.md.

mod diag;
mod input;
mod opts;
mod print;

use std::process::ExitCode;

use opts::{OptError, Opts};

const USAGE: &str = "usage: postcat [-b (body text)] [-c config_dir] [-d (decimal record type)] \
                     [-e (envelope records)] [-h (header text)] [-q (access queue)] [-v] \
                     [file(s)...]";

/// The main.cf parameters read, which the header above must list.
const PARAMETERS: &[&str] = &["queue_directory"];

fn main() -> ExitCode {
    let opts = match Opts::parse(std::env::args_os().skip(1)) {
        Ok(opts) => opts,
        Err(OptError::Usage(complaint)) => {
            if let Some(text) = complaint {
                diag::plain(&text);
            }
            return fatal(USAGE);
        }
        Err(OptError::Fatal(text)) => return fatal(&text),
    };
    let dir = opts
        .config_dir
        .clone()
        .unwrap_or_else(conf::config::default_config_dir);
    let queue_directory = conf::Config::load(&dir, &[])
        .and_then(|cfg| cfg.get(PARAMETERS[0]))
        .map(Option::unwrap_or_default);
    let queue_directory = match queue_directory {
        Ok(q) => q,
        Err(e) => return fatal(&e.to_string()),
    };
    let zone = jiff::tz::TimeZone::system();
    match input::run(&opts, &queue_directory, &zone) {
        Ok(()) => ExitCode::SUCCESS,
        Err(text) => fatal(&text),
    }
}

fn fatal(text: &str) -> ExitCode {
    diag::fatal(text);
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    /// The CONFIGURATION PARAMETERS section lists exactly the parameters
    /// the program reads.
    #[test]
    fn header_lists_the_parameters_read() {
        assert_eq!(
            conf::param::documented_parameters(include_str!("main.rs")),
            super::PARAMETERS
        );
    }
}
