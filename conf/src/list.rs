//! Splitting list-valued parameters: Postfix's `mail_parm_split`
//! (`mystrtokq` on commas and white space, then `extpar` on `{ ... }`
//! items), so `{ LESS=-m -C }` stays one item with its separators.

/// CHARS_COMMA_SP: what separates list items.
const SEPARATORS: &[char] = &[',', ' ', '\t', '\r', '\n'];

/// A split list. Postfix exits on a brace error; we keep the item as
/// Postfix's test mode does and report the problem in `warnings`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    pub items: Vec<String>,
    /// Without the parameter name, e.g. `missing '}' in "{ a b"`.
    pub warnings: Vec<String>,
}

/// Splits on commas and white space; an item that starts with `{` extends
/// to its balanced `}` and yields the text inside, trimmed.
pub fn split(text: &str) -> Split {
    let mut out = Split::default();
    let mut rest = text;
    while let Some((token, after)) = next_token(rest) {
        rest = after;
        if token.starts_with('{') {
            let (inner, warning) = extract_braced(token);
            out.warnings.extend(warning);
            out.items.push(inner.to_string());
        } else {
            out.items.push(token.to_string());
        }
    }
    out
}

/// Splits on commas and white space only (mystrtok), with no grouping.
pub fn split_plain(text: &str) -> impl Iterator<Item = &str> {
    text.split(SEPARATORS).filter(|item| !item.is_empty())
}

/// mystrtokq: skips separators, then takes text up to a separator outside
/// braces. A `}` with no `{` open is ordinary text.
fn next_token(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches(SEPARATORS);
    if text.is_empty() {
        return None;
    }
    let mut level = 0usize;
    for (i, c) in text.char_indices() {
        if c == '{' {
            level += 1;
        } else if level > 0 && c == '}' {
            level -= 1;
        } else if level == 0 && SEPARATORS.contains(&c) {
            return Some((&text[..i], &text[i + c.len_utf8()..]));
        }
    }
    Some((text, ""))
}

/// extpar with EXTPAR_FLAG_STRIP on a token that starts with `{`.
fn extract_braced(token: &str) -> (&str, Option<String>) {
    let mut level = 0usize;
    let mut close = None;
    for (i, c) in token.char_indices() {
        match c {
            '{' => level += 1,
            '}' => {
                level -= 1;
                if level == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let (inner, warning) = match close {
        None => (&token[1..], Some(format!("missing '}}' in \"{token}\""))),
        Some(i) if i + 1 < token.len() => (
            &token[1..i],
            Some(format!("syntax error after '}}' in \"{token}\"")),
        ),
        Some(i) => (&token[1..i], None),
    };
    (inner.trim_matches(is_c_space), warning)
}

/// C isspace in the "C" locale, as ISSPACE/trimblanks use it.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays mail_parm_split.c's test driver (origin name `stdin`; it
    /// stops at the first empty line).
    #[test]
    fn fixture_matches_postfix() {
        let input = include_str!("../tests/fixtures/mail_parm_split/mail_parm_split.in");
        let expected = include_str!("../tests/fixtures/mail_parm_split/mail_parm_split.ref");
        let mut out = String::new();
        for line in input.lines().take_while(|l| !l.is_empty()) {
            out.push_str(&format!("Input:\t>{line}<\n"));
            let split = split(line);
            for w in &split.warnings {
                out.push_str(&format!("unknown: warning: stdin: {w}\n"));
            }
            for item in &split.items {
                out.push_str(&format!("Output:\t>{item}<\n"));
            }
        }
        assert_eq!(out, expected);
    }

    #[test]
    fn separators_and_groups() {
        let s = split(" a,,b\tc\r\n{ x, y }, {} {z}");
        assert_eq!(s.items, ["a", "b", "c", "x, y", "", "z"]);
        assert!(s.warnings.is_empty());
        assert_eq!(split("a}b x").items, ["a}b", "x"]);
        assert_eq!(split("a{b c}d e").items, ["a{b c}d", "e"]);
        assert_eq!(split("{{a b} c}").items, ["{a b} c"]);
        assert!(split("  ,, ").items.is_empty());
    }

    #[test]
    fn brace_errors_are_warnings() {
        let s = split("{a}{b}");
        assert_eq!(s.items, ["a"]);
        assert_eq!(s.warnings, ["syntax error after '}' in \"{a}{b}\""]);
        let s = split("{ é ");
        assert_eq!(s.items, ["é"]);
        assert_eq!(s.warnings, ["missing '}' in \"{ é \""]);
        for odd in ["{", "}", "{{", "}}{", "{é}}", ",{,", "\u{b}{\u{c}}"] {
            let _ = split(odd);
        }
    }

    #[test]
    fn plain_split_ignores_braces() {
        let items: Vec<&str> = split_plain(" a,{b c},\td ").collect();
        assert_eq!(items, ["a", "{b", "c}", "d"]);
    }
}
