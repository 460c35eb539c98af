//! What the restrictions ask DNS, as a trait so that sessions plug in a
//! real resolver (hickory-resolver) and tests a fixture. Calls are
//! synchronous from the engine's point of view: an implementation
//! answers from its cache, or blocks the (blocking-pool) caller.

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr};

use super::context::{Client, NameStatus};

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
    /// A records of a host name or a DNSBL/DNSWL query (`4.3.2.1.zone`).
    fn a_records(&self, query: &str) -> Lookup<Vec<Ipv4Addr>>;
    /// TXT records of a DNSBL query name, for `$rbl_txt`.
    fn txt_records(&self, query: &str) -> Lookup<Vec<String>>;
    /// MX host names of `domain`, best first; a null MX (RFC 7505) is
    /// the empty name.
    fn mx_hosts(&self, domain: &str) -> Lookup<Vec<String>>;
    /// MX preferences and host names of `domain`, best first. Without
    /// preferences every host counts as a primary.
    fn mx_records(&self, domain: &str) -> Lookup<Vec<(u16, String)>> {
        match self.mx_hosts(domain) {
            Lookup::Found(hosts) => Lookup::Found(hosts.into_iter().map(|h| (0, h)).collect()),
            Lookup::NotFound => Lookup::NotFound,
            Lookup::TempFail => Lookup::TempFail,
        }
    }
    /// NS host names of `domain`.
    fn ns_hosts(&self, domain: &str) -> Lookup<Vec<String>>;
    /// A and AAAA addresses of `host`.
    fn addresses(&self, host: &str) -> Lookup<Vec<IpAddr>>;
    /// PTR names of `addr` (in-addr.arpa or ip6.arpa), as the system's
    /// host lookup gives them (/etc/hosts first): the client's names.
    fn reverse_names(&self, addr: IpAddr) -> Lookup<Vec<String>>;
    /// The addresses of `host` as the system's host lookup gives them
    /// (/etc/hosts first), for the forward check of a client's name.
    fn host_addresses(&self, host: &str) -> Lookup<Vec<IpAddr>> {
        self.addresses(host)
    }
    /// Can a lookup block the calling thread? A real resolver can: the
    /// session then runs its checks where blocking is allowed.
    fn may_block(&self) -> bool {
        true
    }
    /// AAAA addresses of `host` alone.
    fn aaaa_records(&self, host: &str) -> Lookup<Vec<std::net::Ipv6Addr>> {
        match self.addresses(host) {
            Lookup::Found(all) => {
                let v6: Vec<_> = all
                    .into_iter()
                    .filter_map(|a| match a {
                        IpAddr::V6(a) => Some(a),
                        IpAddr::V4(_) => None,
                    })
                    .collect();
                if v6.is_empty() {
                    Lookup::NotFound
                } else {
                    Lookup::Found(v6)
                }
            }
            Lookup::NotFound => Lookup::NotFound,
            Lookup::TempFail => Lookup::TempFail,
        }
    }
}

thread_local! {
    /// `Some` while a check runs where it must not wait
    /// ([`without_waiting`]); `Some(true)` once something would have.
    static NO_WAIT: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Run `f` with every lookup answered from memory only. `None` when a
/// lookup (a DNS answer not cached, a policy server) would have had to
/// wait: what `f` did is then void, and it must run again where waiting
/// is allowed. Most checks of a busy gatekeeper are answered from the
/// cache, so they need no blocking thread.
pub fn without_waiting<R>(f: impl FnOnce() -> R) -> Option<R> {
    let previous = NO_WAIT.replace(Some(false));
    let result = f();
    let waited = NO_WAIT.replace(previous) == Some(true);
    (!waited).then_some(result)
}

/// For a lookup about to wait: `true` (and the running check is void)
/// when waiting is not allowed now, inside [`without_waiting`].
pub(crate) fn must_not_wait() -> bool {
    NO_WAIT.with(|flag| match flag.get() {
        Some(_) => {
            flag.set(Some(true));
            true
        }
        None => false,
    })
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
    fn reverse_names(&self, _addr: IpAddr) -> Lookup<Vec<String>> {
        self.answer()
    }
    fn may_block(&self) -> bool {
        false
    }
}

/// One resolver (and its cache) shared by several engines, e.g. when the
/// configuration is reloaded.
impl<T: Dns + ?Sized> Dns for std::sync::Arc<T> {
    fn a_records(&self, query: &str) -> Lookup<Vec<Ipv4Addr>> {
        (**self).a_records(query)
    }
    fn txt_records(&self, query: &str) -> Lookup<Vec<String>> {
        (**self).txt_records(query)
    }
    fn mx_hosts(&self, domain: &str) -> Lookup<Vec<String>> {
        (**self).mx_hosts(domain)
    }
    fn mx_records(&self, domain: &str) -> Lookup<Vec<(u16, String)>> {
        (**self).mx_records(domain)
    }
    fn ns_hosts(&self, domain: &str) -> Lookup<Vec<String>> {
        (**self).ns_hosts(domain)
    }
    fn addresses(&self, host: &str) -> Lookup<Vec<IpAddr>> {
        (**self).addresses(host)
    }
    fn aaaa_records(&self, host: &str) -> Lookup<Vec<std::net::Ipv6Addr>> {
        (**self).aaaa_records(host)
    }
    fn reverse_names(&self, addr: IpAddr) -> Lookup<Vec<String>> {
        (**self).reverse_names(addr)
    }
    fn host_addresses(&self, host: &str) -> Lookup<Vec<IpAddr>> {
        (**self).host_addresses(host)
    }
    fn may_block(&self) -> bool {
        (**self).may_block()
    }
}

/// The client as Postfix's `smtpd_peer` names it, and the warning it
/// logs when the names disagree. The PTR name is the reverse name; it
/// is also the (verified) name only when a forward lookup gives `addr`
/// back (`reject_unknown_client_hostname`); else the name is `unknown`
/// and the status says why.
pub fn client(dns: &dyn Dns, addr: IpAddr) -> (Client, Option<String>) {
    let mut client = Client::new("unknown", &addr.to_string());
    let ptr = match dns.reverse_names(addr) {
        Lookup::Found(names) => names.into_iter().find(|n| !n.is_empty()),
        Lookup::NotFound => None,
        Lookup::TempFail => return (client, None),
    };
    let Some(ptr) = ptr else {
        client.name_status = NameStatus::Permanent;
        client.reverse_name_status = NameStatus::Permanent;
        return (client, None);
    };
    client.reverse_name = ptr.clone();
    client.reverse_name_status = NameStatus::Ok;
    let (status, warning) = match dns.host_addresses(&ptr) {
        Lookup::Found(addrs) if addrs.contains(&addr) => (NameStatus::Ok, None),
        Lookup::Found(_) => (
            NameStatus::Forged,
            Some(format!("hostname {ptr} does not resolve to address {addr}")),
        ),
        Lookup::NotFound => (
            NameStatus::Forged,
            Some(format!(
                "hostname {ptr} does not resolve to address {addr}: Name or service not known"
            )),
        ),
        Lookup::TempFail => (
            NameStatus::Temporary,
            Some(format!(
                "hostname {ptr} does not resolve to address {addr}: \
                 Temporary failure in name resolution"
            )),
        ),
    };
    client.name_status = status;
    if status == NameStatus::Ok {
        client.name = ptr;
    }
    (client, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_that_would_wait_is_void() {
        assert_eq!(without_waiting(|| 1), Some(1));
        assert_eq!(without_waiting(must_not_wait), None);
        // After the pass, waiting is allowed again.
        assert!(!must_not_wait());
        assert_eq!(without_waiting(|| without_waiting(|| 2)), Some(Some(2)));
    }
}
