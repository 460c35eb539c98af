//! The MIME structure `postmap -m` follows (Postfix mime_state.c): the
//! content type of each header block, read with Postfix's RFC 2045
//! tokenizer (header_token.c), and the stack of multipart boundaries.
//! Only what decides where headers start is kept: Postfix's encoding
//! checks report nothing to postmap.

use crate::header_token::{RFC2045_TSPECIALS, Token, Tokenizer};

/// Content types that change the parse (mime_state.c `MIME_CTYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctype {
    Other,
    Text,
    Message,
    Multipart,
}

/// Subtypes that matter (`MIME_STYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stype {
    Other,
    Plain,
    Rfc822,
    Partial,
    ExternalBody,
}

/// Tokens kept per `;`-separated item, as Postfix keeps.
const MAX_TOKENS: usize = 3;

/// Postfix `header_token(..., ';')`: the tokens of the next item.
fn next_item(tokens: &mut Tokenizer<'_>) -> Option<Vec<Token>> {
    tokens.next_group(MAX_TOKENS, Some(b';'))
}

/// A multipart boundary and the content type its parts default to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Boundary {
    text: Vec<u8>,
    default: (Ctype, Stype),
}

/// The MIME state that decides where header blocks start.
#[derive(Debug, Clone)]
pub(crate) struct Mime {
    pub(crate) ctype: Ctype,
    pub(crate) stype: Stype,
    stack: Vec<Boundary>,
    /// `mime_nesting_limit`, `mime_boundary_length_limit`.
    max_depth: usize,
    max_boundary: usize,
}

/// What a boundary line does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delimiter {
    /// `--boundary`: a part's headers follow.
    Part,
    /// `--boundary--`: back to body text.
    End,
}

impl Mime {
    pub(crate) fn new(max_depth: usize, max_boundary: usize) -> Mime {
        Mime {
            ctype: Ctype::Text,
            stype: Stype::Plain,
            stack: Vec::new(),
            max_depth,
            max_boundary,
        }
    }

    /// A complete header (`Name:value`, name as normalized); only
    /// `Content-Type` matters.
    pub(crate) fn header(&mut self, header: &[u8]) {
        const NAME: &[u8] = b"content-type:";
        if header.len() >= NAME.len() && header[..NAME.len()].eq_ignore_ascii_case(NAME) {
            self.content_type(&header[NAME.len()..]);
        }
    }

    fn content_type(&mut self, value: &[u8]) {
        let mut items = Tokenizer::new(value, RFC2045_TSPECIALS);
        let Some(toks) = next_item(&mut items).filter(|t| !t.is_empty()) else {
            return;
        };
        let subtype = |word: &str| {
            toks.len() >= 3 && toks[1] == Token::Special(b'/') && toks[2].is_atom(word)
        };
        if toks[0].is_atom("text") {
            self.ctype = Ctype::Text;
            self.stype = if subtype("plain") {
                Stype::Plain
            } else {
                Stype::Other
            };
        } else if toks[0].is_atom("message") {
            self.ctype = Ctype::Message;
            self.stype = [
                ("rfc822", Stype::Rfc822),
                ("partial", Stype::Partial),
                ("external-body", Stype::ExternalBody),
            ]
            .into_iter()
            .find(|(word, _)| subtype(word))
            .map_or(Stype::Other, |(_, stype)| stype);
        } else if toks[0].is_atom("multipart") {
            self.ctype = Ctype::Multipart;
            let default = if subtype("digest") {
                (Ctype::Message, Stype::Rfc822)
            } else {
                (Ctype::Text, Stype::Plain)
            };
            // Every boundary parameter counts, as in Postfix.
            while let Some(param) = next_item(&mut items) {
                if param.len() >= 3
                    && param[0].is_atom("boundary")
                    && param[1] == Token::Special(b'=')
                {
                    self.push(default, param[2].value().to_vec());
                }
            }
        } else {
            self.ctype = Ctype::Other;
        }
    }

    fn push(&mut self, default: (Ctype, Stype), mut text: Vec<u8>) {
        if self.stack.len() > self.max_depth {
            return;
        }
        text.truncate(self.max_boundary);
        self.stack.push(Boundary { text, default });
    }

    /// A body line: whether it is a boundary of an enclosing multipart
    /// (innermost first), and the state that follows it.
    pub(crate) fn delimiter(&mut self, line: &[u8]) -> Option<Delimiter> {
        if line.len() <= 2 {
            return None;
        }
        let rest = line.strip_prefix(b"--")?;
        let at = self.stack.iter().rposition(|b| rest.starts_with(&b.text))?;
        self.stack.truncate(at + 1);
        let after = &rest[self.stack[at].text.len()..];
        if after.starts_with(b"--") {
            self.stack.pop();
            (self.ctype, self.stype) = (Ctype::Other, Stype::Other);
            Some(Delimiter::End)
        } else {
            (self.ctype, self.stype) = self.stack[at].default;
            Some(Delimiter::Part)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_classified() {
        let mut m = Mime::new(100, 2048);
        m.header(b"Content-Type: Message/RFC822");
        assert_eq!((m.ctype, m.stype), (Ctype::Message, Stype::Rfc822));
        m.header(b"content-type: text/html");
        assert_eq!((m.ctype, m.stype), (Ctype::Text, Stype::Other));
        m.header(b"Content-Type: \"text\"/plain");
        assert_eq!(m.ctype, Ctype::Other);
        m.header(b"Content-Type:");
        assert_eq!(m.ctype, Ctype::Other, "an empty value changes nothing");
        m.header(b"Content-Type: multipart/digest; boundary=b1; boundary=\"b2\"");
        assert_eq!(m.ctype, Ctype::Multipart);
        assert_eq!(m.stack.len(), 2);
    }

    #[test]
    fn boundaries_pop_to_the_one_matched() {
        let mut m = Mime::new(100, 2048);
        m.header(b"Content-Type: multipart/mixed; boundary=outer");
        m.header(b"Content-Type: multipart/digest; boundary=inner");
        assert_eq!(m.delimiter(b"--inner"), Some(Delimiter::Part));
        assert_eq!((m.ctype, m.stype), (Ctype::Message, Stype::Rfc822));
        assert_eq!(m.delimiter(b"--outerjunk"), Some(Delimiter::Part));
        assert_eq!(m.stack.len(), 1);
        assert_eq!((m.ctype, m.stype), (Ctype::Text, Stype::Plain));
        assert_eq!(m.delimiter(b"--inner"), None);
        assert_eq!(m.delimiter(b"-outer"), None);
        assert_eq!(m.delimiter(b"--outer--"), Some(Delimiter::End));
        assert!(m.stack.is_empty());
        assert_eq!(m.delimiter(b"--outer"), None);
    }

    #[test]
    fn limits_bound_the_stack_and_boundaries() {
        let mut m = Mime::new(1, 3);
        for _ in 0..5 {
            m.header(b"Content-Type: multipart/mixed; boundary=abcdef");
        }
        assert_eq!(m.stack.len(), 2);
        assert_eq!(m.stack[0].text, b"abc");
        assert_eq!(m.delimiter(b"--abcXYZ"), Some(Delimiter::Part));
    }
}
