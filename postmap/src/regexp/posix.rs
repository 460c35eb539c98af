//! POSIX regular expressions as glibc's `regcomp()` reads them (extended
//! and basic syntax, GNU escapes, C locale), checked the same way and
//! rewritten in the `regex` crate's syntax, so that a regexp table accepts
//! and rejects the patterns Postfix does, with the same error texts.
//!
//! Matching is byte-oriented, as in the C locale. Case-insensitive
//! patterns are uppercased here and matched against the uppercased key,
//! which is how glibc implements `REG_ICASE`: so `[Z-a]` is an invalid
//! range, and an escaped letter such as `\a` keeps its case and then never
//! matches, exactly as in Postfix. Back-references (`\1`) are a GNU extension the `regex`
//! crate lacks; such patterns are flagged for a backtracking engine.

use super::bracket;

/// How a pattern is read: regcomp's `REG_EXTENDED`, `REG_ICASE` and
/// `REG_NEWLINE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syntax {
    pub(crate) extended: bool,
    pub(crate) icase: bool,
    pub(crate) newline: bool,
}

/// A translated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Translated {
    /// In `regex` syntax, for matching bytes with Unicode off. It has no
    /// `(?-u)` prefix (the engines are told instead).
    pub(crate) pattern: String,
    /// Number of capture groups (`re_nsub`).
    pub(crate) groups: usize,
    /// Whether it uses back-references.
    pub(crate) backrefs: bool,
}

/// Why a pattern is rejected: `regerror()`'s text in glibc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PosixError {
    #[error("Invalid regular expression")]
    BadPattern,
    #[error("Invalid collation character")]
    Collate,
    #[error("Invalid character class name")]
    ClassName,
    #[error("Trailing backslash")]
    TrailingBackslash,
    #[error("Invalid back reference")]
    BackRef,
    #[error("Unmatched [, [^, [:, [., or [=")]
    Bracket,
    #[error("Unmatched ( or \\(")]
    Paren,
    #[error("Unmatched \\{{")]
    Brace,
    #[error("Invalid content of \\{{\\}}")]
    BadInterval,
    #[error("Invalid range end")]
    Range,
    #[error("Regular expression too big")]
    TooBig,
    #[error("Invalid preceding regular expression")]
    BadRepeat,
    #[error("Unmatched ) or \\)")]
    RightParen,
}

/// glibc's `RE_DUP_MAX`: the largest count in `{m,n}`.
const DUP_MAX: usize = 0x7fff;

/// Translate `re` read with `syntax`.
pub(crate) fn translate(re: &str, syntax: Syntax) -> Result<Translated, PosixError> {
    let mut parser = Parser {
        lexer: Lexer {
            re: re.as_bytes(),
            pos: 0,
            syntax,
        },
        token: Token::END,
        groups: 0,
        completed: 0,
        backrefs: false,
    };
    parser.token = parser.lexer.fetch(true);
    let body = parser.reg_exp(0)?.unwrap_or_default();
    let pattern = if syntax.newline {
        format!("(?m){body}")
    } else {
        body
    };
    Ok(Translated {
        pattern,
        groups: parser.groups,
        backrefs: parser.backrefs,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    LineFirst,
    LineLast,
    WordFirst,
    WordLast,
    WordDelim,
    NotWordDelim,
    BufFirst,
    BufLast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Char,
    Alt,
    Star,
    Plus,
    Question,
    OpenDup,
    CloseDup,
    OpenGroup,
    CloseGroup,
    OpenBracket,
    Period,
    Anchor(Anchor),
    /// Zero-based group index.
    BackRef(usize),
    Word,
    NotWord,
    Space,
    NotSpace,
    TrailingBackslash,
    End,
}

/// A token as glibc's `peek_token()` sees it; `c` is the character it
/// stands for when used literally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    kind: Kind,
    c: u8,
    len: usize,
}

impl Token {
    const END: Token = Token {
        kind: Kind::End,
        c: 0,
        len: 0,
    };
}

pub(super) struct Lexer<'a> {
    pub(super) re: &'a [u8],
    pub(super) pos: usize,
    pub(super) syntax: Syntax,
}

impl Lexer<'_> {
    fn fetch(&mut self, caret_here: bool) -> Token {
        let token = self.peek(self.pos, caret_here);
        self.pos += token.len;
        token
    }

    /// The token at `at`. `caret_here` says `^` is an anchor here even in
    /// basic syntax (after `\(` and `\|`, glibc's RE_CARET_ANCHORS_HERE).
    fn peek(&self, at: usize, caret_here: bool) -> Token {
        let Some(&c) = self.re.get(at) else {
            return Token::END;
        };
        let ere = self.syntax.extended;
        let token = |kind| Token { kind, c, len: 1 };
        if c == b'\\' {
            let Some(&c2) = self.re.get(at + 1) else {
                return token(Kind::TrailingBackslash);
            };
            let kind = match c2 {
                b'|' if !ere => Kind::Alt,
                b'1'..=b'9' => Kind::BackRef(usize::from(c2 - b'1')),
                b'<' => Kind::Anchor(Anchor::WordFirst),
                b'>' => Kind::Anchor(Anchor::WordLast),
                b'b' => Kind::Anchor(Anchor::WordDelim),
                b'B' => Kind::Anchor(Anchor::NotWordDelim),
                b'w' => Kind::Word,
                b'W' => Kind::NotWord,
                b's' => Kind::Space,
                b'S' => Kind::NotSpace,
                b'`' => Kind::Anchor(Anchor::BufFirst),
                b'\'' => Kind::Anchor(Anchor::BufLast),
                b'(' if !ere => Kind::OpenGroup,
                b')' if !ere => Kind::CloseGroup,
                b'+' if !ere => Kind::Plus,
                b'?' if !ere => Kind::Question,
                b'{' if !ere => Kind::OpenDup,
                b'}' if !ere => Kind::CloseDup,
                _ => Kind::Char,
            };
            return Token {
                kind,
                c: c2,
                len: 2,
            };
        }
        let kind = match c {
            b'|' if ere => Kind::Alt,
            b'*' => Kind::Star,
            b'+' if ere => Kind::Plus,
            b'?' if ere => Kind::Question,
            b'{' if ere => Kind::OpenDup,
            b'}' if ere => Kind::CloseDup,
            b'(' if ere => Kind::OpenGroup,
            b')' if ere => Kind::CloseGroup,
            b'[' => Kind::OpenBracket,
            b'.' => Kind::Period,
            // In basic syntax `^` anchors only at the start of a (sub)
            // expression, `$` only at its end.
            b'^' if ere || caret_here || at == 0 => Kind::Anchor(Anchor::LineFirst),
            b'$' if ere || at + 1 == self.re.len() => Kind::Anchor(Anchor::LineLast),
            b'$' => match self.peek(at + 1, false).kind {
                Kind::Alt | Kind::CloseGroup => Kind::Anchor(Anchor::LineLast),
                _ => Kind::Char,
            },
            _ => Kind::Char,
        };
        token(kind)
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
    groups: usize,
    /// Groups 1-9 that are closed, so `\n` may refer to them.
    completed: u16,
    backrefs: bool,
}

impl Parser<'_> {
    fn next(&mut self, caret_here: bool) {
        self.token = self.lexer.fetch(caret_here);
    }

    fn ends_branch(&self, nest: usize) -> bool {
        matches!(self.token.kind, Kind::Alt | Kind::End)
            || (nest > 0 && self.token.kind == Kind::CloseGroup)
    }

    /// Alternatives (glibc `parse_reg_exp`).
    fn reg_exp(&mut self, nest: usize) -> Result<Option<String>, PosixError> {
        let initial = self.completed;
        let first = self.branch(nest)?;
        if self.token.kind != Kind::Alt {
            return Ok(first);
        }
        let mut out = first.unwrap_or_default();
        while self.token.kind == Kind::Alt {
            self.next(true);
            out.push('|');
            if !self.ends_branch(nest) {
                // A back-reference may only name a group of its own branch.
                let accumulated = self.completed;
                self.completed = initial;
                let branch = self.branch(nest)?;
                self.completed |= accumulated;
                out.push_str(&branch.unwrap_or_default());
            }
        }
        Ok(Some(out))
    }

    /// A concatenation (glibc `parse_branch`).
    fn branch(&mut self, nest: usize) -> Result<Option<String>, PosixError> {
        let mut out = self.expression(nest)?;
        while !self.ends_branch(nest) {
            if let Some(more) = self.expression(nest)? {
                out.get_or_insert_with(String::new).push_str(&more);
            }
        }
        Ok(out)
    }

    /// One atom and its repetition operators (glibc `parse_expression`).
    fn expression(&mut self, nest: usize) -> Result<Option<String>, PosixError> {
        let ere = self.lexer.syntax.extended;
        let token = self.token;
        let atom = match token.kind {
            // glibc takes an escaped character from the unfolded pattern.
            Kind::Char if token.len == 2 => literal(token.c),
            Kind::Char | Kind::CloseDup => self.literal(token.c),
            Kind::OpenGroup => self.sub_exp(nest + 1)?,
            Kind::OpenBracket => bracket::parse(&mut self.lexer)?.to_class(),
            Kind::BackRef(index) => {
                if self.completed & (1 << index) == 0 {
                    return Err(PosixError::BackRef);
                }
                self.backrefs = true;
                format!("\\{}", index + 1)
            }
            // A repetition operator with nothing to repeat is an error in
            // extended syntax; in basic syntax `*` is then literal, `\{`
            // is not.
            Kind::OpenDup if !ere => return Err(PosixError::BadRepeat),
            Kind::OpenDup | Kind::Star | Kind::Plus | Kind::Question => {
                if ere {
                    return Err(PosixError::BadRepeat);
                }
                self.literal(token.c)
            }
            // An unmatched `)` is literal in extended syntax.
            Kind::CloseGroup if !ere => return Err(PosixError::RightParen),
            Kind::CloseGroup => self.literal(token.c),
            Kind::Anchor(anchor) => {
                // Anchors take no repetition: what follows starts a new
                // expression ("^*" is an error in extended syntax).
                self.next(false);
                return Ok(Some(anchor_text(anchor).to_string()));
            }
            Kind::Period if self.lexer.syntax.newline => "[^\\n]".to_string(),
            Kind::Period => "(?s:.)".to_string(),
            Kind::Word => "[0-9A-Za-z_]".to_string(),
            Kind::NotWord => "[^0-9A-Za-z_]".to_string(),
            Kind::Space => "[\\t\\n\\x0B\\x0C\\r ]".to_string(),
            Kind::NotSpace => "[^\\t\\n\\x0B\\x0C\\r ]".to_string(),
            Kind::Alt | Kind::End => return Ok(None),
            Kind::TrailingBackslash => return Err(PosixError::TrailingBackslash),
        };
        self.next(false);
        let mut atom = atom;
        while matches!(
            self.token.kind,
            Kind::Star | Kind::Plus | Kind::Question | Kind::OpenDup
        ) {
            atom = self.repeat(atom)?;
            if !ere && matches!(self.token.kind, Kind::Star | Kind::OpenDup) {
                return Err(PosixError::BadRepeat);
            }
        }
        Ok(Some(atom))
    }

    /// A literal byte; uppercased when matching ignores case.
    fn literal(&self, c: u8) -> String {
        if self.lexer.syntax.icase {
            literal(c.to_ascii_uppercase())
        } else {
            literal(c)
        }
    }

    /// A parenthesized group; the current token is its opening.
    fn sub_exp(&mut self, nest: usize) -> Result<String, PosixError> {
        let index = self.groups;
        self.groups += 1;
        self.next(true);
        let inner = if self.token.kind == Kind::CloseGroup {
            String::new()
        } else {
            let inner = self.reg_exp(nest)?;
            if self.token.kind != Kind::CloseGroup {
                return Err(PosixError::Paren);
            }
            inner.unwrap_or_default()
        };
        if index < 9 {
            self.completed |= 1 << index;
        }
        Ok(format!("({inner})"))
    }

    /// Apply the repetition operator at the current token to `atom`
    /// (glibc `parse_dup_op`).
    fn repeat(&mut self, atom: String) -> Result<String, PosixError> {
        let suffix = match self.token.kind {
            Kind::Star => "*".to_string(),
            Kind::Plus => "+".to_string(),
            Kind::Question => "?".to_string(),
            _ => self.interval()?,
        };
        self.next(false);
        Ok(format!("(?:{atom}){suffix}"))
    }

    /// `{m}`, `{m,}`, `{m,n}` or `{,n}`; leaves the closing brace as the
    /// current token.
    fn interval(&mut self) -> Result<String, PosixError> {
        let mut start = self.number();
        if start == Count::Missing {
            if self.is_comma() {
                start = Count::Value(0);
            } else {
                return Err(PosixError::BadInterval);
            }
        }
        let end = match start {
            Count::Invalid => Count::Invalid,
            _ if self.token.kind == Kind::CloseDup => start,
            _ if self.is_comma() => self.number(),
            _ => Count::Invalid,
        };
        if start == Count::Invalid || end == Count::Invalid {
            return Err(if self.token.kind == Kind::End {
                PosixError::Brace
            } else {
                PosixError::BadInterval
            });
        }
        let Count::Value(low) = start else {
            return Err(PosixError::BadInterval);
        };
        let high = match end {
            Count::Value(high) => Some(high),
            _ => None,
        };
        if high.is_some_and(|high| low > high) || self.token.kind != Kind::CloseDup {
            return Err(PosixError::BadInterval);
        }
        if high.unwrap_or(low) > DUP_MAX {
            return Err(PosixError::TooBig);
        }
        Ok(match high {
            Some(high) if high == low => format!("{{{low}}}"),
            Some(high) => format!("{{{low},{high}}}"),
            None => format!("{{{low},}}"),
        })
    }

    fn is_comma(&self) -> bool {
        self.token.kind == Kind::Char && self.token.c == b','
    }

    /// glibc `fetch_number`: digits up to `,` or the closing brace.
    fn number(&mut self) -> Count {
        let mut count = Count::Missing;
        loop {
            self.next(false);
            let token = self.token;
            if token.kind == Kind::End {
                return Count::Invalid;
            }
            if token.kind == Kind::CloseDup || token.c == b',' {
                return count;
            }
            count = match count {
                _ if token.kind != Kind::Char || !token.c.is_ascii_digit() => Count::Invalid,
                Count::Invalid => Count::Invalid,
                Count::Missing => Count::Value(usize::from(token.c - b'0')),
                Count::Value(n) => {
                    Count::Value((n * 10 + usize::from(token.c - b'0')).min(DUP_MAX + 1))
                }
            };
        }
    }
}

/// A repetition count as `fetch_number` returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    Missing,
    Invalid,
    Value(usize),
}

/// A byte in `regex` syntax.
fn literal(c: u8) -> String {
    if c.is_ascii_alphanumeric() {
        char::from(c).to_string()
    } else {
        format!("\\x{c:02X}")
    }
}

fn anchor_text(anchor: Anchor) -> &'static str {
    match anchor {
        Anchor::LineFirst => "^",
        Anchor::LineLast => "$",
        Anchor::WordFirst => "\\b{start}",
        Anchor::WordLast => "\\b{end}",
        Anchor::WordDelim => "\\b",
        Anchor::NotWordDelim => "\\B",
        Anchor::BufFirst => "\\A",
        Anchor::BufLast => "\\z",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERE: Syntax = Syntax {
        extended: true,
        icase: false,
        newline: false,
    };
    const BRE: Syntax = Syntax {
        extended: false,
        ..ERE
    };

    fn ere(re: &str) -> Result<String, PosixError> {
        translate(re, ERE).map(|t| t.pattern)
    }

    /// Errors for the patterns probed against Postfix 3.7 with glibc.
    #[test]
    fn rejects_what_glibc_rejects() {
        use PosixError::*;
        let cases = [
            ("(", Paren),
            ("*a", BadRepeat),
            ("a|*b", BadRepeat),
            ("^*", BadRepeat),
            ("a{", Brace),
            ("a{x}", BadInterval),
            ("a{}", BadInterval),
            ("a{3,2}", BadInterval),
            ("a{40000}", TooBig),
            ("[a", Bracket),
            ("[[:foo:]]", ClassName),
            ("[z-a]", Range),
            ("[a-c-e]", Range),
            ("[[.space.]]", Collate),
            ("[[=ab=]]", Collate),
            ("(a)\\2", BackRef),
            ("(a\\1)", BackRef),
            ("{", BadRepeat),
            ("a{1", Brace),
            ("a{1,2", Brace),
            ("[]", Bracket),
            ("[^]", Bracket),
            ("[[:alpha:]-z]", Range),
            ("[[:alpha:", Bracket),
            ("$*", BadRepeat),
            ("\\<*", BadRepeat),
            ("[[:UPPER:]]", ClassName),
            ("a\\", TrailingBackslash),
        ];
        for (re, want) in cases {
            assert_eq!(ere(re), Err(want), "{re}");
        }
    }

    #[test]
    fn accepts_what_glibc_accepts() {
        for re in [
            ")",
            "a)",
            "a{,3}",
            "()",
            "a||b",
            "\\(",
            "x{2}{3}",
            "a+?",
            "(|a)",
            "[[.-.]]",
            "[a-[.z.]]",
            "a**",
            "[]a]",
            "[^]a]",
            "[a-]",
            "}",
            "(a)\\1",
        ] {
            assert!(ere(re).is_ok(), "{re}");
        }
    }

    #[test]
    fn case_folding_uppercases_the_pattern() {
        let icase = Syntax { icase: true, ..ERE };
        assert_eq!(translate("[Z-a]", icase), Err(PosixError::Range));
        assert_eq!(translate("[_-a]", icase), Err(PosixError::Range));
        assert!(translate("[Z-a]", ERE).is_ok());
        assert_eq!(translate("AbC", icase).map(|t| t.pattern), Ok("ABC".into()));
        // An escaped letter keeps its case.
        assert_eq!(translate("\\a", icase).map(|t| t.pattern), Ok("a".into()));
    }

    #[test]
    fn groups_and_backrefs_are_counted() {
        let t = translate("(a)(b(c))\\1", ERE).unwrap();
        assert_eq!(t.groups, 3);
        assert!(t.backrefs);
        assert!(!translate("(a)", ERE).unwrap().backrefs);
    }

    #[test]
    fn basic_syntax() {
        let t = translate("\\(a\\)*b+\\{2\\}", BRE).unwrap();
        assert_eq!(t.groups, 1);
        assert_eq!(t.pattern, "(?:(a))*b(?:\\x2B){2}");
        assert_eq!(translate("*a", BRE).map(|t| t.pattern), Ok("\\x2Aa".into()));
        assert_eq!(translate("a**", BRE), Err(PosixError::BadRepeat));
        assert_eq!(translate("a\\)", BRE), Err(PosixError::RightParen));
        assert_eq!(
            translate("a^b$c", BRE).map(|t| t.pattern),
            Ok("a\\x5Eb\\x24c".into())
        );
        assert_eq!(translate("^a$", BRE).map(|t| t.pattern), Ok("^a$".into()));
    }
}
