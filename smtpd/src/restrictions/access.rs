//! Access maps (`check_*_access`, Postfix `check_access` and friends):
//! the key search orders for host names, addresses and email addresses,
//! and what a found value means (OK, REJECT, DEFER, DUNNO, HOLD,
//! DISCARD, FILTER, REDIRECT, BCC, PREPEND, WARN, INFO, `4xx`/`5xx`
//! text, or a list of restrictions). The first key *found* decides,
//! even when its value is DUNNO.

use address::find::{self, Form, Query, QueryForm, Strategy};
use postmap::maps::{self, Key};

use super::generic::{Ctx, Step};
use super::list::{self, Restriction as R};
use super::{Stage, resolve};

/// A search that found something decides; one that failed has already
/// produced its reply.
pub(super) enum Search {
    Found(Step),
    Missed,
}

/// `check_<what>_access spec`. Replies name what was checked, not the
/// stage: `check_helo_access` in the recipient list rejects with
/// "<helo>: Helo command rejected" (Postfix passes the reply class of
/// the target), so the check runs as the target's stage.
pub(crate) fn check(ctx: &mut Ctx<'_>, r: R, spec: &str) -> Step {
    if !ctx.engine.settings.access.contains_key(spec) {
        ctx.warn(format!("access table {spec} was not opened"));
        return ctx.server_error();
    }
    let stage = ctx.stage;
    ctx.stage = match r {
        R::CheckClientAccess | R::CheckReverseClientHostnameAccess => Stage::Client,
        R::CheckHeloAccess => Stage::Helo,
        R::CheckSenderAccess => Stage::Sender,
        R::CheckRecipientAccess if !matches!(stage, Stage::Recipient | Stage::Relay) => {
            Stage::Recipient
        }
        _ => stage,
    };
    let step = check_target(ctx, r, spec);
    ctx.stage = stage;
    step
}

fn check_target(ctx: &mut Ctx<'_>, r: R, spec: &str) -> Step {
    let state = &ctx.state;
    let search = match r {
        R::CheckClientAccess => {
            let (name, addr) = (state.client.name.clone(), state.client.addr.clone());
            namadr(ctx, spec, &name, &addr)
        }
        R::CheckReverseClientHostnameAccess => {
            let (name, addr) = (state.client.reverse_name.clone(), state.client.addr.clone());
            namadr(ctx, spec, &name, &addr)
        }
        R::CheckHeloAccess => match state.helo.clone() {
            Some(helo) => domain(ctx, spec, &helo, Key::Full),
            None => Ok(Search::Missed),
        },
        R::CheckSenderAccess => match state.sender.clone() {
            Some(sender) if sender.is_empty() => null_sender(ctx, spec),
            Some(sender) => mail(ctx, spec, &sender),
            None => Ok(Search::Missed),
        },
        R::CheckRecipientAccess => match state.recipient.clone() {
            Some(rcpt) => mail(ctx, spec, &rcpt),
            None => Ok(Search::Missed),
        },
        R::CheckEtrnAccess => match state.etrn_domain.clone() {
            Some(d) => domain(ctx, spec, &d, Key::Full),
            None => Ok(Search::Missed),
        },
        R::CheckSaslAccess => match state.sasl_username.clone() {
            Some(user) => first_of(ctx, spec, &[&user]),
            None => Ok(Search::Missed),
        },
        R::CheckCcertAccess => match state.tls.clone() {
            Some(tls) => first_of(ctx, spec, &[&tls.cert_fingerprint, &tls.pkey_fingerprint]),
            None => Ok(Search::Missed),
        },
        _ => Ok(Search::Missed),
    };
    match search {
        Ok(Search::Found(step)) => step,
        Ok(Search::Missed) => Step::Dunno,
        Err(step) => step,
    }
}

/// Look `key` up in table `spec`; a failure logs Postfix's warning and
/// becomes `451 4.3.5 ... Server configuration error`.
pub(super) fn lookup(
    ctx: &mut Ctx<'_>,
    spec: &str,
    key: &str,
    kind: Key,
) -> Result<Option<String>, Step> {
    let maps = &ctx.engine.settings.access[spec];
    match maps.find(key, kind) {
        Ok(found) => Ok(found),
        Err(e) => Err(table_error(ctx, &e)),
    }
}

fn table_error(ctx: &mut Ctx<'_>, e: &maps::Error) -> Step {
    let warning = match e {
        maps::Error::Table { spec, key, .. } => format!("{spec} lookup error for \"{key}\""),
        other => other.to_string(),
    };
    ctx.warn(warning);
    ctx.server_error()
}

fn found(ctx: &mut Ctx<'_>, spec: &str, value: &str, key: &str) -> Search {
    Search::Found(result(ctx, spec, value, key))
}

/// The first of `keys` that is found.
fn first_of(ctx: &mut Ctx<'_>, spec: &str, keys: &[&str]) -> Result<Search, Step> {
    for key in keys {
        if let Some(v) = lookup(ctx, spec, &key.to_lowercase(), Key::Full)? {
            return Ok(found(ctx, spec, &v, key));
        }
    }
    Ok(Search::Missed)
}

/// The null sender: `$smtpd_null_access_lookup_key` only.
fn null_sender(ctx: &mut Ctx<'_>, spec: &str) -> Result<Search, Step> {
    let key = ctx.engine.settings.null_access_key.clone();
    if key.is_empty() {
        return Ok(Search::Missed);
    }
    match lookup(ctx, spec, &key, Key::Full)? {
        Some(v) => Ok(found(ctx, spec, &v, &key)),
        None => Ok(Search::Missed),
    }
}

/// Client: the name and its parent domains, then the address and its
/// shorter prefixes.
fn namadr(ctx: &mut Ctx<'_>, spec: &str, name: &str, addr: &str) -> Result<Search, Step> {
    if let Search::Found(step) = domain(ctx, spec, name, Key::Full)? {
        return Ok(Search::Found(step));
    }
    for (i, key) in address_keys(addr).iter().enumerate() {
        let kind = if i == 0 { Key::Full } else { Key::Partial };
        if let Some(v) = lookup(ctx, spec, key, kind)? {
            return Ok(found(ctx, spec, &v, key));
        }
    }
    Ok(Search::Missed)
}

/// `1.2.3.4`, `1.2.3`, `1.2`, `1`; IPv6 cut at each last `:`.
pub fn address_keys(addr: &str) -> Vec<String> {
    let addr = addr.to_lowercase();
    let delim = if addr.contains(':') { ':' } else { '.' };
    let mut keys = vec![addr.clone()];
    let mut rest = addr.as_str();
    while let Some(cut) = rest.rfind(delim) {
        rest = &rest[..cut];
        if rest.is_empty() {
            break;
        }
        keys.push(rest.to_string());
    }
    keys
}

/// A host or domain name, then its parents (`b.tld`, `tld`, or `.b.tld`,
/// `.tld` when `smtpd_access_maps` is not in
/// `parent_domain_matches_subdomains`).
pub fn domain_keys(name: &str, parent_style: bool) -> Vec<String> {
    let name = match name.strip_suffix('.') {
        Some(n) if !n.ends_with('.') => n,
        _ => name,
    };
    let name = name.to_lowercase();
    let mut keys = vec![name.clone()];
    let mut rest = name.as_str();
    while let Some(dot) = rest.get(1..).and_then(|r| r.find('.')).map(|d| d + 1) {
        let next = if parent_style {
            &rest[dot + 1..]
        } else {
            &rest[dot..]
        };
        if next.is_empty() || next == "." {
            break;
        }
        keys.push(next.to_string());
        rest = &rest[dot..];
    }
    keys
}

pub(super) fn domain(
    ctx: &mut Ctx<'_>,
    spec: &str,
    name: &str,
    first: Key,
) -> Result<Search, Step> {
    let parent_style = ctx.engine.settings.parent_style;
    for (i, key) in domain_keys(name, parent_style).iter().enumerate() {
        let kind = if i == 0 { first } else { Key::Partial };
        if let Some(v) = lookup(ctx, spec, key, kind)? {
            return Ok(found(ctx, spec, &v, key));
        }
    }
    Ok(Search::Missed)
}

/// An email address: `user+ext@domain`, `user@domain`, the domain and its
/// parents, `user+ext@`, `user@`.
fn mail(ctx: &mut Ctx<'_>, spec: &str, address: &str) -> Result<Search, Step> {
    let settings = &ctx.engine.settings;
    let parents = if settings.parent_style {
        Strategy::PDMS
    } else {
        Strategy::PDDMDS
    };
    let query = Query {
        address,
        input: Form::Internal,
        keys: QueryForm::Internal,
        output: Form::Internal,
        strategy: Strategy::FULL
            | Strategy::NOEXT
            | Strategy::DOMAIN
            | parents
            | Strategy::LOCALPART_AT,
    };
    let maps = &settings.access[spec];
    let mut last_key = String::new();
    let searched = find::search(&query, &settings.search, |key, kind| {
        last_key = key.to_string();
        maps.find(key, kind)
    });
    let value = match searched {
        Ok(Some(f)) => f.value,
        Ok(None) => return Ok(Search::Missed),
        Err(find::Error::Table(e)) => return Err(table_error(ctx, &e)),
        Err(e) => {
            ctx.warn(e.to_string());
            return Err(ctx.server_error());
        }
    };
    let step = result(ctx, spec, &value, &last_key);
    // Mail with sender-specified routing never gets an OK from a
    // recipient table (allow_untrusted_routing).
    if step == Step::Permit && ctx.stage != Stage::Sender && is_routed(ctx, address) {
        return Ok(Search::Found(Step::Dunno));
    }
    Ok(Search::Found(step))
}

fn is_routed(ctx: &Ctx<'_>, address: &str) -> bool {
    !ctx.engine.settings.allow_untrusted_routing && resolve::Resolved::is_routed_address(address)
}

/// Split `ACTION text`: the action word and the text after white space.
fn split_action(value: &str) -> (&str, &str) {
    let value = value.trim_start();
    match value.find(char::is_whitespace) {
        Some(at) => (&value[..at], value[at..].trim_start()),
        None => (value, ""),
    }
}

/// Split a leading enhanced status code (`4.1.1 text`) off `text`.
fn split_dsn<'a>(default: &'a str, text: &'a str) -> (&'a str, &'a str) {
    let (word, rest) = split_action(text);
    let valid = word.parse::<queue::reply::EnhancedStatus>().is_ok();
    if valid && matches!(word.as_bytes().first(), Some(b'2' | b'4' | b'5')) {
        (word, rest)
    } else {
        (default, text)
    }
}

/// What the value found for `key` in table `spec` means.
pub(super) fn result(ctx: &mut Ctx<'_>, spec: &str, value: &str, key: &str) -> Step {
    let (action, text) = split_action(value);
    let is = |name: &str| action.eq_ignore_ascii_case(name);
    let codes = ctx.engine.settings.codes.clone();
    if is("OK") || is("RELAY") || (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())) {
        return Step::Permit;
    }
    if is("DUNNO") {
        return Step::Dunno;
    }
    if is("REJECT") {
        return reject(ctx, codes.access_reject, "5.7.1", text, "Access denied");
    }
    if is("DEFER") {
        return reject(ctx, codes.access_defer, "4.7.1", text, "Access denied");
    }
    if is("DEFER_IF_REJECT") || is("DEFER_IF_PERMIT") {
        let (dsn, text) = split_dsn("4.7.1", text);
        let dsn = dsn_fix(ctx, dsn);
        let text = if text.is_empty() {
            "Service unavailable"
        } else {
            text
        };
        let text = format!("<{}>: {} rejected: {text}", ctx.reply_name(), ctx.class());
        match is("DEFER_IF_REJECT") {
            true => ctx.defer_if_reject(codes.access_defer, &dsn, text),
            false => ctx.defer_if_permit(codes.access_defer, &dsn, text),
        }
        return Step::Dunno;
    }
    if let Some(step) = message_action(ctx, spec, action, text, key) {
        return step;
    }
    if let Some(step) = numeric(ctx, value) {
        return step;
    }
    restriction_list(ctx, spec, value, key)
}

/// REJECT/DEFER with optional `X.Y.Z` and text.
fn reject(ctx: &mut Ctx<'_>, code: u16, default_dsn: &str, text: &str, default: &str) -> Step {
    let (dsn, text) = split_dsn(default_dsn, text);
    let dsn = dsn_fix(ctx, dsn);
    let text = if text.is_empty() { default } else { text };
    ctx.reject_class(code, &dsn, text)
}

/// `4NN text` / `5NN text`.
fn numeric(ctx: &mut Ctx<'_>, value: &str) -> Option<Step> {
    let b = value.as_bytes();
    if b.len() < 4 || !b[..3].iter().all(u8::is_ascii_digit) || !b[3].is_ascii_whitespace() {
        return None;
    }
    let code: u16 = value[..3].parse().ok()?;
    if !matches!(b[0], b'4' | b'5') {
        return None;
    }
    let default_dsn = if b[0] == b'4' { "4.7.1" } else { "5.7.1" };
    Some(reject(
        ctx,
        code,
        default_dsn,
        value[4..].trim_start(),
        "Access denied",
    ))
}

/// Actions on the message: HOLD, DISCARD, FILTER, REDIRECT, BCC,
/// PREPEND, WARN, INFO.
fn message_action(
    ctx: &mut Ctx<'_>,
    spec: &str,
    action: &str,
    text: &str,
    key: &str,
) -> Option<Step> {
    let action = action.to_ascii_uppercase();
    let entry = |problem: &str| format!("access table {spec} entry \"{key}\" {problem}");
    let transaction_only = ["HOLD", "DISCARD", "FILTER", "REDIRECT", "BCC", "PREPEND"];
    if transaction_only.contains(&action.as_str()) && ctx.stage == Stage::Etrn {
        ctx.warn(format!(
            "access table {spec}: action {action} is unavailable in smtpd_etrn_restrictions"
        ));
        return Some(Step::Dunno);
    }
    // Without a transaction (client and HELO checks with
    // smtpd_delay_reject=no) there is no message to act on.
    if transaction_only.contains(&action.as_str()) && ctx.state.sender.is_none() {
        ctx.warn(format!(
            "access table {spec}: with smtpd_delay_reject=no, action {action} is always \
             skipped in {} or {} restrictions",
            Stage::Client.class(),
            Stage::Helo.class()
        ));
        return Some(Step::Dunno);
    }
    let step = match action.as_str() {
        "HOLD" | "DISCARD" => hold_or_discard(ctx, &action, text),
        "FILTER" | "REDIRECT" | "BCC" => redirect(ctx, spec, &action, text, key),
        "PREPEND" if ctx.stage == Stage::EndOfData => {
            ctx.warn(format!(
                "access table {spec}: action PREPEND must be used before \
                 smtpd_end_of_data_restrictions"
            ));
            Step::Dunno
        }
        "PREPEND" => {
            let is_header = text
                .split_once(':')
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic()));
            if is_header {
                ctx.state.actions.prepend.push(text.to_string());
            } else {
                ctx.warn(entry("requires header: text"));
            }
            Step::Dunno
        }
        "WARN" | "INFO" => {
            ctx.whatsup(&action.to_ascii_lowercase(), text);
            Step::Dunno
        }
        _ => return None,
    };
    Some(step)
}

/// HOLD and DISCARD, with optional text for the log.
fn hold_or_discard(ctx: &mut Ctx<'_>, action: &str, text: &str) -> Step {
    let (name, class) = (ctx.reply_name(), ctx.class());
    let default = format!("triggers {action} action");
    let shown = if text.is_empty() {
        default.as_str()
    } else {
        text
    };
    ctx.whatsup(
        &action.to_ascii_lowercase(),
        &format!("<{name}>: {class} {shown}"),
    );
    if action == "HOLD" {
        ctx.state.actions.hold = true;
        Step::Dunno
    } else {
        ctx.state.actions.discard = true;
        Step::Permit
    }
}

/// FILTER `transport:destination`, REDIRECT and BCC `user@domain`.
fn redirect(ctx: &mut Ctx<'_>, spec: &str, action: &str, text: &str, key: &str) -> Step {
    let (name, class) = (ctx.reply_name(), ctx.class());
    let entry = |problem: &str| format!("access table {spec} entry \"{key}\" {problem}");
    let needs = if action == "FILTER" { ':' } else { '@' };
    if text.is_empty() && needs == ':' {
        ctx.warn(entry(&format!("has {action} entry without value")));
    } else if !text.contains(needs) {
        let what = if needs == ':' {
            "transport:destination"
        } else {
            "user@domain target"
        };
        ctx.warn(entry(&format!("requires {what}")));
    } else {
        let line = format!("<{name}>: {class} triggers {action} {text}");
        ctx.whatsup(&action.to_ascii_lowercase(), &line);
        let actions = &mut ctx.state.actions;
        match action {
            "FILTER" => actions.filter = Some(text.to_string()),
            "REDIRECT" => actions.redirect = Some(text.to_string()),
            _ => actions.bcc.push(text.to_string()),
        }
    }
    Step::Dunno
}

/// A value that names restrictions (`reject`, a class name, ...).
fn restriction_list(ctx: &mut Ctx<'_>, spec: &str, value: &str, key: &str) -> Step {
    let items = list::parse(value);
    if value.contains(':') {
        ctx.warn(format!(
            "access table {spec} has entry with lookup table: {value}"
        ));
        ctx.warn("do not specify lookup tables inside SMTPD access maps");
        ctx.warn("define a restriction class and specify its name instead.");
        return ctx.server_error();
    }
    if items.is_empty() {
        ctx.warn(format!("access table {spec} entry {key} has empty value"));
        return Step::Permit;
    }
    ctx.eval(&items)
}

/// Fix the `X.1.Y` of an address status to what is rejected (Postfix
/// `smtpd_dsn_fix`), logging a change.
fn dsn_fix(ctx: &mut Ctx<'_>, dsn: &str) -> String {
    let fixed = fixed_dsn(dsn, ctx.stage);
    if fixed != dsn {
        let class = ctx.class();
        ctx.info(format!(
            "mapping DSN status {dsn} into {class} status {fixed}"
        ));
    }
    fixed
}

/// The pure part of [`dsn_fix`].
pub fn fixed_dsn(dsn: &str, stage: Stage) -> String {
    let Some(detail) = dsn.get(1..).and_then(|d| d.strip_prefix(".1.")) else {
        return dsn.to_string();
    };
    let class = &dsn[..1];
    let detail = match stage {
        Stage::Sender => match detail {
            "1" | "3" | "4" | "6" | "7" => "1.7",
            "2" | "8" => "1.8",
            _ => "1.0",
        },
        Stage::Recipient | Stage::Relay => match detail {
            "1" | "2" | "3" | "4" | "5" | "6" => return dsn.to_string(),
            "7" => "1.3",
            "8" => "1.2",
            _ => "1.0",
        },
        _ => "0.0",
    };
    format!("{class}.{detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_then_parents() {
        assert_eq!(
            domain_keys("a.b.Example.", true),
            ["a.b.example", "b.example", "example"]
        );
        assert_eq!(domain_keys("a.b.c", false), ["a.b.c", ".b.c", ".c"]);
        assert_eq!(domain_keys("host", true), ["host"]);
    }

    #[test]
    fn addresses_then_shorter_prefixes() {
        assert_eq!(address_keys("1.2.3.4"), ["1.2.3.4", "1.2.3", "1.2", "1"]);
        assert_eq!(
            address_keys("2001:db8:1:2::5"),
            [
                "2001:db8:1:2::5",
                "2001:db8:1:2:",
                "2001:db8:1:2",
                "2001:db8:1",
                "2001:db8",
                "2001"
            ]
        );
        assert_eq!(address_keys("dummy"), ["dummy"]);
    }

    #[test]
    fn address_statuses_follow_the_class() {
        assert_eq!(fixed_dsn("4.1.1", Stage::Client), "4.0.0");
        assert_eq!(fixed_dsn("4.1.2", Stage::Sender), "4.1.8");
        assert_eq!(fixed_dsn("4.1.5", Stage::Sender), "4.1.0");
        assert_eq!(fixed_dsn("4.1.5", Stage::Recipient), "4.1.5");
        assert_eq!(fixed_dsn("4.1.7", Stage::Recipient), "4.1.3");
        assert_eq!(fixed_dsn("4.4.0", Stage::Helo), "4.4.0");
    }

    #[test]
    fn actions_and_dsn_split() {
        assert_eq!(split_action("REJECT  go away"), ("REJECT", "go away"));
        assert_eq!(split_action("ok"), ("ok", ""));
        assert_eq!(split_dsn("5.7.1", "4.1.1 reject"), ("4.1.1", "reject"));
        assert_eq!(split_dsn("5.7.1", "match x"), ("5.7.1", "match x"));
        assert!(Resolved::is_routed_address("a%b@c"));
        assert!(!Resolved::is_routed_address("a@c"));
    }

    use super::resolve::Resolved;
}
