//! [`Settings`]: the parameters smtpd reads, typed and validated once at
//! startup from a [`conf::Config`], so that a bad value stops the daemon
//! with the parameter's name instead of surprising a session later.

use std::path::PathBuf;
use std::time::Duration;

use conf::Config;
use conf::value;

use crate::bare_newline::BareNewline;
use crate::header_rewrite::{self, HeaderRewrite};
use crate::log::Log;
use crate::networks::{self, NetworkList};
use crate::restrictions::{self, Dns, Engine};

/// Every parameter [`Settings::from_config`] reads; the binary's header
/// documents exactly these (a test checks both directions).
pub const PARAMETERS: &[&str] = &[
    "disable_vrfy_command",
    "inet_interfaces",
    "inet_protocols",
    "line_length_limit",
    "local_header_rewrite_clients",
    "mail_name",
    "message_size_limit",
    "myhostname",
    "mynetworks",
    "remote_header_rewrite_domain",
    "smtpd_banner",
    "smtpd_client_connection_count_limit",
    "smtpd_client_event_limit_exceptions",
    "smtpd_client_port_logging",
    "smtpd_discard_ehlo_keywords",
    "smtpd_enforce_tls",
    "smtpd_error_sleep_time",
    "smtpd_forbid_bare_newline",
    "smtpd_forbid_bare_newline_exclusions",
    "smtpd_forbid_bare_newline_reject_code",
    "smtpd_forbid_unauth_pipelining",
    "smtpd_forbidden_commands",
    "smtpd_hard_error_limit",
    "smtpd_helo_required",
    "smtpd_junk_command_limit",
    "smtpd_peername_lookup",
    "smtpd_recipient_limit",
    "smtpd_recipient_overshoot_limit",
    "smtpd_soft_error_limit",
    "smtpd_starttls_timeout",
    "smtpd_timeout",
    "smtpd_tls_auth_only",
    "smtpd_tls_cert_file",
    "smtpd_tls_key_file",
    "smtpd_tls_received_header",
    "smtpd_tls_security_level",
    "smtpd_use_tls",
    "smtputf8_enable",
    "strict_rfc821_envelopes",
];

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Conf(#[from] conf::config::Error),
    #[error(transparent)]
    Value(#[from] value::Error),
    #[error("parameter {name}: {source}")]
    List {
        name: &'static str,
        source: networks::Error,
    },
    #[error(transparent)]
    HeaderRewrite(#[from] header_rewrite::Error),
    #[error("invalid {name} value: \"{value}\"")]
    Invalid { name: &'static str, value: String },
    #[error(transparent)]
    Restrictions(#[from] restrictions::Error),
    /// Postfix's fatal error: without one of these, smtpd would relay
    /// for anyone.
    #[error(
        "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, \
         specify at least one working instance of: reject_unauth_destination, \
         defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains"
    )]
    NoRelayControl,
}

/// `smtpd_tls_security_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsLevel {
    None,
    /// Offer STARTTLS.
    May,
    /// Require STARTTLS before mail (RFC 3207 §4).
    Encrypt,
}

/// The TLS parameters; the certificate is loaded by [`crate::tls`].
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub level: TlsLevel,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Read for completeness: AUTH is not offered at all yet.
    pub auth_only: bool,
    /// Add the cipher comment to `Received:`.
    pub received_header: bool,
    pub handshake_timeout: Duration,
}

/// smtpd's configuration.
#[derive(Debug)]
pub struct Settings {
    pub myhostname: String,
    pub mail_name: String,
    pub banner: String,
    /// 0: no limit.
    pub message_size_limit: u64,
    pub line_length_limit: usize,
    pub recipient_limit: usize,
    pub recipient_overshoot_limit: usize,
    pub timeout: Duration,
    pub error_sleep: Duration,
    pub soft_error_limit: u32,
    pub hard_error_limit: u32,
    pub junk_command_limit: u32,
    pub helo_required: bool,
    pub disable_vrfy: bool,
    pub smtputf8: bool,
    /// MAIL FROM and RCPT TO must be exactly `<path>`.
    pub strict_rfc821_envelopes: bool,
    pub bare_newline: BareNewline,
    pub bare_newline_exclusions: NetworkList,
    pub bare_newline_reject_code: u16,
    pub forbid_unauth_pipelining: bool,
    pub forbidden_commands: Vec<String>,
    pub forbidden_tables: Vec<Box<dyn postmap::Table>>,
    /// Lower-case EHLO keywords not to announce.
    pub discard_ehlo_keywords: Vec<String>,
    pub tls: TlsSettings,
    /// Sessions this process serves at once, and why that many.
    pub session_limit: SessionLimit,
    /// `max_idle`, when the master started this process (it starts the
    /// next one on demand): exit after this long without a session.
    /// None: serve until stopped.
    pub max_idle: Option<Duration>,
    /// `max_use`, likewise: exit once `max_use` × the session limit
    /// sessions were served and none is open. None: no limit.
    pub max_use: Option<u64>,
    /// Sessions one client address may hold; 0: no limit.
    pub client_connection_limit: usize,
    pub client_limit_exceptions: NetworkList,
    pub client_port_logging: bool,
    /// `smtpd_peername_lookup`: look up the client's name (PTR, then a
    /// forward lookup that must give its address back).
    pub peername_lookup: bool,
    /// Whose headers cleanup rewrites, and how.
    pub header_rewrite: HeaderRewrite,
    /// The restriction engine. `None` only in protocol tests built with
    /// [`Settings::from_config`] or [`Settings::for_tests`] alone: every
    /// recipient is accepted. The daemon always adds it with
    /// [`Settings::with_restrictions`].
    pub restrictions: Option<Engine>,
    /// Where log lines go (`tracing`, target `smtpd`, by default).
    pub log: Log,
}

fn int(config: &Config, name: &'static str, min: i64) -> Result<i64, Error> {
    let text = config.get(name)?.unwrap_or_default();
    Ok(value::parse_long(name, &text, min, 0)?)
}

fn count(config: &Config, name: &'static str, min: i64) -> Result<usize, Error> {
    usize::try_from(int(config, name, min)?).map_err(|_| Error::Invalid {
        name,
        value: config.raw(name).unwrap_or_default(),
    })
}

fn text(config: &Config, name: &'static str) -> Result<String, Error> {
    Ok(config.get(name)?.unwrap_or_default())
}

fn list(config: &Config, name: &'static str) -> Result<NetworkList, Error> {
    NetworkList::parse(&text(config, name)?).map_err(|source| Error::List { name, source })
}

impl Settings {
    /// Read and check every parameter in [`PARAMETERS`].
    pub fn from_config(config: &Config) -> Result<Settings, Error> {
        let (forbidden_commands, forbidden_tables) = forbidden(config)?;
        Ok(Settings {
            myhostname: text(config, "myhostname")?,
            mail_name: text(config, "mail_name")?,
            banner: text(config, "smtpd_banner")?,
            message_size_limit: int(config, "message_size_limit", 0)? as u64,
            line_length_limit: count(config, "line_length_limit", 512)?,
            recipient_limit: count(config, "smtpd_recipient_limit", 1)?,
            recipient_overshoot_limit: count(config, "smtpd_recipient_overshoot_limit", 0)?,
            timeout: config.get_time("smtpd_timeout")?,
            error_sleep: config.get_time("smtpd_error_sleep_time")?,
            soft_error_limit: int(config, "smtpd_soft_error_limit", 0)? as u32,
            hard_error_limit: int(config, "smtpd_hard_error_limit", 1)? as u32,
            junk_command_limit: int(config, "smtpd_junk_command_limit", 1)? as u32,
            helo_required: config.get_bool("smtpd_helo_required")?,
            disable_vrfy: config.get_bool("disable_vrfy_command")?,
            smtputf8: config.get_bool("smtputf8_enable")?,
            strict_rfc821_envelopes: config.get_bool("strict_rfc821_envelopes")?,
            bare_newline: bare_newline(config)?,
            bare_newline_exclusions: list(config, "smtpd_forbid_bare_newline_exclusions")?,
            bare_newline_reject_code: reject_code(config)?,
            forbid_unauth_pipelining: forbid_unauth_pipelining(config)?,
            forbidden_commands,
            forbidden_tables,
            discard_ehlo_keywords: config
                .get_list("smtpd_discard_ehlo_keywords")?
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            tls: tls(config)?,
            session_limit: SessionLimit::from_descriptors(),
            max_idle: None,
            max_use: None,
            client_connection_limit: count(config, "smtpd_client_connection_count_limit", 0)?,
            client_limit_exceptions: list(config, "smtpd_client_event_limit_exceptions")?,
            client_port_logging: config.get_bool("smtpd_client_port_logging")?,
            peername_lookup: config.get_bool("smtpd_peername_lookup")?,
            header_rewrite: HeaderRewrite::from_config(config)?,
            restrictions: None,
            log: Log::tracing(),
        })
    }

    /// Add the restriction engine (Postfix `smtpd_check_init`): every
    /// list, class and table of `config`, DNS through `dns`. Fails, as
    /// Postfix does, when nothing in the relay or recipient restrictions
    /// refuses relaying. The caller logs [`Engine::warnings`].
    pub fn with_restrictions(
        mut self,
        config: &Config,
        dns: Box<dyn Dns>,
    ) -> Result<Settings, Error> {
        let engine = Engine::from_config(config, dns)?;
        if !engine.has_relay_control() {
            return Err(Error::NoRelayControl);
        }
        self.restrictions = Some(engine);
        Ok(self)
    }

    /// Settings for tests: the built-in defaults (compatibility level
    /// 3.6, as a fresh main.cf has it) with `overrides`, no dependence on
    /// the host (fixed host name, no networks), and a log that keeps
    /// nothing (replace `log` to see it).
    pub fn for_tests(overrides: &[(&str, &str)]) -> Result<Settings, Error> {
        let config = test_config(overrides);
        let mut settings = Settings::from_config(&config)?;
        settings.log = Log::memory().0;
        Ok(settings)
    }

    /// [`Settings::for_tests`] with the restriction engine, without DNS
    /// (every lookup finds nothing).
    pub fn for_tests_restricted(overrides: &[(&str, &str)]) -> Result<Settings, Error> {
        Settings::for_tests_with_dns(
            overrides,
            Box::new(restrictions::NoDns { temporary: false }),
        )
    }

    /// [`Settings::for_tests`] with the restriction engine asking `dns`.
    pub fn for_tests_with_dns(
        overrides: &[(&str, &str)],
        dns: Box<dyn restrictions::Dns>,
    ) -> Result<Settings, Error> {
        let config = test_config(overrides);
        let mut settings = Settings::from_config(&config)?.with_restrictions(&config, dns)?;
        settings.log = Log::memory().0;
        Ok(settings)
    }
}

/// The configuration of [`Settings::for_tests`].
fn test_config(overrides: &[(&str, &str)]) -> Config {
    let mut all: Vec<(String, String)> = vec![
        ("myhostname".into(), "mx.example.test".into()),
        ("mydomain".into(), "example.test".into()),
        ("mynetworks".into(), "".into()),
        ("compatibility_level".into(), "3.6".into()),
        ("local_header_rewrite_clients".into(), "".into()),
    ];
    all.extend(
        overrides
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string())),
    );
    let config = Config::defaults(std::path::Path::new("/nonexistent"));
    Config::with_main(config.dir(), config.main_cf().clone(), &all)
}

/// Descriptors kept for the listener, tables, logs and the runtime.
const RESERVED_FDS: u64 = 64;

/// How many sessions one smtpd serves at once. Past it, smtpd accepts
/// nothing until a session ends: new clients wait in the listen queue,
/// as they do for Postfix's master when every smtpd process is busy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLimit {
    pub max: usize,
    /// The master.cf service name (`-n`; `smtpd` when started by hand),
    /// for the warning when the limit is reached.
    pub service: String,
    /// `max` is the service's master.cf `maxproc` (`-p`), not the
    /// descriptor limit.
    pub is_process_limit: bool,
}

impl SessionLimit {
    /// As many as `RLIMIT_NOFILE` (soft) allows: two descriptors per
    /// session (socket and queue file), so that accept never fails.
    pub fn from_descriptors() -> SessionLimit {
        let (soft, _) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .unwrap_or((1024, 1024));
        let sessions = soft.saturating_sub(RESERVED_FDS) / 2;
        SessionLimit {
            max: usize::try_from(sessions.max(1)).unwrap_or(usize::MAX),
            service: "smtpd".to_owned(),
            is_process_limit: false,
        }
    }

    /// For the master.cf service `name` with process limit `maxproc`
    /// (None or 0: no limit): at most `maxproc` sessions, an admin's
    /// meaning of "at most N smtpd processes", and never more than the
    /// descriptors allow.
    pub fn for_service(self, name: &str, maxproc: Option<usize>) -> SessionLimit {
        let (max, is_process_limit) = match maxproc {
            Some(n) if n > 0 && n <= self.max => (n, true),
            _ => (self.max, self.is_process_limit),
        };
        SessionLimit {
            max,
            service: name.to_owned(),
            is_process_limit,
        }
    }
}

impl Settings {
    /// [`SessionLimit::for_service`] on these settings: smtpd's `-n` and
    /// `-p` from the master.
    pub fn with_service(mut self, name: &str, maxproc: Option<usize>) -> Settings {
        self.session_limit = self.session_limit.for_service(name, maxproc);
        self
    }
}

/// `normalize` (and its alias `yes`) or `reject`. `no`, Postfix 3.7's
/// default, is treated as `normalize`: the security rules forbid
/// ending DATA anywhere but at CRLF.CRLF, which is all that separates
/// `no` from `normalize`.
fn bare_newline(config: &Config) -> Result<BareNewline, Error> {
    let value = text(config, "smtpd_forbid_bare_newline")?;
    match value.to_ascii_lowercase().as_str() {
        "normalize" | "yes" | "no" => Ok(BareNewline::Normalize),
        "reject" => Ok(BareNewline::Reject),
        _ => Err(Error::Invalid {
            name: "smtpd_forbid_bare_newline",
            value,
        }),
    }
}

fn reject_code(config: &Config) -> Result<u16, Error> {
    let code = int(config, "smtpd_forbid_bare_newline_reject_code", 500)?;
    match u16::try_from(code) {
        Ok(code @ 500..=599) => Ok(code),
        _ => Err(Error::Invalid {
            name: "smtpd_forbid_bare_newline_reject_code",
            value: code.to_string(),
        }),
    }
}

/// Postfix 3.9's default `yes` unless main.cf or `-o` says otherwise
/// (the registry still carries 3.7's `no`; the issue asks for 3.9).
fn forbid_unauth_pipelining(config: &Config) -> Result<bool, Error> {
    const NAME: &str = "smtpd_forbid_unauth_pipelining";
    match config.explicit(NAME) {
        None => Ok(true),
        Some(_) => Ok(config.get_bool(NAME)?),
    }
}

/// `smtpd_forbidden_commands`: plain words, and `type:table` entries
/// looked up with the command word (the default's inline regexp).
type Forbidden = (Vec<String>, Vec<Box<dyn postmap::Table>>);

fn forbidden(config: &Config) -> Result<Forbidden, Error> {
    const NAME: &str = "smtpd_forbidden_commands";
    let mut words = Vec::new();
    let mut tables = Vec::new();
    for item in config.get_list(NAME)? {
        if item.contains(':') {
            let opened = postmap::open(&item, &postmap::OpenOptions::default()).map_err(|e| {
                Error::List {
                    name: NAME,
                    source: networks::Error::Table(e),
                }
            })?;
            tables.push(opened.table);
        } else {
            words.push(item.to_ascii_uppercase());
        }
    }
    Ok((words, tables))
}

fn tls(config: &Config) -> Result<TlsSettings, Error> {
    let level = text(config, "smtpd_tls_security_level")?;
    let level = match level.to_ascii_lowercase().as_str() {
        "" if config.get_bool("smtpd_enforce_tls")? => TlsLevel::Encrypt,
        "" if config.get_bool("smtpd_use_tls")? => TlsLevel::May,
        "" | "none" => TlsLevel::None,
        "may" => TlsLevel::May,
        "encrypt" => TlsLevel::Encrypt,
        _ => {
            return Err(Error::Invalid {
                name: "smtpd_tls_security_level",
                value: level,
            });
        }
    };
    Ok(TlsSettings {
        level,
        cert_file: text(config, "smtpd_tls_cert_file")?.into(),
        key_file: text(config, "smtpd_tls_key_file")?.into(),
        auth_only: config.get_bool("smtpd_tls_auth_only")?,
        received_header: config.get_bool("smtpd_tls_received_header")?,
        handshake_timeout: config.get_time("smtpd_starttls_timeout")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_postfix_defaults() {
        let s = Settings::for_tests(&[]).expect("defaults are valid");
        assert_eq!(s.banner, "mx.example.test ESMTP Postfix");
        assert_eq!(s.message_size_limit, 10_240_000);
        assert_eq!(s.line_length_limit, 2048);
        assert_eq!(s.recipient_limit, 1000);
        assert_eq!(s.timeout, Duration::from_secs(300));
        assert_eq!((s.soft_error_limit, s.hard_error_limit), (10, 20));
        assert_eq!(s.bare_newline, BareNewline::Normalize);
        assert_eq!(s.bare_newline_reject_code, 550);
        assert!(s.forbid_unauth_pipelining);
        assert_eq!(s.forbidden_commands, ["CONNECT", "GET", "POST"]);
        assert_eq!(s.forbidden_tables.len(), 1);
        assert_eq!(s.tls.level, TlsLevel::None);
        assert!(s.smtputf8);
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let err = Settings::for_tests(&[("smtpd_forbid_bare_newline", "maybe")]);
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("smtpd_forbid_bare_newline")
        );
        let err = Settings::for_tests(&[("line_length_limit", "100")]);
        assert!(err.unwrap_err().to_string().contains("line_length_limit"));
        let err = Settings::for_tests(&[("smtpd_forbid_bare_newline_reject_code", "450")]);
        assert!(err.is_err());
        let s = Settings::for_tests(&[("smtpd_forbid_unauth_pipelining", "no")]).expect("valid");
        assert!(!s.forbid_unauth_pipelining);
        let s = Settings::for_tests(&[("smtpd_use_tls", "yes")]).expect("valid");
        assert_eq!(s.tls.level, TlsLevel::May);
    }

    #[test]
    fn restrictions_without_relay_control_are_refused() {
        let s = Settings::for_tests_restricted(&[]).expect("defaults control relaying");
        assert!(s.restrictions.is_some());
        let open = Settings::for_tests_restricted(&[
            ("smtpd_relay_restrictions", "permit_mynetworks"),
            ("smtpd_recipient_restrictions", "permit_mynetworks, permit"),
        ]);
        assert!(matches!(open, Err(Error::NoRelayControl)), "{open:?}");
    }

    /// maxproc caps the sessions; 0 or none leaves the descriptor limit,
    /// and so does a maxproc above it.
    #[test]
    fn maxproc_is_the_session_limit_below_the_descriptor_limit() {
        let fds = SessionLimit {
            max: 500,
            service: "smtpd".to_owned(),
            is_process_limit: false,
        };
        let capped = fds.clone().for_service("smtp", Some(100));
        assert_eq!((capped.max, capped.is_process_limit), (100, true));
        assert_eq!(capped.service, "smtp");
        let none = fds.clone().for_service("smtp", Some(0));
        assert_eq!((none.max, none.is_process_limit), (500, false));
        assert_eq!(fds.clone().for_service("smtp", None).max, 500);
        let above = fds.for_service("smtp", Some(1000));
        assert_eq!((above.max, above.is_process_limit), (500, false));
        let s = Settings::for_tests(&[])
            .expect("valid")
            .with_service("submission", Some(1));
        assert_eq!(s.session_limit.max, 1);
        assert_eq!(s.session_limit.service, "submission");
    }
}
