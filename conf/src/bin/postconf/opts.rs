//! Command-line options of postconf(1), parsed the way Postfix's getopt
//! loop reads them: clustered flags (`-nc .`, `-Mfc.`, `-M#c.`) included.

use std::ffi::OsString;
use std::path::PathBuf;

/// What postconf is asked to show or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `main.cf` parameters (the default, `-p`).
    Main,
    /// `-M`: master.cf service entries.
    Master,
    /// `-F`: master.cf service fields.
    Fields,
    /// `-P`: master.cf `-o` parameter overrides.
    Params,
    /// `-m`: supported lookup table types.
    TableTypes,
    /// `-l`: mailbox lock methods.
    LockTypes,
    /// `-a`: server SASL plug-in types.
    SaslServer,
    /// `-A`: client SASL plug-in types.
    SaslClient,
}

/// How postconf changes a file instead of printing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    /// `-e` (or implied by `name=value` arguments): set values.
    Set,
    /// `-X`: remove entries.
    Remove,
    /// `-#`: comment entries out.
    CommentOut,
}

/// Parameter name classes selected with `-C`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Classes {
    pub(crate) builtin: bool,
    pub(crate) service: bool,
    pub(crate) user: bool,
}

impl Classes {
    pub(crate) const DEFAULT: Classes = Classes {
        builtin: true,
        service: true,
        user: true,
    };
}

#[derive(Debug, Clone)]
pub(crate) struct Opts {
    /// `-c dir`, else `$MAIL_CONFIG`, else the built-in default.
    pub(crate) config_dir: PathBuf,
    pub(crate) mode: Mode,
    pub(crate) edit: Option<Edit>,
    /// `-d`: built-in defaults instead of main.cf values.
    pub(crate) defaults: bool,
    /// `-n`: only what main.cf (or master.cf) sets explicitly.
    pub(crate) explicit_only: bool,
    /// `-h`: values without `name = `.
    pub(crate) hide_names: bool,
    /// `-H`: names without values.
    pub(crate) names_only: bool,
    /// `-x`: expand `$name` in printed values.
    pub(crate) expand: bool,
    /// `-f`: fold long lines for humans.
    pub(crate) fold: bool,
    /// `-o name=value`: override for this command only.
    pub(crate) overrides: Vec<(String, String)>,
    /// `-C`.
    pub(crate) classes: Classes,
    /// `-t [file]` / `-b [file]`: bounce templates, raw or expanded.
    pub(crate) templates: Option<Templates>,
    /// Remaining arguments: names, `name=value`, `service/type[/field]`.
    pub(crate) args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Templates {
    Raw,
    Expanded,
}

/// Option bits, named and ordered as Postfix's `pcf_compat_names`, so
/// that conflicts are reported with the same words.
const FLAG_NAMES: &[(char, u32)] = &[
    ('a', 1 << 0),
    ('A', 1 << 1),
    ('b', 1 << 2),
    ('C', 1 << 3),
    ('d', 1 << 4),
    ('e', 1 << 5),
    ('f', 1 << 6),
    ('F', 1 << 7),
    ('h', 1 << 8),
    ('H', 1 << 9),
    ('l', 1 << 10),
    ('m', 1 << 11),
    ('M', 1 << 12),
    ('n', 1 << 13),
    ('o', 1 << 14),
    ('p', 1 << 15),
    ('P', 1 << 16),
    ('t', 1 << 17),
    ('T', 1 << 18),
    ('x', 1 << 19),
    ('X', 1 << 20),
    ('#', 1 << 21),
];

const fn bits(letters: &[u8]) -> u32 {
    let mut mask = 0;
    let mut i = 0;
    while i < letters.len() {
        let mut j = 0;
        while j < FLAG_NAMES.len() {
            if FLAG_NAMES[j].0 as u8 == letters[i] {
                mask |= FLAG_NAMES[j].1;
            }
            j += 1;
        }
        i += 1;
    }
    mask
}

/// Sets of options of which at most one may be given.
const EXCLUSIVE: &[u32] = &[
    bits(b"aAblmtpMFPT"),
    bits(b"den#X"),
    bits(b"fe#X"),
    bits(b"xe#X"),
    bits(b"ode#X"),
    bits(b"he#XH"),
];

/// Each major mode (or modifier), and the options allowed with it.
const COMPATIBLE: &[(u32, u32)] = &[
    (bits(b"a"), 0),
    (bits(b"A"), 0),
    (bits(b"b"), 0),
    (bits(b"l"), 0),
    (bits(b"m"), 0),
    (bits(b"T"), 0),
    (bits(b"t"), 0),
    (bits(b"p"), bits(b"eX#fhCxdnoH")),
    (bits(b"M"), bits(b"eX#fox")),
    (bits(b"F"), bits(b"efhoxH")),
    (bits(b"P"), bits(b"eXfhoxH")),
];

/// `-e -X`: the names of the options in `mask`, in Postfix's order.
fn names(mask: u32) -> String {
    FLAG_NAMES
        .iter()
        .filter(|(_, bit)| mask & bit != 0)
        .map(|(c, _)| format!("-{c}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Postfix's `pcf_check_exclusive_options` and `pcf_check_compat_options`.
fn check_flags(flags: u32) -> Result<(), Usage> {
    for set in EXCLUSIVE {
        let given = set & flags;
        if given.count_ones() > 1 {
            return Err(Usage(format!("specify one of {}", names(given))));
        }
    }
    for (mode, allowed) in COMPATIBLE {
        let excess = flags & !(mode | allowed);
        if flags & mode != 0 && excess != 0 {
            return Err(Usage(format!(
                "with option {}, do not specify {}",
                names(*mode),
                names(excess)
            )));
        }
    }
    Ok(())
}

/// A usage error, reported as `postconf: fatal: ...`.
#[derive(Debug)]
pub(crate) struct Usage(pub(crate) String);

impl Opts {
    pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Opts, Usage> {
        use lexopt::Arg::{Long, Short, Value};
        let mut parser = lexopt::Parser::from_args(args);
        let mut opts = Opts {
            config_dir: crate::default_config_dir(),
            mode: Mode::Main,
            edit: None,
            defaults: false,
            explicit_only: false,
            hide_names: false,
            names_only: false,
            expand: false,
            fold: false,
            overrides: Vec::new(),
            classes: Classes::DEFAULT,
            templates: None,
            args: Vec::new(),
        };
        let set_mode = |opts: &mut Opts, mode: Mode| opts.mode = mode;
        let mut flags = 0;
        loop {
            let arg = match parser.next() {
                Ok(Some(arg)) => arg,
                Ok(None) => break,
                Err(e) => return Err(Usage(e.to_string())),
            };
            if let Short(c) = arg
                && let Some((_, bit)) = FLAG_NAMES.iter().find(|(l, _)| *l == c)
            {
                flags |= bit;
            }
            match arg {
                Short('a') => set_mode(&mut opts, Mode::SaslServer),
                Short('A') => set_mode(&mut opts, Mode::SaslClient),
                Short('b') => opts.templates = Some(Templates::Expanded),
                Short('t') => opts.templates = Some(Templates::Raw),
                Short('c') => opts.config_dir = PathBuf::from(value(&mut parser)?),
                Short('C') => opts.classes = parse_classes(&value(&mut parser)?)?,
                Short('d') => opts.defaults = true,
                Short('e') => opts.edit = Some(Edit::Set),
                Short('f') => opts.fold = true,
                Short('F') => set_mode(&mut opts, Mode::Fields),
                Short('h') => opts.hide_names = true,
                Short('H') => opts.names_only = true,
                Short('l') => set_mode(&mut opts, Mode::LockTypes),
                Short('m') => set_mode(&mut opts, Mode::TableTypes),
                Short('M') => set_mode(&mut opts, Mode::Master),
                Short('n') => opts.explicit_only = true,
                Short('o') => {
                    let text = value(&mut parser)?;
                    let Some((name, val)) = text.split_once('=') else {
                        return Err(Usage(format!(
                            "-o option requires \"name=value\" argument, found \"{text}\""
                        )));
                    };
                    opts.overrides
                        .push((name.trim().to_string(), val.trim().to_string()));
                }
                Short('p') => set_mode(&mut opts, Mode::Main),
                Short('P') => set_mode(&mut opts, Mode::Params),
                Short('v') => {}
                Short('x') => opts.expand = true,
                Short('X') => opts.edit = Some(Edit::Remove),
                Short('#') => opts.edit = Some(Edit::CommentOut),
                Value(v) => opts.args.push(v.to_string_lossy().into_owned()),
                Short('T') => return Err(Usage("-T (TLS information) is not supported".into())),
                Short(c) => return Err(Usage(format!("invalid option -- '{c}'"))),
                Long(l) => return Err(Usage(format!("invalid option -- '-{l}'"))),
            }
        }
        // As Postfix: main.cf mode when no other mode is given, and a first
        // argument of the form "name=value" implies -e.
        if flags & EXCLUSIVE[0] == 0 {
            flags |= bits(b"p");
        }
        if flags & bits(b"pMFP") != 0 && opts.args.first().is_some_and(|a| a.contains('=')) {
            flags |= bits(b"e");
            if opts.edit.is_none() {
                opts.edit = Some(Edit::Set);
            }
        }
        check_flags(flags)?;
        if opts.edit == Some(Edit::Set) && opts.args.is_empty() {
            return Err(Usage("-e requires name=value argument".into()));
        }
        Ok(opts)
    }
}

fn value(parser: &mut lexopt::Parser) -> Result<String, Usage> {
    parser
        .value()
        .map(|v| v.to_string_lossy().into_owned())
        .map_err(|e| Usage(e.to_string()))
}

fn parse_classes(text: &str) -> Result<Classes, Usage> {
    let mut classes = Classes::default();
    for word in text.split([',', ' ', '\t']).filter(|w| !w.is_empty()) {
        match word {
            "builtin" => classes.builtin = true,
            "service" => classes.service = true,
            "user" => classes.user = true,
            "all" => {
                classes = Classes {
                    builtin: true,
                    service: true,
                    user: true,
                }
            }
            other => return Err(Usage(format!("invalid parameter class: {other}"))),
        }
    }
    Ok(classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Opts, String> {
        Opts::parse(args.iter().map(OsString::from)).map_err(|u| u.0)
    }

    #[test]
    fn clustered_flags_and_values() {
        let opts = parse(&["-nc", ".", "-xo", "a=b", "name"]).expect("valid");
        assert!(opts.explicit_only && opts.expand);
        assert_eq!(opts.config_dir, PathBuf::from("."));
        assert_eq!(opts.overrides, [("a".to_string(), "b".to_string())]);
        assert_eq!(opts.args, ["name"]);
        let opts = parse(&["-Mfc."]).expect("valid");
        assert_eq!(opts.mode, Mode::Master);
        assert_eq!(opts.config_dir, PathBuf::from("."));
    }

    #[test]
    fn name_value_argument_implies_edit() {
        assert_eq!(parse(&["a=b"]).expect("valid").edit, Some(Edit::Set));
        assert_eq!(
            parse(&["-M", "x/unix=y unix - n n - - z"])
                .expect("valid")
                .edit,
            Some(Edit::Set)
        );
    }

    #[test]
    fn conflicting_options_are_refused_as_postfix_does() {
        assert_eq!(
            parse(&["-X", "name=value"]).expect_err("conflict"),
            "specify one of -e -X"
        );
        assert_eq!(
            parse(&["-d", "-n"]).expect_err("conflict"),
            "specify one of -d -n"
        );
        assert_eq!(
            parse(&["-M", "-d"]).expect_err("conflict"),
            "with option -M, do not specify -d"
        );
        assert_eq!(
            parse(&["-m", "-M"]).expect_err("conflict"),
            "specify one of -m -M"
        );
        assert_eq!(
            parse(&["-e"]).expect_err("no args"),
            "-e requires name=value argument"
        );
    }
}
