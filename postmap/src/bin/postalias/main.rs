//! # NAME
//! `postalias` — Postfix alias database maintenance.
//!
//! # SYNOPSIS
//! ```text
//! postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
//!           [file_type:]file_name ...
//! ```
//!
//! # DESCRIPTION
//! postmap(1) for the aliases(5) format (`name: value, value, ...`, see
//! [`postmap::aliases`]), with the options, messages and exit statuses of
//! Postfix 3.7's postalias. Names are stored unquoted and folded to lower
//! case (not with `-f`); values are stored re-quoted, as local(8) parses
//! them again.
//!
//! - Without `-d`, `-q` or `-s`, builds each table from its source file
//!   (`hash`/`btree`: `file.db`, `cdb`: `file.cdb`, `lmdb`: `file.lmdb`;
//!   a bare name has type `$default_database_type`), atomically. After
//!   the aliases it stores the Sendmail "database complete" entry `@` →
//!   `@` and, as Debian's NIS-enabled postalias does, `YP_LAST_MODIFIED`
//!   (seconds since the epoch, ten digits) and `YP_MASTER_NAME`
//!   (`$myhostname`), replacing earlier ones silently.
//! - `-i`: add aliases from stdin (then the same signatures).
//! - `-q key`: print the value of the first table that has `key`;
//!   `-q -`: print `key:<TAB>value` for each stdin line found.
//! - `-d key`, `-d -`: delete from each table. `-s`: list the first
//!   table as `key:<TAB>value`.
//! - `-r`/`-w`: replace/ignore duplicate names silently (default: keep
//!   the first and warn).
//! - `-p`: mode 0644 instead of the source's read permissions. `-u`: no
//!   UTF-8 checks (there are some only with `smtputf8_enable = yes`).
//! - `-N`, `-n` change nothing (see postmap); `-v` is ignored.
//!
//! # SECURITY
//! As postmap: the caller's privileges; root building from a file owned
//! by another user switches its effective ids to that owner first, unless
//! `-o`.
//!
//! # DIAGNOSTICS
//! `postalias: warning: ...` and `postalias: fatal: ...` on stderr. Exit
//! status 0 on success (a key found, a key deleted), 1 when nothing is
//! found or deleted and on every fatal error.
//!
//! # CONFIGURATION PARAMETERS
//! - `default_database_type` (`hash`): the type of a bare file name.
//! - `smtputf8_enable` (`no` below compatibility level 1): UTF-8 checks.
//! - `myhostname` (the host name): the `YP_MASTER_NAME` entry.
//! - `header_size_limit` (`102400`): read, unused (postmap's `-h`).
//! - `mime_nesting_limit` (`100`): read, unused (postmap's `-m`).
//! - `mime_boundary_length_limit` (`2048`): read, unused (postmap's `-m`).
//!
//! The configuration directory is `-c config_dir`, else `$MAIL_CONFIG`,
//! else `/etc/postfix`; its `main.cf` must exist.
//!
//! # FILES
//! `$config_directory/main.cf`; `file.db`, `file.cdb`, `file.lmdb`
//! beside each source `file`.
//!
//! # SEE ALSO
//! postmap(1), newaliases(1), aliases(5), local(8).

use std::process::ExitCode;

use postmap::cli::{self as command, Program};

const PROGRAM: Program = Program {
    name: "postalias",
    aliases: true,
    usage: "usage: postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] \
            [map_type:]file...",
};

fn main() -> ExitCode {
    command::main(&PROGRAM, std::env::args_os())
}

#[cfg(test)]
mod tests {
    /// The CONFIGURATION PARAMETERS section lists exactly the parameters
    /// the program reads.
    #[test]
    fn header_lists_the_parameters_read() {
        let mut read = postmap::cli::settings::PARAMETERS.to_vec();
        read.sort_unstable();
        assert_eq!(
            conf::param::documented_parameters(include_str!("main.rs")),
            read
        );
    }
}
