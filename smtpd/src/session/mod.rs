//! The SMTP session, sans I/O: a [`State`] enum and one function per
//! verb, each taking the session and the parsed command and returning a
//! [`Response`] (a reply and what the connection does next). The
//! connection driver ([`crate::conn`]) reads lines and content, calls
//! [`Session::handle`], and writes the replies.
//!
//! Each command's restrictions run through [`crate::restrictions`] (see
//! `restrict.rs`): their log lines are logged, a rejection becomes the
//! reply (and counts as an error), and the actions they leave (HOLD,
//! DISCARD, FILTER, ...) go with the message.

mod auth;
mod bdat;
mod data;
mod etrn;
mod helo;
mod mail;
mod noop;
mod quit;
mod rcpt;
mod restrict;
mod rset;
mod starttls;
mod stats;
mod unknown;
mod vrfy;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cleanup::{Origin, SenderParams};
use queue::QueueId;

pub use data::{Delivery, Ended};
pub use stats::Stats;

use crate::bare_newline::Mode;
use crate::client::Client;
use crate::command::{Command, Line, MailFrom, Parsed, RcptTo, Verb};
use crate::config::{Settings, TlsLevel};
use crate::log::{self, Log};
use crate::received::{Stamp, TlsInfo};
use crate::reply::{self, Reply};

/// A mail transaction: MAIL FROM and the recipients so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub from: MailFrom,
    pub recipients: Vec<RcptTo>,
    /// RCPTs refused for `smtpd_recipient_limit`.
    overshoot: usize,
}

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum State {
    /// No transaction: before MAIL, after RSET or a finished message.
    #[default]
    Idle,
    /// MAIL accepted; recipients being collected.
    Mail(Transaction),
    /// BDAT chunks arriving (RFC 3030).
    Chunking(Transaction),
    /// A BDAT failed: chunks are read and dropped until RSET (Postfix).
    ChunkingFailed,
}

/// What the connection does after the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// Write the reply, then close.
    Close,
    /// Write the reply, drop buffered input, start the TLS handshake.
    StartTls,
    /// Write 354, then read DATA content.
    ReadData,
    /// Read a BDAT chunk into the message.
    ReadChunk {
        size: u64,
        last: bool,
    },
    /// Read a BDAT chunk, drop it, then send `then`.
    DiscardChunk {
        size: u64,
        then: Reply,
    },
}

/// A command's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub reply: Option<Reply>,
    pub next: Next,
    /// Wait before the reply (`smtpd_error_sleep_time`).
    pub delay: Option<Duration>,
}

impl Response {
    fn silent(next: Next) -> Response {
        Response {
            reply: None,
            next,
            delay: None,
        }
    }
}

/// One SMTP session.
#[derive(Debug)]
pub struct Session {
    settings: Arc<Settings>,
    client: Client,
    mode: Mode,
    helo: Option<String>,
    esmtp: bool,
    /// PIPELINING was announced (EHLO, not discarded).
    pipelining: bool,
    tls_available: bool,
    tls: Option<TlsInfo>,
    state: State,
    errors: u32,
    junk: u32,
    stats: Stats,
    /// The last command, for "lost connection after X" (Postfix `where`).
    last: &'static str,
    /// What the restrictions know about this session.
    checks: crate::restrictions::State,
    /// The client restrictions refused the connection
    /// (`smtpd_delay_reject = no`): every command but QUIT gets 503.
    access_denied: bool,
    /// Added to the next reply's delay (the `sleep` restriction).
    sleep: Duration,
    /// The MAIL/RCPT address the parser refused, for the warning.
    illegal_address: Option<String>,
}

impl Session {
    /// A new session; `tls_available`: a certificate is loaded.
    pub fn new(settings: Arc<Settings>, client: Client, tls_available: bool) -> Session {
        let mode = Mode::for_client(&settings, &client.name, client.addr);
        let checks = restrict::state_for(&client);
        Session {
            settings,
            client,
            mode,
            helo: None,
            esmtp: false,
            pipelining: false,
            tls_available,
            tls: None,
            state: State::Idle,
            errors: 0,
            junk: 0,
            stats: Stats::default(),
            last: "CONNECT",
            checks,
            access_denied: false,
            sleep: Duration::ZERO,
            illegal_address: None,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn log(&self) -> &Log {
        &self.settings.log
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The command being processed or last processed (`CONNECT` before
    /// the first; `END-OF-MESSAGE` after a message).
    pub fn last_command(&self) -> &'static str {
        self.last
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The banner, or the client restrictions' refusal (only with
    /// `smtpd_delay_reject = no`; RFC 5321 §3.1 allows 554 here).
    pub fn greeting(&mut self) -> Reply {
        if let Some(refusal) = self.restrict(|e, st| e.check_client(st)) {
            self.access_denied = true;
            self.errors += 1;
            return refusal;
        }
        reply::greeting(&self.settings.banner)
    }

    /// Answer one command line.
    pub fn handle(&mut self, parsed: Parsed) -> Response {
        let verb = parsed.verb;
        self.last = verb.name();
        if matches!(
            verb,
            Verb::Helo | Verb::Ehlo | Verb::Rset | Verb::Noop | Verb::Vrfy | Verb::Etrn
        ) {
            self.junk += 1;
            if self.junk > self.settings.junk_command_limit {
                self.errors += 1;
            }
        }
        if self.access_denied && verb != Verb::Quit {
            let reply = reply::access_denied(&self.client.namaddr());
            return self.respond(verb, reply, Next::Continue);
        }
        if self.needs_tls_first(verb) {
            return self.respond(verb, reply::starttls_first(), Next::Continue);
        }
        let command = parsed.command;
        self.illegal_address = parsed.illegal_address;
        match verb {
            Verb::Helo => helo::helo(
                self,
                take(command, |c| match c {
                    Command::Helo(name) => Some(name),
                    _ => None,
                }),
            ),
            Verb::Ehlo => helo::ehlo(
                self,
                take(command, |c| match c {
                    Command::Ehlo(name) => Some(name),
                    _ => None,
                }),
            ),
            Verb::Mail => mail::mail(
                self,
                take(command, |c| match c {
                    Command::Mail(m) => Some(m),
                    _ => None,
                }),
            ),
            Verb::Rcpt => rcpt::rcpt(
                self,
                take(command, |c| match c {
                    Command::Rcpt(r) => Some(r),
                    _ => None,
                }),
            ),
            Verb::Data => data::data(self, command.map(|_| ())),
            Verb::Bdat => bdat::bdat(
                self,
                take(command, |c| match c {
                    Command::Bdat { size, last } => Some((size, last)),
                    _ => None,
                }),
            ),
            Verb::Rset => rset::rset(self, command.map(|_| ())),
            Verb::Noop => noop::noop(self),
            Verb::Help => noop::help(self),
            Verb::Quit => quit::quit(self),
            Verb::Auth => auth::auth(self),
            Verb::StartTls => starttls::starttls(self, command.map(|_| ())),
            Verb::Vrfy => vrfy::vrfy(
                self,
                take(command, |c| match c {
                    Command::Vrfy(arg) => Some(arg),
                    _ => None,
                }),
            ),
            Verb::Etrn => etrn::etrn(
                self,
                take(command, |c| match c {
                    Command::Etrn(arg) => Some(arg),
                    _ => None,
                }),
            ),
            Verb::Unknown => unknown::unknown(
                self,
                take(command, |c| match c {
                    Command::Unknown { word, line } => Some((word, line)),
                    _ => None,
                }),
            ),
        }
    }

    /// `smtpd_tls_security_level = encrypt`: only the pre-TLS commands
    /// before STARTTLS.
    fn needs_tls_first(&self, verb: Verb) -> bool {
        self.settings.tls.level == TlsLevel::Encrypt
            && self.tls.is_none()
            && verb != Verb::Unknown
            && !verb.allowed_before_tls()
    }

    /// Checks on the raw line before it is answered: a bare LF under
    /// `smtpd_forbid_bare_newline = reject`, and input pipelined where
    /// RFC 2920 forbids it (`smtpd_forbid_unauth_pipelining`). `pending`
    /// is the input that followed the line. Some response ends the
    /// session.
    pub fn screen(&mut self, line: &Line<'_>, verb: Verb, pending: &[u8]) -> Option<Response> {
        // For reject_unauth_pipelining.
        self.checks.pipelined = !pending.is_empty();
        if line.bare_lf && self.mode == Mode::Reject {
            self.log().info(format_args!(
                "NOQUEUE: reject: {} from {}: bare <LF> received; proto={}",
                self.last,
                self.client.namaddr(),
                self.protocol()
            ));
            let reply = reply::bare_newline(
                self.settings.bare_newline_reject_code,
                &self.settings.myhostname,
            );
            return Some(Response {
                reply: Some(reply),
                next: Next::Close,
                delay: None,
            });
        }
        let allowed = self.pipelining && !verb.ends_group();
        if self.settings.forbid_unauth_pipelining
            && !pending.is_empty()
            && !allowed
            && verb != Verb::Quit
        {
            self.log().info(format_args!(
                "improper command pipelining after {} from {}: {}",
                verb.name(),
                self.client.namaddr(),
                log::escape(pending, 100)
            ));
            return Some(self.respond(verb, reply::pipelining_violation(), Next::Close));
        }
        None
    }

    /// Input before the greeting (`smtpd_forbid_unauth_pipelining`): the
    /// reply instead of the banner, or None when allowed.
    pub fn screen_pregreet(&self, early: &[u8]) -> Option<Reply> {
        if early.is_empty() || !self.settings.forbid_unauth_pipelining {
            return None;
        }
        self.log().info(format_args!(
            "improper command pipelining after CONNECT from {}: {}",
            self.client.namaddr(),
            log::escape(early, 100)
        ));
        Some(reply::pipelining_violation())
    }

    /// `smtpd_hard_error_limit` reached: the reply before closing.
    pub fn too_many_errors(&self) -> Option<Reply> {
        (self.errors >= self.settings.hard_error_limit)
            .then(|| reply::too_many_errors(&self.settings.myhostname))
    }

    /// Count the command, the error (if the reply is one), and compute
    /// the error delay.
    fn respond(&mut self, verb: Verb, reply: Reply, next: Next) -> Response {
        let delay = self.count(verb, &reply, true);
        let delay = self.add_sleep(delay);
        Response {
            reply: Some(reply),
            next,
            delay,
        }
    }

    /// [`Session::respond`] that may leave the error count alone.
    fn count(&mut self, verb: Verb, reply: &Reply, counts_as_error: bool) -> Option<Duration> {
        let ok = reply.is_positive();
        self.stats.count(verb, ok);
        if ok || !counts_as_error {
            return None;
        }
        let sleep = self.settings.error_sleep;
        let delay =
            (self.errors >= self.settings.soft_error_limit && !sleep.is_zero()).then_some(sleep);
        self.errors += 1;
        delay
    }

    /// The protocol name for logs, `Received:` and the queue file.
    pub fn protocol(&self) -> &'static str {
        let utf8 = match &self.state {
            State::Mail(t) | State::Chunking(t) => t.from.params.smtputf8,
            _ => false,
        };
        match (self.esmtp, self.tls.is_some(), utf8) {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "UTF8SMTP",
            (true, true, true) => "UTF8SMTPS",
        }
    }

    /// The transaction whose content is being read.
    pub fn transaction(&self) -> Option<&Transaction> {
        match &self.state {
            State::Mail(t) | State::Chunking(t) => Some(t),
            _ => None,
        }
    }

    /// The attributes the queue file records.
    pub fn origin(&self) -> Origin {
        Origin {
            client_name: self.client.name.clone(),
            reverse_client_name: self.client.reverse_name.clone(),
            client_address: self.client.addr.to_string(),
            client_port: self.client.port,
            helo: self.helo.clone(),
            protocol: self.protocol().to_string(),
            header_rewrite: self.settings.header_rewrite.context(&self.client),
        }
    }

    /// MAIL FROM's parameters for the queue file.
    pub fn sender_params(&self) -> SenderParams {
        self.transaction()
            .map(|t| t.from.params.clone())
            .unwrap_or_default()
    }

    /// The `Received:` header for message `queue_id`.
    pub fn received(&self, queue_id: &QueueId, arrival: SystemTime) -> Vec<String> {
        let recipients = self
            .transaction()
            .map(|t| t.recipients.as_slice())
            .unwrap_or_default();
        let single = match recipients {
            [one] => Some(one.address.as_str()),
            _ => None,
        };
        let addr = self.client.rfc_addr();
        Stamp {
            helo: self.helo.as_deref(),
            client_name: &self.client.name,
            client_addr: &addr,
            tls: self.tls.as_ref(),
            tls_comment: self.settings.tls.received_header,
            myhostname: &self.settings.myhostname,
            mail_name: &self.settings.mail_name,
            protocol: self.protocol(),
            queue_id: queue_id.as_str(),
            single_recipient: single,
            arrival,
        }
        .lines()
    }

    /// The TLS handshake succeeded: forget everything said before it
    /// (RFC 3207 §4.2).
    pub fn tls_started(&mut self, info: TlsInfo) {
        let encryption = crate::restrictions::Encryption {
            protocol: info.protocol.clone(),
            cipher: info.cipher.clone(),
            keysize: info.bits,
        };
        self.tls = Some(info);
        self.helo = None;
        self.esmtp = false;
        self.pipelining = false;
        self.state = State::Idle;
        self.checks = restrict::state_for(&self.client);
        self.checks.encryption = Some(encryption);
    }

    /// `from=<...> to=<...> proto=... helo=<...>` for reject logs.
    fn envelope_log(&self) -> String {
        let (from, to) = match self.transaction() {
            Some(t) => (
                t.from.address.clone(),
                t.recipients.last().map(|r| r.address.clone()),
            ),
            None => (String::new(), None),
        };
        let mut text = format!("from=<{from}>");
        if let Some(to) = to {
            text.push_str(&format!(" to=<{to}>"));
        }
        text.push_str(&format!(" proto={}", self.protocol()));
        if let Some(h) = &self.helo {
            text.push_str(&format!(" helo=<{h}>"));
        }
        text
    }

    /// The disconnect log line's counts (`ehlo=1 mail=1 ... commands=5`).
    pub fn disconnect_line(&self) -> String {
        format!("disconnect from {} {}", self.client.namaddr(), self.stats)
    }
}

/// The typed argument of a command whose verb is known, or its reply.
fn take<T>(
    command: Result<Command, Reply>,
    pick: impl FnOnce(Command) -> Option<T>,
) -> Result<T, Reply> {
    // parse() pairs each verb with its own variant; anything else is a
    // bug that the client sees as a syntax error rather than a panic.
    command.and_then(|c| pick(c).ok_or_else(reply::bad_syntax))
}

#[cfg(test)]
mod tests;
