//! `regexp:` tables (regexp_table(5)): POSIX regular expressions tried in
//! order, first match wins. `/re/flags result`, `!/re/ result`,
//! `/re1/!/re2/ result` (re1 matches and re2 does not), `if /re/` ...
//! `endif`, flags `i` (case, on by default), `m` (newline) and `x`
//! (extended syntax, on by default), `$n` in results.
//!
//! Patterns are read as glibc reads them (see [`posix`]) and run on the
//! `regex` crate, or on `fancy-regex` when they use back-references.
//! POSIX picks the leftmost-longest match where the `regex` crate picks
//! the leftmost-first; whether a rule matches is the same, but the text
//! `$n` stands for is not. So when a rule with `$n` matches, the match is
//! redone by `fancy-regex` in leftmost-longest mode (within a backtracking
//! budget; past it the leftmost-first answer stands). Known difference:
//! POSIX also makes each group as long as possible in turn, we take the
//! first way of matching the longest text, so `x(a|ab)(c|bcd)(d*)` on
//! `xabcd` gives `a`, `bcd`, `` where glibc gives `ab`, `c`, `d`.

mod bracket;
mod posix;

use std::sync::OnceLock;

use crate::pattern::rules::{self, Dialect, Flag, Spans, Subject, Written};
use crate::pattern::template::Flavor;
use crate::table::{Error, OpenOptions, Opened};

use posix::{PosixError, Syntax};

/// Backtracking budget for patterns with back-references; exceeding it
/// is a lookup error, never a hang.
const BACKTRACK_LIMIT: usize = 1_000_000;

/// Backtracking budget for finding the longest match once a rule with
/// `$n` matched (about a millisecond); past it the first match is used.
const LONGEST_LIMIT: usize = 100_000;

/// Open the regexp table in file `path` (or inline `{...}` text).
pub fn open(spec: &str, path: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    rules::open::<Regexp>(spec, path, opts)
}

/// Build a regexp table from `text`; `origin` names it in warnings.
pub fn from_text(
    spec: &str,
    origin: &str,
    text: &str,
    opts: &OpenOptions,
) -> Result<Opened, Error> {
    Ok(rules::from_text::<Regexp>(spec, origin, text, opts))
}

/// POSIX regular expressions, as Postfix's `dict_regexp` uses them.
#[derive(Debug)]
struct Regexp;

/// A compiled pattern and whether it matches the case-folded key.
#[derive(Debug)]
struct Pattern {
    icase: bool,
    engine: Engine,
    /// The translated pattern, for building `longest` on first use.
    source: String,
    /// The same pattern in leftmost-longest mode, built when a rule with
    /// `$n` first matches (most patterns never need it).
    longest: OnceLock<Option<fancy_regex::Regex>>,
}

#[derive(Debug)]
enum Engine {
    Plain(regex::bytes::Regex),
    BackRef(Box<fancy_regex::Regex>),
}

impl Pattern {
    fn text<'a>(&self, key: &'a Subject<'_>) -> &'a [u8] {
        if self.icase { key.folded() } else { key.raw() }
    }

    fn longest(&self) -> Option<&fancy_regex::Regex> {
        self.longest
            .get_or_init(|| {
                fancy_regex::RegexBuilder::new(&self.source)
                    .bytes_mode(fancy_regex::BytesMode::Ascii)
                    .unicode_mode(false)
                    .leftmost_longest(true)
                    .backtrack_limit(LONGEST_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

fn spans(caps: &fancy_regex::Captures<'_, [u8]>) -> Spans {
    caps.iter().map(|m| m.map(|m| m.range())).collect()
}

impl Dialect for Regexp {
    type Pattern = Pattern;
    const FLAVOR: Flavor = Flavor::Regexp;
    const SECOND_PATTERN: bool = true;

    fn flag(c: char) -> Flag {
        match c {
            'i' | 'm' | 'x' => Flag::Known,
            _ => Flag::Unknown,
        }
    }

    fn compile(written: Written<'_>) -> Result<(Pattern, usize), String> {
        // Each flag toggles regcomp's REG_ICASE, REG_NEWLINE, REG_EXTENDED.
        let mut syntax = Syntax {
            extended: true,
            icase: true,
            newline: false,
        };
        for c in written.flags.chars() {
            match c {
                'i' => syntax.icase = !syntax.icase,
                'm' => syntax.newline = !syntax.newline,
                'x' => syntax.extended = !syntax.extended,
                _ => {}
            }
        }
        let translated = posix::translate(written.re, syntax).map_err(|e| e.to_string())?;
        // Our engines have size limits glibc lacks; hitting one is reported
        // in the words glibc uses for a pattern it cannot hold.
        let engine = if translated.backrefs {
            let re = fancy_regex::RegexBuilder::new(&translated.pattern)
                .bytes_mode(fancy_regex::BytesMode::Ascii)
                .unicode_mode(false)
                .backtrack_limit(BACKTRACK_LIMIT)
                .build()
                .map_err(|_| PosixError::TooBig.to_string())?;
            Engine::BackRef(Box::new(re))
        } else {
            let re = regex::bytes::RegexBuilder::new(&translated.pattern)
                .unicode(false)
                .build()
                .map_err(|_| PosixError::TooBig.to_string())?;
            Engine::Plain(re)
        };
        let pattern = Pattern {
            icase: syntax.icase,
            engine,
            source: translated.pattern,
            longest: OnceLock::new(),
        };
        Ok((pattern, translated.groups))
    }

    fn is_match(pattern: &Pattern, key: &Subject<'_>) -> Result<bool, String> {
        let text = pattern.text(key);
        match &pattern.engine {
            Engine::Plain(re) => Ok(re.is_match(text)),
            Engine::BackRef(re) => re.is_match(text).map_err(|e| e.to_string()),
        }
    }

    fn captures(pattern: &Pattern, key: &Subject<'_>) -> Result<Option<Spans>, String> {
        if !Self::is_match(pattern, key)? {
            return Ok(None);
        }
        let text = pattern.text(key);
        // Find the groups the POSIX way; if that is too costly, the
        // leftmost-first groups stand.
        if let Some(longest) = pattern.longest()
            && let Ok(Some(caps)) = longest.captures(text)
        {
            return Ok(Some(spans(&caps)));
        }
        Ok(match &pattern.engine {
            Engine::Plain(re) => re
                .captures(text)
                .map(|caps| caps.iter().map(|m| m.map(|m| m.range())).collect()),
            Engine::BackRef(re) => re
                .captures(text)
                .map_err(|e| e.to_string())?
                .map(|caps| spans(&caps)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Table;

    fn table(text: &str) -> (Box<dyn Table>, Vec<String>) {
        let opened = from_text("regexp:t", "t", text, &OpenOptions::default()).unwrap();
        (opened.table, opened.warnings)
    }

    fn get(table: &dyn Table, key: &str) -> Option<String> {
        table.lookup(key).unwrap()
    }

    #[test]
    fn first_match_wins_and_substitutes() {
        let (t, w) = table("/^(.*)@(.*)$/ user=$1 domain=${2}\n/./ other\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(get(&*t, "a@b").as_deref(), Some("user=a domain=b"));
        assert_eq!(get(&*t, "x").as_deref(), Some("other"));
        assert_eq!(get(&*t, ""), None);
    }

    #[test]
    fn case_is_ignored_unless_i_is_given() {
        let (t, _) = table("/ABC/ folded\n/XyZ/i exact\n");
        assert_eq!(get(&*t, "abc").as_deref(), Some("folded"));
        assert_eq!(get(&*t, "xyz"), None);
        assert_eq!(get(&*t, "XyZ").as_deref(), Some("exact"));
    }

    #[test]
    fn substitution_uses_the_original_case() {
        let (t, _) = table("/^(user)@/ <$1>\n");
        assert_eq!(get(&*t, "USER@x").as_deref(), Some("<USER>"));
    }

    #[test]
    fn substitution_takes_the_longest_match() {
        let (t, _) = table("/(|[^ab])/ <$1>\n/^[[:alpha:]]|(a[[:lower:]])/ [$1]\n");
        assert_eq!(get(&*t, "x").as_deref(), Some("<x>"));
        let (t, _) = table("/^[[:alpha:]]|(a[[:lower:]])/ [$1]\n");
        assert_eq!(get(&*t, "ab").as_deref(), Some("[ab]"));
    }

    #[test]
    fn negation_and_second_pattern() {
        let (t, _) = table("/a/!/b/ a-not-b\n!/c/ no-c\n");
        assert_eq!(get(&*t, "aa").as_deref(), Some("a-not-b"));
        assert_eq!(get(&*t, "ab").as_deref(), Some("no-c"));
        assert_eq!(get(&*t, "abc"), None);
    }

    #[test]
    fn other_delimiters_and_escaped_delimiter() {
        let (t, w) = table("|a/b| slash\n/x\\/y/ escaped\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(get(&*t, "a/b").as_deref(), Some("slash"));
        assert_eq!(get(&*t, "x/y").as_deref(), Some("escaped"));
    }

    #[test]
    fn back_references_use_the_backtracking_engine() {
        let (t, w) = table("/^(.)\\1$/ double $1\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(get(&*t, "aa").as_deref(), Some("double a"));
        assert_eq!(get(&*t, "aA").as_deref(), Some("double a"));
        assert_eq!(get(&*t, "ab"), None);
    }

    #[test]
    fn every_construct_compiles_on_both_engines() {
        let constructs = [
            "\\<(a)\\>",
            "\\b(a)\\B",
            "\\`(.)\\'",
            "([[:alpha:]]+)\\w\\W\\s\\S",
            "[^]x](é)",
            "(a){2,3}b{,2}",
            "^(a|)$",
        ];
        for construct in constructs {
            for suffix in ["", "\\1"] {
                let rule = format!("/{construct}{suffix}/ <$1>\n");
                let opened = from_text("regexp:t", "t", &rule, &OpenOptions::default()).unwrap();
                assert!(opened.warnings.is_empty(), "{rule}: {:?}", opened.warnings);
                let pattern = posix::translate(
                    &format!("{construct}{suffix}"),
                    Syntax {
                        extended: true,
                        icase: true,
                        newline: true,
                    },
                )
                .unwrap();
                let longest = fancy_regex::RegexBuilder::new(&pattern.pattern)
                    .bytes_mode(fancy_regex::BytesMode::Ascii)
                    .unicode_mode(false)
                    .leftmost_longest(true)
                    .build();
                assert!(longest.is_ok(), "{rule}: {longest:?}");
            }
        }
        let (t, _) = table("/\\<(a+)\\>/ <$1>\n");
        assert_eq!(get(&*t, "x aa y").as_deref(), Some("<aa>"));
    }

    #[test]
    fn warnings_in_postfix_words() {
        let (_, w) = table("/(/ x\n/a/q y\nbogus\n/a\n");
        assert_eq!(
            w,
            vec![
                "regexp map t, line 1: Unmatched ( or \\(",
                "regexp map t, line 2: unknown regexp option \"q\": skipping this rule",
                "regexp map t, line 3: ignoring unrecognized request",
                "regexp map t, line 4: no closing regexp delimiter \"/\": skipping this rule",
            ]
        );
    }

    #[test]
    fn entries_are_unsupported() {
        let (t, _) = table("/a/ b\n");
        assert_eq!(
            t.entries(),
            Err(Error::Unsupported {
                spec: "regexp:t".into()
            })
        );
    }
}
