//! The result text of a regexp or pcre rule, with `$1`, `${1}`, `$(1)`
//! references to matched substrings and `$$` for a dollar sign. Checked
//! once when the table is opened (Postfix `mac_parse` plus the tables'
//! pre-scan), so a lookup only pastes pieces together.

/// Which table's wording the warnings use; the two differ in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Regexp,
    Pcre,
}

impl Flavor {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flavor::Regexp => "regexp",
            Flavor::Pcre => "pcre",
        }
    }
}

/// One piece of a result: literal text, or the text of a capture group.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Group(usize),
}

/// A parsed result text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    /// The highest `$n` used; 0 when the text is constant.
    max_group: usize,
}

/// Where a warning is about, for Postfix's `<type> map <name>, line N:`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place<'a> {
    pub(crate) flavor: Flavor,
    pub(crate) map: &'a str,
    pub(crate) line: usize,
}

impl Place<'_> {
    /// A warning about this line, in Postfix's words.
    pub(crate) fn warn(&self, what: &str) -> String {
        format!(
            "{} map {}, line {}: {what}",
            self.flavor.name(),
            self.map,
            self.line
        )
    }
}

impl Template {
    /// Parse `text`; on a syntax error the warnings say why (the caller
    /// adds "bad replacement syntax: skipping this rule").
    pub(crate) fn parse(
        place: Place<'_>,
        text: &str,
        warnings: &mut Vec<String>,
    ) -> Option<Template> {
        let mut pieces = Vec::new();
        let mut max_group = 0usize;
        let mut on_item = |item: Item, warnings: &mut Vec<String>| match item {
            Item::Literal(lit) => {
                pieces.push(Piece::Literal(lit));
                true
            }
            Item::Name(name) => match group_index(place, &name, warnings) {
                Some(index) => {
                    pieces.push(Piece::Group(index));
                    max_group = max_group.max(index);
                    true
                }
                None => false,
            },
        };
        if !mac_parse(text, warnings, &mut on_item) {
            return None;
        }
        Some(Template { pieces, max_group })
    }

    /// The highest `$n` used; 0 when the result is constant.
    pub(crate) fn max_group(&self) -> usize {
        self.max_group
    }

    /// The result when no `$n` is used.
    pub(crate) fn literal(&self) -> String {
        self.expand(|_| None)
    }

    /// The result with each `$n` replaced by `group(n)`; a group that did
    /// not match, or matched nothing, contributes nothing.
    pub(crate) fn expand<'k>(&self, group: impl Fn(usize) -> Option<&'k [u8]>) -> String {
        let mut out: Vec<u8> = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(lit) => out.extend_from_slice(lit.as_bytes()),
                Piece::Group(n) => out.extend_from_slice(group(*n).unwrap_or_default()),
            }
        }
        // A capture may split a multi-byte character (byte-oriented
        // patterns); Postfix would pass the bytes on, we cannot.
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        }
    }
}

/// The group number named by `$name`, or a warning in Postfix's words.
fn group_index(place: Place<'_>, name: &str, warnings: &mut Vec<String>) -> Option<usize> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        warnings.push(place.warn(&format!("non-numeric replacement index \"{name}\"")));
        return None;
    }
    // atoi(); any value beyond the pattern's groups is rejected later.
    let index = name.bytes().fold(0usize, |n, b| {
        n.saturating_mul(10).saturating_add(usize::from(b - b'0'))
    });
    if index < 1 {
        let range = match place.flavor {
            Flavor::Regexp => "out-of-range",
            Flavor::Pcre => "out of range",
        };
        warnings.push(place.warn(&format!("{range} replacement index \"{name}\"")));
        return None;
    }
    Some(index)
}

/// What `mac_parse` finds: literal text (with `$$` already `$`) or the
/// name inside `$name`, `${name}` or `$(name)`.
enum Item {
    Literal(String),
    Name(String),
}

/// Postfix `mac_parse`: split `value` into literal text and references,
/// handing each to `action`, which returns false on an error. Returns
/// false on any error; a truncated `${` or an empty name is warned about
/// as Postfix does, without a map name. Like Postfix, scanning stops at a
/// bracketed reference once any error was seen.
fn mac_parse(
    value: &str,
    warnings: &mut Vec<String>,
    action: &mut dyn FnMut(Item, &mut Vec<String>) -> bool,
) -> bool {
    let bytes = value.as_bytes();
    let mut ok = true;
    let mut buf: Vec<u8> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'$' {
            buf.push(bytes[at]);
            at += 1;
            continue;
        }
        if bytes.get(at + 1) == Some(&b'$') {
            buf.push(b'$');
            at += 2;
            continue;
        }
        if !buf.is_empty() {
            ok &= action(Item::Literal(take_text(&mut buf)), warnings);
        }
        at += 1;
        match bytes.get(at) {
            Some(&open @ (b'{' | b'(')) => {
                let close = if open == b'{' { b'}' } else { b')' };
                let start = at + 1;
                let Some(end) = closing(bytes, start, open, close) else {
                    warnings.push(format!("truncated macro reference: \"{value}\""));
                    return false;
                };
                if !ok {
                    return false;
                }
                buf.extend_from_slice(&bytes[start..end]);
                at = end + 1;
            }
            _ => {
                let len = bytes[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                buf.extend_from_slice(&bytes[at..at + len]);
                at += len;
            }
        }
        if buf.is_empty() {
            warnings.push(format!("empty macro name: \"{value}\""));
            return false;
        }
        ok &= action(Item::Name(take_text(&mut buf)), warnings);
    }
    if !buf.is_empty() && ok {
        ok &= action(Item::Literal(take_text(&mut buf)), warnings);
    }
    ok
}

/// Index of the parenthesis that closes the one before `start`.
fn closing(bytes: &[u8], start: usize, open: u8, close: u8) -> Option<usize> {
    let mut level = 1usize;
    for (at, &b) in bytes.iter().enumerate().skip(start) {
        if b == open {
            level += 1;
        }
        if b == close {
            level -= 1;
            if level == 0 {
                return Some(at);
            }
        }
    }
    None
}

fn take_text(buf: &mut Vec<u8>) -> String {
    let bytes = std::mem::take(buf);
    // The input was a &str and we split only at ASCII bytes.
    String::from_utf8(bytes)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACE: Place<'static> = Place {
        flavor: Flavor::Regexp,
        map: "m",
        line: 3,
    };

    fn parse(text: &str) -> (Option<Template>, Vec<String>) {
        let mut warnings = Vec::new();
        let t = Template::parse(PLACE, text, &mut warnings);
        (t, warnings)
    }

    #[test]
    fn constant_text_keeps_one_dollar_for_two() {
        let (t, w) = parse("50$$ off");
        let t = t.unwrap();
        assert!(w.is_empty());
        assert_eq!(t.max_group(), 0);
        assert_eq!(t.literal(), "50$ off");
    }

    #[test]
    fn references_in_all_three_forms() {
        let (t, _) = parse("<$1|${2}|$(3)x>");
        let t = t.unwrap();
        assert_eq!(t.max_group(), 3);
        let groups: [&[u8]; 4] = [b"all", b"a", b"", b"c"];
        let got = t.expand(|n| groups.get(n).copied());
        assert_eq!(got, "<a||cx>");
    }

    #[test]
    fn bad_references_warn_in_postfix_words() {
        assert_eq!(
            parse("$x").1,
            vec!["regexp map m, line 3: non-numeric replacement index \"x\""]
        );
        assert_eq!(
            parse("$0").1,
            vec!["regexp map m, line 3: out-of-range replacement index \"0\""]
        );
        assert_eq!(parse("a${1").1, vec!["truncated macro reference: \"a${1\""]);
        assert_eq!(parse("50$ off").1, vec!["empty macro name: \"50$ off\""]);
        assert_eq!(parse("$1st").1.len(), 1);
        let mut warnings = Vec::new();
        let pcre = Place {
            flavor: Flavor::Pcre,
            ..PLACE
        };
        assert!(Template::parse(pcre, "$0", &mut warnings).is_none());
        assert_eq!(
            warnings,
            vec!["pcre map m, line 3: out of range replacement index \"0\""]
        );
    }

    #[test]
    fn leading_zeros_and_nested_braces() {
        let (t, _) = parse("${01}");
        assert_eq!(t.unwrap().max_group(), 1);
        let (t, w) = parse("${{1}}");
        assert!(t.is_none());
        assert_eq!(w.len(), 1);
    }
}
