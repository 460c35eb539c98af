//! DATA (RFC 5321 §4.1.1.4) and the end of every message (DATA or BDAT
//! LAST): the final reply, Postfix's log lines, and the reset.

use queue::QueueId;

use super::{Next, Response, Session, State};
use crate::command::Verb;
use crate::reply::{self, Reply};

/// What happened to the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Queued {
        id: QueueId,
        size: u64,
    },
    /// Dropped by a content check's DISCARD; the client sees "queued".
    Discarded {
        id: QueueId,
    },
    /// Refused by a content check.
    Rejected(Reply),
    /// Over `message_size_limit`.
    TooBig,
    /// A bare LF under `smtpd_forbid_bare_newline = reject`.
    BareNewline,
    /// A local error writing the queue file.
    Failed(String),
}

/// A finished message: its queue ID (when a file was opened) and fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub id: Option<QueueId>,
    pub delivery: Delivery,
}

pub(super) fn data(s: &mut Session, args: Result<(), Reply>) -> Response {
    let fail = |s: &mut Session, r: Reply| s.respond(Verb::Data, r, Next::Continue);
    match &s.state {
        State::Idle => return fail(s, reply::need_rcpt()),
        State::Chunking(_) | State::ChunkingFailed => return fail(s, reply::data_after_bdat()),
        State::Mail(t) if t.recipients.is_empty() => return fail(s, reply::no_valid_recipients()),
        State::Mail(_) => {}
    }
    if let Err(r) = args {
        return fail(s, r);
    }
    if let Some(r) = s.restrict(|e, st| e.check_data(st)) {
        return fail(s, r);
    }
    // DATA is counted when the message ends, with the final reply.
    Response {
        reply: Some(reply::start_data()),
        next: Next::ReadData,
        delay: None,
    }
}

impl Session {
    /// `ID: client=name[addr]`, when the queue file is opened.
    pub fn opened(&self, id: &QueueId) {
        self.log()
            .info(format_args!("{id}: client={}", self.client.namaddr()));
    }

    /// The message ended (after DATA's dot, or BDAT LAST with the byte
    /// `total`): the final reply, and back to [`State::Idle`].
    pub fn message_done(&mut self, ended: Ended, bdat_total: Option<u64>) -> Response {
        let verb = if bdat_total.is_some() {
            Verb::Bdat
        } else {
            Verb::Data
        };
        let id = ended.id.as_ref().map_or("NOQUEUE", QueueId::as_str);
        let reply = match &ended.delivery {
            Delivery::Queued { id, .. } | Delivery::Discarded { id } => match bdat_total {
                Some(total) => reply::chunks_queued(total, id),
                None => reply::queued(id),
            },
            Delivery::Rejected(r) => r.clone(),
            Delivery::TooBig => {
                self.log()
                    .warning(format_args!("{id}: queue file size limit exceeded"));
                reply::message_too_big()
            }
            Delivery::BareNewline => {
                self.log().info(format_args!(
                    "{id}: reject: END-OF-MESSAGE from {}: bare <LF> received; {}",
                    self.client.namaddr(),
                    self.envelope_log()
                ));
                reply::bare_newline(
                    self.settings.bare_newline_reject_code,
                    &self.settings.myhostname,
                )
            }
            Delivery::Failed(why) => {
                self.log()
                    .warning(format_args!("{id}: queue file write error: {why}"));
                reply::queue_write_error()
            }
        };
        let ok = reply.is_positive();
        self.state = State::Idle;
        self.end_transaction();
        self.last = "END-OF-MESSAGE";
        let response = self.respond(verb, reply, Next::Continue);
        if ok {
            // Postfix forgives earlier errors once a message got through.
            self.errors = 0;
            self.junk = 0;
        }
        response
    }
}
