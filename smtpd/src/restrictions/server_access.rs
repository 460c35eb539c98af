//! `check_{client,reverse_client_hostname,helo,sender,recipient}_{a,mx,ns}_access`
//! (Postfix `check_server_access`): the access table is searched for the
//! names and addresses of the hosts that serve the target name, looked
//! up through [`super::Dns`].

use postmap::maps::Key;

use super::access::{Search, address_keys, domain, lookup, result};
use super::dns::Lookup;
use super::generic::{Ctx, Step};

/// `check_<target>_{a,mx,ns}_access spec`: look up the host names and
/// addresses of the target's A, MX or NS hosts. OK is not allowed there;
/// it counts as DUNNO. No MX means the domain itself is the host; no NS
/// means the parent domain's; a null MX host is skipped. A DNS failure
/// skips the check with Postfix's warning.
pub(crate) fn check(ctx: &mut Ctx<'_>, name: &str, spec: &str) -> Step {
    if !ctx.engine.settings.access.contains_key(spec) {
        ctx.warn(format!("access table {spec} was not opened"));
        return ctx.server_error();
    }
    let name = name.to_ascii_lowercase();
    let Some((class, whole, target)) = dns_target(ctx, &name) else {
        return Step::Dunno;
    };
    let kind = if name.ends_with("_mx_access") {
        "MX"
    } else if name.ends_with("_ns_access") {
        "NS"
    } else {
        "A"
    };
    let Some(hosts) = server_hosts(ctx, kind, &whole, &target) else {
        return Step::Dunno;
    };
    for host in hosts.iter().filter(|h| !h.is_empty()) {
        let found = match kind {
            "A" => Ok(Search::Missed),
            _ => domain(ctx, spec, host, Key::Full),
        };
        let mut step = match found {
            Ok(Search::Found(step)) => step,
            Ok(Search::Missed) => {
                let about = format!("{class} {whole}");
                host_addresses(ctx, spec, kind, host, &about)
            }
            Err(step) => return step,
        };
        if step == Step::Permit {
            ctx.warn(format!(
                "{name}: {spec}: OK action is not allowed; using DUNNO"
            ));
            step = Step::Dunno;
        }
        if step != Step::Dunno {
            return step;
        }
    }
    Step::Dunno
}

/// The hosts to check, or None after a warning (Postfix
/// `check_server_access`): MX hosts or the domain itself; NS hosts of
/// the domain or of its closest parent that has some.
fn server_hosts(ctx: &mut Ctx<'_>, kind: &str, whole: &str, target: &str) -> Option<Vec<String>> {
    let dns = &ctx.engine.dns;
    let mut domain = target;
    let found = match kind {
        "MX" => match dns.mx_hosts(target) {
            Lookup::NotFound => Lookup::Found(vec![target.to_string()]),
            other => other,
        },
        "NS" => loop {
            match dns.ns_hosts(domain) {
                Lookup::NotFound => match domain.split_once('.') {
                    Some((_, parent)) if !parent.is_empty() => domain = parent,
                    _ => {
                        domain = "";
                        break Lookup::NotFound;
                    }
                },
                other => break other,
            }
        },
        _ => Lookup::Found(vec![target.to_string()]),
    };
    let why = match found {
        Lookup::Found(hosts) => return Some(hosts),
        Lookup::NotFound => "Host not found",
        Lookup::TempFail => "Temporary failure",
    };
    let what = if domain.is_empty() { whole } else { domain };
    ctx.warn(format!("Unable to look up {kind} host for {what}: {why}"));
    None
}

/// What `check_<target>_*_access` is about: its reply class, the name
/// whole (for warnings) and the domain to look up, which is the part
/// after the last `@`, if any.
fn dns_target(ctx: &Ctx<'_>, name: &str) -> Option<(&'static str, String, String)> {
    let s = &ctx.state;
    let known = |n: &str| Some(n.to_string()).filter(|n| n != "unknown");
    let (class, whole) = if name.starts_with("check_reverse_client_hostname_") {
        ("Client host", known(&s.client.reverse_name))
    } else if name.starts_with("check_client_") {
        ("Client host", known(&s.client.name))
    } else if name.starts_with("check_helo_") {
        ("Helo command", s.helo.clone())
    } else if name.starts_with("check_sender_") {
        ("Sender address", s.sender.clone())
    } else {
        ("Recipient address", s.recipient.clone())
    };
    let whole = whole?;
    let domain = whole.rsplit_once('@').map_or(whole.as_str(), |(_, d)| d);
    let domain = domain.strip_suffix('.').unwrap_or(domain).to_string();
    if domain.is_empty() || domain.starts_with('[') {
        return None;
    }
    Some((class, whole, domain))
}

fn host_addresses(ctx: &mut Ctx<'_>, spec: &str, kind: &str, host: &str, about: &str) -> Step {
    let addrs = match ctx.engine.dns.addresses(host) {
        Lookup::Found(addrs) => addrs,
        failed => {
            // getaddrinfo's texts, as in the fixtures Postfix recorded.
            let why = match failed {
                Lookup::TempFail => "Temporary failure in name resolution",
                _ => "hostname nor servname provided, or not known",
            };
            ctx.warn(format!(
                "Unable to look up {kind} host {host} for {about}: {why}"
            ));
            return Step::Dunno;
        }
    };
    for addr in addrs {
        let text = addr.to_string();
        for (i, key) in address_keys(&text).iter().enumerate() {
            let kind = if i == 0 { Key::Full } else { Key::Partial };
            match lookup(ctx, spec, key, kind) {
                Ok(Some(v)) => return result(ctx, spec, &v, key),
                Ok(None) => {}
                Err(step) => return step,
            }
        }
    }
    Step::Dunno
}
