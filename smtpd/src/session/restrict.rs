//! The session's side of the restriction engine: one
//! [`restrictions::State`] per connection, kept in step with the session
//! (protocol, pipelining, queue ID), and [`Session::restrict`], which runs
//! a check, logs what it says and returns the reply of a rejection.

use std::time::Duration;

use crate::client::Client;
use crate::reply::Reply;
use crate::restrictions::{self, Engine, Level, Outcome, Verdict};

use super::Session;

/// The address argument of a MAIL FROM or RCPT TO line: the text after
/// the colon up to the first space outside quotes and brackets (the rest
/// are parameters). `None` if the line has no colon.
pub(super) fn path_argument(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let (_, rest) = text.split_once(':')?;
    let rest = rest.trim_start();
    let (mut quoted, mut escaped, mut depth) = (false, false, 0u32);
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth = depth.saturating_sub(1),
            ' ' | '\t' if !quoted && depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    Some(rest[..end].to_string())
}

/// The engine's view of `client`. There are no DNS lookups yet, so the
/// names are `unknown` with a temporary status: a restriction on the
/// name defers (4xx) rather than rejects.
pub(super) fn state_for(client: &Client) -> restrictions::State {
    let mut who = restrictions::Client::new("unknown", &client.addr.to_string());
    who.name.clone_from(&client.name);
    who.reverse_name.clone_from(&client.reverse_name);
    restrictions::State::new(who)
}

impl Session {
    /// Run `check` when restrictions are configured: log its lines, note a
    /// `sleep`, and return the reply if it rejects.
    pub(super) fn restrict(
        &mut self,
        check: impl FnOnce(&Engine, &mut restrictions::State) -> Outcome,
    ) -> Option<Reply> {
        let settings = std::sync::Arc::clone(&self.settings);
        let engine = settings.restrictions.as_ref()?;
        self.checks.protocol = self.protocol().to_string();
        let outcome = check(engine, &mut self.checks);
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

    /// `strict_rfc821_envelopes`: is the MAIL/RCPT argument a bare
    /// `<path>`? Always when the parameter is off.
    pub(super) fn is_strict_enough(&self) -> bool {
        !self.settings.strict_rfc821_envelopes
            || self
                .raw_path
                .as_deref()
                .is_some_and(restrictions::envelope::is_strict_path)
    }

    /// The transaction is over (RSET, HELO, the end of a message): the
    /// restrictions forget its sender, count and actions (Postfix
    /// `mail_reset`).
    pub(super) fn end_transaction(&mut self) {
        self.checks.sender = None;
        self.checks.recipient_count = 0;
        self.checks.actions = restrictions::Actions::default();
        self.set_queue_id(None);
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

#[cfg(test)]
mod tests {
    use super::path_argument;

    #[test]
    fn the_path_ends_at_the_parameters() {
        let arg = |l: &str| path_argument(l.as_bytes());
        assert_eq!(arg("MAIL FROM:<a@b> SIZE=1").as_deref(), Some("<a@b>"));
        assert_eq!(arg("RCPT TO: <\"a b\"@c>").as_deref(), Some("<\"a b\"@c>"));
        assert_eq!(arg("MAIL FROM:<Joe <a@b>>").as_deref(), Some("<Joe <a@b>>"));
        assert_eq!(arg("MAIL FROM:a@b").as_deref(), Some("a@b"));
        assert_eq!(arg("MAIL FROM:<a@b> (x)").as_deref(), Some("<a@b>"));
        assert_eq!(arg("NOOP"), None);
    }
}
