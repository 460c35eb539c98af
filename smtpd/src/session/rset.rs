//! RSET (RFC 5321 §4.1.1.5): back to the state right after HELO/EHLO.

use super::{Next, Response, Session, State};
use crate::command::Verb;
use crate::reply::{self, Reply};

pub(super) fn rset(s: &mut Session, args: Result<(), Reply>) -> Response {
    if let Err(r) = args {
        return s.respond(Verb::Rset, r, Next::Continue);
    }
    s.state = State::Idle;
    s.end_transaction();
    s.respond(Verb::Rset, reply::ok(), Next::Continue)
}
