//! Table specifications, parsed the way Postfix's `dict_open` does:
//! `type:name` split at the first colon, a missing type taken from
//! `default_database_type`, and the brace forms that nest tables inside a
//! name (`inline:{a=b, {c = d e}}`, `unionmap:{hash:x, inline:{...}}`).
//!
//! The helpers here are Postfix's string primitives (`balpar`, `extpar`,
//! `mystrtokq`, `split_qnameval`) with the same error texts, because
//! admins see those texts in their logs. All of them loop instead of
//! recursing, so a name with 10000 nested braces cannot exhaust the stack.

use crate::table::Error;

/// A parsed `type:name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec<'a> {
    /// The table type (`hash`, `inline`, ...), never empty.
    pub kind: &'a str,
    /// Everything after the first colon: a path, a value, or `{...}`.
    pub name: &'a str,
}

impl Spec<'_> {
    /// The canonical `type:name` text, as tables report it in messages.
    pub fn text(&self) -> String {
        format!("{}:{}", self.kind, self.name)
    }
}

/// The prefix of tables read through Postfix's proxymap(8) service.
const PROXY: &str = "proxy:";

/// Parse `spec`. A spec without a colon is a file name of the
/// `default_type` (postmap's `[type:]file`). `proxy:type:name` is
/// accepted as `type:name`: we have no proxymap service, so each process
/// opens the table itself (the tables we support need no privileges
/// beyond read access; proxymap's job of sharing connections does not
/// arise). An empty type or name is Postfix's "expecting type:name" error.
pub fn parse<'a>(spec: &'a str, default_type: &'a str) -> Result<Spec<'a>, Error> {
    let mut rest = spec;
    let mut proxied = false;
    while let Some(inner) = rest.strip_prefix(PROXY) {
        rest = inner;
        proxied = true;
    }
    let (kind, name) = match rest.split_once(':') {
        Some(pair) => pair,
        // proxymap itself insists on type:name; only a bare spec gets the
        // default type.
        None if proxied => return Err(expecting_type_name(rest)),
        None => (default_type, rest),
    };
    if kind.is_empty() || name.is_empty() {
        // Postfix quotes the spec after the default type is applied.
        return Err(expecting_type_name(&format!("{kind}:{name}")));
    }
    Ok(Spec { kind, name })
}

fn expecting_type_name(spec: &str) -> Error {
    Error::Open(format!(
        "open dictionary: expecting \"type:name\" form instead of \"{spec}\""
    ))
}

/// Postfix `balpar(s, "{}")`: the length of the `{...}` group that starts
/// `s`, braces included, or `None` when `s` does not start with `{` or
/// the group is not closed.
pub fn balanced_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut level = 0usize;
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'{' => level += 1,
            b'}' => {
                level -= 1;
                if level == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The text between the outer braces when `name` is exactly one balanced
/// `{...}` group with something inside; `None` otherwise. This is the
/// shape check of inline, unionmap and pipemap ("bad syntax").
pub fn braced_body(name: &str) -> Option<&str> {
    let len = balanced_len(name)?;
    if len != name.len() || len == 2 {
        return None;
    }
    // Both ends are ASCII braces, so these are char boundaries.
    Some(&name[1..len - 1])
}

/// Postfix `extpar(s, "{}", flags)`: the text inside the `{...}` group that
/// makes up all of `s`, with white space trimmed when `strip`. The error
/// texts quote the whole input, as Postfix's do.
pub fn extract_braced(s: &str, strip: bool) -> Result<&str, String> {
    if !s.starts_with('{') {
        return Err(format!("no '{{' at start of text in \"{s}\""));
    }
    let Some(len) = balanced_len(s) else {
        return Err(format!("missing '}}' in \"{s}\""));
    };
    if len != s.len() {
        return Err(format!("syntax error after '}}' in \"{s}\""));
    }
    let inner = &s[1..len - 1];
    Ok(if strip { trim_space(inner) } else { inner })
}

/// C `isspace()` in the C locale (vertical tab and form feed included).
pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

fn trim_space(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Postfix `mystrtokq(s, ", \t\r\n", "{}")` run to the end: the tokens of
/// a list separated by commas or white space, where a separator inside
/// `{...}` does not split. An unmatched `}` is ordinary text, and an
/// unclosed `{` runs to the end of the input, as in Postfix.
pub fn split_list(s: &str) -> Vec<&str> {
    let is_sep = |c: u8| matches!(c, b',' | b' ' | b'\t' | b'\r' | b'\n');
    let bytes = s.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && is_sep(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            return tokens;
        }
        let start = i;
        let mut level = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => level += 1,
                b'}' if level > 0 => level -= 1,
                c if level == 0 && is_sep(c) => break,
                _ => {}
            }
            i += 1;
        }
        // Separators and braces are ASCII: `start` and `i` are boundaries.
        tokens.push(&s[start..i]);
    }
}

/// Postfix `split_qnameval`: `key = value`, where the key ends at the
/// first white space or `=` outside double quotes and a backslash protects
/// the next character. The key keeps its quotes and backslashes (Postfix
/// stores it as written); the value is trimmed. An empty key is allowed
/// (`=value`), as in Postfix.
pub fn split_name_value(s: &str) -> Result<(&str, &str), &'static str> {
    let key_start = s.len() - s.trim_start_matches(is_space).len();
    if key_start == s.len() {
        return Err("no key found; expected format: key = value");
    }
    let bytes = s.as_bytes();
    let mut in_quotes = false;
    let mut i = key_start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => in_quotes = !in_quotes,
            c if !in_quotes && (c == b'=' || is_space(char::from(c))) => break,
            _ => {}
        }
        i += 1;
    }
    if in_quotes {
        return Err("unbalanced '\"'");
    }
    // The loop stops on an ASCII byte or runs past the end (a trailing
    // backslash): after the clamp `key_end` is a char boundary.
    let key_end = i.min(bytes.len());
    let key = &s[key_start..key_end];
    let after = s[key_end..].trim_start_matches(is_space);
    let Some(value) = after.strip_prefix('=') else {
        return Err("missing '=' after attribute name");
    };
    Ok((key, trim_space(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Result<(String, String), Error> {
        parse(s, "hash").map(|p| (p.kind.to_string(), p.name.to_string()))
    }

    #[test]
    fn type_and_name_split_at_the_first_colon() {
        assert_eq!(
            spec("hash:/etc/a:b"),
            Ok(("hash".into(), "/etc/a:b".into()))
        );
        assert_eq!(
            spec("inline:{a=b:c}"),
            Ok(("inline".into(), "{a=b:c}".into()))
        );
    }

    #[test]
    fn missing_type_is_the_default_type() {
        assert_eq!(
            spec("/etc/postfix/access"),
            Ok(("hash".into(), "/etc/postfix/access".into()))
        );
        assert_eq!(parse("x", "cdb").map(|s| s.text()), Ok("cdb:x".into()));
    }

    #[test]
    fn empty_type_or_name_is_postfix_error() {
        let want = |s: &str| {
            Err(Error::Open(format!(
                "open dictionary: expecting \"type:name\" form instead of \"{s}\""
            )))
        };
        assert_eq!(spec("inline:"), want("inline:"));
        assert_eq!(spec(":x"), want(":x"));
        assert_eq!(spec(""), want("hash:"));
    }

    #[test]
    fn proxy_prefix_is_stripped_and_needs_type_name() {
        assert_eq!(
            spec("proxy:hash:/etc/x"),
            Ok(("hash".into(), "/etc/x".into()))
        );
        assert!(spec("proxy:/etc/x").is_err());
        assert!(spec("proxy:").is_err());
    }

    #[test]
    fn balanced_len_counts_nesting() {
        assert_eq!(balanced_len("{a{b}c}d"), Some(7));
        assert_eq!(balanced_len("{a{b}c"), None);
        assert_eq!(balanced_len("a{}"), None);
        assert_eq!(balanced_len(""), None);
    }

    #[test]
    fn braced_body_needs_one_nonempty_group() {
        assert_eq!(braced_body("{ a }"), Some(" a "));
        assert_eq!(braced_body("{}"), None);
        assert_eq!(braced_body("{a}x"), None);
        assert_eq!(braced_body("a"), None);
    }

    #[test]
    fn extract_braced_errors_as_postfix() {
        assert_eq!(extract_braced("{ a b }", true), Ok("a b"));
        assert_eq!(extract_braced("{ a b }", false), Ok(" a b "));
        assert_eq!(
            extract_braced("{x=y}x", true),
            Err("syntax error after '}' in \"{x=y}x\"".into())
        );
        assert_eq!(
            extract_braced("{ foo xx ", true),
            Err("missing '}' in \"{ foo xx \"".into())
        );
        assert_eq!(
            extract_braced("x", true),
            Err("no '{' at start of text in \"x\"".into())
        );
    }

    #[test]
    fn split_list_keeps_braced_groups() {
        assert_eq!(
            split_list(" static:one, inline:{a=b, c=d} ,,fail:x "),
            vec!["static:one", "inline:{a=b, c=d}", "fail:x"]
        );
        assert_eq!(split_list("a}b c"), vec!["a}b", "c"]);
        assert_eq!(split_list("{a b"), vec!["{a b"]);
        assert!(split_list(" , ").is_empty());
    }

    #[test]
    fn split_name_value_as_postfix() {
        assert_eq!(split_name_value(" xx = yy "), Ok(("xx", "yy")));
        assert_eq!(split_name_value("xx="), Ok(("xx", "")));
        assert_eq!(split_name_value("=a"), Ok(("", "a")));
        assert_eq!(split_name_value("\"a b\" = c d"), Ok(("\"a b\"", "c d")));
        assert_eq!(split_name_value("a\\ b=c"), Ok(("a\\ b", "c")));
        assert_eq!(
            split_name_value("xx"),
            Err("missing '=' after attribute name")
        );
        assert_eq!(split_name_value("\"xx "), Err("unbalanced '\"'"));
        assert_eq!(
            split_name_value("  "),
            Err("no key found; expected format: key = value")
        );
        assert_eq!(
            split_name_value("a\\"),
            Err("missing '=' after attribute name")
        );
        assert_eq!(split_name_value("a\\é=b"), Ok(("a\\é", "b")));
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let deep = format!("{}{}", "{".repeat(100_000), "}".repeat(100_000));
        assert_eq!(balanced_len(&deep), Some(200_000));
        assert_eq!(split_list(&deep).len(), 1);
        assert!(extract_braced(&deep, true).is_ok());
    }
}
