//! The listening socket the master hands over: file descriptor 3 (the
//! contract of `master::service` and `scripts/with-listener`). This is
//! the crate's only `unsafe`: taking ownership of an inherited
//! descriptor.

use std::io;
use std::net::TcpListener;
use std::os::fd::{FromRawFd, RawFd};

/// The inherited listener's descriptor.
const LISTEN_FD: RawFd = 3;

/// Take fd 3 as a non-blocking TCP listener. Call first thing in
/// `main`, before anything else can open a file that would land on
/// descriptor 3.
pub(crate) fn inherited() -> io::Result<TcpListener> {
    // What the kernel says fd 3 is, without touching it: "socket:[N]".
    let target = std::fs::read_link(format!("/proc/self/fd/{LISTEN_FD}")).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("no listening socket on file descriptor 3: {e}"),
        )
    })?;
    if !target.to_string_lossy().starts_with("socket:") {
        return Err(io::Error::other(format!(
            "file descriptor 3 is {}, not a socket",
            target.display()
        )));
    }
    #[allow(unsafe_code)]
    // SAFETY: fd 3 is open and is a socket (checked above); it was
    // inherited from the master, and nothing in this process owns it:
    // main calls this before opening any file, so no other handle can
    // refer to it. The TcpListener becomes its only owner.
    let listener = unsafe { TcpListener::from_raw_fd(LISTEN_FD) };
    // Fails for a socket that is not a bound TCP socket.
    listener.local_addr()?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}
