//! `pcre:` tables (pcre_table(5)): Perl-compatible regular expressions
//! tried in order, first match wins. `/re/flags result`, `!/re/ result`,
//! `if /re/` ... `endif`, `$n` in results; flags `i` (case, on by
//! default), `s` (dot matches newline, on by default), `m`, `x`, `A`
//! (anchored), `E`, `U` (ungreedy), and the obsolete `X` (ignored with a
//! warning, as Postfix built with PCRE2 does).
//!
//! Patterns run on `fancy-regex`, in byte mode with ASCII-only classes and
//! case folding, as PCRE2 without UTF mode (how Postfix 3.7 uses it):
//! non-ASCII characters in a pattern are matched as their UTF-8 bytes.
//! Lookaround, back-references, atomic groups, possessive quantifiers,
//! `\K`, conditionals and subroutine calls written `\g<1>` work.
//!
//! Known differences from PCRE2:
//! - no `\C`, `\X`, `(*VERB)`s other than `(*FAIL)`, callouts,
//!   `(?|...)` branch reset, `(?1)`-style subroutine calls, or relative
//!   back-references `\g{-1}`;
//! - `$` without `m` matches only at the very end, as with PCRE's `E`
//!   flag, not also before a final newline (keys rarely end in one);
//! - variable-length lookbehind is accepted where PCRE2 10.42 rejects it;
//! - `\p{...}` Unicode properties are refused (byte mode);
//! - compile errors are reported with PCRE2's wording for the common cases
//!   (unbalanced parentheses and brackets, misplaced quantifiers, bad
//!   escapes); others carry fancy-regex's text, and offsets may differ;
//! - a match that exceeds the backtracking limit is a lookup error (the
//!   caller defers), where Postfix logs a warning and skips the rule.

mod syntax;

use crate::pattern::rules::{self, Dialect, Flag, Spans, Subject, Written};
use crate::pattern::template::Flavor;
use crate::table::{Error, OpenOptions, Opened};

/// Backtracking budget per match (PCRE2's default match limit is of the
/// same order); exceeding it is a lookup error, never a hang.
const BACKTRACK_LIMIT: usize = 1_000_000;

/// Open the pcre table in file `path` (or inline `{...}` text).
pub fn open(spec: &str, path: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    rules::open::<Pcre>(spec, path, opts)
}

/// Build a pcre table from `text`; `origin` names it in warnings.
pub fn from_text(
    spec: &str,
    origin: &str,
    text: &str,
    opts: &OpenOptions,
) -> Result<Opened, Error> {
    Ok(rules::from_text::<Pcre>(spec, origin, text, opts))
}

/// PCRE patterns, as Postfix's `dict_pcre` uses them.
#[derive(Debug)]
struct Pcre;

/// Pattern options, each toggled by its flag.
#[derive(Debug, Clone, Copy)]
struct Options {
    caseless: bool,
    dotall: bool,
    multiline: bool,
    extended: bool,
    anchored: bool,
    ungreedy: bool,
}

impl Options {
    fn from_flags(flags: &str) -> Options {
        let mut options = Options {
            caseless: true,
            dotall: true,
            multiline: false,
            extended: false,
            anchored: false,
            ungreedy: false,
        };
        for c in flags.chars() {
            match c {
                'i' => options.caseless = !options.caseless,
                's' => options.dotall = !options.dotall,
                'm' => options.multiline = !options.multiline,
                'x' => options.extended = !options.extended,
                'A' => options.anchored = !options.anchored,
                'U' => options.ungreedy = !options.ungreedy,
                // 'E' asks for what `$` already does here; 'X' is obsolete.
                _ => {}
            }
        }
        options
    }
}

impl Dialect for Pcre {
    type Pattern = fancy_regex::Regex;
    const FLAVOR: Flavor = Flavor::Pcre;
    const SECOND_PATTERN: bool = false;

    fn flag(c: char) -> Flag {
        match c {
            'i' | 'm' | 's' | 'x' | 'A' | 'E' | 'U' => Flag::Known,
            'X' => Flag::Obsolete,
            _ => Flag::Unknown,
        }
    }

    fn compile(written: Written<'_>) -> Result<(fancy_regex::Regex, usize), String> {
        let options = Options::from_flags(written.flags);
        let body = syntax::rewrite(written.re, options.extended)
            .map_err(|err| format!("error in regex at offset {}: {}", err.offset, err.text))?;
        // Options that fancy-regex has no switch for become inline syntax;
        // error offsets are then corrected for the added prefix.
        let mut prefix = String::new();
        if options.ungreedy {
            prefix.push_str("(?U)");
        }
        let pattern = if options.anchored {
            prefix.push_str("\\A(?:");
            // In extended mode a trailing comment would swallow the `)`.
            let end = if options.extended { "\n)" } else { ")" };
            format!("{prefix}{body}{end}")
        } else {
            format!("{prefix}{body}")
        };
        let re = fancy_regex::RegexBuilder::new(&pattern)
            .case_insensitive(options.caseless)
            .dot_matches_new_line(options.dotall)
            .multi_line(options.multiline)
            .ignore_whitespace(options.extended)
            .bytes_mode(fancy_regex::BytesMode::Ascii)
            .unicode_mode(false)
            .backtrack_limit(BACKTRACK_LIMIT)
            .build()
            .map_err(|err| compile_error(&err, prefix.len(), written.re.len()))?;
        let groups = re.captures_len().saturating_sub(1);
        Ok((re, groups))
    }

    fn is_match(pattern: &fancy_regex::Regex, key: &Subject<'_>) -> Result<bool, String> {
        pattern
            .is_match(key.raw())
            .map_err(|err| runtime_error(&err))
    }

    fn captures(pattern: &fancy_regex::Regex, key: &Subject<'_>) -> Result<Option<Spans>, String> {
        let caps = pattern
            .captures(key.raw())
            .map_err(|err| runtime_error(&err))?;
        Ok(caps.map(|caps| caps.iter().map(|m| m.map(|m| m.range())).collect()))
    }
}

/// A compile error in PCRE2's words where we know them: `error in regex
/// at offset N: text`. `shift` is the length of the prefix we added and
/// `len` that of the pattern as written (offsets past our rewriting of
/// the pattern may be off by the escapes it added).
fn compile_error(err: &fancy_regex::Error, shift: usize, len: usize) -> String {
    use fancy_regex::{CompileError, Error, ParseError};
    let (offset, text) = match err {
        Error::ParseError(at, parse) => {
            let at = at.saturating_sub(shift).min(len);
            match parse {
                ParseError::UnclosedOpenParen => (len, "missing closing parenthesis".to_string()),
                ParseError::TrailingBackslash => (len, "\\ at end of pattern".to_string()),
                ParseError::InvalidRepeat | ParseError::TargetNotRepeatable => (
                    at,
                    "quantifier does not follow a repeatable item".to_string(),
                ),
                ParseError::InvalidEscape(_) => {
                    (at + 1, "unrecognized character follows \\".to_string())
                }
                ParseError::InvalidClass => {
                    (len, "missing terminating ] for character class".to_string())
                }
                ParseError::InvalidBackref | ParseError::InvalidGroupNameBackref(_) => {
                    (at, "reference to non-existent subpattern".to_string())
                }
                ParseError::UnknownFlag(_) => {
                    (at, "unrecognized character after (? or (?-".to_string())
                }
                ParseError::InvalidGroupName => (
                    at,
                    "syntax error in subpattern name (missing terminator?)".to_string(),
                ),
                // fancy-regex stops at an unmatched `)` with this text.
                ParseError::GeneralParseError(text)
                    if text.contains("end of string not reached") =>
                {
                    (at, "unmatched closing parenthesis".to_string())
                }
                other => (at, other.to_string()),
            }
        }
        Error::CompileError(compile) => match compile.as_ref() {
            CompileError::InvalidBackref(_) => {
                (len, "reference to non-existent subpattern".to_string())
            }
            CompileError::LookBehindNotConst => {
                (0, "lookbehind assertion is not fixed length".to_string())
            }
            CompileError::InnerError(inner) => {
                let text = match (inner.syntax_error(), inner.size_limit()) {
                    (Some(syntax), _) => syntax.to_string(),
                    (None, Some(_)) => "exceeds size limit".to_string(),
                    (None, None) => inner.to_string(),
                };
                (0, inner_error_text(&text))
            }
            other => (0, other.to_string()),
        },
        other => (0, other.to_string()),
    };
    format!("error in regex at offset {offset}: {text}")
}

/// PCRE2's words for errors found by the inner `regex` parser.
fn inner_error_text(text: &str) -> String {
    let known = [
        (
            "invalid character class range",
            "range out of order in character class",
        ),
        (
            "invalid repetition count range",
            "numbers out of order in {} quantifier",
        ),
        (
            "repetition quantifier expects a valid decimal",
            "number too big in {} quantifier",
        ),
        (
            "unrecognized POSIX character class",
            "unknown POSIX class name",
        ),
        (
            "unclosed character class",
            "missing terminating ] for character class",
        ),
        ("exceeds size limit", "regular expression is too large"),
    ];
    for (theirs, ours) in known {
        if text.contains(theirs) {
            return ours.to_string();
        }
    }
    // The inner error spans several lines; keep the last, the reason.
    text.lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map_or_else(
            || text.to_string(),
            |line| line.trim_start_matches("error: ").to_string(),
        )
}

/// A match error in PCRE2's words.
fn runtime_error(err: &fancy_regex::Error) -> String {
    match err {
        fancy_regex::Error::RuntimeError(fancy_regex::RuntimeError::BacktrackLimitExceeded) => {
            "match limit exceeded".to_string()
        }
        fancy_regex::Error::RuntimeError(fancy_regex::RuntimeError::StackOverflow) => {
            "matching error -63 (recursion limit)".to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Table;

    fn table(text: &str) -> (Box<dyn Table>, Vec<String>) {
        let opened = from_text("pcre:t", "t", text, &OpenOptions::default()).unwrap();
        (opened.table, opened.warnings)
    }

    fn get(table: &dyn Table, key: &str) -> Option<String> {
        table.lookup(key).unwrap()
    }

    #[test]
    fn lookaround_and_backreferences() {
        let (t, w) = table(
            "/^(\\w+)@(?!example\\.com$)/ foreign $1\n/^(.)\\1/ double $1\n/(?<=x)y/ after-x\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(get(&*t, "joe@other.org").as_deref(), Some("foreign joe"));
        assert_eq!(get(&*t, "joe@example.com"), None);
        assert_eq!(get(&*t, "ppp").as_deref(), Some("double p"));
        assert_eq!(get(&*t, "xy").as_deref(), Some("after-x"));
    }

    #[test]
    fn default_flags_ignore_case_and_let_dot_match_newline() {
        let (t, _) = table("/^a.b$/ yes\n/^C$/i exact\n");
        assert_eq!(get(&*t, "A\nB").as_deref(), Some("yes"));
        assert_eq!(get(&*t, "c"), None);
        assert_eq!(get(&*t, "C").as_deref(), Some("exact"));
    }

    #[test]
    fn anchored_and_ungreedy_flags() {
        let (t, _) = table("/b/A anchored\n/^(a+)/U lazy=$1\n");
        assert_eq!(get(&*t, "ab").as_deref(), Some("lazy=a"));
        assert_eq!(get(&*t, "ba").as_deref(), Some("anchored"));
    }

    #[test]
    fn non_ascii_is_matched_as_bytes() {
        let (t, _) = table("/^.{2}$/ two-bytes\n");
        assert_eq!(get(&*t, "é").as_deref(), Some("two-bytes"));
        // No Unicode case folding without UTF mode.
        let (t, _) = table("/^é$/ yes\n");
        assert_eq!(get(&*t, "É"), None);
        assert_eq!(get(&*t, "é").as_deref(), Some("yes"));
    }

    #[test]
    fn compile_errors_in_pcre2_words() {
        let (_, w) = table("/(/ x\n/a)/ y\n/*a/ z\n/[a/ w\n/a/Xq v\n");
        assert_eq!(
            w,
            vec![
                "pcre map t, line 1: error in regex at offset 1: missing closing parenthesis",
                "pcre map t, line 2: error in regex at offset 1: unmatched closing parenthesis",
                "pcre map t, line 3: error in regex at offset 0: quantifier does not follow a repeatable item",
                "pcre map t, line 4: error in regex at offset 2: missing terminating ] for character class",
                "pcre map t, line 5: ignoring obsolete regexp option \"X\"",
                "pcre map t, line 5: unknown regexp option \"q\": skipping this rule",
            ]
        );
    }

    #[test]
    fn runaway_backtracking_is_a_lookup_error() {
        let (t, w) = table("/^(a|a)+\\1$/ never\n");
        assert!(w.is_empty(), "{w:?}");
        let key = format!("{}b", "a".repeat(40));
        match t.lookup(&key) {
            Err(Error::Lookup { reason, .. }) => {
                assert_eq!(reason, "pcre map t, line 1: match limit exceeded");
            }
            other => panic!("expected a lookup error, got {other:?}"),
        }
    }
}
