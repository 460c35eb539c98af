//! The `wakeup` column: every N seconds the master connects to a unix
//! service's socket and writes `W`, as Postfix's master does, so that
//! services such as pickup and qmgr look for work without being asked.
//! The connect does not block: a service too busy to take it misses
//! that wake-up, and the next one comes N seconds later.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, connect};

/// The request byte of a wake-up (Postfix's TRIGGER_REQ_WAKEUP).
const WAKEUP: &[u8] = b"W";

/// Wake up the service listening on `path`.
pub(crate) fn trigger(path: &Path) -> io::Result<()> {
    let fd = nix::sys::socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    connect(fd.as_fd().as_raw_fd(), &UnixAddr::new(path)?)?;
    let mut stream = UnixStream::from(fd);
    stream.write_all(WAKEUP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixListener;

    #[test]
    fn a_wakeup_is_one_w() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pickup");
        let listener = UnixListener::bind(&path).unwrap();
        trigger(&path).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"W");
        drop(listener);
        assert!(trigger(&path).is_err(), "nobody listens");
    }
}
