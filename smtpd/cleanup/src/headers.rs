//! What cleanup does with each primary message header besides the checks
//! (Postfix `cleanup_header_callback` and `cleanup_header_done_callback`):
//! count hops, log the Message-ID, rewrite sender and recipient headers,
//! drop `message_drop_headers`, and at the end of the headers add the
//! missing `Message-Id:`, `Date:`, `From:` and `To:`.

use std::time::SystemTime;

use address::quote;
use address::rewrite::Context;
use address::tok822;

use crate::addresses::{Class, Failure, Rewriter};
use crate::mime::header::{self, HeaderFlags, HeaderInfo, HeaderKind};

/// What the headers told cleanup so far.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// `Received:` headers, including ones header_checks removed.
    pub hops: usize,
    kinds: Vec<HeaderKind>,
    /// A `Resent-*` header was seen: missing headers get that prefix.
    resent: bool,
}

impl Seen {
    fn has(&self, kind: HeaderKind) -> bool {
        self.kinds.contains(&kind)
    }

    fn note(&mut self, info: &HeaderInfo) {
        if info.flags.contains(HeaderFlags::RESENT) {
            self.resent = true;
        }
        if !self.has(info.kind) {
            self.kinds.push(info.kind);
        }
    }

    /// A header the checks removed still counts as a hop.
    pub(crate) fn note_removed(&mut self, info: Option<&HeaderInfo>) {
        if info.is_some_and(|i| i.kind == HeaderKind::Received) {
            self.hops += 1;
        }
    }
}

/// One primary header, after the checks: the text to write (`None` to
/// drop it) and what it changed.
pub(crate) fn primary(
    seen: &mut Seen,
    info: Option<&HeaderInfo>,
    text: &[u8],
    context: Option<Context>,
    rewriter: &Rewriter,
    token_limit: usize,
    id: &str,
) -> Result<Option<Vec<u8>>, Failure> {
    let Some(info) = info.filter(|i| !i.is_mime()) else {
        return Ok(Some(text.to_vec()));
    };
    if info.kind == HeaderKind::Received {
        seen.hops += 1;
    }
    seen.note(info);
    if matches!(
        info.kind,
        HeaderKind::MessageId | HeaderKind::ResentMessageId
    ) {
        let value = String::from_utf8_lossy(header::value(text));
        let prefix = if info.kind == HeaderKind::ResentMessageId {
            "resent-"
        } else {
            ""
        };
        tracing::info!(target: "cleanup", "{id}: {prefix}message-id={}", value.trim());
    }
    let class = if info.flags.contains(HeaderFlags::SENDER) {
        Some(Class::HeaderSender)
    } else if info.flags.contains(HeaderFlags::RECIPIENT) {
        Some(Class::HeaderRecipient)
    } else {
        None
    };
    let rewritten = match (class, context) {
        (Some(class), Some(context)) => rewrite(text, class, context, rewriter, token_limit)?,
        _ => None,
    };
    if info.flags.contains(HeaderFlags::DROP) {
        return Ok(None);
    }
    Ok(Some(rewritten.unwrap_or_else(|| text.to_vec())))
}

/// The header with its addresses rewritten, or `None` when none changed.
fn rewrite(
    text: &[u8],
    class: Class,
    context: Context,
    rewriter: &Rewriter,
    token_limit: usize,
) -> Result<Option<Vec<u8>>, Failure> {
    let Ok(text) = std::str::from_utf8(text) else {
        return Ok(None);
    };
    let Some(len) = header::name_len(text.as_bytes()) else {
        return Ok(None);
    };
    let (name, value) = (&text[..len], &text[len + 1..]);
    let rewritten = tok822::rewrite_header(name, value, Some(token_limit), |address| {
        rewriter.header(class, context, address)
    })?;
    Ok(rewritten.map(|r| {
        for warning in r.warnings {
            tracing::warn!(target: "cleanup", "{warning}");
        }
        r.header.into_bytes()
    }))
}

/// What the missing headers are made of.
#[derive(Debug)]
pub(crate) struct Missing<'a> {
    pub id: &'a str,
    pub myhostname: &'a str,
    pub sender: &'a str,
    pub arrival: SystemTime,
    pub undisclosed: &'a str,
    /// Add them at all: the client is local, or `always_add_missing_headers`.
    pub add: bool,
}

/// The headers to append at the end of the primary headers, in Postfix's
/// order, and the log line for a message without Message-ID.
pub(crate) fn missing(seen: &Seen, m: &Missing<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let resent = if seen.resent { "Resent-" } else { "" };
    let has = |plain, resent_kind| seen.has(if seen.resent { resent_kind } else { plain });
    let mut have_message_id = seen.has(HeaderKind::MessageId);
    if m.add && !has(HeaderKind::MessageId, HeaderKind::ResentMessageId) {
        let value = format!("{}@{}", m.id, m.myhostname);
        out.push(format!("{resent}Message-Id: <{value}>"));
        let prefix = if seen.resent { "resent-" } else { "" };
        tracing::info!(target: "cleanup", "{}: {prefix}message-id=<{value}>", m.id);
        have_message_id |= !seen.resent;
    }
    if !have_message_id {
        tracing::info!(target: "cleanup", "{}: message-id=<>", m.id);
    }
    if m.add && !has(HeaderKind::Date, HeaderKind::ResentDate) {
        out.push(format!(
            "{resent}Date: {}",
            crate::date::mail_date(m.arrival)
        ));
    }
    if m.add && !has(HeaderKind::From, HeaderKind::ResentFrom) {
        let sender = if m.sender.is_empty() {
            "MAILER-DAEMON"
        } else {
            m.sender
        };
        out.push(format!("{resent}From: {}", quote::external(sender)));
    }
    let visible = [
        HeaderKind::To,
        HeaderKind::ResentTo,
        HeaderKind::Cc,
        HeaderKind::ResentCc,
    ];
    if m.add && !visible.iter().any(|k| seen.has(*k)) && !m.undisclosed.is_empty() {
        if header::is_header(m.undisclosed.as_bytes()) {
            out.push(m.undisclosed.to_owned());
        } else {
            tracing::warn!(
                target: "cleanup",
                "bad undisclosed_recipients_header header text \"{}\" -- need \"headername: headervalue\"",
                m.undisclosed
            );
        }
    }
    out
}
