//! QUIT (RFC 5321 §4.1.1.10): arguments are not checked (Postfix).

use super::{Next, Response, Session};
use crate::command::Verb;
use crate::reply;

pub(super) fn quit(s: &mut Session) -> Response {
    s.respond(Verb::Quit, reply::bye(), Next::Close)
}
