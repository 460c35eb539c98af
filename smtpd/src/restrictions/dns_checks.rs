//! The restrictions that ask DNS about a name: `reject_unknown_helo_hostname`,
//! `reject_unknown_{sender,recipient}_domain` (with RFC 7505 null MX) and
//! `permit_mx_backup`. Temporary DNS failures never reject: they become
//! `defer_if_permit`/`defer_if_reject`.

use super::Stage;
use super::checks::{domain_of, literal, resolve, truncate_dot};
use super::dns::Lookup;
use super::dns_filter::{self, Answer, Type};
use super::generic::{Ctx, ErrorClass, Step};
use super::resolve::AddressClass;

/// Postfix's text for a DNS answer that `smtpd_dns_reply_filter` emptied.
pub(super) const POLICY: &str = "DNS reply filter drops all results";

/// `reject_unknown_helo_hostname`: no A, AAAA or MX record.
pub(super) fn unknown_helo(ctx: &mut Ctx<'_>, name: &str) -> Step {
    // Postfix skips only address literals: a bare address is looked up
    // as a name, and is not found.
    if literal(name).is_some() {
        return Step::Dunno;
    }
    let name = truncate_dot(name);
    match dns_filter::exists(ctx, name, &[Type::A, Type::Aaaa, Type::Mx]) {
        Answer::Found(_) => Step::Dunno,
        Answer::Policy => {
            ctx.warn(format!("{name}: address or MX lookup error: {POLICY}"));
            Step::Dunno
        }
        Answer::NotFound => {
            let code = ctx.engine.settings.codes.unknown_hostname;
            ctx.reject_class(code, "4.7.1", "Host not found")
        }
        Answer::Retry | Answer::Invalid => {
            let text = format!(
                "<{}>: {} rejected: Host not found",
                ctx.reply_name(),
                ctx.class()
            );
            ctx.defer_if_permit(450, "4.7.1", text);
            Step::Dunno
        }
    }
}

/// `reject_unknown_{sender,recipient}_domain`: a null MX, or no MX, A
/// or AAAA record, for a domain that is not ours.
pub(super) fn unknown_domain(ctx: &mut Ctx<'_>, address: &str) -> Step {
    let Some(domain) = domain_of(address).map(truncate_dot) else {
        return Step::Dunno;
    };
    if domain.is_empty() || literal(domain).is_some() {
        return Step::Dunno;
    }
    match resolve(ctx, address) {
        Ok(r) if r.class.is_final() => return Step::Dunno,
        Ok(_) => {}
        Err(step) => return step,
    }
    let sender = ctx.stage == Stage::Sender;
    let dsn = if sender { "4.1.8" } else { "4.1.2" };
    // RFC 7505 §4.2: a null MX domain does not accept mail.
    let mx = dns_filter::mx(ctx, domain);
    if let Answer::Found(hosts) = &mx
        && hosts.iter().all(|(_, h)| h.is_empty())
    {
        let (code, dsn) = if sender {
            (550, "5.7.27")
        } else {
            (556, "5.1.10")
        };
        let text = format!(
            "<{}>: {} rejected: Domain {domain} does not accept mail (nullMX)",
            ctx.reply_name(),
            ctx.class()
        );
        return ctx.reject(ErrorClass::Policy, code, dsn, text);
    }
    let answer = match mx {
        Answer::Found(_) => Answer::Found(Vec::new()),
        other => {
            let addresses = dns_filter::exists(ctx, domain, &[Type::A, Type::Aaaa]);
            dns_filter::combine(dns_filter::unit(other), addresses)
        }
    };
    match answer {
        Answer::Found(_) => Step::Dunno,
        Answer::Policy => {
            ctx.warn(format!("{domain}: MX or address lookup error: {POLICY}"));
            Step::Dunno
        }
        Answer::NotFound => {
            let code = ctx.engine.settings.codes.unknown_address;
            ctx.reject_class(code, dsn, "Domain not found")
        }
        Answer::Retry | Answer::Invalid => {
            let text = format!(
                "<{}>: {} rejected: Domain not found",
                ctx.reply_name(),
                ctx.class()
            );
            ctx.defer_if_permit(450, dsn, text);
            Step::Dunno
        }
    }
}

/// Postfix `permit_mx_backup`: permit authorised destinations, and a
/// domain whose MX list names this host other than as a primary, when
/// its primary MX hosts are in `permit_mx_backup_networks` (if set).
pub(super) fn mx_backup(ctx: &mut Ctx<'_>, rcpt: &str) -> Step {
    let resolved = match resolve(ctx, rcpt) {
        Ok(r) => r,
        Err(step) => return step,
    };
    let Some((_, domain)) = rcpt.rsplit_once('@') else {
        return Step::Permit;
    };
    if resolved.class == AddressClass::Local {
        return Step::Permit;
    }
    if !ctx.engine.settings.allow_untrusted_routing && resolved.routed {
        return Step::Dunno;
    }
    if resolved.class.is_final() || resolved.class == AddressClass::Relay {
        return Step::Permit;
    }
    let domain = truncate_dot(domain);
    if literal(domain).is_some() {
        return Step::Dunno;
    }
    let records = match ctx.engine.dns.mx_records(domain) {
        Lookup::Found(records) => records,
        Lookup::NotFound => return Step::Dunno,
        Lookup::TempFail => {
            let text = format!(
                "<{rcpt}>: {} rejected: Unable to look up mail exchanger information: \
                 Host not found, try again",
                ctx.class()
            );
            ctx.defer_if_reject(450, "4.4.4", text);
            return Step::Dunno;
        }
    };
    let best = records.first().map_or(0, |(pref, _)| *pref);
    let (mut backup, mut primary_addrs) = (false, Vec::new());
    for (pref, host) in records.iter().filter(|(_, h)| !h.is_empty()) {
        let Lookup::Found(addrs) = ctx.engine.dns.addresses(host) else {
            continue;
        };
        let ours = addrs.iter().any(|a| {
            let literal = format!("[{a}]");
            let local = &ctx.engine.settings.resolver.local;
            local.is_local(&literal).unwrap_or(false)
        });
        match (*pref == best, ours) {
            // RFC 5321 §5.1: the primary delivers itself; no backup.
            (true, true) => return Step::Dunno,
            (true, false) => primary_addrs.extend(addrs.iter().map(|a| (host.clone(), *a))),
            (false, true) => backup = true,
            (false, false) => {}
        }
    }
    if !backup {
        return Step::Dunno;
    }
    let networks = &ctx.engine.settings.mx_backup_networks;
    if networks.is_empty() || primary_addrs.iter().any(|(h, a)| networks.matches(h, *a)) {
        return Step::Permit;
    }
    Step::Dunno
}
