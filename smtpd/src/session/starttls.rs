//! STARTTLS (RFC 3207). The driver drops every byte read before the
//! handshake (the CVE-2011-0411 class of command injection) and, once it
//! succeeds, calls [`Session::tls_started`], which forgets the session.

use super::{Next, Response, Session};
use crate::command::Verb;
use crate::reply::{self, Reply};

pub(super) fn starttls(s: &mut Session, args: Result<(), Reply>) -> Response {
    let fail = |s: &mut Session, r: Reply| s.respond(Verb::StartTls, r, Next::Continue);
    if s.tls.is_some() {
        return fail(s, reply::tls_already_active());
    }
    if !s.starttls_offered() {
        return fail(s, reply::not_implemented());
    }
    if let Err(r) = args {
        return fail(s, r);
    }
    // A transaction in progress is allowed (Postfix); the handshake
    // resets it.
    s.respond(Verb::StartTls, reply::ready_to_start_tls(), Next::StartTls)
}
