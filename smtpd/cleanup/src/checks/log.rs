//! Log lines for what the checks did, in Postfix's words. Admins grep
//! them, so the shapes are Postfix's: cleanup's `cleanup_act_log`
//! (`ID: reject: header Subject: x from host[addr]; from=<s> to=<r>
//! proto=ESMTP helo=<h>: 5.7.1 text`) and the delivery agents' shorter
//! `ID: warning: header Subject: x: text`.

use std::fmt::Write;

use crate::mime::Defect;

use super::Context;

/// Postfix truncates the logged line content to this many bytes.
const CONTENT_LIMIT: usize = 200;
/// ... and the evidence of a MIME error to this many.
const DEFECT_TEXT_LIMIT: usize = 100;

/// What a log line says the checks did (the word after the queue id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogAction {
    Bcc,
    Discard,
    Filter,
    Hold,
    Info,
    Pass,
    Prepend,
    Redirect,
    Reject,
    Replace,
    Strip,
    /// WARN logs `warning:`.
    Warning,
}

impl LogAction {
    pub fn as_str(self) -> &'static str {
        match self {
            LogAction::Bcc => "bcc",
            LogAction::Discard => "discard",
            LogAction::Filter => "filter",
            LogAction::Hold => "hold",
            LogAction::Info => "info",
            LogAction::Pass => "pass",
            LogAction::Prepend => "prepend",
            LogAction::Redirect => "redirect",
            LogAction::Reject => "reject",
            LogAction::Replace => "replace",
            LogAction::Strip => "strip",
            LogAction::Warning => "warning",
        }
    }
}

/// An action that logs: which, where, the line it matched, and its text
/// (for REJECT the status and text the message is rejected with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged<'a> {
    pub action: LogAction,
    pub context: Context,
    pub content: &'a [u8],
    pub text: String,
}

/// Who and what a message's log lines name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogContext {
    pub queue_id: String,
    /// The client as `name[address]` (Postfix `log_origin`); `unknown`
    /// when not set.
    pub origin: Option<String>,
    /// The envelope sender, `""` for the null sender.
    pub sender: Option<String>,
    /// The recipient the log names (Postfix logs one).
    pub recipient: Option<String>,
    /// `SMTP`, `ESMTP`, ...
    pub protocol: Option<String>,
    pub helo: Option<String>,
    /// Keep valid UTF-8 in log lines (`smtputf8_enable`); otherwise every
    /// byte that is not printable ASCII shows as `?`.
    pub utf8: bool,
}

/// Postfix `printable()`: characters that are not printable become `?`.
/// With `utf8`, valid non-ASCII UTF-8 is printable.
pub fn printable(bytes: &[u8], utf8: bool) -> String {
    if !utf8 {
        let show = |c: &u8| {
            if (0x20..0x7f).contains(c) {
                char::from(*c)
            } else {
                '?'
            }
        };
        return bytes.iter().map(show).collect();
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        let show = |c: char| if c.is_ascii_control() { '?' } else { c };
        out.extend(chunk.valid().chars().map(show));
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

/// The first `limit` bytes of `bytes` (C `%.Ns`).
fn truncated(bytes: &[u8], limit: usize) -> &[u8] {
    &bytes[..bytes.len().min(limit)]
}

impl Logged<'_> {
    /// cleanup's line (Postfix `cleanup_act_log`), without the program
    /// name: `ID: action: header|body CONTENT from ORIGIN; [from=<s>]
    /// [to=<r>] [proto=P] [helo=<h>][: text]`.
    pub fn cleanup_line(&self, ctx: &LogContext) -> String {
        let mut line = Vec::new();
        line.extend_from_slice(
            format!(
                "{}: {}: {} ",
                ctx.queue_id,
                self.action.as_str(),
                self.context.as_str()
            )
            .as_bytes(),
        );
        line.extend_from_slice(truncated(self.content, CONTENT_LIMIT));
        let mut tail = format!(" from {};", ctx.origin.as_deref().unwrap_or("unknown"));
        if let Some(sender) = &ctx.sender {
            let _ = write!(tail, " from=<{sender}>");
        }
        if let Some(recipient) = &ctx.recipient {
            let _ = write!(tail, " to=<{recipient}>");
        }
        if let Some(protocol) = &ctx.protocol {
            let _ = write!(tail, " proto={protocol}");
        }
        if let Some(helo) = &ctx.helo {
            let _ = write!(tail, " helo=<{helo}>");
        }
        if !self.text.is_empty() {
            let _ = write!(tail, ": {}", self.text);
        }
        line.extend_from_slice(tail.as_bytes());
        printable(&line, ctx.utf8)
    }

    /// A delivery agent's line (Postfix header_body_checks' logger),
    /// without the program name: `ID: action: header|body CONTENT[: text]`.
    pub fn delivery_line(&self, queue_id: &str, utf8: bool) -> String {
        let mut line = Vec::new();
        line.extend_from_slice(
            format!(
                "{queue_id}: {}: {} ",
                self.action.as_str(),
                self.context.as_str()
            )
            .as_bytes(),
        );
        line.extend_from_slice(truncated(self.content, CONTENT_LIMIT));
        if !self.text.is_empty() {
            line.extend_from_slice(format!(": {}", self.text).as_bytes());
        }
        printable(&line, utf8)
    }
}

impl LogContext {
    /// The line cleanup logs when a reported MIME defect rejects the
    /// message: `ID: reject: mime-error TEXT: EVIDENCE from ORIGIN;
    /// from=<s> to=<r>`.
    pub fn mime_error_line(&self, defect: Defect, evidence: &[u8]) -> String {
        let mut line = Vec::new();
        line.extend_from_slice(
            format!("{}: reject: mime-error {}: ", self.queue_id, defect.text()).as_bytes(),
        );
        line.extend_from_slice(truncated(evidence, DEFECT_TEXT_LIMIT));
        let tail = format!(
            " from {}; from=<{}> to=<{}>",
            self.origin.as_deref().unwrap_or("unknown"),
            self.sender.as_deref().unwrap_or(""),
            self.recipient.as_deref().unwrap_or("unknown"),
        );
        line.extend_from_slice(tail.as_bytes());
        printable(&line, self.utf8)
    }

    /// The warning cleanup logs when a table fails to answer.
    pub fn lookup_error_line(&self, param: &str) -> String {
        format!(
            "{}: {param} map lookup problem -- message not accepted, try again later",
            self.queue_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> LogContext {
        LogContext {
            queue_id: "4Xz1".into(),
            origin: Some("mx.example[192.0.2.1]".into()),
            sender: Some("s@example.org".into()),
            recipient: Some("r@example.net".into()),
            protocol: Some("ESMTP".into()),
            helo: Some("mx.example".into()),
            utf8: false,
        }
    }

    #[test]
    fn cleanup_lines_have_postfix_shape() {
        let logged = Logged {
            action: LogAction::Reject,
            context: Context::Header,
            content: b"Subject: buy\n now",
            text: "5.7.1 no thanks".into(),
        };
        assert_eq!(
            logged.cleanup_line(&context()),
            "4Xz1: reject: header Subject: buy? now from mx.example[192.0.2.1]; \
             from=<s@example.org> to=<r@example.net> proto=ESMTP helo=<mx.example>: \
             5.7.1 no thanks"
        );
        let quiet = Logged {
            action: LogAction::Warning,
            context: Context::Body,
            content: b"x",
            text: String::new(),
        };
        let bare = LogContext {
            queue_id: "ID".into(),
            ..LogContext::default()
        };
        assert_eq!(
            quiet.cleanup_line(&bare),
            "ID: warning: body x from unknown;"
        );
    }

    #[test]
    fn content_is_cut_at_200_bytes() {
        let long = vec![b'a'; 300];
        let logged = Logged {
            action: LogAction::Info,
            context: Context::Body,
            content: &long,
            text: "t".into(),
        };
        let line = logged.delivery_line("Q", false);
        assert_eq!(line, format!("Q: info: body {}: t", "a".repeat(200)));
    }

    #[test]
    fn printable_keeps_utf8_only_when_asked() {
        assert_eq!(printable("é\t\x7f".as_bytes(), false), "????");
        assert_eq!(printable("é\t\u{80}\x7f".as_bytes(), true), "é?\u{80}?");
        assert_eq!(printable(b"\xff", true), "?");
    }

    #[test]
    fn mime_errors_and_lookup_problems() {
        let ctx = context();
        assert_eq!(
            ctx.mime_error_line(Defect::EightBitInHeader, b"Subject: \xff"),
            "4Xz1: reject: mime-error improper use of 8-bit data in message header: \
             Subject: ? from mx.example[192.0.2.1]; from=<s@example.org> to=<r@example.net>"
        );
        assert_eq!(
            ctx.lookup_error_line("body_checks"),
            "4Xz1: body_checks map lookup problem -- message not accepted, try again later"
        );
    }
}
