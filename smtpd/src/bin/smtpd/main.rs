//! # NAME
//! `smtpd` — inbound SMTP server.
//!
//! # SYNOPSIS
//! ```text
//! smtpd [-v] [-c config_dir] [-o name=value ...] [-n service] [-t type] [-u]
//!       [-C] [-p maxproc]
//! kill -USR1 PID    # drain: finish open sessions, accept no more, exit
//! ```
//! Started by the master, with its listening socket as file descriptor
//! 3 (`scripts/with-listener HOST:PORT smtpd -c DIR` does the same by
//! hand). smtpd never binds a port itself.
//!
//! # DESCRIPTION
//! Serves ESMTP (RFC 5321) on the inherited listener, many sessions in
//! one process: EHLO/HELO, MAIL FROM (SIZE, BODY=7BIT|8BITMIME, SMTPUTF8,
//! RET, ENVID), RCPT TO (NOTIFY, ORCPT), DATA, BDAT (CHUNKING), RSET,
//! NOOP, QUIT, VRFY, ETRN, HELP and STARTTLS, with Postfix 3.7's replies.
//! Each message goes through the cleanup library (header and body checks,
//! address rewriting) into `incoming/`; `250` follows only once the queue
//! file and its directory entry are on disk. smtpd adds the `Received:`
//! header. SMTP smuggling is refused: DATA ends only at CRLF.CRLF, bare
//! LF follows `smtpd_forbid_bare_newline`, and bytes sent with STARTTLS or
//! before the banner are not taken as commands.
//!
//! Access restrictions follow Postfix (`smtpd_client_restrictions` to
//! `smtpd_end_of_data_restrictions`; with `smtpd_delay_reject`, the
//! client, HELO and sender lists run at RCPT time): a refusal is logged
//! as `NOQUEUE: reject: RCPT from ...` and counts as an error (the
//! tarpit); HOLD, DISCARD, FILTER, REDIRECT, BCC and PREPEND actions go
//! into the queue file. smtpd refuses to start when neither
//! `smtpd_relay_restrictions` nor `smtpd_recipient_restrictions` refuses
//! relaying. VRFY answers 252 for an address the recipient restrictions
//! pass; ETRN answers 459 (no fast flush service). AUTH is not offered.
//! Before the banner smtpd looks up the client's name: the PTR name is
//! the reverse name, and the name only if a forward lookup of it gives
//! the client's address back (else `unknown`, with Postfix's warning).
//! DNS lookups (names and the DNS restrictions) go to the servers of
//! `smtpd_dns_servers` or of /etc/resolv.conf, after /etc/hosts; a
//! failing server makes the restriction defer (4xx), never reject.
//!
//! Options: `-c` the configuration directory (default `$MAIL_CONFIG`,
//! else `/etc/postfix`); `-o name=value` overrides main.cf (master.cf
//! `-o`); `-v` verbose logging. From the master: `-n` the master.cf
//! service name (in the warning below); `-t` the type, ignored; `-u`
//! unprivileged: with `-C`, become `mail_owner`; `-C` (Postfix's `-c`)
//! chroot into `queue_directory` once the configuration, tables, TLS
//! files, resolver and logs are open; `-p maxproc` serve at most that
//! many sessions at once (master.cf column 7; without it, as many as
//! the file descriptor limit allows, two each). At the limit smtpd
//! accepts nothing until a session ends: new clients wait in the listen
//! queue, and smtpd logs, at most once in 1000 seconds, Postfix master's
//! `warning: service "smtp" (25) has reached its process limit "100":
//! new clients may experience noticeable delays` and a hint.
//!
//! After printing `postfix/smtpd[PID]: ready` on stderr it serves until
//! SIGTERM or SIGINT: then open sessions get `421` at their next command,
//! a message being received is finished first, and smtpd exits 0.
//! SIGUSR1 drains, as the master asks on reload: smtpd logs `draining`,
//! closes its copy of the listening socket (the master's new smtpd takes
//! the new connections), lets the open sessions go on normally until
//! they end, then exits 0.
//!
//! Started by the master (with `-n`), smtpd also exits 0 by itself, and
//! the master starts the next one when a client comes: after `max_idle`
//! seconds without a session, and once it has served `max_use` × its
//! session limit sessions (the clients of `maxproc` Postfix processes)
//! and none is open; it keeps accepting until then. Started by hand it
//! serves until stopped.
//!
//! # SECURITY
//! smtpd talks to the untrusted network. It runs with the privileges it
//! was started with (the master drops them to `mail_owner` first); with
//! `-C` it is started as root, chroots into `queue_directory` and drops
//! to `mail_owner` itself (`-u`) before it accepts a connection. It holds
//! no secret but the TLS key, executes nothing, and writes only new files
//! in `incoming/` (through cleanup). Every read from a client has a size
//! limit and a time limit.
//!
//! # DIAGNOSTICS
//! Log lines in Postfix's shape (`postfix/smtpd[PID]: ...`, cleanup's as
//! `postfix/cleanup[PID]: ...`) on stderr, and to syslog (`/dev/log`) or
//! `maillog_file`.
//! Exit status 0 after a shutdown by signal or when it ends by itself
//! (`max_idle`, `max_use`); 1 with a `fatal:` line
//! when the configuration, the certificate, the queue directory or the
//! inherited socket cannot be used.
//!
//! # CONFIGURATION PARAMETERS
//! - `myhostname` (the host name): in the banner, replies and `Received:`.
//! - `mail_name` (`Postfix`): in `Received:`.
//! - `smtpd_banner` (`$myhostname ESMTP $mail_name`): the 220 greeting.
//! - `queue_directory` (`/var/spool/postfix`): the queue cleanup writes;
//!   the chroot jail with `-C`.
//! - `mail_owner` (`postfix`): who smtpd becomes after `-C -u`.
//! - `max_idle` (`100s`): with `-n`, exit after this long without a
//!   session (0: never).
//! - `max_use` (`100`): with `-n`, exit once this many times the session
//!   limit sessions were served and none is open (0: no limit).
//! - `maillog_file` (empty): log to this file (`/dev/stdout` for
//!   containers) instead of syslog.
//! - `syslog_name` (`postfix`): the log line prefix.
//! - `syslog_facility` (`mail`): the syslog facility.
//! - `message_size_limit` (`10240000`): the SIZE keyword; larger
//!   messages get 552.
//! - `line_length_limit` (`2048`): longer command lines are cut; longer
//!   content lines are stored in records of this size.
//! - `smtpd_recipient_limit` (`1000`): recipients per message; 452 past it.
//! - `smtpd_recipient_overshoot_limit` (`1000`): 452s past the limit that
//!   do not count as errors.
//! - `smtpd_timeout` (`300s`): per read and write.
//! - `smtpd_error_sleep_time` (`1s`): the delay of error replies past the
//!   soft limit.
//! - `smtpd_soft_error_limit` (`10`): errors before replies slow down.
//! - `smtpd_hard_error_limit` (`20`): errors before 421 and disconnect.
//! - `smtpd_junk_command_limit` (`100`): NOOP, RSET, VRFY, ETRN, HELO and
//!   EHLO past this count as errors.
//! - `smtpd_helo_required` (`no`): MAIL and ETRN need HELO/EHLO first.
//! - `disable_vrfy_command` (`no`): refuse VRFY.
//! - `smtputf8_enable` (`yes`): offer SMTPUTF8.
//! - `strict_rfc821_envelopes` (`no`): MAIL FROM and RCPT TO must be
//!   exactly `<path>`; anything else gets 501.
//! - `smtpd_forbid_bare_newline` (`no`, treated as `normalize`; or
//!   `reject`): what a line ending in LF alone means.
//! - `smtpd_forbid_bare_newline_exclusions` (`$mynetworks`): clients with
//!   the old rules (a lone dot ends DATA however its lines end).
//! - `smtpd_forbid_bare_newline_reject_code` (`550`): the code for
//!   `reject`.
//! - `smtpd_forbid_unauth_pipelining` (`yes` unless set, as Postfix 3.9):
//!   refuse input that arrives before the banner or where RFC 2920
//!   forbids pipelining.
//! - `smtpd_forbidden_commands` (`CONNECT GET POST regexp:{{/^[^A-Z]/
//!   Bogus}}`): commands that end the session with 221.
//! - `smtpd_discard_ehlo_keywords` (empty): EHLO keywords not announced.
//! - `smtpd_tls_security_level` (empty): `none`, `may` (offer STARTTLS)
//!   or `encrypt` (require it); when empty, the obsolete switches below.
//! - `smtpd_use_tls` (`no`): obsolete `may`.
//! - `smtpd_enforce_tls` (`no`): obsolete `encrypt`.
//! - `smtpd_tls_cert_file` (empty): the server certificate, PEM.
//! - `smtpd_tls_key_file` (`$smtpd_tls_cert_file`): its key, PEM.
//! - `smtpd_tls_auth_only` (`no`): read; AUTH is not offered at all yet.
//! - `smtpd_tls_received_header` (`no`): the TLS comment in `Received:`.
//! - `smtpd_starttls_timeout` (`300s`): for the TLS handshake.
//! - `smtpd_client_connection_count_limit` (`50`): sessions per client
//!   address; 421 past it.
//! - `smtpd_client_event_limit_exceptions` (`$mynetworks`): clients
//!   without that limit.
//! - `smtpd_client_port_logging` (`no`): the client port in log lines.
//! - `smtpd_peername_lookup` (`yes`): look up the client's name.
//! - `smtpd_dns_servers` (empty; ours): DNS servers to ask instead of
//!   those of /etc/resolv.conf (`ip`, `ip:port`, `[ipv6]:port`).
//! - `local_header_rewrite_clients` (`permit_inet_interfaces`): clients
//!   whose message headers cleanup completes with `$myorigin`.
//! - `remote_header_rewrite_domain` (empty): the domain for other
//!   clients' headers; empty: leave them alone.
//! - `mynetworks` (computed): for `permit_mynetworks` above.
//! - `inet_interfaces` (`all`): for `permit_inet_interfaces` above.
//! - `inet_protocols` (`all`): the address families of those interfaces.
//!
//! Restriction parameters (besides `mynetworks`, `inet_interfaces`,
//! `inet_protocols` and `local_header_rewrite_clients` above, and
//! `mydestination`, `myorigin`, `proxy_interfaces`, `recipient_delimiter`,
//! `owner_request_special`, `double_bounce_sender` and the canonical maps
//! below):
//! - `smtpd_client_restrictions` (empty): after connect (at RCPT with
//!   delay).
//! - `smtpd_helo_restrictions` (empty): at HELO/EHLO (at RCPT with delay).
//! - `smtpd_sender_restrictions` (empty): at MAIL (at RCPT with delay).
//! - `smtpd_relay_restrictions` (`permit_mynetworks,
//!   permit_sasl_authenticated, defer_unauth_destination`): relay control
//!   at RCPT.
//! - `smtpd_recipient_restrictions` (empty): at RCPT and VRFY.
//! - `smtpd_data_restrictions` (empty): at DATA and the first BDAT.
//! - `smtpd_end_of_data_restrictions` (empty): after the content.
//! - `smtpd_etrn_restrictions` (empty): at ETRN.
//! - `smtpd_restriction_classes` (empty): named lists for access maps.
//! - `smtpd_delay_reject` (`yes`): client, HELO and sender lists at RCPT.
//! - `smtpd_relay_before_recipient_restrictions` (`no`): the order of
//!   the two RCPT lists.
//! - `smtpd_reject_unlisted_sender` (`no`): refuse unknown senders in
//!   our domains.
//! - `smtpd_reject_unlisted_recipient` (`yes`): refuse unknown recipients
//!   in our domains.
//! - `smtpd_null_access_lookup_key` (`<>`): the null sender's access key.
//! - `parent_domain_matches_subdomains` (long list): where `example.com`
//!   also matches `sub.example.com`.
//! - `relay_domains` (empty at compatibility level 2): domains we relay
//!   to.
//! - `relay_recipient_maps` (empty): the valid recipients in them.
//! - `local_recipient_maps` (`proxy:unix:passwd.byname $alias_maps`): the
//!   valid local recipients.
//! - `virtual_alias_domains` (`$virtual_alias_maps`): virtual alias
//!   domains.
//! - `virtual_alias_maps` (empty): their addresses.
//! - `virtual_mailbox_domains` (`$virtual_mailbox_maps`): virtual mailbox
//!   domains.
//! - `virtual_mailbox_maps` (empty): their users.
//! - `allow_untrusted_routing` (`no`): relay `user%host@ourdomain` and
//!   the like from outside clients.
//! - `relay_clientcerts` (empty): client certificates allowed to relay.
//! - `smtpd_dns_reply_filter` (empty): a table that edits or drops DNS
//!   answers before the restrictions see them.
//! - `permit_mx_backup_networks` (empty): where a domain's primary MX
//!   must be for `permit_mx_backup`.
//! - `maps_rbl_domains` (empty): the zones of the old `reject_maps_rbl`.
//! - `default_rbl_reply` (Postfix's text): the DNSBL reply template.
//! - `rbl_reply_maps` (empty): per-zone DNSBL replies.
//! - `show_user_unknown_table_name` (`yes`): name the table in "User
//!   unknown" replies.
//! - `mynetworks_style` (`host` at compatibility level 2): the default
//!   `mynetworks`.
//! - `reject_code` (`554`): the code of `reject`.
//! - `defer_code` (`450`): the code of `defer`.
//! - `access_map_reject_code` (`554`): the code of an access map's `REJECT`.
//! - `access_map_defer_code` (`450`): the code of an access map's `DEFER`.
//! - `relay_domains_reject_code` (`554`): the code of `reject_unauth_destination`.
//! - `unknown_client_reject_code` (`450`): the code of `reject_unknown_client_hostname`.
//! - `invalid_hostname_reject_code` (`501`): the code of `reject_invalid_helo_hostname`.
//! - `unknown_hostname_reject_code` (`450`): the code of `reject_unknown_helo_hostname`.
//! - `unknown_address_reject_code` (`450`): the code of `reject_unknown_sender_domain` and its recipient twin.
//! - `non_fqdn_reject_code` (`504`): the code of the `reject_non_fqdn_*` restrictions.
//! - `maps_rbl_reject_code` (`554`): the code of the DNSBL restrictions.
//! - `unknown_local_recipient_reject_code` (`550`): the code of unknown local users.
//! - `unknown_relay_recipient_reject_code` (`550`): the code of unknown users in `relay_domains`.
//! - `unknown_virtual_alias_reject_code` (`550`): the code of unknown virtual alias addresses.
//! - `unknown_virtual_mailbox_reject_code` (`550`): the code of unknown virtual mailbox users.
//! - `multi_recipient_bounce_reject_code` (`550`): the code of `reject_multi_recipient_bounce`.
//! - `plaintext_reject_code` (`450`): the code of `reject_plaintext_session`.
//! - `smtpd_policy_service_timeout` (`100s`): per connect, write and read
//!   of a `check_policy_service` request.
//! - `smtpd_policy_service_max_idle` (`300s`): idle policy connections
//!   are closed after this.
//! - `smtpd_policy_service_max_ttl` (`1000s`): policy connections are
//!   closed after this age.
//! - `smtpd_policy_service_request_limit` (`0`): requests per policy
//!   connection; 0: no limit.
//! - `smtpd_policy_service_try_limit` (`2`): attempts per request.
//! - `smtpd_policy_service_retry_delay` (`1s`): between attempts.
//! - `smtpd_policy_service_default_action` (`451 4.3.5 Server
//!   configuration problem`): the action when the service fails.
//! - `smtpd_policy_service_policy_context` (empty): sent as
//!   `policy_context`.
//! - `compatibility_level` (`0`): sent in policy requests.
//! - `mail_version` (the version): sent in policy requests. Relative
//!   `unix:` policy services are under `queue_directory`.
//! - `smtpd_sender_login_maps` (empty): the SASL logins that own sender
//!   addresses, for the `reject_*_sender_login_mismatch` restrictions.
//! - `smtpd_sasl_auth_enable` (`no`): without it those restrictions are
//!   ignored with a warning (AUTH itself is not offered yet).
//!
//! Parameters of the cleanup library, which smtpd runs for each message
//! (besides `myhostname`, `queue_directory`, `inet_interfaces`,
//! `inet_protocols`, `remote_header_rewrite_domain` and `smtputf8_enable`
//! above):
//! - `allow_percent_hack` (`yes`): rewrite `user%domain` to `user@domain`.
//! - `always_add_missing_headers` (`no`): add missing headers for every client, not only local ones.
//! - `append_at_myorigin` (`yes`): complete `user` to `user@$myorigin`.
//! - `append_dot_mydomain` (`no` at compatibility level 1 and up): complete `user@host` to `user@host.$mydomain`.
//! - `body_checks` (empty): tables for body lines.
//! - `body_checks_size_limit` (`51200`): body bytes looked at by body_checks.
//! - `canonical_classes` (all four classes): where `canonical_maps` applies.
//! - `canonical_maps` (empty): address mapping for senders and recipients.
//! - `content_filter` (empty): `transport:nexthop` recorded for every message.
//! - `disable_mime_input_processing` (`no`): treat everything after the headers as body.
//! - `double_bounce_sender` (`double-bounce`): never split at `recipient_delimiter`.
//! - `enable_original_recipient` (`yes`): keep each recipient as the client gave it.
//! - `header_address_token_limit` (`10240`): tokens parsed in an address header.
//! - `header_checks` (empty): tables for primary headers.
//! - `header_size_limit` (`102400`): longer headers are truncated.
//! - `hopcount_limit` (`50`): more `Received:` headers are refused (554 5.4.0).
//! - `masquerade_classes` (`envelope_sender, header_sender, header_recipient`): where masquerading applies.
//! - `masquerade_domains` (empty): strip subdomains of these.
//! - `masquerade_exceptions` (empty): user names never masqueraded.
//! - `message_drop_headers` (`bcc, content-length, resent-bcc, return-path`): headers removed.
//! - `mime_boundary_length_limit` (`2048`): longer MIME boundaries are cut.
//! - `mime_header_checks` (`$header_checks`): tables for MIME part headers.
//! - `mime_nesting_limit` (`100`): deeper MIME nesting is an error.
//! - `mydestination` (`$myhostname, localhost.$mydomain, localhost`): local domains for lookups.
//! - `mydomain` (computed): for `append_dot_mydomain`.
//! - `myorigin` (`$myhostname`): for `append_at_myorigin`.
//! - `nested_header_checks` (`$header_checks`): tables for headers of attached messages.
//! - `owner_request_special` (`yes`): `owner-x` and `x-request` are not split.
//! - `propagate_unmatched_extensions` (`canonical, virtual`): keep `+ext` through canonical maps.
//! - `proxy_interfaces` (empty): more local addresses.
//! - `recipient_canonical_classes` (`envelope_recipient, header_recipient`): where it applies.
//! - `recipient_canonical_maps` (empty): recipient address mapping.
//! - `recipient_delimiter` (empty): the address extension separator.
//! - `sender_canonical_classes` (`envelope_sender, header_sender`): where it applies.
//! - `sender_canonical_maps` (empty): sender address mapping.
//! - `strict_7bit_headers` (`no`): reject 8-bit headers.
//! - `strict_8bitmime` (`no`): both of the below.
//! - `strict_8bitmime_body` (`no`): reject 8-bit bodies declared 7-bit.
//! - `strict_mime_encoding_domain` (`no`): reject bad encodings of multipart and message parts.
//! - `swap_bangpath` (`yes`): rewrite `a!b` to `b@a`.
//! - `undisclosed_recipients_header` (empty): added when a local message has no To/Cc.
//!
//! Sessions per process: `-p maxproc`, at most as many as the file
//! descriptor limit allows, two each; above that, clients wait.
//!
//! # FILES
//! `$config_directory/main.cf`; `$queue_directory/incoming/` (new queue
//! files); the TLS certificate and key files. With `-C`, inside the
//! jail: `$queue_directory/dev/log` (syslog), `$queue_directory/etc/`
//! (`localtime`, `passwd` for `unix:passwd.byname`).
//!
//! # SEE ALSO
//! cleanup, postcat(1), master(8); RFC 5321 (SMTP), RFC 1870 (SIZE),
//! RFC 2920 (PIPELINING), RFC 2034/3463 (enhanced status codes), RFC 3030
//! (CHUNKING), RFC 3207 (STARTTLS), RFC 3461 (DSN), RFC 6152 (8BITMIME),
//! RFC 6531 (SMTPUTF8); Postfix SMTPD_ACCESS_README, access(5).

mod listener;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use smtpd::Settings;

/// Command-line options.
#[derive(Debug, Default)]
struct Opts {
    config_dir: Option<PathBuf>,
    overrides: Vec<(String, String)>,
    verbose: bool,
    /// `-n`: the master.cf service name.
    service: Option<String>,
    /// `-u`: drop to mail_owner after the chroot.
    unprivileged: bool,
    /// `-C`: chroot into queue_directory.
    chroot: bool,
    /// `-p`: master.cf maxproc.
    process_limit: Option<usize>,
}

fn parse_args() -> Result<Opts, lexopt::Error> {
    use lexopt::prelude::*;
    let mut opts = Opts::default();
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Short('c') => opts.config_dir = Some(parser.value()?.into()),
            Short('o') => {
                let value = parser.value()?.string()?;
                let (name, value) = value.split_once('=').ok_or_else(|| {
                    lexopt::Error::from(format!("-o {value}: expected name=value"))
                })?;
                opts.overrides
                    .push((name.trim().to_string(), value.trim().to_string()));
            }
            Short('v') => opts.verbose = true,
            // What the master passes to every service.
            Short('n') => opts.service = Some(parser.value()?.string()?),
            Short('t') => {
                parser.value()?;
            }
            Short('u') => opts.unprivileged = true,
            Short('C') => opts.chroot = true,
            Short('p') => opts.process_limit = Some(parser.value()?.parse()?),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    // First, before anything can open a file that lands on fd 3.
    let listener = listener::inherited();
    match start(listener) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("postfix/smtpd[{}]: fatal: {e:#}", std::process::id());
            ExitCode::FAILURE
        }
    }
}

fn start(listener: std::io::Result<std::net::TcpListener>) -> anyhow::Result<()> {
    let opts = parse_args().context("usage: smtpd [-v] [-c config_dir] [-o name=value ...]")?;
    let dir = opts
        .config_dir
        .clone()
        .unwrap_or_else(conf::config::default_config_dir);
    let config = conf::Config::load(&dir, &opts.overrides)
        .with_context(|| format!("{}/main.cf", dir.display()))?;
    master::log::Logger::new(&config, "smtpd")
        .context("logging")?
        .verbose(opts.verbose)
        .install()
        .context("logging")?;
    let listener = listener?;
    let dns = resolver(&config)?;
    let settings = Settings::from_config(&config)?.with_restrictions(&config, dns)?;
    if let Some(engine) = &settings.restrictions {
        for warning in engine.warnings() {
            settings.log.warning(warning);
        }
    }
    let service = opts.service.as_deref().unwrap_or("smtpd");
    let mut settings = settings.with_service(service, opts.process_limit);
    if opts.service.is_some() {
        // From the master, which starts the next smtpd on demand.
        (settings.max_idle, settings.max_use) = lifetime(&config)?;
    }
    let settings = Arc::new(settings);
    let queue = config.get("queue_directory")?.unwrap_or_default();
    std::env::set_current_dir(&queue).with_context(|| format!("chdir {queue}"))?;
    let cleanup = if opts.chroot {
        // Cleanup writes below queue_directory, which in the jail is `/`.
        let mut overrides = opts.overrides.clone();
        overrides.push(("queue_directory".to_owned(), "/".to_owned()));
        cleanup::Cleanup::new(&conf::Config::with_main(
            config.dir(),
            config.main_cf().clone(),
            &overrides,
        ))
    } else {
        cleanup::Cleanup::new(&config)
    };
    let cleanup = Arc::new(cleanup.context("cleanup")?);
    let tls = smtpd::tls::load(&settings.tls)?;
    if opts.chroot {
        // Last, with everything outside the queue open; before the
        // runtime's threads exist.
        // unix:passwd.byname (the default local_recipient_maps) cannot
        // see /etc/passwd in the jail.
        postmap::simple::unix::snapshot_files().context("reading /etc/passwd for the chroot")?;
        master::service::enter_chroot(&config, opts.unprivileged).context("chroot")?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    // The accept loop runs on a worker, so each session task starts in
    // that worker's own queue instead of waking a worker from outside.
    runtime.block_on(async {
        tokio::spawn(serve(listener, settings, cleanup, tls))
            .await
            .context("accept loop")?
    })
}

/// The DNS resolver of the restrictions and client names: the servers of
/// `smtpd_dns_servers`, else those of /etc/resolv.conf. Without a usable
/// resolv.conf every lookup fails temporarily (4xx, never 5xx), with a
/// warning.
fn resolver(config: &conf::Config) -> anyhow::Result<Box<dyn smtpd::restrictions::Dns>> {
    use smtpd::restrictions::resolver::{Resolver, Settings};
    let settings = Settings::from_config(config).context("smtpd_dns_servers")?;
    match Resolver::new(&settings) {
        Ok(resolver) => Ok(Box::new(resolver)),
        Err(e) if settings.servers.is_empty() => {
            tracing::warn!(target: "smtpd", "{e}: DNS lookups will fail temporarily");
            Ok(Box::new(smtpd::restrictions::NoDns { temporary: true }))
        }
        Err(e) => Err(e).context("smtpd_dns_servers"),
    }
}

/// `max_idle` and `max_use`; 0 means no limit.
fn lifetime(config: &conf::Config) -> anyhow::Result<(Option<Duration>, Option<u64>)> {
    let idle = config.get_time("max_idle").context("max_idle")?;
    let uses = config.get_int("max_use").context("max_use")?;
    Ok((
        (!idle.is_zero()).then_some(idle),
        u64::try_from(uses).ok().filter(|n| *n > 0),
    ))
}

async fn serve(
    listener: std::net::TcpListener,
    settings: Arc<Settings>,
    cleanup: Arc<cleanup::Cleanup>,
    tls: Option<Arc<smtpd::tls::Tls>>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener).context("listener")?;
    let shutdown = CancellationToken::new();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("SIGTERM handler")?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("SIGINT handler")?;
    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
        .context("SIGUSR1 handler")?;
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        stop.cancel();
    });
    let drain = CancellationToken::new();
    let draining = drain.clone();
    let log = settings.log.clone();
    tokio::spawn(async move {
        usr1.recv().await;
        log.info("draining");
        draining.cancel();
    });
    settings.log.info("ready");
    smtpd::server::run_draining(listener, settings, cleanup, tls, shutdown, drain).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Parameters the binary reads itself (the library's are
    /// `smtpd::config::PARAMETERS`, logging's `master::log::PARAMETERS`).
    const PARAMETERS: &[&str] = &[
        "max_idle",
        "max_use",
        "queue_directory",
        "smtpd_dns_servers",
    ];

    /// The CONFIGURATION PARAMETERS section lists exactly the parameters
    /// smtpd reads: the library's, the restrictions', the binary's own and
    /// cleanup's.
    #[test]
    fn header_lists_the_parameters_read() {
        let mut read: Vec<&str> = smtpd::config::PARAMETERS
            .iter()
            .chain(PARAMETERS)
            .chain(smtpd::restrictions::PARAMETERS)
            .chain(cleanup::PARAMETERS)
            .chain(master::log::PARAMETERS)
            .chain(master::service::PARAMETERS)
            .copied()
            .collect();
        read.sort_unstable();
        read.dedup();
        assert_eq!(
            conf::param::documented_parameters(include_str!("main.rs")),
            read
        );
    }

    /// Every parameter name quoted in the restriction engine's sources is
    /// in `smtpd::restrictions::PARAMETERS`, so that list (and the header)
    /// cannot fall behind what the engine reads.
    #[test]
    fn restriction_parameters_are_complete() {
        let sources = [
            include_str!("../../restrictions/mod.rs"),
            include_str!("../../restrictions/settings.rs"),
        ];
        for source in sources {
            for quoted in source.split('"').skip(1).step_by(2) {
                if conf::param::find(quoted).is_some() {
                    assert!(
                        smtpd::restrictions::PARAMETERS.contains(&quoted),
                        "{quoted} is read but not in restrictions::PARAMETERS"
                    );
                }
            }
        }
    }
}
