//! POSIX bracket expressions (`[a-z]`, `[^]x]`, `[[:alpha:]]`, `[[.-.]]`,
//! `[[=a=]]`) as glibc reads them in the C locale: backslash is literal,
//! `]` first is literal, `-` first or last is literal, and the same
//! errors for bad ranges, classes and collating elements.

use super::posix::{Lexer, PosixError};

/// The set of bytes a bracket expression matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Set([bool; 256]);

impl Set {
    fn new() -> Set {
        Set([false; 256])
    }

    fn insert(&mut self, byte: u8) {
        self.0[usize::from(byte)] = true;
    }

    /// The set as a `regex` class of byte ranges (Unicode off).
    pub(super) fn to_class(&self) -> String {
        let mut out = String::from("[");
        let mut at = 0usize;
        let mut empty = true;
        while at < 256 {
            if !self.0[at] {
                at += 1;
                continue;
            }
            let start = at;
            while at < 256 && self.0[at] {
                at += 1;
            }
            empty = false;
            out.push_str(&format!("\\x{start:02X}"));
            if at - 1 > start {
                out.push_str(&format!("-\\x{:02X}", at - 1));
            }
        }
        if empty {
            // Nothing matches (only possible with every byte negated).
            return "[^\\x00-\\xFF]".to_string();
        }
        out.push(']');
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Char,
    Range,
    Close,
    NonMatch,
    OpenColl,
    OpenEquiv,
    OpenClass,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    c: u8,
    len: usize,
}

/// One element between the brackets.
#[derive(Debug)]
enum Element {
    Byte(u8),
    Coll(Vec<u8>),
    Equiv(Vec<u8>),
    Class(Vec<u8>),
}

/// glibc `peek_token_bracket`.
fn peek(lexer: &Lexer<'_>) -> Token {
    let Some(&c) = lexer.re.get(lexer.pos) else {
        return Token {
            kind: Kind::End,
            c: 0,
            len: 0,
        };
    };
    if c == b'[' {
        let kind = match lexer.re.get(lexer.pos + 1) {
            Some(b'.') => Kind::OpenColl,
            Some(b'=') => Kind::OpenEquiv,
            Some(b':') => Kind::OpenClass,
            _ => Kind::Char,
        };
        let len = if kind == Kind::Char { 1 } else { 2 };
        return Token { kind, c, len };
    }
    let kind = match c {
        b'-' => Kind::Range,
        b']' => Kind::Close,
        b'^' => Kind::NonMatch,
        _ => Kind::Char,
    };
    Token { kind, c, len: 1 }
}

/// Parse a bracket expression; the lexer is just after the `[`
/// (glibc `parse_bracket_exp`).
pub(super) fn parse(lexer: &mut Lexer<'_>) -> Result<Set, PosixError> {
    let mut set = Set::new();
    let mut token = peek(lexer);
    if token.kind == Kind::End {
        return Err(PosixError::BadPattern);
    }
    let mut negated = false;
    if token.kind == Kind::NonMatch {
        negated = true;
        if lexer.syntax.newline {
            // Negated lists never match a newline under REG_NEWLINE.
            set.insert(b'\n');
        }
        lexer.pos += token.len;
        token = peek(lexer);
        if token.kind == Kind::End {
            return Err(PosixError::BadPattern);
        }
    }
    // A `]` first is an ordinary character.
    if token.kind == Kind::Close {
        token.kind = Kind::Char;
    }
    let mut first = true;
    loop {
        let start = element(lexer, token, first)?;
        first = false;
        token = peek(lexer);
        let mut range_end = None;
        if !matches!(start, Element::Class(_) | Element::Equiv(_)) {
            if token.kind == Kind::End {
                return Err(PosixError::Bracket);
            }
            if token.kind == Kind::Range {
                lexer.pos += token.len;
                let token2 = peek(lexer);
                if token2.kind == Kind::End {
                    return Err(PosixError::Bracket);
                }
                if token2.kind == Kind::Close {
                    // A `-` last is an ordinary character.
                    lexer.pos -= token.len;
                    token.kind = Kind::Char;
                } else {
                    range_end = Some(token2);
                }
            }
        }
        match range_end {
            Some(token2) => {
                let end = element(lexer, token2, true)?;
                token = peek(lexer);
                add_range(&mut set, &start, &end, lexer.syntax.icase)?;
            }
            None => add_element(&mut set, start, lexer.syntax.icase)?,
        }
        if token.kind == Kind::End {
            return Err(PosixError::Bracket);
        }
        if token.kind == Kind::Close {
            break;
        }
    }
    lexer.pos += token.len;
    if negated {
        for member in set.0.iter_mut() {
            *member = !*member;
        }
    }
    Ok(set)
}

/// glibc `parse_bracket_element`: consume `token` and what belongs to it.
fn element(
    lexer: &mut Lexer<'_>,
    token: Token,
    accept_hyphen: bool,
) -> Result<Element, PosixError> {
    lexer.pos += token.len;
    match token.kind {
        Kind::OpenColl | Kind::OpenEquiv | Kind::OpenClass => return symbol(lexer, token.kind),
        // A `-` after a range that does not end the list.
        Kind::Range if !accept_hyphen && peek(lexer).kind != Kind::Close => {
            return Err(PosixError::Range);
        }
        _ => {}
    }
    Ok(Element::Byte(token.c))
}

/// The name in `[.name.]`, `[=name=]` or `[:name:]` (glibc
/// `parse_bracket_symbol`); the lexer is after the opening pair.
fn symbol(lexer: &mut Lexer<'_>, kind: Kind) -> Result<Element, PosixError> {
    let delim = match kind {
        Kind::OpenColl => b'.',
        Kind::OpenEquiv => b'=',
        _ => b':',
    };
    let re = lexer.re;
    if lexer.pos >= re.len() {
        return Err(PosixError::Bracket);
    }
    let mut name = Vec::new();
    loop {
        // glibc's name buffer holds 32 bytes.
        if name.len() >= 32 {
            return Err(PosixError::Bracket);
        }
        let ch = re[lexer.pos];
        lexer.pos += 1;
        if lexer.pos >= re.len() {
            return Err(PosixError::Bracket);
        }
        if ch == delim && re[lexer.pos] == b']' {
            break;
        }
        name.push(ch);
    }
    lexer.pos += 1;
    Ok(match kind {
        Kind::OpenColl => Element::Coll(name),
        Kind::OpenEquiv => Element::Equiv(name),
        _ => Element::Class(name),
    })
}

/// glibc uppercases pattern and key to ignore case.
fn fold(byte: u8, icase: bool) -> u8 {
    if icase {
        byte.to_ascii_uppercase()
    } else {
        byte
    }
}

/// The single byte a collating element names; longer names are not
/// collating elements of the C locale.
fn coll_byte(name: &[u8]) -> Result<u8, PosixError> {
    match name {
        [] => Ok(0),
        [byte] => Ok(*byte),
        _ => Err(PosixError::Collate),
    }
}

fn add_element(set: &mut Set, element: Element, icase: bool) -> Result<(), PosixError> {
    match element {
        Element::Byte(byte) => set.insert(fold(byte, icase)),
        Element::Coll(name) | Element::Equiv(name) => match name.as_slice() {
            [byte] => set.insert(fold(*byte, icase)),
            _ => return Err(PosixError::Collate),
        },
        Element::Class(name) => {
            let test = class(&name, icase).ok_or(PosixError::ClassName)?;
            for byte in 0..=255u8 {
                if test(byte) {
                    set.insert(fold(byte, icase));
                }
            }
        }
    }
    Ok(())
}

/// glibc `build_range_exp` in the C locale: endpoints are bytes compared
/// by value, and bytes above 127 are not characters there.
fn add_range(set: &mut Set, start: &Element, end: &Element, icase: bool) -> Result<(), PosixError> {
    let endpoint = |element: &Element| match element {
        Element::Byte(byte) => Ok(fold(*byte, icase)),
        Element::Coll(name) => coll_byte(name).map(|b| fold(b, icase)),
        Element::Equiv(_) | Element::Class(_) => Err(PosixError::Range),
    };
    let (low, high) = (endpoint(start)?, endpoint(end)?);
    if !low.is_ascii() || !high.is_ascii() {
        return Err(PosixError::Collate);
    }
    if low > high {
        return Err(PosixError::Range);
    }
    for byte in low..=high {
        set.insert(byte);
    }
    Ok(())
}

/// The C locale's character classes. With case folding glibc treats
/// `upper` and `lower` as `alpha`.
fn class(name: &[u8], icase: bool) -> Option<fn(u8) -> bool> {
    let test: fn(u8) -> bool = match name {
        b"alpha" => |b| b.is_ascii_alphabetic(),
        b"upper" if icase => |b| b.is_ascii_alphabetic(),
        b"lower" if icase => |b| b.is_ascii_alphabetic(),
        b"upper" => |b| b.is_ascii_uppercase(),
        b"lower" => |b| b.is_ascii_lowercase(),
        b"digit" => |b| b.is_ascii_digit(),
        b"xdigit" => |b| b.is_ascii_hexdigit(),
        b"space" => |b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"print" => |b| (0x20..0x7f).contains(&b),
        b"punct" => |b| b.is_ascii_punctuation(),
        b"graph" => |b| b.is_ascii_graphic(),
        b"cntrl" => |b| b < 0x20 || b == 0x7f,
        b"blank" => |b| b == b' ' || b == b'\t',
        b"alnum" => |b| b.is_ascii_alphanumeric(),
        _ => return None,
    };
    Some(test)
}

#[cfg(test)]
mod tests {
    use super::super::posix::Syntax;
    use super::*;

    fn class_of(body: &str, icase: bool) -> Result<String, PosixError> {
        let mut lexer = Lexer {
            re: body.as_bytes(),
            pos: 0,
            syntax: Syntax {
                extended: true,
                icase,
                newline: false,
            },
        };
        let set = parse(&mut lexer)?;
        assert_eq!(lexer.pos, body.len(), "{body}");
        Ok(set.to_class())
    }

    #[test]
    fn literal_bracket_and_hyphen_positions() {
        assert_eq!(class_of("]a]", false), Ok("[\\x5D\\x61]".into()));
        assert_eq!(class_of("-a]", false), Ok("[\\x2D\\x61]".into()));
        assert_eq!(class_of("a-]", false), Ok("[\\x2D\\x61]".into()));
        assert_eq!(class_of("\\n]", false), Ok("[\\x5C\\x6E]".into()));
        assert_eq!(class_of("a-c]", false), Ok("[\\x61-\\x63]".into()));
        assert_eq!(class_of("a-c-]", false), Ok("[\\x2D\\x61-\\x63]".into()));
    }

    #[test]
    fn negation_and_classes() {
        assert_eq!(
            class_of("^\\x00-\\xfe]", false).map(|c| c.len() > 2),
            Ok(true)
        );
        assert_eq!(class_of("[:digit:]]", false), Ok("[\\x30-\\x39]".into()));
        assert_eq!(class_of("[:lower:]]", true), Ok("[\\x41-\\x5A]".into()));
        assert_eq!(class_of("[=a=]]", false), Ok("[\\x61]".into()));
        assert_eq!(class_of("[.-.]]", false), Ok("[\\x2D]".into()));
    }

    #[test]
    fn errors() {
        assert_eq!(class_of("z-a]", false), Err(PosixError::Range));
        assert_eq!(class_of("[:nope:]]", false), Err(PosixError::ClassName));
        assert_eq!(class_of("[.ab.]]", false), Err(PosixError::Collate));
        assert_eq!(class_of("a", false), Err(PosixError::Bracket));
        assert_eq!(class_of("^", false), Err(PosixError::BadPattern));
        assert_eq!(class_of("", false), Err(PosixError::BadPattern));
    }
}
