//! ETRN (RFC 1985). After `smtpd_etrn_restrictions`: there is no fast
//! flush service yet, so every domain gets Postfix's answer for one it
//! does not serve (an empty `fast_flush_domains`): `459 <domain>: service
//! unavailable`.

use super::{Next, Response, Session, State};
use crate::command::Verb;
use crate::reply::{self, Reply};

pub(super) fn etrn(s: &mut Session, arg: Result<String, Reply>) -> Response {
    let fail = |s: &mut Session, r: Reply| s.respond(Verb::Etrn, r, Next::Continue);
    if s.settings.helo_required && s.helo.is_none() {
        return fail(s, reply::etrn_send_helo_first());
    }
    if !matches!(s.state, State::Idle) {
        return fail(s, reply::transaction_in_progress());
    }
    let arg = match arg {
        Ok(arg) => arg,
        Err(r) => return fail(s, r),
    };
    if arg.is_empty() || arg.contains(' ') {
        return fail(s, reply::etrn_syntax());
    }
    // Postfix skips one leading `#` or `@` (RFC 1985 §5.1 queue names).
    let domain = match arg.chars().next() {
        Some(c) if !c.is_ascii_alphanumeric() => &arg[c.len_utf8()..],
        _ => arg.as_str(),
    };
    if !valid_hostname(domain) {
        return fail(s, reply::etrn_bad_parameter());
    }
    if let Some(r) = s.restrict(|e, st| e.check_etrn(st, domain)) {
        return fail(s, r);
    }
    s.log().warning(format_args!(
        "reject: ETRN {domain}... from {}",
        s.client.namaddr()
    ));
    fail(s, reply::etrn_unavailable(domain))
}

/// Postfix `valid_hostname`: labels of letters, digits and hyphens (not
/// at either end), at most 63 bytes each and 255 in all.
fn valid_hostname(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 255
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::valid_hostname;

    #[test]
    fn hostnames() {
        assert!(valid_hostname("example.com"));
        assert!(valid_hostname("a-b.example."));
        assert!(!valid_hostname("-a.example"));
        assert!(!valid_hostname("a..b"));
        assert!(!valid_hostname(""));
    }
}
