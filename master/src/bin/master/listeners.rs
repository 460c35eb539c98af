//! The sockets the master binds for its services: where an inet service
//! listens (`host:port` or a bare port, a port number or a name from
//! /etc/services, the addresses of `inet_interfaces` limited to
//! `inet_protocols`) and, under `$queue_directory/private` or `public`,
//! the unix stream sockets of `unix` and `pass` services, the datagram
//! sockets of `unix-dgram` services and the named pipes of `fifo` ones,
//! with Postfix's modes (master_listen.c).

use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::{Path, PathBuf};

use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage, bind, listen, setsockopt, sockopt,
};

/// Where a service listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Tcp(SocketAddr),
    /// A unix stream socket: `unix` and `pass` services.
    Unix(PathBuf),
    /// A unix datagram socket: `unix-dgram` services (postlogd).
    UnixDgram(PathBuf),
    /// A named pipe: `fifo` services (the old pickup and qmgr).
    Fifo(PathBuf),
}

impl Endpoint {
    /// The file the endpoint is, for all but TCP.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Endpoint::Tcp(_) => None,
            Endpoint::Unix(path) | Endpoint::UnixDgram(path) | Endpoint::Fifo(path) => Some(path),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(addr) => write!(f, "{addr}"),
            Endpoint::Unix(path) | Endpoint::UnixDgram(path) | Endpoint::Fifo(path) => {
                write!(f, "{}", path.display())
            }
        }
    }
}

/// A bound, listening socket, or an open named pipe.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
    UnixDgram(UnixDatagram),
    Fifo(fs::File),
}

impl Listener {
    /// A stream socket (inet, unix, pass): a waiting client keeps it
    /// readable until someone accepts the connection.
    pub(crate) fn is_stream(&self) -> bool {
        matches!(self, Listener::Tcp(_) | Listener::Unix(_))
    }

    /// The descriptor, to poll.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(l) => l.as_fd(),
            Listener::Unix(l) => l.as_fd(),
            Listener::UnixDgram(l) => l.as_fd(),
            Listener::Fifo(l) => l.as_fd(),
        }
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l) => l.as_raw_fd(),
            Listener::UnixDgram(l) => l.as_raw_fd(),
            Listener::Fifo(l) => l.as_raw_fd(),
        }
    }
}

/// What `inet_interfaces` and `inet_protocols` allow for a service
/// without a host part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Interfaces {
    /// `all`: the wildcard address of each enabled family.
    All {
        v4: bool,
        v6: bool,
    },
    Addresses(Vec<IpAddr>),
}

/// The addresses an inet service named `name` (`host:port`, `[v6]:port`
/// or `port`) listens on.
pub(crate) fn inet_addresses(name: &str, interfaces: &Interfaces) -> io::Result<Vec<SocketAddr>> {
    let (host, port) = match name.rsplit_once(':') {
        Some((host, port)) => (Some(host), port),
        None => (None, name),
    };
    let port = port_number(port)?;
    let hosts: Vec<IpAddr> = match host {
        Some(host) => resolve(host)?,
        None => match interfaces {
            Interfaces::All { v4, v6 } => {
                let mut all = Vec::new();
                if *v4 {
                    all.push(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                }
                if *v6 {
                    all.push(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
                }
                all
            }
            Interfaces::Addresses(addrs) => addrs.clone(),
        },
    };
    Ok(hosts
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

/// A host part: an address (IPv6 possibly in brackets) or a host name.
fn resolve(host: &str) -> io::Result<Vec<IpAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse() {
        return Ok(vec![ip]);
    }
    let mut found: Vec<IpAddr> = (bare, 0).to_socket_addrs()?.map(|sa| sa.ip()).collect();
    found.dedup();
    if found.is_empty() {
        return Err(io::Error::other(format!("host not found: {host}")));
    }
    Ok(found)
}

/// A port number, or a TCP service name from /etc/services.
pub(crate) fn port_number(port: &str) -> io::Result<u16> {
    if let Ok(n) = port.parse() {
        return Ok(n);
    }
    let services = fs::read_to_string("/etc/services").unwrap_or_default();
    lookup_service(&services, port)
        .ok_or_else(|| io::Error::other(format!("unknown service: {port}/tcp")))
}

/// `name/tcp` (or an alias of it) in the text of /etc/services.
fn lookup_service(services: &str, name: &str) -> Option<u16> {
    services.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let official = words.next()?;
        let (port, proto) = words.next()?.split_once('/')?;
        let named = official == name || words.any(|alias| alias == name);
        (named && proto == "tcp")
            .then(|| port.parse().ok())
            .flatten()
    })
}

/// Bind and listen on `addr`, IPv6 sockets v6-only (as Postfix), so that
/// `0.0.0.0:25` and `[::]:25` can both be bound.
pub(crate) fn bind_tcp(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let fd: OwnedFd =
        nix::sys::socket::socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    if addr.is_ipv6() {
        setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
    }
    bind(fd.as_fd().as_raw_fd(), &SockaddrStorage::from(addr))?;
    listen(&fd, Backlog::new(backlog).unwrap_or(Backlog::MAXCONN))?;
    Ok(TcpListener::from(fd))
}

/// Create the unix socket `path` (replacing a stale one), mode 0666 as
/// Postfix's unix_listen(): access is controlled by the directory
/// (`private` 0700, `public` 0710 with `setgid_group`).
pub(crate) fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    remove_stale(path)?;
    let listener = UnixListener::bind(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o666))?;
    Ok(listener)
}

/// Create the unix datagram socket `path` (replacing a stale one), mode
/// 0666 as Postfix's unix_dgram_listen().
pub(crate) fn bind_unix_dgram(path: &Path) -> io::Result<UnixDatagram> {
    remove_stale(path)?;
    let socket = UnixDatagram::bind(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o666))?;
    Ok(socket)
}

/// Create the named pipe `path` (replacing a stale file), mode 0622 as
/// Postfix's fifo_listen() (anyone may write a request, only the owner
/// read), and open it for reading and writing without blocking: with the
/// master holding a writer, the service never reads end of file.
pub(crate) fn open_fifo(path: &Path) -> io::Result<fs::File> {
    remove_stale(path)?;
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o622))?;
    let fifo = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)?;
    // mkfifo's mode went through the umask.
    fs::set_permissions(path, fs::Permissions::from_mode(0o622))?;
    Ok(fifo)
}

fn remove_stale(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: &str = "\
# comment
ftp\t\t21/tcp
smtp\t\t25/tcp\t\tmail
submission\t587/tcp\t\t\t\t# mail message submission
syslog\t\t514/udp
";

    #[test]
    fn service_names_come_from_etc_services() {
        assert_eq!(lookup_service(SERVICES, "smtp"), Some(25));
        assert_eq!(lookup_service(SERVICES, "mail"), Some(25));
        assert_eq!(lookup_service(SERVICES, "submission"), Some(587));
        assert_eq!(lookup_service(SERVICES, "syslog"), None);
        assert_eq!(lookup_service(SERVICES, "nope"), None);
        assert_eq!(port_number("2525").unwrap(), 2525);
    }

    #[test]
    fn inet_names_with_and_without_host() {
        let all = Interfaces::All { v4: true, v6: true };
        assert_eq!(
            inet_addresses("127.0.0.1:2525", &all).unwrap(),
            vec!["127.0.0.1:2525".parse().unwrap()]
        );
        assert_eq!(
            inet_addresses("[::1]:2525", &all).unwrap(),
            vec!["[::1]:2525".parse().unwrap()]
        );
        assert_eq!(
            inet_addresses("2525", &all).unwrap(),
            vec![
                "0.0.0.0:2525".parse().unwrap(),
                "[::]:2525".parse().unwrap()
            ]
        );
        let v4 = Interfaces::All {
            v4: true,
            v6: false,
        };
        assert_eq!(inet_addresses("2525", &v4).unwrap().len(), 1);
        let lo = Interfaces::Addresses(vec!["127.0.0.1".parse().unwrap()]);
        assert_eq!(
            inet_addresses("2525", &lo).unwrap(),
            vec!["127.0.0.1:2525".parse().unwrap()]
        );
    }

    #[test]
    fn v4_and_v6_wildcards_bind_side_by_side() {
        let v4 = bind_tcp("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let port = v4.local_addr().unwrap().port();
        // Without IPV6_V6ONLY this would take the v4 port too, or fail.
        if let Ok(v6) = bind_tcp(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port), 16) {
            assert_eq!(v6.local_addr().unwrap().port(), port);
        }
        std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    }

    #[test]
    fn unix_sockets_replace_stale_ones_and_are_mode_0666() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qmgr");
        fs::write(&path, "stale").unwrap();
        let _l = bind_unix(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666);
        std::os::unix::net::UnixStream::connect(&path).unwrap();
    }

    /// `unix-dgram` is a datagram socket, `fifo` a named pipe mode 0622
    /// that the holder reads what writers write.
    #[test]
    fn datagram_sockets_and_fifos_have_postfix_types_and_modes() {
        use std::io::{Read, Write};
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let dgram = dir.path().join("postlog");
        let socket = bind_unix_dgram(&dgram).unwrap();
        let meta = fs::metadata(&dgram).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o666);
        UnixDatagram::unbound()
            .unwrap()
            .send_to(b"hi", &dgram)
            .unwrap();
        let mut buf = [0; 8];
        assert_eq!(socket.recv(&mut buf).unwrap(), 2);

        let path = dir.path().join("pickup");
        fs::write(&path, "stale").unwrap();
        let mut fifo = open_fifo(&path).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert!(meta.file_type().is_fifo());
        assert_eq!(meta.permissions().mode() & 0o777, 0o622);
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .write_all(b"W")
            .unwrap();
        let mut got = [0; 4];
        assert_eq!(fifo.read(&mut got).unwrap(), 1);
        assert_eq!(&got[..1], b"W");
        // Nothing more, and no end of file: the master's end stays open.
        assert_eq!(
            fifo.read(&mut got).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    }
}
