//! `smtpd_dns_reply_filter` (Postfix `dns_rr_filter`): each DNS record
//! is matched as text, `name. TTL IN TYPE data`, against a table; IGNORE
//! drops it, any other action is an error. Lookups that the restrictions
//! make go through [`Answer`], which adds the filter's outcomes to
//! [`Lookup`]'s: a filtered-out answer is neither "found" nor "not found".

use std::net::{Ipv4Addr, Ipv6Addr};

use postmap::maps::Key;

use super::dns::Lookup;
use super::generic::Ctx;

/// A filtered lookup result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer<T> {
    Found(Vec<T>),
    NotFound,
    /// Temporary failure (`DNS_RETRY`).
    Retry,
    /// The filter gave an action other than IGNORE (`DNS_RETRY` too,
    /// but DNSBL lookups tell it apart: "Invalid DNS reply filter syntax").
    Invalid,
    /// The filter dropped every record (`DNS_POLICY`).
    Policy,
}

/// Records of one type: their data text for the filter, and the value.
fn filter<T>(
    ctx: &mut Ctx<'_>,
    name: &str,
    kind: &str,
    found: Lookup<Vec<(String, T)>>,
) -> Answer<T> {
    let records = match found {
        Lookup::Found(r) => r,
        Lookup::NotFound => return Answer::NotFound,
        Lookup::TempFail => return Answer::Retry,
    };
    if ctx.engine.settings.dns_reply_filter.is_empty() {
        return Answer::Found(records.into_iter().map(|(_, v)| v).collect());
    }
    let mut kept = Vec::new();
    for (data, value) in records {
        let text = format!("{}. TTL IN {kind} {data}", name.trim_end_matches('.'));
        let found = ctx.engine.settings.dns_reply_filter.find(&text, Key::Full);
        let action = match found {
            Ok(Some(action)) => action,
            Ok(None) => {
                kept.push(value);
                continue;
            }
            Err(e) => {
                ctx.warn(super::checks::map_warning(&e));
                return Answer::Retry;
            }
        };
        let word = action.split_whitespace().next().unwrap_or_default();
        if !word.eq_ignore_ascii_case("ignore") {
            ctx.warn(format!(
                "smtpd_dns_reply_filter: unknown DNS filter action: \"{word}\""
            ));
            return Answer::Invalid;
        }
        ctx.info(format!("ignoring DNS RR: {text}"));
    }
    if kept.is_empty() {
        Answer::Policy
    } else {
        Answer::Found(kept)
    }
}

fn pairs<T: Clone + ToString>(found: Lookup<Vec<T>>) -> Lookup<Vec<(String, T)>> {
    match found {
        Lookup::Found(v) => Lookup::Found(v.into_iter().map(|x| (x.to_string(), x)).collect()),
        Lookup::NotFound => Lookup::NotFound,
        Lookup::TempFail => Lookup::TempFail,
    }
}

pub(crate) fn a(ctx: &mut Ctx<'_>, name: &str) -> Answer<Ipv4Addr> {
    let found = pairs(ctx.engine.dns.a_records(name));
    filter(ctx, name, "A", found)
}

pub(crate) fn aaaa(ctx: &mut Ctx<'_>, name: &str) -> Answer<Ipv6Addr> {
    let found = pairs(ctx.engine.dns.aaaa_records(name));
    filter(ctx, name, "AAAA", found)
}

pub(crate) fn txt(ctx: &mut Ctx<'_>, name: &str) -> Answer<String> {
    let found = pairs(ctx.engine.dns.txt_records(name));
    filter(ctx, name, "TXT", found)
}

/// MX records, best first; a null MX is returned unfiltered, as Postfix
/// recognises it before the filter runs.
pub(crate) fn mx(ctx: &mut Ctx<'_>, name: &str) -> Answer<(u16, String)> {
    let found = match ctx.engine.dns.mx_records(name) {
        Lookup::Found(r) if r.iter().all(|(_, h)| h.is_empty()) => return Answer::Found(r),
        Lookup::Found(r) => Lookup::Found(
            r.into_iter()
                .map(|(p, h)| (format!("{p} {h}."), (p, h)))
                .collect(),
        ),
        Lookup::NotFound => Lookup::NotFound,
        Lookup::TempFail => Lookup::TempFail,
    };
    filter(ctx, name, "MX", found)
}

/// The record types [`exists`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    A,
    Aaaa,
    Mx,
}

/// Postfix `dns_lookup_l` with "stop at the first success": the types in
/// order; else a temporary failure, else a filter policy drop, else "not
/// found". A null MX is not a success.
pub(crate) fn exists(ctx: &mut Ctx<'_>, name: &str, types: &[Type]) -> Answer<()> {
    let mut status = Answer::NotFound;
    for t in types {
        let answer = match t {
            Type::A => unit(a(ctx, name)),
            Type::Aaaa => unit(aaaa(ctx, name)),
            Type::Mx => match mx(ctx, name) {
                Answer::Found(r) if r.iter().all(|(_, h)| h.is_empty()) => Answer::NotFound,
                other => unit(other),
            },
        };
        status = combine(status, answer);
        if status == Answer::Found(Vec::new()) {
            break;
        }
    }
    status
}

/// The better of two outcomes: found, else retry, else policy.
pub(crate) fn combine(a: Answer<()>, b: Answer<()>) -> Answer<()> {
    use Answer::*;
    match (a, b) {
        (Found(_), _) | (_, Found(_)) => Found(Vec::new()),
        (Retry | Invalid, _) | (_, Retry | Invalid) => Retry,
        (Policy, _) | (_, Policy) => Policy,
        _ => NotFound,
    }
}

pub(crate) fn unit<T>(answer: Answer<T>) -> Answer<()> {
    match answer {
        Answer::Found(_) => Answer::Found(Vec::new()),
        Answer::NotFound => Answer::NotFound,
        Answer::Retry | Answer::Invalid => Answer::Retry,
        Answer::Policy => Answer::Policy,
    }
}
