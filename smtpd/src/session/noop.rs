//! Commands that change nothing: NOOP (RFC 5321 §4.1.1.9, arguments
//! ignored as Postfix does) and HELP (§4.1.1.8; Postfix has none, we
//! answer one line).

use super::{Next, Response, Session};
use crate::command::Verb;
use crate::reply;

pub(super) fn noop(s: &mut Session) -> Response {
    s.respond(Verb::Noop, reply::ok(), Next::Continue)
}

pub(super) fn help(s: &mut Session) -> Response {
    s.respond(Verb::Help, reply::help(), Next::Continue)
}
