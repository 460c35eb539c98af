//! SMTP commands, sans I/O: [`mod@line`] finds command lines in the input,
//! [`parse()`] turns one into a [`Command`] through smtp-proto plus our
//! guards for its gaps (see `parse`); [`token`] splits a line as
//! Postfix's smtpd does, to find the address argument as it sees it.

pub mod line;
pub mod parse;
pub mod token;

pub use line::{CommandReader, Line, Next};
pub use parse::parse;

use cleanup::SenderParams;
use queue::Notify;

use crate::reply::Reply;

/// The command word, known even when the arguments are bad: it names the
/// command in logs and in the per-command counts of the disconnect line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Helo,
    Ehlo,
    StartTls,
    Auth,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Vrfy,
    Etrn,
    Quit,
    Help,
    Unknown,
}

impl Verb {
    /// In Postfix's order of the disconnect statistics.
    pub const ALL: [Verb; 15] = [
        Verb::Helo,
        Verb::Ehlo,
        Verb::StartTls,
        Verb::Auth,
        Verb::Mail,
        Verb::Rcpt,
        Verb::Data,
        Verb::Bdat,
        Verb::Rset,
        Verb::Noop,
        Verb::Vrfy,
        Verb::Etrn,
        Verb::Quit,
        Verb::Help,
        Verb::Unknown,
    ];

    /// The word as a command name (`MAIL`), as logs show it.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Helo => "HELO",
            Verb::Ehlo => "EHLO",
            Verb::StartTls => "STARTTLS",
            Verb::Auth => "AUTH",
            Verb::Mail => "MAIL",
            Verb::Rcpt => "RCPT",
            Verb::Data => "DATA",
            Verb::Bdat => "BDAT",
            Verb::Rset => "RSET",
            Verb::Noop => "NOOP",
            Verb::Vrfy => "VRFY",
            Verb::Etrn => "ETRN",
            Verb::Quit => "QUIT",
            Verb::Help => "HELP",
            Verb::Unknown => "UNKNOWN",
        }
    }

    /// RFC 2920 §3.1: the commands that must end a pipelined group
    /// (and, Postfix adds, STARTTLS); under
    /// `smtpd_forbid_unauth_pipelining` input after one is a violation.
    pub fn ends_group(self) -> bool {
        matches!(
            self,
            Verb::Helo | Verb::Ehlo | Verb::Data | Verb::Noop | Verb::Vrfy | Verb::StartTls
        )
    }

    /// Commands that `smtpd_tls_security_level = encrypt` allows before
    /// STARTTLS (RFC 3207 §4).
    pub fn allowed_before_tls(self) -> bool {
        matches!(
            self,
            Verb::Helo | Verb::Ehlo | Verb::StartTls | Verb::Noop | Verb::Quit
        )
    }
}

/// `MAIL FROM:<address> parameters`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailFrom {
    /// Empty for the null sender `<>`.
    pub address: String,
    /// `SIZE=`, `BODY=`, `SMTPUTF8`, `RET=` and `ENVID=` (xtext-decoded,
    /// RFC 3461 §4.4), as cleanup records them with the message.
    pub params: SenderParams,
}

/// `RCPT TO:<address> parameters`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RcptTo {
    pub address: String,
    pub notify: Notify,
    /// `rfc822;address`, xtext-decoded (RFC 3461 §4.2).
    pub orcpt: Option<String>,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    StartTls,
    /// AUTH is not offered; smtp-proto's mechanism 0 (unknown) and the
    /// known ones get the same answer.
    Auth,
    Mail(MailFrom),
    Rcpt(RcptTo),
    Data,
    Bdat {
        size: u64,
        last: bool,
    },
    Rset,
    Noop,
    /// The argument as given (quotes and brackets kept).
    Vrfy(String),
    Etrn(String),
    Quit,
    Help,
    /// The command word (for `smtpd_forbidden_commands`) and the whole
    /// line (for the log).
    Unknown {
        word: String,
        line: String,
    },
}

/// A command line: its verb, and the command or the reply that says what
/// is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub verb: Verb,
    pub command: Result<Command, Reply>,
    /// The MAIL/RCPT address argument, as sent, when it was refused as
    /// illegal syntax (Postfix logs a warning with it).
    pub illegal_address: Option<String>,
}
