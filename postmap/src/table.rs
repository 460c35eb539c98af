//! The one interface every daemon reads tables through.
//!
//! A [`Table`] answers `lookup(key)` with a value, "not found", or an
//! error (Postfix's `dict->error`: the table could not answer, and the
//! caller must defer rather than decide). Tables are opened by
//! [`crate::open`] from a `type:name` specification; opening may produce
//! warnings (skipped bad lines in a regexp table, duplicate keys) that the
//! caller logs, and never stops at the first bad line of a pattern table.
//!
//! Keys arrive from the network as bytes. With [`OpenOptions::utf8_check`]
//! [`lookup_bytes`], [`check_key`] and [`check_update`] apply Postfix's
//! `dict_utf8` policy to them before a table sees them.

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
    /// `utf8_request`): source lines when a table is built or read, and
    /// keys and values given to [`lookup_bytes`], [`check_key`] and
    /// [`check_update`]. When off, bytes are passed through.
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

/// Why Postfix's UTF-8 check refuses a string (`dict_utf8_check`).
const NOT_UTF8: &str = "malformed UTF-8 or invalid codepoint";

/// `bytes` as text if Postfix's `dict_utf8_check` accepts them: ASCII, or
/// valid UTF-8 without surrogates or code points past U+10FFFF. That is
/// exactly what `str::from_utf8` accepts, the same test the source
/// parser applies to every line it reads (`crate::source::parse`).
pub fn utf8_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// `bytes` for a warning: the bytes that are not UTF-8 become `?`, one per
/// byte, as Postfix's `printable()` shows them; the valid rest is left to
/// the caller's logger (which makes control characters printable).
fn shown(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

/// The name Postfix's warnings give table `spec`: `type:name`, where a
/// Berkeley DB table's name ends in `.db` (`dict->name` of dict_db.c).
fn dict_label(spec: &str) -> String {
    match spec.split_once(':') {
        Some((kind @ ("hash" | "btree"), name)) => format!("{kind}:{name}.db"),
        _ => spec.to_string(),
    }
}

/// Check a key before a lookup, update or delete of table `spec` under
/// Postfix's `dict_utf8` policy: the key as text, or the warning to log
/// when it is not UTF-8. Postfix then skips the request and reports
/// success: a lookup finds nothing, an update or delete "succeeds".
pub fn check_key<'a>(spec: &str, key: &'a [u8]) -> Result<&'a str, String> {
    utf8_text(key).ok_or_else(|| {
        format!(
            "{}: non-UTF-8 key \"{}\": {NOT_UTF8}",
            dict_label(spec),
            shown(key)
        )
    })
}

/// Check an update (`put key value`) of table `spec` under Postfix's
/// `dict_utf8` policy: key and value as text, or the warning to log when
/// either is not UTF-8 (the update is then skipped, reporting success).
pub fn check_update<'a>(
    spec: &str,
    key: &'a [u8],
    value: &'a [u8],
) -> Result<(&'a str, &'a str), String> {
    let key = check_key(spec, key)?;
    let value = utf8_text(value).ok_or_else(|| {
        format!(
            "{}: key \"{key}\": non-UTF-8 value \"{}\": {NOT_UTF8}",
            dict_label(spec),
            shown(value)
        )
    })?;
    Ok((key, value))
}

/// The outcome of [`lookup_bytes`]: the table's answer, and the warning
/// to log when the UTF-8 check refused the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub answer: Result<Option<String>, Error>,
    pub warning: Option<String>,
}

/// Look up a key received as bytes. With `utf8_check` (Postfix's
/// `utf8_request`), a key that is not UTF-8 is not found, with the
/// warning Postfix's `dict_utf8` wrapper logs. Without it such a key is
/// not found either, silently: our tables answer text keys, and no text
/// key equals it. Values need no check on the way out: every table
/// returns text.
pub fn lookup_bytes(table: &dyn Table, key: &[u8], utf8_check: bool) -> Lookup {
    match check_key(table.spec(), key) {
        Ok(key) => Lookup {
            answer: table.lookup(key),
            warning: None,
        },
        Err(warning) => Lookup {
            answer: Ok(None),
            warning: utf8_check.then_some(warning),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Echo;

    impl Table for Echo {
        fn spec(&self) -> &str {
            "internal:whatever"
        }
        fn lookup(&self, key: &str) -> Result<Option<String>, Error> {
            Ok(Some(key.to_uppercase()))
        }
    }

    #[test]
    fn text_is_ascii_or_valid_utf8() {
        assert_eq!(utf8_text(b"abc"), Some("abc"));
        assert_eq!(utf8_text("Δη".as_bytes()), Some("Δη"));
        for bad in [
            &b"\x80"[..],
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
        ] {
            assert_eq!(utf8_text(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn refused_keys_and_values_warn_as_postfix() {
        assert_eq!(
            check_key("internal:whatever", b"\x80\x80\x80"),
            Err("internal:whatever: non-UTF-8 key \"???\": \
                 malformed UTF-8 or invalid codepoint"
                .into())
        );
        assert_eq!(
            check_update("internal:whatever", b"xxx", b"\x80\x80\x80"),
            Err("internal:whatever: key \"xxx\": non-UTF-8 value \"???\": \
                 malformed UTF-8 or invalid codepoint"
                .into())
        );
        assert_eq!(check_update("x:y", b"k", "ü".as_bytes()), Ok(("k", "ü")));
        let warning = check_key("hash:/etc/map", b"\xc3\xa9\xc2\x80\x80");
        assert_eq!(
            warning,
            Err("hash:/etc/map.db: non-UTF-8 key \"é\u{80}?\": \
                 malformed UTF-8 or invalid codepoint"
                .into())
        );
    }

    #[test]
    fn byte_lookups_follow_the_utf8_policy() {
        let found = lookup_bytes(&Echo, b"ab", true);
        assert_eq!(found.answer, Ok(Some("AB".into())));
        assert_eq!(found.warning, None);
        let refused = lookup_bytes(&Echo, b"a\xff", true);
        assert_eq!(refused.answer, Ok(None));
        assert!(
            refused
                .warning
                .is_some_and(|w| w.contains("non-UTF-8 key \"a?\""))
        );
        let unchecked = lookup_bytes(&Echo, b"a\xff", false);
        assert_eq!((unchecked.answer, unchecked.warning), (Ok(None), None));
    }
}
