//! Commands we do not know: `500 5.5.2 Error: command not recognized`,
//! or, for `smtpd_forbidden_commands` and header-like words (an HTTP or
//! mail client talking to the wrong port), `221` and the end (Postfix).

use super::{Next, Response, Session};
use crate::command::Verb;
use crate::reply::{self, Reply};

pub(super) fn unknown(s: &mut Session, command: Result<(String, String), Reply>) -> Response {
    let (word, line) = match command {
        Ok(command) => command,
        Err(r) => return s.respond(Verb::Unknown, r, Next::Continue),
    };
    if is_forbidden(s, &word) {
        s.log().warning(format_args!(
            "non-SMTP command from {}: {line}",
            s.client.namaddr()
        ));
        return s.respond(Verb::Unknown, reply::forbidden_command(), Next::Close);
    }
    s.respond(Verb::Unknown, reply::unknown_command(), Next::Continue)
}

fn is_forbidden(s: &Session, word: &str) -> bool {
    let settings = &s.settings;
    let upper = word.to_ascii_uppercase();
    settings.forbidden_commands.contains(&upper)
        || settings
            .forbidden_tables
            .iter()
            .any(|t| matches!(t.lookup(word), Ok(Some(_))))
        || is_header_label(word)
}

/// `Subject:`: a header name followed by a colon (RFC 5322 §2.2).
fn is_header_label(word: &str) -> bool {
    match word.strip_suffix(':') {
        Some(name) => {
            !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_header_label;

    #[test]
    fn header_labels() {
        assert!(is_header_label("Subject:"));
        assert!(!is_header_label(":"));
        assert!(!is_header_label("MAIL"));
    }
}
