//! The harness's `Daemon`, driven with `sh -c` children: readiness lines,
//! timeouts, and killing the whole process group.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use e2e::daemon::{DEFAULT_GRACE, Daemon, Error, Signal};
use e2e::is_alive;
use tempfile::TempDir;

const LONG: Duration = Duration::from_secs(20);

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]);
    cmd
}

/// Spawns `script`, logging into a fresh temporary directory.
fn spawn(script: &str) -> (Daemon, TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let daemon = Daemon::spawn(sh(script), tmp.path().join("sh.log")).unwrap();
    (daemon, tmp)
}

/// The pid the script printed as `grandchild <pid>`.
fn grandchild_of(daemon: &Daemon) -> u32 {
    daemon
        .lines()
        .iter()
        .find_map(|l| l.strip_prefix("grandchild ")?.parse().ok())
        .expect("the script prints its grandchild's pid before `ready`")
}

#[test]
fn ready_line_is_seen_after_a_delay_and_only_exactly() {
    let started = Instant::now();
    let (d, _tmp) = spawn("echo 'ready soon'; echo ' ready'; sleep 0.3; echo ready; exec sleep 30");
    d.wait_for_line("ready", LONG).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "matched a line that only resembles the readiness line"
    );
    assert_eq!(d.lines(), ["ready soon", " ready", "ready"]);
}

#[test]
fn a_line_that_never_comes_times_out() {
    let (d, _tmp) = spawn("echo 'almost ready'; exec sleep 30");
    let started = Instant::now();
    let err = d
        .wait_for_line("ready", Duration::from_millis(300))
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn exiting_without_the_line_is_reported_at_once() {
    let (d, _tmp) = spawn("echo bye; exit 3");
    let started = Instant::now();
    let err = d.wait_for_line("ready", LONG).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match err {
        Error::Exited { status, .. } => assert!(status.contains('3'), "{status}"),
        other => panic!("expected Exited, got {other}"),
    }
}

#[test]
fn stdout_and_stderr_both_reach_the_log_and_can_signal_readiness() {
    let (d, _tmp) = spawn("echo out; echo err >&2; echo ready >&2; exec sleep 30");
    d.wait_for_line("ready", LONG).unwrap();
    d.wait_for_line("out", LONG).unwrap();
    let log = fs::read_to_string(d.log_path()).unwrap();
    for line in ["out", "err", "ready"] {
        assert!(log.lines().any(|l| l == line), "{line:?} not in {log:?}");
    }
    let report = d.report();
    assert!(report.contains(&d.log_path().display().to_string()));
    for line in ["out", "err", "ready"] {
        assert!(
            report.lines().any(|l| l == line),
            "{line:?} not in {report}"
        );
    }
}

#[test]
fn wait_for_line_after_skips_earlier_lines() {
    let (d, _tmp) = spawn("echo tick; sleep 0.2; echo tick; exec sleep 30");
    let first = d.wait_for_line_after(0, "tick", LONG).unwrap();
    let second = d.wait_for_line_after(first + 1, "tick", LONG).unwrap();
    assert_eq!((first, second), (0, 1));
}

#[test]
fn drop_kills_the_whole_group_including_a_grandchild() {
    let (d, _tmp) = spawn("sleep 300 & echo \"grandchild $!\"; echo ready; wait");
    d.wait_for_line("ready", LONG).unwrap();
    let (leader, grandchild) = (d.pid(), grandchild_of(&d));
    assert!(is_alive(leader) && is_alive(grandchild));
    let started = Instant::now();
    drop(d);
    assert!(!is_alive(grandchild), "grandchild {grandchild} survived");
    assert!(!is_alive(leader), "leader {leader} survived");
    assert!(
        started.elapsed() < DEFAULT_GRACE,
        "SIGTERM should have sufficed"
    );
}

#[test]
fn a_group_ignoring_sigterm_is_killed_after_the_grace() {
    let grace = Duration::from_millis(200);
    let (d, _tmp) = spawn("trap '' TERM; sleep 300 & echo \"grandchild $!\"; echo ready; wait");
    let d = d.with_grace(grace);
    d.wait_for_line("ready", LONG).unwrap();
    let grandchild = grandchild_of(&d);
    let started = Instant::now();
    let status = d.stop().expect("the leader was reaped");
    assert!(started.elapsed() >= grace);
    assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
    assert!(!is_alive(grandchild), "grandchild {grandchild} survived");
}

#[test]
fn a_failing_test_still_kills_the_group() {
    let grandchild = Mutex::new(None);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let (d, _tmp) = spawn("sleep 300 & echo \"grandchild $!\"; echo ready; wait");
        d.wait_for_line("ready", LONG).unwrap();
        *grandchild.lock().unwrap() = Some(grandchild_of(&d));
        panic!("the test failed");
    }));
    assert!(result.is_err());
    let pid = grandchild
        .lock()
        .unwrap()
        .expect("recorded before the panic");
    assert!(!is_alive(pid), "grandchild {pid} survived the unwinding");
}

#[test]
fn start_panics_with_the_reason_when_the_daemon_dies() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("sh.log");
    let result =
        panic::catch_unwind(|| Daemon::start(sh("echo 'fatal: no config'; exit 1"), log, "ready"));
    let payload = result.expect_err("start must panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("closed its output"), "{message}");
    assert!(message.contains("exit status: 1"), "{message}");
}

#[test]
fn signal_reaches_the_daemon() {
    let (d, _tmp) = spawn("trap 'echo got-hup' HUP; echo ready; while :; do sleep 0.05; done");
    d.wait_for_line("ready", LONG).unwrap();
    d.signal(Signal::SIGHUP).unwrap();
    d.wait_for_line("got-hup", LONG).unwrap();
}

#[test]
fn wait_exit_returns_the_status_or_times_out() {
    let (done, _tmp) = spawn("exit 7");
    assert_eq!(done.wait_exit(LONG).unwrap().code(), Some(7));
    let (running, _tmp2) = spawn("exec sleep 30");
    let err = running.wait_exit(Duration::from_millis(100)).unwrap_err();
    assert!(matches!(err, Error::StillRunning { .. }), "{err}");
}
