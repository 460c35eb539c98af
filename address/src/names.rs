//! Name lists such as `mydestination` and `masquerade_exceptions`
//! (Postfix `string_list`): names compared without regard to case,
//! `type:table` entries looked up, `/file` entries read for more names,
//! and `!` in front of an entry inverting its answer. The first entry that
//! matches decides; a table that cannot answer is an error, not a miss.

use std::fmt;

use postmap::{OpenOptions, Table};

/// What went wrong with a name list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A table in the list could not answer; the caller must try again
    /// later. Display is Postfix's warning text.
    #[error("{list}: {spec}: table lookup problem")]
    Lookup { list: String, spec: String },
    /// A `/file` entry cannot be read.
    #[error("{list}: open file {path}: {reason}")]
    File {
        list: String,
        path: String,
        reason: String,
    },
}

enum Pattern {
    Name(String),
    Table(Box<dyn Table>),
}

struct Entry {
    /// The answer when the pattern matches (false after an odd number of
    /// `!`).
    matched: bool,
    pattern: Pattern,
}

/// A parsed name list.
pub struct NameList {
    name: String,
    entries: Vec<Entry>,
    warnings: Vec<String>,
}

impl fmt::Debug for NameList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameList")
            .field("name", &self.name)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// Files nested in files deeper than this are an error (a file that
/// includes itself would otherwise never end).
const MAX_FILE_DEPTH: usize = 10;

impl NameList {
    /// Parse `value`, the value of parameter `name` (used in messages).
    /// Entries are separated by commas and white space; `{...}` keeps a
    /// table name with spaces together. A table that cannot be opened
    /// fails each lookup, as Postfix's surrogate tables do; why it could
    /// not be opened is in [`NameList::warnings`].
    pub fn new(name: &str, value: &str, options: &OpenOptions) -> Result<NameList, Error> {
        let mut list = NameList {
            name: name.to_string(),
            entries: Vec::new(),
            warnings: Vec::new(),
        };
        list.add(value, options, 0, false)?;
        Ok(list)
    }

    /// A list of literal names (no tables or files).
    pub fn from_names<'a>(name: &str, names: impl IntoIterator<Item = &'a str>) -> NameList {
        NameList {
            name: name.to_string(),
            entries: names
                .into_iter()
                .map(|n| Entry {
                    matched: true,
                    pattern: Pattern::Name(n.to_lowercase()),
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    /// Add the entries of `value`; `invert` when it comes from a file
    /// named with `!`.
    fn add(
        &mut self,
        value: &str,
        options: &OpenOptions,
        depth: usize,
        invert: bool,
    ) -> Result<(), Error> {
        for item in conf::list::split(value).items {
            let bare = item.trim_start_matches('!');
            let matched = ((item.len() - bare.len()) % 2 == 0) != invert;
            if bare.starts_with('/') {
                self.add_file(bare, options, depth, !matched)?;
                continue;
            }
            // `[ipv6::addr]` is a name, not a table.
            let pattern = if !bare.starts_with('[') && bare.contains(':') {
                let opened = postmap::maps::open_or_surrogate(bare, options);
                self.warnings.extend(opened.warnings);
                Pattern::Table(opened.table)
            } else {
                Pattern::Name(bare.to_lowercase())
            };
            self.entries.push(Entry { matched, pattern });
        }
        Ok(())
    }

    fn add_file(
        &mut self,
        path: &str,
        options: &OpenOptions,
        depth: usize,
        invert: bool,
    ) -> Result<(), Error> {
        let error = |reason: String| Error::File {
            list: self.name.clone(),
            path: path.to_string(),
            reason,
        };
        if depth >= MAX_FILE_DEPTH {
            return Err(error("files nested too deeply".to_string()));
        }
        let text = std::fs::read_to_string(path).map_err(|e| error(conf::io_reason(&e)))?;
        for line in text.lines() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                self.add(line, options, depth + 1, invert)?;
            }
        }
        Ok(())
    }

    /// Problems found while opening the list's tables, for the caller to
    /// log.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The list has no entries (the parameter is empty).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Does `name` match the list? Matching ignores case.
    pub fn matches(&self, name: &str) -> Result<bool, Error> {
        let name = name.to_lowercase();
        for entry in &self.entries {
            let hit = match &entry.pattern {
                Pattern::Name(pattern) => *pattern == name,
                Pattern::Table(table) => match table.lookup(&name) {
                    Ok(found) => found.is_some(),
                    Err(_) => {
                        return Err(Error::Lookup {
                            list: self.name.clone(),
                            spec: table.spec().to_string(),
                        });
                    }
                },
            };
            if hit {
                return Ok(entry.matched);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(value: &str) -> NameList {
        NameList::new("test_list", value, &OpenOptions::default()).expect("parses")
    }

    #[test]
    fn names_and_negation() {
        let l = list("Root, !postmaster, postmaster, {inline:{a=1}}");
        assert_eq!(l.matches("ROOT"), Ok(true));
        assert_eq!(l.matches("postmaster"), Ok(false));
        assert_eq!(l.matches("A"), Ok(true));
        assert_eq!(l.matches("b"), Ok(false));
        assert_eq!(list("!!x").matches("x"), Ok(true));
        assert!(list("").is_empty());
    }

    #[test]
    fn table_errors_are_errors() {
        let l = list("a, fail:whatever, b");
        assert_eq!(l.matches("a"), Ok(true));
        assert_eq!(
            l.matches("b").map_err(|e| e.to_string()),
            Err("test_list: fail:whatever: table lookup problem".into())
        );
    }

    #[test]
    fn unopenable_tables_fail_lookups() {
        let l = list("nosuchtype:x");
        assert_eq!(l.warnings().len(), 1);
        assert!(l.matches("a").is_err());
    }

    #[test]
    fn missing_files_are_errors() {
        let err =
            NameList::new("x", "/nonexistent/file", &OpenOptions::default()).expect_err("no file");
        assert!(
            err.to_string()
                .starts_with("x: open file /nonexistent/file: ")
        );
    }
}
