//! The signals the master acts on, read synchronously: SIGCHLD, SIGHUP,
//! SIGTERM and SIGINT are blocked and read from a signalfd, so they
//! arrive as plain values in the event loop and no handler can race with
//! it. SIGCHLD only says "reap": the loop then collects every exited
//! child with waitpid(WNOHANG), as signals of one kind coalesce.

use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// SIGCHLD: one or more children exited.
    Child,
    /// SIGHUP: re-read the configuration.
    Reload,
    /// SIGTERM or SIGINT, with its number.
    Terminate(i32),
}

#[derive(Debug)]
pub(crate) struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Block the signals and open the signalfd. Call before starting any
    /// child or thread.
    pub(crate) fn install() -> nix::Result<Signals> {
        let mut mask = SigSet::empty();
        for signal in [
            Signal::SIGCHLD,
            Signal::SIGHUP,
            Signal::SIGTERM,
            Signal::SIGINT,
        ] {
            mask.add(signal);
        }
        mask.thread_block()?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd })
    }

    /// Wait up to `timeout` (None: for ever) and return what arrived,
    /// possibly nothing.
    pub(crate) fn wait(&mut self, timeout: Option<Duration>) -> nix::Result<Vec<Event>> {
        let timeout = match timeout {
            None => PollTimeout::NONE,
            // Round up, so that a deadline is not missed by a millisecond.
            Some(t) => {
                PollTimeout::try_from(t + Duration::from_micros(999)).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
        let mut events = Vec::new();
        while let Some(info) = self.fd.read_signal()? {
            let signo = i32::try_from(info.ssi_signo).unwrap_or(0);
            events.push(match Signal::try_from(signo) {
                Ok(Signal::SIGCHLD) => Event::Child,
                Ok(Signal::SIGHUP) => Event::Reload,
                _ => Event::Terminate(signo),
            });
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test harness runs tests on threads; the mask is per thread,
    /// and the signal is sent to this thread only.
    #[test]
    fn a_blocked_signal_arrives_as_an_event() {
        let mut signals = Signals::install().unwrap();
        assert_eq!(signals.wait(Some(Duration::ZERO)).unwrap(), []);
        nix::sys::pthread::pthread_kill(nix::sys::pthread::pthread_self(), Signal::SIGHUP).unwrap();
        assert_eq!(
            signals.wait(Some(Duration::from_secs(5))).unwrap(),
            [Event::Reload]
        );
    }
}
