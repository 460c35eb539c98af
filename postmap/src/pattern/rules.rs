//! The rule syntax regexp and pcre tables share (`/re/flags result`,
//! `!/re/ result`, `if /re/` ... `endif`), read with Postfix's warnings,
//! and the lookup over the compiled rules. A [`Dialect`] supplies what
//! differs: flags, the engine, and a few words in the warnings.

use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;

use super::program::{Builder, Program};
use super::rhs_file;
use super::source::{self, is_space, skip_space, trim_blanks};
use super::template::{Flavor, Place, Template};
use crate::table::{Error, OpenOptions, Opened, Table};

/// A pattern as written: the text between the delimiters and the flags
/// after them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Written<'a> {
    pub(crate) re: &'a str,
    pub(crate) flags: &'a str,
}

/// What a flag character is to a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    Known,
    /// Accepted with a warning and otherwise ignored.
    Obsolete,
    Unknown,
}

/// Spans of a match's capture groups, group 0 first.
pub(crate) type Spans = Vec<Option<Range<usize>>>;

/// A regular-expression engine and its table syntax.
pub(crate) trait Dialect: Send + Sync + 'static {
    type Pattern: fmt::Debug + Send + Sync;
    const FLAVOR: Flavor;
    /// Whether `/re1/!/re2/` is allowed (regexp only).
    const SECOND_PATTERN: bool;

    fn flag(c: char) -> Flag;

    /// Compile; the error is the text after `<type> map <name>, line N: `.
    /// Also returns the number of capture groups.
    fn compile(written: Written<'_>) -> Result<(Self::Pattern, usize), String>;

    fn is_match(pattern: &Self::Pattern, key: &Subject<'_>) -> Result<bool, String>;

    fn captures(pattern: &Self::Pattern, key: &Subject<'_>) -> Result<Option<Spans>, String>;
}

/// The key being looked up, with its ASCII-uppercased form made on demand
/// (glibc ignores case by uppercasing both pattern and key; the offsets
/// stay the same).
#[derive(Debug)]
pub(crate) struct Subject<'k> {
    raw: &'k [u8],
    folded: OnceCell<Vec<u8>>,
}

impl<'k> Subject<'k> {
    fn new(key: &'k str) -> Subject<'k> {
        Subject {
            raw: key.as_bytes(),
            folded: OnceCell::new(),
        }
    }

    pub(crate) fn raw(&self) -> &'k [u8] {
        self.raw
    }

    pub(crate) fn folded(&self) -> &[u8] {
        self.folded.get_or_init(|| self.raw.to_ascii_uppercase())
    }
}

/// A compiled pattern with its place and sense.
#[derive(Debug)]
struct Cond<P> {
    line: usize,
    positive: bool,
    pattern: P,
}

#[derive(Debug)]
struct MatchRule<P> {
    first: Cond<P>,
    second: Option<Cond<P>>,
    result: Outcome,
}

/// A rule's result: constant, or with `$n` to fill in.
#[derive(Debug)]
enum Outcome {
    Constant(String),
    Template(Template),
}

/// A regexp or pcre table.
pub(crate) struct PatternTable<D: Dialect> {
    spec: String,
    map: String,
    program: Program<MatchRule<D::Pattern>, Cond<D::Pattern>>,
}

impl<D: Dialect> fmt::Debug for PatternTable<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatternTable")
            .field("spec", &self.spec)
            .field("program", &self.program)
            .finish()
    }
}

/// Open a table from a file or inline `{...}` text.
pub(crate) fn open<D: Dialect>(
    spec: &str,
    path: &str,
    opts: &OpenOptions,
) -> Result<Opened, Error> {
    let text = source::load(D::FLAVOR.name(), path)?;
    Ok(from_text::<D>(spec, path, &text, opts))
}

/// Build a table from `text`; `origin` names it in warnings.
pub(crate) fn from_text<D: Dialect>(
    spec: &str,
    origin: &str,
    text: &str,
    opts: &OpenOptions,
) -> Opened {
    let mut warnings = Vec::new();
    let mut builder = Builder::new();
    for line in source::logical_lines(origin, text, &mut warnings) {
        let rule = trim_blanks(&line.text);
        if rule.is_empty() {
            continue;
        }
        let place = Place {
            flavor: D::FLAVOR,
            map: origin,
            line: line.number,
        };
        parse_rule::<D>(place, rule, opts, &mut builder, &mut warnings);
    }
    let (program, unclosed) = builder.finish();
    for line in unclosed {
        let place = Place {
            flavor: D::FLAVOR,
            map: origin,
            line,
        };
        warnings.push(place.warn("IF has no matching ENDIF"));
    }
    let table = PatternTable::<D> {
        spec: spec.to_string(),
        map: origin.to_string(),
        program,
    };
    Opened {
        table: Box::new(table),
        warnings,
    }
}

type RuleBuilder<P> = Builder<MatchRule<P>, Cond<P>>;

/// Parse one logical line into `builder` (Postfix
/// `dict_regexp_parseline`, `dict_pcre_parse_rule`).
fn parse_rule<D: Dialect>(
    place: Place<'_>,
    rule: &str,
    opts: &OpenOptions,
    builder: &mut RuleBuilder<D::Pattern>,
    warnings: &mut Vec<String>,
) {
    let starts_word = |word: &str| {
        rule.get(..word.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(word))
            && !rule
                .as_bytes()
                .get(word.len())
                .is_some_and(u8::is_ascii_alphanumeric)
    };
    if !rule
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphanumeric)
    {
        if let Some(match_rule) = parse_match::<D>(place, rule, opts, warnings) {
            builder.push_match(match_rule);
        }
    } else if starts_word("if") {
        let Some((written, positive, rest)) = written::<D>(place, skip_space(&rule[2..]), warnings)
        else {
            return;
        };
        let rest = skip_space(rest);
        if !rest.is_empty() {
            warnings.push(place.warn(&format!(
                "ignoring extra text after IF statement: \"{rest}\""
            )));
            warnings
                .push(place.warn("do not prepend whitespace to statements between IF and ENDIF"));
        }
        match D::compile(written) {
            Ok((pattern, _)) => {
                let cond = Cond {
                    line: place.line,
                    positive,
                    pattern,
                };
                builder.push_if(cond, place.line);
            }
            Err(why) => warnings.push(place.warn(&why)),
        }
    } else if starts_word("endif") {
        if builder.nesting() == 0 {
            warnings.push(place.warn("ignoring ENDIF without matching IF"));
            return;
        }
        if !skip_space(&rule[5..]).is_empty() {
            warnings.push(place.warn("ignoring extra text after ENDIF"));
        }
        builder.push_endif();
    } else {
        warnings.push(place.warn("ignoring unrecognized request"));
    }
}

/// `/re/flags result`, or for regexp also `/re1/flags!/re2/flags result`.
fn parse_match<D: Dialect>(
    place: Place<'_>,
    rule: &str,
    opts: &OpenOptions,
    warnings: &mut Vec<String>,
) -> Option<MatchRule<D::Pattern>> {
    let (first, first_positive, rest) = written::<D>(place, rule, warnings)?;
    let (second, rest) = if D::SECOND_PATTERN && rest.starts_with('!') {
        let (second, positive, rest) = written::<D>(place, rest, warnings)?;
        (Some((second, positive)), rest)
    } else {
        (None, rest)
    };
    let mut result = skip_space(rest).to_string();
    if result.is_empty() {
        warnings.push(place.warn("no replacement text: using empty string"));
    }
    if opts.rhs_is_file {
        match rhs_file::to_base64(&result) {
            Ok(encoded) => result = encoded,
            Err(why) => {
                warnings.push(place.warn(&format!("{why}: skipping this rule")));
                return None;
            }
        }
    }
    let Some(template) = Template::parse(place, &result, warnings) else {
        warnings.push(place.warn("bad replacement syntax: skipping this rule"));
        return None;
    };
    let max_group = template.max_group();
    if max_group > 0 && !first_positive {
        warnings.push(
            place.warn("$number found in negative match replacement text: skipping this rule"),
        );
        return None;
    }
    let mut compile = |written, positive| match D::compile(written) {
        Ok((pattern, groups)) => Some((
            Cond {
                line: place.line,
                positive,
                pattern,
            },
            groups,
        )),
        Err(why) => {
            warnings.push(place.warn(&why));
            None
        }
    };
    let (first, groups) = compile(first, first_positive)?;
    if max_group > groups {
        warnings.push(place.warn(&format!(
            "out of range replacement index \"{max_group}\": skipping this rule"
        )));
        return None;
    }
    let second = match second {
        Some((written, positive)) => Some(compile(written, positive)?.0),
        None => None,
    };
    let result = if max_group == 0 {
        Outcome::Constant(template.literal())
    } else {
        Outcome::Template(template)
    };
    Some(MatchRule {
        first,
        second,
        result,
    })
}

/// Negation, delimited pattern and flags at the start of `p`, and the rest
/// of the line (Postfix `dict_regexp_get_pat`, `dict_pcre_get_pattern`).
fn written<'a, D: Dialect>(
    place: Place<'_>,
    p: &'a str,
    warnings: &mut Vec<String>,
) -> Option<(Written<'a>, bool, &'a str)> {
    let mut positive = true;
    let mut rest = p;
    while let Some(c) = rest.chars().next() {
        if c == '!' {
            positive = !positive;
        } else if !is_space(c) {
            break;
        }
        rest = &rest[c.len_utf8()..];
    }
    let Some(delim) = rest.chars().next() else {
        warnings.push(place.warn("no regexp: skipping this rule"));
        return None;
    };
    let body = &rest[delim.len_utf8()..];
    let Some(end) = closing_delimiter(body, delim, D::FLAVOR) else {
        let verb = match D::FLAVOR {
            Flavor::Regexp => "skipping",
            Flavor::Pcre => "ignoring",
        };
        warnings.push(place.warn(&format!(
            "no closing regexp delimiter \"{delim}\": {verb} this rule"
        )));
        return None;
    };
    let re = &body[..end];
    let after = &body[end..];
    let after = &after[after.chars().next().map_or(0, char::len_utf8)..];
    // regexp stops its flags at `!` (a second pattern follows); pcre does
    // not, and so reports `!` as an unknown flag.
    let flags_end = after
        .find(|c: char| is_space(c) || (D::SECOND_PATTERN && c == '!'))
        .unwrap_or(after.len());
    let flags = &after[..flags_end];
    for c in flags.chars() {
        match D::flag(c) {
            Flag::Known => {}
            Flag::Obsolete => {
                warnings.push(place.warn(&format!("ignoring obsolete regexp option \"{c}\"")));
            }
            Flag::Unknown => {
                warnings.push(place.warn(&format!(
                    "unknown regexp option \"{c}\": skipping this rule"
                )));
                return None;
            }
        }
    }
    Some((Written { re, flags }, positive, &after[flags_end..]))
}

/// Where the pattern in `body` ends: at the unescaped delimiter. For
/// regexp a final backslash also ends it (Postfix stops at that
/// backslash and, seeing a non-null byte, takes it for the delimiter).
fn closing_delimiter(body: &str, delim: char, flavor: Flavor) -> Option<usize> {
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == '\\' {
            if chars.next().is_none() {
                return (flavor == Flavor::Regexp).then_some(at);
            }
        } else if c == delim {
            return Some(at);
        }
    }
    None
}

impl<D: Dialect> PatternTable<D> {
    fn failed(&self, line: usize, why: &str) -> Error {
        Error::Lookup {
            spec: self.spec.clone(),
            reason: format!("{} map {}, line {line}: {why}", D::FLAVOR.name(), self.map),
        }
    }

    fn holds(&self, cond: &Cond<D::Pattern>, key: &Subject<'_>) -> Result<bool, Error> {
        let matched =
            D::is_match(&cond.pattern, key).map_err(|why| self.failed(cond.line, &why))?;
        Ok(matched == cond.positive)
    }

    fn second_holds(&self, rule: &MatchRule<D::Pattern>, key: &Subject<'_>) -> Result<bool, Error> {
        match &rule.second {
            Some(second) => self.holds(second, key),
            None => Ok(true),
        }
    }

    /// A match rule's result for this key, if it matches.
    fn answer(
        &self,
        rule: &MatchRule<D::Pattern>,
        key: &Subject<'_>,
    ) -> Result<Option<String>, Error> {
        let value = match &rule.result {
            Outcome::Constant(value) => {
                if !self.holds(&rule.first, key)? || !self.second_holds(rule, key)? {
                    return Ok(None);
                }
                value.clone()
            }
            Outcome::Template(template) => {
                let spans = D::captures(&rule.first.pattern, key)
                    .map_err(|why| self.failed(rule.first.line, &why))?;
                let Some(spans) = spans else {
                    return Ok(None);
                };
                if !self.second_holds(rule, key)? {
                    return Ok(None);
                }
                template.expand(|n| key.raw.get(spans.get(n)?.clone()?))
            }
        };
        Ok(Some(value))
    }
}

impl<D: Dialect> Table for PatternTable<D> {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, Error> {
        let subject = Subject::new(key);
        self.program.run(
            |cond| self.holds(cond, &subject),
            |rule| self.answer(rule, &subject),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_delimiter_skips_escapes() {
        assert_eq!(closing_delimiter("a\\/b/ x", '/', Flavor::Regexp), Some(4));
        assert_eq!(closing_delimiter("ab", '/', Flavor::Regexp), None);
        // A final backslash ends a regexp pattern but not a pcre one.
        assert_eq!(closing_delimiter("ab\\", '/', Flavor::Regexp), Some(2));
        assert_eq!(closing_delimiter("ab\\", '/', Flavor::Pcre), None);
    }

    #[test]
    fn if_endif_warnings() {
        let opened = crate::regexp::from_text(
            "regexp:t",
            "t",
            "endif\nif /a/ junk\n/b/ c\nENDIF x\nIf !/z/\nif /y/\n",
            &OpenOptions::default(),
        )
        .unwrap();
        assert_eq!(
            opened.warnings,
            vec![
                "regexp map t, line 1: ignoring ENDIF without matching IF",
                "regexp map t, line 2: ignoring extra text after IF statement: \"junk\"",
                "regexp map t, line 2: do not prepend whitespace to statements between IF and ENDIF",
                "regexp map t, line 4: ignoring extra text after ENDIF",
                "regexp map t, line 6: IF has no matching ENDIF",
                "regexp map t, line 5: IF has no matching ENDIF",
            ]
        );
        assert_eq!(opened.table.lookup("ab").unwrap().as_deref(), Some("c"));
        assert_eq!(opened.table.lookup("b").unwrap(), None);
    }

    #[test]
    fn file_results_and_missing_files() {
        let opts = OpenOptions {
            rhs_is_file: true,
            ..OpenOptions::default()
        };
        let opened =
            crate::pcre::from_text("pcre:t", "t", "/a/ /nonexistent/f\n/b/\n", &opts).unwrap();
        assert_eq!(
            opened.warnings,
            vec![
                "pcre map t, line 1: open /nonexistent/f: No such file or directory: skipping this rule",
                "pcre map t, line 2: no replacement text: using empty string",
                "pcre map t, line 2: empty pathname list: >><<': skipping this rule",
            ]
        );
    }
}
