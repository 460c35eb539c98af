//! # NAME
//! `postmap` — Postfix lookup table management.
//!
//! # SYNOPSIS
//! ```text
//! postmap [-NfinoprsuUvw] [-bhm] [-c config_dir] [-d key] [-q key]
//!         [file_type:]file_name ...
//! ```
//!
//! # DESCRIPTION
//! Builds, queries, lists and edits lookup tables with the options,
//! messages and exit statuses of Postfix 3.7's postmap.
//!
//! - Without `-d`, `-q` or `-s`, builds each table from its source file
//!   (`key whitespace value` lines; see [`postmap::source`]): `hash` and
//!   `btree` into `file.db`, `cdb` into `file.cdb`, `lmdb` into
//!   `file.lmdb`. A bare file name has type `$default_database_type`.
//!   The new file replaces the old one atomically (build beside, fsync,
//!   rename). Other types cannot be built ("does not support bulk-mode
//!   creation"); `fail:` fails at its first entry.
//! - `-i`: add the entries read from stdin to the table (created if
//!   missing). By default a key already present keeps its value with a
//!   `duplicate entry` warning; `-r` replaces silently, `-w` ignores
//!   silently.
//! - `-q key`: print the value of the first table (in argument order)
//!   that has `key`. `-q -`: for each stdin line, print `key<TAB>value`
//!   from the first table that has it. Any table type can be queried.
//! - `-b`, `-h` (with `-q -` only): stdin is a message; each body line
//!   (`-b`) or each header, continuation lines joined with newlines
//!   (`-h`), is a key. `-h` alone stops at the end of the headers. With
//!   `-m` (MIME), the headers of multipart parts and attached
//!   `message/rfc822` messages are header keys, not body keys, as
//!   header_checks and body_checks see them.
//! - `-d key`, `-d -`: delete the key(s) from each table.
//! - `-s`: list the first table as `key<TAB>value`, in stored order
//!   (insertion order for hash and cdb, key order for btree and lmdb).
//! - `-f`: do not fold keys to lower case (build and query).
//! - `-F`: when building, a value names files whose contents are stored
//!   base64-encoded; `-q` and `-s` decode values.
//! - `-N`, `-n` (terminating NUL in keys) change nothing: our hash and
//!   btree files are constant databases read the same either way, and
//!   lmdb keys always carry Postfix's NUL.
//! - `-p`: new tables get mode 0644 instead of the source's group and
//!   other read permissions.
//! - `-u`: no UTF-8 checks; `-U`: UTF-8 checks even with `-b`/`-h`. Checks
//!   happen only with `smtputf8_enable = yes`, as in Postfix; case folding
//!   is ASCII-only.
//! - `-v` is accepted and ignored.
//!
//! A large build shows progress when stderr is a terminal.
//! `proxy:type:name` is read directly (there is no proxymap service).
//!
//! # SECURITY
//! Not set-uid; it runs with the caller's privileges. Run by root on a
//! source file owned by another user, it switches its effective user and
//! group to the file's owner before parsing and writing, as Postfix does,
//! so the table belongs to that user and the parser never writes as root;
//! `-o` keeps root's privileges.
//!
//! # DIAGNOSTICS
//! Problems go to stderr as `postmap: warning: ...` or `postmap: fatal:
//! ...` (not to syslog). Exit status 0 on success, including a key found
//! by `-q` and a key deleted by `-d`; 1 when `-q` finds nothing, `-d`
//! deletes nothing, and on every fatal error. A fatal error discards
//! output not yet written, as Postfix's does.
//!
//! # CONFIGURATION PARAMETERS
//! - `default_database_type` (`hash`): the type of a bare file name.
//! - `smtputf8_enable` (`no` below compatibility level 1): UTF-8 checks.
//! - `myhostname` (the host name): postalias's `YP_MASTER_NAME` entry.
//! - `header_size_limit` (`102400`): how much of a header `-h` keeps.
//! - `mime_nesting_limit` (`100`): multipart levels `-m` follows.
//! - `mime_boundary_length_limit` (`2048`): boundary bytes `-m` compares.
//!
//! The configuration directory is `-c config_dir`, else `$MAIL_CONFIG`,
//! else `/etc/postfix`; its `main.cf` must exist.
//!
//! # FILES
//! `$config_directory/main.cf`; `file.db`, `file.cdb`, `file.lmdb`
//! beside each source `file`, written through a temporary file beside it.
//!
//! # SEE ALSO
//! postalias(1), newaliases(1), postconf(5), DATABASE_README.

use std::process::ExitCode;

use postmap::cli::{self as command, Program};

const PROGRAM: Program = Program {
    name: "postmap",
    aliases: false,
    usage: "usage: postmap [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] \
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
