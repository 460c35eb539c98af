//! The session's side of the restriction engine: one
//! [`restrictions::State`] per connection, kept in step with the session
//! (protocol, pipelining, queue ID), and [`Session::restrict`], which runs
//! a check, logs what it says and returns the reply of a rejection.

use std::time::Duration;

use crate::client::Client;
use crate::reply::Reply;
use crate::restrictions::{self, Engine, Level, Outcome, Verdict, dns};

use super::Session;

/// The engine's view of `client`.
pub(super) fn state_for(client: &Client) -> restrictions::State {
    let mut state = restrictions::State::new(restrictions::Client {
        name: client.name.clone(),
        reverse_name: client.reverse_name.clone(),
        addr: client.addr.to_string(),
        name_status: client.name_status,
        reverse_name_status: client.reverse_name_status,
    });
    state.client_port = Some(client.port);
    state.server = client.server;
    state
}

/// A name for a new mail transaction, unique in this process and over
/// time, in Postfix's shape (`pid.seconds.microseconds.sequence`, hex).
fn new_instance() -> String {
    static SEQUENCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    // A system call each time otherwise, and this runs for every MAIL.
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seq = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "{:x}.{:x}.{:x}.{seq:x}",
        PID.get_or_init(std::process::id),
        now.as_secs(),
        now.subsec_micros()
    )
}

/// Run `f`, which may block on DNS, without stalling the other sessions
/// of this worker thread: on a multi-thread runtime the worker hands its
/// other tasks to another thread first (`block_in_place`).
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Session {
    /// Run `check` when restrictions are configured: log its lines, note a
    /// `sleep`, and return the reply if it rejects.
    pub(super) fn restrict(
        &mut self,
        check: impl Fn(&Engine, &mut restrictions::State) -> Outcome,
    ) -> Option<Reply> {
        let settings = std::sync::Arc::clone(&self.settings);
        let engine = settings.restrictions.as_ref()?;
        self.checks.protocol = self.protocol().to_string();
        let outcome = match engine.may_block() {
            true => self.check_off_the_workers(engine, check),
            false => check(engine, &mut self.checks),
        };
        for line in &outcome.log {
            match line.level {
                Level::Info => self.log().info(&line.text),
                Level::Warning => self.log().warning(&line.text),
            }
        }
        let sleep = std::mem::take(&mut self.checks.sleep);
        self.sleep += Duration::from_secs(u64::from(sleep));
        match outcome.verdict {
            Verdict::Accept => None,
            Verdict::Reject(reply) => Some(reply),
        }
    }

    /// A check that may wait on the network: first from cached answers
    /// only, on this worker; if something would have waited, again from
    /// the state before, where blocking is allowed.
    fn check_off_the_workers(
        &mut self,
        engine: &Engine,
        check: impl Fn(&Engine, &mut restrictions::State) -> Outcome,
    ) -> Outcome {
        let before = self.checks.clone();
        if let Some(outcome) = dns::without_waiting(|| check(engine, &mut self.checks)) {
            return outcome;
        }
        self.checks = before;
        let checks = &mut self.checks;
        blocking(|| check(engine, checks))
    }

    /// The delay of a reply, with what the `sleep` restriction asked for.
    pub(super) fn add_sleep(&mut self, delay: Option<Duration>) -> Option<Duration> {
        let sleep = std::mem::take(&mut self.sleep);
        match (delay, sleep.is_zero()) {
            (delay, true) => delay,
            (None, false) => Some(sleep),
            (Some(d), false) => Some(d + sleep),
        }
    }

    /// The actions the restrictions attached to the current message.
    pub fn actions(&self) -> &restrictions::Actions {
        &self.checks.actions
    }

    /// Postfix's warning for a MAIL/RCPT address the parser refused.
    pub(super) fn warn_illegal_address(&mut self, command: &str) {
        if let Some(address) = self.illegal_address.take() {
            self.log().warning(format_args!(
                "Illegal address syntax from {} in {command} command: {address}",
                self.client.namaddr()
            ));
        }
    }

    /// The transaction is over (RSET, HELO, the end of a message): the
    /// restrictions forget its sender, count and actions (Postfix
    /// `mail_reset`).
    pub(super) fn end_transaction(&mut self) {
        self.checks.sender = None;
        self.checks.recipient_count = 0;
        self.checks.size = 0;
        self.checks.instance.clear();
        self.checks.actions = restrictions::Actions::default();
        self.set_queue_id(None);
    }

    /// MAIL FROM starts a transaction: its size and a new instance name
    /// for policy servers.
    pub(super) fn begin_transaction(&mut self, size: Option<u64>) {
        self.checks.size = size.unwrap_or(0);
        self.checks.instance = new_instance();
    }

    /// The message has a queue file: its ID goes into restriction logs.
    pub fn set_queue_id(&mut self, id: Option<&queue::QueueId>) {
        self.checks.queue_id = id.map_or_else(|| "NOQUEUE".to_string(), |i| i.to_string());
    }

    /// After the content, before the message is committed:
    /// `smtpd_end_of_data_restrictions`.
    pub fn check_end_of_data(&mut self) -> Option<Reply> {
        self.last = "END-OF-MESSAGE";
        self.restrict(|e, st| e.check_end_of_data(st))
    }
}
