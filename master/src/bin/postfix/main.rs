//! # NAME
//! `postfix` — start, stop and check the mail system.
//!
//! # SYNOPSIS
//! ```text
//! postfix [-Dv] [-c config_dir] command [name=value ...]
//! ```
//! Commands: `check`, `start`, `start-fg`, `stop`, `abort`, `reload`,
//! `status`, `flush`, `set-permissions`.
//!
//! # DESCRIPTION
//! The admin's interface to the suite, as Postfix's `postfix` and
//! `postfix-script` are:
//!
//! - `check`: creates missing queue directories (postfix-files modes)
//!   and warns about problems: a queue directory, `$queue_directory`,
//!   `pid`, `$data_directory` or anything in the configuration directory
//!   that is group or other writable; files not owned by root, queue
//!   directories not owned by `mail_owner` or `setgid_group` (only when
//!   root runs the command); messages in `corrupt/`; main.cf settings of
//!   unknown names (`postconf -n`'s `unused parameter` warning); indexed
//!   tables (`hash:`, `btree:`, `cdb:`, `lmdb:`) named in a main.cf
//!   `*_maps`, `*_checks` or `*_restrictions` parameter or in
//!   `alias_database` whose index is older than its source file. A
//!   missing master.cf is fatal, and so is a missing `mail_owner` or
//!   `setgid_group` for root (the message adds the `useradd`/`groupadd`
//!   command that creates it; for an ordinary user it is a warning), and,
//!   for root only, a `mail_owner` with uid 0, a `setgid_group` with
//!   gid 0, or the two sharing a group, with Postfix's messages.
//! - `start`: refuses when the master runs ("the Postfix mail system is
//!   already running"), runs the checks (a fatal one: "Postfix integrity
//!   check failed!"), then runs `$daemon_directory/master -w -c DIR`,
//!   which returns once the detached master is up.
//! - `start-fg`: the same, with the master in the foreground: as PID 1 it
//!   replaces this process (`master -i`), otherwise it runs as a child
//!   (`master -d`) whose exit status is returned.
//! - `stop`: SIGTERM to the master, then waits until it is gone; after
//!   five seconds, SIGKILL to its process group. `abort`: SIGTERM, no
//!   wait. `reload`: SIGHUP. All three fail when nothing runs.
//! - `status`: "the Postfix mail system is running: PID: N", or "is not
//!   running" with status 1.
//! - `flush`: there is no qmgr to ask yet; prints postqueue's "Cannot
//!   flush mail queue - mail system is down" and exits 69, as Postfix
//!   does when qmgr does not answer.
//! - `set-permissions`: gives the queue tree the owners and modes of
//!   postfix-files; `name=value` arguments override main.cf for it.
//!
//! The master is found through its locked pid file,
//! `$queue_directory/pid/master.pid`. `upgrade-configuration`,
//! `logrotate`, `tls` and multi-instance support are not implemented.
//!
//! Options: `-c` the configuration directory (default `$MAIL_CONFIG`,
//! else `/etc/postfix`); `-v` verbose (passed on to the master); `-D`
//! accepted and ignored (there is no `debugger_command`).
//!
//! # SECURITY
//! Run by root, `postfix` starts the master as root and may change the
//! owners of the queue tree; it reads main.cf and master.cf and signals
//! the pid found in the locked pid file. Run by an ordinary user,
//! everything runs as that user and the steps that need root (changing
//! owners, checking them) are skipped without an error.
//!
//! # DIAGNOSTICS
//! Messages go to stderr as Postfix prints them on a terminal
//! (`postfix/postfix-script: fatal: ...`, `postfix: fatal: ...` for
//! configuration errors, `postqueue: ...` for `flush`) and to
//! `maillog_file` as `postfix/postfix-script[PID]: ...`. Exit status 0 on
//! success, 1 on failure (and `status` when nothing runs), 69 for
//! `flush`.
//!
//! # CONFIGURATION PARAMETERS
//! - `queue_directory` (`/var/spool/postfix`): the queue tree and `pid/`.
//! - `daemon_directory` (`/usr/libexec/postfix`): where `master` is.
//! - `data_directory` (`/var/lib/postfix`): checked for owner and mode.
//! - `mail_owner` (`postfix`): owner of the queue directories.
//! - `setgid_group` (`postdrop`): group of `maildrop` and `public`.
//! - `syslog_name` (`postfix`): the prefix of messages.
//! - `maillog_file` (empty): also log to this file.
//! - `myhostname` (the host name): its first label in `maillog_file`.
//! - `smtpd_restriction_classes` (empty): names that are not unknown
//!   parameters.
//! - `alias_database` (`hash:/etc/aliases`): checked like the `*_maps`.
//!
//! # FILES
//! - `$config_directory/main.cf`, `$config_directory/master.cf`
//! - `$queue_directory/pid/master.pid`: the running master's pid, locked.
//! - `$queue_directory/{maildrop,incoming,active,deferred,hold,corrupt,
//!   saved,defer,bounce,trace,flush,private,public}`
//! - `$daemon_directory/master`
//!
//! # SEE ALSO
//! `master`, `postconf`, `postmap`, Postfix's postfix(1) and
//! postfix-files; `docs/architecture.md`.
#![forbid(unsafe_code)]

mod accounts;
mod check;
mod control;
mod flush;
mod instance;
mod layout;
mod params;
mod say;
mod tables;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use nix::sys::signal::Signal;

use crate::control::Outcome;
use crate::instance::Instance;
use crate::say::Message;

/// The main.cf parameters `postfix` reads (besides the table parameters
/// it scans), in the order of the header; the test below keeps the
/// header true.
#[cfg(test)]
const PARAMETERS: &[&str] = &[
    "queue_directory",
    "daemon_directory",
    "data_directory",
    "mail_owner",
    "setgid_group",
    "syslog_name",
    "maillog_file",
    "myhostname",
    "smtpd_restriction_classes",
    "alias_database",
];

const USAGE: &str = "usage: postfix [-c config_dir] [-Dv] command";

/// The command line.
#[derive(Debug, Default)]
struct Args {
    config_dir: Option<PathBuf>,
    verbose: bool,
    command: String,
    rest: Vec<String>,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Args, String> {
    use lexopt::Arg::{Long, Short, Value};
    let mut parser = lexopt::Parser::from_args(args);
    let mut out = Args::default();
    let mut words = Vec::new();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('c') => {
                out.config_dir = Some(parser.value().map_err(|e| e.to_string())?.into());
            }
            Short('v') => out.verbose = true,
            Short('D') => {}
            Value(word) => {
                words.push(word.to_string_lossy().into_owned());
                words.extend(
                    parser
                        .raw_args()
                        .map_err(|e| e.to_string())?
                        .map(|w| w.to_string_lossy().into_owned()),
                );
            }
            Short(c) => return Err(format!("invalid option -- '{c}'")),
            Long(name) => return Err(format!("unrecognized option '--{name}'")),
        }
    }
    let mut words = words.into_iter();
    out.command = words.next().unwrap_or_default();
    out.rest = words.collect();
    Ok(out)
}

/// `name=value` arguments of set-permissions, as main.cf overrides.
fn overrides(rest: &[String]) -> Result<Vec<(String, String)>, String> {
    rest.iter()
        .map(|arg| match arg.split_once('=') {
            Some((name, value)) => Ok((name.trim().to_owned(), value.trim().to_owned())),
            None => Err(format!("bad name=value argument: {arg}")),
        })
        .collect()
}

fn fatal(text: &str) -> ExitCode {
    eprintln!("postfix: fatal: {text}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("postfix: {e}");
            return fatal(USAGE);
        }
    };
    let config_dir = args
        .config_dir
        .clone()
        .or_else(|| std::env::var_os("MAIL_CONFIG").map(PathBuf::from))
        .unwrap_or_else(conf::config::default_config_dir);
    let overrides = if args.command == "set-permissions" {
        match overrides(&args.rest) {
            Ok(o) => o,
            Err(e) => return fatal(&e),
        }
    } else {
        Vec::new()
    };
    let config = match conf::Config::load(&config_dir, &overrides) {
        Ok(config) => config,
        Err(e) => return fatal(&e.to_string()),
    };
    match master::log::Logger::new(&config, "postfix-script") {
        Ok(logger) => {
            // Only fails when a subscriber is already installed.
            let _ = logger.stderr(false).verbose(args.verbose).install();
        }
        Err(e) => eprintln!(
            "postfix: warning: open maillog_file: {}",
            conf::io_reason(&e)
        ),
    }
    let is_root = nix::unistd::geteuid().is_root();
    let inst = Instance::new(config, config_dir, is_root);
    let outcome = run(&inst, &args);
    for m in &outcome.messages {
        say::say(&inst.syslog_name, m);
    }
    ExitCode::from(outcome.status)
}

/// Runs the command of `args`; messages that must come out before the
/// command ends are printed as it goes, the rest are in the outcome.
fn run(inst: &Instance, args: &Args) -> Outcome {
    let say = |m: &Message| say::say(&inst.syslog_name, m);
    match args.command.as_str() {
        "check" => {
            let messages = check::run(inst);
            let status = u8::from(messages.iter().any(Message::is_fatal));
            Outcome { messages, status }
        }
        "start" => control::start(inst, args.verbose, &say),
        "start-fg" => control::start_fg(inst, args.verbose, &say),
        "stop" => control::stop(inst, &say),
        "abort" => control::signal(inst, Signal::SIGTERM, "aborting"),
        "reload" => control::signal(inst, Signal::SIGHUP, "refreshing"),
        "status" => control::status(inst),
        "flush" => {
            let (messages, status) = flush::flush(&inst.queue_dir);
            Outcome { messages, status }
        }
        "set-permissions" => set_permissions(inst),
        other => Outcome {
            messages: vec![Message::fatal(format!(
                "unknown command: '{other}'. Usage: postfix start (or start-fg, stop, \
                 reload, abort, flush, check, status, set-permissions)"
            ))],
            status: 1,
        },
    }
}

/// `set-permissions`: owners only when root runs it.
fn set_permissions(inst: &Instance) -> Outcome {
    let mut messages = Vec::new();
    let ids = if inst.is_root {
        let found = accounts::look_up(&inst.mail_owner, &inst.setgid_group);
        match (found.owner, found.group) {
            (Some(mail_owner), Some(setgid_group)) => Some(layout::Ids {
                mail_owner,
                setgid_group,
            }),
            _ => {
                let messages = accounts::report(
                    &found,
                    &inst.config_dir.join("main.cf"),
                    &inst.mail_owner,
                    &inst.setgid_group,
                    &inst.queue_dir,
                    accounts::group_exists,
                );
                return Outcome {
                    messages,
                    status: 1,
                };
            }
        }
    } else {
        None
    };
    for (path, e) in layout::set_all(&inst.queue_dir, ids.as_ref()) {
        messages.push(Message::fatal(format!(
            "{}: {}",
            path.display(),
            conf::io_reason(&e)
        )));
    }
    let status = u8::from(!messages.is_empty());
    Outcome { messages, status }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Result<Args, String> {
        parse_args(words.iter().map(OsString::from))
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

    #[test]
    fn options_come_before_the_command() {
        let a = args(&["-v", "-D", "-c", "/e", "set-permissions", "mail_owner=x"]).unwrap();
        assert_eq!(a.config_dir, Some(PathBuf::from("/e")));
        assert!(a.verbose);
        assert_eq!(a.command, "set-permissions");
        assert_eq!(a.rest, ["mail_owner=x"]);
        assert_eq!(
            args(&["-x", "status"]).unwrap_err(),
            "invalid option -- 'x'"
        );
        assert_eq!(args(&[]).unwrap().command, "");
    }

    #[test]
    fn overrides_need_name_and_value() {
        assert_eq!(
            overrides(&["a = b".to_owned()]).unwrap(),
            [("a".to_owned(), "b".to_owned())]
        );
        assert!(overrides(&["a".to_owned()]).is_err());
    }
}
