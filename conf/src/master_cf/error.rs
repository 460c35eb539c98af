//! Errors and warnings, worded exactly as Postfix 3.7 words them, so that
//! postconf can print them unchanged after `postconf: fatal: ` or
//! `postconf: warning: `.

use std::fmt;
use std::io;

use super::Field;

/// The option list Postfix names in its edit-mode line errors.
const EDIT_OPTIONS: &str = "-Me, -Fe, -Pe, -X, or -#";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("open {path}: {}", crate::io_reason(.source))]
    Open { path: String, source: io::Error },
    /// Fewer than eight words in an entry (location not yet known).
    #[error("bad field count")]
    FieldCount,
    #[error("file {path}: line {line}: bad field count")]
    FieldCountAt { path: String, line: usize },
    /// A column with an invalid value. Postfix names the entry text but
    /// not the file or line; [`Error::location`] has them when known.
    #[error("invalid {} field \"{value}\" in \"{text}\"", .field.name())]
    InvalidField {
        field: Field,
        value: String,
        text: String,
        at: Option<(String, usize)>,
    },
    /// An edit request whose new entry does not parse.
    #[error("{detail}: \"{raw}\"")]
    Request { detail: String, raw: String },
    #[error("file {path}: line {line}: specify service name and type on the same line")]
    NameAndType { path: String, line: usize },
    #[error(
        "file {path}: line {line}: service name syntax \"{name}\" is unsupported with {EDIT_OPTIONS}"
    )]
    NameSyntax {
        path: String,
        line: usize,
        name: String,
    },
    #[error(
        "file {path}: line {line}: service type syntax \"{kind}\" is unsupported with {EDIT_OPTIONS}"
    )]
    TypeSyntax {
        path: String,
        line: usize,
        kind: String,
    },
    #[error("open {path}.tmp: {}", crate::io_reason(.source))]
    TempOpen { path: String, source: io::Error },
    #[error("open {path} for reading: {}", crate::io_reason(.source))]
    ReadOpen { path: String, source: io::Error },
    #[error("read {path}: {}", crate::io_reason(.source))]
    Read { path: String, source: io::Error },
    #[error("close {path}.tmp: {}", crate::io_reason(.source))]
    Close { path: String, source: io::Error },
}

impl Error {
    /// File and line of the entry the error is about, when known.
    pub fn location(&self) -> Option<(&str, usize)> {
        match self {
            Error::FieldCountAt { path, line }
            | Error::NameAndType { path, line }
            | Error::NameSyntax { path, line, .. }
            | Error::TypeSyntax { path, line, .. } => Some((path, *line)),
            Error::InvalidField { at, .. } => at.as_ref().map(|(p, l)| (p.as_str(), *l)),
            _ => None,
        }
    }

    /// The message with `file F: line N: ` in front when Postfix's own
    /// text lacks it; what master(8) logs.
    pub fn with_location(&self) -> String {
        match (self, self.location()) {
            (Error::InvalidField { .. }, Some((path, line))) => {
                format!("file {path}: line {line}: {self}")
            }
            _ => self.to_string(),
        }
    }

    /// Attach the file and line to an [`Error::InvalidField`].
    pub(super) fn located(self, path: &str, line: usize) -> Error {
        match self {
            Error::InvalidField {
                field, value, text, ..
            } => Error::InvalidField {
                field,
                value,
                text,
                at: Some((path.to_string(), line)),
            },
            other => other,
        }
    }
}

/// Problems that do not stop the parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// Continuation text with nothing to continue; it is ignored.
    LeadingWhitespace { path: String, text: String },
    /// A `{ ... }` group with a missing `}` or text after it.
    Braces { detail: String },
    /// `-o { text }` where the text is not `name = value`.
    NameValue { detail: &'static str, text: String },
    /// An edit request that matched no entry.
    Unmatched { raw: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LeadingWhitespace { path, text } => {
                // Postfix shows the first 30 bytes ("%.30s") of the text.
                let bytes = super::bytes_of(text);
                let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(30)]);
                let more = if bytes.len() > 30 { "..." } else { "" };
                write!(
                    f,
                    "{path}: logical line must not start with whitespace: \"{shown}{more}\""
                )
            }
            Warning::Braces { detail } => write!(f, "{}: {detail}", super::FILE_NAME),
            Warning::NameValue { detail, text } => {
                write!(f, "{}: {detail}: \"{text}\"", super::FILE_NAME)
            }
            Warning::Unmatched { raw } => write!(f, "unmatched service_name/type: \"{raw}\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_field_text_matches_postfix() {
        let e = Error::InvalidField {
            field: Field::ProcessLimit,
            value: "X".into(),
            text: "bar inet - n n - X other".into(),
            at: Some(("./master.cf".into(), 2)),
        };
        assert_eq!(
            e.to_string(),
            "invalid process_limit field \"X\" in \"bar inet - n n - X other\""
        );
        assert_eq!(
            e.with_location(),
            "file ./master.cf: line 2: invalid process_limit field \"X\" in \"bar inet - n n - X other\""
        );
        assert_eq!(e.location(), Some(("./master.cf", 2)));
    }

    #[test]
    fn open_error_uses_c_library_text() {
        let e = Error::Open {
            path: "./master.cf".into(),
            source: io::Error::from_raw_os_error(2),
        };
        assert_eq!(e.to_string(), "open ./master.cf: No such file or directory");
    }

    #[test]
    fn long_leading_whitespace_text_is_cut_at_30_bytes() {
        let w = Warning::LeadingWhitespace {
            path: "./master.cf".into(),
            text: format!(" {}", "x".repeat(40)),
        };
        assert_eq!(
            w.to_string(),
            format!(
                "./master.cf: logical line must not start with whitespace: \" {}...\"",
                "x".repeat(29)
            )
        );
    }

    #[test]
    fn edit_line_errors() {
        let e = Error::NameSyntax {
            path: "./master.cf".into(),
            line: 4,
            name: "x=y".into(),
        };
        assert_eq!(
            e.to_string(),
            "file ./master.cf: line 4: service name syntax \"x=y\" is unsupported with -Me, -Fe, -Pe, -X, or -#"
        );
    }
}
