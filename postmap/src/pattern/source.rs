//! Where a pattern table's rules come from: a file, or text inline in the
//! table name (`regexp:{ {rule-1}, {rule-2} }`), split into logical lines
//! the way Postfix's `readllines()` does.

use crate::table::Error;

/// One logical line: continuation lines joined, with the number of its
/// first physical line (what Postfix puts in `line N` of a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) number: usize,
    pub(crate) text: String,
}

/// C `isspace()` in the C locale. Unlike `char::is_ascii_whitespace` it
/// includes vertical tab, which Postfix's ISSPACE also skips.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// `s` without leading white space.
pub(crate) fn skip_space(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// `s` without trailing white space (Postfix `trimblanks`).
pub(crate) fn trim_blanks(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// The text of a table: read from `path`, or converted from the inline
/// form when `path` starts with `{` (Postfix `dict_stream_open`). The
/// error is what Postfix reports when the table cannot be opened.
pub(crate) fn load(kind: &str, path: &str) -> Result<String, Error> {
    if path.starts_with('{') {
        return inline_to_text(path).map_err(|why| Error::Open(format!("{kind} map: {why}")));
    }
    match std::fs::read(path) {
        // Tables are byte strings to Postfix; invalid UTF-8 is replaced
        // rather than refused so that the rest of the table still loads.
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(err) => Err(Error::Open(format!("open {path}: {}", strerror(&err)))),
    }
}

/// The C library's text for an I/O error (`%m`), without Rust's
/// " (os error N)" suffix, so messages read as Postfix prints them.
pub(crate) fn strerror(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Convert `{ {rule-1}, {rule-2} ... }` into one rule per line: outer
/// braces removed, rules separated by commas or white space, each rule's
/// braces and surrounding white space removed (Postfix
/// `dict_inline_to_multiline`, built on `extpar` and `mystrtokq`).
pub(crate) fn inline_to_text(name: &str) -> Result<String, String> {
    let inner = extract_braced(name, false)?;
    let mut text = String::new();
    let mut rest = inner;
    while let Some((token, after)) = next_token(rest) {
        rest = after;
        let rule = extract_braced(token, true)?;
        text.push_str(rule);
        text.push('\n');
    }
    Ok(text)
}

/// Postfix `extpar(..., "{}", flags)`: the text inside a leading `{` and
/// its balancing `}`; errors quote the whole input as Postfix does.
fn extract_braced(s: &str, strip: bool) -> Result<&str, String> {
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
    Ok(if strip {
        skip_space(trim_blanks(inner))
    } else {
        inner
    })
}

/// Length of the `{...}` group at the start of `s`, through its closing
/// brace (Postfix `balpar`).
fn balanced_len(s: &str) -> Option<usize> {
    let mut level = 0usize;
    for (at, c) in s.char_indices() {
        match c {
            '{' => level += 1,
            '}' => {
                level = level.saturating_sub(1);
                if level == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Postfix `mystrtokq(&bp, ", \t\r\n", "{}")`: the next token separated by
/// commas or white space, not split inside braces.
fn next_token(s: &str) -> Option<(&str, &str)> {
    let is_sep = |c: char| matches!(c, ',' | ' ' | '\t' | '\r' | '\n');
    let s = s.trim_start_matches(is_sep);
    if s.is_empty() {
        return None;
    }
    let mut level = 0usize;
    for (at, c) in s.char_indices() {
        if c == '{' {
            level += 1;
        } else if level > 0 && c == '}' {
            level -= 1;
        } else if level == 0 && is_sep(c) {
            return Some((&s[..at], &s[at + c.len_utf8()..]));
        }
    }
    Some((s, ""))
}

/// Split `text` into logical lines (Postfix `readllines`): blank and
/// comment lines are skipped, a line starting with white space continues
/// the previous one (joined as is, without the newline), and a logical
/// line that itself starts with white space is dropped with Postfix's
/// warning naming `origin`.
pub(crate) fn logical_lines(origin: &str, text: &str, warnings: &mut Vec<String>) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut current: Option<Line> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let body = skip_space(raw);
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let continues = raw.starts_with(is_space);
        match current.as_mut() {
            Some(line) if continues => line.text.push_str(raw),
            _ => {
                if let Some(done) = current.take() {
                    finish(origin, done, &mut lines, warnings);
                }
                current = Some(Line {
                    number,
                    text: raw.to_string(),
                });
            }
        }
    }
    if let Some(done) = current.take() {
        finish(origin, done, &mut lines, warnings);
    }
    lines
}

/// Keep a completed logical line, or warn about one that starts with
/// white space (text continuing nothing) and drop it.
fn finish(origin: &str, mut line: Line, lines: &mut Vec<Line>, warnings: &mut Vec<String>) {
    // Postfix handles lines as C strings: nothing after a NUL is seen.
    if let Some(at) = line.text.find('\0') {
        line.text.truncate(at);
    }
    if line.text.starts_with(is_space) {
        let mut cut = line.text.len().min(30);
        while !line.text.is_char_boundary(cut) {
            cut -= 1;
        }
        let more = if line.text.len() > 30 { "..." } else { "" };
        warnings.push(format!(
            "{origin}: logical line must not start with whitespace: \"{}{more}\"",
            &line.text[..cut]
        ));
        return;
    }
    lines.push(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> (Vec<(usize, String)>, Vec<String>) {
        let mut warnings = Vec::new();
        let got = logical_lines("t", text, &mut warnings)
            .into_iter()
            .map(|l| (l.number, l.text))
            .collect();
        (got, warnings)
    }

    #[test]
    fn continuation_lines_are_joined_without_the_newline() {
        let (got, _) = lines("/a/\n  b\n /c/ d\n# x\n  e\n/zz/ q\n");
        assert_eq!(
            got,
            vec![
                (1, "/a/  b /c/ d  e".to_string()),
                (6, "/zz/ q".to_string())
            ]
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_numbers_kept() {
        let (got, _) = lines("#c\n\n \t\nabc\n #x\n\ndef");
        assert_eq!(got, vec![(4, "abc".to_string()), (7, "def".to_string())]);
    }

    #[test]
    fn leading_white_space_is_warned_and_dropped() {
        let (got, warnings) = lines("  /a/ b\n/c/ d\n");
        assert_eq!(got, vec![(2, "/c/ d".to_string())]);
        assert_eq!(
            warnings,
            vec!["t: logical line must not start with whitespace: \"  /a/ b\"".to_string()]
        );
        let (_, warnings) = lines(" 0123456789012345678901234567890123\n");
        assert!(warnings[0].ends_with("\" 01234567890123456789012345678...\""));
    }

    #[test]
    fn inline_text_becomes_one_rule_per_line() {
        assert_eq!(
            inline_to_text("{{/foo/ got foo}}").as_deref(),
            Ok("/foo/ got foo\n")
        );
        assert_eq!(
            inline_to_text("{ {/a/ b}, { /c/ {d} } ,}").as_deref(),
            Ok("/a/ b\n/c/ {d}\n")
        );
        assert_eq!(inline_to_text("{}").as_deref(), Ok(""));
    }

    #[test]
    fn inline_errors_are_postfix_words() {
        assert_eq!(
            inline_to_text("{/x/ y}"),
            Err("no '{' at start of text in \"/x/\"".to_string())
        );
        assert_eq!(
            inline_to_text("{{/x/ y}"),
            Err("missing '}' in \"{{/x/ y}\"".to_string())
        );
        assert_eq!(
            inline_to_text("{{/x/ y}}z"),
            Err("syntax error after '}' in \"{{/x/ y}}z\"".to_string())
        );
    }

    #[test]
    fn missing_file_reports_strerror() {
        let err = load("regexp", "/nonexistent/table").unwrap_err();
        assert_eq!(
            err,
            Error::Open("open /nonexistent/table: No such file or directory".to_string())
        );
    }
}
