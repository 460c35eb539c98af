//! The parameters restrictions read, typed and with their tables opened
//! once (Postfix `smtpd_check_init`).

use std::collections::HashMap;

use address::local::LocalDomains;
use address::names::NameList;
use conf::Config;
use postmap::{Maps, OpenOptions};

use super::resolve::{DomainList, Resolver};
use crate::networks::NetworkList;

/// Why the restrictions cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Conf(#[from] conf::config::Error),
    #[error(transparent)]
    Address(#[from] address::ConfigError),
    #[error(transparent)]
    Names(#[from] address::names::Error),
}

/// Reply codes of the restrictions (`*_reject_code`, `*_defer_code`).
#[derive(Debug, Clone)]
pub struct Codes {
    pub reject: u16,
    pub defer: u16,
    pub access_reject: u16,
    pub access_defer: u16,
    pub relay: u16,
    pub unknown_client: u16,
    pub invalid_hostname: u16,
    pub unknown_hostname: u16,
    pub unknown_address: u16,
    pub non_fqdn: u16,
    pub maps_rbl: u16,
    pub local_recipient: u16,
    pub relay_recipient: u16,
    pub virtual_alias: u16,
    pub virtual_mailbox: u16,
    pub multi_recipient_bounce: u16,
    pub plaintext: u16,
}

/// Everything the engine consults besides the lists.
#[derive(Debug)]
pub struct Settings {
    pub codes: Codes,
    pub delay_reject: bool,
    /// `smtpd_relay_before_recipient_restrictions`.
    pub relay_first: bool,
    pub reject_unlisted_sender: bool,
    pub reject_unlisted_recipient: bool,
    pub allow_untrusted_routing: bool,
    pub show_unknown_table: bool,
    pub null_access_key: String,
    /// `smtpd_access_maps` in `parent_domain_matches_subdomains`.
    pub parent_style: bool,
    pub delimiters: address::extension::Delimiters,
    pub double_bounce: String,
    pub maps_rbl_domains: Vec<String>,
    /// `default_rbl_reply`, unexpanded: its `$rbl_*` names are filled in
    /// per reply.
    pub default_rbl_reply: String,
    pub rbl_reply_maps: Maps,
    /// `smtpd_dns_reply_filter`: DNS records to ignore, by their text.
    pub dns_reply_filter: Maps,
    pub mynetworks: NetworkList,
    /// Networks a domain's primary MX must be in for `permit_mx_backup`.
    pub mx_backup_networks: NetworkList,
    pub resolver: Resolver,
    pub local_recipient_maps: Maps,
    pub virtual_alias_maps: Maps,
    pub virtual_mailbox_maps: Maps,
    pub relay_recipient_maps: Maps,
    pub canonical_maps: Maps,
    pub sender_canonical_maps: Maps,
    pub recipient_canonical_maps: Maps,
    pub relay_clientcerts: Maps,
    /// `smtpd_sender_login_maps`: the SASL logins owning sender addresses.
    pub sender_login_maps: Maps,
    /// `smtpd_sasl_auth_enable`: without it the sender-login restrictions
    /// are ignored (with a warning), as in Postfix.
    pub sasl_enable: bool,
    /// The `check_policy_service` clients and their open connections.
    pub policy: super::policy::Clients,
    pub rewrite_clients: Vec<String>,
    /// Access tables named in the lists, by specification.
    pub access: HashMap<String, Maps>,
    /// What opening tables produced, for the caller to log.
    pub warnings: Vec<String>,
    /// What the address-search code needs (no local-part keys are used).
    pub search: address::find::Settings,
}

fn code(config: &Config, name: &str) -> Result<u16, Error> {
    let value = config.get_int(name)?;
    Ok(u16::try_from(value).unwrap_or(0))
}

impl Settings {
    /// `access` are the `type:table` specifications the lists name.
    pub fn from_config(config: &Config, access: &[&str]) -> Result<Settings, Error> {
        let opts = OpenOptions::default();
        let mut warnings = Vec::new();
        let mut maps = |name: &str| -> Result<Maps, Error> {
            let m = Maps::open(name, &config.get(name)?.unwrap_or_default(), &opts);
            warnings.extend(m.warnings().iter().cloned());
            Ok(m)
        };
        let local_recipient_maps = maps("local_recipient_maps")?;
        let virtual_alias_maps = maps("virtual_alias_maps")?;
        let virtual_mailbox_maps = maps("virtual_mailbox_maps")?;
        let relay_recipient_maps = maps("relay_recipient_maps")?;
        let canonical_maps = maps("canonical_maps")?;
        let sender_canonical_maps = maps("sender_canonical_maps")?;
        let recipient_canonical_maps = maps("recipient_canonical_maps")?;
        let relay_clientcerts = maps("relay_clientcerts")?;
        let sender_login_maps = maps("smtpd_sender_login_maps")?;
        let rbl_reply_maps = maps("rbl_reply_maps")?;
        let dns_reply_filter = maps("smtpd_dns_reply_filter")?;
        let parent = config.get_list("parent_domain_matches_subdomains")?;
        let parent_of = |name: &str| parent.iter().any(|p| p == name);
        let names = |name: &str| -> Result<NameList, Error> {
            Ok(NameList::new(
                name,
                &config.get(name)?.unwrap_or_default(),
                &opts,
            )?)
        };
        let resolver = Resolver {
            local: LocalDomains::from_config(config, &opts)?,
            alias_domains: names("virtual_alias_domains")?,
            mailbox_domains: names("virtual_mailbox_domains")?,
            relay_domains: DomainList::new(names("relay_domains")?, parent_of("relay_domains")),
        };
        let mut access_maps = HashMap::new();
        // A policy service (`inet:host:port`) looks like a table but is
        // not one.
        let services = policy_services(config)?;
        for spec in access.iter().filter(|s| !services.iter().any(|p| p == *s)) {
            let m = Maps::open(spec, spec, &opts);
            warnings.extend(m.warnings().iter().cloned());
            access_maps.insert(spec.to_string(), m);
        }
        let mynetworks = config.get("mynetworks")?.unwrap_or_default();
        let delimiters = address::extension::Delimiters::from_config(config)?;
        Ok(Settings {
            codes: Codes::from_config(config)?,
            delay_reject: config.get_bool("smtpd_delay_reject")?,
            relay_first: config.get_bool("smtpd_relay_before_recipient_restrictions")?,
            reject_unlisted_sender: config.get_bool("smtpd_reject_unlisted_sender")?,
            reject_unlisted_recipient: config.get_bool("smtpd_reject_unlisted_recipient")?,
            allow_untrusted_routing: config.get_bool("allow_untrusted_routing")?,
            show_unknown_table: config.get_bool("show_user_unknown_table_name")?,
            null_access_key: config
                .get("smtpd_null_access_lookup_key")?
                .unwrap_or_default(),
            parent_style: parent_of("smtpd_access_maps"),
            search: address::find::Settings::from_config(config, &opts)?,
            delimiters,
            double_bounce: config.get("double_bounce_sender")?.unwrap_or_default(),
            maps_rbl_domains: config.get_list("maps_rbl_domains")?,
            default_rbl_reply: config.raw("default_rbl_reply").unwrap_or_default(),
            rbl_reply_maps,
            dns_reply_filter,
            mynetworks: NetworkList::lenient("mynetworks", &mynetworks),
            mx_backup_networks: NetworkList::lenient(
                "permit_mx_backup_networks",
                &config.get("permit_mx_backup_networks")?.unwrap_or_default(),
            ),
            resolver,
            local_recipient_maps,
            virtual_alias_maps,
            virtual_mailbox_maps,
            relay_recipient_maps,
            canonical_maps,
            sender_canonical_maps,
            recipient_canonical_maps,
            relay_clientcerts,
            sender_login_maps,
            sasl_enable: config.get_bool("smtpd_sasl_auth_enable")?,
            policy: super::policy::Clients::from_config(config)?,
            rewrite_clients: config.get_list("local_header_rewrite_clients")?,
            access: access_maps,
            warnings,
        })
    }
}

/// The `check_policy_service` arguments of every list and class.
fn policy_services(config: &Config) -> Result<Vec<String>, Error> {
    let mut lists = Vec::new();
    for stage in super::Stage::ALL {
        lists.push(super::list::parse(
            &config.get(stage.parameter())?.unwrap_or_default(),
        ));
    }
    for name in config.get_list("smtpd_restriction_classes")? {
        lists.push(super::list::parse(&config.get(&name)?.unwrap_or_default()));
    }
    Ok(super::policy::arguments(lists.iter().map(Vec::as_slice)))
}

impl Codes {
    fn from_config(config: &Config) -> Result<Codes, Error> {
        Ok(Codes {
            reject: code(config, "reject_code")?,
            defer: code(config, "defer_code")?,
            access_reject: code(config, "access_map_reject_code")?,
            access_defer: code(config, "access_map_defer_code")?,
            relay: code(config, "relay_domains_reject_code")?,
            unknown_client: code(config, "unknown_client_reject_code")?,
            invalid_hostname: code(config, "invalid_hostname_reject_code")?,
            unknown_hostname: code(config, "unknown_hostname_reject_code")?,
            unknown_address: code(config, "unknown_address_reject_code")?,
            non_fqdn: code(config, "non_fqdn_reject_code")?,
            maps_rbl: code(config, "maps_rbl_reject_code")?,
            local_recipient: code(config, "unknown_local_recipient_reject_code")?,
            relay_recipient: code(config, "unknown_relay_recipient_reject_code")?,
            virtual_alias: code(config, "unknown_virtual_alias_reject_code")?,
            virtual_mailbox: code(config, "unknown_virtual_mailbox_reject_code")?,
            multi_recipient_bounce: code(config, "multi_recipient_bounce_reject_code")?,
            plaintext: code(config, "plaintext_reject_code")?,
        })
    }
}
