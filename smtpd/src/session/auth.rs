//! AUTH (RFC 4954) is not offered: SASL is a later issue. Every
//! mechanism, known or not (smtp-proto's mechanism 0), gets Postfix's
//! answer for `smtpd_sasl_auth_enable = no`.

use super::{Next, Response, Session};
use crate::command::Verb;
use crate::reply;

pub(super) fn auth(s: &mut Session) -> Response {
    s.respond(Verb::Auth, reply::auth_not_enabled(), Next::Continue)
}
