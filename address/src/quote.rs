//! Converting an address between internal (unquoted) and external
//! (quoted) form (Postfix `quote_822_local`): only the local part, before
//! the last `@`, is quoted, and only when it is not an RFC 822 dot-string.
//! A source route (`@a,@b:`) in front is left alone.

/// Options of [`external_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// Treat 8-bit text as ordinary text instead of quoting it (the
    /// default; RFC 822 is 7-bit, but SMTPUTF8 is not).
    pub eight_bit_clean: bool,
    /// Treat `@` in the local part as an ordinary character.
    pub expose_at: bool,
    /// The input is a bare local part without `@domain`.
    pub bare_localpart: bool,
}

impl Default for Flags {
    fn default() -> Flags {
        Flags {
            eight_bit_clean: true,
            expose_at: false,
            bare_localpart: false,
        }
    }
}

/// The external form of `address`: `joe user@x` becomes `"joe user"@x`.
pub fn external(address: &str) -> String {
    external_with(address, Flags::default())
}

/// [`external`] with explicit [`Flags`].
pub fn external_with(address: &str, flags: Flags) -> String {
    let start = source_route_len(address);
    let (route, rest) = address.split_at(start);
    let end = match rest.rfind('@') {
        Some(at) if !flags.bare_localpart => at,
        _ => rest.len(),
    };
    let (local, domain) = rest.split_at(end);
    if is_dot_string(local, flags) {
        return address.to_string();
    }
    let mut out = String::with_capacity(address.len() + 2);
    out.push_str(route);
    out.push('"');
    for c in local.chars() {
        if (!c.is_ascii() && !flags.eight_bit_clean) || matches!(c, '"' | '\\' | '\r') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out.push_str(domain);
    out
}

/// The internal form of `address`: quotes and backslashes are removed
/// before the last unquoted `@`; the domain is kept as it is.
pub fn internal(address: &str) -> String {
    let start = source_route_len(address);
    let mut out = String::with_capacity(address.len());
    out.push_str(&address[..start]);
    let rest = &address[start..];
    let mut in_quote = false;
    // The last unquoted `@`: where it goes in the output, where it is in
    // the input.
    let mut bare_at: Option<(usize, usize)> = None;
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                in_quote = !in_quote;
                continue;
            }
            '@' if !in_quote => bare_at = Some((out.len(), i)),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    if let Some((out_pos, in_pos)) = bare_at {
        out.truncate(out_pos);
        out.push_str(&rest[in_pos..]);
    }
    out
}

/// The length of a source route prefix (`@a,@b:`), or 0.
fn source_route_len(address: &str) -> usize {
    if !address.starts_with('@') {
        return 0;
    }
    address.find(':').map_or(0, |colon| colon + 1)
}

/// Is `local` an RFC 822 dot-string: atoms separated by single dots?
fn is_dot_string(local: &str, flags: Flags) -> bool {
    if local.is_empty() || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    local.chars().all(|c| {
        !((!c.is_ascii() && !flags.eight_bit_clean)
            || c == ' '
            || c.is_ascii_control()
            || (c == '@' && !flags.expose_at)
            || matches!(
                c,
                '(' | ')' | '<' | '>' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
            ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_local_part_is_quoted() {
        assert_eq!(external("a@b@c@d"), "\"a@b@c\"@d");
        assert_eq!(external("joe user@x"), "\"joe user\"@x");
        assert_eq!(external("joe.user@x"), "joe.user@x");
        assert_eq!(external("joe..user@x"), "\"joe..user\"@x");
        assert_eq!(external(".joe@x"), "\".joe\"@x");
        assert_eq!(external("a\"b\\c@x"), "\"a\\\"b\\\\c\"@x");
        assert_eq!(external(""), "\"\"");
        assert_eq!(external("@x"), "\"\"@x");
        assert_eq!(external("@r1,@r2:a b@x"), "@r1,@r2:\"a b\"@x");
    }

    #[test]
    fn flags_change_the_quoting() {
        let bare = Flags {
            bare_localpart: true,
            ..Flags::default()
        };
        assert_eq!(external_with("a@b@c@d", bare), "\"a@b@c@d\"");
        let at = Flags {
            expose_at: true,
            bare_localpart: true,
            ..Flags::default()
        };
        assert_eq!(external_with("a@b", at), "a@b");
        let seven = Flags {
            eight_bit_clean: false,
            ..Flags::default()
        };
        assert_eq!(external("jü@x"), "jü@x");
        assert_eq!(external_with("jü@x", seven), "\"j\\ü\"@x");
    }

    #[test]
    fn unquoting_stops_at_the_last_unquoted_at() {
        assert_eq!(internal("\"a@b@c\"@d"), "a@b@c@d");
        assert_eq!(internal("\"a@b@c\""), "a@b@c");
        assert_eq!(internal("\"a@b@c\"@d@e"), "a@b@c@d@e");
        assert_eq!(internal("a\\ b@\"x\""), "a b@\"x\"");
        assert_eq!(internal("@r:\"a b\"@x"), "@r:a b@x");
        assert_eq!(internal("a\\"), "a");
        assert_eq!(internal(""), "");
    }
}
