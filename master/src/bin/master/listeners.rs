//! The sockets the master binds for its services: where an inet service
//! listens (`host:port` or a bare port, a port number or a name from
//! /etc/services, the addresses of `inet_interfaces` limited to
//! `inet_protocols`) and the unix sockets under `$queue_directory`.

use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage, bind, listen, setsockopt, sockopt,
};

/// Where a service listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(addr) => write!(f, "{addr}"),
            Endpoint::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A bound, listening socket.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    pub(crate) fn raw_fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l) => l.as_raw_fd(),
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
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o666))?;
    Ok(listener)
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
}
