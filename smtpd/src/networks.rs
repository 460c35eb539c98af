//! Client lists in the syntax of `mynetworks` (Postfix `namadr_list`):
//! used for `smtpd_forbid_bare_newline_exclusions` and
//! `smtpd_client_event_limit_exceptions`.
//!
//! Supported: `a.b.c.d`, `a.b.c.d/n`, `[v6]`, `[v6]/n`, `v6/n`, `!entry`
//! (first match wins, a negated match ends the search with "no"),
//! `/file/name` (its entries, one or more per line, `#` comments), a host
//! or domain name (matched against the client's name; `.domain` and a
//! parent domain match subdomains), and `type:table` (the client address,
//! then its name, looked up; any value matches). A name only matches a
//! client whose name is known: without DNS lookups that is never.
//!
//! [`NetworkList::lenient`] is the form the restriction engine uses for
//! `mynetworks`: like Postfix, a bad entry or a failing table is only an
//! error when a client reaches it, and the caller answers 4.3.0.
//!
//! This lives here until a shared `namadr` matcher exists below smtpd.

use std::net::IpAddr;
use std::path::Path;

/// One parsed list.
#[derive(Debug, Default)]
pub struct NetworkList {
    entries: Vec<(bool, Entry)>,
}

#[derive(Debug)]
enum Entry {
    Net {
        value: u128,
        prefix: u32,
        v4: bool,
    },
    Name(String),
    Table(Box<dyn postmap::Table>),
    /// A bad entry of a lenient list: the warning, given when reached.
    Invalid(String),
}

/// Why a lenient list could not decide (Postfix: the match list error
/// flag). Display is the warning Postfix logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MatchError(pub String);

/// Why a list cannot be used (Postfix makes this fatal at startup).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad address pattern: \"{0}\"")]
    Pattern(String),
    #[error("open {path}: {reason}")]
    File { path: String, reason: String },
    #[error(transparent)]
    Table(#[from] postmap::Error),
}

impl NetworkList {
    /// Parse the (expanded) value of a list parameter.
    pub fn parse(value: &str) -> Result<NetworkList, Error> {
        let mut list = NetworkList::default();
        for item in conf::list::split(value).items {
            list.push(&item, 0)?;
        }
        Ok(list)
    }

    fn push(&mut self, item: &str, depth: usize) -> Result<(), Error> {
        let (negated, pattern) = match item.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        if pattern.starts_with('/') && depth == 0 {
            return self.push_file(pattern, negated);
        }
        let entry = parse_entry(pattern)?;
        self.entries.push((negated, entry));
        Ok(())
    }

    fn push_file(&mut self, path: &str, negated: bool) -> Result<(), Error> {
        let text = std::fs::read_to_string(Path::new(path)).map_err(|e| Error::File {
            path: path.to_string(),
            reason: conf::io_reason(&e),
        })?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            for word in conf::list::split(line).items {
                let item = if negated { format!("!{word}") } else { word };
                self.push(&item, 1)?;
            }
        }
        Ok(())
    }

    /// Whether the client (`name` may be "unknown") is on the list.
    pub fn matches(&self, name: &str, addr: IpAddr) -> bool {
        for (negated, entry) in &self.entries {
            if entry.matches(name, addr) {
                return !negated;
            }
        }
        false
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parse the value of list parameter `title` as the restriction engine
    /// does: never fails; a bad entry (including a network with host bits
    /// set) fails each match that reaches it, with a warning naming `title`.
    pub fn lenient(title: &str, value: &str) -> NetworkList {
        let mut list = NetworkList::default();
        for item in conf::list::split(value).items {
            let (negated, pattern) = match item.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, item.as_str()),
            };
            let entry = match host_bits_warning(pattern) {
                Some(warning) => Entry::Invalid(format!("{title}: {warning}")),
                None => match parse_entry(pattern) {
                    Ok(entry) => entry,
                    Err(e) => Entry::Invalid(format!("{title}: {e}")),
                },
            };
            list.entries.push((negated, entry));
        }
        list
    }

    /// Whether the client is on the list; `addr` may be any text (a
    /// client whose address is not numeric matches no network). A table
    /// that fails, or a bad entry, is an error for the caller to defer.
    pub fn lookup(&self, title: &str, name: &str, addr: &str) -> Result<bool, MatchError> {
        let ip: Option<IpAddr> = addr.parse().ok();
        for (negated, entry) in &self.entries {
            let hit = match (entry, ip) {
                (Entry::Invalid(warning), _) => return Err(MatchError(warning.clone())),
                (Entry::Table(table), _) => {
                    let found = |key: &str| match table.lookup(key) {
                        Ok(v) => Ok(v.is_some()),
                        Err(_) => Err(MatchError(format!(
                            "{title}: {}: table lookup problem",
                            table.spec()
                        ))),
                    };
                    found(addr)? || (name != "unknown" && found(name)?)
                }
                (Entry::Net { .. }, None) => false,
                (_, Some(ip)) => entry.matches(name, ip),
                (Entry::Name(pattern), None) => name_matches(pattern, name),
            };
            if hit {
                return Ok(!negated);
            }
        }
        Ok(false)
    }
}

/// Postfix refuses `168.100.3.1/27`: the host part must be zero.
fn host_bits_warning(pattern: &str) -> Option<String> {
    let (addr, len) = pattern.split_once('/')?;
    let bare = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']'));
    let ip: IpAddr = bare.unwrap_or(addr).parse().ok()?;
    let len: u32 = len.parse().ok()?;
    let (value, bits) = match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    if len > bits || value & mask(bits, len) == value {
        return None;
    }
    let net = value & mask(bits, len);
    let shown = match ip {
        // `net` came from a 32-bit value, so it fits.
        IpAddr::V4(_) => std::net::Ipv4Addr::from(net as u32).to_string(),
        IpAddr::V6(_) => std::net::Ipv6Addr::from(net).to_string(),
    };
    let shown = if bare.is_some() {
        format!("[{shown}]")
    } else {
        shown
    };
    Some(format!(
        "non-null host address bits in \"{pattern}\", perhaps you should use \"{shown}/{len}\" instead"
    ))
}

fn parse_entry(pattern: &str) -> Result<Entry, Error> {
    if let Some(net) = parse_net(pattern) {
        return Ok(net);
    }
    if pattern.contains(':') && !pattern.starts_with('[') {
        let opened = postmap::open(pattern, &postmap::OpenOptions::default())?;
        return Ok(Entry::Table(opened.table));
    }
    let valid = !pattern.is_empty()
        && pattern
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if !valid {
        return Err(Error::Pattern(pattern.to_string()));
    }
    Ok(Entry::Name(pattern.to_ascii_lowercase()))
}

/// `addr`, `addr/len`, `[v6]`, `[v6]/len`; None when not an address.
fn parse_net(pattern: &str) -> Option<Entry> {
    let (addr, len) = match pattern.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (pattern, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let ip: IpAddr = addr.parse().ok()?;
    let (value, bits, v4) = match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32, true),
        IpAddr::V6(a) => (u128::from(a), 128, false),
    };
    let prefix = match len {
        Some(l) => l.parse::<u32>().ok().filter(|&l| l <= bits)?,
        None => bits,
    };
    Some(Entry::Net {
        value: value & mask(bits, prefix),
        prefix,
        v4,
    })
}

fn mask(bits: u32, prefix: u32) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let all = if bits == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    match bits - prefix {
        0 => all,
        host => all & !((1u128 << host) - 1),
    }
}

impl Entry {
    fn matches(&self, name: &str, addr: IpAddr) -> bool {
        match self {
            Entry::Net { value, prefix, v4 } => {
                let (client, bits) = match addr {
                    IpAddr::V4(a) if *v4 => (u128::from(u32::from(a)), 32),
                    IpAddr::V6(a) if !*v4 => (u128::from(a), 128),
                    IpAddr::V6(a) if *v4 => match a.to_ipv4_mapped() {
                        Some(m) => (u128::from(u32::from(m)), 32),
                        None => return false,
                    },
                    _ => return false,
                };
                client & mask(bits, *prefix) == *value
            }
            Entry::Name(pattern) => name_matches(pattern, name),
            Entry::Invalid(_) => false,
            Entry::Table(table) => {
                let found = |key: &str| matches!(table.lookup(key), Ok(Some(_)));
                found(&addr.to_string()) || (name != "unknown" && found(name))
            }
        }
    }
}

/// `example.com` matches the name and its subdomains (Postfix's
/// `parent_domain_matches_subdomains` includes mynetworks); `.example.com`
/// only subdomains.
fn name_matches(pattern: &str, name: &str) -> bool {
    if name == "unknown" || name.is_empty() {
        return false;
    }
    let name = name.to_ascii_lowercase();
    if let Some(domain) = pattern.strip_prefix('.') {
        return name.ends_with(&format!(".{domain}"));
    }
    name == pattern || name.ends_with(&format!(".{pattern}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn cidr_and_addresses_match() {
        let list =
            NetworkList::parse("127.0.0.0/8, [::1]/128 192.0.2.7 [2001:db8::]/32").expect("valid");
        assert!(list.matches("unknown", ip("127.1.2.3")));
        assert!(list.matches("unknown", ip("::1")));
        assert!(list.matches("unknown", ip("192.0.2.7")));
        assert!(!list.matches("unknown", ip("192.0.2.8")));
        assert!(list.matches("unknown", ip("2001:db8:1::5")));
        assert!(!list.matches("unknown", ip("10.0.0.1")));
        assert!(list.matches("unknown", ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn negation_stops_the_search() {
        let list = NetworkList::parse("!192.0.2.1 192.0.2.0/24").expect("valid");
        assert!(!list.matches("unknown", ip("192.0.2.1")));
        assert!(list.matches("unknown", ip("192.0.2.2")));
    }

    #[test]
    fn names_need_a_known_client_name() {
        let list = NetworkList::parse("example.com .example.net").expect("valid");
        assert!(list.matches("mx.example.com", ip("192.0.2.1")));
        assert!(list.matches("example.com", ip("192.0.2.1")));
        assert!(!list.matches("example.net", ip("192.0.2.1")));
        assert!(list.matches("a.example.net", ip("192.0.2.1")));
        assert!(!list.matches("unknown", ip("192.0.2.1")));
    }

    #[test]
    fn zero_prefix_matches_everything_of_the_family() {
        let list = NetworkList::parse("0.0.0.0/0").expect("valid");
        assert!(list.matches("unknown", ip("203.0.113.9")));
        assert!(!list.matches("unknown", ip("2001:db8::1")));
        assert!(NetworkList::parse("").expect("valid").is_empty());
    }

    #[test]
    fn lenient_lists_fail_when_a_bad_entry_is_reached() {
        let list = NetworkList::lenient("mynetworks", "10.0.0.0/8 168.100.3.1/27");
        assert_eq!(list.lookup("mynetworks", "unknown", "10.1.2.3"), Ok(true));
        assert_eq!(
            list.lookup("mynetworks", "unknown", "192.0.2.1"),
            Err(MatchError(
                "mynetworks: non-null host address bits in \"168.100.3.1/27\", \
                 perhaps you should use \"168.100.3.0/27\" instead"
                    .into()
            ))
        );
        let list = NetworkList::lenient("mynetworks", "fail:x");
        assert_eq!(
            list.lookup("mynetworks", "unknown", "192.0.2.1"),
            Err(MatchError(
                "mynetworks: fail:x: table lookup problem".into()
            ))
        );
        let list = NetworkList::lenient("mynetworks", "example.com");
        assert_eq!(
            list.lookup("mynetworks", "a.example.com", "dummy"),
            Ok(true)
        );
        assert_eq!(list.lookup("mynetworks", "unknown", "dummy"), Ok(false));
    }

    #[test]
    fn inline_tables_and_bad_patterns() {
        let list = NetworkList::parse("inline:{192.0.2.9=yes}").expect("valid");
        assert!(list.matches("unknown", ip("192.0.2.9")));
        assert!(!list.matches("unknown", ip("192.0.2.10")));
        assert!(NetworkList::parse("a b$c").is_err());
        assert!(NetworkList::parse("10.0.0.0/33").is_err());
    }
}
