//! The signals the master acts on, read synchronously: SIGCHLD, SIGHUP,
//! SIGTERM and SIGINT are blocked and read from a signalfd, so they
//! arrive as plain values in the event loop and no handler can race with
//! it. SIGCHLD only says "reap": the loop then collects every exited
//! child with waitpid(WNOHANG), as signals of one kind coalesce. The
//! same poll watches the listeners of services that run on demand.

use std::os::fd::{AsFd, BorrowedFd};
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

    /// Wait up to `timeout` (None: for ever) for a signal or for one of
    /// `listeners` to become readable (a client waits on it); return
    /// the signals that arrived, possibly none, and the indexes in
    /// `listeners` of the readable ones.
    pub(crate) fn wait(
        &mut self,
        timeout: Option<Duration>,
        listeners: &[BorrowedFd<'_>],
    ) -> nix::Result<(Vec<Event>, Vec<usize>)> {
        let timeout = match timeout {
            None => PollTimeout::NONE,
            // Round up, so that a deadline is not missed by a millisecond.
            Some(t) => {
                PollTimeout::try_from(t + Duration::from_micros(999)).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds: Vec<PollFd<'_>> = std::iter::once(self.fd.as_fd())
            .chain(listeners.iter().copied())
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
        let mut readable = Vec::new();
        match poll(&mut fds, timeout) {
            Ok(_) => {
                readable = fds[1..]
                    .iter()
                    .enumerate()
                    .filter(|(_, fd)| fd.revents().is_some_and(|r| r.contains(PollFlags::POLLIN)))
                    .map(|(i, _)| i)
                    .collect();
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
        drop(fds);
        let mut events = Vec::new();
        while let Some(info) = self.fd.read_signal()? {
            let signo = i32::try_from(info.ssi_signo).unwrap_or(0);
            events.push(match Signal::try_from(signo) {
                Ok(Signal::SIGCHLD) => Event::Child,
                Ok(Signal::SIGHUP) => Event::Reload,
                _ => Event::Terminate(signo),
            });
        }
        Ok((events, readable))
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
        assert_eq!(
            signals.wait(Some(Duration::ZERO), &[]).unwrap(),
            (vec![], vec![])
        );
        nix::sys::pthread::pthread_kill(nix::sys::pthread::pthread_self(), Signal::SIGHUP).unwrap();
        assert_eq!(
            signals.wait(Some(Duration::from_secs(5)), &[]).unwrap(),
            (vec![Event::Reload], vec![])
        );
    }

    /// A listener with a client waiting is reported by its index; one
    /// without is not.
    #[test]
    fn a_listener_with_a_waiting_client_is_readable() {
        let mut signals = Signals::install().unwrap();
        let quiet = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fds = [quiet.as_fd(), busy.as_fd()];
        let (_, ready) = signals.wait(Some(Duration::ZERO), &fds).unwrap();
        assert_eq!(ready, Vec::<usize>::new());
        let _client = std::net::TcpStream::connect(busy.local_addr().unwrap()).unwrap();
        let (_, ready) = signals.wait(Some(Duration::from_secs(5)), &fds).unwrap();
        assert_eq!(ready, [1]);
    }
}
