//! Who is on the other end of a session: the names Postfix logs and
//! records (`name[addr]`). Until [`Client::with_names`] gives it the
//! result of the lookups, a client is `unknown`, as Postfix shows a
//! client whose reverse lookup failed (or with
//! `smtpd_peername_lookup = no`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::restrictions::{self, NameStatus};

/// The client of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Verified host name, or `unknown`.
    pub name: String,
    /// Reverse-lookup name, or `unknown`.
    pub reverse_name: String,
    /// How `name` and `reverse_name` were found.
    pub name_status: NameStatus,
    pub reverse_name_status: NameStatus,
    pub addr: IpAddr,
    pub port: u16,
    /// The address the client connected to.
    pub server: Option<SocketAddr>,
    /// `smtpd_client_port_logging`.
    pub log_port: bool,
}

impl Client {
    /// A client known only by its address.
    pub fn from_peer(peer: SocketAddr, server: Option<SocketAddr>, log_port: bool) -> Client {
        let addr = match peer.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        Client {
            name: "unknown".to_string(),
            reverse_name: "unknown".to_string(),
            name_status: NameStatus::Temporary,
            reverse_name_status: NameStatus::Temporary,
            addr,
            port: peer.port(),
            server,
            log_port,
        }
    }

    /// The names the lookups found (`restrictions::dns::client`).
    pub fn with_names(mut self, names: restrictions::Client) -> Client {
        self.name = names.name;
        self.reverse_name = names.reverse_name;
        self.name_status = names.name_status;
        self.reverse_name_status = names.reverse_name_status;
        self
    }

    /// `smtpd_peername_lookup = no`: the names stay `unknown`, for good
    /// (Postfix: a permanent status).
    pub fn without_lookup(mut self) -> Client {
        self.name_status = NameStatus::Permanent;
        self.reverse_name_status = NameStatus::Permanent;
        self
    }

    /// A stand-in for in-memory sessions (tests): 192.0.2.1 (TEST-NET-1).
    pub fn test() -> Client {
        let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 54321);
        Client::from_peer(peer, None, false)
    }

    /// `name[addr]`, or `name[addr]:port` with port logging.
    pub fn namaddr(&self) -> String {
        match self.log_port {
            true => format!("{}[{}]:{}", self.name, self.addr, self.port),
            false => format!("{}[{}]", self.name, self.addr),
        }
    }

    /// The address as `Received:` and queue files show it: IPv6 with the
    /// `IPv6:` prefix (RFC 5321 §4.1.3).
    pub fn rfc_addr(&self) -> String {
        match self.addr {
            IpAddr::V6(v6) => format!("IPv6:{v6}"),
            IpAddr::V4(v4) => v4.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_postfix_logs_them() {
        let c = Client::test();
        assert_eq!(c.namaddr(), "unknown[192.0.2.1]");
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:25".parse().expect("addr");
        let c = Client::from_peer(mapped, None, true);
        assert_eq!(c.namaddr(), "unknown[127.0.0.1]:25");
        let v6: SocketAddr = "[2001:db8::1]:25".parse().expect("addr");
        assert_eq!(
            Client::from_peer(v6, None, false).rfc_addr(),
            "IPv6:2001:db8::1"
        );
    }
}
