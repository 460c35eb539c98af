//! The restrictions that are not access maps: client trust
//! (`permit_mynetworks`, TLS), host-name and address syntax, relay
//! control and unlisted users; they dispatch the DNS-based checks to
//! `dns_checks`, `dnsbl` and `server_access`.

use address::find::{self, Query};
use postmap::Maps;
use queue::reply::Reply;

use super::generic::{Ctx, ErrorClass, Step};
use super::list::Restriction as R;
use super::resolve::{AddressClass, Resolved};
use super::{Stage, context::reply, dns_checks, dnsbl, login, policy, server_access};

pub(crate) fn apply(ctx: &mut Ctx<'_>, r: R, name: &str, arg: &str) -> Step {
    match r {
        R::PermitMynetworks => mynetworks(ctx),
        R::PermitInetInterfaces => {
            let literal = format!("[{}]", ctx.state.client.addr);
            let local = ctx.engine.settings.resolver.local.is_local(&literal);
            permit_if(local.unwrap_or(false))
        }
        R::PermitSaslAuthenticated => permit_if(ctx.state.sasl_username.is_some()),
        R::PermitTlsClientcerts => tls_clientcerts(ctx),
        R::PermitTlsAllClientcerts => permit_if(ctx.state.tls.is_some()),
        R::RejectPlaintextSession if ctx.state.tls.is_none() => {
            let code = ctx.engine.settings.codes.plaintext;
            ctx.reject_class(code, "4.7.1", "Session encryption is required")
        }
        R::RejectMultiRecipientBounce => multi_recipient_bounce(ctx),
        R::CheckDnsAccess => server_access::check(ctx, name, arg),
        R::RejectUnauthPipelining => unauth_pipelining(ctx),
        R::Sleep => {
            match arg.parse::<u32>() {
                Ok(seconds) => ctx.state.sleep = ctx.state.sleep.saturating_add(seconds),
                Err(_) => {
                    ctx.warn(format!("restriction sleep: bad time value \"{arg}\""));
                    return ctx.server_error();
                }
            }
            Step::Dunno
        }
        R::CheckPolicyService => policy::check(ctx, arg),
        R::RejectSenderLoginMismatch
        | R::RejectAuthSenderLoginMismatch
        | R::RejectKnownSenderLoginMismatch
        | R::RejectUnauthSenderLoginMismatch => login::check(ctx, r),
        R::RejectUnknownClientHostname => {
            let (status, addr) = (ctx.state.client.name_status, ctx.state.client.addr.clone());
            unknown_client(ctx, status, "hostname", &addr)
        }
        R::RejectUnknownReverseClientHostname => {
            let (status, addr) = (
                ctx.state.client.reverse_name_status,
                ctx.state.client.addr.clone(),
            );
            unknown_client(ctx, status, "reverse hostname", &addr)
        }
        R::RejectRblClient => dnsbl::rbl_client(ctx, arg),
        R::RejectMapsRbl => {
            for zone in ctx.engine.settings.maps_rbl_domains.clone() {
                let step = dnsbl::rbl_client(ctx, &zone);
                if step != Step::Dunno {
                    return step;
                }
            }
            Step::Dunno
        }
        R::RejectRhsbl => dnsbl::rhsbl(ctx, name, arg),
        R::PermitDnswlClient => dnsbl::dnswl(ctx, &dnsbl::reverse_ip(&ctx.state.client.addr), arg),
        R::PermitRhswlClient => {
            let name = ctx.state.client.name.clone();
            dnsbl::dnswl(ctx, &name, arg)
        }
        R::RejectInvalidHeloHostname => helo(ctx, invalid_helo),
        R::RejectNonFqdnHeloHostname => helo(ctx, non_fqdn_helo),
        R::RejectUnknownHeloHostname => helo(ctx, dns_checks::unknown_helo),
        // Postfix: a HELO of only digits, dots and colons is checked as
        // an address, and permitted when valid.
        R::PermitNakedIpAddress => match ctx.state.helo.clone() {
            Some(h) if !h.is_empty() && h.bytes().all(|b| b"0123456789.:".contains(&b)) => {
                match invalid_hostaddr(ctx, &h) {
                    Step::Dunno => Step::Permit,
                    step => step,
                }
            }
            _ => Step::Dunno,
        },
        _ => apply_address(ctx, r),
    }
}

/// The restrictions on the sender or recipient address.
fn apply_address(ctx: &mut Ctx<'_>, r: R) -> Step {
    match r {
        R::RejectNonFqdnSender => with_sender(ctx, non_fqdn_address),
        R::RejectNonFqdnRecipient => with_recipient(ctx, non_fqdn_address),
        R::RejectUnknownSenderDomain => as_stage(ctx, Stage::Sender, |ctx| {
            with_sender(ctx, dns_checks::unknown_domain)
        }),
        R::RejectUnknownRecipientDomain => as_stage(ctx, Stage::Recipient, |ctx| {
            with_recipient(ctx, dns_checks::unknown_domain)
        }),
        R::RejectUnknownAddress => match ctx.stage {
            Stage::Sender => with_sender(ctx, dns_checks::unknown_domain),
            _ => with_recipient(ctx, dns_checks::unknown_domain),
        },
        R::RejectUnlistedSender => with_sender(ctx, unlisted),
        R::RejectUnlistedRecipient => with_recipient(ctx, unlisted),
        R::PermitAuthDestination => {
            with_recipient(ctx, |ctx, rcpt| match auth_destination(ctx, rcpt) {
                Ok(ok) => permit_if(ok),
                Err(step) => step,
            })
        }
        R::RejectUnauthDestination => {
            let code = ctx.engine.settings.codes.relay;
            with_recipient(ctx, |ctx, rcpt| {
                unauth_destination(ctx, rcpt, code, "5.7.1")
            })
        }
        R::DeferUnauthDestination => {
            // "with a non-permanent error code" (postconf(5)): Postfix
            // turns relay_domains_reject_code 554 into 454.
            let code = 400 + ctx.engine.settings.codes.relay % 100;
            with_recipient(ctx, |ctx, rcpt| {
                unauth_destination(ctx, rcpt, code, "4.7.1")
            })
        }
        R::CheckRelayDomains => with_recipient(ctx, relay_domains),
        R::PermitMxBackup => with_recipient(ctx, dns_checks::mx_backup),
        // Address verification always says "deliverable" here.
        _ => Step::Dunno,
    }
}

/// A client that sends ahead of our replies without ESMTP PIPELINING,
/// or past DATA (Postfix `reject_unauth_pipelining`).
fn unauth_pipelining(ctx: &mut Ctx<'_>) -> Step {
    let esmtp = ctx.state.protocol.eq_ignore_ascii_case("ESMTP");
    if !ctx.state.pipelined || (esmtp && ctx.state.command() != "DATA") {
        return Step::Dunno;
    }
    let text = format!(
        "<{}>: {} rejected: Improper use of SMTP command pipelining",
        ctx.reply_name(),
        ctx.class()
    );
    ctx.reject(ErrorClass::Protocol, 503, "5.5.0", text)
}

fn permit_if(yes: bool) -> Step {
    if yes { Step::Permit } else { Step::Dunno }
}

fn with_sender(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut Ctx<'_>, &str) -> Step) -> Step {
    match ctx.state.sender.clone() {
        Some(sender) => f(ctx, &sender),
        None => Step::Dunno,
    }
}

/// Run `f` with the reply class of `stage`: Postfix names what a
/// restriction checks ("Sender address rejected") whatever list it is
/// in. The relay list stays itself for recipient checks.
fn as_stage(ctx: &mut Ctx<'_>, stage: Stage, f: impl FnOnce(&mut Ctx<'_>) -> Step) -> Step {
    let saved = ctx.stage;
    if !(stage == Stage::Recipient && saved == Stage::Relay) {
        ctx.stage = stage;
    }
    let step = f(ctx);
    ctx.stage = saved;
    step
}

fn with_recipient(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut Ctx<'_>, &str) -> Step) -> Step {
    match ctx.state.recipient.clone() {
        Some(rcpt) => f(ctx, &rcpt),
        None => Step::Dunno,
    }
}

fn mynetworks(ctx: &mut Ctx<'_>) -> Step {
    let client = &ctx.state.client;
    let matched = ctx
        .engine
        .settings
        .mynetworks
        .lookup("mynetworks", &client.name, &client.addr);
    match matched {
        Ok(yes) => permit_if(yes),
        Err(e) => {
            let name = ctx.reply_name();
            ctx.lookup_failure(e.0, &name)
        }
    }
}

fn tls_clientcerts(ctx: &mut Ctx<'_>) -> Step {
    let Some(tls) = ctx.state.tls.clone() else {
        return Step::Dunno;
    };
    let maps = &ctx.engine.settings.relay_clientcerts;
    for print in [&tls.cert_fingerprint, &tls.pkey_fingerprint] {
        match maps.find(&print.to_lowercase(), postmap::maps::Key::Full) {
            Ok(Some(_)) => return Step::Permit,
            Ok(None) => {}
            Err(e) => {
                ctx.warn(map_warning(&e));
                let warning = format!(
                    "relay_clientcerts: lookup error for fingerprint '{}', pkey fingerprint {}",
                    tls.cert_fingerprint, tls.pkey_fingerprint
                );
                let name = ctx.reply_name();
                return ctx.lookup_failure(warning, &name);
            }
        }
    }
    Step::Dunno
}

/// Postfix's `maps_find` warning for a failed table.
pub(crate) fn map_warning(e: &postmap::maps::Error) -> String {
    match e {
        postmap::maps::Error::Table { spec, key, .. } => {
            format!("{spec} lookup error for \"{key}\"")
        }
        other => other.to_string(),
    }
}

fn multi_recipient_bounce(ctx: &mut Ctx<'_>) -> Step {
    let null = ctx.state.sender.as_deref() == Some("");
    let many = match ctx.stage {
        Stage::Data | Stage::EndOfData => ctx.state.recipient_count > 1,
        _ => ctx.state.recipient_count > 0,
    };
    if !(null && many) {
        return Step::Dunno;
    }
    let code = ctx.engine.settings.codes.multi_recipient_bounce;
    ctx.reject_class(code, "5.5.3", "Multi-recipient bounce")
}

fn unknown_client(ctx: &mut Ctx<'_>, status: super::NameStatus, what: &str, addr: &str) -> Step {
    let code = match status {
        super::NameStatus::Ok => return Step::Dunno,
        super::NameStatus::Temporary => 450,
        _ => ctx.engine.settings.codes.unknown_client,
    };
    let text = format!("Client host rejected: cannot find your {what}, [{addr}]");
    // RFC 7372: 4.7.25 "reverse DNS validation failed" for the verified
    // name; the reverse name keeps 4.7.1 (Postfix 3.7).
    let dsn = if what == "hostname" {
        "4.7.25"
    } else {
        "4.7.1"
    };
    ctx.reject(ErrorClass::Policy, code, dsn, text)
}

fn helo(ctx: &mut Ctx<'_>, f: fn(&mut Ctx<'_>, &str) -> Step) -> Step {
    match ctx.state.helo.clone() {
        Some(h) => f(ctx, &h),
        None => Step::Dunno,
    }
}

/// Strip one trailing dot (not two), as Postfix's `dup_if_truncate`.
pub(super) fn truncate_dot(name: &str) -> &str {
    match name.strip_suffix('.') {
        Some(n) if !n.is_empty() && !n.ends_with('.') => n,
        _ => name,
    }
}

/// Host name syntax (Postfix `valid_hostname`): labels of letters,
/// digits, `-` and `_`, not starting or ending with `-`, not all numeric.
pub(crate) fn is_hostname(name: &str) -> bool {
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    let labels_ok = name.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    labels_ok && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// An IPv4 or IPv6 address (optionally `IPv6:`-prefixed).
pub(crate) fn is_address(text: &str) -> bool {
    let text = text
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("ipv6:"))
        .map_or(text, |_| &text[5..]);
    text.parse::<std::net::IpAddr>().is_ok()
}

/// Postfix `valid_mailhost_addr`: IPv6 only with the `IPv6:` tag
/// (RFC 5321 §4.1.3), IPv4 not in network 0.
fn is_literal_address(text: &str) -> bool {
    match text.get(..5).filter(|p| p.eq_ignore_ascii_case("ipv6:")) {
        Some(_) => text[5..].parse::<std::net::Ipv6Addr>().is_ok(),
        None => text
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.octets()[0] != 0),
    }
}

pub(super) fn literal(name: &str) -> Option<&str> {
    name.strip_prefix('[')?.strip_suffix(']')
}

fn invalid_helo(ctx: &mut Ctx<'_>, name: &str) -> Step {
    let code = ctx.engine.settings.codes.invalid_hostname;
    if let Some(addr) = literal(name) {
        if !is_literal_address(addr) {
            return ctx.reject_class(code, "5.5.2", "invalid ip address");
        }
        return Step::Dunno;
    }
    let name = truncate_dot(name);
    if !is_hostname(name) && !is_address(name) {
        return ctx.reject_class(code, "5.5.2", "Invalid name");
    }
    Step::Dunno
}

/// Postfix `reject_invalid_hostaddr`: `[addr]` or a bare address.
fn invalid_hostaddr(ctx: &mut Ctx<'_>, name: &str) -> Step {
    if is_literal_address(literal(name).unwrap_or(name)) {
        return Step::Dunno;
    }
    let code = ctx.engine.settings.codes.invalid_hostname;
    ctx.reject_class(code, "5.5.2", "invalid ip address")
}

fn non_fqdn_helo(ctx: &mut Ctx<'_>, name: &str) -> Step {
    if literal(name).is_some() {
        return invalid_hostaddr(ctx, name);
    }
    let name = truncate_dot(name);
    if is_hostname(name) && name.contains('.') {
        return Step::Dunno;
    }
    let code = ctx.engine.settings.codes.non_fqdn;
    ctx.reject_class(code, "5.5.2", "need fully-qualified hostname")
}

pub(super) fn domain_of(address: &str) -> Option<&str> {
    address.rsplit_once('@').map(|(_, d)| d)
}

fn non_fqdn_address(ctx: &mut Ctx<'_>, address: &str) -> Step {
    if address.is_empty() {
        return Step::Dunno;
    }
    let ok = domain_of(address).is_some_and(|d| {
        let d = truncate_dot(d);
        literal(d).is_some_and(is_address) || (is_hostname(d) && d.contains('.'))
    });
    if ok {
        return Step::Dunno;
    }
    let code = ctx.engine.settings.codes.non_fqdn;
    ctx.reject_class(code, "5.5.2", "need fully-qualified address")
}

pub(super) fn resolve(ctx: &mut Ctx<'_>, address: &str) -> Result<Resolved, Step> {
    ctx.engine.settings.resolver.resolve(address).map_err(|e| {
        let name = ctx.reply_name();
        ctx.lookup_failure(e.to_string(), &name)
    })
}

/// Does `maps` know `address` (canonical, virtual, recipient tables)?
fn known(ctx: &mut Ctx<'_>, maps: &Maps, address: &str) -> Result<bool, Step> {
    match find::find(maps, &Query::new(address), &ctx.engine.settings.search) {
        Ok(found) => Ok(found.is_some()),
        Err(e) => {
            let warning = match &e {
                find::Error::Table(t) => map_warning(t),
                other => other.to_string(),
            };
            let name = ctx.reply_name();
            Err(ctx.lookup_failure(warning, &name))
        }
    }
}

/// `reject_unlisted_sender`/`_recipient` (Postfix `check_rcpt_maps`).
fn unlisted(ctx: &mut Ctx<'_>, address: &str) -> Step {
    match unlisted_inner(ctx, address) {
        Ok(step) | Err(step) => step,
    }
}

fn unlisted_inner(ctx: &mut Ctx<'_>, address: &str) -> Result<Step, Step> {
    let settings = &ctx.engine.settings;
    if address.is_empty() {
        return Ok(Step::Dunno);
    }
    let resolved = resolve(ctx, address)?;
    let sender = ctx.stage == Stage::Sender;
    if known(ctx, &settings.recipient_canonical_maps, address)?
        || (sender && known(ctx, &settings.sender_canonical_maps, address)?)
        || known(ctx, &settings.canonical_maps, address)?
        || known(ctx, &settings.virtual_alias_maps, address)?
    {
        return Ok(Step::Dunno);
    }
    let codes = &settings.codes;
    let (code, maps, table) = match resolved.class {
        AddressClass::Local if !address.eq_ignore_ascii_case(&settings.double_bounce) => (
            codes.local_recipient,
            &settings.local_recipient_maps,
            "local recipient",
        ),
        AddressClass::Alias => (
            codes.virtual_alias,
            &settings.virtual_alias_maps,
            "virtual alias",
        ),
        AddressClass::Virtual => (
            codes.virtual_mailbox,
            &settings.virtual_mailbox_maps,
            "virtual mailbox",
        ),
        AddressClass::Relay => (
            codes.relay_recipient,
            &settings.relay_recipient_maps,
            "relay recipient",
        ),
        _ => return Ok(Step::Dunno),
    };
    // An empty table list means "every user exists", except for virtual
    // alias domains, whose users exist only as aliases.
    if (maps.is_empty() && resolved.class != AddressClass::Alias) || known(ctx, maps, address)? {
        return Ok(Step::Dunno);
    }
    let dsn = if sender { "5.1.0" } else { "5.1.1" };
    let text = match settings.show_unknown_table {
        true => format!("User unknown in {table} table"),
        false => "User unknown".to_string(),
    };
    Ok(ctx.reject_class(code, dsn, &text))
}

/// May an allow list permit now? Not when that would relay for the
/// current recipient: "permit_dnswl_client is silently ignored when it
/// would override reject_unauth_destination" (postconf(5)).
pub(crate) fn permit_is_safe(ctx: &mut Ctx<'_>) -> bool {
    if !matches!(ctx.stage, Stage::Recipient | Stage::Relay) {
        return true;
    }
    match ctx.state.recipient.clone() {
        Some(rcpt) => auth_destination(ctx, &rcpt).unwrap_or(false),
        None => true,
    }
}

/// Is the recipient's destination one this system may accept for
/// anyone (Postfix `permit_auth_destination`)?
fn auth_destination(ctx: &mut Ctx<'_>, rcpt: &str) -> Result<bool, Step> {
    let resolved = resolve(ctx, rcpt)?;
    if !rcpt.contains('@') {
        return Ok(true);
    }
    if !ctx.engine.settings.allow_untrusted_routing && resolved.routed {
        return Ok(false);
    }
    Ok(resolved.class.is_final() || resolved.class == AddressClass::Relay)
}

fn unauth_destination(ctx: &mut Ctx<'_>, rcpt: &str, code: u16, dsn: &str) -> Step {
    match auth_destination(ctx, rcpt) {
        Ok(true) => Step::Dunno,
        Ok(false) => ctx.reject(
            ErrorClass::Policy,
            code,
            dsn,
            format!("<{rcpt}>: Relay access denied"),
        ),
        Err(step) => step,
    }
}

/// The obsolete `check_relay_domains`: the client name in relay_domains,
/// or an authorised destination; else reject.
fn relay_domains(ctx: &mut Ctx<'_>, rcpt: &str) -> Step {
    let name = ctx.state.client.name.clone();
    if ctx
        .engine
        .settings
        .resolver
        .relay_domains
        .matches(&name)
        .unwrap_or(false)
    {
        return Step::Permit;
    }
    match auth_destination(ctx, rcpt) {
        Ok(true) => Step::Permit,
        Ok(false) => {
            let code = ctx.engine.settings.codes.relay;
            ctx.reject_class(code, "5.7.1", "Relay access denied")
        }
        Err(step) => step,
    }
}

/// `local_header_rewrite_clients` for the current client.
pub(crate) fn rewrite_clients(ctx: &mut Ctx<'_>) -> Result<bool, Reply> {
    for item in ctx.engine.settings.rewrite_clients.clone() {
        let matched = match item.as_str() {
            "permit_inet_interfaces"
            | "permit_mynetworks"
            | "permit_sasl_authenticated"
            | "permit_tls_clientcerts" => {
                let r = R::from_name(&item).unwrap_or(R::PermitInetInterfaces);
                match apply(ctx, r, &item, "") {
                    Step::Permit => true,
                    Step::Dunno => false,
                    Step::Reject(_) => return Err(rewrite_error(ctx, None)),
                }
            }
            _ => {
                let spec = item
                    .strip_prefix("check_address_map")
                    .map_or(item.as_str(), str::trim);
                let maps = Maps::open(spec, spec, &postmap::OpenOptions::default());
                let addr = ctx.state.client.addr.clone();
                match maps.find(&addr, postmap::maps::Key::Full) {
                    Ok(found) => found.is_some(),
                    Err(e) => return Err(rewrite_error(ctx, Some(map_warning(&e)))),
                }
            }
        };
        if matched {
            return Ok(true);
        }
    }
    Ok(false)
}

fn rewrite_error(ctx: &mut Ctx<'_>, warning: Option<String>) -> Reply {
    if let Some(w) = warning {
        ctx.warn(w);
    }
    let reply = reply(451, "4.3.0", "Temporary lookup error");
    ctx.whatsup("reject", &reply.to_string());
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_name_syntax() {
        assert!(is_hostname("mail.example.com"));
        assert!(is_hostname("host_1"));
        assert!(!is_hostname("1.2.3"));
        assert!(!is_hostname("-bad.example"));
        assert!(!is_hostname("a..b"));
        assert!(is_address("192.0.2.1"));
        assert!(is_address("IPv6:2001:db8::1"));
        assert!(!is_address("192.0.2.321"));
    }
}
