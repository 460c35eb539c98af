//! VRFY (RFC 5321 §3.5.1): off with `disable_vrfy_command`; otherwise
//! the address goes through the recipient restrictions, as Postfix's
//! `vrfy_cmd` does: a refusal is the reply, an address that passes gets
//! `252 2.0.0 <what was asked>` (we never confirm a mailbox).

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
    let address = internal_form(bare);
    if let Some(r) = s.restrict(|e, st| e.check_vrfy(st, &address)) {
        return s.respond(Verb::Vrfy, r, Next::Continue);
    }
    s.respond(Verb::Vrfy, reply::cannot_verify(&arg), Next::Continue)
}

/// The address without the quotes around its local part
/// (`"a b"@example.com` is `a b@example.com`), as Postfix's
/// `extract_addr` gives it to the restrictions.
fn internal_form(address: &str) -> String {
    let Some(rest) = address.strip_prefix('"') else {
        return address.to_string();
    };
    let mut out = String::with_capacity(address.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => {
                out.extend(chars);
                return out;
            }
            c => out.push(c),
        }
    }
    address.to_string()
}

#[cfg(test)]
mod tests {
    use super::internal_form;

    #[test]
    fn quotes_come_off_the_local_part() {
        assert_eq!(internal_form("a@b"), "a@b");
        assert_eq!(
            internal_form("\"user@other.example\"@here.example"),
            "user@other.example@here.example"
        );
        assert_eq!(internal_form("\"a\\\"b\"@c"), "a\"b@c");
        assert_eq!(internal_form("\"open@c"), "\"open@c");
    }
}
