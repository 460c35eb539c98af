//! The client-name lookups as the system's host lookup does them (glibc
//! `hosts: files dns`; Postfix's `smtpd_peer` uses getnameinfo and
//! getaddrinfo, while its DNS restrictions ask DNS alone, so hickory's own
//! use of /etc/hosts is off). Two things hickory does differently:
//!
//! - a name or address listed in /etc/hosts is answered from there alone,
//!   the first name of its line being the host's name ([`HostsFile`]);
//!   hickory would answer per record type (so `AAAA` of a hosts-only
//!   name goes to DNS) and pick any name of the line;
//! - hickory answers every PTR query under `127.in-addr.arpa` itself with
//!   `localhost` (RFC 6761 §6.3); for loopback addresses other than
//!   127.0.0.1 [`LoopbackPtr`] asks the name servers with one plain UDP
//!   query per server and try, so that a client on 127.0.0.x gets the
//!   name its DNS server gives it (the tests run "remote" clients there).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use hickory_resolver::proto::op::{Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use super::dns::Lookup;

/// /etc/hosts: each line's address and names, in file order.
#[derive(Debug, Default)]
pub(super) struct HostsFile {
    lines: Vec<(IpAddr, Vec<String>)>,
}

impl HostsFile {
    /// /etc/hosts, or nothing if it cannot be read.
    pub(super) fn system() -> HostsFile {
        std::fs::read_to_string("/etc/hosts")
            .map(|text| HostsFile::parse(&text))
            .unwrap_or_default()
    }

    /// `address name [alias ...]` lines; `#` starts a comment; lines
    /// that do not start with an address are skipped, as glibc does.
    pub(super) fn parse(text: &str) -> HostsFile {
        let lines = text
            .lines()
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or_default();
                let mut words = line.split_ascii_whitespace();
                let addr = words.next()?.parse().ok()?;
                let names: Vec<String> = words.map(str::to_string).collect();
                (!names.is_empty()).then_some((addr, names))
            })
            .collect();
        HostsFile { lines }
    }

    /// The name of `addr`: the first name of the first line with it.
    pub(super) fn name_of(&self, addr: IpAddr) -> Option<&str> {
        self.lines
            .iter()
            .find(|(a, _)| *a == addr)
            .map(|(_, names)| names[0].as_str())
    }

    /// The addresses of every line that lists `name` (any case).
    pub(super) fn addresses_of(&self, name: &str) -> Vec<IpAddr> {
        let name = name.trim_end_matches('.');
        self.lines
            .iter()
            .filter(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .map(|(a, _)| *a)
            .collect()
    }
}

/// Where and how to ask.
#[derive(Debug)]
pub(super) struct LoopbackPtr {
    pub(super) servers: Vec<SocketAddr>,
    pub(super) timeout: Duration,
    pub(super) attempts: usize,
}

impl LoopbackPtr {
    /// Is `addr` one hickory would answer for itself?
    pub(super) fn applies(addr: IpAddr) -> bool {
        matches!(addr, IpAddr::V4(v4) if v4.is_loopback() && v4 != Ipv4Addr::LOCALHOST)
    }

    /// The PTR records of `name`, asking each server in turn,
    /// `attempts` rounds; a server that times out or fails is skipped.
    pub(super) fn lookup(&self, name: &Name) -> Lookup<Vec<RData>> {
        if super::dns::must_not_wait() {
            return Lookup::TempFail;
        }
        let query = Query::query(name.clone(), RecordType::PTR);
        for _ in 0..self.attempts.max(1) {
            for server in &self.servers {
                if let Some(answer) = ask(*server, &query, self.timeout) {
                    return answer;
                }
            }
        }
        Lookup::TempFail
    }
}

/// One query to one server: `None` when it does not answer usefully.
fn ask(server: SocketAddr, query: &Query, timeout: Duration) -> Option<Lookup<Vec<RData>>> {
    let local = match server {
        SocketAddr::V4(_) => "0.0.0.0:0",
        SocketAddr::V6(_) => "[::]:0",
    };
    let socket = UdpSocket::bind(local).ok()?;
    socket.set_read_timeout(Some(timeout)).ok()?;
    socket.connect(server).ok()?;
    let id = query_id();
    let mut request = Message::query();
    request.metadata.id = id;
    request.metadata.recursion_desired = true;
    request.add_query(query.clone());
    socket.send(&request.to_vec().ok()?).ok()?;
    let mut buf = [0u8; 4096];
    loop {
        let len = socket.recv(&mut buf).ok()?;
        let Ok(reply) = Message::from_vec(&buf[..len]) else {
            continue;
        };
        if reply.metadata.id != id {
            continue;
        }
        return match reply.metadata.response_code {
            ResponseCode::NXDomain => Some(Lookup::NotFound),
            ResponseCode::NoError => {
                let data: Vec<RData> = reply
                    .answers
                    .iter()
                    .filter(|r| r.record_type() == RecordType::PTR)
                    .map(|r| r.data.clone())
                    .collect();
                Some(if data.is_empty() {
                    Lookup::NotFound
                } else {
                    Lookup::Found(data)
                })
            }
            _ => None,
        };
    }
}

/// A query ID nobody on the path can guess cheaply: the clock's
/// nanoseconds mixed with the process ID.
fn query_id() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (nanos ^ (nanos >> 16) ^ std::process::id()) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_name_of_the_first_line_is_the_name() {
        let hosts = HostsFile::parse(
            "# comment\n127.0.0.1 localhost runsc vm\n::1 localhost ip6-localhost\n\
             192.0.2.7\tmx.example.test mx # alias\nbogus line\n192.0.2.7 second\n",
        );
        let ip = |s: &str| s.parse::<IpAddr>().expect("address");
        assert_eq!(hosts.name_of(ip("127.0.0.1")), Some("localhost"));
        assert_eq!(hosts.name_of(ip("192.0.2.7")), Some("mx.example.test"));
        assert_eq!(hosts.name_of(ip("192.0.2.8")), None);
        assert_eq!(hosts.addresses_of("RUNSC."), vec![ip("127.0.0.1")]);
        assert_eq!(
            hosts.addresses_of("localhost"),
            vec![ip("127.0.0.1"), ip("::1")]
        );
        assert!(hosts.addresses_of("nowhere").is_empty());
    }
}
