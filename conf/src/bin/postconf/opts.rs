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
    pub(crate) legacy: bool,
}

impl Classes {
    pub(crate) const DEFAULT: Classes = Classes {
        builtin: true,
        service: true,
        user: true,
        legacy: false,
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
        loop {
            let arg = match parser.next() {
                Ok(Some(arg)) => arg,
                Ok(None) => break,
                Err(e) => return Err(Usage(e.to_string())),
            };
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
                Short(c) => return Err(Usage(format!("invalid option -- '{c}'"))),
                Long(l) => return Err(Usage(format!("invalid option -- '-{l}'"))),
            }
        }
        // Like Postfix: a first argument of the form "name=value" implies -e.
        if opts.edit.is_none()
            && opts.templates.is_none()
            && opts.args.first().is_some_and(|a| a.contains('='))
        {
            opts.edit = Some(Edit::Set);
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
            "legacy" => classes.legacy = true,
            "all" => {
                classes = Classes {
                    builtin: true,
                    service: true,
                    user: true,
                    legacy: true,
                }
            }
            other => return Err(Usage(format!("invalid parameter class: {other}"))),
        }
    }
    Ok(classes)
}
