//! Evaluating a restriction list (Postfix `generic_checks`): left to
//! right, the first PERMIT or REJECT decides, DUNNO goes on. Also the
//! reject machinery every restriction shares (`smtpd_check_reject`:
//! `warn_if_reject`, `defer_if_reject`, code/DSN consistency, logging).

use queue::reply::Reply;

use super::context::{Pending, reply};
use super::list::{self, Restriction as R};
use super::{Engine, LogLine, Stage, State, Verdict, access, checks};

/// What one restriction decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Dunno,
    Permit,
    Reject(Reply),
}

/// Whether a reject may become a warning (`warn_if_reject`): not for a
/// configuration error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    Policy,
    Protocol,
    Resource,
    Software,
}

/// Nested restriction classes deeper than this are a configuration
/// error (Postfix's recursion limit).
const MAX_DEPTH: usize = 100;

/// One evaluation: the engine, the session and where the log goes.
pub(crate) struct Ctx<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) state: &'a mut State,
    pub(crate) stage: Stage,
    pub(crate) log: &'a mut Vec<LogLine>,
    depth: usize,
}

/// Run `items` as the list of `stage`.
pub(crate) fn run_list(
    engine: &Engine,
    state: &mut State,
    stage: Stage,
    items: &[String],
    log: &mut Vec<LogLine>,
) -> Verdict {
    state.defer_if_reject = None;
    state.warn_if_reject = false;
    let mut ctx = Ctx {
        engine,
        state,
        stage,
        log,
        depth: 0,
    };
    match ctx.eval(items) {
        Step::Reject(reply) => Verdict::Reject(reply),
        Step::Dunno | Step::Permit => Verdict::Accept,
    }
}

/// Reject now with a pending deferral (`defer_if_permit`).
pub(crate) fn reject_now(
    engine: &Engine,
    state: &mut State,
    pending: &Pending,
    log: &mut Vec<LogLine>,
) -> Verdict {
    let mut ctx = Ctx {
        engine,
        state,
        stage: Stage::Recipient,
        log,
        depth: 0,
    };
    let text = pending.text.clone();
    match ctx.reject(ErrorClass::Policy, pending.code, &pending.dsn, text) {
        Step::Reject(reply) => Verdict::Reject(reply),
        _ => Verdict::Accept,
    }
}

impl Ctx<'_> {
    /// What replies name: the client, HELO name, address or command.
    pub(crate) fn reply_name(&self) -> String {
        let s = &self.state;
        match self.stage {
            Stage::Client => s.client.namaddr(),
            Stage::Helo => s.helo.clone().unwrap_or_default(),
            Stage::Sender => s.sender.clone().unwrap_or_default(),
            Stage::Recipient | Stage::Relay => s.recipient.clone().unwrap_or_default(),
            Stage::Etrn => s.etrn_domain.clone().unwrap_or_default(),
            Stage::Data => "DATA".to_string(),
            Stage::EndOfData => "END-OF-MESSAGE".to_string(),
        }
    }

    pub(crate) fn class(&self) -> &'static str {
        self.stage.class()
    }

    pub(crate) fn warn(&mut self, text: impl Into<String>) {
        self.log.push(LogLine::warning(text));
    }

    pub(crate) fn info(&mut self, text: impl Into<String>) {
        self.log.push(LogLine::info(text));
    }

    /// Log `what` (`hold`, `filter`, ...) in Postfix's shape.
    pub(crate) fn whatsup(&mut self, what: &str, text: &str) {
        let line = self.state.whatsup(what, text);
        self.log.push(line);
    }

    /// Evaluate a list (or a restriction class).
    pub(crate) fn eval(&mut self, items: &[String]) -> Step {
        if self.depth >= MAX_DEPTH {
            self.warn("too many levels of nested restriction classes");
            return self.server_error();
        }
        self.depth += 1;
        let step = self.eval_items(items);
        self.depth -= 1;
        step
    }

    fn eval_items(&mut self, items: &[String]) -> Step {
        let mut i = 0;
        while i < items.len() {
            let name = &items[i];
            i += 1;
            let mut is_warn = false;
            let step = if list::is_table(name) {
                match self.stage.default_access() {
                    Some(r) => self.apply(r, name, Some(name)),
                    None => {
                        self.warn(format!(
                            "restriction \"{name}\" needs a check_*_access prefix in {}",
                            self.stage.parameter()
                        ));
                        self.server_error()
                    }
                }
            } else if let Some(r) = R::from_name(name) {
                is_warn = r == R::WarnIfReject;
                if let Some(w) = R::deprecation(name).filter(|_| self.first_use(r)) {
                    self.warn(w);
                }
                let arg = match r.takes_argument() {
                    true => match items.get(i) {
                        Some(arg) => {
                            i += 1;
                            Some(arg.as_str())
                        }
                        None => {
                            self.warn(format!(
                                "restriction {name} requires a table or value argument"
                            ));
                            return self.server_error();
                        }
                    },
                    false => None,
                };
                let step = self.apply(r, name, arg);
                if r.ends_list() && step != Step::Dunno && i < items.len() {
                    self.warn(format!(
                        "restriction `{}' after `{name}' is ignored",
                        items[i]
                    ));
                }
                step
            } else if let Some(class) = self.engine.classes.get(name.as_str()) {
                self.eval(class)
            } else {
                self.warn(format!("unknown smtpd restriction: \"{name}\""));
                self.server_error()
            };
            if !is_warn {
                self.state.warn_if_reject = false;
            }
            if step != Step::Dunno {
                return step;
            }
        }
        Step::Dunno
    }

    /// Postfix warns about `reject_maps_rbl` and `check_relay_domains`
    /// once per process (a `static int warned` in smtpd_check.c), not at
    /// every use.
    fn first_use(&self, r: R) -> bool {
        if !matches!(r, R::RejectMapsRbl | R::CheckRelayDomains) {
            return true;
        }
        // A poisoned lock only means another thread panicked mid-push.
        let mut warned = self.engine.warned.lock().unwrap_or_else(|e| e.into_inner());
        if warned.contains(&r) {
            return false;
        }
        // A pass that is run again (it may not wait) warns then.
        if super::dns::must_not_wait() {
            return false;
        }
        warned.push(r);
        true
    }

    /// One restriction.
    fn apply(&mut self, r: R, name: &str, arg: Option<&str>) -> Step {
        let arg = arg.unwrap_or_default();
        match r {
            R::Permit => Step::Permit,
            R::Reject => {
                let code = self.engine.settings.codes.reject;
                self.reject_class(code, "5.7.1", "Access denied")
            }
            R::Defer => {
                let code = self.engine.settings.codes.defer;
                self.reject_class(code, "4.3.2", "Try again later")
            }
            R::DeferIfPermit => {
                let text = format!(
                    "<{}>: {} rejected: defer_if_permit requested",
                    self.reply_name(),
                    self.class()
                );
                self.defer_if_permit(450, "4.7.1", text);
                Step::Dunno
            }
            R::DeferIfReject => {
                let text = format!(
                    "<{}>: {} rejected: defer_if_reject requested",
                    self.reply_name(),
                    self.class()
                );
                self.defer_if_reject(450, "4.7.1", text);
                Step::Dunno
            }
            R::WarnIfReject => {
                self.state.warn_if_reject = true;
                Step::Dunno
            }
            R::CheckClientAccess
            | R::CheckReverseClientHostnameAccess
            | R::CheckHeloAccess
            | R::CheckSenderAccess
            | R::CheckRecipientAccess
            | R::CheckEtrnAccess
            | R::CheckCcertAccess
            | R::CheckSaslAccess => access::check(self, r, arg),
            _ => checks::apply(self, r, name, arg),
        }
    }

    /// `<name>: Class rejected: text`.
    pub(crate) fn reject_class(&mut self, code: u16, dsn: &str, text: &str) -> Step {
        let text = format!("<{}>: {} rejected: {text}", self.reply_name(), self.class());
        self.reject(ErrorClass::Policy, code, dsn, text)
    }

    /// `451 4.3.5 <name>: Class rejected: Server configuration error`.
    pub(crate) fn server_error(&mut self) -> Step {
        let text = format!(
            "<{}>: {} rejected: Server configuration error",
            self.reply_name(),
            self.class()
        );
        self.reject(ErrorClass::Software, 451, "4.3.5", text)
    }

    /// `451 4.3.0 <name>: Temporary lookup failure`, after `warning`.
    pub(crate) fn lookup_failure(&mut self, warning: String, name: &str) -> Step {
        self.warn(warning);
        let text = format!("<{name}>: Temporary lookup failure");
        self.reject(ErrorClass::Resource, 451, "4.3.0", text)
    }

    pub(crate) fn defer_if_permit(&mut self, code: u16, dsn: &str, text: String) {
        let pending = Pending {
            code,
            dsn: dsn.to_string(),
            text,
        };
        self.state.defer_if_permit.get_or_insert(pending);
    }

    pub(crate) fn defer_if_reject(&mut self, code: u16, dsn: &str, text: String) {
        let pending = Pending {
            code,
            dsn: dsn.to_string(),
            text,
        };
        self.state.defer_if_reject.get_or_insert(pending);
    }

    /// Postfix `smtpd_check_reject`.
    pub(crate) fn reject(&mut self, class: ErrorClass, code: u16, dsn: &str, text: String) -> Step {
        let warn_only = self.state.warn_if_reject && class != ErrorClass::Software;
        let (mut code, mut dsn, mut text) = (code, dsn.to_string(), text);
        let valid_dsn = dsn.parse::<queue::reply::EnhancedStatus>().is_ok();
        if !(400..=599).contains(&code) || !valid_dsn {
            let what = if valid_dsn {
                "SMTP reply code"
            } else {
                "DSN detail code"
            };
            self.warn(format!("{what} configuration error: {code} {dsn} {text}"));
            (code, dsn, text) = (450, "4.7.1".to_string(), "Service unavailable".to_string());
        }
        if !warn_only
            && code >= 500
            && let Some(p) = self.state.defer_if_reject.take()
        {
            self.state.warn_if_reject = false;
            return self.reject(ErrorClass::Policy, p.code, &p.dsn, p.text);
        }
        // The SMTP code decides the DSN class.
        dsn.replace_range(..1, &(code / 100).to_string());
        let reply = reply(code, &dsn, &text);
        let what = if warn_only {
            "reject_warning"
        } else {
            "reject"
        };
        self.whatsup(what, &reply.to_string());
        if warn_only {
            Step::Dunno
        } else {
            Step::Reject(reply)
        }
    }
}

/// `local_header_rewrite_clients` (Postfix `smtpd_check_rewrite`).
pub(crate) fn check_rewrite(
    engine: &Engine,
    state: &mut State,
) -> (Result<bool, Reply>, Vec<LogLine>) {
    let mut log = Vec::new();
    let mut ctx = Ctx {
        engine,
        state,
        stage: Stage::Client,
        log: &mut log,
        depth: 0,
    };
    let result = checks::rewrite_clients(&mut ctx);
    (result, log)
}
