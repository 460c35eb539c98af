//! Starting a child: fork and exec with the listener at file descriptor 3
//! and, when the master runs as root, the privileges dropped to
//! `mail_owner` for good (initgroups, setgid, setuid) before exec. This is
//! the binary's only `unsafe`: the `pre_exec` closures, which run between
//! fork and exec.

use std::ffi::CString;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
use nix::unistd::{Gid, Uid, dup2, initgroups, setgid, setsid, setuid};

/// The descriptor a service finds its listening socket on.
pub(crate) const LISTEN_FD: RawFd = 3;

/// Who a child becomes before exec.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    /// The login name, for initgroups(3).
    pub(crate) name: CString,
    pub(crate) uid: Uid,
    pub(crate) gid: Gid,
}

/// Start `cmd` with `listener` at fd 3 (CLOEXEC cleared) and, with
/// `credentials`, as that user. The master blocks the signals it reads
/// through a signalfd; the child gets an empty signal mask.
pub(crate) fn service(
    mut cmd: Command,
    listener: RawFd,
    credentials: Option<Credentials>,
) -> io::Result<Child> {
    let child = move || -> io::Result<()> {
        sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
        if listener == LISTEN_FD {
            // dup2(3, 3) is a no-op that leaves CLOEXEC set.
            // SAFETY: fd 3 is the master's listener, open in this child
            // (it was open in the parent at fork); it is only borrowed.
            let three = unsafe { BorrowedFd::borrow_raw(LISTEN_FD) };
            fcntl(three, FcntlArg::F_SETFD(FdFlag::empty()))?;
        } else {
            // SAFETY: `listener` is open in this child (it was open in
            // the parent at fork, and nothing has closed it since); it is
            // only borrowed here.
            let from = unsafe { BorrowedFd::borrow_raw(listener) };
            // SAFETY: fd 3 may be open (then replaced by dup2) or not;
            // ManuallyDrop means this OwnedFd never closes it, so it is
            // only a name for "descriptor 3" that dup2 needs.
            let mut three = ManuallyDrop::new(unsafe { OwnedFd::from_raw_fd(LISTEN_FD) });
            // dup2 clears CLOEXEC on the copy.
            dup2(from, &mut three)?;
        }
        if let Some(c) = &credentials {
            initgroups(&c.name, c.gid)?;
            setgid(c.gid)?;
            setuid(c.uid)?;
        }
        Ok(())
    };
    // SAFETY: the closure runs in the forked child before exec. Without
    // credentials it calls only async-signal-safe functions (sigprocmask,
    // fcntl, dup2). With them it also calls setgid and setuid (safe) and
    // initgroups, which reads the group database and may allocate: that
    // is sound because the master is single-threaded, so no other thread
    // can hold the allocator's or NSS's locks at fork time. The name was
    // made into a CString before the fork.
    unsafe {
        cmd.pre_exec(child);
    }
    cmd.spawn()
}

/// Start `cmd` in a session of its own, with an empty signal mask: the
/// background master of `master` without `-d`.
pub(crate) fn detached(mut cmd: Command) -> io::Result<Child> {
    let child = || -> io::Result<()> {
        sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
        setsid()?;
        Ok(())
    };
    // SAFETY: runs in the forked child before exec and calls only
    // async-signal-safe functions (sigprocmask, setsid).
    unsafe {
        cmd.pre_exec(child);
    }
    cmd.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// The child finds the listener at fd 3: the same socket (inode) the
    /// master bound, with CLOEXEC cleared so that it survives exec.
    #[test]
    fn child_gets_the_listener_at_fd_3() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = listener.as_raw_fd();
        let mine = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "readlink /proc/self/fd/3"])
            .stdout(std::process::Stdio::piped());
        let mut child = service(cmd, fd, None).unwrap();
        // Read to end of file rather than wait: the supervise tests reap
        // with waitpid(-1) in this same process and may take the status.
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        let _ = child.wait();
        assert_eq!(out.trim(), mine.to_string_lossy());
    }
}
