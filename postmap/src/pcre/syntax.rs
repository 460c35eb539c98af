//! A pass over a PCRE pattern before fancy-regex sees it, for the places
//! where the two read the same text differently:
//! - `{` that does not start a PCRE2 10.42 quantifier (`{n}`, `{n,}`,
//!   `{n,m}`, digits only) is a literal brace, so `a{,2}` is literal;
//! - a quantifier with nothing repeatable before it (`*a`, `a**`, `^*`,
//!   `(?i)+`, `a{2}{3}`) and bad counts are errors, with PCRE2's offsets;
//! - `[[.x.]]`, `[[=x=]]` and unknown `[[:name:]]` are errors;
//! - `\Q...\E` quotes text;
//! - non-ASCII characters become `\xHH` bytes (PCRE without UTF mode).

mod class;

/// A syntax error: offset in the pattern as written, and PCRE2's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub(super) offset: usize,
    pub(super) text: &'static str,
}

/// PCRE2's largest repetition count.
const MAX_COUNT: u64 = 65535;

/// What came before, for deciding whether a quantifier may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Start of pattern, group or alternative.
    Nothing,
    Atom,
    /// An assertion or option setting: not repeatable.
    Assertion,
    Quantifier,
    /// A quantifier with its `?` or `+` modifier.
    Modified,
    /// A lookaround assertion whose text starts at this offset in the
    /// output: PCRE2 lets it be quantified.
    Lookaround(usize),
    /// A quantifier applied to a lookaround, now rewritten; a following
    /// `?` or `+` modifier is dropped.
    Quantified,
}

/// Rewrite `re` for fancy-regex; `extended` is the `x` flag.
pub(super) fn rewrite(re: &str, extended: bool) -> Result<String, SyntaxError> {
    let mut w = Walker {
        src: re.as_bytes(),
        at: 0,
        out: String::with_capacity(re.len() + 8),
        prev: Prev::Nothing,
        extended,
        groups: 0,
        backrefs: Vec::new(),
        open: Vec::new(),
    };
    while w.at < w.src.len() {
        w.step()?;
    }
    if !w.open.is_empty() {
        return Err(error(re.len(), "missing closing parenthesis"));
    }
    if let Some(&(_, offset)) = w.backrefs.iter().find(|(n, _)| *n > w.groups) {
        return Err(error(offset, "reference to non-existent subpattern"));
    }
    Ok(w.out)
}

struct Walker<'a> {
    src: &'a [u8],
    at: usize,
    out: String,
    prev: Prev,
    extended: bool,
    /// Capturing groups seen.
    groups: usize,
    /// Back-references `\1`-`\9`: number, and where PCRE2 reports them.
    backrefs: Vec<(usize, usize)>,
    /// For each open group, where its text starts in the output if it is
    /// a lookaround.
    open: Vec<Option<usize>>,
}

impl Walker<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.src.get(self.at + ahead).copied()
    }

    /// Copy `n` bytes as they are.
    fn copy(&mut self, n: usize) {
        let end = (self.at + n).min(self.src.len());
        for &b in &self.src[self.at..end] {
            push_byte(&mut self.out, b);
        }
        self.at = end;
    }

    fn step(&mut self) -> Result<(), SyntaxError> {
        let c = self.src[self.at];
        match c {
            b'\\' => self.escape(),
            b'[' => self.class()?,
            b'(' => self.group()?,
            b')' => {
                let Some(lookaround) = self.open.pop() else {
                    return Err(error(self.at, "unmatched closing parenthesis"));
                };
                self.copy(1);
                self.prev = lookaround.map_or(Prev::Atom, Prev::Lookaround);
            }
            b'|' => {
                self.copy(1);
                self.prev = Prev::Nothing;
            }
            b'^' | b'$' => {
                self.copy(1);
                self.prev = Prev::Assertion;
            }
            b'*' | b'+' | b'?' => self.quantifier(1, self.at)?,
            b'{' => match brace_quantifier(&self.src[self.at..]) {
                Some(q) => {
                    let close = self.at + q.len - 1;
                    if q.low > MAX_COUNT || q.high.is_some_and(|h| h > MAX_COUNT) {
                        return Err(error(close, "number too big in {} quantifier"));
                    }
                    if q.high.is_some_and(|h| h < q.low) {
                        return Err(error(close, "numbers out of order in {} quantifier"));
                    }
                    self.quantifier(q.len, close)?;
                }
                None => self.literal(b'{'),
            },
            b'}' => self.literal(b'}'),
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c if self.extended => self.copy(1),
            b'#' if self.extended => {
                let len = self.src[self.at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(self.src.len() - self.at, |n| n + 1);
                self.copy(len);
            }
            _ => {
                self.copy(1);
                self.prev = Prev::Atom;
            }
        }
        Ok(())
    }

    fn literal(&mut self, b: u8) {
        self.out.push('\\');
        self.out.push(char::from(b));
        self.at += 1;
        self.prev = Prev::Atom;
    }

    /// A quantifier of `len` bytes; `offset` is where PCRE2 reports an
    /// error (the operator, or the closing brace).
    fn quantifier(&mut self, len: usize, offset: usize) -> Result<(), SyntaxError> {
        let c = self.src[self.at];
        self.prev = match self.prev {
            Prev::Atom => Prev::Quantifier,
            Prev::Quantifier if len == 1 && (c == b'?' || c == b'+') => Prev::Modified,
            Prev::Quantified if len == 1 && (c == b'?' || c == b'+') => {
                self.at += 1;
                self.prev = Prev::Modified;
                return Ok(());
            }
            Prev::Lookaround(start) => {
                // PCRE2: an assertion repeated at least once is just the
                // assertion; one that may be repeated zero times may be
                // skipped. fancy-regex refuses both, so rewrite them.
                let may_skip = c == b'*' || c == b'?' || self.src.get(self.at + 1) == Some(&b'0');
                if may_skip {
                    self.out.insert_str(start, "(?:");
                    self.out.push_str("|)");
                }
                self.at += len;
                self.prev = Prev::Quantified;
                return Ok(());
            }
            _ => {
                return Err(error(
                    offset,
                    "quantifier does not follow a repeatable item",
                ));
            }
        };
        self.copy(len);
        Ok(())
    }

    fn escape(&mut self) {
        let Some(e) = self.peek(1) else {
            // Trailing backslash: fancy-regex reports it.
            self.copy(1);
            return;
        };
        match e {
            b'Q' => {
                self.at += 2;
                let rest = &self.src[self.at..];
                let (len, skip) = match rest.windows(2).position(|w| w == b"\\E") {
                    Some(n) => (n, 2),
                    None => (rest.len(), 0),
                };
                for &b in &rest[..len] {
                    push_literal(&mut self.out, b);
                }
                self.at += len + skip;
                if len > 0 {
                    self.prev = Prev::Atom;
                }
            }
            // A lone \E is ignored by PCRE.
            b'E' => self.at += 2,
            b'b' | b'B' | b'A' | b'z' | b'Z' | b'G' | b'K' => {
                self.copy(2);
                self.prev = Prev::Assertion;
            }
            b'g' | b'k' | b'p' | b'P' | b'x' | b'o' => {
                // The argument, if bracketed, goes with the escape.
                let close = match self.peek(2) {
                    Some(b'{') => Some(b'}'),
                    Some(b'<') => Some(b'>'),
                    Some(b'\'') => Some(b'\''),
                    _ => None,
                };
                let len = match close {
                    Some(close) => self.src[self.at + 3..]
                        .iter()
                        .position(|&b| b == close)
                        .map_or(self.src.len() - self.at, |n| n + 4),
                    None => 2,
                };
                self.copy(len);
                self.prev = Prev::Atom;
            }
            b'1'..=b'9' if !self.peek(2).is_some_and(|b| b.is_ascii_digit()) => {
                self.backrefs.push((usize::from(e - b'0'), self.at + 1));
                self.copy(2);
                self.prev = Prev::Atom;
            }
            e if !e.is_ascii() => {
                // An escaped byte of a multi-byte character is literal.
                self.at += 1;
                self.literal_byte();
            }
            _ => {
                self.copy(2);
                self.prev = Prev::Atom;
            }
        }
    }

    fn literal_byte(&mut self) {
        push_byte(&mut self.out, self.src[self.at]);
        self.at += 1;
        self.prev = Prev::Atom;
    }

    /// `(`: a comment, an option setting, a verb, or a group opener.
    fn group(&mut self) -> Result<(), SyntaxError> {
        let rest = &self.src[self.at..];
        if rest.starts_with(b"(?#") {
            // A comment is invisible, also to a following quantifier.
            let len = rest
                .iter()
                .position(|&b| b == b')')
                .map_or(rest.len(), |n| n + 1);
            self.at += len;
            return Ok(());
        }
        if rest.starts_with(b"(*") && rest.len() > 2 && rest[2] != b')' {
            return self.verb();
        }
        if !rest.starts_with(b"(?") {
            self.copy(1);
            self.open.push(None);
            self.groups += 1;
            self.prev = Prev::Nothing;
            return Ok(());
        }
        self.extension()
    }

    /// `(*` and a name: a backtracking verb such as (*FAIL). (`(*)` is a
    /// quantifier, handled by the caller.)
    fn verb(&mut self) -> Result<(), SyntaxError> {
        let rest = &self.src[self.at..];
        if rest[2].is_ascii_lowercase() {
            // PCRE2's alphabetic assertions, (*pla:...) and the like.
            let name = rest[2..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            return Err(error(
                self.at + 2 + name,
                "(*alpha_assertion) not recognized",
            ));
        }
        if !rest[2].is_ascii_uppercase() {
            return Err(error(self.at + 2, "(*VERB) not recognized or malformed"));
        }
        let len = rest
            .iter()
            .position(|&b| b == b')')
            .map_or(rest.len(), |n| n + 1);
        self.copy(len);
        self.prev = Prev::Assertion;
        Ok(())
    }

    /// `(?`: options, a group of some kind, or a reference.
    fn extension(&mut self) -> Result<(), SyntaxError> {
        let rest = &self.src[self.at..];
        let flags = rest[2..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic() || **b == b'-' || **b == b'^')
            .count();
        // Option letters PCRE2 10.42 knows; `P`, `R` and `C` start other
        // constructs.
        if !matches!(rest.get(2), Some(b'P' | b'R' | b'C'))
            && let Some(bad) = rest[2..2 + flags].iter().position(|b| {
                !matches!(
                    b,
                    b'i' | b'm' | b'n' | b's' | b'x' | b'J' | b'U' | b'-' | b'^'
                )
            })
        {
            return Err(error(
                self.at + 2 + bad,
                "unrecognized character after (? or (?-",
            ));
        }
        match rest.get(2 + flags) {
            Some(b')') if flags > 0 => {
                self.copy(3 + flags);
                self.prev = Prev::Assertion;
                return Ok(());
            }
            Some(b':') if flags > 0 => {
                self.copy(3 + flags);
                self.open.push(None);
                self.prev = Prev::Nothing;
                return Ok(());
            }
            _ => {}
        }
        let named = matches!(rest.get(2..4), Some(b"P<") | Some([b'\'', _]))
            || (rest.get(2) == Some(&b'<') && !matches!(rest.get(3), Some(b'=' | b'!')));
        let lookaround = matches!(rest.get(2), Some(b'=' | b'!'))
            || matches!(rest.get(2..4), Some(b"<=" | b"<!"));
        let out_start = self.out.len();
        let Some(len) = group_prefix_len(&rest[2..]) else {
            return Err(error(self.at + 2, "unrecognized character after (? or (?-"));
        };
        self.copy(len + 2);
        if self.src.get(self.at.wrapping_sub(1)) == Some(&b')') {
            // `(?P=name)`, `(?R)`, `(?1)` and the like are whole atoms.
            self.prev = Prev::Atom;
        } else {
            self.open.push(lookaround.then_some(out_start));
            self.groups += usize::from(named);
            self.prev = Prev::Nothing;
        }
        Ok(())
    }
}

/// Length of what follows `(?` up to and including the token that makes
/// it a group opener or a complete atom, or `None` when unknown.
fn group_prefix_len(rest: &[u8]) -> Option<usize> {
    let through = |close: u8, from: usize| {
        rest.get(from..)?
            .iter()
            .position(|&b| b == close)
            .map(|n| from + n + 1)
    };
    match rest.first()? {
        b':' | b'|' | b'>' | b'=' | b'!' => Some(1),
        b'<' => match rest.get(1)? {
            b'=' | b'!' => Some(2),
            _ => through(b'>', 1),
        },
        b'\'' => through(b'\'', 1),
        b'P' => match rest.get(1)? {
            b'<' => through(b'>', 2),
            _ => through(b')', 1),
        },
        b'(' => through(b')', 1),
        b'R' | b'&' | b'+' | b'-' | b'0'..=b'9' => through(b')', 0),
        _ => None,
    }
}

/// A `{...}` that PCRE2 10.42 reads as a quantifier.
struct Brace {
    len: usize,
    low: u64,
    high: Option<u64>,
}

fn brace_quantifier(s: &[u8]) -> Option<Brace> {
    let digits = |from: usize| {
        s.get(from..)
            .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count())
    };
    let number = |from: usize, len: usize| {
        s[from..from + len].iter().fold(0u64, |n, b| {
            n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        })
    };
    let low_len = digits(1);
    if low_len == 0 {
        return None;
    }
    let low = number(1, low_len);
    let after = 1 + low_len;
    match s.get(after)? {
        b'}' => Some(Brace {
            len: after + 1,
            low,
            high: Some(low),
        }),
        b',' => {
            let high_len = digits(after + 1);
            let close = after + 1 + high_len;
            if s.get(close) != Some(&b'}') {
                return None;
            }
            let high = (high_len > 0).then(|| number(after + 1, high_len));
            Some(Brace {
                len: close + 1,
                low,
                high,
            })
        }
        _ => None,
    }
}

fn error(offset: usize, text: &'static str) -> SyntaxError {
    SyntaxError { offset, text }
}

/// A pattern byte: ASCII as is, others as a `\xHH` escape.
fn push_byte(out: &mut String, b: u8) {
    if b.is_ascii() {
        out.push(char::from(b));
    } else {
        out.push_str(&format!("\\x{b:02X}"));
    }
}

/// A byte that must match itself.
fn push_literal(out: &mut String, b: u8) {
    if b.is_ascii_alphanumeric() {
        out.push(char::from(b));
    } else {
        out.push_str(&format!("\\x{b:02X}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(re: &str) -> String {
        rewrite(re, false).unwrap()
    }

    fn err(re: &str) -> (usize, &'static str) {
        let e = rewrite(re, false).unwrap_err();
        (e.offset, e.text)
    }

    #[test]
    fn braces_that_are_not_quantifiers_are_literal() {
        assert_eq!(ok("a{,2}"), "a\\{,2\\}");
        assert_eq!(ok("a{ 2}"), "a\\{ 2\\}");
        assert_eq!(ok("{"), "\\{");
        assert_eq!(ok("a{2}"), "a{2}");
        assert_eq!(ok("a{2,}b{1,3}"), "a{2,}b{1,3}");
    }

    #[test]
    fn quantifiers_need_something_repeatable() {
        let repeat = "quantifier does not follow a repeatable item";
        assert_eq!(err("*a"), (0, repeat));
        assert_eq!(err("a**"), (2, repeat));
        assert_eq!(err("^*"), (1, repeat));
        assert_eq!(err("(*)"), (1, repeat));
        assert_eq!(err("^(?i)*$"), (5, repeat));
        assert_eq!(err("^\\b*$"), (3, repeat));
        assert_eq!(err("^a{2}{3}$"), (7, repeat));
        assert_eq!(err("a|+"), (2, repeat));
        assert_eq!(ok("a*?b++c{2}+(?:x)*(?#c)?"), "a*?b++c{2}+(?:x)*?");
    }

    #[test]
    fn counts_are_checked() {
        assert_eq!(err("a{2,1}"), (5, "numbers out of order in {} quantifier"));
        assert_eq!(err("^a{65536}$"), (8, "number too big in {} quantifier"));
    }

    #[test]
    fn parentheses_and_references() {
        assert_eq!(err("é)**0"), (2, "unmatched closing parenthesis"));
        assert_eq!(err("(a"), (2, "missing closing parenthesis"));
        assert_eq!(err("\\1[-a]B"), (1, "reference to non-existent subpattern"));
        assert_eq!(ok("(a)(?:b)(?<n>c)\\2"), "(a)(?:b)(?<n>c)\\2");
        assert_eq!(err("_(*}"), (3, "(*VERB) not recognized or malformed"));
        assert_eq!(err("1[z-a]"), (4, "range out of order in character class"));
        assert_eq!(ok("(?i)a(?=b)(?P=n)?"), "(?i)a(?=b)(?P=n)?");
    }

    #[test]
    fn quantified_lookaround_is_rewritten() {
        assert_eq!(ok("a(?=b)+c"), "a(?=b)c");
        assert_eq!(ok("a(?!b)*?c"), "a(?:(?!b)|)c");
        assert_eq!(ok("(?<=a){0,2}"), "(?:(?<=a)|)");
        assert_eq!(err("(?B"), (2, "unrecognized character after (? or (?-"));
        assert_eq!(err("(?["), (2, "unrecognized character after (? or (?-"));
        assert_eq!(err("(*x)"), (3, "(*alpha_assertion) not recognized"));
        assert_eq!(
            err("(*"),
            (1, "quantifier does not follow a repeatable item")
        );
    }

    #[test]
    fn quoting_and_bytes() {
        assert_eq!(ok("\\Qa.b\\E*"), "a\\x2Eb*");
        assert_eq!(ok("é\\é"), "\\xC3\\xA9\\xC3\\xA9");
        assert_eq!(ok("(?<n>a)\\k<n>"), "(?<n>a)\\k<n>");
        assert_eq!(rewrite("a # c*\n*", true).map(|_| ()), Ok(()));
    }
}
