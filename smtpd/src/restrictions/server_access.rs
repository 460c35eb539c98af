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
/// it counts as DUNNO. No MX means the domain itself is the host; a DNS
/// failure skips the check.
pub(crate) fn check(ctx: &mut Ctx<'_>, name: &str, spec: &str) -> Step {
    if !ctx.engine.settings.access.contains_key(spec) {
        ctx.warn(format!("access table {spec} was not opened"));
        return ctx.server_error();
    }
    let name = name.to_ascii_lowercase();
    let Some(target) = dns_target(ctx, &name) else {
        return Step::Dunno;
    };
    let dns = &ctx.engine.dns;
    let hosts = if name.ends_with("_mx_access") {
        match dns.mx_hosts(&target) {
            Lookup::Found(hosts) => hosts,
            Lookup::NotFound => vec![target],
            Lookup::TempFail => return Step::Dunno,
        }
    } else if name.ends_with("_ns_access") {
        match dns.ns_hosts(&target) {
            Lookup::Found(hosts) => hosts,
            _ => return Step::Dunno,
        }
    } else {
        vec![target]
    };
    for host in hosts {
        let mut step = match domain(ctx, spec, &host, Key::Full) {
            Ok(Search::Found(step)) => step,
            Ok(Search::Missed) => host_addresses(ctx, spec, &host),
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

/// The name `check_<target>_*_access` is about.
fn dns_target(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    let s = &ctx.state;
    let domain_of = |a: &Option<String>| {
        a.as_deref()
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d.to_string())
    };
    let known = |n: &str| Some(n.to_string()).filter(|n| n != "unknown");
    let target = if name.starts_with("check_reverse_client_hostname_") {
        known(&s.client.reverse_name)
    } else if name.starts_with("check_client_") {
        known(&s.client.name)
    } else if name.starts_with("check_helo_") {
        s.helo.clone().filter(|h| !h.starts_with('['))
    } else if name.starts_with("check_sender_") {
        domain_of(&s.sender)
    } else {
        domain_of(&s.recipient)
    };
    target.filter(|t| !t.is_empty())
}

fn host_addresses(ctx: &mut Ctx<'_>, spec: &str, host: &str) -> Step {
    let Lookup::Found(addrs) = ctx.engine.dns.addresses(host) else {
        return Step::Dunno;
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
