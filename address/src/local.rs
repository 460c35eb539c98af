//! Does a domain belong to this mail system (Postfix `resolve_local`)?
//! Yes when it is listed in `mydestination` (names, files or tables), or
//! when it is an address literal `[addr]` of one of the addresses in
//! `inet_interfaces` or `proxy_interfaces`.

use std::net::IpAddr;

use conf::Config;
use postmap::OpenOptions;

use crate::ConfigError;
use crate::names::{self, NameList};

/// The local destinations.
#[derive(Debug)]
pub struct LocalDomains {
    destinations: NameList,
    interfaces: Vec<IpAddr>,
}

impl LocalDomains {
    /// `destinations` is `mydestination`; `interfaces` are the addresses
    /// this system receives mail on.
    pub fn new(destinations: NameList, interfaces: Vec<IpAddr>) -> LocalDomains {
        LocalDomains {
            destinations,
            interfaces,
        }
    }

    /// `mydestination`, `inet_interfaces` and the numeric addresses of
    /// `proxy_interfaces` (host names there are not resolved: looking up
    /// DNS to decide locality would make every decision depend on it).
    pub fn from_config(
        config: &Config,
        options: &OpenOptions,
    ) -> Result<LocalDomains, ConfigError> {
        let value = config.get("mydestination")?.unwrap_or_default();
        let destinations = NameList::new("mydestination", &value, options)?;
        let mut interfaces: Vec<IpAddr> = config
            .interface_addresses()?
            .into_iter()
            .map(|i| i.addr)
            .collect();
        for proxy in config.get_list("proxy_interfaces")? {
            if let Ok(addr) = proxy.trim_start_matches('[').trim_end_matches(']').parse() {
                interfaces.push(addr);
            }
        }
        Ok(LocalDomains::new(destinations, interfaces))
    }

    /// The `mydestination` list, e.g. for its warnings.
    pub fn destinations(&self) -> &NameList {
        &self.destinations
    }

    /// Is `domain` local? One trailing dot is ignored; an empty domain, or
    /// one ending in `..`, is not local. A table in `mydestination` that
    /// cannot answer is an error.
    pub fn is_local(&self, domain: &str) -> Result<bool, names::Error> {
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if domain.is_empty() || domain.ends_with('.') {
            return Ok(false);
        }
        if self.destinations.matches(domain)? {
            return Ok(true);
        }
        Ok(literal_address(domain).is_some_and(|addr| self.interfaces.contains(&addr)))
    }
}

/// The address of a domain literal, `[192.0.2.1]` or `[IPv6:2001:db8::1]`.
fn literal_address(domain: &str) -> Option<IpAddr> {
    let inner = domain.strip_prefix('[')?.strip_suffix(']')?;
    let v6 = inner
        .get(..5)
        .filter(|prefix| prefix.eq_ignore_ascii_case("ipv6:"))
        .map(|_| &inner[5..]);
    match v6 {
        Some(v6) => v6.parse().ok().filter(IpAddr::is_ipv6),
        None => inner.parse().ok().filter(IpAddr::is_ipv4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> LocalDomains {
        LocalDomains::new(
            NameList::from_names("mydestination", ["example.com", "localhost"]),
            vec![
                "192.0.2.1".parse().expect("ip"),
                "2001:db8::1".parse().expect("ip"),
            ],
        )
    }

    #[test]
    fn names_and_trailing_dots() {
        let l = local();
        assert_eq!(l.is_local("Example.COM"), Ok(true));
        assert_eq!(l.is_local("example.com."), Ok(true));
        assert_eq!(l.is_local("example.com.."), Ok(false));
        assert_eq!(l.is_local("sub.example.com"), Ok(false));
        assert_eq!(l.is_local(""), Ok(false));
        assert_eq!(l.is_local("."), Ok(false));
    }

    #[test]
    fn address_literals_of_our_interfaces() {
        let l = local();
        assert_eq!(l.is_local("[192.0.2.1]"), Ok(true));
        assert_eq!(l.is_local("[192.0.2.2]"), Ok(false));
        assert_eq!(l.is_local("[IPv6:2001:db8::1]"), Ok(true));
        assert_eq!(l.is_local("[2001:db8::1]"), Ok(false));
        assert_eq!(l.is_local("[ipv6:192.0.2.1]"), Ok(false));
        assert_eq!(l.is_local("[é]"), Ok(false));
    }
}
