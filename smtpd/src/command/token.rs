//! Postfix's SMTP command tokenizer (`smtpd_token.c`): a line splits at
//! white space, except inside `<...>` (with nesting) and `"..."`, and a
//! backslash protects the next byte; `from:` and `to:` end a token of
//! their own, so `MAIL FROM:<a@b>` and `MAIL FROM: <a@b>` give the same
//! three tokens. The MAIL and RCPT parsers use it to find the address
//! argument and the parameters exactly as Postfix sees them.

/// One token; `malformed` when a quote or bracket is never closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub malformed: bool,
}

/// Split `line` into tokens.
pub fn tokens(line: &str) -> Vec<Token> {
    let mut chars = line.chars().peekable();
    let mut out = Vec::new();
    while let Some(token) = next_token(&mut chars) {
        out.push(token);
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn next_token(chars: &mut Chars<'_>) -> Option<Token> {
    let mut token = Token {
        text: String::new(),
        malformed: false,
    };
    while let Some(c) = chars.next() {
        match c {
            c if is_space(c) => {
                while chars.next_if(|c| is_space(*c)).is_some() {}
                if !token.text.is_empty() {
                    break;
                }
            }
            '<' => quoted(chars, &mut token, '<', '>'),
            '"' => quoted(chars, &mut token, '"', '"'),
            ':' => {
                token.text.push(':');
                // "This is gross, but..." (smtpd_token.c).
                let word = token.text.to_ascii_lowercase();
                if word == "to:" || word == "from:" {
                    break;
                }
            }
            '\\' => {
                token.text.push('\\');
                match chars.next() {
                    Some(next) => token.text.push(next),
                    None => break,
                }
            }
            c => token.text.push(c),
        }
    }
    (!token.text.is_empty()).then_some(token)
}

/// C's `isspace` in the C locale (Rust's ASCII white space lacks VT).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Read up to the `last` that closes `start`, honouring escapes, quotes
/// inside brackets and nested brackets; no close makes the token
/// malformed.
fn quoted(chars: &mut Chars<'_>, token: &mut Token, start: char, last: char) {
    let mut stack = vec![last];
    token.text.push(start);
    while let Some(c) = chars.next() {
        token.text.push(c);
        let wanted = *stack.last().expect("the stack holds the outermost close");
        if c == '\\' {
            match chars.next() {
                Some(next) => token.text.push(next),
                None => break,
            }
        } else if c == wanted {
            stack.pop();
            if stack.is_empty() {
                return;
            }
        } else if c == '"' {
            stack.push('"');
        } else if c == '<' && wanted == '>' {
            stack.push('>');
        }
    }
    token.malformed = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        tokens(line).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn addresses_stay_whole() {
        assert_eq!(
            texts("MAIL FROM:<a@b> SIZE=1"),
            ["MAIL", "FROM:", "<a@b>", "SIZE=1"]
        );
        assert_eq!(
            texts("rcpt to: <\"a b\"@c>"),
            ["rcpt", "to:", "<\"a b\"@c>"]
        );
        assert_eq!(
            texts("MAIL FROM:<Joe <a@b>>"),
            ["MAIL", "FROM:", "<Joe <a@b>>"]
        );
        assert_eq!(texts("MAIL FROM:a\\ b@c"), ["MAIL", "FROM:", "a\\ b@c"]);
        assert_eq!(texts("  "), Vec::<String>::new());
    }

    #[test]
    fn an_unclosed_bracket_is_malformed() {
        let t = tokens("mail to:<\"wietse venema>");
        assert_eq!(t.len(), 3);
        assert!(t[2].malformed && !t[1].malformed);
        assert_eq!(t[2].text, "<\"wietse venema>");
    }
}
