//! The one interface every daemon reads tables through.
//!
//! A [`Table`] answers `lookup(key)` with a value, "not found", or an
//! error (Postfix's `dict->error`: the table could not answer, and the
//! caller must defer rather than decide). Tables are opened by
//! [`crate::open`] from a `type:name` specification; opening may produce
//! warnings (skipped bad lines in a regexp table, duplicate keys) that the
//! caller logs, and never stops at the first bad line of a pattern table.

use std::fmt;

/// How a table is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// Fold keys of fixed-string tables (hash, btree, cdb, lmdb, texthash,
    /// inline, ...) to lower case, at build and at lookup time. Postfix
    /// does this unless `postmap -f` is given.
    pub fold: bool,
    /// The table type used when a specification has none
    /// (`default_database_type`, normally `hash`).
    pub default_type: String,
    /// Values are file names whose contents are stored base64-encoded
    /// (`postmap -F`, Postfix's `src_rhs_is_file`).
    pub rhs_is_file: bool,
    /// Reject keys and values that are not valid UTF-8 (Postfix's
    /// `utf8_request`); when off, bytes are passed through.
    pub utf8_check: bool,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions {
            fold: true,
            default_type: "hash".to_string(),
            rhs_is_file: false,
            utf8_check: true,
        }
    }
}

/// Why a table cannot be opened or cannot answer. Display is the text
/// Postfix prints after `fatal: ` or `warning: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The table cannot be opened (missing file, bad syntax of the
    /// specification, unsupported type).
    #[error("{0}")]
    Open(String),
    /// A lookup failed: the answer is unknown, not "not found".
    #[error("table {spec}: {reason}")]
    Lookup { spec: String, reason: String },
    /// The table type cannot do this (`postmap -s` on a cidr table).
    #[error("table {spec}: sequence operation is not supported")]
    Unsupported { spec: String },
}

/// A lookup table.
pub trait Table: Send + Sync + fmt::Debug {
    /// The `type:name` this table was opened as.
    fn spec(&self) -> &str;

    /// The value for `key` (as the caller has it; the table folds case
    /// itself when its options say so), `Ok(None)` when not found.
    fn lookup(&self, key: &str) -> Result<Option<String>, Error>;

    /// Every entry, in the table's own order (`postmap -s`).
    fn entries(&self) -> Result<Vec<(String, String)>, Error> {
        Err(Error::Unsupported {
            spec: self.spec().to_string(),
        })
    }
}

/// An opened table and the warnings found while opening it, each in
/// Postfix's words (e.g. `regexp map /etc/x, line 3: ...: skipping this
/// rule`), for the caller to log.
#[derive(Debug)]
pub struct Opened {
    pub table: Box<dyn Table>,
    pub warnings: Vec<String>,
}

impl Opened {
    pub fn new(table: impl Table + 'static) -> Opened {
        Opened {
            table: Box::new(table),
            warnings: Vec::new(),
        }
    }
}
