//! Parse trees back to text (Postfix `tok822_internalize` and
//! `tok822_externalize`): the internal form drops quoting, the external
//! form quotes what needs it, and the header form puts each address on a
//! line of its own and strips overlong comments and phrases.

use super::Token;
use crate::quote;

/// How much non-address text (comments, phrases) one comma-separated
/// element may carry before the header form strips it to `<address>`.
/// This guards against the Sendmail overflow of CERT advisory CA-2003-07,
/// as Postfix does.
pub const MAX_NON_ADDRESS_TEXT: usize = 250;

/// Options of the external form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// A line break instead of a space after each comma: one address per
    /// line, for header folding ([`super::fold_header`]).
    pub line_breaks: bool,
    /// Reduce an element with more than [`MAX_NON_ADDRESS_TEXT`] bytes of
    /// comments and phrases to `<address>`.
    pub limit_non_address: bool,
}

impl Style {
    /// The style cleanup uses for rewritten headers.
    pub const HEADER: Style = Style {
        line_breaks: true,
        limit_non_address: true,
    };
}

/// External text, and a warning for each element whose comments were
/// stripped (Postfix's wording, for the caller to log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Externalized {
    pub text: String,
    pub warnings: Vec<String>,
}

/// Does a top-level token need a space before the next one?
fn space_after(token: &Token, next: Option<&Token>) -> bool {
    let Some(next) = next else {
        return false;
    };
    matches!(token, Token::Op(',') | Token::GroupStart)
        || *next == Token::Op('<')
        || (token.is_word() && next.is_word())
}

/// The internal form of top-level tokens.
pub(super) fn internalize(tokens: &[Token], line_breaks: bool) -> String {
    let mut out = String::new();
    for (i, token) in tokens.iter().enumerate() {
        if *token == Token::Op(',') && line_breaks {
            out.push_str(",\n");
            continue;
        }
        push_internal(&mut out, token);
        if space_after(token, tokens.get(i + 1)) {
            out.push(' ');
        }
    }
    out
}

/// The internal form of an address: its tokens without spaces between.
pub(super) fn internalize_address(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        push_internal(&mut out, token);
    }
    out
}

fn push_internal(out: &mut String, token: &Token) {
    match token {
        Token::Atom(text) | Token::Quoted(text) | Token::Comment(text) => out.push_str(text),
        Token::DomainLiteral(text) => {
            out.push('[');
            out.push_str(text);
            out.push(']');
        }
        Token::Op(c) => out.push(*c),
        Token::GroupStart => out.push(':'),
        // The parser never nests addresses, so this recursion is shallow.
        Token::Address(parts) => {
            for part in parts {
                push_internal(out, part);
            }
        }
    }
}

/// Append `text` with a backslash before each character in `special`.
fn push_escaped(out: &mut String, text: &str, special: &str) {
    for c in text.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The element being externalized: where it starts in the output and the
/// address in it, if any (`Some(&[])` for `<>`).
struct Element<'a> {
    start: usize,
    address: Option<&'a [Token]>,
    address_len: usize,
}

impl<'a> Element<'a> {
    fn new(start: usize) -> Element<'a> {
        Element {
            start,
            address: None,
            address_len: 0,
        }
    }

    /// Strip the element to `<address>` if its other text is too long.
    fn enforce(&self, out: &mut String, warnings: &mut Vec<String>) {
        let Some(address) = self.address else {
            return;
        };
        if out.len() - self.address_len <= self.start + MAX_NON_ADDRESS_TEXT {
            return;
        }
        warnings.push(format!(
            "stripping too many comments from address: {}...",
            printable(prefix(&out[self.start..], 100))
        ));
        out.truncate(self.start);
        out.push('<');
        if !address.is_empty() {
            out.push_str(&quote::external(&internalize_address(address)));
        }
        out.push('>');
    }
}

/// The external form of top-level tokens.
pub(super) fn externalize(tokens: &[Token], style: Style) -> Externalized {
    externalize_spaced(tokens, style, true)
}

/// The external form of tokens inside an address: the same, without the
/// spaces between words.
pub(super) fn externalize_parts(tokens: &[Token]) -> String {
    externalize_spaced(tokens, Style::default(), false).text
}

fn externalize_spaced(tokens: &[Token], style: Style, spaces: bool) -> Externalized {
    let mut out = String::new();
    let mut warnings = Vec::new();
    let mut element = Element::new(0);
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1);
        match token {
            Token::Op(',') => {
                if style.limit_non_address {
                    element.enforce(&mut out, &mut warnings);
                }
                out.push_str(if style.line_breaks { ",\n" } else { ", " });
                element = Element::new(out.len());
                continue;
            }
            Token::Address(parts) => {
                let before = out.len();
                out.push_str(&quote::external(&internalize_address(parts)));
                element.address = Some(parts);
                element.address_len = out.len() - before;
            }
            Token::Atom(text) | Token::Comment(text) => out.push_str(text),
            Token::Quoted(text) => {
                out.push('"');
                push_escaped(&mut out, text, "\"\\\r\n");
                out.push('"');
            }
            Token::DomainLiteral(text) => {
                out.push('[');
                push_escaped(&mut out, text, "\\\r\n");
                out.push(']');
            }
            Token::GroupStart => out.push(':'),
            Token::Op(c) => {
                if *c == '<' && next == Some(&Token::Op('>')) {
                    element.address = Some(&[]);
                    element.address_len = 0;
                }
                out.push(*c);
            }
        }
        if spaces && space_after(token, next) {
            out.push(' ');
        }
    }
    if style.limit_non_address {
        element.enforce(&mut out, &mut warnings);
    }
    Externalized {
        text: out,
        warnings,
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` for a log line: control characters become `?`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Tree;
    use super::*;

    #[test]
    fn trailing_comma_keeps_its_space() {
        let tree = Tree::parse("a,");
        assert_eq!(tree.to_internal(), "a,");
        assert_eq!(tree.to_external(), "a, ");
    }

    #[test]
    fn quoting_in_external_form() {
        let tree = Tree::parse("\"a\\\\b\" c, x@[1\\\\]");
        // Only top-level domain literals are escaped; an address is
        // internalized and then only its local part is quoted.
        assert_eq!(tree.to_external(), "\"a\\\\b\", c, x@[1\\]");
        assert_eq!(tree.to_internal(), "a\\b, c, x@[1\\]");
    }

    #[test]
    fn long_phrases_are_stripped_in_header_style() {
        let phrase = "x".repeat(300);
        let tree = Tree::parse(&format!("{phrase} <a@b>, c"));
        let out = tree.externalize(Style::HEADER);
        assert_eq!(out.text, "<a@b>,\nc");
        assert_eq!(out.warnings.len(), 1);
        let plain = tree.externalize(Style::default());
        assert!(plain.warnings.is_empty());
        assert!(plain.text.starts_with(&phrase));
    }

    #[test]
    fn prefix_cuts_at_char_boundary() {
        assert_eq!(prefix("aé", 2), "a");
        assert_eq!(printable("a\tb"), "a?b");
    }
}
