//! # NAME
//! `master` — the resident process that runs the mail system's services.
//!
//! # SYNOPSIS
//! ```text
//! master [-distvw] [-c config_dir] [-e exit_time]
//! ```
//! Normally started by `postfix start` (which runs `master -w`) or
//! `postfix start-fg` (`master -i` as PID 1, else `master -d`).
//!
//! # DESCRIPTION
//! Reads `main.cf` and `master.cf`, creates the queue directories, binds
//! the listening sockets of every service whose program exists in
//! `daemon_directory` (inet: `host:port` or a bare port, a number or an
//! /etc/services name, on the addresses of `inet_interfaces` limited to
//! `inet_protocols`, IPv4 and IPv6; unix: a socket in
//! `$queue_directory/private` or `public`, mode 0666 as Postfix, the
//! directory controls access), and starts one process per listening
//! socket with that socket as file descriptor 3 and the arguments
//! `-c config_dir -n service -t type [-u] [-C] [-p maxproc] [-v] args...`
//! (the master.cf `-o` overrides among the args). Besides inet and unix,
//! `unix-dgram` services get a datagram socket, `fifo` services a named
//! pipe (mode 0622, opened for reading and writing) and `pass` services
//! a unix stream socket, all in `private` or `public` as Postfix makes
//! them. A service whose program does not exist yet is skipped with a
//! log line. Processes are started with the master and on reload.
//!
//! `-u`: the service is unprivileged (column 4). `-C` (Postfix's `-c`,
//! which is our configuration directory): column 5 says `y` and the
//! master runs as root; the process is started as root and chroots
//! itself into `queue_directory`, then drops to `mail_owner` (`-u`), with
//! `master::service::enter_chroot`. `-p maxproc`: column 7, `-` being
//! `default_process_limit`, left out for 0 (no limit). Each service is
//! one process per listening socket; smtpd serves many sessions in it,
//! and takes `maxproc` as the most sessions it serves at once (new
//! clients wait in the listen queue). A service with a `wakeup` time gets
//! a `W` written to its socket or pipe that often (not inet; not for a
//! conditional `N?` wake-up).
//!
//! A process that exits with status 0 left of its own accord (smtpd
//! does after `max_idle` seconds without a client, or once it has served
//! its `max_use`): nothing is logged, and for an inet, unix or pass
//! service without a `wakeup` time the master watches the listening
//! socket and starts the next process when a client waits on it, as
//! Postfix's master does; any other service is started again at once.
//! A process that fails or is killed is logged and started again at
//! once (Postfix waits for the next client; a process ready for it is
//! what an admin who killed it expects back); one that fails (an exit
//! status other than 0, or a signal other than SIGKILL) within two
//! seconds of its start is logged as `bad command startup -- throttling`
//! and started again after `service_throttle_time`. A command is
//! relative to `daemon_directory` unless it is absolute.
//!
//! Options: `-c` the configuration directory (default `$MAIL_CONFIG`,
//! else `/etc/postfix`); `-d` stay in the foreground with standard
//! input, output and error kept; `-e exit_time` terminate after that
//! many seconds; `-i` init mode (allowed only as PID 1: foreground, and
//! orphans are reaped); `-s` keep standard output in the background;
//! `-t` test mode: exit 0 when no master runs for this configuration,
//! 1 when one does; `-v` verbose logging, passed on to every service;
//! `-w` start in the background and exit 0 only once that master has
//! bound its sockets and locked the pid file, 1 when it failed.
//! Without `-d` or `-i` the master detaches into a session of its own
//! with standard input, output and error on /dev/null.
//!
//! Signals: SIGHUP reloads: main.cf and master.cf are read again, new
//! processes start on the same listening sockets (new sockets for new
//! services, closed ones for removed services), and the old processes
//! get SIGUSR1 (drain: accept nothing new, finish the sessions in
//! progress, exit) or, for a removed service, SIGTERM; then
//! `reload -- version 3.7.11, configuration DIR` is logged. SIGTERM or
//! SIGINT: `terminating on signal N`, SIGTERM to every process, a wait
//! of up to 10 seconds for them, exit 0. SIGCHLD is read from a
//! signalfd with the others, so no exit is missed.
//!
//! Once everything is started the master logs
//! `daemon started -- version 3.7.11, configuration DIR`: the line
//! tests and `postfix start` wait for.
//!
//! # SECURITY
//! The master is started as root to bind privileged ports; it keeps
//! root, never reads network input or queue files, and starts each
//! service with the `unpriv` column `y` (the default) as `mail_owner`:
//! initgroups, setgid, setuid in the child before exec, for good. A
//! service with `unpriv` `n` (local) keeps root. A chrooted service is
//! started as root and drops to `mail_owner` itself right after its
//! chroot, before it reads any input. Started by an ordinary user, it
//! and every service run as that user (a log line says so once); there
//! is no privilege to drop, and the `chroot` column is not used.
//!
//! # DIAGNOSTICS
//! Log lines in Postfix's shape (`postfix/master[PID]: ...`) on stderr
//! and in `maillog_file`: `warning: process PATH pid N exit status S`,
//! `warning: process PATH pid N killed by signal S`, `warning: PATH: bad
//! command startup -- throttling`. Exit status 0 after a signal; 1 with a
//! `fatal:` line on stderr when the configuration, the queue directory,
//! a listening socket or the pid file cannot be used, or when a master
//! already runs ("the Postfix mail system is already running").
//!
//! # CONFIGURATION PARAMETERS
//! - `queue_directory` (`/var/spool/postfix`): queue, sockets, pid file.
//! - `daemon_directory` (`/usr/libexec/postfix`): where the programs are.
//! - `mail_owner` (`postfix`): who unprivileged services run as (root only).
//! - `setgid_group` (`postdrop`): the group of `maildrop` and `public`.
//! - `service_throttle_time` (`60s`): the pause after a failed start.
//! - `default_process_limit` (`100`): the `maxproc` of a `-` in master.cf.
//! - `inet_interfaces` (`all`): the addresses inet services listen on.
//! - `inet_protocols` (`all`): the address families of those.
//! - `maillog_file` (empty): also log to this file.
//! - `syslog_name` (`postfix`): the log line prefix.
//! - `myhostname` (the host name): in `maillog_file` lines.
//!
//! # FILES
//! `$config_directory/main.cf`, `$config_directory/master.cf`;
//! `$queue_directory/pid/master.pid` (the pid, locked while the master
//! runs); `$queue_directory/private/*` and `public/*` (sockets and
//! named pipes).
//!
//! # SEE ALSO
//! postfix(1), smtpd(8); Postfix's master(5) and master(8).

mod listeners;
mod services;
mod signals;
#[allow(unsafe_code)]
mod spawn;
mod startup;
mod supervise;
mod wakeup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tracing::{error, info};

use master::pidfile;
use signals::{Event, Signals};
use supervise::Supervisor;

/// The version in log lines, as `postfix start` tools expect it.
const VERSION: &str = "3.7.11";

/// How long SIGTERM'd services get before the master exits anyway.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How long `-w` waits for the background master.
const START_WAIT: Duration = Duration::from_secs(30);

/// Command-line options.
#[derive(Debug, Default)]
struct Opts {
    config_dir: Option<PathBuf>,
    foreground: bool,
    exit_time: Option<u64>,
    init: bool,
    keep_stdout: bool,
    test: bool,
    verbose: u32,
    wait: bool,
}

fn parse_args() -> Result<Opts, lexopt::Error> {
    use lexopt::prelude::*;
    let mut opts = Opts::default();
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Short('c') => opts.config_dir = Some(parser.value()?.into()),
            Short('d') => opts.foreground = true,
            Short('e') => opts.exit_time = Some(parser.value()?.parse()?),
            Short('i') => opts.init = true,
            Short('s') => opts.keep_stdout = true,
            Short('t') => opts.test = true,
            Short('v') => opts.verbose += 1,
            Short('w') => opts.wait = true,
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    match start() {
        Ok(code) => code,
        Err(e) => {
            if tracing::dispatcher::has_been_set() {
                // The logger writes to stderr and maillog_file.
                error!(target: "master", severity = "fatal", "{e:#}");
            } else {
                eprintln!("postfix/master[{}]: fatal: {e:#}", std::process::id());
            }
            ExitCode::FAILURE
        }
    }
}

fn start() -> anyhow::Result<ExitCode> {
    let opts = parse_args().context("usage: master [-distvw] [-c config_dir] [-e exit_time]")?;
    let dir = opts
        .config_dir
        .clone()
        .unwrap_or_else(conf::config::default_config_dir);
    if opts.test {
        let (_, loaded) = startup::load(&dir, false)?;
        let running = pidfile::running(&loaded.queue_dir)?;
        return Ok(if running.is_some() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    if opts.init && std::process::id() != 1 {
        bail!("-i is allowed only for PID 1");
    }
    if !opts.foreground && !opts.init {
        return background(&opts, &dir);
    }
    serve(&opts, &dir)?;
    Ok(ExitCode::SUCCESS)
}

/// Start `master -d` in a session of its own; with `-w`, wait until it
/// holds the pid file lock (it has bound its sockets) or has failed.
fn background(opts: &Opts, dir: &Path) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("own program path")?;
    let mut cmd = Command::new(exe);
    cmd.arg("-d").arg("-c").arg(dir);
    for _ in 0..opts.verbose {
        cmd.arg("-v");
    }
    if let Some(t) = opts.exit_time {
        cmd.arg("-e").arg(t.to_string());
    }
    cmd.stdin(Stdio::null()).stderr(Stdio::null());
    if !opts.keep_stdout {
        cmd.stdout(Stdio::null());
    }
    let mut child = spawn::detached(cmd).context("start the background master")?;
    if !opts.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let (_, loaded) = startup::load(dir, false)?;
    let deadline = Instant::now() + START_WAIT;
    while Instant::now() < deadline {
        if child.try_wait()?.is_some() {
            bail!("mail system startup failed");
        }
        // A file still being written reads as corrupt: wait on.
        if let Ok(Some(pid)) = pidfile::running(&loaded.queue_dir)
            && pid == child.id()
        {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("mail system startup timed out");
}

/// The master proper: start everything, then act on signals.
fn serve(opts: &Opts, dir: &Path) -> anyhow::Result<()> {
    // Before any child exists, so that no SIGCHLD is missed.
    let mut signals = Signals::install().context("signal handling")?;
    let (config, loaded) = startup::load(dir, opts.verbose > 0)?;
    master::log::Logger::new(&config, "master")
        .context("maillog_file")?
        .verbose(opts.verbose > 0)
        .install()
        .context("logging")?;
    if loaded.settings.credentials.is_none() {
        let uid = nix::unistd::Uid::effective();
        info!(target: "master",
            "not running as root: every service runs as uid {uid}, not as mail_owner {}",
            loaded.mail_owner);
    }
    startup::make_queue(&loaded)?;
    startup::make_maillog(&config, &loaded)?;
    if pidfile::running(&loaded.queue_dir)?.is_some() {
        bail!("the Postfix mail system is already running");
    }
    let mut supervisor = Supervisor::new(loaded.settings.clone());
    let errors = supervisor.apply(loaded.settings, &loaded.plans);
    if let Some((id, e)) = errors.first() {
        bail!("service {id}: {e}");
    }
    let _lock = pidfile::Lock::acquire(&loaded.queue_dir)?;
    supervisor.commit();
    info!(target: "master",
        "daemon started -- version {VERSION}, configuration {}", dir.display());
    let exit_at = opts
        .exit_time
        .map(|t| Instant::now() + Duration::from_secs(t));
    loop {
        let now = Instant::now();
        if exit_at.is_some_and(|t| t <= now) {
            info!(target: "master", "master exit time has arrived");
            supervisor.stop(STOP_GRACE);
            return Ok(());
        }
        let timeout = [
            supervisor.next_event(now),
            exit_at.map(|t| t.saturating_duration_since(now)),
        ]
        .into_iter()
        .flatten()
        .min();
        // A service that runs on demand: its listener, while no process
        // serves it.
        let watched = supervisor.watched(now);
        let fds: Vec<_> = watched.iter().map(|(_, fd)| *fd).collect();
        let (events, readable) = signals.wait(timeout, &fds).context("signals")?;
        let ready: Vec<u64> = readable.into_iter().map(|i| watched[i].0).collect();
        for event in events {
            match event {
                Event::Child => supervisor.reap(Instant::now()),
                Event::Reload => reload(&mut supervisor, dir, opts),
                Event::Terminate(signo) => {
                    info!(target: "master", "terminating on signal {signo}");
                    supervisor.stop(STOP_GRACE);
                    return Ok(());
                }
            }
        }
        supervisor.start_ready(&ready, Instant::now());
        supervisor.start_due(Instant::now());
        supervisor.wake_due(Instant::now());
    }
}

/// SIGHUP: the new configuration, or the old one kept when the new one
/// cannot be read.
fn reload(supervisor: &mut Supervisor, dir: &Path, opts: &Opts) {
    let loaded = match startup::load(dir, opts.verbose > 0) {
        Ok((_, loaded)) => loaded,
        Err(e) => {
            error!(target: "master", "reload failed, configuration unchanged: {e:#}");
            return;
        }
    };
    if let Err(e) = startup::make_queue(&loaded) {
        error!(target: "master", "{e:#}");
    }
    for (id, e) in supervisor.apply(loaded.settings, &loaded.plans) {
        error!(target: "master", "service {id}: {e}: not started");
    }
    supervisor.commit();
    info!(target: "master",
        "reload -- version {VERSION}, configuration {}", dir.display());
}

#[cfg(test)]
mod tests {
    /// Parameters the binary reads itself, in startup and services.
    const PARAMETERS: &[&str] = &[
        "daemon_directory",
        "default_process_limit",
        "inet_interfaces",
        "inet_protocols",
        "mail_owner",
        "queue_directory",
        "service_throttle_time",
        "setgid_group",
    ];

    /// Parameters `master::log` reads for it.
    const LOGGER_PARAMETERS: &[&str] = &["maillog_file", "myhostname", "syslog_name"];

    /// The CONFIGURATION PARAMETERS section lists exactly the parameters
    /// the master reads.
    #[test]
    fn header_lists_the_parameters_read() {
        let mut read = [PARAMETERS, LOGGER_PARAMETERS].concat();
        read.sort_unstable();
        assert_eq!(
            conf::param::documented_parameters(include_str!("main.rs")),
            read
        );
    }

    /// Every parameter of PARAMETERS is named in the sources that read
    /// it, so the list cannot keep one that is no longer read.
    #[test]
    fn parameters_appear_in_the_sources() {
        let sources = [include_str!("startup.rs"), include_str!("services.rs")].concat();
        for name in PARAMETERS {
            assert!(
                sources.contains(&format!("\"{name}\"")) || sources.contains(&format!("${name}")),
                "{name}"
            );
        }
    }
}
