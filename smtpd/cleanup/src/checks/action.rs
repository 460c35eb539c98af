//! The action a header_checks or body_checks rule answers with
//! (header_checks(5) ACTIONS): a case-insensitive command word, then
//! optional text after white space.

/// A parsed table answer. The text is what follows the command, without
/// the white space before it (empty when there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add a recipient (`user@domain`).
    Bcc(String),
    /// Accept and silently discard the message; stop inspecting it.
    Discard(String),
    /// Pretend the line did not match.
    Dunno,
    /// Send the message through `transport:destination` after queueing.
    Filter(String),
    /// Put the message on hold.
    Hold(String),
    /// Delete the line, silently.
    Ignore,
    /// Log an `info:` line.
    Info(String),
    /// Same as [`Action::Dunno`] (kept for compatibility).
    Ok,
    /// Stop all inspection of the message (including milters).
    Pass(String),
    /// Insert a line before the current one.
    Prepend(String),
    /// Deliver to this address instead of the recipients.
    Redirect(String),
    /// Reject the message, with optional `[45].x.y` status and text.
    Reject(String),
    /// Replace the current line.
    Replace(String),
    /// Delete the line and log it.
    Strip(String),
    /// Log a `warning:` line.
    Warn(String),
    /// A command Postfix does not know (or disables, such as DELAY):
    /// the whole answer.
    Unknown(String),
}

/// C `isspace`: ASCII white space including vertical tab.
fn is_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\x0b'
}

impl Action {
    /// Parse a table answer such as `REJECT 5.7.1 no thanks`.
    pub fn parse(value: &str) -> Action {
        let (command, rest) = value.split_at(value.find([' ', '\t']).unwrap_or(value.len()));
        let text = rest.trim_start_matches(is_space).to_string();
        match command.to_ascii_uppercase().as_str() {
            "BCC" => Action::Bcc(text),
            "DISCARD" => Action::Discard(text),
            "DUNNO" => Action::Dunno,
            "FILTER" => Action::Filter(text),
            "HOLD" => Action::Hold(text),
            "IGNORE" => Action::Ignore,
            "INFO" => Action::Info(text),
            "OK" => Action::Ok,
            "PASS" => Action::Pass(text),
            "PREPEND" => Action::Prepend(text),
            "REDIRECT" => Action::Redirect(text),
            "REJECT" => Action::Reject(text),
            "REPLACE" => Action::Replace(text),
            "STRIP" => Action::Strip(text),
            "WARN" => Action::Warn(text),
            _ => Action::Unknown(value.to_string()),
        }
    }

    /// Whether a delivery agent (smtp_header_checks and friends) can
    /// carry out this action: only the ones that edit or log a line.
    pub fn is_for_delivery(&self) -> bool {
        matches!(
            self,
            Action::Dunno
                | Action::Ignore
                | Action::Info(_)
                | Action::Ok
                | Action::Prepend(_)
                | Action::Replace(_)
                | Action::Strip(_)
                | Action::Warn(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_case_insensitive_with_optional_text() {
        assert_eq!(
            Action::parse("reject 5.7.1  go away"),
            Action::Reject("5.7.1  go away".into())
        );
        assert_eq!(Action::parse("REJECT"), Action::Reject(String::new()));
        assert_eq!(
            Action::parse("Warn\t \x0bsoon"),
            Action::Warn("soon".into())
        );
        assert_eq!(Action::parse("dunno whatever"), Action::Dunno);
        assert_eq!(Action::parse("ok"), Action::Ok);
        assert_eq!(Action::parse("ignore me"), Action::Ignore);
        assert_eq!(
            Action::parse("prepend X-Seen: yes"),
            Action::Prepend("X-Seen: yes".into())
        );
        assert_eq!(Action::parse("BCC a@b"), Action::Bcc("a@b".into()));
    }

    #[test]
    fn unknown_commands_keep_the_whole_answer() {
        assert_eq!(
            Action::parse("DELAY 1h"),
            Action::Unknown("DELAY 1h".into())
        );
        assert_eq!(Action::parse(" REJECT"), Action::Unknown(" REJECT".into()));
        assert_eq!(
            Action::parse("REJECTED"),
            Action::Unknown("REJECTED".into())
        );
        assert_eq!(Action::parse(""), Action::Unknown(String::new()));
    }

    #[test]
    fn delivery_agents_only_edit_and_log() {
        assert!(Action::parse("STRIP x").is_for_delivery());
        assert!(Action::parse("PREPEND X: y").is_for_delivery());
        assert!(!Action::parse("REJECT").is_for_delivery());
        assert!(!Action::parse("BCC a@b").is_for_delivery());
    }
}
