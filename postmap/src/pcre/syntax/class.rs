//! Character classes in a PCRE pattern: copied for fancy-regex with the
//! checks PCRE2 makes (reversed ranges, escapes that mean nothing in a
//! class, POSIX collating elements, unknown `[:name:]`).

use super::{Prev, SyntaxError, Walker, error, push_byte};

impl Walker<'_> {
    /// A character class, copied with PCRE2's checks.
    pub(super) fn class(&mut self) -> Result<(), SyntaxError> {
        self.out.push('[');
        self.at += 1;
        if self.peek(0) == Some(b'^') {
            self.copy(1);
        }
        if self.peek(0) == Some(b']') {
            self.out.push_str("\\]");
            self.at += 1;
        }
        while let Some(c) = self.peek(0) {
            match c {
                b']' => {
                    self.copy(1);
                    self.prev = Prev::Atom;
                    return Ok(());
                }
                b'\\' => match self.peek(1) {
                    Some(b'A' | b'B' | b'G' | b'K' | b'R' | b'X' | b'Z' | b'z') => {
                        return Err(error(
                            self.at + 1,
                            "escape sequence is invalid in character class",
                        ));
                    }
                    Some(e) if !e.is_ascii() => {
                        self.at += 1;
                        push_byte(&mut self.out, e);
                        self.at += 1;
                    }
                    Some(_) => self.copy(2),
                    None => self.copy(1),
                },
                b'[' => self.posix_class()?,
                _ => {
                    // `x-y` with plain characters: PCRE2 checks the order.
                    if self.peek(1) == Some(b'-')
                        && let Some(high) = self.peek(2)
                        && high != b']'
                        && high != b'\\'
                        && !(high == b'[' && matches!(self.peek(3), Some(b':' | b'.' | b'=')))
                        && high < c
                    {
                        return Err(error(self.at + 2, "range out of order in character class"));
                    }
                    push_byte(&mut self.out, c);
                    self.at += 1;
                }
            }
        }
        Err(error(
            self.src.len(),
            "missing terminating ] for character class",
        ))
    }

    /// `[` inside a class: `[:name:]`, `[.x.]`, `[=x=]`, or a literal.
    fn posix_class(&mut self) -> Result<(), SyntaxError> {
        let rest = &self.src[self.at..];
        let Some(&kind @ (b':' | b'.' | b'=')) = rest.get(1) else {
            self.out.push_str("\\[");
            self.at += 1;
            return Ok(());
        };
        let end = rest[2..]
            .windows(2)
            .position(|w| w[0] == kind && w[1] == b']');
        let Some(end) = end else {
            self.out.push_str("\\[");
            self.at += 1;
            return Ok(());
        };
        if kind != b':' {
            return Err(error(self.at, "POSIX collating elements are not supported"));
        }
        let name = &rest[2..2 + end];
        let known = [
            "alpha", "digit", "alnum", "upper", "lower", "space", "punct", "print", "graph",
            "cntrl", "blank", "xdigit", "word", "ascii",
        ];
        let name = name.strip_prefix(b"^").unwrap_or(name);
        if !known.iter().any(|k| k.as_bytes() == name) {
            return Err(error(self.at + 2, "unknown POSIX class name"));
        }
        self.copy(end + 4);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::rewrite;

    fn ok(re: &str) -> String {
        rewrite(re, false).unwrap()
    }

    fn err(re: &str) -> (usize, &'static str) {
        let e = rewrite(re, false).unwrap_err();
        (e.offset, e.text)
    }

    #[test]
    fn classes() {
        assert_eq!(ok("[]a]"), "[\\]a]");
        assert_eq!(ok("[[:alpha:]x[]"), "[[:alpha:]x\\[]");
        assert_eq!(
            err("[[.-.]]").1,
            "POSIX collating elements are not supported"
        );
        assert_eq!(err("[[=a=]]").0, 1);
        assert_eq!(err("[[:foo:]]"), (3, "unknown POSIX class name"));
        assert_eq!(ok("[é]"), "[\\xC3\\xA9]");
    }

    #[test]
    fn class_errors() {
        assert_eq!(err("[a"), (2, "missing terminating ] for character class"));
        assert_eq!(
            err("0[|\\A"),
            (4, "escape sequence is invalid in character class")
        );
        assert_eq!(
            err("[b-[[=a=]]"),
            (3, "range out of order in character class")
        );
    }
}
