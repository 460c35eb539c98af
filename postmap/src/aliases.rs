//! The aliases(5) format, as postalias(1) of Postfix 3.7 reads it:
//! logical lines as in [`crate::source`], each tokenized like an RFC 822
//! address list (tok822_scan), `name: value, value, ...`. The name is
//! stored unquoted (the resolver hands local(8) unquoted localparts),
//! the value re-quoted, because local(8) parses it again at delivery:
//! `"|cmd args"`, `:include:/file`, `/file` and `|cmd` come out as
//! written, `a,b` as `a, b`. `owner-x` and `x-request` are plain keys.

use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::source::{LogicalLines, ParseOptions, Parsed, Records, Warning, c_str, content_line};
use crate::table::Error;

/// One RFC 822 token (tok822.h). Text is kept as Postfix keeps it:
/// quoted strings and domain literals without their delimiters and
/// escapes, comments in external form with their parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Atom(Vec<u8>),
    QString(Vec<u8>),
    Comment(Vec<u8>),
    DomLit(Vec<u8>),
    Op(u8),
}

impl Token {
    /// Not an operator: two of these in a row are separated by a space.
    fn is_word(&self) -> bool {
        !matches!(self, Token::Op(_))
    }
}

/// Single-character operators: RFC 822 specials plus `|%!`, so that
/// `|command` splits off its pipe (tok822_parse.c).
const OPCHARS: &[u8] = b"|%!()<>@,;:\\\".[]";

fn is_lwsp(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Collect text up to `stop`, a backslash protecting the next byte; white
/// space becomes a plain space. Returns the text and the next position.
fn collect(s: &[u8], mut i: usize, stop: impl Fn(u8) -> bool) -> (Vec<u8>, usize) {
    let mut text = Vec::new();
    while i < s.len() {
        let mut c = s[i];
        if c == b'\\' {
            i += 1;
            match s.get(i) {
                Some(&next) => c = next,
                None => break,
            }
        } else if stop(c) {
            break;
        }
        text.push(if is_lwsp(c) { b' ' } else { c });
        i += 1;
    }
    (text, i)
}

/// tok822_scan: a flat token list.
fn scan(s: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        let token = if is_lwsp(c) {
            continue;
        } else if c == b'(' {
            // Kept with its parentheses and escapes.
            let end = crate::header_token::skip_comment(s, i);
            let text = s[i - 1..end].to_vec();
            i = end;
            Token::Comment(text)
        } else if c == b'[' || c == b'"' {
            let close = if c == b'[' { b']' } else { b'"' };
            let (text, next) = collect(s, i, |x| x == close);
            i = next + usize::from(next < s.len());
            if c == b'[' {
                Token::DomLit(text)
            } else {
                Token::QString(text)
            }
        } else if c != b'\\' && OPCHARS.contains(&c) {
            Token::Op(c)
        } else {
            let (text, next) = collect(s, i - 1, |x| is_lwsp(x) || OPCHARS.contains(&x));
            i = next;
            // An atom with a space, control character or special in it
            // (only possible through backslashes) must be quoted on output.
            if text
                .iter()
                .any(|&x| x == b' ' || x.is_ascii_control() || OPCHARS.contains(&x))
            {
                Token::QString(text)
            } else {
                Token::Atom(text)
            }
        };
        tokens.push(token);
    }
    tokens
}

/// Whether tok822 puts a space between `this` and `next` (a comma
/// brings its own).
fn space_between(this: &Token, next: &Token) -> bool {
    *next == Token::Op(b'<') || (this.is_word() && next.is_word())
}

fn copy_quoted(out: &mut Vec<u8>, text: &[u8], specials: &[u8]) {
    for &c in text {
        if specials.contains(&c) {
            out.push(b'\\');
        }
        out.push(c);
    }
}

/// tok822_internalize (`external == false`) or tok822_externalize.
fn render(tokens: &[Token], external: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Atom(t) | Token::Comment(t) => out.extend_from_slice(t),
            Token::QString(t) if external => {
                out.push(b'"');
                copy_quoted(&mut out, t, b"\"\\\r\n");
                out.push(b'"');
            }
            Token::QString(t) => out.extend_from_slice(t),
            Token::DomLit(t) => {
                out.push(b'[');
                if external {
                    copy_quoted(&mut out, t, b"\\\r\n");
                } else {
                    out.extend_from_slice(t);
                }
                out.push(b']');
            }
            // Postfix 3.7 follows every comma with a space, even a
            // trailing one (`a,` becomes `a, `).
            Token::Op(b',') => {
                out.extend_from_slice(b", ");
                continue;
            }
            Token::Op(c) => out.push(*c),
        }
        if let Some(next) = tokens.get(i + 1)
            && space_between(token, next)
        {
            out.push(b' ');
        }
    }
    out
}

/// Why a line is not an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Only comments and white space: skipped silently.
    Empty,
    Alias {
        name: Vec<u8>,
        value: Vec<u8>,
    },
    /// No `:`, nothing before or after it, or a `,` before it.
    NeedPair,
    /// `@` or `%` in the name.
    NotLocal,
}

fn judge(line: &[u8]) -> Verdict {
    let tokens = scan(c_str(line));
    if tokens.is_empty() {
        return Verdict::Empty;
    }
    let Some(colon) = tokens.iter().position(|t| *t == Token::Op(b':')) else {
        return Verdict::NeedPair;
    };
    let (name, value) = (&tokens[..colon], &tokens[colon + 1..]);
    if name.is_empty() || value.is_empty() || name.contains(&Token::Op(b',')) {
        return Verdict::NeedPair;
    }
    if name.contains(&Token::Op(b'@')) || name.contains(&Token::Op(b'%')) {
        return Verdict::NotLocal;
    }
    Verdict::Alias {
        name: render(name, false),
        value: render(value, true),
    }
}

/// Parse aliases(5) text. `label` names it in warnings (the path as
/// given, or `stdin` for `postalias -i`). Only `fold` and `utf8_check` of
/// `opts` apply. Does not add the `@` signature: see [`add_signatures`].
pub fn parse(text: &[u8], label: &str, opts: &ParseOptions) -> Parsed {
    let mut out = Parsed {
        records: Records::with_capacity(text.len() / 32, text.len()),
        warnings: Vec::new(),
    };
    for piece in LogicalLines::new(text, label) {
        let Some(line) = content_line(piece, label, opts, &mut out.warnings) else {
            continue;
        };
        let n = line.first;
        let mut warn = |text: String| out.warnings.push(Warning { line: n, text });
        match judge(&line.text) {
            Verdict::Empty => {}
            Verdict::NeedPair => warn(format!("{label}, line {n}: need name:value pair")),
            Verdict::NotLocal => warn(format!("{label}, line {n}: name must be local")),
            Verdict::Alias { name, value } if opts.fold => {
                out.records.push_folded(&name, &value, n);
            }
            Verdict::Alias { name, value } => out.records.push(&name, &value, n),
        }
    }
    out
}

/// Read and parse an aliases file; the error is Postfix's `open %s: %m`.
pub fn read(path: &str, opts: &ParseOptions) -> Result<Parsed, Error> {
    let text =
        fs::read(path).map_err(|e| Error::Open(format!("open {path}: {}", conf::io_reason(&e))))?;
    Ok(parse(&text, path, opts))
}

/// Add what postalias adds after the aliases: the Sendmail "database
/// complete" entry `@` → `@` (replacing any earlier one silently, as
/// `postalias -i` does), and, when `nis_master` is given, the NIS entries
/// `YP_LAST_MODIFIED` (seconds, `%010ld`) and `YP_MASTER_NAME`, unfolded.
/// Postfix adds the NIS entries where it is built with NIS support
/// (Debian's postalias is); `nis_master` is then `$myhostname`.
pub fn add_signatures(records: &mut Records, nis_master: Option<(&str, SystemTime)>) {
    records.push_signature(b"@", b"@");
    if let Some((host, now)) = nis_master {
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        records.push_signature(b"YP_LAST_MODIFIED", format!("{secs:010}").as_bytes());
        records.push_signature(b"YP_MASTER_NAME", host.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(p: &Parsed) -> Vec<(String, String)> {
        p.records
            .iter()
            .map(|r| {
                (
                    String::from_utf8_lossy(r.key).into_owned(),
                    String::from_utf8_lossy(r.value).into_owned(),
                )
            })
            .collect()
    }

    fn warnings(p: &Parsed) -> Vec<&str> {
        p.warnings.iter().map(|w| w.text.as_str()).collect()
    }

    fn alias(line: &str) -> Option<(String, String)> {
        match judge(line.as_bytes()) {
            Verdict::Alias { name, value } => Some((
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            )),
            _ => None,
        }
    }

    // Each expectation is what `postalias -s` of Postfix 3.7.11 printed.
    #[test]
    fn values_are_rendered_like_postalias() {
        let cases = [
            ("root: a, b,c", "root", "a, b, c"),
            ("foo (cmt): bar", "foo (cmt)", "bar"),
            ("\"quoted name\": x", "quoted name", "x"),
            ("prog: |/usr/bin/cmd", "prog", "|/usr/bin/cmd"),
            (
                "prog2: \"|cmd args\", | cmd two",
                "prog2",
                "\"|cmd args\", |cmd two",
            ),
            ("inc: :include:/etc/file", "inc", ":include:/etc/file"),
            ("file: /var/mail/x", "file", "/var/mail/x"),
            ("owner-list: me", "owner-list", "me"),
            ("list-request: me", "list-request", "me"),
            ("UPPER: MiXed@Example.COM", "UPPER", "MiXed@Example.COM"),
            (
                "q: \"a\\\"b\", <x@y>, Name <n@m>, [1.2.3.4], a\\,b",
                "q",
                "\"a\\\"b\", <x@y>, Name <n@m>, [1.2.3.4], \"a,b\"",
            ),
            ("sp:   lots   of   space  ", "sp", "lots of space"),
            ("nul: \"\"", "nul", "\"\""),
            ("colon: a:b", "colon", "a:b"),
            ("k: (comment only)", "k", "(comment only)"),
            ("k2: x (c) y", "k2", "x (c) y"),
            ("k3 : v", "k3", "v"),
            ("\"k4:x\": v", "k4:x", "v"),
            ("k5: \"\" , a", "k5", "\"\", a"),
            ("k6: ,a", "k6", ", a"),
            ("k7: a,,b", "k7", "a, , b"),
            ("k9: a b c", "k9", "a b c"),
            ("k10: a;b", "k10", "a;b"),
            ("k11: a,", "k11", "a, "),
            (
                "[1.2]a\"q w\".a:include:/x,",
                "[1.2] a q w.a",
                "include:/x, ",
            ),
            ("\"\": x", "", "x"),
        ];
        for (line, name, value) in cases {
            assert_eq!(
                alias(line),
                Some((name.to_string(), value.to_string())),
                "{line}"
            );
        }
    }

    #[test]
    fn warnings_match_postalias() {
        let text = "# c\nroot: a\nnocolon\n: novalue\nempty:\nx@y: z\nx%y: z\na,b: c\n@: at\n(c)\nok: \\\n  more,\n\tstill\n";
        let p = parse(text.as_bytes(), "al", &ParseOptions::default());
        assert_eq!(
            warnings(&p),
            [
                "al, line 3: need name:value pair",
                "al, line 4: need name:value pair",
                "al, line 5: need name:value pair",
                "al, line 6: name must be local",
                "al, line 7: name must be local",
                "al, line 8: need name:value pair",
                "al, line 9: name must be local",
                "al, line 10: need name:value pair",
            ]
        );
        let e = entries(&p);
        assert_eq!(e[0], ("root".into(), "a".into()));
        assert_eq!(e[1], ("ok".into(), "\" \" more, still".into()));
        assert_eq!(p.records.get(1).map(|r| r.line), Some(11));
    }

    #[test]
    fn continuation_reports_first_line_and_joins() {
        let text = "a: b\nbad\n  more\n\n  cont\nc\n # x\n d: e\n   \n";
        let p = parse(text.as_bytes(), "al2", &ParseOptions::default());
        assert_eq!(warnings(&p), ["al2, line 2: need name:value pair"]);
        assert_eq!(
            entries(&p),
            [("a".into(), "b".into()), ("c d".into(), "e".into())]
        );
    }

    #[test]
    fn fixture_map_in_folds_unless_told() {
        let path = format!(
            "{}/tests/fixtures/postalias/map.in",
            env!("CARGO_MANIFEST_DIR")
        );
        let p = read(&path, &ParseOptions::default()).expect("fixture");
        assert_eq!(
            entries(&p),
            [("abc".into(), "DEF".into()), ("ghi".into(), "jkl".into())]
        );
        let no_fold = ParseOptions {
            fold: false,
            ..ParseOptions::default()
        };
        let p = read(&path, &no_fold).expect("fixture");
        assert_eq!(entries(&p)[0], ("ABC".into(), "DEF".into()));
        let err = read("/nonexistent/aliases", &no_fold).map(|_| ());
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("open /nonexistent/aliases: No such file or directory".into())
        );
    }

    #[test]
    fn signatures_are_added_last_and_unfolded() {
        let mut p = parse(b"Root: x\n", "a", &ParseOptions::default());
        add_signatures(&mut p.records, Some(("mail.example", UNIX_EPOCH)));
        assert_eq!(
            entries(&p),
            [
                ("root".into(), "x".into()),
                ("@".into(), "@".into()),
                ("YP_LAST_MODIFIED".into(), "0000000000".into()),
                ("YP_MASTER_NAME".into(), "mail.example".into()),
            ]
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let alphabet = b" \t\n:,@%\"\\()[]<>|ab\0\xff";
        for len in 0..400 {
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            // A lone trailing backslash makes an empty atom, and an empty
            // value, in Postfix too; only the absence of panics matters.
            let p = parse(&text, "g", &ParseOptions::default());
            assert!(p.records.len() <= text.len());
        }
    }
}
