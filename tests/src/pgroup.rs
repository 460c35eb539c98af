//! Ending a whole process group: SIGTERM, a grace period, then SIGKILL.
//!
//! "Gone" is read from `/proc`: a zombie counts as gone, because a
//! grandchild orphaned by the group leader is reparented to PID 1, and in
//! a container PID 1 may never reap it.

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// How often the group is looked at while waiting for it to go.
const POLL: Duration = Duration::from_millis(10);

/// Sends SIGTERM to the group, waits up to `grace` for every member to
/// exit, then sends SIGKILL and waits again. `reap` is called while
/// waiting so the caller can collect its own child (the leader).
/// Returns whether SIGKILL was needed.
pub(crate) fn terminate(pgid: Pid, grace: Duration, mut reap: impl FnMut()) -> bool {
    if killpg(pgid, Signal::SIGTERM).is_err() {
        // ESRCH: no process left in the group.
        reap();
        return false;
    }
    if wait_gone(pgid, grace, &mut reap) {
        return false;
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    // SIGKILL cannot be caught; this only waits for the kernel.
    wait_gone(pgid, Duration::from_secs(10), &mut reap);
    true
}

/// Polls until no live process is in the group, or `timeout` passes.
fn wait_gone(pgid: Pid, timeout: Duration, reap: &mut impl FnMut()) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        reap();
        if !has_live_members(pgid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(POLL);
    }
}

/// Whether any process other than a zombie is in group `pgid`.
pub(crate) fn has_live_members(pgid: Pid) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else {
        // No /proc: fall back to asking the kernel, which counts zombies.
        return killpg(pgid, None).is_ok();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| stat(Pid::from_raw(pid)))
        .any(|s| s.pgrp == pgid.as_raw() && s.is_live())
}

/// Whether process `pid` exists and is not a zombie (a test's check that
/// a daemon or its children are gone).
pub fn is_alive(pid: u32) -> bool {
    i32::try_from(pid).is_ok_and(|pid| stat(Pid::from_raw(pid)).is_some_and(|s| s.is_live()))
}

/// The fields of `/proc/<pid>/stat` we use.
struct Stat {
    state: char,
    pgrp: i32,
}

impl Stat {
    fn is_live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

fn stat(pid: Pid) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// `pid (comm) state ppid pgrp ...`; `comm` may hold spaces and `)`, so
/// the fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(Stat { state, pgrp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_stat_reads_state_and_group_after_the_command_name() {
        let s = parse_stat("4242 (sh -c (x) y) S 1 4240 4240 0 -1 4194560").unwrap();
        assert_eq!((s.state, s.pgrp), ('S', 4240));
        let z = parse_stat("7 (sleep) Z 1 7 7 0").unwrap();
        assert!(!z.is_live());
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn this_process_is_alive_and_in_a_live_group() {
        assert!(is_alive(std::process::id()));
        assert!(has_live_members(nix::unistd::getpgrp()));
    }
}
