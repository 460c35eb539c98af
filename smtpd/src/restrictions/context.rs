//! What is known about the session when a list runs: the client, HELO
//! name, sender and recipient, plus the state restrictions leave behind
//! (pending `defer_if_*`, and the actions HOLD, DISCARD, FILTER, ...
//! queued for the message).

use queue::reply::Reply;

use super::{Engine, LogLine, Stage, Verdict, generic};

/// How the client's name was found (Postfix `SMTPD_PEER_CODE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameStatus {
    /// Reverse and forward lookups agree.
    Ok,
    /// A lookup failed temporarily.
    Temporary,
    /// No PTR record.
    Permanent,
    /// The forward lookup does not give the address back.
    Forged,
}

/// The connected client. `addr` is text so that a test client such as
/// Postfix's driver's `dummy` works; real sessions give an IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Verified name, or `unknown`.
    pub name: String,
    /// Unverified reverse name, or `unknown`.
    pub reverse_name: String,
    pub addr: String,
    pub name_status: NameStatus,
    pub reverse_name_status: NameStatus,
}

impl Client {
    /// A client whose name and reverse name are `name`; `unknown` means a
    /// temporary lookup failure, as in Postfix's test driver.
    pub fn new(name: &str, addr: &str) -> Client {
        let status = if name == "unknown" {
            NameStatus::Temporary
        } else {
            NameStatus::Ok
        };
        Client {
            name: name.to_string(),
            reverse_name: name.to_string(),
            addr: addr.to_string(),
            name_status: status,
            reverse_name_status: status,
        }
    }

    /// `name[addr]`, as logs and client replies show it.
    pub fn namaddr(&self) -> String {
        format!("{}[{}]", self.name, self.addr)
    }
}

/// A verified TLS client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPeer {
    pub cert_fingerprint: String,
    pub pkey_fingerprint: String,
}

/// The session's TLS, as policy servers see it (`encryption_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    /// `TLSv1.3`
    pub protocol: String,
    pub cipher: String,
    /// Symmetric key bits.
    pub keysize: u16,
}

/// A deferred decision (`defer_if_permit`, `defer_if_reject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) code: u16,
    pub(crate) dsn: String,
    pub(crate) text: String,
}

/// Actions that restrictions attached to the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    pub hold: bool,
    pub discard: bool,
    /// `FILTER transport:destination`; the last one wins.
    pub filter: Option<String>,
    pub redirect: Option<String>,
    pub bcc: Vec<String>,
    pub prepend: Vec<String>,
}

/// One session, as the restrictions see it.
#[derive(Debug, Clone)]
pub struct State {
    pub client: Client,
    pub helo: Option<String>,
    pub sender: Option<String>,
    /// Set only while a recipient is being checked.
    pub recipient: Option<String>,
    pub etrn_domain: Option<String>,
    /// `SMTP` or `ESMTP`.
    pub protocol: String,
    /// `NOQUEUE` until the message has a queue id.
    pub queue_id: String,
    pub tls: Option<TlsPeer>,
    /// Set once STARTTLS succeeded.
    pub encryption: Option<Encryption>,
    /// The SASL login name once AUTH succeeded.
    pub sasl_username: Option<String>,
    /// The client sent more commands before this one's reply
    /// (`reject_unauth_pipelining`); the session sets it per command.
    pub pipelined: bool,
    /// Seconds the `sleep` restriction asked for; the session waits
    /// this long before replying, then clears it.
    pub sleep: u32,
    /// Recipients accepted so far in this transaction.
    pub recipient_count: usize,
    /// The client's port, and the address and port it connected to (for
    /// policy servers).
    pub client_port: Option<u16>,
    pub server: Option<std::net::SocketAddr>,
    /// MAIL FROM's SIZE, 0 without one.
    pub size: u64,
    /// Names the mail transaction for policy servers: the same in every
    /// request about one message, empty outside a transaction.
    pub instance: String,
    pub actions: Actions,
    /// The command being checked (`CONNECT`, `HELO`, `MAIL`, `RCPT`...).
    pub(crate) where_: &'static str,
    pub(crate) defer_if_permit: Option<Pending>,
    /// A `defer_if_permit` left by the client, HELO or MAIL stage,
    /// applied at each RCPT.
    pub(crate) early_defer_if_permit: Option<(Stage, Pending)>,
    pub(crate) defer_if_reject: Option<Pending>,
    pub(crate) warn_if_reject: bool,
}

impl State {
    pub fn new(client: Client) -> State {
        State {
            client,
            helo: None,
            sender: None,
            recipient: None,
            etrn_domain: None,
            protocol: "ESMTP".to_string(),
            queue_id: "NOQUEUE".to_string(),
            tls: None,
            encryption: None,
            sasl_username: None,
            pipelined: false,
            sleep: 0,
            recipient_count: 0,
            client_port: None,
            server: None,
            size: 0,
            instance: String::new(),
            actions: Actions::default(),
            where_: "CONNECT",
            defer_if_permit: None,
            early_defer_if_permit: None,
            defer_if_reject: None,
            warn_if_reject: false,
        }
    }

    /// A new connection from `client` (Postfix's driver `client` command):
    /// HELO and sender stay.
    pub fn set_client(&mut self, client: Client) {
        self.client = client;
    }

    /// The command shown in log lines.
    pub fn command(&self) -> &'static str {
        self.where_
    }

    /// Set the command shown in log lines (`RCPT`, ...).
    pub fn set_command(&mut self, command: &'static str) {
        self.where_ = command;
    }

    /// MAIL FROM starts a transaction: forget the last one's actions.
    pub(crate) fn begin_transaction(&mut self) {
        self.actions = Actions::default();
        self.recipient_count = 0;
        self.defer_if_permit = None;
    }

    /// Keep a `defer_if_permit` of an early stage for RCPT time.
    pub(crate) fn keep_early_deferral(&mut self, stage: Stage) {
        if let Some(p) = self.defer_if_permit.take() {
            self.early_defer_if_permit.get_or_insert((stage, p));
        }
    }

    /// Running `stage` again replaces what it (and any later early
    /// stage) deferred; an earlier stage's deferral stays (Postfix keeps
    /// `defer_if_permit_client`, `_helo` and `_sender` apart).
    pub(crate) fn forget_early_deferrals(&mut self, stage: Stage) {
        let rank = |s: Stage| match s {
            Stage::Client => 0,
            Stage::Helo => 1,
            _ => 2,
        };
        if self
            .early_defer_if_permit
            .as_ref()
            .is_some_and(|(s, _)| rank(*s) >= rank(stage))
        {
            self.early_defer_if_permit = None;
        }
    }

    /// Whether the delayed list of `stage` has something to look at.
    pub(crate) fn has_stage_input(&self, stage: Stage) -> bool {
        match stage {
            Stage::Helo => self.helo.is_some(),
            Stage::Sender => self.sender.is_some(),
            _ => true,
        }
    }

    /// Apply a pending `defer_if_permit` to a stage that would accept.
    pub(crate) fn take_defer_if_permit(
        &mut self,
        log: &mut Vec<LogLine>,
        engine: &Engine,
    ) -> Verdict {
        match self.defer_if_permit.take() {
            Some(p) => generic::reject_now(engine, self, &p, log),
            None => Verdict::Accept,
        }
    }

    /// The log line Postfix writes for `what` (`reject`, `hold`, ...).
    pub(crate) fn whatsup(&self, what: &str, text: &str) -> LogLine {
        let mut line = format!(
            "{}: {what}: {} from {}: {text};",
            self.queue_id,
            self.where_,
            self.client.namaddr()
        );
        if let Some(sender) = &self.sender {
            line.push_str(&format!(" from=<{sender}>"));
        }
        if let Some(rcpt) = &self.recipient {
            line.push_str(&format!(" to=<{rcpt}>"));
        }
        if !self.protocol.is_empty() {
            line.push_str(&format!(" proto={}", self.protocol));
        }
        if let Some(helo) = &self.helo {
            line.push_str(&format!(" helo=<{helo}>"));
        }
        LogLine::info(line)
    }
}

/// A reply from parts already validated by the caller.
pub(crate) fn reply(code: u16, dsn: &str, text: &str) -> Reply {
    let code = queue::reply::ReplyCode::new(code)
        .unwrap_or(queue::reply::ReplyCode::new(450).expect("450 is a reply code"));
    Reply::new(code, dsn.parse().ok(), text)
}
