//! The effective configuration of one config directory.
//!
//! A value is looked up in the command-line overrides (`postconf -o`,
//! master.cf `-o`), then in main.cf, then in the registry's defaults, and
//! expanded lazily and recursively with [`crate::expand`]. Defaults that
//! depend on the host (`myhostname`, `mydomain`, `mynetworks`) are
//! computed on first use from the effective values they depend on.

use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::expand;
use crate::main_cf::{self, MainCf};
use crate::param::{self, Computed, Interface};
use crate::value;

/// The compiled-in configuration directory.
pub const DEFAULT_CONFIG_DIR: &str = "/etc/postfix";

/// `$MAIL_CONFIG` if set and not empty, else `/etc/postfix`.
pub fn default_config_dir() -> PathBuf {
    match std::env::var_os("MAIL_CONFIG") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_CONFIG_DIR),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    MainCf(#[from] main_cf::Error),
    /// A value whose `$name` expansion fails (syntax error or a loop).
    #[error("parameter {name}: {detail}")]
    Expand { name: String, detail: String },
    #[error(transparent)]
    Value(#[from] value::Error),
    /// `inet_interfaces` names an address this host does not have, or a
    /// host name that does not resolve.
    #[error("parameter inet_interfaces: {0}")]
    Interfaces(String),
}

/// main.cf over the built-in defaults.
#[derive(Debug)]
pub struct Config {
    dir: PathBuf,
    main: MainCf,
    overrides: HashMap<String, String>,
    /// Show built-in defaults only (`postconf -d`): main.cf is ignored.
    defaults_only: bool,
    myhostname: OnceLock<String>,
    mydomain: OnceLock<String>,
    mynetworks: OnceLock<Result<String, String>>,
}

impl Config {
    /// Read `dir/main.cf`; `overrides` take precedence over it.
    pub fn load(dir: &Path, overrides: &[(String, String)]) -> Result<Config, Error> {
        let main = MainCf::read(dir)?;
        Ok(Config::with_main(dir, main, overrides))
    }

    /// A configuration from already parsed main.cf contents.
    pub fn with_main(dir: &Path, main: MainCf, overrides: &[(String, String)]) -> Config {
        Config {
            dir: dir.to_path_buf(),
            main,
            overrides: overrides.iter().cloned().collect(),
            defaults_only: false,
            myhostname: OnceLock::new(),
            mydomain: OnceLock::new(),
            mynetworks: OnceLock::new(),
        }
        .with_computed_defaults()
    }

    /// Compute the host-dependent defaults once, in dependency order. A
    /// value that refers back to one being computed (`mydomain =
    /// $myhostname`) sees it empty, as in Postfix, instead of recursing.
    fn with_computed_defaults(self) -> Config {
        let domain = self.explicit("mydomain").map(|d| self.expand(d));
        let _ = self.myhostname.set(param::my_hostname(domain.as_deref()));
        let _ = self
            .mydomain
            .set(param::my_domain(&self.expand("$myhostname")));
        let style = self.expand("$mynetworks_style");
        let networks = self
            .interface_addresses()
            .map(|addrs| param::my_networks(&style, &addrs).unwrap_or_default())
            .map_err(|e| match e {
                Error::Interfaces(text) => text,
                other => other.to_string(),
            });
        let _ = self.mynetworks.set(networks);
        self
    }

    /// The built-in defaults alone, as `postconf -d` shows them.
    pub fn defaults(dir: &Path) -> Config {
        Config {
            dir: dir.to_path_buf(),
            main: MainCf::default(),
            overrides: HashMap::new(),
            defaults_only: true,
            myhostname: OnceLock::new(),
            mydomain: OnceLock::new(),
            mynetworks: OnceLock::new(),
        }
        .with_computed_defaults()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn main_cf(&self) -> &MainCf {
        &self.main
    }

    pub fn is_defaults_only(&self) -> bool {
        self.defaults_only
    }

    /// The value set explicitly (by an override or main.cf), unexpanded.
    /// Read-only parameters (`process_id`, ...) are never explicit.
    pub fn explicit(&self, name: &str) -> Option<&str> {
        if param::find(name).is_some_and(|p| p.read_only) {
            return None;
        }
        if let Some(v) = self.overrides.get(name) {
            return Some(v);
        }
        if self.defaults_only {
            return None;
        }
        if name == "config_directory" {
            return self.main.get(name).or_else(|| self.dir.to_str());
        }
        self.main.get(name)
    }

    /// The unexpanded value of `name`: explicit, else its default; None
    /// for a name that is neither set nor built in.
    pub fn raw(&self, name: &str) -> Option<String> {
        if let Some(v) = self.explicit(name) {
            return Some(v.to_string());
        }
        let p = param::find(name)?;
        Some(match p.default {
            param::Default::Text(t) => t.to_string(),
            param::Default::Computed(c) => self.computed(c),
        })
    }

    /// The built-in default of `name` (computed ones included).
    pub fn default_of(&self, name: &str) -> Option<String> {
        let p = param::find(name)?;
        Some(match p.default {
            param::Default::Text(t) => t.to_string(),
            param::Default::Computed(c) => Config::defaults(&self.dir).computed(c),
        })
    }

    fn computed(&self, which: Computed) -> String {
        match which {
            Computed::MyHostname => self.myhostname.get().cloned().unwrap_or_default(),
            Computed::MyDomain => self.mydomain.get().cloned().unwrap_or_default(),
            Computed::MyNetworks => self.my_networks().unwrap_or_default(),
            Computed::ProcessId => std::process::id().to_string(),
            Computed::ProcessName => std::env::args()
                .next()
                .map(|a| a.rsplit('/').next().unwrap_or_default().to_string())
                .unwrap_or_default(),
        }
    }

    /// The default `mynetworks`: the networks of `inet_interfaces` in the
    /// style of `mynetworks_style` (an unknown style gives none).
    pub fn my_networks(&self) -> Result<String, Error> {
        match self.mynetworks.get() {
            Some(result) => result.clone().map_err(Error::Interfaces),
            None => Ok(String::new()),
        }
    }

    /// The addresses of `inet_interfaces`, with their interface prefix,
    /// limited to the families of `inet_protocols`. An address that is not
    /// on a local interface is an error, as in Postfix.
    pub fn interface_addresses(&self) -> Result<Vec<Interface>, Error> {
        let protocols = self.expand("$inet_protocols");
        let (v4, v6) = protocol_families(&protocols);
        let local = param::local_interfaces();
        let wanted: Vec<IpAddr> = match self.expand("$inet_interfaces").trim() {
            "all" => local.iter().map(|i| i.addr).collect(),
            "loopback-only" => vec!["127.0.0.1".parse().into_iter(), "::1".parse().into_iter()]
                .into_iter()
                .flatten()
                .collect(),
            list => {
                let mut addrs = Vec::new();
                for host in crate::list::split(list).items {
                    let found = resolve_host(&host);
                    if found.is_empty() {
                        return Err(Error::Interfaces(format!("host not found: {host}")));
                    }
                    addrs.extend(found);
                }
                addrs
            }
        };
        let mut result = Vec::new();
        for addr in wanted
            .into_iter()
            .filter(|a| if a.is_ipv4() { v4 } else { v6 })
        {
            let Some(ifa) = local.iter().find(|i| i.addr == addr) else {
                return Err(Error::Interfaces(format!(
                    "no local interface found for {addr}"
                )));
            };
            result.push(*ifa);
        }
        Ok(result)
    }

    /// `$name` expansion of `text` against this configuration. A value
    /// that cannot be expanded (syntax error, loop) expands as far as it
    /// can; use [`Config::try_expand`] to see the problem.
    pub fn expand(&self, text: &str) -> String {
        self.expand_with(text, &[])
    }

    /// As [`Config::expand`], with `local` settings (a master.cf service's
    /// `-o name=value`) taking precedence.
    pub fn expand_with(&self, text: &str, local: &[(String, String)]) -> String {
        self.try_expand_with(text, local).value
    }

    /// The full expansion result, with status and warnings.
    pub fn try_expand(&self, text: &str) -> expand::Expansion {
        self.try_expand_with(text, &[])
    }

    pub fn try_expand_with(&self, text: &str, local: &[(String, String)]) -> expand::Expansion {
        let mut lookup = |name: &str| {
            local
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .or_else(|| self.raw(name))
        };
        expand::expand(text, true, &mut lookup)
    }

    /// The expanded value of `name`, or an error naming it when the
    /// expansion fails. Unknown names give None.
    pub fn get(&self, name: &str) -> Result<Option<String>, Error> {
        let Some(raw) = self.raw(name) else {
            return Ok(None);
        };
        if param::find(name).is_some_and(|p| p.raw) {
            return Ok(Some(raw));
        }
        let exp = self.try_expand(&raw);
        if exp.status.is_error() {
            return Err(Error::Expand {
                name: name.to_string(),
                detail: exp.warnings.join("; "),
            });
        }
        Ok(Some(exp.value))
    }

    fn get_known(&self, name: &str) -> Result<String, Error> {
        Ok(self.get(name)?.unwrap_or_default())
    }

    /// A `yes`/`no` parameter.
    pub fn get_bool(&self, name: &str) -> Result<bool, Error> {
        Ok(value::parse_bool(name, &self.get_known(name)?)?)
    }

    /// An integer parameter.
    pub fn get_int(&self, name: &str) -> Result<i64, Error> {
        Ok(value::parse_long(name, &self.get_known(name)?, 0, 0)?)
    }

    /// A time parameter, using the unit of its registry declaration when
    /// the value has none.
    pub fn get_time(&self, name: &str) -> Result<std::time::Duration, Error> {
        let unit = match param::find(name).map(|p| p.kind) {
            Some(param::Kind::Time(unit)) => unit,
            _ => 's',
        };
        Ok(value::parse_time(name, &self.get_known(name)?, unit, 0, 0)?)
    }

    /// A list parameter, split on commas and white space with `{ }` groups.
    pub fn get_list(&self, name: &str) -> Result<Vec<String>, Error> {
        Ok(crate::list::split(&self.get_known(name)?).items)
    }
}

/// Which address families `inet_protocols` enables: (ipv4, ipv6).
fn protocol_families(value: &str) -> (bool, bool) {
    let mut v4 = false;
    let mut v6 = false;
    for word in crate::list::split(value).items {
        match word.as_str() {
            "all" => (v4, v6) = (true, true),
            "ipv4" => v4 = true,
            "ipv6" => v6 = true,
            _ => {}
        }
    }
    (v4, v6)
}

/// An `inet_interfaces` entry: an address, possibly `[v6]`, or a host name.
fn resolve_host(entry: &str) -> Vec<IpAddr> {
    let bare = entry.trim_start_matches('[').trim_end_matches(']');
    if let Ok(addr) = bare.parse() {
        return vec![addr];
    }
    (bare, 0)
        .to_socket_addrs()
        .map(|it| it.map(|sa| sa.ip()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let main = MainCf::parse("./main.cf".into(), text).expect("main.cf parses");
        Config::with_main(Path::new("."), main, &[])
    }

    #[test]
    fn main_cf_overrides_defaults_and_expands() {
        let cfg = config("myhostname = mx.example.com\nmyorigin = $mydomain\n");
        assert_eq!(
            cfg.get("myorigin").expect("ok").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            cfg.get("mydomain").expect("ok").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            cfg.get("mydestination").expect("ok").as_deref(),
            Some("mx.example.com, localhost.example.com, localhost")
        );
        assert_eq!(cfg.get("no_such_thing").expect("ok"), None);
    }

    #[test]
    fn overrides_win() {
        let main = MainCf::parse("./main.cf".into(), "relayhost = a\n").expect("parses");
        let cfg = Config::with_main(Path::new("."), main, &[("relayhost".into(), "b".into())]);
        assert_eq!(cfg.get("relayhost").expect("ok").as_deref(), Some("b"));
    }

    #[test]
    fn config_directory_is_the_directory_read() {
        let cfg = config("");
        assert_eq!(cfg.raw("config_directory").as_deref(), Some("."));
        assert_eq!(
            Config::defaults(Path::new("."))
                .raw("config_directory")
                .as_deref(),
            Some("/etc/postfix")
        );
    }

    #[test]
    fn expansion_loops_are_errors() {
        let cfg = config("a = $b\nb = $a\nmyhostname = $a\n");
        let err = cfg.get("myhostname").expect_err("loop");
        assert!(
            err.to_string().contains("unreasonable macro call nesting"),
            "{err}"
        );
    }

    #[test]
    fn compatibility_level_selects_defaults() {
        let cfg = config("");
        assert_eq!(
            cfg.get("mynetworks_style").expect("ok").as_deref(),
            Some("subnet")
        );
        let cfg = config("compatibility_level = 3.6\n");
        assert_eq!(
            cfg.get("mynetworks_style").expect("ok").as_deref(),
            Some("host")
        );
        assert_eq!(cfg.get("relay_domains").expect("ok").as_deref(), Some(""));
    }

    #[test]
    fn typed_getters() {
        let cfg = config("maximal_queue_lifetime = 2\nsmtpd_timeout = 1m\n");
        assert_eq!(
            cfg.get_time("maximal_queue_lifetime")
                .expect("ok")
                .as_secs(),
            2 * 86400
        );
        assert_eq!(cfg.get_time("smtpd_timeout").expect("ok").as_secs(), 60);
        assert_eq!(cfg.get_int("message_size_limit").expect("ok"), 10_240_000);
        assert_eq!(cfg.get_int("smtpd_hard_error_limit").expect("ok"), 20);
        assert!(!cfg.get_bool("disable_vrfy_command").expect("ok"));
        assert!(
            cfg.get_list("smtpd_relay_restrictions")
                .expect("ok")
                .is_empty()
        );
    }

    #[test]
    fn inet_protocols_filter_families() {
        assert_eq!(protocol_families("all"), (true, true));
        assert_eq!(protocol_families("ipv4"), (true, false));
        assert_eq!(protocol_families("ipv4, ipv6"), (true, true));
    }

    #[test]
    fn foreign_interface_address_is_an_error() {
        let cfg = config("inet_interfaces = 192.0.2.254, 127.0.0.1\n");
        let err = cfg.my_networks().expect_err("not local");
        assert_eq!(
            err.to_string(),
            "parameter inet_interfaces: no local interface found for 192.0.2.254"
        );
        let cfg = config("inet_interfaces = 192.0.2.254\nmynetworks = 10.0.0.0/8\n");
        assert_eq!(
            cfg.get("mynetworks").expect("explicit").as_deref(),
            Some("10.0.0.0/8")
        );
    }

    #[test]
    fn computed_defaults_that_refer_to_themselves_terminate() {
        let cfg = config("mydomain = $myhostname\n");
        assert!(cfg.get("myhostname").expect("ok").is_some());
        let cfg = config("mynetworks_style = $mynetworks\n");
        assert_eq!(cfg.get("mynetworks").expect("ok").as_deref(), Some(""));
        let cfg = config("inet_interfaces = $mynetworks\n");
        assert_eq!(cfg.my_networks().expect("no addresses"), "");
    }

    #[test]
    fn loopback_only_networks() {
        let cfg = config("inet_interfaces = loopback-only\ninet_protocols = ipv4\n");
        assert_eq!(
            cfg.get("mynetworks").expect("ok").as_deref(),
            Some("127.0.0.0/8")
        );
    }
}
