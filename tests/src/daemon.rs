//! One started program under test: its own process group, its stdout and
//! stderr copied line by line into a log file and kept in memory, an exact
//! readiness line to wait for, and the whole group killed on drop
//! (hickory's `server_harness`).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

pub use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::pgroup;

/// How long [`Daemon::start`] waits for the readiness line. Generous,
/// because a loaded CI machine is slow; only a failing test waits it out.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a daemon has between SIGTERM and SIGKILL, unless changed
/// with [`Daemon::with_grace`].
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3);

/// Why a daemon could not be started, or did not do what was awaited.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start `{program}`: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("cannot create the log file {}: {source}", path.display())]
    Log { path: PathBuf, source: io::Error },
    #[error("`{name}` did not print the line {line:?} within {timeout:?} (log: {})", log.display())]
    Timeout {
        name: String,
        line: String,
        timeout: Duration,
        log: PathBuf,
    },
    #[error("`{name}` closed its output ({status}) without printing the line {line:?} (log: {})", log.display())]
    Exited {
        name: String,
        line: String,
        status: String,
        log: PathBuf,
    },
    #[error("`{name}` was still running after {timeout:?}")]
    StillRunning { name: String, timeout: Duration },
}

/// A running program, killed with its whole process group on drop.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    pid: u32,
    leader: Mutex<Leader>,
    log: PathBuf,
    output: Arc<Output>,
    grace: Duration,
}

/// The process we started, and how it ended once reaped.
#[derive(Debug)]
struct Leader {
    child: Child,
    status: Option<ExitStatus>,
}

impl Leader {
    fn try_reap(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }
}

/// What the reader threads collected so far.
#[derive(Debug)]
struct Output {
    state: Mutex<Lines>,
    changed: Condvar,
    log: Mutex<File>,
}

#[derive(Debug)]
struct Lines {
    lines: Vec<String>,
    /// Streams (stdout, stderr) not yet at end of file.
    open: usize,
}

impl Daemon {
    /// Starts `cmd` in a new process group with stdin from `/dev/null`
    /// and stdout and stderr captured into the file `log` (created, with
    /// its parent directories).
    pub fn spawn(mut cmd: Command, log: impl Into<PathBuf>) -> Result<Daemon, Error> {
        let log = log.into();
        let name = Path::new(cmd.get_program())
            .file_name()
            .unwrap_or(cmd.get_program())
            .to_string_lossy()
            .into_owned();
        let file = create_log(&log).map_err(|source| Error::Log {
            path: log.clone(),
            source,
        })?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            program: cmd.get_program().to_string_lossy().into_owned(),
            source,
        })?;
        let output = Arc::new(Output {
            state: Mutex::new(Lines {
                lines: Vec::new(),
                open: 2,
            }),
            changed: Condvar::new(),
            log: Mutex::new(file),
        });
        // Both pipes were requested just above, so both are there.
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        Output::copy(&output, stdout, format!("{name}-stdout"));
        Output::copy(&output, stderr, format!("{name}-stderr"));
        Ok(Daemon {
            name,
            pid: child.id(),
            leader: Mutex::new(Leader {
                child,
                status: None,
            }),
            log,
            output,
            grace: DEFAULT_GRACE,
        })
    }

    /// [`spawn`](Self::spawn), then wait up to [`READY_TIMEOUT`] for a
    /// line equal to `ready_line`.
    ///
    /// # Panics
    /// If either fails; the daemon's output is printed on the way out.
    pub fn start(cmd: Command, log: impl Into<PathBuf>, ready_line: &str) -> Daemon {
        let daemon = Daemon::spawn(cmd, log).unwrap_or_else(|e| panic!("{e}"));
        if let Err(e) = daemon.wait_for_line(ready_line, READY_TIMEOUT) {
            panic!("{e}");
        }
        daemon
    }

    /// Sets the time between SIGTERM and SIGKILL when the daemon is
    /// stopped.
    pub fn with_grace(mut self, grace: Duration) -> Daemon {
        self.grace = grace;
        self
    }

    /// Waits until the daemon has printed a line exactly equal to `line`
    /// (without its line ending), on stdout or stderr, at any time since
    /// it started.
    pub fn wait_for_line(&self, line: &str, timeout: Duration) -> Result<(), Error> {
        self.wait_for_line_after(0, line, timeout).map(drop)
    }

    /// Like [`wait_for_line`](Self::wait_for_line), looking only at lines
    /// numbered `from` and later (lines are numbered from 0 as they
    /// arrive); returns the number of the matching line. Take
    /// [`line_count`](Self::line_count) before triggering an event that
    /// prints a line seen before, such as a second reload.
    pub fn wait_for_line_after(
        &self,
        from: usize,
        line: &str,
        timeout: Duration,
    ) -> Result<usize, Error> {
        let deadline = Instant::now() + timeout;
        let mut state = self.output.lock();
        loop {
            let seen = state.lines.get(from..).unwrap_or_default();
            if let Some(i) = seen.iter().position(|l| l == line) {
                return Ok(from + i);
            }
            if state.open == 0 {
                drop(state);
                return Err(self.exited_error(line));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    name: self.name.clone(),
                    line: line.to_owned(),
                    timeout,
                    log: self.log.clone(),
                });
            }
            state = self.output.wait(state, deadline - now);
        }
    }

    fn exited_error(&self, line: &str) -> Error {
        // The pipes close as the process exits; give it a moment to be
        // reaped so the error can say how it ended.
        let status = match self.wait_exit(Duration::from_millis(500)) {
            Ok(status) => status.to_string(),
            Err(_) => "still running".to_owned(),
        };
        Error::Exited {
            name: self.name.clone(),
            line: line.to_owned(),
            status,
            log: self.log.clone(),
        }
    }

    /// Waits up to `timeout` for the daemon itself (the group leader) to
    /// exit, e.g. after `postfix stop`, and returns its status.
    pub fn wait_exit(&self, timeout: Duration) -> Result<ExitStatus, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_reap() {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(Error::StillRunning {
                    name: self.name.clone(),
                    timeout,
                });
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn try_reap(&self) -> Option<ExitStatus> {
        self.leader().try_reap()
    }

    fn leader(&self) -> MutexGuard<'_, Leader> {
        // Nothing panics while holding this lock.
        self.leader.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops the whole process group (SIGTERM, the grace period, then
    /// SIGKILL) and returns how the leader ended. Dropping the daemon does
    /// the same.
    pub fn stop(&self) -> Option<ExitStatus> {
        let pgid = self.pgid();
        let leader_done = self.try_reap().is_some();
        // Once the leader is reaped its pid may be reused: signal the
        // group only while it still has members.
        if !leader_done || pgroup::has_live_members(pgid) {
            pgroup::terminate(pgid, self.grace, || {
                self.try_reap();
            });
        }
        let status = {
            let mut leader = self.leader();
            if leader.status.is_none() {
                // The group is gone, so the leader is too; killing it
                // again only guards against waiting forever.
                let _ = leader.child.kill();
                leader.status = leader.child.wait().ok();
            }
            leader.status
        };
        self.output.wait_closed(Duration::from_secs(1));
        status
    }

    /// Sends `signal` to the daemon itself (not its group), e.g. SIGHUP.
    pub fn signal(&self, signal: Signal) -> nix::Result<()> {
        nix::sys::signal::kill(self.pgid(), signal)
    }

    fn pgid(&self) -> Pid {
        // process_group(0) made the child the leader of a group whose id
        // is its pid; pids fit in i32 on every Unix.
        Pid::from_raw(i32::try_from(self.pid).expect("a pid fits in i32"))
    }

    /// The daemon's pid, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The file its stdout and stderr are copied into.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The number of lines it has printed so far.
    pub fn line_count(&self) -> usize {
        self.output.lock().lines.len()
    }

    /// The lines it has printed so far, stdout and stderr interleaved as
    /// they arrived, without line endings.
    pub fn lines(&self) -> Vec<String> {
        self.output.lock().lines.clone()
    }

    /// The pids of the `program` processes that logged `ready` here
    /// (`postfix/smtpd[PID]: ready` in a master's output), in order.
    pub fn ready_pids(&self, program: &str) -> Vec<u32> {
        let prefix = format!("postfix/{program}[");
        self.lines()
            .iter()
            .filter_map(|l| l.strip_prefix(&prefix)?.strip_suffix("]: ready"))
            .filter_map(|pid| pid.parse().ok())
            .collect()
    }

    /// Waits up to `timeout` for the `n`th `program` process (from 1) to
    /// be ready; its pid.
    ///
    /// # Panics
    /// If it is not ready in time.
    pub fn nth_ready(&self, program: &str, n: usize, timeout: Duration) -> u32 {
        crate::wait_until(&format!("{program} number {n}"), timeout, || {
            self.ready_pids(program).get(n - 1).copied()
        })
    }

    /// What a failed test prints: the daemon's output, framed.
    pub fn report(&self) -> String {
        let lines = self.lines();
        format!(
            "---- `{}` (pid {}) output, also in {} ----\n{}\n---- end of `{}` output ----",
            self.name,
            self.pid,
            self.log.display(),
            lines.join("\n"),
            self.name,
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
        if thread::panicking() {
            eprintln!("{}", self.report());
        }
    }
}

impl Output {
    /// Copies `stream` line by line into the log file and the line list,
    /// on a thread of its own, until end of file.
    fn copy(output: &Arc<Output>, stream: impl Read + Send + 'static, name: String) {
        let output = Arc::clone(output);
        let spawned = thread::Builder::new().name(name).spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => output.push(&buf),
                }
            }
            output.lock().open -= 1;
            output.changed.notify_all();
        });
        // Without the thread nobody drains the pipe; the test cannot go on.
        spawned.expect("cannot start an output reader thread");
    }

    fn push(&self, raw: &[u8]) {
        {
            let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            let _ = log.write_all(raw);
            if !raw.ends_with(b"\n") {
                let _ = log.write_all(b"\n");
            }
        }
        let text = String::from_utf8_lossy(raw);
        let line = text.trim_end_matches(['\n', '\r']).to_owned();
        self.lock().lines.push(line);
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, Lines> {
        // A reader thread never panics while holding the lock; if a test
        // thread did, the lines are still worth reading.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, Lines>, timeout: Duration) -> MutexGuard<'a, Lines> {
        match self.changed.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    /// Waits for both streams to reach end of file, so the last lines are
    /// in; gives up after `timeout` (a process that left the group may
    /// still hold a pipe).
    fn wait_closed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while state.open > 0 {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state = self.wait(state, deadline - now);
        }
    }
}

fn create_log(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    File::create(path)
}
