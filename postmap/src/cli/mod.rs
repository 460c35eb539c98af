//! The engine of postmap(1) and postalias(1): one code path for both, as
//! the two Postfix programs differ only in the source format they build
//! from, the `key:` of their output and the signatures postalias adds.
//! Both binaries call [`main`] with their [`Program`].
//!
//! Each mode has its module: [`update`] (build and `-i`), [`query`]
//! (`-q`, with [`message_keys`] for `-b`/`-h`), [`delete`] (`-d`) and
//! [`dump`] (`-s`); [`maps`] opens tables for reading.

mod delete;
mod diag;
mod dump;
mod maps;
mod message_keys;
mod mime;
mod opts;
mod owner;
mod progress;
mod query;
pub mod settings;
mod update;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::OpenOptions;

use diag::{Fatal, Output, fatal};
use opts::{Mode, OptError, Opts};
use settings::Settings;

/// Which of the two programs is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    /// The name in messages.
    pub name: &'static str,
    /// postalias: aliases(5) sources, `key:` output, signatures, and no
    /// `-bFhmU`.
    pub aliases: bool,
    /// The text of `fatal: usage: ...`.
    pub usage: &'static str,
}

/// Everything a mode needs to know.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub(crate) program: &'a Program,
    pub(crate) opts: &'a Opts,
    pub(crate) settings: &'a Settings,
    /// Postfix's `DICT_FLAG_UTF8_ACTIVE`: keys, values and source lines
    /// must be UTF-8 (`smtputf8_enable = yes`, not `-u`, and not `-b`/`-h`
    /// without `-U`).
    pub(crate) utf8: bool,
}

impl Context<'_> {
    /// How tables are opened for reading.
    pub(crate) fn open_options(&self) -> OpenOptions {
        OpenOptions {
            fold: self.opts.fold,
            default_type: self.settings.default_type.clone(),
            rhs_is_file: self.opts.rhs_is_file,
            utf8_check: self.utf8,
        }
    }

    /// One `key<TAB>value` line (`key:<TAB>value` for postalias).
    pub(crate) fn print_pair(
        &self,
        out: &mut Output,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), Fatal> {
        let sep: &[u8] = if self.program.aliases { b":\t" } else { b"\t" };
        out.line(&[key, sep, value])
    }
}

/// Run the program with its command line (`args` includes the program
/// name); returns the exit status.
pub fn main(program: &Program, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    diag::set_program(program.name);
    let opts = match Opts::parse(program, args.into_iter().skip(1)) {
        Ok(opts) => opts,
        Err(OptError::Usage(complaint)) => {
            complaint.into_iter().for_each(diag::plain);
            return exit_fatal(&fatal(program.usage));
        }
        Err(OptError::Fatal(f)) => return exit_fatal(&f),
    };
    let dir = opts
        .config_dir
        .clone()
        .unwrap_or_else(conf::config::default_config_dir);
    let settings = match Settings::load(&dir) {
        Ok(settings) => settings,
        Err(f) => return exit_fatal(&f),
    };
    diag::set_utf8(settings.smtputf8);
    let hb = opts.header_keys || opts.body_keys;
    let cx = Context {
        program,
        opts: &opts,
        settings: &settings,
        utf8: settings.smtputf8 && opts.utf8_request && (!hb || opts.force_utf8),
    };
    let mut out = Output::default();
    match run(&cx, &mut out).and_then(|code| out.flush().map(|()| code)) {
        Ok(code) => code,
        Err(f) => {
            out.discard();
            exit_fatal(&f)
        }
    }
}

fn exit_fatal(f: &Fatal) -> ExitCode {
    diag::print_fatal(f);
    ExitCode::FAILURE
}

fn exit_status(success: bool) -> ExitCode {
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run(cx: &Context<'_>, out: &mut Output) -> Result<ExitCode, Fatal> {
    let opts = cx.opts;
    let usage = || Err(fatal(cx.program.usage));
    if opts.message_keys() && opts.mode != Mode::Query(b"-".to_vec()) {
        return Err(fatal("specify -b -h or -m only with \"-q -\""));
    }
    let hb = opts.header_keys || opts.body_keys;
    if opts.mime && !hb {
        diag::warn("ignoring -m option without -b or -h");
    }
    match &opts.mode {
        Mode::Delete(_) | Mode::Query(_) | Mode::Build if opts.maps.is_empty() => usage(),
        Mode::Delete(key) => delete::run(cx, key).map(exit_status),
        Mode::Query(key) if key == b"-" && hb => query::message(cx, out).map(exit_status),
        Mode::Query(key) if key == b"-" => query::stdin(cx, out).map(exit_status),
        Mode::Query(key) => query::one(cx, key, out).map(exit_status),
        Mode::Dump => dump::run(cx, out).map(exit_status),
        Mode::Build => {
            for map in &opts.maps {
                update::run(cx, map)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
