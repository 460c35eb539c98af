//! One message on its way through cleanup: envelope records as the
//! receiving program gives them, content record by record through the MIME
//! walk and the checks, then the verdict and the durable commit.

use std::sync::Arc;
use std::time::SystemTime;

use queue::envelope::{Notify, Recipient, attr};
use queue::reply::{EnhancedStatus, Reply, ReplyCode};
use queue::{QueueId, Writer};

use crate::addresses::{Class, Failure};
use crate::checks::{Inspector, LogAction, LogContext, Output, Profile, Verdict};
use crate::headers::{self, Missing, Seen};
use crate::mime::HeaderClass;
use crate::{Cleanup, Error, Origin, SenderParams};

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// In `incoming/`, durably: the client may be told `250`.
    Queued { id: QueueId, size: u64 },
    /// A DISCARD action: the client is told `250`, nothing is kept.
    Discarded { id: QueueId },
    /// Not taken, with the reply for the client (a REJECT action, a
    /// table that failed, too many hops, ...). Nothing is kept.
    Rejected { id: QueueId, reply: Reply },
}

/// A message being received; see the module documentation.
#[derive(Debug)]
pub struct Message {
    cleanup: Arc<Cleanup>,
    writer: Writer,
    log: LogContext,
    origin: Origin,
    sender: String,
    arrival: SystemTime,
    inspector: Inspector,
    seen: Seen,
    in_content: bool,
    /// The empty line that ends the headers: the queue file implies it.
    skip_blank: bool,
    /// Rejected or discarded: the rest is read but neither written nor
    /// looked at (Postfix's `CLEANUP_OUT_OK`).
    stopped: bool,
    /// The first problem that makes the message be deferred.
    failure: Option<Failure>,
    /// The first write error; reported by [`Message::finish`].
    error: Option<queue::Error>,
    /// Decisions the receiving program made before the content (smtpd's
    /// access restrictions): HOLD, DISCARD, FILTER, REDIRECT, BCC.
    given: Given,
}

/// What [`Message::hold`] and its siblings recorded. The checks decide
/// later, so where both name a FILTER or REDIRECT, the checks' wins, as
/// the last record does in Postfix's cleanup.
#[derive(Debug, Default)]
struct Given {
    hold: Option<String>,
    discard: bool,
    filter: Option<String>,
    redirect: Option<String>,
    bcc: Vec<String>,
}

impl Message {
    pub(crate) fn open(
        cleanup: Arc<Cleanup>,
        origin: &Origin,
        sender: &str,
        params: &SenderParams,
        arrival: SystemTime,
    ) -> Result<Message, Error> {
        let mut writer = Writer::create(&cleanup.dirs, &cleanup.committer, arrival)?;
        let mut failure = None;
        let rewritten = cleanup
            .rewriter
            .envelope(Class::EnvelopeSender, sender)
            .unwrap_or_else(|f| {
                failure = Some(f);
                sender.to_owned()
            });
        write_attributes(&mut writer, origin, params)?;
        writer.sender(&rewritten)?;
        let log = LogContext {
            queue_id: writer.id().to_string(),
            origin: Some(origin.log_name()),
            sender: Some(rewritten.clone()),
            recipient: None,
            protocol: Some(origin.protocol.clone()),
            helo: origin.helo.clone(),
            utf8: params.smtputf8,
        };
        let inspector = Inspector::new(
            Arc::clone(&cleanup.checks),
            Profile::Cleanup,
            cleanup.mime_options,
            cleanup.limits,
        );
        Ok(Message {
            writer,
            log,
            origin: origin.clone(),
            sender: rewritten,
            arrival,
            inspector,
            seen: Seen::default(),
            in_content: false,
            skip_blank: false,
            stopped: false,
            failure,
            error: None,
            given: Given::default(),
            cleanup,
        })
    }

    pub fn id(&self) -> &QueueId {
        self.writer.id()
    }

    /// Adds a recipient as the client gave it (`RCPT TO`, internal form),
    /// with its DSN `NOTIFY` and `ORCPT`. Only before the content.
    pub fn add_recipient(
        &mut self,
        address: &str,
        notify: Notify,
        orcpt: Option<&str>,
    ) -> Result<(), Error> {
        let rewritten = match self
            .cleanup
            .rewriter
            .envelope(Class::EnvelopeRecipient, address)
        {
            Ok(a) => a,
            Err(f) => {
                self.failure.get_or_insert(f);
                address.to_owned()
            }
        };
        let original = if self.cleanup.enable_original_recipient {
            address.to_owned()
        } else {
            String::new()
        };
        let recipient = Recipient {
            address: rewritten,
            original,
            notify,
            orcpt: orcpt.map(str::to_owned),
        };
        self.writer.recipient(&recipient)?;
        self.log.recipient.get_or_insert(recipient.address);
        Ok(())
    }

    /// Put the message on hold (a HOLD action of the receiving program),
    /// with `reason` for the queue file (may be empty).
    pub fn hold(&mut self, reason: &str) {
        self.given.hold.get_or_insert_with(|| reason.to_owned());
    }

    /// Claim delivery and keep nothing (a DISCARD action).
    pub fn discard(&mut self) {
        self.given.discard = true;
    }

    /// Send the message to `nexthop` (`transport:destination`) instead of
    /// `content_filter` (a FILTER action).
    pub fn filter(&mut self, nexthop: &str) {
        self.given.filter = Some(nexthop.to_owned());
    }

    /// Deliver to `address` only, instead of the recipients (a REDIRECT
    /// action).
    pub fn redirect(&mut self, address: &str) {
        self.given.redirect = Some(address.to_owned());
    }

    /// Add `address` as a blind recipient (a BCC action).
    pub fn add_bcc(&mut self, address: &str) {
        self.given.bcc.push(address.to_owned());
    }

    /// One content record: a line without its terminator, or part of one
    /// (`complete` false) when it is longer than `line_length_limit`.
    pub fn line(&mut self, bytes: &[u8], complete: bool) -> Result<(), Error> {
        if !self.in_content {
            self.writer.begin_content()?;
            self.in_content = true;
        }
        let (inspector, mut sink) = self.parts();
        inspector.update(bytes, complete, &mut |o| sink.take(o));
        match self.error.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Ends the content and decides: reject, discard, or commit the queue
    /// file durably. Blocking (fsync); async callers use
    /// [`Message::commit`].
    pub fn finish(self) -> Result<Outcome, Error> {
        match self.decide()? {
            Decision::Done(outcome) => Ok(outcome),
            Decision::Commit(pending) => queued(pending.wait()),
        }
    }

    /// [`Message::finish`] for async callers: the checks and the last
    /// writes happen now (no waiting for the disk); the future waits for
    /// the queue's committer, which fsyncs.
    pub fn commit(self) -> impl Future<Output = Result<Outcome, Error>> + Send + 'static {
        let decision = self.decide();
        async move {
            match decision? {
                Decision::Done(outcome) => Ok(outcome),
                Decision::Commit(pending) => queued(pending.await),
            }
        }
    }

    /// The checks' verdict, then the outcome or the queue file's commit.
    fn decide(mut self) -> Result<Decision, Error> {
        if !self.in_content {
            self.writer.begin_content()?;
        }
        let (inspector, mut sink) = self.parts();
        let mut verdict = inspector.finish(&mut |o| sink.take(o)).clone();
        self.given.merge_into(&mut verdict);
        if let Some(e) = self.error.take() {
            return Err(e.into());
        }
        let id = self.writer.id().clone();
        if let Some(reply) = self.refusal(&verdict) {
            return Ok(Decision::Done(Outcome::Rejected { id, reply }));
        }
        if verdict.discard {
            return Ok(Decision::Done(Outcome::Discarded { id }));
        }
        let filter = verdict
            .filter
            .as_ref()
            .or(self.cleanup.content_filter.as_ref());
        write_extracted(&mut self.writer, &verdict, filter)?;
        Ok(Decision::Commit(self.writer.commit()))
    }

    /// The inspector, and the rest of the message as the place its output
    /// goes.
    fn parts(&mut self) -> (&mut Inspector, Sink<'_>) {
        let sink = Sink {
            cleanup: &self.cleanup,
            writer: &mut self.writer,
            log: &self.log,
            origin: &self.origin,
            sender: &self.sender,
            arrival: self.arrival,
            seen: &mut self.seen,
            skip_blank: &mut self.skip_blank,
            stopped: &mut self.stopped,
            failure: &mut self.failure,
            error: &mut self.error,
        };
        (&mut self.inspector, sink)
    }

    /// The reply when the message must not be queued, in Postfix's order:
    /// deferrals (table failures) first, then rejects, then hop counts.
    fn refusal(&self, verdict: &Verdict) -> Option<Reply> {
        let id = self.writer.id();
        if let Some(failure) = &self.failure {
            tracing::warn!(target: "cleanup", "{id}: {failure}");
            return Some(Reply::queue_write_error());
        }
        if verdict.lookup_error.is_some() {
            return Some(Reply::queue_write_error());
        }
        if let Some(rejection) = &verdict.reject {
            let (status, text) = split_reason(&rejection.reason());
            let code = ReplyCode::new(rejection.smtp_code()).unwrap_or(ReplyCode::REJECTED);
            return Some(Reply::new(code, status, text));
        }
        if self.seen.hops >= self.cleanup.hopcount_limit {
            tracing::warn!(target: "cleanup", "{id}: message rejected: hopcount exceeded");
            return Some(Reply::new(
                ReplyCode::TRANSACTION_FAILED,
                "5.4.0".parse().ok(),
                "Error: too many hops",
            ));
        }
        if self.seen.hops == 0 {
            tracing::warn!(target: "cleanup", "{id}: message rejected: no Received: header");
            return Some(Reply::new(
                ReplyCode::TEMPORARY,
                "4.3.0".parse().ok(),
                "Error: internal error",
            ));
        }
        None
    }
}

/// What [`Message::decide`] leads to.
enum Decision {
    Done(Outcome),
    Commit(queue::Pending),
}

fn queued(committed: Result<queue::Committed, queue::Error>) -> Result<Outcome, Error> {
    let committed = committed?;
    Ok(Outcome::Queued {
        id: committed.id,
        size: committed.size,
    })
}

impl Given {
    /// The checks' verdict with these decisions added.
    fn merge_into(&mut self, verdict: &mut Verdict) {
        if verdict.hold.is_none() {
            verdict.hold = self.hold.take();
        }
        verdict.discard |= self.discard;
        if verdict.filter.is_none() {
            verdict.filter = self.filter.take();
        }
        if verdict.redirect.is_none() {
            verdict.redirect = self.redirect.take();
        }
        let mut bcc = std::mem::take(&mut self.bcc);
        bcc.append(&mut verdict.bcc);
        verdict.bcc = bcc;
    }
}

/// `"5.7.1 text"` as an enhanced status and the text.
fn split_reason(reason: &str) -> (Option<EnhancedStatus>, String) {
    match reason.split_once(' ') {
        Some((code, text)) => match code.parse() {
            Ok(status) => (Some(status), text.to_owned()),
            Err(_) => (None, reason.to_owned()),
        },
        None => (reason.parse().ok(), String::new()),
    }
}

fn write_attributes(
    writer: &mut Writer,
    origin: &Origin,
    params: &SenderParams,
) -> Result<(), queue::Error> {
    let port = origin.client_port.to_string();
    let mut attributes = vec![
        (attr::CLIENT_NAME, origin.client_name.as_str()),
        (
            attr::REVERSE_CLIENT_NAME,
            origin.reverse_client_name.as_str(),
        ),
        (attr::CLIENT_ADDRESS, origin.client_address.as_str()),
        (attr::CLIENT_PORT, port.as_str()),
        (attr::PROTOCOL_NAME, origin.protocol.as_str()),
    ];
    if let Some(helo) = &origin.helo {
        attributes.push((attr::HELO_NAME, helo));
    }
    if let Some(context) = origin.header_rewrite {
        attributes.push((
            attr::REWRITE_CONTEXT,
            match context {
                address::rewrite::Context::Local => "local",
                address::rewrite::Context::Remote => "remote",
            },
        ));
    }
    if let Some(envid) = &params.envid {
        attributes.push((attr::ENVID, envid));
    }
    if let Some(ret) = params.ret {
        attributes.push((attr::RET, ret.as_str()));
    }
    if let Some(body) = params.body {
        attributes.push((attr::BODY, body.as_str()));
    }
    if params.smtputf8 {
        attributes.push((attr::SMTPUTF8, "yes"));
    }
    for (name, value) in attributes {
        writer.attribute(name, value)?;
    }
    Ok(())
}

/// HOLD, FILTER, REDIRECT and BCC decisions, after the content.
fn write_extracted(
    writer: &mut Writer,
    verdict: &Verdict,
    filter: Option<&String>,
) -> Result<(), queue::Error> {
    writer.begin_extracted()?;
    if let Some(reason) = &verdict.hold {
        writer.hold(reason)?;
    }
    if let Some(filter) = filter {
        writer.filter(filter)?;
    }
    if let Some(redirect) = &verdict.redirect {
        writer.redirect(redirect)?;
    }
    for bcc in &verdict.bcc {
        writer.recipient(&Recipient::new(bcc.as_str()))?;
    }
    Ok(())
}

/// Where the checks' output goes: the parts of a [`Message`] it changes.
struct Sink<'a> {
    cleanup: &'a Cleanup,
    writer: &'a mut Writer,
    log: &'a LogContext,
    origin: &'a Origin,
    sender: &'a str,
    arrival: SystemTime,
    seen: &'a mut Seen,
    skip_blank: &'a mut bool,
    stopped: &'a mut bool,
    failure: &'a mut Option<Failure>,
    error: &'a mut Option<queue::Error>,
}

impl Sink<'_> {
    fn take(&mut self, output: Output<'_>) {
        match output {
            Output::Header { info, .. } if *self.stopped => self.seen.note_removed(info.as_ref()),
            Output::HeaderEnd | Output::Body { .. } if *self.stopped => {}
            Output::Header {
                class, info, text, ..
            } => {
                let text = if class == HeaderClass::Primary {
                    match headers::primary(
                        self.seen,
                        info.as_ref(),
                        text,
                        self.origin.header_rewrite,
                        &self.cleanup.rewriter,
                        self.cleanup.token_limit,
                        &self.log.queue_id,
                    ) {
                        Ok(Some(text)) => text,
                        Ok(None) => return,
                        Err(f) => {
                            self.failure.get_or_insert(f);
                            text.to_vec()
                        }
                    }
                } else {
                    text.to_vec()
                };
                self.write_lines(&text);
            }
            Output::Prepend { text, .. } => self.write_lines(text.as_bytes()),
            Output::Removed { info, .. } => self.seen.note_removed(info.as_ref()),
            Output::HeaderEnd => self.end_headers(),
            Output::Body { text, complete, .. } => {
                if std::mem::take(self.skip_blank) && complete && text.is_empty() {
                    return;
                }
                self.write(text, complete);
            }
            Output::BodyEnd => {}
            Output::Logged(logged) => {
                if matches!(logged.action, LogAction::Reject | LogAction::Discard) {
                    *self.stopped = true;
                }
                tracing::info!(target: "cleanup", "{}", logged.cleanup_line(self.log));
            }
            Output::Warning(warning) => tracing::warn!(target: "cleanup", "{warning}"),
            Output::LookupError { param, .. } => {
                tracing::warn!(target: "cleanup", "{}", self.log.lookup_error_line(param));
            }
            Output::Defect { defect, text } => {
                tracing::info!(target: "cleanup", "{}", self.log.mime_error_line(defect, text));
            }
        }
    }

    fn end_headers(&mut self) {
        let missing = Missing {
            id: &self.log.queue_id,
            myhostname: &self.cleanup.myhostname,
            sender: self.sender,
            arrival: self.arrival,
            undisclosed: &self.cleanup.undisclosed_recipients_header,
            add: self.origin.header_rewrite.is_some() || self.cleanup.always_add_missing_headers,
        };
        for header in headers::missing(self.seen, &missing) {
            self.write_lines(header.as_bytes());
        }
        if self.error.is_none()
            && let Err(e) = self.writer.end_headers()
        {
            *self.error = Some(e);
        }
        *self.skip_blank = true;
    }

    /// A header (possibly with continuation lines) as line records.
    fn write_lines(&mut self, text: &[u8]) {
        for line in text.split(|b| *b == b'\n') {
            self.write(line, true);
        }
    }

    fn write(&mut self, bytes: &[u8], complete: bool) {
        if self.error.is_none()
            && let Err(e) = self.writer.line(bytes, complete)
        {
            *self.error = Some(e);
        }
    }
}
