//! Tables opened for reading by `-q` and `-s`. Indexed tables are read
//! through [`IndexedTable`] directly, so keys and values are exact bytes
//! (the generic [`crate::Table`] speaks `str`), and the file is never
//! re-checked: the command runs for one batch of lookups. With
//! `smtputf8_enable = yes` lookups go through Postfix's `dict_utf8`
//! checks: a non-UTF-8 key is skipped with a warning, a non-UTF-8 value
//! is a configuration error.

use std::ffi::OsStr;

use crate::indexed::{IndexedTable, Kind, Recheck};
use crate::{Table, spec};

use super::Context;
use super::diag::{self, Fatal, fatal, printable_bytes};

const BAD_UTF8: &str = "malformed UTF-8 or invalid codepoint";

#[derive(Debug)]
enum Source {
    Indexed {
        table: IndexedTable,
        kind: Kind,
        fold: bool,
    },
    Other(Box<dyn Table>),
}

/// An open table.
#[derive(Debug)]
pub(crate) struct Map {
    source: Source,
    /// `type:name` as the command line gives it, default type applied
    /// (Postfix's `map_type:map_name`).
    pub(crate) spec: String,
    /// `type:name` as Postfix's dictionary names itself (`dict->type`,
    /// `dict->name`): `hash:map.db` for a Berkeley DB table.
    pub(crate) label: String,
    utf8: bool,
}

/// Why a lookup gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LookupError {
    /// The table failed, for this reason (Postfix `%m`).
    Failed(String),
    /// A configuration error (`DICT_ERR_CONFIG`): no reason is printed.
    Config,
}

/// A key and its value, as stored.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// The text of a command-line table argument.
pub(crate) fn arg_text(arg: &OsStr) -> String {
    arg.to_string_lossy().into_owned()
}

/// Split a lookup error reason off the words the table already put in
/// front of it (`fail:` says `query error: Application error`).
fn reason_after(reason: &str, op: &str) -> String {
    reason
        .strip_prefix(op)
        .and_then(|r| r.strip_prefix(": "))
        .unwrap_or(reason)
        .to_string()
}

impl Map {
    /// Open `arg` (`[type:]name`); warnings of the table are printed.
    pub(crate) fn open(cx: &Context<'_>, arg: &OsStr) -> Result<Map, Fatal> {
        let arg = arg_text(arg);
        let opts = cx.open_options();
        let parsed = spec::parse(&arg, &opts.default_type).map_err(fatal)?;
        let spec = parsed.text();
        let (source, label) = match Kind::from_type(parsed.kind) {
            Some(kind) => {
                let table = IndexedTable::open(kind, &spec, parsed.name, &opts, Recheck::Never)
                    .map_err(fatal)?;
                let label = format!("{}:{}", kind.type_name(), kind.dict_name(parsed.name));
                let fold = opts.fold;
                (Source::Indexed { table, kind, fold }, label)
            }
            None => {
                let opened = crate::open(&arg, &opts).map_err(fatal)?;
                opened.warnings.iter().for_each(diag::warn);
                (Source::Other(opened.table), spec.clone())
            }
        };
        Ok(Map {
            source,
            spec,
            label,
            utf8: cx.utf8,
        })
    }

    /// The value of `key` (as read; the table folds it).
    pub(crate) fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, LookupError> {
        if self.utf8 && std::str::from_utf8(key).is_err() {
            diag::warn(format!(
                "{}: non-UTF-8 key \"{}\": {BAD_UTF8}",
                self.label,
                printable_bytes(key)
            ));
            return Ok(None);
        }
        let value = match &self.source {
            Source::Indexed { table, fold, .. } => {
                let folded;
                let key = if *fold {
                    folded = key.to_ascii_lowercase();
                    &folded[..]
                } else {
                    key
                };
                table.get(key)
            }
            Source::Other(table) => table
                .lookup(&String::from_utf8_lossy(key))
                .map(|v| v.map(String::into_bytes)),
        };
        let value = value.map_err(|e| match e {
            crate::Error::Lookup { reason, .. } => {
                LookupError::Failed(reason_after(&reason, "query error"))
            }
            other => LookupError::Failed(other.to_string()),
        })?;
        match value {
            Some(v) if self.utf8 && std::str::from_utf8(&v).is_err() => {
                diag::warn(format!(
                    "{}: key \"{}\": non-UTF-8 value \"{}\": {BAD_UTF8}",
                    self.label,
                    printable_bytes(key),
                    printable_bytes(&v)
                ));
                Err(LookupError::Config)
            }
            other => Ok(other),
        }
    }

    /// `table X: query error[: reason]`, Postfix's fatal text.
    pub(crate) fn query_error(&self, err: &LookupError) -> Fatal {
        match err {
            LookupError::Failed(reason) => {
                fatal(format!("table {}: query error: {reason}", self.label))
            }
            LookupError::Config => fatal(format!("table {}: query error", self.label)),
        }
    }

    /// Every entry in the table's order, for `-s`; the error is fatal.
    pub(crate) fn entries(&self) -> Result<Vec<Entry>, Fatal> {
        let sequence_error = |reason: &str| {
            fatal(format!(
                "table {}: sequence error: {}",
                self.label,
                reason_after(reason, "sequence error")
            ))
        };
        match &self.source {
            Source::Indexed { table, kind, .. } => {
                let mut all = Vec::new();
                table
                    .for_each(&mut |k, v| all.push((k.to_vec(), v.to_vec())))
                    .map_err(|e| match e {
                        crate::Error::Lookup { reason, .. } => sequence_error(&reason),
                        other => fatal(other),
                    })?;
                // A B-tree lists its keys in order.
                if *kind == Kind::Btree {
                    all.sort_unstable();
                }
                Ok(all)
            }
            Source::Other(table) => match table.entries() {
                Ok(all) => Ok(all
                    .into_iter()
                    .map(|(k, v)| (k.into_bytes(), v.into_bytes()))
                    .collect()),
                Err(crate::Error::Unsupported { .. }) => Err(fatal(format!(
                    "table {}: sequence operation is not supported",
                    self.spec
                ))),
                Err(crate::Error::Lookup { reason, .. }) => Err(sequence_error(&reason)),
                Err(other) => Err(fatal(other)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lose_the_words_postmap_adds_itself() {
        assert_eq!(
            reason_after("query error: Application error", "query error"),
            "Application error"
        );
        assert_eq!(
            reason_after("Invalid argument", "query error"),
            "Invalid argument"
        );
        assert_eq!(
            reason_after("sequence error: Application error", "sequence error"),
            "Application error"
        );
    }
}
