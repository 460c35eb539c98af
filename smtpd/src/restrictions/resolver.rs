//! The real [`Dns`]: hickory-resolver, configured from `/etc/resolv.conf`
//! or from `smtpd_dns_servers` (our addition, docs/differences.md).
//!
//! The trait is synchronous, so [`Resolver`] owns a small tokio runtime
//! (one worker thread) and blocks the calling thread on it. A runtime of
//! its own, rather than `Handle::block_on` on the session's runtime,
//! keeps the resolver's background connection tasks running even while
//! every session worker is busy, and lets the engine be used outside
//! tokio (the fixture driver). Call it from a blocking thread
//! (`spawn_blocking`), never from async code: `block_on` panics there.
//!
//! Answers are classified as Postfix's `dns_lookup` does: NXDOMAIN and
//! NODATA are [`Lookup::NotFound`]; SERVFAIL, REFUSED, timeouts and
//! everything else are [`Lookup::TempFail`] (4xx, never 5xx). Queries
//! carry a trailing dot so that `search` and `ndots` never rewrite them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{TokioResolver, lookup};

use super::answer_cache::AnswerCache;
use super::dns::{Dns, Lookup};
use super::hosts::{HostsFile, LoopbackPtr};

/// Why a resolver could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("smtpd_dns_servers: bad server address {0:?} (want ip:port or ip)")]
    BadServer(String),
    #[error("cannot start the resolver runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot configure the resolver: {0}")]
    Config(#[source] NetError),
    #[error(transparent)]
    Param(#[from] conf::config::Error),
}

/// Where the resolver sends its queries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Empty: the servers and options of `/etc/resolv.conf`.
    pub servers: Vec<SocketAddr>,
    /// Per-try timeout and tries when `servers` is set (resolv.conf's
    /// `options timeout: attempts:` apply otherwise).
    pub timeout: Option<Duration>,
    pub attempts: Option<usize>,
}

impl Settings {
    /// `smtpd_dns_servers` from main.cf: `127.0.0.1:5353, [::1]:53`,
    /// separated by commas or white space; a bare address means port 53.
    pub fn from_config(config: &conf::Config) -> Result<Settings, Error> {
        let servers = config.get("smtpd_dns_servers")?.unwrap_or_default();
        Ok(Settings {
            servers: parse_servers(&servers)?,
            ..Settings::default()
        })
    }
}

/// Parse a `smtpd_dns_servers` value.
pub fn parse_servers(value: &str) -> Result<Vec<SocketAddr>, Error> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<SocketAddr>()
                .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                .map_err(|_| Error::BadServer(s.to_string()))
        })
        .collect()
}

/// hickory-resolver behind the synchronous [`Dns`] trait.
pub struct Resolver {
    /// Always `Some` until drop, which hands it to `shutdown_background`
    /// so that dropping the engine inside async code does not panic.
    runtime: Option<tokio::runtime::Runtime>,
    resolver: TokioResolver,
    /// What the system's host lookup does for client names and hickory
    /// does not (see `hosts`).
    hosts: HostsFile,
    loopback: LoopbackPtr,
    cache: AnswerCache,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").finish_non_exhaustive()
    }
}

impl Resolver {
    pub fn new(settings: &Settings) -> Result<Resolver, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("smtpd-dns")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        // The provider spawns its connection tasks on the runtime it is
        // built in.
        let _entered = runtime.enter();
        let mut builder = if settings.servers.is_empty() {
            TokioResolver::builder_tokio().map_err(Error::Config)?
        } else {
            let servers = settings.servers.iter().map(|addr| {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for conn in &mut ns.connections {
                    conn.port = addr.port();
                }
                ns
            });
            let config = ResolverConfig::from_name_servers(servers.collect());
            let mut builder =
                TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
            let opts: &mut ResolverOpts = builder.options_mut();
            if let Some(timeout) = settings.timeout {
                opts.timeout = timeout;
            }
            if let Some(attempts) = settings.attempts {
                opts.attempts = attempts;
            }
            builder
        };
        // DNS restrictions ask DNS alone, as Postfix's do; client names
        // consult /etc/hosts themselves (`hosts`).
        builder.options_mut().use_hosts_file = ResolveHosts::Never;
        let resolver = builder.build().map_err(Error::Config)?;
        drop(_entered);
        let loopback = LoopbackPtr {
            servers: server_addresses(settings)?,
            timeout: resolver.options().timeout,
            attempts: resolver.options().attempts,
        };
        Ok(Resolver {
            runtime: Some(runtime),
            resolver,
            hosts: HostsFile::system(),
            loopback,
            cache: AnswerCache::default(),
        })
    }

    fn query(&self, name: &str, rtype: RecordType) -> Lookup<Vec<RData>> {
        let name = fully_qualified(name);
        // `runtime` is only taken in drop.
        let Some(runtime) = &self.runtime else {
            return Lookup::TempFail;
        };
        if let Some(answer) = self.cache.get(&name, rtype) {
            return answer;
        }
        if super::dns::must_not_wait() {
            return Lookup::TempFail;
        }
        let result = runtime.block_on(self.resolver.lookup(name.as_str(), rtype));
        let ttl = result
            .as_ref()
            .ok()
            .and_then(|found| found.answers().iter().map(|r| r.ttl).min());
        let answer = classify(result, rtype);
        self.cache.put(&name, rtype, &answer, ttl);
        answer
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The servers to ask: `smtpd_dns_servers`, else those of resolv.conf.
fn server_addresses(settings: &Settings) -> Result<Vec<SocketAddr>, Error> {
    if !settings.servers.is_empty() {
        return Ok(settings.servers.clone());
    }
    let (config, _) = hickory_resolver::system_conf::read_system_conf().map_err(Error::Config)?;
    Ok(config
        .name_servers()
        .iter()
        .flat_map(|ns| {
            ns.connections
                .first()
                .map(|c| SocketAddr::new(ns.ip, c.port))
        })
        .collect())
}

/// `name.` once: a trailing dot makes the query absolute.
fn fully_qualified(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

/// The records of type `rtype` (a CNAME chain leaves others in the
/// answer), or the Postfix-style classification of the error.
fn classify(result: Result<lookup::Lookup, NetError>, rtype: RecordType) -> Lookup<Vec<RData>> {
    match result {
        Ok(found) => {
            let data: Vec<RData> = found
                .answers()
                .iter()
                .filter(|r| r.record_type() == rtype)
                .map(|r| r.data.clone())
                .collect();
            if data.is_empty() {
                Lookup::NotFound
            } else {
                Lookup::Found(data)
            }
        }
        Err(NetError::Dns(DnsError::NoRecordsFound(NoRecords {
            response_code: ResponseCode::NXDomain | ResponseCode::NoError,
            ..
        }))) => Lookup::NotFound,
        Err(_) => Lookup::TempFail,
    }
}

/// Host names without the root dot, as Postfix prints them.
fn host_name(name: &hickory_resolver::proto::rr::Name) -> String {
    let text = name.to_string();
    text.strip_suffix('.').unwrap_or(&text).to_string()
}

fn map<T>(found: Lookup<Vec<RData>>, f: impl Fn(&RData) -> Option<T>) -> Lookup<Vec<T>> {
    match found {
        Lookup::Found(data) => Lookup::Found(data.iter().filter_map(f).collect()),
        Lookup::NotFound => Lookup::NotFound,
        Lookup::TempFail => Lookup::TempFail,
    }
}

impl Dns for Resolver {
    fn reverse_names(&self, addr: IpAddr) -> Lookup<Vec<String>> {
        let zone = if addr.is_ipv4() {
            "in-addr.arpa"
        } else {
            "ip6.arpa"
        };
        if let Some(name) = self.hosts.name_of(addr) {
            return Lookup::Found(vec![name.to_string()]);
        }
        let query = format!("{}.{zone}.", super::dnsbl::reverse_ip(&addr.to_string()));
        let found = match LoopbackPtr::applies(addr) {
            true => match Name::from_ascii(&query) {
                Ok(name) => self.loopback.lookup(&name),
                Err(_) => Lookup::TempFail,
            },
            false => self.query(&query, RecordType::PTR),
        };
        map(found, |d| match d {
            RData::PTR(p) => Some(host_name(&p.0)),
            _ => None,
        })
    }

    fn a_records(&self, query: &str) -> Lookup<Vec<Ipv4Addr>> {
        map(self.query(query, RecordType::A), |d| match d {
            RData::A(a) => Some(a.0),
            _ => None,
        })
    }

    fn txt_records(&self, query: &str) -> Lookup<Vec<String>> {
        map(self.query(query, RecordType::TXT), |d| match d {
            RData::TXT(t) => Some(t.to_string()),
            _ => None,
        })
    }

    fn mx_hosts(&self, domain: &str) -> Lookup<Vec<String>> {
        map_vec(self.mx_records(domain), |(_, host)| host)
    }

    /// Sorted by preference (stable, so equal preferences keep the
    /// server's order).
    fn mx_records(&self, domain: &str) -> Lookup<Vec<(u16, String)>> {
        let mut mx = map(self.query(domain, RecordType::MX), |d| match d {
            RData::MX(m) => Some((m.preference, host_name(&m.exchange))),
            _ => None,
        });
        if let Lookup::Found(list) = &mut mx {
            list.sort_by_key(|(pref, _)| *pref);
        }
        mx
    }

    fn ns_hosts(&self, domain: &str) -> Lookup<Vec<String>> {
        map(self.query(domain, RecordType::NS), |d| match d {
            RData::NS(ns) => Some(host_name(&ns.0)),
            _ => None,
        })
    }

    fn aaaa_records(&self, host: &str) -> Lookup<Vec<std::net::Ipv6Addr>> {
        map(self.query(host, RecordType::AAAA), |d| match d {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
    }

    /// A, then AAAA; found when either has records.
    fn host_addresses(&self, host: &str) -> Lookup<Vec<IpAddr>> {
        let listed = self.hosts.addresses_of(host);
        if listed.is_empty() {
            self.addresses(host)
        } else {
            Lookup::Found(listed)
        }
    }

    fn addresses(&self, host: &str) -> Lookup<Vec<IpAddr>> {
        let v4 = map(self.query(host, RecordType::A), |d| match d {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        });
        let v6 = map(self.query(host, RecordType::AAAA), |d| match d {
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        });
        match (v4, v6) {
            (Lookup::Found(mut a), Lookup::Found(b)) => {
                a.extend(b);
                Lookup::Found(a)
            }
            (Lookup::Found(a), _) | (_, Lookup::Found(a)) => Lookup::Found(a),
            (Lookup::TempFail, _) | (_, Lookup::TempFail) => Lookup::TempFail,
            _ => Lookup::NotFound,
        }
    }
}

fn map_vec<T, U>(found: Lookup<Vec<T>>, f: impl Fn(T) -> U) -> Lookup<Vec<U>> {
    match found {
        Lookup::Found(v) => Lookup::Found(v.into_iter().map(f).collect()),
        Lookup::NotFound => Lookup::NotFound,
        Lookup::TempFail => Lookup::TempFail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restrictions::NameStatus;
    use crate::restrictions::fixture_dns::{Server, Zone};

    const ZONE: &str = "
        example.org MX 20 mx2.example.org
        example.org MX 10 mx1.example.org.
        example.org NS ns.example.org
        mx1.example.org A 192.0.2.1
        mx1.example.org AAAA 2001:db8::1
        onlymx.example MX 0 mx1.example.org
        2.0.0.127.bl.example A 127.0.0.2
        2.0.0.127.bl.example TXT listed for testing
        broken.example SERVFAIL
        silent.example TIMEOUT
        a.b.deep.example A 192.0.2.9
        1.2.0.192.in-addr.arpa PTR mx1.example.org
        2.2.0.192.in-addr.arpa PTR mx1.example.org
        3.2.0.192.in-addr.arpa SERVFAIL
    ";

    fn resolver(server: &Server) -> Resolver {
        let settings = Settings {
            servers: vec![server.addr()],
            timeout: Some(Duration::from_millis(300)),
            attempts: Some(1),
        };
        Resolver::new(&settings).expect("resolver")
    }

    fn start() -> Server {
        Server::start(Zone::parse(ZONE).expect("zone")).expect("server")
    }

    #[test]
    fn mx_hosts_sorted_by_preference() {
        let server = start();
        let dns = resolver(&server);
        assert_eq!(
            dns.mx_hosts("example.org"),
            Lookup::Found(vec!["mx1.example.org".into(), "mx2.example.org".into()])
        );
        assert_eq!(
            dns.ns_hosts("Example.ORG."),
            Lookup::Found(vec!["ns.example.org".into()])
        );
    }

    #[test]
    fn nxdomain_and_nodata_are_not_found() {
        let server = start();
        let dns = resolver(&server);
        assert_eq!(dns.a_records("nowhere.example"), Lookup::NotFound);
        // NODATA: the name exists with other types, or only below it.
        assert_eq!(dns.mx_hosts("mx1.example.org"), Lookup::NotFound);
        assert_eq!(dns.addresses("b.deep.example"), Lookup::NotFound);
        assert_eq!(dns.mx_hosts("nowhere.example"), Lookup::NotFound);
    }

    #[test]
    fn servfail_and_timeout_are_temporary() {
        let server = start();
        let dns = resolver(&server);
        assert_eq!(dns.a_records("broken.example"), Lookup::TempFail);
        assert_eq!(dns.mx_records("broken.example"), Lookup::TempFail);
        assert_eq!(dns.txt_records("silent.example"), Lookup::TempFail);
    }

    #[test]
    fn dnsbl_addresses_and_text() {
        let server = start();
        let dns = resolver(&server);
        assert_eq!(
            dns.a_records("2.0.0.127.bl.example"),
            Lookup::Found(vec![Ipv4Addr::new(127, 0, 0, 2)])
        );
        assert_eq!(
            dns.txt_records("2.0.0.127.bl.example"),
            Lookup::Found(vec!["listed for testing".into()])
        );
        assert_eq!(dns.aaaa_records("onlymx.example"), Lookup::NotFound);
        let addrs = dns.addresses("mx1.example.org");
        assert_eq!(
            addrs,
            Lookup::Found(vec![
                "192.0.2.1".parse().expect("v4"),
                "2001:db8::1".parse().expect("v6"),
            ])
        );
    }

    #[test]
    fn client_names_need_a_matching_forward_lookup() {
        let server = start();
        let dns = resolver(&server);
        let ip = |s: &str| s.parse::<IpAddr>().expect("address");
        let client = |s: &str| super::super::dns::client(&dns, ip(s));
        let (ok, warning) = client("192.0.2.1");
        assert_eq!(warning, None);
        assert_eq!(
            (ok.name.as_str(), ok.name_status),
            ("mx1.example.org", NameStatus::Ok)
        );
        let (forged, warning) = client("192.0.2.2");
        assert_eq!(
            warning.as_deref(),
            Some("hostname mx1.example.org does not resolve to address 192.0.2.2")
        );
        assert_eq!(
            (forged.name.as_str(), forged.name_status),
            ("unknown", NameStatus::Forged)
        );
        assert_eq!(forged.reverse_name, "mx1.example.org");
        let (none, _) = client("192.0.2.4");
        assert_eq!(none.name_status, NameStatus::Permanent);
        let (temp, _) = client("192.0.2.3");
        assert_eq!(
            (temp.name.as_str(), temp.reverse_name_status),
            ("unknown", NameStatus::Temporary)
        );
    }

    #[test]
    fn server_lists_parse() {
        let got = parse_servers("127.0.0.1:5353, [::1]:53 192.0.2.1").expect("parse");
        assert_eq!(
            got,
            vec![
                "127.0.0.1:5353".parse().expect("a"),
                "[::1]:53".parse().expect("b"),
                "192.0.2.1:53".parse().expect("c"),
            ]
        );
        assert!(matches!(
            parse_servers("nonsense"),
            Err(Error::BadServer(_))
        ));
        let overrides = [(
            "smtpd_dns_servers".to_string(),
            "127.0.0.1:5353".to_string(),
        )];
        let config = conf::Config::with_main(&std::env::temp_dir(), Default::default(), &overrides);
        let settings = Settings::from_config(&config).expect("settings");
        assert_eq!(settings.servers, vec!["127.0.0.1:5353".parse().expect("d")]);
        let config = conf::Config::with_main(&std::env::temp_dir(), Default::default(), &[]);
        assert!(
            Settings::from_config(&config)
                .expect("default")
                .servers
                .is_empty()
        );
        assert_eq!(fully_qualified("a.b"), "a.b.");
        assert_eq!(fully_qualified("a.b."), "a.b.");
    }

    #[tokio::test]
    async fn dropping_in_async_code_does_not_panic() {
        let server = start();
        drop(resolver(&server));
    }
}
