//! Restriction lists: parsing (`smtpd_*_restrictions`, restriction
//! classes) and the names of the restrictions, including the old ones
//! that configurations still use, mapped to what they mean now.

/// Split a list value on commas and white space; `{ ... }` stays one item.
pub fn parse(value: &str) -> Vec<String> {
    conf::list::split(value).items
}

/// Is `item` a lookup table (`type:name`)?
pub fn is_table(item: &str) -> bool {
    item.contains(':')
}

/// One restriction, by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    Permit,
    Reject,
    Defer,
    DeferIfPermit,
    DeferIfReject,
    WarnIfReject,
    PermitMynetworks,
    PermitInetInterfaces,
    PermitSaslAuthenticated,
    PermitTlsClientcerts,
    PermitTlsAllClientcerts,
    RejectUnauthPipelining,
    RejectPlaintextSession,
    RejectMultiRecipientBounce,
    Sleep,
    CheckPolicyService,
    CheckClientAccess,
    CheckReverseClientHostnameAccess,
    CheckHeloAccess,
    CheckSenderAccess,
    CheckRecipientAccess,
    CheckEtrnAccess,
    CheckCcertAccess,
    CheckSaslAccess,
    /// `check_{client,reverse_client_hostname,helo,sender,recipient}_{a,mx,ns}_access`.
    CheckDnsAccess,
    RejectUnknownClientHostname,
    RejectUnknownReverseClientHostname,
    RejectRblClient,
    RejectRhsbl,
    PermitDnswlClient,
    PermitRhswlClient,
    RejectMapsRbl,
    RejectInvalidHeloHostname,
    RejectNonFqdnHeloHostname,
    RejectUnknownHeloHostname,
    PermitNakedIpAddress,
    RejectNonFqdnSender,
    RejectNonFqdnRecipient,
    RejectUnknownSenderDomain,
    RejectUnknownRecipientDomain,
    RejectUnknownAddress,
    RejectUnlistedSender,
    RejectUnlistedRecipient,
    RejectUnverifiedSender,
    RejectUnverifiedRecipient,
    /// `reject_sender_login_mismatch`: the next two in turn.
    RejectSenderLoginMismatch,
    RejectAuthSenderLoginMismatch,
    RejectKnownSenderLoginMismatch,
    RejectUnauthSenderLoginMismatch,
    PermitAuthDestination,
    RejectUnauthDestination,
    DeferUnauthDestination,
    PermitMxBackup,
    CheckRelayDomains,
}

use Restriction as R;

/// Names in Postfix 3.7, old ones included.
const NAMES: &[(&str, Restriction)] = &[
    ("permit", R::Permit),
    ("reject", R::Reject),
    ("defer", R::Defer),
    ("defer_if_permit", R::DeferIfPermit),
    ("defer_if_reject", R::DeferIfReject),
    ("warn_if_reject", R::WarnIfReject),
    ("permit_mynetworks", R::PermitMynetworks),
    ("permit_inet_interfaces", R::PermitInetInterfaces),
    ("permit_sasl_authenticated", R::PermitSaslAuthenticated),
    ("permit_tls_clientcerts", R::PermitTlsClientcerts),
    ("permit_tls_all_clientcerts", R::PermitTlsAllClientcerts),
    ("reject_unauth_pipelining", R::RejectUnauthPipelining),
    ("reject_plaintext_session", R::RejectPlaintextSession),
    (
        "reject_multi_recipient_bounce",
        R::RejectMultiRecipientBounce,
    ),
    ("sleep", R::Sleep),
    ("check_policy_service", R::CheckPolicyService),
    ("check_client_access", R::CheckClientAccess),
    (
        "check_reverse_client_hostname_access",
        R::CheckReverseClientHostnameAccess,
    ),
    ("check_helo_access", R::CheckHeloAccess),
    ("check_sender_access", R::CheckSenderAccess),
    ("check_recipient_access", R::CheckRecipientAccess),
    ("check_etrn_access", R::CheckEtrnAccess),
    ("check_ccert_access", R::CheckCcertAccess),
    ("check_sasl_access", R::CheckSaslAccess),
    (
        "reject_unknown_client_hostname",
        R::RejectUnknownClientHostname,
    ),
    ("reject_unknown_client", R::RejectUnknownClientHostname),
    (
        "reject_unknown_reverse_client_hostname",
        R::RejectUnknownReverseClientHostname,
    ),
    ("reject_rbl_client", R::RejectRblClient),
    ("reject_rbl", R::RejectRblClient),
    ("reject_rhsbl_client", R::RejectRhsbl),
    ("reject_rhsbl_reverse_client", R::RejectRhsbl),
    ("reject_rhsbl_helo", R::RejectRhsbl),
    ("reject_rhsbl_sender", R::RejectRhsbl),
    ("reject_rhsbl_recipient", R::RejectRhsbl),
    ("permit_dnswl_client", R::PermitDnswlClient),
    ("permit_rhswl_client", R::PermitRhswlClient),
    ("reject_maps_rbl", R::RejectMapsRbl),
    ("reject_invalid_helo_hostname", R::RejectInvalidHeloHostname),
    ("reject_invalid_hostname", R::RejectInvalidHeloHostname),
    (
        "reject_non_fqdn_helo_hostname",
        R::RejectNonFqdnHeloHostname,
    ),
    ("reject_non_fqdn_hostname", R::RejectNonFqdnHeloHostname),
    ("reject_unknown_helo_hostname", R::RejectUnknownHeloHostname),
    ("reject_unknown_hostname", R::RejectUnknownHeloHostname),
    ("permit_naked_ip_address", R::PermitNakedIpAddress),
    ("reject_non_fqdn_sender", R::RejectNonFqdnSender),
    ("reject_non_fqdn_recipient", R::RejectNonFqdnRecipient),
    ("reject_unknown_sender_domain", R::RejectUnknownSenderDomain),
    (
        "reject_unknown_recipient_domain",
        R::RejectUnknownRecipientDomain,
    ),
    ("reject_unknown_address", R::RejectUnknownAddress),
    ("reject_unlisted_sender", R::RejectUnlistedSender),
    ("reject_unlisted_recipient", R::RejectUnlistedRecipient),
    ("check_recipient_maps", R::RejectUnlistedRecipient),
    ("reject_unverified_sender", R::RejectUnverifiedSender),
    ("reject_unverified_recipient", R::RejectUnverifiedRecipient),
    ("reject_sender_login_mismatch", R::RejectSenderLoginMismatch),
    (
        "reject_authenticated_sender_login_mismatch",
        R::RejectAuthSenderLoginMismatch,
    ),
    (
        "reject_known_sender_login_mismatch",
        R::RejectKnownSenderLoginMismatch,
    ),
    (
        "reject_unauthenticated_sender_login_mismatch",
        R::RejectUnauthSenderLoginMismatch,
    ),
    ("permit_auth_destination", R::PermitAuthDestination),
    ("reject_unauth_destination", R::RejectUnauthDestination),
    ("defer_unauth_destination", R::DeferUnauthDestination),
    ("permit_mx_backup", R::PermitMxBackup),
    ("check_relay_domains", R::CheckRelayDomains),
];

/// The DNS-based access checks, by name suffix.
const DNS_ACCESS: &[&str] = &["_a_access", "_mx_access", "_ns_access"];

impl Restriction {
    /// The restriction `name` stands for (case is ignored, as in
    /// Postfix).
    pub fn from_name(name: &str) -> Option<Restriction> {
        let name = name.to_ascii_lowercase();
        if name.starts_with("check_") && DNS_ACCESS.iter().any(|s| name.ends_with(s)) {
            return Some(R::CheckDnsAccess);
        }
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    /// Does it take the next list item as its argument?
    pub fn takes_argument(self) -> bool {
        matches!(
            self,
            R::Sleep
                | R::CheckPolicyService
                | R::CheckClientAccess
                | R::CheckReverseClientHostnameAccess
                | R::CheckHeloAccess
                | R::CheckSenderAccess
                | R::CheckRecipientAccess
                | R::CheckEtrnAccess
                | R::CheckCcertAccess
                | R::CheckSaslAccess
                | R::CheckDnsAccess
                | R::RejectRblClient
                | R::RejectRhsbl
                | R::PermitDnswlClient
                | R::PermitRhswlClient
        )
    }

    /// Does it end the list, so that anything after it is ignored?
    pub fn ends_list(self) -> bool {
        matches!(self, R::Reject | R::Defer | R::CheckRelayDomains)
    }

    /// The warning Postfix 3.7 logs for a name that is on its way out.
    pub fn deprecation(name: &str) -> Option<String> {
        let instead = match name.to_ascii_lowercase().as_str() {
            "reject_maps_rbl" => "reject_rbl_client domain-name",
            "check_relay_domains" => "reject_unauth_destination",
            "permit_naked_ip_address" => {
                return Some(
                    "restriction permit_naked_ip_address is deprecated. \
                     Use permit_mynetworks or permit_sasl_authenticated instead"
                        .to_string(),
                );
            }
            _ => return None,
        };
        Some(format!(
            "support for restriction \"{}\" will be removed from Postfix; use \"{instead}\" instead",
            name.to_ascii_lowercase()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_names_mean_the_new_restrictions() {
        assert_eq!(
            Restriction::from_name("reject_unknown_client"),
            Some(R::RejectUnknownClientHostname)
        );
        assert_eq!(
            Restriction::from_name("REJECT_INVALID_HOSTNAME"),
            Some(R::RejectInvalidHeloHostname)
        );
        assert_eq!(
            Restriction::from_name("check_sender_mx_access"),
            Some(R::CheckDnsAccess)
        );
        assert_eq!(Restriction::from_name("no_such_thing"), None);
        assert!(Restriction::deprecation("reject_maps_rbl").is_some());
        assert!(Restriction::deprecation("permit").is_none());
    }

    #[test]
    fn lists_split_on_commas_and_keep_braces() {
        assert_eq!(
            parse("permit_mynetworks,inline:{a=b, c=d} reject"),
            ["permit_mynetworks", "inline:{a=b, c=d}", "reject"]
        );
        assert!(is_table("hash:/etc/x"));
    }
}
