//! The `wakeup` column: every N seconds the master writes `W` to a
//! service's unix socket (connecting to a stream socket, sending one
//! datagram to a `unix-dgram` one) or named pipe, as Postfix's master
//! does, so that services such as pickup and qmgr look for work without
//! being asked. Nothing blocks: a service too busy to take it misses
//! that wake-up, and the next one comes N seconds later.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::Path;

use crate::listeners::Endpoint;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, connect};

/// The request byte of a wake-up (Postfix's TRIGGER_REQ_WAKEUP).
const WAKEUP: &[u8] = b"W";

/// Wake up the service listening on `endpoint` (TCP: nothing to do).
pub(crate) fn wake(endpoint: &Endpoint) -> io::Result<()> {
    match endpoint {
        Endpoint::Tcp(_) => Ok(()),
        Endpoint::Unix(path) => trigger(path),
        Endpoint::UnixDgram(path) => {
            let socket = UnixDatagram::unbound()?;
            socket.set_nonblocking(true)?;
            socket.send_to(WAKEUP, path).map(drop)
        }
        Endpoint::Fifo(path) => std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)?
            .write_all(WAKEUP),
    }
}

/// Wake up the service listening on the stream socket `path`.
fn trigger(path: &Path) -> io::Result<()> {
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
        // Gone (a listener dropped here could still be open in a child
        // another test is forking).
        drop(listener);
        std::fs::remove_file(&path).unwrap();
        assert!(trigger(&path).is_err(), "nobody listens");
    }

    #[test]
    fn datagram_and_fifo_services_get_one_w_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("postlog");
        let socket = crate::listeners::bind_unix_dgram(&path).unwrap();
        wake(&Endpoint::UnixDgram(path)).unwrap();
        let mut buf = [0; 8];
        assert_eq!(socket.recv(&mut buf).unwrap(), 1);
        assert_eq!(&buf[..1], b"W");
        let path = dir.path().join("pickup");
        let mut fifo = crate::listeners::open_fifo(&path).unwrap();
        wake(&Endpoint::Fifo(path)).unwrap();
        assert_eq!(fifo.read(&mut buf).unwrap(), 1);
        assert_eq!(&buf[..1], b"W");
    }
}
