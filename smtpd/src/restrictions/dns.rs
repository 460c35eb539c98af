//! What the restrictions ask DNS, as a trait so that sessions plug in a
//! real resolver (hickory-resolver) and tests a fixture. Calls are
//! synchronous from the engine's point of view: an implementation
//! answers from its cache, or blocks the (blocking-pool) caller.

use std::net::{IpAddr, Ipv4Addr};

/// A DNS answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    Found(T),
    /// NXDOMAIN or no records of the type: a permanent "no".
    NotFound,
    /// SERVFAIL, timeout: decide later (4xx, never 5xx).
    TempFail,
}

/// The lookups the restrictions make.
pub trait Dns: Send + Sync {
    /// Does `name` have an A, AAAA or MX record (reject_unknown_*)?
    fn has_address_or_mx(&self, name: &str) -> Lookup<()>;
    /// A records of a DNSBL/DNSWL query name (`4.3.2.1.zone`).
    fn a_records(&self, query: &str) -> Lookup<Vec<Ipv4Addr>>;
    /// TXT records of a DNSBL query name, for `$rbl_txt`.
    fn txt_records(&self, query: &str) -> Lookup<Vec<String>>;
    /// MX host names of `domain`.
    fn mx_hosts(&self, domain: &str) -> Lookup<Vec<String>>;
    /// NS host names of `domain`.
    fn ns_hosts(&self, domain: &str) -> Lookup<Vec<String>>;
    /// A and AAAA addresses of `host`.
    fn addresses(&self, host: &str) -> Lookup<Vec<IpAddr>>;
}

/// No DNS at all: every lookup gives the same answer, `NotFound` or
/// `TempFail` (what Postfix's test driver sees without a network).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoDns {
    pub temporary: bool,
}

impl NoDns {
    fn answer<T>(&self) -> Lookup<T> {
        if self.temporary {
            Lookup::TempFail
        } else {
            Lookup::NotFound
        }
    }
}

impl Dns for NoDns {
    fn has_address_or_mx(&self, _name: &str) -> Lookup<()> {
        self.answer()
    }
    fn a_records(&self, _query: &str) -> Lookup<Vec<Ipv4Addr>> {
        self.answer()
    }
    fn txt_records(&self, _query: &str) -> Lookup<Vec<String>> {
        self.answer()
    }
    fn mx_hosts(&self, _domain: &str) -> Lookup<Vec<String>> {
        self.answer()
    }
    fn ns_hosts(&self, _domain: &str) -> Lookup<Vec<String>> {
        self.answer()
    }
    fn addresses(&self, _host: &str) -> Lookup<Vec<IpAddr>> {
        self.answer()
    }
}
