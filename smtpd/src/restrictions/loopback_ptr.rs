//! PTR lookups for loopback clients. hickory answers every query under
//! `127.in-addr.arpa` itself, with `localhost` (RFC 6761 §6.3); glibc,
//! and so Postfix, looks in /etc/hosts and then asks the name servers.
//! For a loopback address other than 127.0.0.1 this module does what
//! glibc does, with one plain UDP query per server and try, so that a
//! client on 127.0.0.x gets the name its DNS server gives it (the tests
//! run their "remote" clients on such addresses).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use hickory_resolver::Hosts;
use hickory_resolver::proto::op::{Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use super::dns::Lookup;

/// Where and how to ask.
#[derive(Debug)]
pub(super) struct LoopbackPtr {
    pub(super) servers: Vec<SocketAddr>,
    pub(super) timeout: Duration,
    pub(super) attempts: usize,
    pub(super) hosts: Hosts,
}

impl LoopbackPtr {
    /// Is `addr` one hickory would answer for itself?
    pub(super) fn applies(addr: IpAddr) -> bool {
        matches!(addr, IpAddr::V4(v4) if v4.is_loopback() && v4 != Ipv4Addr::LOCALHOST)
    }

    /// The PTR records of `name`: /etc/hosts, then each server in turn,
    /// `attempts` rounds; a server that times out or fails is skipped.
    pub(super) fn lookup(&self, name: &Name) -> Lookup<Vec<RData>> {
        let query = Query::query(name.clone(), RecordType::PTR);
        if let Some(found) = self.hosts.lookup_static_host(&query) {
            return Lookup::Found(found.answers().iter().map(|r| r.data.clone()).collect());
        }
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
