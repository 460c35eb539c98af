//! # NAME
//! `newaliases` — rebuild the alias database.
//!
//! # SYNOPSIS
//! ```text
//! newaliases [-v] [-C config_file|config_dir] [-oA alias_database]
//! ```
//!
//! # DESCRIPTION
//! Postfix's `sendmail -bi`: runs `postalias $alias_database`, i.e.
//! rebuilds every table listed there (commas or white space between
//! them) from its source file. It replaces itself with postalias (the one
//! installed beside it, else `$command_directory/postalias`), so
//! postalias's messages and exit status are what the caller sees. An
//! empty `alias_database` does nothing.
//!
//! - `-C`: the configuration directory, or a file in it; passed on to
//!   postalias as `MAIL_CONFIG`.
//! - `-oA`: rebuild this database instead of `$alias_database`.
//! - `-v`: passed on to postalias.
//! - `-bi`, `-I`, and the other sendmail options that mean nothing here
//!   (`-B -F -L -N -O -R -V -X -e -f -h -p -r` with their argument,
//!   `-G -U -c -i -m -n -x`, `-o` other than `-oA`) are accepted.
//!
//! It is not the rest of sendmail(1): other `-b` modes, `-q` and `-t`
//! are refused.
//!
//! # SECURITY
//! Not set-uid: the caller's privileges, passed on to postalias (see
//! there for the switch to the source file's owner when run by root).
//!
//! # DIAGNOSTICS
//! `newaliases: fatal: ...` on stderr for its own errors (bad options,
//! arguments, an unreadable main.cf), with exit status 75 (EX_TEMPFAIL),
//! as Postfix's sendmail exits on every fatal error. Then postalias's
//! diagnostics and exit status (0, or 1 on a fatal error).
//!
//! # CONFIGURATION PARAMETERS
//! - `alias_database` (`hash:/etc/aliases`): the tables to rebuild.
//! - `command_directory` (`/usr/sbin`): where to find postalias when it is
//!   not installed beside newaliases.
//!
//! # FILES
//! `$config_directory/main.cf`; the alias sources and their tables.
//!
//! # SEE ALSO
//! postalias(1), sendmail(1), aliases(5).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const PROGRAM: &str = "newaliases";
/// The main.cf parameters read, as the header lists them.
#[cfg(test)]
const PARAMETERS: [&str; 2] = [ALIAS_DATABASE, COMMAND_DIRECTORY];
const ALIAS_DATABASE: &str = "alias_database";
const COMMAND_DIRECTORY: &str = "command_directory";
/// Postfix's sendmail ends every fatal error with EX_TEMPFAIL.
const EX_TEMPFAIL: u8 = 75;

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Opts {
    /// `-C`.
    config: Option<PathBuf>,
    /// `-oA`.
    database: Option<String>,
    verbose: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Error {
    /// getopt's complaint, then the usage line.
    Usage(String),
    Fatal(String),
}

/// Options that take an argument and mean nothing to newaliases.
const IGNORED_WITH_ARG: &str = "BFLNORVXefhpr";
/// Options without an argument that mean nothing to newaliases.
const IGNORED: &str = "GIUcimnx";

fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Opts, Error> {
    let mut opts = Opts::default();
    let mut parser = lexopt::Parser::from_args(args);
    parser.set_short_equals(false);
    while let Some(arg) = parser.next().map_err(|_| Error::Usage(String::new()))? {
        let c = match arg {
            lexopt::Arg::Short(c) => c,
            lexopt::Arg::Long(_) => return Err(Error::Usage("invalid option -- '-'".into())),
            lexopt::Arg::Value(_) => {
                return Err(Error::Fatal(
                    "alias initialization mode requires no recipient".into(),
                ));
            }
        };
        let mut value = || {
            parser
                .value()
                .map_err(|_| Error::Usage(format!("option requires an argument -- '{c}'")))
        };
        match c {
            'v' => opts.verbose += 1,
            'C' => opts.config = Some(PathBuf::from(value()?)),
            'o' => {
                let v = value()?.to_string_lossy().into_owned();
                if let Some(db) = v.strip_prefix('A') {
                    if db.is_empty() {
                        return Err(Error::Fatal("-oA requires pathname".into()));
                    }
                    opts.database = Some(db.to_string());
                }
            }
            'b' => {
                let mode = value()?;
                if mode != "i" {
                    return Err(Error::Fatal(format!(
                        "-b{} is not supported by newaliases",
                        mode.to_string_lossy()
                    )));
                }
            }
            't' => return Err(Error::Fatal("-t can be used only in delivery mode".into())),
            c if IGNORED_WITH_ARG.contains(c) => {
                value()?;
            }
            c if IGNORED.contains(c) => {}
            c => return Err(Error::Usage(format!("invalid option -- '{c}'"))),
        }
    }
    Ok(opts)
}

fn fatal(text: &str) -> ExitCode {
    eprintln!("{PROGRAM}: fatal: {text}");
    ExitCode::from(EX_TEMPFAIL)
}

/// The configuration directory of `-C dir` or `-C dir/main.cf`.
fn config_dir(given: &Path) -> PathBuf {
    if given.is_file() {
        given
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        given.to_path_buf()
    }
}

/// The postalias to run: beside this program, else in
/// `$command_directory`.
fn postalias_path(cfg: &conf::Config) -> PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name("postalias"))
        .filter(|p| p.is_file());
    beside.unwrap_or_else(|| {
        let dir = cfg.get(COMMAND_DIRECTORY).ok().flatten();
        Path::new(&dir.unwrap_or_else(|| "/usr/sbin".into())).join("postalias")
    })
}

fn main() -> ExitCode {
    let opts = match parse(std::env::args_os().skip(1)) {
        Ok(opts) => opts,
        Err(Error::Usage(complaint)) => {
            // Postfix's sendmail reads its options twice and complains twice.
            if !complaint.is_empty() {
                eprintln!("{PROGRAM}: {complaint}");
                eprintln!("{PROGRAM}: {complaint}");
            }
            return fatal(&format!("usage: {PROGRAM} [options]"));
        }
        Err(Error::Fatal(text)) => return fatal(&text),
    };
    let dir = match &opts.config {
        Some(given) => config_dir(given),
        None => conf::config::default_config_dir(),
    };
    let cfg = match conf::Config::load(&dir, &[]) {
        Ok(cfg) => cfg,
        Err(e) => return fatal(&e.to_string()),
    };
    let databases = match &opts.database {
        Some(db) => db.clone(),
        None => match cfg.get(ALIAS_DATABASE) {
            Ok(value) => value.unwrap_or_default(),
            Err(e) => return fatal(&e.to_string()),
        },
    };
    let tables: Vec<&str> = databases
        .split([',', ' ', '\t', '\r', '\n'])
        .filter(|t| !t.is_empty())
        .collect();
    if tables.is_empty() {
        return ExitCode::SUCCESS;
    }
    let path = postalias_path(&cfg);
    let mut cmd = Command::new(&path);
    cmd.arg0("postalias")
        .args(std::iter::repeat_n("-v", opts.verbose))
        .args(&tables);
    if opts.config.is_some() {
        cmd.env("MAIL_CONFIG", &dir);
    }
    let err = cmd.exec();
    fatal(&format!(
        "execvp {}: {}",
        path.display(),
        conf::io_reason(&err)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Opts, Error> {
        parse(list.iter().map(OsString::from))
    }

    #[test]
    fn sendmail_options_are_accepted_or_refused_as_postfix_does() {
        let o = args(&[
            "-v",
            "-v",
            "-C",
            "/etc/x",
            "-oAhash:/a,lmdb:/b",
            "-bi",
            "-I",
        ])
        .expect("parses");
        assert_eq!(o.verbose, 2);
        assert_eq!(o.config, Some(PathBuf::from("/etc/x")));
        assert_eq!(o.database.as_deref(), Some("hash:/a,lmdb:/b"));
        assert!(args(&["-oi", "-x", "-f", "me", "-FName"]).is_ok());
        assert_eq!(
            args(&["-Y"]),
            Err(Error::Usage("invalid option -- 'Y'".into()))
        );
        assert_eq!(
            args(&["-C"]),
            Err(Error::Usage("option requires an argument -- 'C'".into()))
        );
        assert_eq!(
            args(&["-oA"]),
            Err(Error::Fatal("-oA requires pathname".into()))
        );
        assert_eq!(
            args(&["root"]),
            Err(Error::Fatal(
                "alias initialization mode requires no recipient".into()
            ))
        );
        assert_eq!(
            args(&["-t"]),
            Err(Error::Fatal("-t can be used only in delivery mode".into()))
        );
    }

    #[test]
    fn dash_c_may_name_main_cf() {
        let dir = tempfile::tempdir().expect("tempdir");
        let main_cf = dir.path().join("main.cf");
        std::fs::write(&main_cf, "").expect("main.cf");
        assert_eq!(config_dir(&main_cf), dir.path());
        assert_eq!(config_dir(dir.path()), dir.path());
    }

    #[test]
    fn header_lists_the_parameters_read() {
        let mut read = PARAMETERS.to_vec();
        read.sort_unstable();
        assert_eq!(
            conf::param::documented_parameters(include_str!("main.rs")),
            read
        );
    }
}
