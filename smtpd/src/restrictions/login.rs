//! The sender-login restrictions (Postfix `reject_*_sender_login_mismatch`):
//! `smtpd_sender_login_maps` says which SASL logins own a sender address;
//! a client logged in as someone else, or not logged in at all, may not
//! use an owned address. Without `smtpd_sasl_auth_enable` they are
//! ignored with a warning, as in Postfix.

use address::find::{self, Form, Query, QueryForm, Strategy};

use super::checks::{map_warning, resolve};
use super::generic::{Ctx, ErrorClass, Step};
use super::list::Restriction as R;

/// `reject_authenticated_...` with `reject_known_...` allows a sender
/// nobody owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unknown {
    Allow,
    Forbid,
}

/// One of the four restrictions (`reject_sender_login_mismatch` runs as
/// the authenticated then the unauthenticated check, each warning on its
/// own when SASL is off, as Postfix's built-in class does).
pub(crate) fn check(ctx: &mut Ctx<'_>, r: R) -> Step {
    match r {
        R::RejectSenderLoginMismatch => {
            let step = check(ctx, R::RejectAuthSenderLoginMismatch);
            if step != Step::Dunno {
                return step;
            }
            check(ctx, R::RejectUnauthSenderLoginMismatch)
        }
        _ => check_one(ctx, r),
    }
}

fn check_one(ctx: &mut Ctx<'_>, r: R) -> Step {
    if !ctx.engine.settings.sasl_enable {
        let name = match r {
            R::RejectAuthSenderLoginMismatch => "reject_authenticated_sender_login_mismatch",
            R::RejectKnownSenderLoginMismatch => "reject_known_sender_login_mismatch",
            _ => "reject_unauthenticated_sender_login_mismatch",
        };
        ctx.warn(format!("restriction `{name}' ignored: no SASL support"));
        return Step::Dunno;
    }
    let sender = match ctx.state.sender.clone() {
        Some(sender) if !sender.is_empty() => sender,
        _ => return Step::Dunno,
    };
    let login = ctx.state.sasl_username.clone();
    let result = match (r, login) {
        (R::RejectAuthSenderLoginMismatch, Some(login)) => {
            authenticated(ctx, &sender, &login, Unknown::Forbid)
        }
        (R::RejectKnownSenderLoginMismatch, Some(login)) => {
            authenticated(ctx, &sender, &login, Unknown::Allow)
        }
        (R::RejectKnownSenderLoginMismatch | R::RejectUnauthSenderLoginMismatch, None) => {
            unauthenticated(ctx, &sender)
        }
        _ => Ok(Step::Dunno),
    };
    match result {
        Ok(step) | Err(step) => step,
    }
}

/// Postfix `reject_auth_sender_login_mismatch`: the login must be one of
/// the owners.
fn authenticated(
    ctx: &mut Ctx<'_>,
    sender: &str,
    login: &str,
    unknown: Unknown,
) -> Result<Step, Step> {
    let owners = match owners(ctx, sender)? {
        Some(owners) => owners,
        None if unknown == Unknown::Allow => return Ok(Step::Dunno),
        None => String::new(),
    };
    let owned = conf::list::split_plain(&owners).any(|o| o.eq_ignore_ascii_case(login));
    if owned {
        return Ok(Step::Dunno);
    }
    let text = format!("<{sender}>: Sender address rejected: not owned by user {login}");
    Ok(ctx.reject(ErrorClass::Policy, 553, "5.7.1", text))
}

/// Postfix `reject_unauth_sender_login_mismatch`: an owned address needs
/// a login.
fn unauthenticated(ctx: &mut Ctx<'_>, sender: &str) -> Result<Step, Step> {
    if owners(ctx, sender)?.is_none() {
        return Ok(Step::Dunno);
    }
    let text = format!("<{sender}>: Sender address rejected: not logged in");
    Ok(ctx.reject(ErrorClass::Policy, 553, "5.7.1", text))
}

/// The owners of `sender` (Postfix `check_mail_addr_find` on the
/// resolved address): `user@domain`, `user` when the domain is local,
/// then `@domain`, with and without the address extension.
fn owners(ctx: &mut Ctx<'_>, sender: &str) -> Result<Option<String>, Step> {
    let engine = ctx.engine;
    let settings = &engine.settings;
    let maps = &settings.sender_login_maps;
    if maps.is_empty() {
        return Ok(None);
    }
    let resolved = resolve(ctx, sender)?;
    let query = Query {
        address: &resolved.address,
        input: Form::Internal,
        keys: QueryForm::External,
        output: Form::Internal,
        strategy: Strategy::DEFAULT,
    };
    match find::find(maps, &query, &settings.search) {
        Ok(found) => Ok(found.map(|f| f.value)),
        Err(e) => {
            let warning = match &e {
                find::Error::Table(t) => map_warning(t),
                other => other.to_string(),
            };
            Err(ctx.lookup_failure(warning, sender))
        }
    }
}
