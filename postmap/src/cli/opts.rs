//! Command-line options of postmap(1) and postalias(1), read the way
//! their getopt loops read them: clustered flags (`-fq ABC`, `-iF`),
//! option processing stops at the first non-option (Linux builds of
//! Postfix ask glibc for POSIX order), and the mode conflicts are
//! reported as soon as the second mode flag is seen.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use crate::source::Duplicates;

use super::Program;
use super::diag::{Fatal, fatal};

/// What the command does with the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Build each table from its source file, or with `-i` from stdin.
    Build,
    /// `-q key`; `-q -` reads keys from stdin.
    Query(Vec<u8>),
    /// `-d key`; `-d -` reads keys from stdin.
    Delete(Vec<u8>),
    /// `-s`: list the first table.
    Dump,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opts {
    /// `-c dir`.
    pub(crate) config_dir: Option<PathBuf>,
    pub(crate) mode: Mode,
    /// `-i`: add entries from stdin instead of rebuilding.
    pub(crate) incremental: bool,
    /// Fold keys to lower case (not with `-f`).
    pub(crate) fold: bool,
    /// `-F`: values are file names (build) or base64 (query, dump).
    pub(crate) rhs_is_file: bool,
    /// `-r` / `-w`.
    pub(crate) dup: Duplicates,
    /// Build as the owner of the source file when run by root (not `-o`).
    pub(crate) as_owner: bool,
    /// Take group/other read permissions from the source (not `-p`).
    pub(crate) save_perm: bool,
    /// UTF-8 checks when `smtputf8_enable = yes` (not `-u`).
    pub(crate) utf8_request: bool,
    /// `-U`: UTF-8 checks even with `-b` or `-h`.
    pub(crate) force_utf8: bool,
    /// `-h`, `-b`, `-m`: stdin of `-q -` is a message.
    pub(crate) header_keys: bool,
    pub(crate) body_keys: bool,
    pub(crate) mime: bool,
    /// `-v`, counted; our tables have nothing verbose to say.
    pub(crate) verbose: u32,
    /// `[type:]name` arguments.
    pub(crate) maps: Vec<OsString>,
}

/// Why the options were not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OptError {
    /// getopt's complaint (`invalid option -- 'x'`), if any, then the
    /// usage line as a fatal error.
    Usage(Option<String>),
    Fatal(Fatal),
}

impl Opts {
    fn new() -> Opts {
        Opts {
            config_dir: None,
            mode: Mode::Build,
            incremental: false,
            fold: true,
            rhs_is_file: false,
            dup: Duplicates::Warn,
            as_owner: true,
            save_perm: true,
            utf8_request: true,
            force_utf8: false,
            header_keys: false,
            body_keys: false,
            mime: false,
            verbose: 0,
            maps: Vec::new(),
        }
    }

    /// Parse the arguments after the program name.
    pub(crate) fn parse(
        program: &Program,
        args: impl IntoIterator<Item = OsString>,
    ) -> Result<Opts, OptError> {
        let mut opts = Opts::new();
        let mut parser = lexopt::Parser::from_args(args);
        // getopt hands `-q=x` the value "=x".
        parser.set_short_equals(false);
        let mut sequence = false;
        loop {
            match parser.next() {
                Ok(Some(lexopt::Arg::Short(c))) => {
                    opts.flag(program, c, &mut parser, &mut sequence)?;
                }
                // Postfix's getopt knows no long options.
                Ok(Some(lexopt::Arg::Long(_))) => {
                    return Err(OptError::Usage(Some("invalid option -- '-'".into())));
                }
                Ok(Some(lexopt::Arg::Value(first))) => {
                    opts.maps.push(first);
                    if let Ok(rest) = parser.raw_args() {
                        opts.maps.extend(rest);
                    }
                    break;
                }
                Ok(None) => break,
                Err(_) => return Err(OptError::Usage(None)),
            }
        }
        if sequence && opts.mode == Mode::Build {
            opts.mode = Mode::Dump;
        }
        Ok(opts)
    }

    fn flag(
        &mut self,
        program: &Program,
        c: char,
        parser: &mut lexopt::Parser,
        sequence: &mut bool,
    ) -> Result<(), OptError> {
        let mut value = || match parser.value() {
            Ok(v) => Ok(v),
            Err(_) => Err(OptError::Usage(Some(format!(
                "option requires an argument -- '{c}'"
            )))),
        };
        let one_mode = |mode: &Mode, sequence: bool| {
            if sequence || *mode != Mode::Build {
                return Err(OptError::Fatal(fatal("specify only one of -s -q or -d")));
            }
            Ok(())
        };
        match c {
            'N' | 'n' => {}
            'c' => self.config_dir = Some(PathBuf::from(value()?)),
            'd' => {
                one_mode(&self.mode, *sequence)?;
                self.mode = Mode::Delete(value()?.into_vec());
            }
            'f' => self.fold = false,
            'i' => self.incremental = true,
            'o' => self.as_owner = false,
            'p' => self.save_perm = false,
            'q' => {
                one_mode(&self.mode, *sequence)?;
                self.mode = Mode::Query(value()?.into_vec());
            }
            'r' => self.dup = Duplicates::Replace,
            's' => {
                if self.mode != Mode::Build {
                    return Err(OptError::Fatal(fatal("specify only one of -s or -q or -d")));
                }
                *sequence = true;
            }
            'u' => self.utf8_request = false,
            'v' => self.verbose += 1,
            'w' => self.dup = Duplicates::Ignore,
            'b' | 'F' | 'h' | 'm' | 'U' if !program.aliases => match c {
                'b' => self.body_keys = true,
                'F' => self.rhs_is_file = true,
                'h' => self.header_keys = true,
                'm' => self.mime = true,
                _ => self.force_utf8 = true,
            },
            _ => {
                let shown = if c == char::REPLACEMENT_CHARACTER {
                    '?'
                } else {
                    c
                };
                return Err(OptError::Usage(Some(format!(
                    "invalid option -- '{shown}'"
                ))));
            }
        }
        Ok(())
    }

    /// `-b`, `-h` or `-m` was given.
    pub(crate) fn message_keys(&self) -> bool {
        self.header_keys || self.body_keys || self.mime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTMAP: Program = Program {
        name: "postmap",
        aliases: false,
        usage: "",
    };
    const POSTALIAS: Program = Program {
        name: "postalias",
        aliases: true,
        usage: "",
    };

    fn parse(program: &Program, args: &[&str]) -> Result<Opts, OptError> {
        Opts::parse(program, args.iter().map(OsString::from))
    }

    fn usage(complaint: &str) -> Result<Opts, OptError> {
        Err(OptError::Usage(Some(complaint.into())))
    }

    fn conflict(text: &str) -> Result<Opts, OptError> {
        Err(OptError::Fatal(fatal(text)))
    }

    #[test]
    fn clusters_and_attached_values() {
        let o = parse(&POSTMAP, &["-fqABC", "map.in"]).expect("parses");
        assert!(!o.fold);
        assert_eq!(o.mode, Mode::Query(b"ABC".to_vec()));
        let o = parse(&POSTMAP, &["-iF", "-c", "/etc/x", "m"]).expect("parses");
        assert!(o.incremental && o.rhs_is_file);
        assert_eq!(o.config_dir, Some(PathBuf::from("/etc/x")));
        let o = parse(&POSTMAP, &["-q=x", "m"]).expect("parses");
        assert_eq!(o.mode, Mode::Query(b"=x".to_vec()));
        let o = parse(&POSTMAP, &["-q", "-", "m"]).expect("parses");
        assert_eq!(o.mode, Mode::Query(b"-".to_vec()));
    }

    #[test]
    fn options_stop_at_the_first_file() {
        let o = parse(&POSTMAP, &["map.in", "-q", "x"]).expect("parses");
        assert_eq!(o.mode, Mode::Build);
        assert_eq!(o.maps, ["map.in", "-q", "x"]);
        let o = parse(&POSTMAP, &["-s", "--", "-x"]).expect("parses");
        assert_eq!(o.mode, Mode::Dump);
        assert_eq!(o.maps, ["-x"]);
    }

    #[test]
    fn errors_in_getopt_words() {
        assert_eq!(parse(&POSTMAP, &["-x"]), usage("invalid option -- 'x'"));
        assert_eq!(parse(&POSTMAP, &["--foo"]), usage("invalid option -- '-'"));
        assert_eq!(
            parse(&POSTMAP, &["-q"]),
            usage("option requires an argument -- 'q'")
        );
        assert_eq!(
            parse(&POSTALIAS, &["-F", "x"]),
            usage("invalid option -- 'F'")
        );
        assert_eq!(
            parse(&POSTMAP, &["-s", "-q", "x"]),
            conflict("specify only one of -s -q or -d")
        );
        assert_eq!(
            parse(&POSTMAP, &["-q", "x", "-s"]),
            conflict("specify only one of -s or -q or -d")
        );
        assert_eq!(
            parse(&POSTMAP, &["-d", "x", "-q", "y"]),
            conflict("specify only one of -s -q or -d")
        );
    }

    #[test]
    fn flags_set_their_fields() {
        let o = parse(&POSTMAP, &["-NnoprsuUvvwbhm", "m"]).expect("parses");
        assert!(!o.as_owner && !o.save_perm && !o.utf8_request && o.force_utf8);
        assert_eq!(o.dup, Duplicates::Ignore);
        assert_eq!(o.verbose, 2);
        assert!(o.header_keys && o.body_keys && o.mime && o.message_keys());
        assert_eq!(o.mode, Mode::Dump);
        let o = parse(&POSTALIAS, &["-r", "m"]).expect("parses");
        assert_eq!(o.dup, Duplicates::Replace);
    }
}
