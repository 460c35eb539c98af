//! Splitting a header value into RFC 822 tokens (Postfix `header_token`):
//! atoms, quoted strings, and special or control characters, with linear
//! white space and (nested) comments skipped. Cleanup's MIME walker uses
//! it for `Content-Type` parameters and `Content-Transfer-Encoding`, and
//! `postmap -m` for `Content-Type`; it lives here, the lowest crate both
//! use.

/// RFC 822 specials, for `Content-Transfer-Encoding`.
pub const RFC822_SPECIALS: &[u8] = b"()<>@,;:\\\".[]";
/// RFC 2045 tspecials, for `Content-Type`.
pub const RFC2045_TSPECIALS: &[u8] = b"()<>@,;:\\\"/[]?=";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A run of characters that are not white space, control or special.
    Atom(Vec<u8>),
    /// The content of a quoted string, unquoted and unfolded.
    Quoted(Vec<u8>),
    /// One special or control character.
    Special(u8),
}

impl Token {
    /// Whether this is the atom `word`, compared case-insensitively (a
    /// quoted string never matches, as in Postfix).
    pub fn is_atom(&self, word: &str) -> bool {
        matches!(self, Token::Atom(value) if value.eq_ignore_ascii_case(word.as_bytes()))
    }

    /// The text of any token; a special is its character.
    pub fn value(&self) -> &[u8] {
        match self {
            Token::Atom(value) | Token::Quoted(value) => value,
            Token::Special(c) => std::slice::from_ref(c),
        }
    }
}

fn is_lwsp(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// A header value being tokenized, group by group.
#[derive(Debug)]
pub struct Tokenizer<'a> {
    rest: &'a [u8],
    specials: &'static [u8],
}

impl<'a> Tokenizer<'a> {
    /// Tokenize `value`. Like Postfix's C strings, it ends at a NUL byte.
    pub fn new(value: &'a [u8], specials: &'static [u8]) -> Tokenizer<'a> {
        let end = memchr::memchr(0, value).unwrap_or(value.len());
        Tokenizer {
            rest: &value[..end],
            specials,
        }
    }

    fn is_special(&self, c: u8) -> bool {
        self.specials.contains(&c) || c.is_ascii_control()
    }

    /// The next group of at most `max` tokens. With a `terminator`, the
    /// group ends after it (it is not returned) and tokens past `max` are
    /// skipped; without one the group ends at `max` tokens. `None` when
    /// the input ran out before any token was stored.
    pub fn next_group(&mut self, max: usize, terminator: Option<u8>) -> Option<Vec<Token>> {
        let input = self.rest;
        let mut tokens = Vec::new();
        let mut i = 0;
        let mut exhausted = true;
        while i < input.len() {
            if terminator.is_none() && tokens.len() >= max {
                exhausted = false;
                break;
            }
            let c = input[i];
            i += 1;
            if is_lwsp(c) {
                continue;
            }
            if Some(c) == terminator {
                exhausted = false;
                break;
            }
            let token = match c {
                b'(' => {
                    i = skip_comment(input, i);
                    continue;
                }
                b'"' => {
                    let (quoted, next) = quoted_string(input, i);
                    i = next;
                    Token::Quoted(quoted)
                }
                _ if self.is_special(c) => Token::Special(c),
                _ => {
                    let start = i - 1;
                    while i < input.len() && !is_lwsp(input[i]) && !self.is_special(input[i]) {
                        i += 1;
                    }
                    Token::Atom(input[start..i].to_vec())
                }
            };
            if tokens.len() < max {
                tokens.push(token);
            }
        }
        self.rest = &input[i..];
        if tokens.is_empty() && exhausted {
            return None;
        }
        Some(tokens)
    }
}

/// Skip a comment whose `(` is before `i`; comments nest, and a backslash
/// quotes the next character. Returns the index after the closing `)`.
pub fn skip_comment(input: &[u8], mut i: usize) -> usize {
    let mut level = 1;
    while i < input.len() {
        let c = input[i];
        i += 1;
        match c {
            b'(' => level += 1,
            b')' => {
                level -= 1;
                if level == 0 {
                    break;
                }
            }
            b'\\' if i < input.len() => i += 1,
            b'\\' => break,
            _ => {}
        }
    }
    i
}

/// Read a quoted string whose `"` is before `i`: backslash quotes the next
/// character, and a newline unfolds (white space before it is dropped).
fn quoted_string(input: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    while i < input.len() {
        let mut c = input[i];
        i += 1;
        match c {
            b'"' => break,
            b'\n' => {
                while out.last().is_some_and(|&c| is_lwsp(c)) {
                    out.pop();
                }
                continue;
            }
            b'\\' => {
                let Some(&next) = input.get(i) else {
                    break;
                };
                c = next;
                i += 1;
            }
            _ => {}
        }
        out.push(c);
    }
    (out, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(group: &[Token]) -> Vec<String> {
        group
            .iter()
            .map(|t| String::from_utf8_lossy(t.value()).into_owned())
            .collect()
    }

    #[test]
    fn content_type_groups_split_at_semicolons() {
        let value = b" multipart/(co\\m\\)ment)mumble mumble; boundary = \"ab\\cd \n ef\" mumble";
        let mut tok = Tokenizer::new(value, RFC2045_TSPECIALS);
        let first = tok.next_group(3, Some(b';')).unwrap();
        assert_eq!(values(&first), ["multipart", "/", "mumble"]);
        assert!(first[0].is_atom("MULTIPART"));
        let second = tok.next_group(3, Some(b';')).unwrap();
        assert_eq!(values(&second), ["boundary", "=", "abcd ef"]);
        assert_eq!(second[2], Token::Quoted(b"abcd ef".to_vec()));
        assert_eq!(tok.next_group(3, Some(b';')), None);
    }

    #[test]
    fn empty_groups_between_terminators_are_not_the_end() {
        let mut tok = Tokenizer::new(b"a;;b", RFC2045_TSPECIALS);
        assert_eq!(values(&tok.next_group(3, Some(b';')).unwrap()), ["a"]);
        assert_eq!(tok.next_group(3, Some(b';')), Some(vec![]));
        assert_eq!(values(&tok.next_group(3, Some(b';')).unwrap()), ["b"]);
        assert_eq!(tok.next_group(3, Some(b';')), None);
    }

    #[test]
    fn without_terminator_a_group_stops_at_max() {
        let mut tok = Tokenizer::new(b" base64 (c) x", RFC822_SPECIALS);
        assert_eq!(values(&tok.next_group(1, None).unwrap()), ["base64"]);
        assert_eq!(values(&tok.next_group(1, None).unwrap()), ["x"]);
        let mut dotted = Tokenizer::new(b"7.bit", RFC822_SPECIALS);
        assert_eq!(
            values(&dotted.next_group(3, None).unwrap()),
            ["7", ".", "bit"]
        );
    }

    #[test]
    fn unterminated_input_and_nul_end_the_value() {
        for input in [&b"(open comment"[..], b"\"open", b"\"a\\", b"(a\\", b"\0x"] {
            let mut tok = Tokenizer::new(input, RFC2045_TSPECIALS);
            let group = tok.next_group(3, Some(b';'));
            assert!(
                group.is_none() || group.is_some_and(|g| g.len() <= 1),
                "{input:?}"
            );
        }
        let mut ctl = Tokenizer::new(b"a\x01b", RFC2045_TSPECIALS);
        let group = ctl.next_group(3, Some(b';')).unwrap();
        assert_eq!(group[1], Token::Special(1));
    }
}
