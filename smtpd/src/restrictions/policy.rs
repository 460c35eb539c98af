//! `check_policy_service` (Postfix SMTPD_POLICY_README): send the session
//! facts as `name=value` lines to a policy server over `inet:host:port`
//! or `unix:path`, read back `action=...`, and apply the action exactly
//! like an access-map value. Connections are kept per service and reused
//! by every session of this process; a failed request is retried, then
//! `smtpd_policy_service_default_action` applies.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use conf::Config;

use super::access;
use super::generic::{Ctx, Step};
use super::list::{self, Restriction};

/// Longest reply line read from a policy server; Postfix's attribute
/// reader has a similar cap (`line_length_limit`-sized buffers).
const MAX_LINE: u64 = 100_000;

/// The knobs of one policy client (`smtpd_policy_service_*`, or the
/// `{ endpoint, name=value, ... }` overrides of one restriction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) timeout: Duration,
    pub(crate) max_idle: Duration,
    pub(crate) max_ttl: Duration,
    /// Requests per connection; 0: no limit.
    pub(crate) request_limit: u32,
    pub(crate) try_limit: u32,
    pub(crate) retry_delay: Duration,
    pub(crate) default_action: String,
    pub(crate) policy_context: String,
}

/// Where a policy server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Inet(String),
    Unix(PathBuf),
}

/// One `check_policy_service` argument, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    /// `inet:127.0.0.1:10023`: the "table" name in warnings.
    pub(crate) spec: String,
    /// `127.0.0.1:10023` or `private/policy`, as Postfix names the peer.
    name: String,
    endpoint: Endpoint,
    pub(crate) options: Options,
}

/// An open connection and its age.
#[derive(Debug)]
struct Conn {
    stream: BufReader<Stream>,
    opened: Instant,
    used: Instant,
    requests: u32,
}

#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// Why one attempt failed, with Postfix's `%m` text.
#[derive(Debug)]
struct Failure {
    text: String,
    /// A dead kept connection (EPIPE, ECONNRESET, ENOENT, EOF): Postfix
    /// retries without a warning the first time.
    quiet: bool,
}

/// Every policy client of the process: the defaults, and the open
/// connections by service. The lock is held only to take or return a
/// connection, never during I/O.
#[derive(Debug)]
pub struct Clients {
    defaults: Options,
    compatibility_level: String,
    mail_version: String,
    idle: Mutex<HashMap<String, Vec<Conn>>>,
}

fn parse_count(name: &str, value: &str, min: i64) -> Result<u32, String> {
    let n = conf::value::parse_long(name, value, min, 0).map_err(|e| e.to_string())?;
    u32::try_from(n).map_err(|_| format!("invalid {name} value: \"{value}\""))
}

fn parse_duration(name: &str, value: &str) -> Result<Duration, String> {
    conf::value::parse_time(name, value, 's', 1, 0).map_err(|e| e.to_string())
}

impl Options {
    fn from_config(config: &Config) -> Result<Options, conf::config::Error> {
        let count = |name: &str| -> Result<u32, conf::config::Error> {
            Ok(u32::try_from(config.get_int(name)?.max(0)).unwrap_or(u32::MAX))
        };
        Ok(Options {
            timeout: config.get_time("smtpd_policy_service_timeout")?,
            max_idle: config.get_time("smtpd_policy_service_max_idle")?,
            max_ttl: config.get_time("smtpd_policy_service_max_ttl")?,
            request_limit: count("smtpd_policy_service_request_limit")?,
            try_limit: count("smtpd_policy_service_try_limit")?.max(1),
            retry_delay: config.get_time("smtpd_policy_service_retry_delay")?,
            default_action: config
                .get("smtpd_policy_service_default_action")?
                .unwrap_or_default(),
            policy_context: config
                .get("smtpd_policy_service_policy_context")?
                .unwrap_or_default(),
        })
    }

    /// One `name=value` override (the parameter name without
    /// `smtpd_policy_service_`).
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let full = format!("smtpd_policy_service_{name}");
        match name {
            "timeout" => self.timeout = parse_duration(&full, value)?,
            "max_idle" => self.max_idle = parse_duration(&full, value)?,
            "max_ttl" => self.max_ttl = parse_duration(&full, value)?,
            "retry_delay" => self.retry_delay = parse_duration(&full, value)?,
            "request_limit" => self.request_limit = parse_count(&full, value, 0)?,
            "try_limit" => self.try_limit = parse_count(&full, value, 1)?,
            "default_action" => self.default_action = value.to_string(),
            "policy_context" => self.policy_context = value.to_string(),
            _ => return Err(format!("unknown attribute name: \"{name}\"")),
        }
        Ok(())
    }
}

impl Clients {
    /// The `smtpd_policy_service_*` defaults and what every request
    /// reports about us.
    pub(crate) fn from_config(config: &Config) -> Result<Clients, conf::config::Error> {
        Ok(Clients {
            defaults: Options::from_config(config)?,
            compatibility_level: config.get("compatibility_level")?.unwrap_or_default(),
            mail_version: config.get("mail_version")?.unwrap_or_default(),
            idle: Mutex::default(),
        })
    }

    /// Parse a `check_policy_service` argument: `inet:host:port`,
    /// `unix:path`, or (braces already stripped by the list parser)
    /// `endpoint, name=value, ...`.
    pub(crate) fn service(&self, arg: &str) -> Result<Service, String> {
        let mut words = list::parse(arg).into_iter();
        let spec = words.next().unwrap_or_default();
        let mut options = self.defaults.clone();
        for word in words {
            let Some((name, value)) = word.split_once('=') else {
                return Err(format!(
                    "{spec}: missing '=' after attribute name: \"{word}\""
                ));
            };
            options
                .set(name.trim(), value.trim())
                .map_err(|e| format!("{spec}: {e}"))?;
        }
        let (endpoint, name) = match spec.split_once(':') {
            Some(("inet", rest)) if !rest.is_empty() => (Endpoint::Inet(rest.to_string()), rest),
            // A relative path is relative to queue_directory, which is
            // smtpd's working directory (`/` in a chroot jail).
            Some(("unix", rest)) if !rest.is_empty() => (Endpoint::Unix(PathBuf::from(rest)), rest),
            _ => {
                return Err(format!(
                    "need service transport:endpoint instead of \"{spec}\""
                ));
            }
        };
        Ok(Service {
            name: name.to_string(),
            endpoint,
            spec: spec.clone(),
            options,
        })
    }

    /// Send `attrs`; the `action` of the reply, or `None` after
    /// `try_limit` failed attempts. Warnings go to `warn`.
    pub(crate) fn query(
        &self,
        service: &Service,
        attrs: &[(&str, String)],
        warn: &mut dyn FnMut(String),
    ) -> Option<String> {
        let mut request = String::new();
        for (name, value) in attrs {
            request.push_str(&format!("{name}={value}\n"));
        }
        request.push('\n');
        let opts = &service.options;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match self.take(service) {
                Some(conn) => Ok(conn),
                None => connect(service).inspect_err(|e| {
                    warn(format!("connect to {}: {}", service.name, e.text));
                }),
            };
            match result.and_then(|conn| exchange(service, conn, request.as_bytes())) {
                Ok((action, mut conn)) => {
                    conn.requests += 1;
                    conn.used = Instant::now();
                    if opts.request_limit == 0 || conn.requests < opts.request_limit {
                        self.give_back(service, conn);
                    }
                    return Some(action);
                }
                Err(failure) => {
                    if attempt > 1 || !failure.quiet {
                        warn(format!(
                            "problem talking to server {}: {}",
                            service.name, failure.text
                        ));
                    }
                    if attempt >= opts.try_limit {
                        return None;
                    }
                    // A dead kept connection is replaced at once.
                    if !(attempt == 1 && failure.quiet) {
                        std::thread::sleep(opts.retry_delay);
                    }
                }
            }
        }
    }

    /// A kept connection that is neither idle too long nor too old.
    fn take(&self, service: &Service) -> Option<Conn> {
        // A poisoned lock only means another thread panicked mid-push.
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let conns = idle.get_mut(&service.spec)?;
        let opts = &service.options;
        conns.retain(|c| c.used.elapsed() < opts.max_idle && c.opened.elapsed() < opts.max_ttl);
        conns.pop()
    }

    fn give_back(&self, service: &Service, conn: Conn) {
        if conn.opened.elapsed() >= service.options.max_ttl {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.entry(service.spec.clone()).or_default().push(conn);
    }

    /// How many connections to `arg`'s service are open and idle (tests).
    #[cfg(test)]
    pub(crate) fn idle_count(&self, arg: &str) -> usize {
        let spec = self.service(arg).map(|s| s.spec).unwrap_or_default();
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.get(&spec).map_or(0, Vec::len)
    }
}

/// `strerror` text, as Postfix's `%m` prints it.
fn strerror(e: &io::Error) -> Failure {
    use io::ErrorKind as K;
    let quiet = matches!(
        e.kind(),
        K::BrokenPipe | K::ConnectionReset | K::NotFound | K::UnexpectedEof
    );
    let text = match e.kind() {
        K::WouldBlock | K::TimedOut => "Connection timed out".to_string(),
        // A clean end of input leaves errno 0 in Postfix.
        K::UnexpectedEof => "Success".to_string(),
        _ => {
            let full = e.to_string();
            match full.find(" (os error") {
                Some(at) => full[..at].to_string(),
                None => full,
            }
        }
    };
    Failure { text, quiet }
}

fn connect(service: &Service) -> Result<Conn, Failure> {
    let timeout = Some(service.options.timeout);
    let stream = match &service.endpoint {
        Endpoint::Inet(hostport) => {
            let addrs = hostport
                .to_socket_addrs()
                .map_err(|e| strerror(&e))?
                .collect::<Vec<_>>();
            let mut last = io::Error::new(io::ErrorKind::NotFound, "Host not found");
            let mut found = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, service.options.timeout) {
                    Ok(s) => {
                        found = Some(s);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            let s = found.ok_or_else(|| connect_failure(&last))?;
            s.set_read_timeout(timeout).map_err(|e| strerror(&e))?;
            s.set_write_timeout(timeout).map_err(|e| strerror(&e))?;
            Stream::Tcp(s)
        }
        Endpoint::Unix(path) => {
            let s = UnixStream::connect(path).map_err(|e| connect_failure(&e))?;
            s.set_read_timeout(timeout).map_err(|e| strerror(&e))?;
            s.set_write_timeout(timeout).map_err(|e| strerror(&e))?;
            Stream::Unix(s)
        }
    };
    let now = Instant::now();
    Ok(Conn {
        stream: BufReader::new(stream),
        opened: now,
        used: now,
        requests: 0,
    })
}

/// A failed connect is never a stale connection: always worth a warning.
fn connect_failure(e: &io::Error) -> Failure {
    Failure {
        quiet: false,
        ..strerror(e)
    }
}

/// Send one request and read the reply attributes up to the empty line.
fn exchange(service: &Service, mut conn: Conn, request: &[u8]) -> Result<(String, Conn), Failure> {
    let stream = conn.stream.get_mut();
    stream.write_all(request).map_err(|e| strerror(&e))?;
    stream.flush().map_err(|e| strerror(&e))?;
    let mut action = None;
    loop {
        let mut line = Vec::new();
        let n = (&mut conn.stream)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| strerror(&e))?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Err(strerror(&io::ErrorKind::UnexpectedEof.into()));
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\n').trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        match line.split_once('=') {
            Some(("action", value)) => action = Some(value.to_string()),
            Some((name, _)) => {
                return Err(Failure {
                    text: format!(
                        "unexpected attribute {name} from {} (expecting: action)",
                        service.name
                    ),
                    quiet: false,
                });
            }
            None => {
                return Err(Failure {
                    text: format!("missing '=' after attribute name from {}", service.name),
                    quiet: false,
                });
            }
        }
    }
    match action {
        Some(action) => Ok((action, conn)),
        None => Err(Failure {
            text: format!("missing attribute action in input from {}", service.name),
            quiet: false,
        }),
    }
}

/// The `check_policy_service` arguments in `lists` (to keep them out of
/// the access tables the engine opens).
pub(crate) fn arguments<'a>(lists: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    let mut found = Vec::new();
    for items in lists {
        let mut words = items.iter();
        while let Some(word) = words.next() {
            if Restriction::from_name(word) == Some(Restriction::CheckPolicyService)
                && let Some(arg) = words.next()
            {
                found.push(arg.clone());
            }
        }
    }
    found
}

/// The request attributes, in Postfix 3.7's order (plus 3.8's
/// `compatibility_level` and `mail_version`). Facts the session does not
/// give the engine yet are sent empty.
fn attributes(ctx: &Ctx<'_>, clients: &Clients, service: &Service) -> Vec<(&'static str, String)> {
    let s = &ctx.state;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let tls =
        |f: fn(&super::Encryption) -> String| s.encryption.as_ref().map(f).unwrap_or_default();
    let where_ = s.command();
    let count = match where_ {
        "DATA" | "END-OF-MESSAGE" => s.recipient_count,
        _ => 0,
    };
    let queue_id = match s.queue_id.as_str() {
        "NOQUEUE" => String::new(),
        id => id.to_string(),
    };
    let (cert, pkey) = s
        .tls
        .as_ref()
        .map(|t| (t.cert_fingerprint.clone(), t.pkey_fingerprint.clone()))
        .unwrap_or_default();
    vec![
        ("request", "smtpd_access_policy".to_string()),
        ("protocol_state", where_.to_string()),
        ("protocol_name", s.protocol.clone()),
        ("client_address", s.client.addr.clone()),
        ("client_name", s.client.name.clone()),
        (
            "client_port",
            s.client_port.map(|p| p.to_string()).unwrap_or_default(),
        ),
        ("reverse_client_name", s.client.reverse_name.clone()),
        (
            "server_address",
            s.server.map(|a| a.ip().to_string()).unwrap_or_default(),
        ),
        (
            "server_port",
            s.server.map(|a| a.port().to_string()).unwrap_or_default(),
        ),
        ("helo_name", opt(&s.helo)),
        ("sender", opt(&s.sender)),
        ("recipient", opt(&s.recipient)),
        ("recipient_count", count.to_string()),
        ("queue_id", queue_id),
        ("instance", s.instance.clone()),
        ("size", s.size.to_string()),
        ("etrn_domain", opt(&s.etrn_domain)),
        ("stress", String::new()),
        ("sasl_method", String::new()),
        ("sasl_username", opt(&s.sasl_username)),
        ("sasl_sender", String::new()),
        ("ccert_subject", String::new()),
        ("ccert_issuer", String::new()),
        ("ccert_fingerprint", cert),
        ("ccert_pubkey_fingerprint", pkey),
        ("encryption_protocol", tls(|e| e.protocol.clone())),
        ("encryption_cipher", tls(|e| e.cipher.clone())),
        (
            "encryption_keysize",
            s.encryption
                .as_ref()
                .map_or_else(|| "0".to_string(), |e| e.keysize.to_string()),
        ),
        ("policy_context", service.options.policy_context.clone()),
        ("compatibility_level", clients.compatibility_level.clone()),
        ("mail_version", clients.mail_version.clone()),
    ]
}

/// `check_policy_service arg`: ask, then apply the action (or the
/// default action) like an access-map value.
pub(crate) fn check(ctx: &mut Ctx<'_>, arg: &str) -> Step {
    let engine = ctx.engine;
    let clients = &engine.settings.policy;
    let service = match clients.service(arg) {
        Ok(service) => service,
        Err(problem) => {
            ctx.warn(problem);
            return ctx.server_error();
        }
    };
    if super::dns::must_not_wait() {
        return Step::Dunno;
    }
    let attrs = attributes(ctx, clients, &service);
    let mut warnings = Vec::new();
    let action = clients.query(&service, &attrs, &mut |w| warnings.push(w));
    for w in warnings {
        ctx.warn(w);
    }
    let action = action.unwrap_or_else(|| service.options.default_action.clone());
    access::result(ctx, &service.spec, &action, "policy query")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Clients {
        let config = conf::Config::with_main(&std::env::temp_dir(), Default::default(), &[]);
        Clients::from_config(&config).expect("defaults")
    }

    #[test]
    fn endpoints_and_overrides() {
        let c = clients();
        let s = c.service("inet:127.0.0.1:10023").expect("inet");
        assert_eq!(s.endpoint, Endpoint::Inet("127.0.0.1:10023".into()));
        assert_eq!(s.options.timeout, Duration::from_secs(100));
        assert_eq!(s.options.try_limit, 2);
        assert_eq!(
            s.options.default_action,
            "451 4.3.5 Server configuration problem"
        );
        let s = c.service("unix:private/policy").expect("unix");
        assert_eq!(s.endpoint, Endpoint::Unix("private/policy".into()));
        assert_eq!(s.name, "private/policy");
        let s = c
            .service("inet:h:1, timeout=10s, default_action=DUNNO, try_limit=1, policy_context=sub")
            .expect("overrides");
        assert_eq!(s.options.timeout, Duration::from_secs(10));
        assert_eq!(s.options.default_action, "DUNNO");
        assert_eq!(s.options.try_limit, 1);
        assert_eq!(s.options.policy_context, "sub");
        assert!(c.service("inet:h:1, bogus=1").is_err());
        assert!(c.service("inet:h:1, try_limit=0").is_err());
        assert!(c.service("tcp:h:1").is_err());
    }

    #[test]
    fn arguments_are_found_in_lists() {
        let lists = [
            vec!["permit".to_string()],
            vec![
                "CHECK_POLICY_SERVICE".to_string(),
                "inet:h:1".to_string(),
                "check_policy_service".to_string(),
            ],
        ];
        assert_eq!(
            arguments(lists.iter().map(Vec::as_slice)),
            ["inet:h:1".to_string()]
        );
    }

    #[test]
    fn errors_read_like_strerror() {
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(strerror(&refused).text, "Connection refused");
        assert!(!strerror(&refused).quiet);
        assert!(strerror(&io::ErrorKind::BrokenPipe.into()).quiet);
        assert_eq!(
            strerror(&io::ErrorKind::WouldBlock.into()).text,
            "Connection timed out"
        );
    }
}
