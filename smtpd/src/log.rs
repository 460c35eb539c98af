//! Where smtpd's log lines go, in Postfix's shapes
//! (`postfix/smtpd[PID]: connect from name[addr]`). In the daemon they are
//! `tracing` events with target `smtpd`, which `master::log` writes to
//! stderr and `maillog_file` with Postfix's prefix (cleanup's lines travel
//! the same way with target `cleanup`). Tests collect them with
//! [`Log::memory`].

use std::fmt;
use std::sync::{Arc, Mutex};

/// How serious a line is (`warning: ` is Postfix's prefix for the second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
}

type Sink = dyn Fn(Level, &str) + Send + Sync;

/// A cheap handle to the log sink.
#[derive(Clone)]
pub struct Log {
    sink: Arc<Sink>,
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Log")
    }
}

/// Lines collected by [`Log::memory`], warnings with their prefix.
pub type Lines = Arc<Mutex<Vec<String>>>;

impl Log {
    pub fn new(sink: impl Fn(Level, &str) + Send + Sync + 'static) -> Log {
        Log {
            sink: Arc::new(sink),
        }
    }

    /// `tracing` events with target `smtpd` (see the module docs).
    pub fn tracing() -> Log {
        Log::new(|level, line| match level {
            Level::Info => tracing::info!(target: "smtpd", "{line}"),
            Level::Warning => tracing::warn!(target: "smtpd", "{line}"),
        })
    }

    /// A log that keeps its lines, for tests.
    pub fn memory() -> (Log, Lines) {
        let lines: Lines = Arc::default();
        let store = Arc::clone(&lines);
        let log = Log::new(move |level, line| {
            let text = match level {
                Level::Info => line.to_string(),
                Level::Warning => format!("warning: {line}"),
            };
            if let Ok(mut v) = store.lock() {
                v.push(text);
            }
        });
        (log, lines)
    }

    pub fn info(&self, text: impl fmt::Display) {
        (self.sink)(Level::Info, &text.to_string());
    }

    pub fn warning(&self, text: impl fmt::Display) {
        (self.sink)(Level::Warning, &text.to_string());
    }
}

/// Client input as Postfix shows it in a log line: printable ASCII
/// kept, CR/LF/TAB as `\r` `\n` `\t`, other bytes as `?`, at most
/// `max` bytes of input.
pub fn escape(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(max) {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_log_keeps_lines() {
        let (log, lines) = Log::memory();
        log.info("connect from unknown[192.0.2.1]");
        log.warning("x");
        let got = lines.lock().expect("not poisoned").clone();
        assert_eq!(got, ["connect from unknown[192.0.2.1]", "warning: x"]);
    }

    #[test]
    fn escape_shows_line_endings() {
        assert_eq!(
            escape(b"MAIL FROM:<a@b>\r\n\x01", 100),
            "MAIL FROM:<a@b>\\r\\n?"
        );
        assert_eq!(escape(b"abcdef", 3), "abc");
    }
}
