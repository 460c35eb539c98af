//! Parameters that are ours, not Postfix's: each one is listed in
//! docs/differences.md, and `postconf -d` shows it like any other.

use super::Kind::*;
use super::Param;

pub(super) static PARAMS: &[Param] = &[Param::new(
    "smtpd_dns_servers",
    Str,
    "",
    "The DNS servers (address or address:port, separated by comma or white space) that the SMTP server asks for client names and DNS-based restrictions, instead of those in /etc/resolv.conf (tests point this at a test DNS server).",
)];
