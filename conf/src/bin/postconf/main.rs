//! # NAME
//! `postconf` — Postfix configuration utility.
//!
//! # SYNOPSIS
//! ```text
//! postconf [-dfhHnopvx] [-C class,...] [-c config_dir] [parameter ...]
//! postconf [-ev] [-c config_dir] [parameter=value ...]
//! postconf -X|-# [-v] [-c config_dir] parameter ...
//! postconf -M [-fox] [-c config_dir] [service[/type] ...]
//! postconf -F [-fhHox] [-c config_dir] [service[/type[/field]] ...]
//! postconf -P [-fhHox] [-c config_dir] [service[/type[/parameter]] ...]
//! postconf -M|-F|-P -e|-X|-# [-c config_dir] ...
//! postconf -m | -l | -a | -A
//! ```
//!
//! # DESCRIPTION
//! Prints the effective value of `main.cf` parameters (`-d`: built-in
//! defaults; `-n`: only those set in `main.cf`), edits `main.cf` in place
//! (`-e`, `-X`, `-#`) keeping comments and order, and prints or edits
//! `master.cf` entries (`-M`), fields (`-F`) and `-o` overrides (`-P`).
//! Output formats, warnings and exit codes are those of Postfix 3.7.
//! It does not print bounce templates (`-b`, `-t`) or TLS information
//! (`-T`).
//!
//! # SECURITY
//! Not security sensitive: it runs with the caller's privileges and only
//! reads and writes the files of the configuration directory it is given.
//!
//! # DIAGNOSTICS
//! Problems are reported on standard error as `postconf: warning: ...` or
//! `postconf: fatal: ...`. Exit status 0 on success (an unknown parameter
//! name is only a warning), 1 on a fatal error.
//!
//! # CONFIGURATION PARAMETERS
//! - `config_directory` (`/etc/postfix`, or `-c`, or `$MAIL_CONFIG`): where
//!   `main.cf` and `master.cf` live.
//!
//! # FILES
//! `$config_directory/main.cf`, `$config_directory/master.cf`.
//!
//! # SEE ALSO
//! `docs/parameters.md`, postconf(5), master(5).

mod dbms;
mod diag;
mod master_edit;
mod master_mode;
mod names;
mod opts;
mod output;
mod show;
mod unused;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use conf::Config;
use conf::main_cf::{self, EditMode, MainCf};
use conf::master_cf::MasterCf;

use names::{NameSpace, Scope};
use opts::{Edit, Mode, Opts};

/// `$MAIL_CONFIG`, else the compiled-in `/etc/postfix`.
fn default_config_dir() -> PathBuf {
    conf::config::default_config_dir()
}

fn main() -> ExitCode {
    let opts = match opts::Opts::parse(std::env::args_os().skip(1)) {
        Ok(opts) => opts,
        Err(usage) => return diag::fatal(usage.0),
    };
    if opts.templates.is_some() {
        return diag::fatal("bounce templates (-b, -t) are not available yet");
    }
    match opts.mode {
        Mode::TableTypes => list(conf::TABLE_TYPES),
        Mode::LockTypes => list(&["flock", "fcntl", "dotlock"]),
        // No SASL plug-ins are built in yet.
        Mode::SaslServer | Mode::SaslClient => ExitCode::SUCCESS,
        Mode::Main => match opts.edit {
            Some(edit) => edit_main(&opts, edit),
            None => show_main(&opts),
        },
        Mode::Master | Mode::Fields | Mode::Params => master_mode::run(&opts),
    }
}

fn list(items: &[&str]) -> ExitCode {
    for item in items {
        println!("{item}");
    }
    ExitCode::SUCCESS
}

/// `postconf -e|-X|-# ...`: edit main.cf in place.
fn edit_main(opts: &Opts, edit: Edit) -> ExitCode {
    if opts.args.is_empty() {
        return diag::fatal(match edit {
            Edit::Set => "-e requires name=value argument",
            Edit::Remove | Edit::CommentOut => "missing service argument",
        });
    }
    let mode = match edit {
        Edit::Set => EditMode::Set,
        Edit::Remove => EditMode::Remove,
        Edit::CommentOut => EditMode::CommentOut,
    };
    match main_cf::edit_file(&opts.config_dir, mode, &opts.args) {
        Ok(warnings) => {
            warnings.iter().for_each(diag::warn);
            ExitCode::SUCCESS
        }
        Err(e) => diag::fatal(e),
    }
}

/// The services of master.cf as parameter name spaces. A missing
/// master.cf is only a warning here, as in Postfix's main.cf mode; a
/// malformed one is fatal.
fn master_scopes(dir: &Path) -> Result<Vec<Scope>, ExitCode> {
    let shown = format!("{}/master.cf", dir.display());
    let mut warn = |w: conf::master_cf::Warning| diag::warn(w);
    match MasterCf::read(Path::new(&shown), &mut warn) {
        Ok(cf) => Ok(names::scopes(&cf)),
        Err(e @ conf::master_cf::Error::Open { .. }) => {
            diag::warn(e);
            Ok(Vec::new())
        }
        Err(e) => Err(diag::fatal(e)),
    }
}

/// `postconf [-dhHnx] [name ...]`: print main.cf parameters.
fn show_main(opts: &Opts) -> ExitCode {
    let cfg = if opts.defaults {
        Config::defaults(&opts.config_dir)
    } else {
        let main = match MainCf::read(&opts.config_dir) {
            Ok(main) => main,
            Err(e) => return diag::fatal(e),
        };
        main.warnings().iter().for_each(diag::warn);
        Config::with_main(&opts.config_dir, main, &opts.overrides)
    };
    // Postfix computes the default mynetworks up front, and refuses an
    // inet_interfaces address that is not on this host.
    if cfg.explicit("mynetworks").is_none()
        && let Err(e) = cfg.my_networks()
    {
        return diag::fatal(e);
    }
    let mut scopes = match master_scopes(&opts.config_dir) {
        Ok(scopes) => scopes,
        Err(code) => return code,
    };
    let ns = NameSpace::build(&cfg, &mut scopes, !opts.defaults);
    if let Err(e) = show::parameters(&cfg, &ns, opts) {
        return diag::fatal(e);
    }
    if !opts.defaults && opts.explicit_only {
        unused::main(&cfg, &ns);
        unused::master(&cfg, &ns, &scopes);
    }
    ExitCode::SUCCESS
}
