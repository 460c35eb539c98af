//! A list of tables searched in order, as a parameter like
//! `canonical_maps = hash:/etc/postfix/canonical, regexp:/etc/postfix/re`
//! names them (Postfix `maps.c`). The first table that knows the key
//! answers; a table that fails stops the search, so the caller defers
//! instead of acting on a half-answer. Every daemon that reads such a
//! parameter (address mapping, header and body checks) uses [`Maps`].
//!
//! Opening never fails: a table that cannot be opened stays in the list
//! as a surrogate that fails every lookup (Postfix `dict_surrogate.c`),
//! and why is in [`Maps::warnings`].

use std::fmt;

use crate::table::{self, OpenOptions, Opened, Table};

/// Why a search failed. Every variant means "try again later". Display
/// is the warning Postfix logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A table could not answer.
    #[error("{spec} lookup error for \"{key}\": {error}")]
    Table {
        spec: String,
        key: String,
        error: crate::Error,
    },
    /// A table answered with an empty string, which Postfix treats as a
    /// configuration error (a table should not find such a key).
    #[error("{title} lookup of {key} returns an empty string result")]
    EmptyValue { title: String, key: String },
}

/// What kind of key a lookup uses. Pattern tables (regexp, pcre, cidr,
/// and fail or surrogate tables) see only full keys: a derived key such
/// as `@domain` or `user` would match patterns written for whole
/// addresses (Postfix `DICT_FLAG_FIXED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The key as given (an address, a header line).
    Full,
    /// A key derived from it (without extension, domain or local part).
    Partial,
}

struct Member {
    table: Box<dyn Table>,
    /// A fixed-string table, which also answers partial keys.
    fixed: bool,
}

/// The tables of one parameter, in search order.
pub struct Maps {
    title: String,
    members: Vec<Member>,
    warnings: Vec<String>,
    /// Postfix's `utf8_request`: [`Maps::find_bytes`] refuses keys that
    /// are not UTF-8 with a warning.
    utf8_check: bool,
}

impl fmt::Debug for Maps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let specs: Vec<&str> = self.members.iter().map(|m| m.table.spec()).collect();
        f.debug_struct("Maps")
            .field("title", &self.title)
            .field("tables", &specs)
            .field("utf8_check", &self.utf8_check)
            .finish()
    }
}

impl Maps {
    /// Opens every table named in `value` (split on commas and white
    /// space; `{ ... }` stays with its table, as in `inline:{a=b, c=d}`)
    /// for parameter `title`, used in messages. A table that cannot be
    /// opened fails every lookup, as in Postfix; the reason is in
    /// [`Maps::warnings`], with any syntax problem of the list.
    pub fn open(title: &str, value: &str, opts: &OpenOptions) -> Maps {
        let split = conf::list::split(value);
        let mut warnings: Vec<String> = split
            .warnings
            .iter()
            .map(|w| format!("{title}: {w}"))
            .collect();
        let mut members = Vec::new();
        for spec in &split.items {
            let (opened, fixed) = match crate::open(spec, opts) {
                Ok(opened) => {
                    let fixed = is_fixed(opened.table.spec());
                    (opened, fixed)
                }
                // A surrogate is a pattern table to Postfix.
                Err(error) => (surrogate(spec, &error), false),
            };
            warnings.extend(opened.warnings);
            members.push(Member {
                table: opened.table,
                fixed,
            });
        }
        Maps {
            title: title.to_string(),
            members,
            warnings,
            utf8_check: opts.utf8_check,
        }
    }

    /// Tables opened by the caller (tests, tools), with the default UTF-8
    /// key policy (on).
    pub fn from_tables(title: &str, tables: Vec<Box<dyn Table>>) -> Maps {
        let members = tables
            .into_iter()
            .map(|table| Member {
                fixed: is_fixed(table.spec()),
                table,
            })
            .collect();
        Maps {
            title: title.to_string(),
            members,
            warnings: Vec::new(),
            utf8_check: OpenOptions::default().utf8_check,
        }
    }

    /// The parameter name these tables came from.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// No table at all (the parameter is empty): every search finds
    /// nothing.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Problems found while opening the tables, in Postfix's words, for
    /// the caller to log.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The value of the first table that has `key`; `Ok(None)` when none
    /// has it. The first table error ends the search, and so does an
    /// empty value. An empty key finds nothing (header_checks(5) BUGS;
    /// Postfix `maps_find`).
    pub fn find(&self, key: &str, kind: Key) -> Result<Option<String>, Error> {
        if key.is_empty() {
            return Ok(None);
        }
        for member in self.searched(kind) {
            let answer = member.table.lookup(key);
            if let Some(value) = self.settle(member, key.as_bytes(), answer)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// [`Maps::find`] for a key received as bytes (a header or body
    /// line). A key that is not UTF-8 is not found; with the UTF-8 check
    /// on (Postfix's `dict_utf8` wrapper) each table it would have gone
    /// to pushes a warning to `warnings`.
    pub fn find_bytes(
        &self,
        key: &[u8],
        kind: Key,
        warnings: &mut Vec<String>,
    ) -> Result<Option<String>, Error> {
        if key.is_empty() {
            return Ok(None);
        }
        for member in self.searched(kind) {
            let found = table::lookup_bytes(member.table.as_ref(), key, self.utf8_check);
            warnings.extend(found.warning);
            if let Some(value) = self.settle(member, key, found.answer)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// The tables a `kind` of key goes to, in order.
    fn searched(&self, kind: Key) -> impl Iterator<Item = &Member> {
        self.members
            .iter()
            .filter(move |member| kind == Key::Full || member.fixed)
    }

    /// One table's answer to `key`: the value that ends the search, or
    /// `None` to go on.
    fn settle(
        &self,
        member: &Member,
        key: &[u8],
        answer: Result<Option<String>, crate::Error>,
    ) -> Result<Option<String>, Error> {
        // A table saw the key only if it is UTF-8, so the lossy
        // conversion below never loses anything.
        let key = || String::from_utf8_lossy(key).into_owned();
        match answer {
            Ok(Some(value)) if value.is_empty() => Err(Error::EmptyValue {
                title: self.title.clone(),
                key: key(),
            }),
            Ok(found) => Ok(found),
            Err(error) => Err(Error::Table {
                spec: member.table.spec().to_string(),
                key: key(),
                error,
            }),
        }
    }
}

/// Opens the table `spec` as a daemon does: a table that cannot be opened
/// becomes a surrogate that fails every lookup (Postfix
/// `dict_surrogate`), and why is the warning in [`Opened::warnings`].
pub fn open_or_surrogate(spec: &str, opts: &OpenOptions) -> Opened {
    crate::open(spec, opts).unwrap_or_else(|error| surrogate(spec, &error))
}

/// The surrogate for `spec`, which could not be opened because of `error`.
fn surrogate(spec: &str, error: &crate::Error) -> Opened {
    Opened {
        table: Box::new(Surrogate {
            spec: spec.to_string(),
            reason: error.to_string(),
        }),
        warnings: vec![format!("{spec} is unavailable. {error}")],
    }
}

/// A table that could not be opened: every lookup fails with the reason.
#[derive(Debug)]
struct Surrogate {
    spec: String,
    reason: String,
}

impl Table for Surrogate {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, _key: &str) -> Result<Option<String>, crate::Error> {
        Err(crate::Error::Lookup {
            spec: self.spec.clone(),
            reason: format!("{} is unavailable. {}", self.spec, self.reason),
        })
    }
}

/// How deep `unionmap:{pipemap:{...}}` is examined for fixed tables.
const MAX_NESTING: usize = 100;

/// Does the table `spec` answer partial keys: is it a fixed-string table,
/// or a union or pipeline with one among its members?
fn is_fixed(spec: &str) -> bool {
    is_fixed_nested(spec, 0)
}

fn is_fixed_nested(spec: &str, depth: usize) -> bool {
    let Ok(parsed) = crate::spec::parse(spec, "hash") else {
        return false;
    };
    match parsed.kind {
        "regexp" | "pcre" | "cidr" | "randmap" | "fail" | "tcp" | "socketmap" => false,
        "unionmap" | "pipemap" if depth < MAX_NESTING => crate::spec::braced_body(parsed.name)
            .is_some_and(|body| {
                crate::spec::split_list(body)
                    .into_iter()
                    .any(|member| is_fixed_nested(member, depth + 1))
            }),
        "unionmap" | "pipemap" => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps(value: &str) -> Maps {
        Maps::open("canonical_maps", value, &OpenOptions::default())
    }

    #[test]
    fn first_answer_wins() {
        let m = maps("inline:{a=1}, inline:{a=2, b=3}");
        assert_eq!(m.find("a", Key::Full), Ok(Some("1".into())));
        assert_eq!(m.find("B", Key::Full), Ok(Some("3".into())));
        assert_eq!(m.find("c", Key::Full), Ok(None));
        assert_eq!(m.find("", Key::Full), Ok(None));
        assert!(m.warnings().is_empty());
    }

    #[test]
    fn empty_value_is_no_tables() {
        let m = maps(" , ");
        assert!(m.is_empty());
        assert_eq!(m.find("x", Key::Full), Ok(None));
        assert_eq!(m.title(), "canonical_maps");
    }

    #[test]
    fn pattern_tables_see_full_keys_only() {
        let m = maps("regexp:{{/./ found}}");
        assert_eq!(m.find("x", Key::Full), Ok(Some("found".into())));
        assert_eq!(m.find("x", Key::Partial), Ok(None));
        assert!(is_fixed("unionmap:{regexp:{{/./ x}}, inline:{a=b}}"));
        assert!(!is_fixed("pipemap:{cidr:/x, fail:y}"));
        assert!(is_fixed("proxy:hash:/etc/x"));
    }

    #[test]
    fn errors_stop_the_search() {
        let m = maps("inline:{x=1} fail:x, inline:{a=1}");
        assert_eq!(m.find("x", Key::Full), Ok(Some("1".into())));
        assert_eq!(
            m.find("a", Key::Full).map_err(|e| e.to_string()),
            Err("fail:x lookup error for \"a\": \
                 table fail:x: query error: Application error"
                .into())
        );
        // A failing table is a pattern table to Postfix: partial keys
        // skip it.
        assert_eq!(m.find("a", Key::Partial), Ok(Some("1".into())));
    }

    #[test]
    fn unopenable_tables_fail_every_lookup() {
        let m = maps("nosuchtype:x static:found");
        assert_eq!(
            m.warnings(),
            ["nosuchtype:x is unavailable. unsupported dictionary type: nosuchtype"]
        );
        assert_eq!(
            m.find("a", Key::Full).map_err(|e| e.to_string()),
            Err("nosuchtype:x lookup error for \"a\": table nosuchtype:x: \
                 nosuchtype:x is unavailable. unsupported dictionary type: nosuchtype"
                .into())
        );
        // A surrogate is a pattern table too.
        assert_eq!(m.find("a", Key::Partial), Ok(Some("found".into())));
        let m = maps("regexp:/nonexistent/checks");
        assert!(m.warnings()[0].starts_with("regexp:/nonexistent/checks is unavailable."));
        let opened = open_or_surrogate("hash:/nonexistent/x", &OpenOptions::default());
        assert_eq!(opened.warnings.len(), 1);
        assert!(opened.table.lookup("a").is_err());
    }

    #[test]
    fn list_syntax_problems_are_warnings() {
        let m = maps("{static:a}{b}");
        assert_eq!(
            m.warnings(),
            ["canonical_maps: syntax error after '}' in \"{static:a}{b}\""]
        );
    }

    #[derive(Debug)]
    struct Empty;

    impl Table for Empty {
        fn spec(&self) -> &str {
            "test:empty"
        }
        fn lookup(&self, _key: &str) -> Result<Option<String>, crate::Error> {
            Ok(Some(String::new()))
        }
    }

    #[test]
    fn empty_values_are_configuration_errors() {
        let m = Maps::from_tables("virtual_alias_maps", vec![Box::new(Empty)]);
        assert_eq!(
            m.find("a", Key::Full).map_err(|e| e.to_string()),
            Err("virtual_alias_maps lookup of a returns an empty string result".into())
        );
        let mut warnings = Vec::new();
        assert!(m.find_bytes(b"a", Key::Full, &mut warnings).is_err());
    }

    #[test]
    fn byte_keys_follow_the_utf8_policy() {
        let m = maps("static:x, static:y");
        let mut warnings = Vec::new();
        assert_eq!(
            m.find_bytes(b"a", Key::Full, &mut warnings),
            Ok(Some("x".into()))
        );
        assert_eq!(m.find_bytes(b"", Key::Full, &mut warnings), Ok(None));
        assert!(warnings.is_empty());
        // Each table refuses the key, as each Postfix dict_utf8 wrapper
        // does.
        assert_eq!(m.find_bytes(b"a\xff", Key::Full, &mut warnings), Ok(None));
        assert_eq!(
            warnings,
            [
                "static:x: non-UTF-8 key \"a?\": malformed UTF-8 or invalid codepoint",
                "static:y: non-UTF-8 key \"a?\": malformed UTF-8 or invalid codepoint",
            ]
        );
        let unchecked = OpenOptions {
            utf8_check: false,
            ..OpenOptions::default()
        };
        let m = Maps::open("body_checks", "static:x", &unchecked);
        let mut warnings = Vec::new();
        assert_eq!(m.find_bytes(b"a\xff", Key::Full, &mut warnings), Ok(None));
        assert!(warnings.is_empty());
    }
}
