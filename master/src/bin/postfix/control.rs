//! The commands that act on the master: `start`, `start-fg`, `stop`,
//! `abort`, `reload`, `status`, as postfix-script runs them, finding the
//! master through its locked pid file (`master::pidfile`).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use crate::check;
use crate::instance::Instance;
use crate::say::Message;

/// How long `stop` waits for the master before it uses force (the five
/// one-second rounds of postfix-script).
const STOP_WAIT: Duration = Duration::from_secs(5);
/// How often `stop` looks whether the master is gone.
const POLL: Duration = Duration::from_millis(50);

/// What a command did: the messages to print and the exit status.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) messages: Vec<Message>,
    pub(crate) status: u8,
}

impl Outcome {
    fn fail(message: Message) -> Outcome {
        Outcome {
            messages: vec![message],
            status: 1,
        }
    }
}

/// The pid of the running master, or a fatal message when its pid file
/// cannot be read.
fn running(inst: &Instance) -> Result<Option<u32>, Message> {
    master::pidfile::running(&inst.queue_dir).map_err(|e| Message::fatal(e.to_string()))
}

/// The running master, or the fatal message of postfix-script.
fn require_running(inst: &Instance) -> Result<Pid, Outcome> {
    match running(inst) {
        Ok(Some(pid)) => Ok(Pid::from_raw(pid as i32)),
        Ok(None) => Err(Outcome::fail(Message::fatal(
            "the Postfix mail system is not running",
        ))),
        Err(m) => Err(Outcome::fail(m)),
    }
}

fn master_program(inst: &Instance) -> PathBuf {
    inst.daemon_dir.join("master")
}

/// `status`: exit 0 with the pid, or 1. Both are info messages.
pub(crate) fn status(inst: &Instance) -> Outcome {
    match running(inst) {
        Ok(Some(pid)) => Outcome {
            messages: vec![Message::info(format!(
                "the Postfix mail system is running: PID: {pid}"
            ))],
            status: 0,
        },
        Ok(None) => Outcome::fail(Message::info("the Postfix mail system is not running")),
        Err(m) => Outcome::fail(m),
    }
}

/// What `start` and `start-fg` do before the master runs: refuse a second
/// master, find the program, run the checks. Prints as it goes, because
/// `start-fg` may never come back.
fn prepare(inst: &Instance, say: &dyn Fn(&Message)) -> Result<(), Outcome> {
    match running(inst) {
        Ok(None) => {}
        Ok(Some(_)) => {
            return Err(Outcome::fail(Message::fatal(
                "the Postfix mail system is already running",
            )));
        }
        Err(m) => return Err(Outcome::fail(m)),
    }
    let program = master_program(inst);
    if !program.is_file() {
        return Err(Outcome::fail(Message::fatal(format!(
            "no Postfix master program {}!",
            program.display()
        ))));
    }
    let found = check::run(inst);
    let failed = found.iter().any(Message::is_fatal);
    for m in &found {
        say(m);
    }
    if failed {
        return Err(Outcome::fail(Message::fatal(
            "Postfix integrity check failed!",
        )));
    }
    say(&Message::info("starting the Postfix mail system"));
    Ok(())
}

fn master_command(inst: &Instance, mode: &str, verbose: bool) -> Command {
    let mut cmd = Command::new(master_program(inst));
    cmd.arg(mode).arg("-c").arg(&inst.config_dir);
    if verbose {
        cmd.arg("-v");
    }
    cmd.env("MAIL_CONFIG", &inst.config_dir);
    cmd
}

/// `start`: the master detaches; `master -w` returns once it is up.
pub(crate) fn start(inst: &Instance, verbose: bool, say: &dyn Fn(&Message)) -> Outcome {
    if let Err(outcome) = prepare(inst, say) {
        return outcome;
    }
    let started = master_command(inst, "-w", verbose)
        .stdin(Stdio::null())
        .status();
    match started {
        Ok(s) if s.success() => Outcome {
            messages: Vec::new(),
            status: 0,
        },
        _ => Outcome::fail(Message::fatal("mail system startup failed")),
    }
}

/// `start-fg`: the master in the foreground. As PID 1 (a container) it
/// replaces this process in init mode; otherwise it runs as a child, so
/// that `postfix stop` signals the master and not this process, and its
/// exit status becomes ours.
pub(crate) fn start_fg(inst: &Instance, verbose: bool, say: &dyn Fn(&Message)) -> Outcome {
    if let Err(outcome) = prepare(inst, say) {
        return outcome;
    }
    if std::process::id() == 1 {
        let err = master_command(inst, "-i", verbose).exec();
        return Outcome::fail(Message::fatal(format!(
            "cannot start-fg the master daemon: {}",
            conf::io_reason(&err)
        )));
    }
    match master_command(inst, "-d", verbose).status() {
        Ok(s) => Outcome {
            messages: Vec::new(),
            status: s.code().map_or(1, |c| u8::try_from(c).unwrap_or(1)),
        },
        Err(e) => Outcome::fail(Message::fatal(format!(
            "cannot start-fg the master daemon: {}",
            conf::io_reason(&e)
        ))),
    }
}

/// `stop`: SIGTERM, then wait until the master is gone; after five
/// seconds, SIGKILL to its process group, as postfix-script does.
pub(crate) fn stop(inst: &Instance, say: &dyn Fn(&Message)) -> Outcome {
    let pid = match require_running(inst) {
        Ok(pid) => pid,
        Err(outcome) => return outcome,
    };
    say(&Message::info("stopping the Postfix mail system"));
    let _ = signal::kill(pid, Signal::SIGTERM);
    let begin = Instant::now();
    let mut next_note = Duration::from_secs(1);
    while begin.elapsed() < STOP_WAIT {
        if matches!(running(inst), Ok(None)) {
            return Outcome {
                messages: Vec::new(),
                status: 0,
            };
        }
        if begin.elapsed() >= next_note {
            say(&Message::info(
                "waiting for the Postfix mail system to terminate",
            ));
            next_note += Duration::from_secs(1);
        }
        thread::sleep(POLL);
    }
    say(&Message::warning(
        "stopping the Postfix mail system with force",
    ));
    let _ = signal::killpg(pid, Signal::SIGKILL);
    Outcome {
        messages: Vec::new(),
        status: 0,
    }
}

/// `abort` and `reload`: one signal to the running master.
pub(crate) fn signal(inst: &Instance, sig: Signal, what: &str) -> Outcome {
    let pid = match require_running(inst) {
        Ok(pid) => pid,
        Err(outcome) => return outcome,
    };
    let sent = signal::kill(pid, sig);
    let mut messages = vec![Message::info(format!("{what} the Postfix mail system"))];
    let status = match sent {
        Ok(()) => 0,
        Err(e) => {
            messages.push(Message::fatal(format!("kill {pid}: {}", e.desc())));
            1
        }
    };
    Outcome { messages, status }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(dir: &std::path::Path) -> Instance {
        std::fs::write(
            dir.join("main.cf"),
            format!("queue_directory = {}\n", dir.display()),
        )
        .unwrap();
        let config = conf::Config::load(dir, &[]).unwrap();
        Instance::new(config, dir.to_path_buf(), false)
    }

    fn lines(outcome: &Outcome) -> Vec<String> {
        outcome
            .messages
            .iter()
            .map(|m| m.stderr_line("postfix"))
            .collect()
    }

    #[test]
    fn nothing_running_is_status_1_and_stop_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let inst = instance(dir.path());
        let out = status(&inst);
        assert_eq!(out.status, 1);
        assert_eq!(
            lines(&out),
            ["postfix/postfix-script: the Postfix mail system is not running"]
        );
        for out in [
            stop(&inst, &|_| {}),
            signal(&inst, Signal::SIGHUP, "refreshing"),
        ] {
            assert_eq!(out.status, 1);
            assert_eq!(
                lines(&out),
                ["postfix/postfix-script: fatal: the Postfix mail system is not running"]
            );
        }
    }

    #[test]
    fn a_locked_pid_file_is_running() {
        let dir = tempfile::tempdir().unwrap();
        let inst = instance(dir.path());
        let _lock = master::pidfile::Lock::acquire(dir.path()).unwrap();
        let out = status(&inst);
        assert_eq!(out.status, 0);
        assert_eq!(
            lines(&out),
            [format!(
                "postfix/postfix-script: the Postfix mail system is running: PID: {}",
                std::process::id()
            )]
        );
        let refused = start(&inst, false, &|_| {});
        assert_eq!(refused.status, 1);
        assert_eq!(
            lines(&refused),
            ["postfix/postfix-script: fatal: the Postfix mail system is already running"]
        );
    }
}
