//! MAIL FROM (RFC 5321 §4.1.1.2) with SIZE (RFC 1870), BODY (RFC 6152),
//! SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461).

use super::{Next, Response, Session, State, Transaction};
use crate::command::{MailFrom, Verb};
use crate::reply::{self, Reply};

pub(super) fn mail(s: &mut Session, from: Result<MailFrom, Reply>) -> Response {
    let fail = |s: &mut Session, r: Reply| s.respond(Verb::Mail, r, Next::Continue);
    if s.settings.helo_required && s.helo.is_none() {
        return fail(s, reply::send_helo_first());
    }
    match s.state {
        State::Mail(_) | State::Chunking(_) => return fail(s, reply::nested_mail()),
        State::ChunkingFailed => return fail(s, reply::mail_after_bdat()),
        State::Idle => {}
    }
    let from = match from {
        Ok(from) => from,
        Err(r) => {
            s.warn_illegal_address("MAIL");
            return fail(s, r);
        }
    };
    if !from.address.is_ascii() && !from.params.smtputf8 {
        let r = reply::needs_smtputf8("sender");
        s.log_reject("MAIL", &r, &format!("from=<{}>", from.address));
        return fail(s, r);
    }
    let limit = s.settings.message_size_limit;
    if limit > 0 && from.params.size.is_some_and(|size| size > limit) {
        return fail(s, reply::size_exceeds_limit());
    }
    s.begin_transaction(from.params.size);
    // smtpd_sender_restrictions (deferred to RCPT by smtpd_delay_reject).
    if let Some(r) = s.restrict(|e, st| e.check_mail(st, &from.address)) {
        return fail(s, r);
    }
    s.state = State::Mail(Transaction {
        from,
        recipients: Vec::new(),
        overshoot: 0,
    });
    s.respond(Verb::Mail, reply::sender_ok(), Next::Continue)
}

impl Session {
    /// `NOQUEUE: reject: MAIL from name[addr]: 553 ...; from=<> ...`
    pub(super) fn log_reject(&self, stage: &str, reply: &Reply, envelope: &str) {
        let mut text = envelope.to_string();
        text.push_str(&format!(" proto={}", self.protocol()));
        if let Some(h) = &self.helo {
            text.push_str(&format!(" helo=<{h}>"));
        }
        self.log().info(format_args!(
            "NOQUEUE: reject: {stage} from {}: {reply}; {text}",
            self.client.namaddr()
        ));
    }
}
