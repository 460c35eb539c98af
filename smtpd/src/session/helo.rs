//! HELO and EHLO (RFC 5321 §4.1.1.1): a new greeting resets the session
//! like RSET; EHLO lists the extensions. `smtpd_helo_restrictions` run
//! first (at RCPT time instead with `smtpd_delay_reject`).

use super::{Next, Response, Session, State};
use crate::command::Verb;
use crate::config::TlsLevel;
use crate::reply::{self, Reply};

pub(super) fn helo(s: &mut Session, name: Result<String, Reply>) -> Response {
    let name = match name {
        Ok(name) => name,
        Err(r) => return s.respond(Verb::Helo, r, Next::Continue),
    };
    if let Some(r) = s.restrict(|e, st| e.check_helo(st, &name)) {
        return s.respond(Verb::Helo, r, Next::Continue);
    }
    greet(s, name, false);
    let reply = reply::helo(&s.settings.myhostname);
    s.respond(Verb::Helo, reply, Next::Continue)
}

pub(super) fn ehlo(s: &mut Session, name: Result<String, Reply>) -> Response {
    let name = match name {
        Ok(name) => name,
        Err(r) => return s.respond(Verb::Ehlo, r, Next::Continue),
    };
    if let Some(r) = s.restrict(|e, st| e.check_helo(st, &name)) {
        return s.respond(Verb::Ehlo, r, Next::Continue);
    }
    greet(s, name, true);
    let keywords = keywords(s);
    s.pipelining = keywords.iter().any(|k| k == "PIPELINING");
    let reply = reply::ehlo(&s.settings.myhostname, &keywords);
    s.respond(Verb::Ehlo, reply, Next::Continue)
}

fn greet(s: &mut Session, name: String, esmtp: bool) {
    s.helo = Some(name);
    s.esmtp = esmtp;
    s.pipelining = false;
    s.state = State::Idle;
    s.end_transaction();
}

/// The EHLO keywords in Postfix's order, minus
/// `smtpd_discard_ehlo_keywords`.
fn keywords(s: &Session) -> Vec<String> {
    let settings = &s.settings;
    let mut all = vec!["PIPELINING".to_string()];
    all.push(match settings.message_size_limit {
        0 => "SIZE".to_string(),
        n => format!("SIZE {n}"),
    });
    if !settings.disable_vrfy {
        all.push("VRFY".into());
    }
    all.push("ETRN".into());
    if s.starttls_offered() {
        all.push("STARTTLS".into());
    }
    all.extend(["ENHANCEDSTATUSCODES", "8BITMIME", "DSN"].map(String::from));
    if settings.smtputf8 {
        all.push("SMTPUTF8".into());
    }
    all.push("CHUNKING".into());
    all.retain(|k| {
        let word = k.split(' ').next().unwrap_or_default().to_ascii_lowercase();
        !settings.discard_ehlo_keywords.contains(&word)
    });
    all
}

impl Session {
    /// STARTTLS is on offer: configured, loaded, not yet active, not
    /// discarded from EHLO.
    pub(super) fn starttls_offered(&self) -> bool {
        self.settings.tls.level != TlsLevel::None
            && self.tls_available
            && self.tls.is_none()
            && !self
                .settings
                .discard_ehlo_keywords
                .iter()
                .any(|k| k == "starttls")
    }
}
