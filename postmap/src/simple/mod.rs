//! Tables written in place rather than built by postmap: `static`,
//! `inline`, `fail`, `randmap`, `texthash` (a source file read at open
//! time), `unix` (the passwd and group databases), and the combinators
//! `unionmap` and `pipemap` that nest other tables. Each follows the Postfix 3.7 module of the same name
//! (`dict_static.c`, ...), including its error texts.

pub mod fail;
pub mod inline;
mod memory;
pub mod pipe;
pub mod random;
pub mod static_table;
pub mod texthash;
pub mod union;
pub mod unix;

use std::borrow::Cow;

use crate::table::Error;

/// The lookup key as a fixed-string table sees it: folded to lower case
/// when the table was opened with `fold` (Postfix `DICT_FLAG_FOLD_FIX`).
/// Folding is ASCII-only, as Postfix does with `smtputf8_enable = no`, and
/// the same function the indexed tables use, so every fixed-string table
/// agrees on what a key matches.
fn fold_key(key: &str, fold: bool) -> Cow<'_, str> {
    if fold {
        crate::source::fold(key)
    } else {
        Cow::Borrowed(key)
    }
}

/// An error of a table nested in a unionmap or pipemap, reported under
/// the outer table's name, as Postfix does (`table unionmap:{...}: query
/// error: ...`).
fn as_outer(err: Error, outer: &str) -> Error {
    match err {
        Error::Lookup { reason, .. } => Error::Lookup {
            spec: outer.to_string(),
            reason,
        },
        Error::Unsupported { .. } => Error::Unsupported {
            spec: outer.to_string(),
        },
        other @ Error::Open(_) => other,
    }
}

/// Replace a value by the base64 of the files it names (`postmap -F`,
/// Postfix `dict_file_to_b64`). The error is `open NAME: reason`.
fn value_from_files(value: &str) -> Result<String, String> {
    let mut out = Vec::new();
    crate::source::files_to_base64(value.as_bytes(), &mut out)?;
    // base64 output is ASCII.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_key_is_ascii_only_and_optional() {
        assert_eq!(fold_key("AbC", true), "abc");
        assert_eq!(fold_key("ÄB", true), "Äb");
        assert_eq!(fold_key("AbC", false), "AbC");
    }

    #[test]
    fn nested_errors_carry_the_outer_name() {
        let inner = Error::Lookup {
            spec: "fail:x".into(),
            reason: "query error: Application error".into(),
        };
        assert_eq!(
            as_outer(inner, "unionmap:{fail:x}").to_string(),
            "table unionmap:{fail:x}: query error: Application error"
        );
        let open = Error::Open("x".into());
        assert_eq!(as_outer(open.clone(), "y"), open);
    }

    #[test]
    fn missing_value_file_is_postfix_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("nope");
        let missing = missing.to_string_lossy();
        assert_eq!(
            value_from_files(&missing),
            Err(format!("open {missing}: No such file or directory"))
        );
    }
}
