//! RCPT TO (RFC 5321 §4.1.1.3) with NOTIFY and ORCPT (RFC 3461). A valid
//! recipient then goes through the restrictions: with
//! `smtpd_delay_reject`, the client, HELO and sender lists, then the
//! relay and recipient lists (where relaying is refused).

use super::{Next, Response, Session, State};
use crate::command::{RcptTo, Verb};
use crate::reply::{self, Reply};

pub(super) fn rcpt(s: &mut Session, to: Result<RcptTo, Reply>) -> Response {
    let txn = match &s.state {
        State::Mail(txn) => txn,
        State::Chunking(_) => {
            return s.respond(Verb::Rcpt, reply::rcpt_after_bdat(), Next::Continue);
        }
        State::Idle | State::ChunkingFailed => {
            return s.respond(Verb::Rcpt, reply::need_mail(), Next::Continue);
        }
    };
    if txn.recipients.len() >= s.settings.recipient_limit {
        return over_limit(s);
    }
    let to = match to {
        Ok(to) => to,
        Err(r) => {
            s.warn_illegal_address("RCPT");
            return s.respond(Verb::Rcpt, r, Next::Continue);
        }
    };
    if !to.address.is_ascii() && !txn.from.params.smtputf8 {
        let r = reply::needs_smtputf8("recipient");
        let envelope = format!("from=<{}> to=<{}>", txn.from.address, to.address);
        s.log_reject("RCPT", &r, &envelope);
        return s.respond(Verb::Rcpt, r, Next::Continue);
    }
    if let Some(r) = s.restrict(|e, st| e.check_rcpt(st, &to.address)) {
        return s.respond(Verb::Rcpt, r, Next::Continue);
    }
    s.checks.recipient_count += 1;
    if let State::Mail(txn) = &mut s.state {
        txn.recipients.push(to);
    }
    s.respond(Verb::Rcpt, reply::recipient_ok(), Next::Continue)
}

/// `smtpd_recipient_limit`: 452, which counts as an error only past
/// `smtpd_recipient_overshoot_limit` (Postfix).
fn over_limit(s: &mut Session) -> Response {
    let overshoot = match &mut s.state {
        State::Mail(txn) => {
            txn.overshoot += 1;
            txn.overshoot
        }
        _ => 0,
    };
    let reply = reply::too_many_recipients();
    let counts = overshoot > s.settings.recipient_overshoot_limit;
    let delay = s.count(Verb::Rcpt, &reply, counts);
    Response {
        reply: Some(reply),
        next: Next::Continue,
        delay,
    }
}
