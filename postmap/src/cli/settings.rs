//! The main.cf parameters postmap and postalias read, loaded once from
//! the configuration directory (`-c`, else `$MAIL_CONFIG`, else
//! /etc/postfix). A missing main.cf is fatal, as in Postfix.

use std::path::Path;

use super::diag::{Fatal, fatal};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// `default_database_type`: the type of a bare file name.
    pub(crate) default_type: String,
    /// `smtputf8_enable`: Postfix checks UTF-8 only then.
    pub(crate) smtputf8: bool,
    /// `myhostname`: postalias's `YP_MASTER_NAME`.
    pub(crate) myhostname: String,
    /// `header_size_limit`: how much of one header `-h` keeps.
    pub(crate) header_limit: usize,
    /// `mime_nesting_limit`: multipart boundaries `-m` follows.
    pub(crate) mime_depth: usize,
    /// `mime_boundary_length_limit`: how much of a boundary `-m` keeps.
    pub(crate) mime_boundary: usize,
}

/// The parameters read, which the program headers must list.
pub const PARAMETERS: &[&str] = &[
    "default_database_type",
    "smtputf8_enable",
    "myhostname",
    "header_size_limit",
    "mime_nesting_limit",
    "mime_boundary_length_limit",
];

impl Settings {
    pub(crate) fn load(dir: &Path) -> Result<Settings, Fatal> {
        let cfg = conf::Config::load(dir, &[]).map_err(fatal)?;
        let text = |name: &str| cfg.get(name).map(Option::unwrap_or_default);
        let size = |name: &str| {
            let n = cfg.get_int(name).map_err(fatal)?;
            Ok::<usize, Fatal>(usize::try_from(n).unwrap_or(0))
        };
        Ok(Settings {
            default_type: text("default_database_type").map_err(fatal)?,
            smtputf8: cfg.get_bool("smtputf8_enable").map_err(fatal)?,
            myhostname: text("myhostname").map_err(fatal)?,
            header_limit: size("header_size_limit")?,
            mime_depth: size("mime_nesting_limit")?,
            mime_boundary: size("mime_boundary_length_limit")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_main_cf_gives_compatibility_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("main.cf"), "").expect("main.cf");
        let s = Settings::load(dir.path()).expect("loads");
        assert_eq!(s.default_type, "hash");
        assert!(!s.smtputf8);
        assert_eq!(s.header_limit, 102400);
        std::fs::write(
            dir.path().join("main.cf"),
            "default_database_type = lmdb\nsmtputf8_enable = yes\n",
        )
        .expect("main.cf");
        let s = Settings::load(dir.path()).expect("loads");
        assert_eq!(s.default_type, "lmdb");
        assert!(s.smtputf8);
    }

    #[test]
    fn missing_main_cf_is_fatal() {
        let err = Settings::load(Path::new("/nonexistent/pf")).map(|_| ());
        assert_eq!(
            err,
            Err(fatal(
                "open /nonexistent/pf/main.cf: No such file or directory"
            ))
        );
    }
}
