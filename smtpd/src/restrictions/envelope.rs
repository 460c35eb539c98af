//! `strict_rfc821_envelopes`: with it on, MAIL FROM and RCPT TO must
//! carry exactly `<path>` (RFC 5321 §4.1.2), no RFC 822 phrases or
//! comments. The session calls [`is_strict_path`] before the
//! restrictions and answers `reply::bad_sender`/`bad_recipient`.

/// Is `arg` (the text after `FROM:`/`TO:`, parameters removed) one
/// `<...>` path without comments, phrases or nested brackets? Quoted
/// strings and `[...]` literals may hold anything but a bare line end.
pub fn is_strict_path(arg: &str) -> bool {
    let Some(inner) = arg.strip_prefix('<').and_then(|a| a.strip_suffix('>')) else {
        return false;
    };
    let mut quoted = false;
    let mut literal = false;
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\r' | '\n' => return false,
            '\\' => escaped = true,
            '"' if !literal => quoted = !quoted,
            '[' if !quoted => literal = true,
            ']' if !quoted => literal = false,
            _ if quoted || literal => {}
            '<' | '>' | '(' | ')' | ';' => return false,
            c if c.is_whitespace() => return false,
            _ => {}
        }
    }
    !quoted && !literal && !escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_paths_are_strict() {
        assert!(is_strict_path("<user@example.com>"));
        assert!(is_strict_path("<>"));
        assert!(is_strict_path("<\"joe user\"@example.com>"));
        assert!(is_strict_path("<user@[192.0.2.1]>"));
        // RFC 821 source routes are paths too.
        assert!(is_strict_path("<@a,@b:user@example.com>"));
        assert!(!is_strict_path("user@example.com"));
        assert!(!is_strict_path("<user@example.com> (comment)"));
        assert!(!is_strict_path("<Joe <user@example.com>>"));
        assert!(!is_strict_path("<user @ example.com>"));
        assert!(!is_strict_path("<\"open@example.com>"));
    }
}
