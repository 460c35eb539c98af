//! The restriction engine (Postfix `smtpd_check.c`), sans I/O: each SMTP
//! stage has a restriction list; [`Engine`] evaluates it against what is
//! known about the session ([`State`]) and returns an [`Outcome`]: the
//! [`Verdict`] plus the log lines (`NOQUEUE: reject: RCPT from ...`) for
//! the caller to log. DNS goes through the [`Dns`] trait.
//!
//! - [`list`] parses lists and restriction classes, mapping old names;
//! - [`access`] is `check_*_access`: key search orders and result actions;
//!   `server_access` the `check_*_{a,mx,ns}_access` variants;
//! - `generic` evaluates a list and rejects; `checks` and `dnsbl` hold
//!   the other restrictions; [`resolve`] classifies addresses
//!   (`strict_rfc821_envelopes` is the command parser's, as in Postfix).
//!
//! How a session uses it: build one [`Engine`] per configuration
//! ([`Engine::from_config`] with a [`Dns`]; log [`Engine::warnings`] once)
//! and one [`State`] per connection ([`State::new`] with the [`Client`];
//! set `protocol` after EHLO, `tls`, `sasl_username`, and `pipelined` per
//! command; wait `sleep` seconds when set). Then call
//! `check_client` after connect, `check_helo` for HELO/EHLO, `check_mail`,
//! `check_rcpt` (bump `recipient_count` when it accepts), `check_data`,
//! `check_end_of_data` and `check_etrn`. Each returns an [`Outcome`]: log
//! its lines, then send `Verdict::Reject`'s reply (counting it as an
//! error for the tarpit) or go on with the normal reply. `state.actions`
//! carries HOLD, DISCARD, FILTER, REDIRECT, BCC and PREPEND to enqueue.

pub mod access;
mod answer_cache;
mod blocking;
mod checks;
mod context;
pub mod dns;
mod dns_checks;
mod dns_filter;
mod dnsbl;
#[cfg(test)]
pub(crate) mod fixture_dns;
mod generic;
mod hosts;
pub mod list;
mod login;
mod policy;
#[cfg(test)]
mod policy_tests;
pub mod resolve;
pub mod resolver;
mod server_access;
mod settings;

use std::collections::HashMap;
use std::fmt;

use queue::reply::Reply;

pub use context::{Actions, Client, Encryption, NameStatus, State, TlsPeer};
pub use dns::{Dns, Lookup, NoDns};
pub use settings::{Error, Settings};

use list::Restriction;

/// Every parameter [`Engine::from_config`] reads (with the `address`
/// code it runs), for the header of the program that uses it.
pub const PARAMETERS: &[&str] = &[
    "access_map_defer_code",
    "access_map_reject_code",
    "allow_untrusted_routing",
    "canonical_maps",
    "compatibility_level",
    "default_rbl_reply",
    "defer_code",
    "double_bounce_sender",
    "inet_interfaces",
    "inet_protocols",
    "invalid_hostname_reject_code",
    "local_header_rewrite_clients",
    "local_recipient_maps",
    "mail_version",
    "maps_rbl_domains",
    "maps_rbl_reject_code",
    "multi_recipient_bounce_reject_code",
    "mydestination",
    "mynetworks",
    "mynetworks_style",
    "myorigin",
    "non_fqdn_reject_code",
    "owner_request_special",
    "parent_domain_matches_subdomains",
    "permit_mx_backup_networks",
    "plaintext_reject_code",
    "proxy_interfaces",
    "rbl_reply_maps",
    "recipient_canonical_maps",
    "recipient_delimiter",
    "reject_code",
    "relay_clientcerts",
    "relay_domains",
    "relay_domains_reject_code",
    "relay_recipient_maps",
    "sender_canonical_maps",
    "show_user_unknown_table_name",
    "smtpd_client_restrictions",
    "smtpd_data_restrictions",
    "smtpd_delay_reject",
    "smtpd_dns_reply_filter",
    "smtpd_end_of_data_restrictions",
    "smtpd_etrn_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_null_access_lookup_key",
    "smtpd_policy_service_default_action",
    "smtpd_policy_service_max_idle",
    "smtpd_policy_service_max_ttl",
    "smtpd_policy_service_policy_context",
    "smtpd_policy_service_request_limit",
    "smtpd_policy_service_retry_delay",
    "smtpd_policy_service_timeout",
    "smtpd_policy_service_try_limit",
    "smtpd_recipient_restrictions",
    "smtpd_reject_unlisted_recipient",
    "smtpd_reject_unlisted_sender",
    "smtpd_relay_before_recipient_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_restriction_classes",
    "smtpd_sasl_auth_enable",
    "smtpd_sender_login_maps",
    "smtpd_sender_restrictions",
    "unknown_address_reject_code",
    "unknown_client_reject_code",
    "unknown_hostname_reject_code",
    "unknown_local_recipient_reject_code",
    "unknown_relay_recipient_reject_code",
    "unknown_virtual_alias_reject_code",
    "unknown_virtual_mailbox_reject_code",
    "virtual_alias_domains",
    "virtual_alias_maps",
    "virtual_mailbox_domains",
    "virtual_mailbox_maps",
];

/// The SMTP stage whose restriction list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Client,
    Helo,
    Sender,
    Recipient,
    Relay,
    Data,
    EndOfData,
    Etrn,
}

impl Stage {
    /// The parameter that holds the list.
    pub fn parameter(self) -> &'static str {
        match self {
            Stage::Client => "smtpd_client_restrictions",
            Stage::Helo => "smtpd_helo_restrictions",
            Stage::Sender => "smtpd_sender_restrictions",
            Stage::Recipient => "smtpd_recipient_restrictions",
            Stage::Relay => "smtpd_relay_restrictions",
            Stage::Data => "smtpd_data_restrictions",
            Stage::EndOfData => "smtpd_end_of_data_restrictions",
            Stage::Etrn => "smtpd_etrn_restrictions",
        }
    }

    /// What a reply says is rejected (`Client host rejected: ...`).
    pub fn class(self) -> &'static str {
        match self {
            Stage::Client => "Client host",
            Stage::Helo => "Helo command",
            Stage::Sender => "Sender address",
            Stage::Recipient | Stage::Relay => "Recipient address",
            Stage::Data => "Data command",
            Stage::EndOfData => "End-of-data",
            Stage::Etrn => "Etrn command",
        }
    }

    /// The access restriction a bare `type:table` stands for.
    fn default_access(self) -> Option<Restriction> {
        match self {
            Stage::Client => Some(Restriction::CheckClientAccess),
            Stage::Helo => Some(Restriction::CheckHeloAccess),
            Stage::Sender => Some(Restriction::CheckSenderAccess),
            Stage::Recipient | Stage::Relay => Some(Restriction::CheckRecipientAccess),
            Stage::Etrn => Some(Restriction::CheckEtrnAccess),
            Stage::Data | Stage::EndOfData => None,
        }
    }

    const ALL: [Stage; 8] = [
        Stage::Client,
        Stage::Helo,
        Stage::Sender,
        Stage::Recipient,
        Stage::Relay,
        Stage::Data,
        Stage::EndOfData,
        Stage::Etrn,
    ];
}

/// The decision for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on: send the command's normal reply.
    Accept,
    /// Send this 4xx/5xx reply instead.
    Reject(Reply),
}

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
}

/// One line for the caller to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
}

impl LogLine {
    fn info(text: impl Into<String>) -> LogLine {
        LogLine {
            level: Level::Info,
            text: text.into(),
        }
    }

    fn warning(text: impl Into<String>) -> LogLine {
        LogLine {
            level: Level::Warning,
            text: text.into(),
        }
    }
}

impl fmt::Display for LogLine {
    /// As Postfix prints after `program: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level {
            Level::Info => f.write_str(&self.text),
            Level::Warning => write!(f, "warning: {}", self.text),
        }
    }
}

/// A verdict and what to log about it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub log: Vec<LogLine>,
}

/// The restriction lists and everything they consult, built once from
/// the configuration. Sessions share it; per-session facts are in
/// [`State`].
pub struct Engine {
    settings: Settings,
    lists: HashMap<Stage, Vec<String>>,
    classes: HashMap<String, Vec<String>>,
    dns: Box<dyn Dns>,
    /// Can a check wait on the network (see `blocking`)?
    may_block: bool,
    /// Obsolete restrictions already warned about (Postfix warns once per
    /// process); shared with the engine this one replaces.
    warned: std::sync::Arc<std::sync::Mutex<Vec<list::Restriction>>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("lists", &self.lists)
            .field("classes", &self.classes)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Read every restriction list, class and table from `config`.
    /// Problems that Postfix only warns about are in [`Engine::warnings`].
    pub fn from_config(config: &conf::Config, dns: Box<dyn Dns>) -> Result<Engine, Error> {
        let mut lists = HashMap::new();
        for stage in Stage::ALL {
            lists.insert(
                stage,
                list::parse(&config.get(stage.parameter())?.unwrap_or_default()),
            );
        }
        let mut classes = HashMap::new();
        for name in config.get_list("smtpd_restriction_classes")? {
            let value = config.get(&name)?.unwrap_or_default();
            classes.insert(name, list::parse(&value));
        }
        let mut specs: Vec<&str> = Vec::new();
        for items in lists.values().chain(classes.values()) {
            specs.extend(
                items
                    .iter()
                    .filter(|i| list::is_table(i))
                    .map(String::as_str),
            );
        }
        let settings = Settings::from_config(config, &specs)?;
        let may_block = dns.may_block()
            && blocking::needs_network(lists.values().chain(classes.values()).flatten());
        Ok(Engine {
            settings,
            lists,
            classes,
            dns,
            may_block,
            warned: Default::default(),
        })
    }

    /// Keep `previous`'s memory of obsolete-restriction warnings, so a
    /// reloaded configuration does not repeat them.
    pub fn inherit_warnings(&mut self, previous: &Engine) {
        self.warned = std::sync::Arc::clone(&previous.warned);
    }

    /// The resolver the DNS-based restrictions ask.
    pub fn dns(&self) -> &dyn Dns {
        self.dns.as_ref()
    }

    /// Can a check wait on the network (DNS, a policy server, a network
    /// table)? Then the session runs checks where blocking is allowed.
    pub fn may_block(&self) -> bool {
        self.may_block
    }

    /// What opening the tables and lists produced, for the caller to log
    /// once.
    pub fn warnings(&self) -> &[String] {
        &self.settings.warnings
    }

    /// Does `smtpd_relay_restrictions` or `smtpd_recipient_restrictions`
    /// (or a class they use) hold a restriction that refuses relaying by
    /// default? Postfix refuses to start otherwise: "specify at least one
    /// working instance of: ...".
    pub fn has_relay_control(&self) -> bool {
        const REQUIRED: &[&str] = &[
            "reject_unauth_destination",
            "defer_unauth_destination",
            "reject",
            "defer",
            "defer_if_permit",
            "check_relay_domains",
        ];
        let mut pending: Vec<&str> = [Stage::Relay, Stage::Recipient]
            .iter()
            .flat_map(|s| self.lists[s].iter().map(String::as_str))
            .collect();
        let mut seen = std::collections::HashSet::new();
        while let Some(item) = pending.pop() {
            if REQUIRED.iter().any(|r| r.eq_ignore_ascii_case(item)) {
                return true;
            }
            if let Some(class) = self.classes.get(item)
                && seen.insert(item)
            {
                pending.extend(class.iter().map(String::as_str));
            }
        }
        false
    }

    /// After connect: `smtpd_client_restrictions` (deferred to RCPT with
    /// `smtpd_delay_reject`).
    pub fn check_client(&self, state: &mut State) -> Outcome {
        state.where_ = "CONNECT";
        self.early(state, &[Stage::Client])
    }

    /// HELO/EHLO `name`: `smtpd_helo_restrictions`.
    pub fn check_helo(&self, state: &mut State, name: &str) -> Outcome {
        state.where_ = "HELO";
        state.helo = Some(name.to_string());
        self.early(state, &[Stage::Helo])
    }

    /// MAIL FROM (`sender` without `<>`, empty for the null sender).
    pub fn check_mail(&self, state: &mut State, sender: &str) -> Outcome {
        state.where_ = "MAIL";
        state.sender = Some(sender.to_string());
        state.begin_transaction();
        if self.settings.delay_reject {
            return accept(Vec::new());
        }
        let mut log = Vec::new();
        state.forget_early_deferrals(Stage::Sender);
        let mut verdict = self.run_stage(state, Stage::Sender, &mut log);
        if verdict == Verdict::Accept && self.settings.reject_unlisted_sender {
            verdict = self.run_implicit(state, Stage::Sender, &mut log);
        }
        state.keep_early_deferral(Stage::Sender);
        Outcome { verdict, log }
    }

    /// RCPT TO: the delayed client/helo/sender lists, then
    /// `smtpd_recipient_restrictions`, `smtpd_relay_restrictions` and
    /// the implicit `reject_unlisted_recipient`.
    pub fn check_rcpt(&self, state: &mut State, recipient: &str) -> Outcome {
        self.check_recipient(state, recipient, "RCPT")
    }

    /// VRFY `address`: the RCPT checks, logged as `VRFY` (Postfix
    /// `vrfy_cmd` calls `smtpd_check_rcpt`).
    pub fn check_vrfy(&self, state: &mut State, address: &str) -> Outcome {
        self.check_recipient(state, address, "VRFY")
    }

    fn check_recipient(
        &self,
        state: &mut State,
        recipient: &str,
        command: &'static str,
    ) -> Outcome {
        state.where_ = command;
        // Postfix accepts a bare `postmaster` whatever the restrictions say
        // (RFC 5321 §4.5.1).
        if recipient.eq_ignore_ascii_case("postmaster") {
            return accept(Vec::new());
        }
        state.recipient = Some(recipient.to_string());
        state.defer_if_permit = state.early_defer_if_permit.clone().map(|(_, p)| p);
        let mut log = Vec::new();
        let mut verdict = Verdict::Accept;
        if self.settings.delay_reject {
            for stage in [Stage::Client, Stage::Helo, Stage::Sender] {
                if verdict == Verdict::Accept && state.has_stage_input(stage) {
                    verdict = self.run_stage(state, stage, &mut log);
                }
            }
            if verdict == Verdict::Accept && self.settings.reject_unlisted_sender {
                verdict = self.run_implicit(state, Stage::Sender, &mut log);
            }
        }
        let order = match self.settings.relay_first {
            true => [Stage::Relay, Stage::Recipient],
            false => [Stage::Recipient, Stage::Relay],
        };
        for stage in order {
            if verdict == Verdict::Accept {
                verdict = self.run_stage(state, stage, &mut log);
            }
        }
        if verdict == Verdict::Accept && self.settings.reject_unlisted_recipient {
            verdict = self.run_implicit(state, Stage::Recipient, &mut log);
        }
        if verdict == Verdict::Accept {
            verdict = state.take_defer_if_permit(&mut log, self);
        }
        state.defer_if_permit = None;
        state.recipient = None;
        Outcome { verdict, log }
    }

    /// DATA: `smtpd_data_restrictions`.
    pub fn check_data(&self, state: &mut State) -> Outcome {
        state.where_ = "DATA";
        self.now(state, Stage::Data)
    }

    /// After the final `.`: `smtpd_end_of_data_restrictions`.
    pub fn check_end_of_data(&self, state: &mut State) -> Outcome {
        state.where_ = "END-OF-MESSAGE";
        self.now(state, Stage::EndOfData)
    }

    /// ETRN `domain`: `smtpd_etrn_restrictions`.
    pub fn check_etrn(&self, state: &mut State, domain: &str) -> Outcome {
        state.where_ = "ETRN";
        state.etrn_domain = Some(domain.to_string());
        self.now(state, Stage::Etrn)
    }

    /// Is the client in `local_header_rewrite_clients`? `Ok(true)`: its
    /// headers get the local rewriting context.
    pub fn check_rewrite(&self, state: &mut State) -> (Result<bool, Reply>, Vec<LogLine>) {
        generic::check_rewrite(self, state)
    }

    fn early(&self, state: &mut State, stages: &[Stage]) -> Outcome {
        if self.settings.delay_reject {
            return accept(Vec::new());
        }
        let mut log = Vec::new();
        let mut verdict = Verdict::Accept;
        let Some(&first) = stages.first() else {
            return accept(log);
        };
        state.forget_early_deferrals(first);
        for &stage in stages {
            if verdict == Verdict::Accept {
                verdict = self.run_stage(state, stage, &mut log);
            }
        }
        state.keep_early_deferral(first);
        Outcome { verdict, log }
    }

    fn now(&self, state: &mut State, stage: Stage) -> Outcome {
        let mut log = Vec::new();
        let mut verdict = self.run_stage(state, stage, &mut log);
        if verdict == Verdict::Accept && stage != Stage::Etrn {
            verdict = state.take_defer_if_permit(&mut log, self);
        }
        Outcome { verdict, log }
    }

    fn run_stage(&self, state: &mut State, stage: Stage, log: &mut Vec<LogLine>) -> Verdict {
        let items = self
            .lists
            .get(&stage)
            .map(Vec::as_slice)
            .unwrap_or_default();
        generic::run_list(self, state, stage, items, log)
    }

    fn run_implicit(&self, state: &mut State, stage: Stage, log: &mut Vec<LogLine>) -> Verdict {
        let name = match stage {
            Stage::Sender => "reject_unlisted_sender",
            _ => "reject_unlisted_recipient",
        };
        generic::run_list(self, state, stage, &[name.to_string()], log)
    }
}

fn accept(log: Vec<LogLine>) -> Outcome {
    Outcome {
        verdict: Verdict::Accept,
        log,
    }
}

#[cfg(test)]
mod tests;
