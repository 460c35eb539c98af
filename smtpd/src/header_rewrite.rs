//! Whose message headers cleanup may rewrite (Postfix 2.2+): clients
//! matching `local_header_rewrite_clients` get the local context (complete
//! addresses with `$myorigin`/`$mydomain`, add missing headers); others
//! the remote context when `remote_header_rewrite_domain` is set, else no
//! header rewriting at all.
//!
//! Supported in `local_header_rewrite_clients`: `permit_inet_interfaces`,
//! `permit_mynetworks`, `check_address_map type:table` (the client
//! address looked up; any value permits). `permit_sasl_authenticated` and
//! `permit_tls_clientcerts` never match yet (no AUTH, no client
//! certificates).

use std::net::IpAddr;

use address::rewrite::Context;
use conf::Config;

use crate::client::Client;
use crate::networks::{self, NetworkList};

/// The decision, prepared once at startup.
#[derive(Debug, Default)]
pub struct HeaderRewrite {
    interfaces: Vec<IpAddr>,
    mynetworks: Option<NetworkList>,
    maps: Vec<Box<dyn postmap::Table>>,
    remote_domain: bool,
}

/// Why `local_header_rewrite_clients` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Conf(#[from] conf::config::Error),
    #[error("mynetworks: {0}")]
    Networks(#[from] networks::Error),
    #[error("local_header_rewrite_clients: {0}")]
    Table(#[from] postmap::Error),
    #[error("local_header_rewrite_clients: unknown or incomplete entry \"{0}\"")]
    Entry(String),
}

impl HeaderRewrite {
    pub fn from_config(config: &Config) -> Result<HeaderRewrite, Error> {
        let mut rewrite = HeaderRewrite {
            remote_domain: !config
                .get("remote_header_rewrite_domain")?
                .unwrap_or_default()
                .is_empty(),
            ..HeaderRewrite::default()
        };
        let mut items = config.get_list("local_header_rewrite_clients")?.into_iter();
        while let Some(item) = items.next() {
            match item.to_ascii_lowercase().as_str() {
                "permit_inet_interfaces" => {
                    // No interface list (a bad inet_interfaces) matches none.
                    let found = config.interface_addresses().unwrap_or_default();
                    rewrite.interfaces = found.into_iter().map(|i| i.addr).collect();
                }
                "permit_mynetworks" => {
                    let nets = config.get("mynetworks")?.unwrap_or_default();
                    rewrite.mynetworks = Some(NetworkList::parse(&nets)?);
                }
                "check_address_map" => {
                    let spec = items.next().ok_or_else(|| Error::Entry(item.clone()))?;
                    let opened = postmap::open(&spec, &postmap::OpenOptions::default())?;
                    rewrite.maps.push(opened.table);
                }
                "permit_sasl_authenticated"
                | "permit_tls_clientcerts"
                | "permit_tls_all_clientcerts" => {}
                _ => return Err(Error::Entry(item)),
            }
        }
        Ok(rewrite)
    }

    /// The context for this client's headers.
    pub fn context(&self, client: &Client) -> Option<Context> {
        let addr = client.addr;
        let local = self.interfaces.contains(&addr)
            || self
                .mynetworks
                .as_ref()
                .is_some_and(|n| n.matches(&client.name, addr))
            || self
                .maps
                .iter()
                .any(|t| matches!(t.lookup(&addr.to_string()), Ok(Some(_))));
        match (local, self.remote_domain) {
            (true, _) => Some(Context::Local),
            (false, true) => Some(Context::Remote),
            (false, false) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(overrides: &[(&str, &str)]) -> Config {
        let all: Vec<(String, String)> = overrides
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let base = Config::defaults(std::path::Path::new("/nonexistent"));
        Config::with_main(base.dir(), base.main_cf().clone(), &all)
    }

    #[test]
    fn mynetworks_and_tables() {
        let c = config(&[
            (
                "local_header_rewrite_clients",
                "permit_mynetworks, check_address_map inline:{192.0.2.9=OK}",
            ),
            ("mynetworks", "198.51.100.0/24"),
        ]);
        let r = HeaderRewrite::from_config(&c).expect("valid");
        let client =
            |a: &str| Client::from_peer(format!("{a}:25").parse().expect("addr"), None, false);
        assert_eq!(r.context(&client("198.51.100.7")), Some(Context::Local));
        assert_eq!(r.context(&client("192.0.2.9")), Some(Context::Local));
        assert_eq!(r.context(&client("203.0.113.1")), None);
        let c = config(&[
            ("local_header_rewrite_clients", ""),
            ("remote_header_rewrite_domain", "x.test"),
        ]);
        let r = HeaderRewrite::from_config(&c).expect("valid");
        assert_eq!(r.context(&client("203.0.113.1")), Some(Context::Remote));
        let bad = config(&[("local_header_rewrite_clients", "permit_everyone")]);
        assert!(HeaderRewrite::from_config(&bad).is_err());
    }
}
