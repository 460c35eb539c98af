//! DNS block and allow lists: `reject_rbl_client`, `reject_rhsbl_*`,
//! `permit_dnswl_client`, `permit_rhswl_client`, with `zone=d.d.d.d`
//! answer filters. Replies use the text of Postfix's `default_rbl_reply`;
//! `rbl_reply_maps` templates are not expanded yet.

use super::dns::Lookup;
use super::dns_checks::POLICY;
use super::dns_filter::{self, Answer};
use super::generic::{Ctx, ErrorClass, Step};

/// `4.3.2.1` for `1.2.3.4`; IPv6 as nibbles.
pub(crate) fn reverse_ip(addr: &str) -> String {
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => {
            let o = a.octets();
            format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
        }
        Ok(std::net::IpAddr::V6(a)) => {
            let hex: String = a.octets().iter().map(|b| format!("{b:02x}")).collect();
            let nibbles: Vec<String> = hex.chars().rev().map(String::from).collect();
            nibbles.join(".")
        }
        Err(_) => String::new(),
    }
}

/// `zone=127.0.0.[2;4..6]`: does an answer pass the filter?
pub(crate) fn passes_filter(filter: Option<&str>, answer: std::net::Ipv4Addr) -> bool {
    let Some(filter) = filter else {
        return true;
    };
    let octets = answer.octets();
    let parts = octet_patterns(filter);
    parts.len() == 4
        && parts.iter().zip(octets).all(|(part, octet)| {
            let part = part.trim_start_matches('[').trim_end_matches(']');
            part.split(';').any(|item| match item.split_once("..") {
                Some((lo, hi)) => {
                    let (lo, hi) = (lo.parse().unwrap_or(256), hi.parse().unwrap_or(0));
                    (lo..=hi).contains(&u16::from(octet))
                }
                None => item.parse::<u16>() == Ok(u16::from(octet)),
            })
        })
}

/// Split `127.0.0.[2;4..6]` at the dots outside brackets.
fn octet_patterns(filter: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut depth) = (0, 0usize);
    for (i, c) in filter.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                parts.push(&filter[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&filter[start..]);
    parts
}

/// Look `name.zone` up: `Found(txt)` when listed and the filter passes.
pub(crate) fn listed(ctx: &mut Ctx<'_>, name: &str, arg: &str) -> Lookup<String> {
    let (zone, filter) = match arg.split_once('=') {
        Some((z, f)) => (z, Some(f)),
        None => (arg, None),
    };
    if name.is_empty() {
        return Lookup::NotFound;
    }
    let query = format!("{name}.{zone}");
    match dns_filter::a(ctx, &query) {
        Answer::Found(answers) if answers.iter().any(|a| passes_filter(filter, *a)) => {
            let txt = match dns_filter::txt(ctx, &query) {
                Answer::Found(t) => t.join(" "),
                Answer::Policy => {
                    ctx.warn(format!("{query}: TXT lookup error: {POLICY}"));
                    String::new()
                }
                _ => String::new(),
            };
            Lookup::Found(txt)
        }
        Answer::Policy => {
            ctx.warn(format!(
                "{query}: RBL lookup error: Error looking up name={query} type=A: {POLICY}"
            ));
            Lookup::NotFound
        }
        Answer::Invalid => {
            ctx.warn(format!(
                "{query}: RBL lookup error: Error looking up name={query} type=A: \
                 Invalid DNS reply filter syntax"
            ));
            Lookup::NotFound
        }
        Answer::Retry => Lookup::TempFail,
        _ => Lookup::NotFound,
    }
}

pub(crate) fn blocked(ctx: &mut Ctx<'_>, class: &str, what: &str, zone: &str, txt: &str) -> Step {
    let zone = zone.split('=').next().unwrap_or(zone);
    let settings = &ctx.engine.settings;
    let template = match settings.rbl_reply_maps.find(zone, postmap::maps::Key::Full) {
        Ok(Some(t)) => t,
        Ok(None) => settings.default_rbl_reply.clone(),
        Err(e) => {
            ctx.warn(super::checks::map_warning(&e));
            return ctx.server_error();
        }
    };
    let code = settings.codes.maps_rbl.to_string();
    let vars = template_vars(ctx, &code, class, what, zone, txt);
    let mut lookup = |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    };
    let expanded = conf::expand::expand(&template, false, &mut lookup).value;
    let expanded = expanded.replace(['\n', '\r'], " ");
    let digits = expanded
        .get(..3)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
    let Some(code) = digits.and_then(|d| d.parse::<u16>().ok()) else {
        ctx.warn(format!(
            "rbl_reply_maps: reply template for {zone} does not start with a reply code: {expanded}"
        ));
        return ctx.server_error();
    };
    let rest = expanded[3..].trim_start();
    let (dsn, text) = match rest.split_once(' ') {
        Some((d, t)) if d.parse::<queue::reply::EnhancedStatus>().is_ok() => (d, t),
        _ => ("5.7.1", rest),
    };
    ctx.reject(ErrorClass::Policy, code, dsn, text.to_string())
}

/// The `$name`s an RBL reply template may use.
fn template_vars(
    ctx: &Ctx<'_>,
    code: &str,
    class: &str,
    what: &str,
    zone: &str,
    txt: &str,
) -> Vec<(&'static str, String)> {
    let s = &ctx.state;
    let split = |a: &Option<String>| {
        let a = a.clone().unwrap_or_default();
        let (local, domain) = a.rsplit_once('@').unwrap_or((&a, ""));
        (local.to_string(), domain.to_string(), a.clone())
    };
    let (sender_name, sender_domain, sender) = split(&s.sender);
    let (rcpt_name, rcpt_domain, rcpt) = split(&s.recipient);
    vec![
        ("client", s.client.namaddr()),
        ("client_address", s.client.addr.clone()),
        ("client_name", s.client.name.clone()),
        ("reverse_client_name", s.client.reverse_name.clone()),
        ("helo_name", s.helo.clone().unwrap_or_default()),
        ("sender", sender),
        ("sender_name", sender_name),
        ("sender_domain", sender_domain),
        ("recipient", rcpt),
        ("recipient_name", rcpt_name),
        ("recipient_domain", rcpt_domain),
        ("rbl_code", code.to_string()),
        ("rbl_domain", zone.to_string()),
        ("rbl_txt", txt.to_string()),
        ("rbl_reason", txt.to_string()),
        ("rbl_what", what.to_string()),
        ("rbl_class", class.to_string()),
    ]
}

pub(crate) fn rbl_client(ctx: &mut Ctx<'_>, zone: &str) -> Step {
    let addr = ctx.state.client.addr.clone();
    match listed(ctx, &reverse_ip(&addr), zone) {
        Lookup::Found(txt) => blocked(ctx, "Client host", &addr, zone, &txt),
        _ => Step::Dunno,
    }
}

pub(crate) fn rhsbl(ctx: &mut Ctx<'_>, name: &str, zone: &str) -> Step {
    let s = &ctx.state;
    let domain_of = |a: &Option<String>| {
        a.as_deref()
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d.to_string())
    };
    // `$rbl_what` is the whole address for senders and recipients.
    let (class, target, what) = match name.to_ascii_lowercase().as_str() {
        "reject_rhsbl_client" => {
            let n = Some(s.client.name.clone()).filter(|n| n != "unknown");
            ("Client host", n.clone(), n)
        }
        "reject_rhsbl_reverse_client" => {
            let n = Some(s.client.reverse_name.clone()).filter(|n| n != "unknown");
            ("Unverified Client host", n.clone(), n)
        }
        "reject_rhsbl_helo" => ("Helo command", s.helo.clone(), s.helo.clone()),
        "reject_rhsbl_sender" => ("Sender address", domain_of(&s.sender), s.sender.clone()),
        _ => (
            "Recipient address",
            domain_of(&s.recipient),
            s.recipient.clone(),
        ),
    };
    let (Some(target), Some(what)) = (target, what) else {
        return Step::Dunno;
    };
    match listed(ctx, &target, zone) {
        Lookup::Found(txt) => blocked(ctx, class, &what, zone, &txt),
        _ => Step::Dunno,
    }
}

pub(crate) fn dnswl(ctx: &mut Ctx<'_>, name: &str, zone: &str) -> Step {
    match listed(ctx, name, zone) {
        Lookup::Found(_) if super::checks::permit_is_safe(ctx) => Step::Permit,
        Lookup::Found(_) => Step::Dunno,
        Lookup::TempFail => {
            let text = format!(
                "<{}>: {} rejected: Service unavailable",
                ctx.reply_name(),
                ctx.class()
            );
            ctx.defer_if_reject(450, "4.7.1", text);
            Step::Dunno
        }
        Lookup::NotFound => Step::Dunno,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnsbl_filters_and_reverse_names() {
        let a = |s: &str| s.parse::<std::net::Ipv4Addr>().expect("address");
        assert!(passes_filter(None, a("127.0.0.2")));
        assert!(passes_filter(Some("127.0.0.[2;4..6]"), a("127.0.0.5")));
        assert!(!passes_filter(Some("127.0.0.[2;4..6]"), a("127.0.0.3")));
        assert_eq!(reverse_ip("1.2.3.4"), "4.3.2.1");
        assert!(reverse_ip("::1").starts_with("1.0.0.0"));
        assert_eq!(reverse_ip("dummy"), "");
    }
}
