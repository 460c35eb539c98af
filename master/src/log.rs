//! Log lines in Postfix's shape, from `tracing` events: `postfix/PROGRAM[PID]:
//! [warning: |error: |fatal: ]TEXT` on standard error, and with a
//! `Mon DD HH:MM:SS host ` stamp in front in `maillog_file`, as postlogd(8)
//! writes it, so that pflogsumm, fail2ban and log exporters keep working.
//!
//! The program is the event's target when it names one of the suite's
//! programs (a library such as cleanup logs as `cleanup` inside smtpd, as
//! Postfix's own cleanup would), else the process's own name.

use std::fmt::{self, Write as _};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Targets that are program names of their own in log lines.
const PROGRAMS: &[&str] = &[
    "cleanup", "smtpd", "qmgr", "smtp", "local", "pickup", "master", "postfix", "bounce",
];

/// Where and how a process logs.
#[derive(Debug)]
pub struct Logger {
    /// `syslog_name`, normally `postfix`.
    syslog_name: String,
    /// The process's own program name, e.g. `smtpd`.
    program: String,
    pid: u32,
    host: String,
    verbose: bool,
    stderr: bool,
    file: Option<Mutex<File>>,
    next_span: AtomicU64,
}

impl Logger {
    /// A logger for `program`, writing to standard error and, when
    /// `maillog_file` names one, appending to that file too.
    pub fn new(config: &conf::Config, program: &str) -> io::Result<Logger> {
        let text = |name: &str| config.get(name).ok().flatten().unwrap_or_default();
        let maillog = text("maillog_file");
        let file = if maillog.is_empty() {
            None
        } else {
            Some(Mutex::new(open_append(Path::new(&maillog))?))
        };
        let host = text("myhostname");
        let short = host.split('.').next().unwrap_or_default().to_owned();
        let syslog_name = match text("syslog_name") {
            name if name.is_empty() => "postfix".to_owned(),
            name => name,
        };
        Ok(Logger {
            syslog_name,
            program: program.to_owned(),
            pid: std::process::id(),
            host: short,
            verbose: false,
            stderr: true,
            file,
            next_span: AtomicU64::new(1),
        })
    }

    /// Log debug events too (`-v`).
    pub fn verbose(mut self, verbose: bool) -> Logger {
        self.verbose = verbose;
        self
    }

    /// Write to standard error or not (a daemon under the master writes
    /// only to its log file, once there is one).
    pub fn stderr(mut self, stderr: bool) -> Logger {
        self.stderr = stderr;
        self
    }

    /// Installs this logger for the whole process.
    pub fn install(self) -> Result<(), tracing::dispatcher::SetGlobalDefaultError> {
        tracing::subscriber::set_global_default(self)
    }

    /// `postfix/PROGRAM[PID]: warning: TEXT` for one event.
    pub fn line(&self, target: &str, level: Level, text: &str) -> String {
        let program = PROGRAMS
            .iter()
            .find(|p| **p == target)
            .copied()
            .unwrap_or(&self.program);
        let severity = match level {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            _ => "",
        };
        format!(
            "{}/{program}[{}]: {severity}{text}",
            self.syslog_name, self.pid
        )
    }

    fn write(&self, line: &str) {
        if self.stderr {
            // One write per line keeps lines whole among threads.
            let _ = io::stderr().write_all(format!("{line}\n").as_bytes());
        }
        if let Some(file) = &self.file {
            let stamp = jiff::Zoned::now().strftime("%b %e %H:%M:%S").to_string();
            let record = format!("{stamp} {} {line}\n", self.host);
            if let Ok(mut file) = file.lock() {
                let _ = file.write_all(record.as_bytes());
            }
        }
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Collects an event's `message` and any other fields (`key=value`).
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.verbose || *metadata.level() <= Level::INFO
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        self.write(&self.line(meta.target(), *meta.level(), &text.0));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logger(dir: &Path, maillog: Option<&Path>) -> Logger {
        let mut main_cf = String::from("myhostname = mail.example.com\n");
        if let Some(path) = maillog {
            main_cf.push_str(&format!("maillog_file = {}\n", path.display()));
        }
        std::fs::write(dir.join("main.cf"), main_cf).unwrap();
        let config = conf::Config::load(dir, &[]).unwrap();
        Logger::new(&config, "smtpd").unwrap().stderr(false)
    }

    #[test]
    fn lines_have_postfix_shape() {
        let dir = tempfile::tempdir().unwrap();
        let log = logger(dir.path(), None);
        let pid = std::process::id();
        assert_eq!(
            log.line("smtpd::session", Level::INFO, "connect from x[192.0.2.1]"),
            format!("postfix/smtpd[{pid}]: connect from x[192.0.2.1]")
        );
        assert_eq!(
            log.line("cleanup", Level::WARN, "ID: bad"),
            format!("postfix/cleanup[{pid}]: warning: ID: bad")
        );
    }

    #[test]
    fn maillog_file_gets_stamped_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("maillog");
        let log = logger(dir.path(), Some(&path));
        tracing::subscriber::with_default(log, || {
            tracing::info!(target: "cleanup", "4ABC: message-id=<x@y>");
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let pid = std::process::id();
        assert!(
            text.ends_with(&format!(
                " mail postfix/cleanup[{pid}]: 4ABC: message-id=<x@y>\n"
            )),
            "{text}"
        );
        assert_eq!(
            text.len() - text.trim_start_matches(char::is_alphabetic).len(),
            3
        );
    }
}
