//! Defaults that depend on the host: `myhostname`, `mydomain` and
//! `mynetworks`, computed the way Postfix's `mail_params.c` and
//! `mynetworks.c` compute them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Postfix's fallback domain when the host name has none.
const DEFAULT_DOMAIN: &str = "localdomain";

/// `myhostname`: the system host name; when it has no dot, `.$mydomain`
/// (if main.cf sets `mydomain`) or `.localdomain` is appended.
pub fn my_hostname(explicit_mydomain: Option<&str>) -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    if host.contains('.') {
        host
    } else {
        format!("{host}.{}", explicit_mydomain.unwrap_or(DEFAULT_DOMAIN))
    }
}

/// `mydomain`: `myhostname` minus its first label, or `localdomain`.
pub fn my_domain(myhostname: &str) -> String {
    match myhostname.split_once('.') {
        Some((_, rest)) if !rest.is_empty() => rest.to_string(),
        _ => DEFAULT_DOMAIN.to_string(),
    }
}

/// One address of a network interface, with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// The addresses of the interfaces that are up: IPv4 first, then IPv6,
/// each in the order the kernel lists them (as Postfix's inet_addr_local).
pub fn local_interfaces() -> Vec<Interface> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for ifa in addrs {
        if !ifa.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP) {
            continue;
        }
        let (Some(addr), Some(mask)) = (ifa.address, ifa.netmask) else {
            continue;
        };
        if let (Some(a), Some(m)) = (addr.as_sockaddr_in(), mask.as_sockaddr_in()) {
            v4.push(Interface {
                addr: IpAddr::V4(a.ip()),
                prefix: m.ip().to_bits().count_ones() as u8,
            });
        } else if let (Some(a), Some(m)) = (addr.as_sockaddr_in6(), mask.as_sockaddr_in6()) {
            v6.push(Interface {
                addr: IpAddr::V6(a.ip()),
                prefix: m.ip().to_bits().count_ones() as u8,
            });
        }
    }
    v4.extend(v6);
    v4
}

/// `mynetworks` for `mynetworks_style` (`host`, `subnet` or `class`) over
/// the given addresses (those of `inet_interfaces`, already filtered by
/// `inet_protocols`). Unknown styles are the caller's error to report.
pub fn my_networks(style: &str, addrs: &[Interface]) -> Option<String> {
    let mut nets = Vec::with_capacity(addrs.len());
    for ifa in addrs {
        let prefix = match (style, ifa.addr) {
            ("host", IpAddr::V4(_)) => 32,
            ("host", IpAddr::V6(_)) => 128,
            ("subnet", _) => ifa.prefix,
            ("class", IpAddr::V4(a)) => match class_prefix(a) {
                Some(p) => p,
                None => continue,
            },
            ("class", IpAddr::V6(_)) => ifa.prefix,
            _ => return None,
        };
        nets.push(format_network(ifa.addr, prefix));
    }
    Some(nets.join(" "))
}

/// The classful network of an IPv4 address; none for class D and E.
fn class_prefix(addr: Ipv4Addr) -> Option<u8> {
    match addr.octets()[0] {
        0..=127 => Some(8),
        128..=191 => Some(16),
        192..=223 => Some(24),
        _ => None,
    }
}

/// `a.b.c.d/n` or `[v6::]/n`, with the host bits cleared.
fn format_network(addr: IpAddr, prefix: u8) -> String {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            format!("{}/{prefix}", Ipv4Addr::from_bits(a.to_bits() & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            format!("[{}]/{prefix}", Ipv6Addr::from_bits(a.to_bits() & mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifa(addr: &str, prefix: u8) -> Interface {
        Interface {
            addr: addr.parse().expect("test address"),
            prefix,
        }
    }

    #[test]
    fn mydomain_is_hostname_minus_first_label() {
        assert_eq!(my_domain("vm.localdomain"), "localdomain");
        assert_eq!(my_domain("a.b"), "b");
        assert_eq!(my_domain("mx.example.com"), "example.com");
        assert_eq!(my_domain("foo"), "localdomain");
    }

    #[test]
    fn hostname_is_fully_qualified() {
        assert!(my_hostname(None).contains('.'));
        let with_domain = my_hostname(Some("x.org"));
        assert!(with_domain.contains('.'));
    }

    #[test]
    fn networks_by_style() {
        let addrs = [
            ifa("127.0.0.1", 8),
            ifa("192.0.2.2", 24),
            ifa("::1", 128),
            ifa("fd00::2", 64),
            ifa("fe80::fc:ff:fe00:1", 64),
        ];
        assert_eq!(
            my_networks("subnet", &addrs).as_deref(),
            Some("127.0.0.0/8 192.0.2.0/24 [::1]/128 [fd00::]/64 [fe80::]/64")
        );
        assert_eq!(
            my_networks("host", &addrs).as_deref(),
            Some("127.0.0.1/32 192.0.2.2/32 [::1]/128 [fd00::2]/128 [fe80::fc:ff:fe00:1]/128")
        );
        assert_eq!(
            my_networks("class", &[ifa("172.16.5.4", 24), ifa("10.1.2.3", 24)]).as_deref(),
            Some("172.16.0.0/16 10.0.0.0/8")
        );
        assert_eq!(my_networks("bogus", &addrs), None);
    }

    #[test]
    fn zero_prefix_does_not_overflow() {
        assert_eq!(
            format_network("1.2.3.4".parse().expect("ip"), 0),
            "0.0.0.0/0"
        );
        assert_eq!(format_network("::1".parse().expect("ip"), 0), "[::]/0");
    }
}
