//! The address class of a recipient, as trivial-rewrite would resolve it
//! (Postfix `resolve_clnt`), without the service: local (mydestination,
//! interface literals), virtual alias, virtual mailbox, relay or default.
//! It decides `reject_unauth_destination` and `reject_unlisted_*`.

use address::local::LocalDomains;
use address::names::{self, NameList};

/// Where mail for an address goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Local,
    Alias,
    Virtual,
    Relay,
    Default,
}

impl AddressClass {
    /// Is this system the final destination?
    pub fn is_final(self) -> bool {
        matches!(
            self,
            AddressClass::Local | AddressClass::Alias | AddressClass::Virtual
        )
    }
}

/// A resolved address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub address: String,
    pub domain: String,
    pub class: AddressClass,
    /// The local part routes elsewhere (`user%host`, `user@host@`, `a!b`):
    /// sender-specified routing.
    pub routed: bool,
}

impl Resolved {
    /// Does the local part route elsewhere (`%`, `!`, `@`)?
    pub fn is_routed_address(address: &str) -> bool {
        address
            .rfind('@')
            .is_some_and(|at| address[..at].contains(['@', '%', '!']))
    }
}

/// A domain list whose entries also match subdomains when the parameter
/// is in `parent_domain_matches_subdomains` (Postfix `domain_list`).
#[derive(Debug)]
pub struct DomainList {
    names: NameList,
    parent_style: bool,
}

impl DomainList {
    pub fn new(names: NameList, parent_style: bool) -> DomainList {
        DomainList {
            names,
            parent_style,
        }
    }

    /// Does `domain` (or, in parent style, a parent of it; `.parent`
    /// entries always) match?
    pub fn matches(&self, domain: &str) -> Result<bool, names::Error> {
        if self.names.matches(domain)? {
            return Ok(true);
        }
        let mut rest = domain;
        while let Some(dot) = rest.find('.') {
            let parent = &rest[dot + 1..];
            if parent.is_empty() {
                break;
            }
            if self.names.matches(&rest[dot..])?
                || (self.parent_style && self.names.matches(parent)?)
            {
                return Ok(true);
            }
            rest = parent;
        }
        Ok(false)
    }
}

/// The lists that decide the class.
#[derive(Debug)]
pub struct Resolver {
    pub local: LocalDomains,
    pub alias_domains: NameList,
    pub mailbox_domains: NameList,
    pub relay_domains: DomainList,
}

impl Resolver {
    /// Classify `address` (internal form). An address without a domain is
    /// local, as trivial-rewrite would append `$myorigin`. A table that
    /// cannot answer is an error: try again later.
    pub fn resolve(&self, address: &str) -> Result<Resolved, names::Error> {
        let (local, domain) = match address.rfind('@') {
            Some(at) => (&address[..at], &address[at + 1..]),
            None => (address, ""),
        };
        let routed = local.contains(['@', '%', '!']);
        let domain = domain.strip_suffix('.').unwrap_or(domain).to_lowercase();
        let class = if domain.is_empty() || self.local.is_local(&domain)? {
            AddressClass::Local
        } else if self.alias_domains.matches(&domain)? {
            AddressClass::Alias
        } else if self.mailbox_domains.matches(&domain)? {
            AddressClass::Virtual
        } else if self.relay_domains.matches(&domain)? {
            AddressClass::Relay
        } else {
            AddressClass::Default
        };
        Ok(Resolved {
            address: address.to_string(),
            domain,
            class,
            routed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(name: &str, value: &str) -> NameList {
        NameList::new(name, value, &postmap::OpenOptions::default()).expect("list")
    }

    fn resolver() -> Resolver {
        Resolver {
            local: LocalDomains::new(list("mydestination", "example.com"), Vec::new()),
            alias_domains: list("virtual_alias_domains", "alias.test"),
            mailbox_domains: list("virtual_mailbox_domains", "box.test"),
            relay_domains: DomainList::new(list("relay_domains", "relay.test"), true),
        }
    }

    #[test]
    fn classes_follow_the_lists_in_order() {
        let r = resolver();
        let class = |a: &str| r.resolve(a).expect("resolves").class;
        assert_eq!(class("u@Example.COM"), AddressClass::Local);
        assert_eq!(class("u@example.com."), AddressClass::Local);
        assert_eq!(class("postmaster"), AddressClass::Local);
        assert_eq!(class("u@alias.test"), AddressClass::Alias);
        assert_eq!(class("u@box.test"), AddressClass::Virtual);
        assert_eq!(class("u@relay.test"), AddressClass::Relay);
        assert_eq!(class("u@sub.relay.test"), AddressClass::Relay);
        assert_eq!(class("u@elsewhere.test"), AddressClass::Default);
        assert!(r.resolve("u%x@example.com").expect("resolves").routed);
        assert!(!r.resolve("u@example.com").expect("resolves").routed);
    }

    #[test]
    fn failing_tables_are_errors() {
        let r = Resolver {
            local: LocalDomains::new(list("mydestination", "fail:x"), Vec::new()),
            ..resolver()
        };
        assert_eq!(
            r.resolve("u@example.com").map_err(|e| e.to_string()),
            Err("mydestination: fail:x: table lookup problem".into())
        );
    }
}
