//! The tokenizer (Postfix `tok822_scan`): splits external-form text into
//! atoms, quoted strings, comments, domain literals and operators. It
//! never fails; unbalanced quotes, brackets and parentheses end at the end
//! of the input.

use super::{Token, is_operator};

/// White space between tokens (Postfix `IS_SPACE_TAB_CR_LF`).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Tokenize `text`, stopping after `limit` tokens when given (0 means no
/// limit, as in Postfix).
pub(super) fn scan(text: &str, limit: Option<usize>) -> Vec<Token> {
    let mut chars = text.chars().peekable();
    let mut tokens = Vec::new();
    while let Some(c) = chars.next() {
        if is_blank(c) {
            continue;
        }
        let token = match c {
            '(' => Token::Comment(comment(&mut chars)),
            '[' => Token::DomainLiteral(collect_until(&mut chars, ']')),
            '"' => Token::Quoted(collect_until(&mut chars, '"')),
            c if c != '\\' && is_operator(c) => Token::Op(c),
            c => atom(c, &mut chars),
        };
        tokens.push(token);
        if limit.is_some_and(|max| max > 0 && tokens.len() >= max) {
            break;
        }
    }
    tokens
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// A comment after its `(`, kept in external form: nested parentheses are
/// counted and a backslash keeps the next character as it is.
fn comment(chars: &mut Chars<'_>) -> String {
    let mut text = String::from("(");
    let mut level = 1usize;
    while let Some(c) = chars.next() {
        text.push(c);
        match c {
            '(' => level += 1,
            ')' => {
                level -= 1;
                if level == 0 {
                    break;
                }
            }
            '\\' => match chars.next() {
                Some(escaped) => text.push(escaped),
                None => break,
            },
            _ => {}
        }
    }
    text
}

/// Collect characters up to `end` (consumed, not kept), undoing
/// backslashes; line breaks and tabs become spaces.
fn collect_until(chars: &mut Chars<'_>, end: char) -> String {
    let mut text = String::new();
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => match chars.next() {
                Some(escaped) => escaped,
                None => break,
            },
            c if c == end => break,
            c => c,
        };
        text.push(if is_blank(c) { ' ' } else { c });
    }
    text
}

/// An atom that starts with `first`. An atom that contains a space, a
/// control character or an operator (all only possible through a
/// backslash) becomes a quoted string, so it is quoted when externalized.
fn atom(first: char, chars: &mut Chars<'_>) -> Token {
    let mut text = String::new();
    let mut next = Some(first);
    while let Some(c) = next {
        let c = if c == '\\' {
            match chars.next() {
                Some(escaped) => escaped,
                None => break,
            }
        } else {
            c
        };
        text.push(if is_blank(c) { ' ' } else { c });
        next = chars.next_if(|&c| c == '\\' || !(is_blank(c) || is_operator(c)));
    }
    let needs_quotes = text
        .chars()
        .any(|c| c == ' ' || c.is_ascii_control() || is_operator(c));
    if needs_quotes {
        Token::Quoted(text)
    } else {
        Token::Atom(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(s: &str) -> Token {
        Token::Atom(s.into())
    }

    #[test]
    fn tokens_of_a_plain_address() {
        assert_eq!(
            scan("wietse @ porcupine.org", None),
            [
                atom("wietse"),
                Token::Op('@'),
                atom("porcupine"),
                Token::Op('.'),
                atom("org")
            ]
        );
    }

    #[test]
    fn backslashes_and_unterminated_forms() {
        assert_eq!(
            scan("wietse\\ venema", None),
            [Token::Quoted("wietse venema".into())]
        );
        assert_eq!(scan("\"a\\\"b", None), [Token::Quoted("a\"b".into())]);
        assert_eq!(scan("[x", None), [Token::DomainLiteral("x".into())]);
        assert_eq!(
            scan("(a (b) \\) c", None),
            [Token::Comment("(a (b) \\) c".into())]
        );
        assert_eq!(scan("a\\", None), [atom("a")]);
        assert_eq!(scan("\\", None), [atom("")]);
        assert_eq!(scan("\"x\ty\"", None), [Token::Quoted("x y".into())]);
    }

    #[test]
    fn limit_counts_tokens() {
        assert_eq!(scan("a b c d", Some(2)), [atom("a"), atom("b")]);
        assert_eq!(scan("a b", Some(0)).len(), 2);
    }
}
