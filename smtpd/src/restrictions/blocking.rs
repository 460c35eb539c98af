//! Which configurations can make a check wait on the network: DNS-based
//! restrictions, policy servers and network tables. Only then does the
//! session move its checks off the async workers (`block_in_place` has a
//! cost per call); table lookups in files and memory stay inline. A
//! restriction named in an access-map result (`example.com
//! reject_rbl_client ...`) is not foreseen here: it runs inline.

use super::list::Restriction as R;

/// Does any of `items` (restriction names, their arguments, table
/// specs) need the network?
pub(super) fn needs_network<'a>(items: impl IntoIterator<Item = &'a String>) -> bool {
    items
        .into_iter()
        .any(|item| R::from_name(item).is_some_and(uses_network) || is_network_table(item))
}

fn uses_network(r: R) -> bool {
    matches!(
        r,
        R::CheckPolicyService
            | R::CheckDnsAccess
            | R::RejectRblClient
            | R::RejectRhsbl
            | R::PermitDnswlClient
            | R::PermitRhswlClient
            | R::RejectMapsRbl
            | R::RejectUnknownHeloHostname
            | R::RejectUnknownSenderDomain
            | R::RejectUnknownRecipientDomain
            | R::RejectUnknownAddress
            | R::PermitMxBackup
    )
}

/// Table types that ask another host or a server process.
fn is_network_table(item: &str) -> bool {
    const NETWORK: &[&str] = &[
        "tcp",
        "socketmap",
        "ldap",
        "mysql",
        "pgsql",
        "memcache",
        "proxy",
    ];
    item.split_once(':')
        .is_some_and(|(kind, _)| NETWORK.contains(&kind.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(list: &str) -> Vec<String> {
        super::super::list::parse(list)
    }

    #[test]
    fn only_dns_policy_and_network_tables_block() {
        assert!(!needs_network(&items(
            "permit_mynetworks, check_client_access hash:/etc/access, reject_unauth_destination"
        )));
        assert!(needs_network(&items("reject_rbl_client zen.example")));
        assert!(needs_network(&items("reject_unknown_sender_domain")));
        assert!(needs_network(&items(
            "check_policy_service inet:127.0.0.1:10023"
        )));
        assert!(needs_network(&items(
            "check_sender_access tcp:127.0.0.1:2000"
        )));
        assert!(!needs_network(&items("reject_unknown_client_hostname")));
    }
}
