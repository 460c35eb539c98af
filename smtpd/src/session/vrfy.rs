//! VRFY (RFC 5321 §3.5.1): off with `disable_vrfy_command`; otherwise,
//! with no recipient restrictions to consult yet, Postfix's answer for an
//! address that passes them: `252 2.0.0 <what was asked>`.

use super::{Next, Response, Session};
use crate::command::Verb;
use crate::reply::{self, Reply};

pub(super) fn vrfy(s: &mut Session, arg: Result<String, Reply>) -> Response {
    if s.settings.disable_vrfy {
        return s.respond(Verb::Vrfy, reply::vrfy_disabled(), Next::Continue);
    }
    let arg = match arg {
        Ok(arg) if !arg.is_empty() => arg,
        Ok(_) => return s.respond(Verb::Vrfy, reply::vrfy_syntax(), Next::Continue),
        Err(r) => return s.respond(Verb::Vrfy, r, Next::Continue),
    };
    let bare = arg.trim_start_matches('<').trim_end_matches('>');
    if bare.is_empty() {
        return s.respond(Verb::Vrfy, reply::bad_recipient(), Next::Continue);
    }
    s.respond(Verb::Vrfy, reply::cannot_verify(&arg), Next::Continue)
}
