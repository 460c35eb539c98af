//! What `postfix` tells the admin: each message goes to standard error as
//! the real `postfix` prints it when stderr is a terminal
//! (`postfix/postfix-script: fatal: TEXT`, without a pid), and to
//! `maillog_file` through [`master::log::Logger`] (`postfix/postfix-script[PID]:
//! fatal: TEXT`), as postlog(1) does for postfix-script.

use std::io::Write;

/// How serious a message is; the word Postfix puts before the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Info,
    Warning,
    Fatal,
}

impl Severity {
    fn prefix(self) -> &'static str {
        match self {
            Severity::Info => "",
            Severity::Warning => "warning: ",
            Severity::Fatal => "fatal: ",
        }
    }
}

/// The Postfix program that says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Program {
    /// Most messages: `postfix/postfix-script: ...`.
    Script,
    /// Configuration errors: `postfix: fatal: ...`.
    Postfix,
    /// What `postfix flush` runs: `postqueue: fatal: ...`.
    Postqueue,
}

/// One message and who says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) severity: Severity,
    pub(crate) program: Program,
    pub(crate) text: String,
}

impl Message {
    pub(crate) fn info(text: impl Into<String>) -> Message {
        Message::script(Severity::Info, text)
    }

    pub(crate) fn warning(text: impl Into<String>) -> Message {
        Message::script(Severity::Warning, text)
    }

    pub(crate) fn fatal(text: impl Into<String>) -> Message {
        Message::script(Severity::Fatal, text)
    }

    fn script(severity: Severity, text: impl Into<String>) -> Message {
        Message {
            severity,
            program: Program::Script,
            text: text.into(),
        }
    }

    /// A message of `postfix` itself (`postfix: fatal: ...`).
    pub(crate) fn of_postfix(self) -> Message {
        self.of(Program::Postfix)
    }

    /// The same message said by `program`.
    pub(crate) fn of(mut self, program: Program) -> Message {
        self.program = program;
        self
    }

    pub(crate) fn is_fatal(&self) -> bool {
        self.severity == Severity::Fatal
    }

    /// The line on standard error.
    pub(crate) fn stderr_line(&self, syslog_name: &str) -> String {
        let program = match self.program {
            Program::Script => format!("{syslog_name}/postfix-script"),
            Program::Postfix => "postfix".to_owned(),
            Program::Postqueue => "postqueue".to_owned(),
        };
        format!("{program}: {}{}", self.severity.prefix(), self.text)
    }
}

/// Prints `message` on stderr and logs it.
pub(crate) fn say(syslog_name: &str, message: &Message) {
    let line = format!("{}\n", message.stderr_line(syslog_name));
    // One write keeps the line whole; nothing to do if stderr is gone.
    let _ = std::io::stderr().write_all(line.as_bytes());
    // The Logger writes `warning: ` for WARN itself; it has no fatal level,
    // so a fatal message is logged at INFO with Postfix's word in the text.
    // Only the program names the Logger knows can be targets, so
    // postqueue's lines are logged under postfix-script.
    let text = &message.text;
    match (message.program, message.severity) {
        (Program::Postfix, Severity::Info) => tracing::info!(target: "postfix", "{text}"),
        (Program::Postfix, Severity::Warning) => tracing::warn!(target: "postfix", "{text}"),
        (Program::Postfix, Severity::Fatal) => {
            tracing::info!(target: "postfix", "fatal: {text}");
        }
        (_, Severity::Info) => tracing::info!("{text}"),
        (_, Severity::Warning) => tracing::warn!("{text}"),
        (_, Severity::Fatal) => tracing::info!("fatal: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_lines_have_postfix_script_shape() {
        assert_eq!(
            Message::fatal("the Postfix mail system is not running").stderr_line("postfix"),
            "postfix/postfix-script: fatal: the Postfix mail system is not running"
        );
        assert_eq!(
            Message::info("starting the Postfix mail system").stderr_line("postfix"),
            "postfix/postfix-script: starting the Postfix mail system"
        );
        assert_eq!(
            Message::warning("group or other writable: /x").stderr_line("mta"),
            "mta/postfix-script: warning: group or other writable: /x"
        );
        assert_eq!(
            Message::fatal("file /e/main.cf: x")
                .of_postfix()
                .stderr_line("postfix"),
            "postfix: fatal: file /e/main.cf: x"
        );
    }
}
