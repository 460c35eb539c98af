//! Command-line options of postcat, read as Postfix's getopt loop reads
//! `bc:dehoqrs:v`: clustered flags, values attached or separate, and
//! option processing stops at the first file name (POSIX order).

use std::ffi::OsString;
use std::path::PathBuf;

/// What to print, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// `-e`: envelope records and section markers.
    pub(crate) envelope: bool,
    /// `-h`: header lines.
    pub(crate) header: bool,
    /// `-b`: body lines (from the empty line after the header).
    pub(crate) body: bool,
    /// `-o`: each record's file offset.
    pub(crate) offset: bool,
    /// `-d`: each record's type as a decimal number.
    pub(crate) decimal: bool,
    /// `-r`: go on after the end record.
    pub(crate) raw: bool,
    /// `-v`, counted.
    pub(crate) verbose: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opts {
    pub(crate) flags: Flags,
    /// `-c dir`.
    pub(crate) config_dir: Option<PathBuf>,
    /// `-q`: the arguments are queue IDs.
    pub(crate) search_queue: bool,
    /// `-s offset`.
    pub(crate) start: u64,
    pub(crate) files: Vec<OsString>,
}

/// Why the command line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OptError {
    /// getopt's complaint, if any; then the usage line, fatally.
    Usage(Option<String>),
    /// A fatal error of its own (`bad offset: x`).
    Fatal(String),
}

impl Opts {
    pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Opts, OptError> {
        let mut opts = Opts {
            flags: Flags::default(),
            config_dir: None,
            search_queue: false,
            start: 0,
            files: Vec::new(),
        };
        let mut parser = lexopt::Parser::from_args(args);
        // getopt hands `-s=5` the value "=5".
        parser.set_short_equals(false);
        loop {
            match parser.next() {
                Ok(Some(lexopt::Arg::Short(c))) => opts.flag(c, &mut parser)?,
                Ok(Some(lexopt::Arg::Long(_))) => {
                    return Err(OptError::Usage(Some("invalid option -- '-'".into())));
                }
                Ok(Some(lexopt::Arg::Value(first))) => {
                    opts.files.push(first);
                    if let Ok(rest) = parser.raw_args() {
                        opts.files.extend(rest);
                    }
                    break;
                }
                Ok(None) => break,
                Err(_) => return Err(OptError::Usage(None)),
            }
        }
        let f = &mut opts.flags;
        if !(f.envelope || f.header || f.body) {
            (f.envelope, f.header, f.body) = (true, true, true);
        }
        Ok(opts)
    }

    fn flag(&mut self, c: char, parser: &mut lexopt::Parser) -> Result<(), OptError> {
        let mut value = || {
            parser
                .value()
                .map_err(|_| OptError::Usage(Some(format!("option requires an argument -- '{c}'"))))
        };
        match c {
            'b' => self.flags.body = true,
            'c' => self.config_dir = Some(PathBuf::from(value()?)),
            'd' => self.flags.decimal = true,
            'e' => self.flags.envelope = true,
            'h' => self.flags.header = true,
            'o' => self.flags.offset = true,
            'q' => self.search_queue = true,
            'r' => self.flags.raw = true,
            's' => {
                let v = value()?.to_string_lossy().into_owned();
                // Postfix: alldig(), then atol().
                let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
                self.start = ok
                    .then(|| v.parse().ok())
                    .flatten()
                    .ok_or(OptError::Fatal(format!("bad offset: {v}")))?;
            }
            'v' => self.flags.verbose += 1,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Opts, OptError> {
        Opts::parse(args.iter().map(OsString::from))
    }

    #[test]
    fn default_is_everything() {
        let o = parse(&["f"]).expect("parses");
        assert!(o.flags.envelope && o.flags.header && o.flags.body);
        assert_eq!(o.files, ["f"]);
        let o = parse(&["-bh", "f"]).expect("parses");
        assert!(!o.flags.envelope && o.flags.header && o.flags.body);
    }

    #[test]
    fn clusters_values_and_the_first_file() {
        let o = parse(&["-qoc/etc/x", "-s", "12", "ID", "-b"]).expect("parses");
        assert!(o.search_queue && o.flags.offset);
        assert_eq!(o.config_dir, Some(PathBuf::from("/etc/x")));
        assert_eq!(o.start, 12);
        assert_eq!(o.files, ["ID", "-b"]);
        let o = parse(&["-vvdr", "--", "-x"]).expect("parses");
        assert_eq!(
            (o.flags.verbose, o.flags.decimal, o.flags.raw),
            (2, true, true)
        );
        assert_eq!(o.files, ["-x"]);
    }

    #[test]
    fn errors_in_getopt_words() {
        let usage = |s: &str| Err(OptError::Usage(Some(s.into())));
        assert_eq!(parse(&["-x"]), usage("invalid option -- 'x'"));
        assert_eq!(parse(&["--help"]), usage("invalid option -- '-'"));
        assert_eq!(parse(&["-c"]), usage("option requires an argument -- 'c'"));
        assert_eq!(
            parse(&["-s", "abc"]),
            Err(OptError::Fatal("bad offset: abc".into()))
        );
        assert_eq!(
            parse(&["-s", ""]),
            Err(OptError::Fatal("bad offset: ".into()))
        );
        assert_eq!(
            parse(&["-s", "-1"]),
            Err(OptError::Fatal("bad offset: -1".into()))
        );
    }
}
