//! Log lines in Postfix's shape, from `tracing` events, so that
//! pflogsumm, fail2ban and log exporters keep working. The line is
//! `TAG[PID]: [warning: |error: |fatal: |panic: ]TEXT`, TAG being
//! `syslog_name/program` (`postfix/smtpd`, or `postfix/submission/smtpd`
//! under `-o syslog_name=postfix/submission`). It goes to one transport:
//!
//! - [`file`]: `maillog_file` set: appended with postlogd's
//!   `Mmm dd HH:MM:SS host ` in front (`/dev/stdout` for containers);
//! - [`syslog`]: `maillog_file` empty: a datagram to `/dev/log` with
//!   facility `syslog_facility`; where there is no such socket, to
//!   standard error instead, after one warning saying so;
//!
//! and, unless the caller turns it off, to standard error as it is.
//!
//! The program is the event's target when it names one of the suite's
//! programs (a library such as cleanup logs as `cleanup` inside smtpd, as
//! Postfix's own cleanup would), else the process's own name. Events at
//! `ERROR` are `error: `, at `WARN` `warning: `; a field
//! `severity = "fatal"` or `"panic"` gives Postfix's last two levels.

pub mod file;
pub mod syslog;

use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use self::file::Maillog;
use self::syslog::{Facility, Syslog};

/// The main.cf parameters [`Logger::new`] reads, for the CONFIGURATION
/// PARAMETERS sections of the programs that log through it.
pub const PARAMETERS: &[&str] = &[
    "maillog_file",
    "myhostname",
    "syslog_facility",
    "syslog_name",
];

/// Targets that are program names of their own in log lines.
const PROGRAMS: &[&str] = &[
    "cleanup", "smtpd", "qmgr", "smtp", "local", "pickup", "master", "postfix", "bounce",
];

/// Longest text of one line, in bytes; longer text is cut, as Postfix
/// does ("unlimited logging is a liability", msg_logger.c).
const MAX_TEXT: usize = 2000;

/// Postfix's levels (msg.h), with their prefix words and syslog levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
    Fatal,
    Panic,
}

impl Severity {
    /// The level of a tracing event: `TRACE` and `DEBUG` (`-v`) are
    /// info, as Postfix's verbose lines are.
    pub fn from_level(level: Level) -> Severity {
        match level {
            Level::ERROR => Severity::Error,
            Level::WARN => Severity::Warning,
            _ => Severity::Info,
        }
    }

    /// The word after `]: `, with its `: `; nothing for info.
    pub fn prefix(self) -> &'static str {
        match self {
            Severity::Info => "",
            Severity::Warning => "warning: ",
            Severity::Error => "error: ",
            Severity::Fatal => "fatal: ",
            Severity::Panic => "panic: ",
        }
    }

    /// The syslog severity msg_syslog.c uses: info, warning, err, crit.
    pub fn syslog_level(self) -> u8 {
        match self {
            Severity::Info => 6,
            Severity::Warning => 4,
            Severity::Error => 3,
            Severity::Fatal | Severity::Panic => 2,
        }
    }
}

/// Where a process's lines go besides standard error.
#[derive(Debug)]
enum Transport {
    File(Maillog),
    Syslog(Syslog),
    /// No syslog socket: standard error alone.
    Stderr,
}

/// Where and how a process logs.
#[derive(Debug)]
pub struct Logger {
    /// `syslog_name`, normally `postfix`.
    syslog_name: String,
    /// The process's own program name, e.g. `smtpd`.
    program: String,
    pid: u32,
    verbose: bool,
    stderr: bool,
    transport: Transport,
    next_span: AtomicU64,
}

impl Logger {
    /// A logger for `program`: to `maillog_file` when main.cf names one,
    /// else to syslog (`/dev/log`, or `$MAIL_SYSLOG_SOCKET`, see
    /// [`syslog::SOCKET_ENV`]); and to standard error.
    ///
    /// # Errors
    /// `maillog_file` cannot be opened, or `syslog_facility` names no
    /// facility.
    pub fn new(config: &conf::Config, program: &str) -> io::Result<Logger> {
        Logger::with_syslog_socket(config, program, &syslog::socket_path())
    }

    /// [`Logger::new`] with the syslog socket at `socket`.
    fn with_syslog_socket(
        config: &conf::Config,
        program: &str,
        socket: &Path,
    ) -> io::Result<Logger> {
        let text = |name: &str| config.get(name).ok().flatten().unwrap_or_default();
        let syslog_name = match text("syslog_name") {
            name if name.is_empty() => "postfix".to_owned(),
            name => name,
        };
        let mut logger = Logger {
            syslog_name,
            program: program.to_owned(),
            pid: std::process::id(),
            verbose: false,
            stderr: true,
            transport: Transport::Stderr,
            next_span: AtomicU64::new(1),
        };
        let maillog = text("maillog_file");
        if !maillog.is_empty() {
            logger.transport =
                Transport::File(Maillog::open(Path::new(&maillog), &text("myhostname"))?);
            return Ok(logger);
        }
        let facility = match text("syslog_facility") {
            name if name.is_empty() => Facility::MAIL,
            name => Facility::from_name(&name)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
        };
        match Syslog::connect(socket, facility) {
            Ok(syslog) => logger.transport = Transport::Syslog(syslog),
            Err(e) => logger.write_stderr(&logger.line(
                program,
                Level::WARN,
                &format!(
                    "cannot log to syslog socket {}: {e}; logging to standard error",
                    socket.display()
                ),
            )),
        }
        Ok(logger)
    }

    /// Log debug events too (`-v`).
    pub fn verbose(mut self, verbose: bool) -> Logger {
        self.verbose = verbose;
        self
    }

    /// Write to standard error as well or not (a daemon under the master
    /// writes only to its log file or syslog). Without a syslog socket,
    /// standard error is the log, and stays on.
    pub fn stderr(mut self, stderr: bool) -> Logger {
        self.stderr = stderr;
        self
    }

    /// Installs this logger for the whole process.
    ///
    /// # Errors
    /// A logger is installed already.
    pub fn install(self) -> Result<(), tracing::dispatcher::SetGlobalDefaultError> {
        tracing::subscriber::set_global_default(self)
    }

    /// `postfix/PROGRAM[PID]: warning: TEXT` for one event.
    pub fn line(&self, target: &str, level: Level, text: &str) -> String {
        self.severity_line(target, Severity::from_level(level), text)
    }

    fn severity_line(&self, target: &str, severity: Severity, text: &str) -> String {
        let program = PROGRAMS
            .iter()
            .find(|p| **p == target)
            .copied()
            .unwrap_or(&self.program);
        format!(
            "{}/{program}[{}]: {}{}",
            self.syslog_name,
            self.pid,
            severity.prefix(),
            truncate(text, MAX_TEXT)
        )
    }

    fn write(&self, severity: Severity, line: &str) {
        match &self.transport {
            Transport::File(file) => file.write(line),
            Transport::Syslog(syslog) => syslog.send(severity, line),
            Transport::Stderr => {}
        }
        if self.stderr || matches!(self.transport, Transport::Stderr) {
            self.write_stderr(line);
        }
    }

    /// One write per line keeps lines whole among threads.
    fn write_stderr(&self, line: &str) {
        let _ = io::stderr().write_all(format!("{line}\n").as_bytes());
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..end]
}

/// Collects an event's `message` and any other fields (`key=value`);
/// `severity` picks the level instead.
#[derive(Default)]
struct Text {
    text: String,
    severity: Option<Severity>,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.text.push_str(value),
            "severity" if value == "fatal" => self.severity = Some(Severity::Fatal),
            "severity" if value == "panic" => self.severity = Some(Severity::Panic),
            name => {
                let _ = write!(self.text, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.text, "{value:?}");
        } else {
            let _ = write!(self.text, " {}={value:?}", field.name());
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
        let severity = text
            .severity
            .unwrap_or_else(|| Severity::from_level(*meta.level()));
        self.write(
            severity,
            &self.severity_line(meta.target(), severity, &text.text),
        );
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixDatagram;

    use super::*;

    fn config(dir: &Path, lines: &str) -> conf::Config {
        let main_cf = format!("myhostname = mail.example.com\n{lines}");
        std::fs::write(dir.join("main.cf"), main_cf).unwrap();
        conf::Config::load(dir, &[]).unwrap()
    }

    fn file_logger(dir: &Path, maillog: &Path) -> Logger {
        let config = config(dir, &format!("maillog_file = {}\n", maillog.display()));
        Logger::new(&config, "smtpd").unwrap().stderr(false)
    }

    fn received(server: &UnixDatagram) -> String {
        let mut buf = [0; 4096];
        let n = server.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn lines_have_postfix_shape() {
        let dir = tempfile::tempdir().unwrap();
        let log = file_logger(dir.path(), &dir.path().join("maillog"));
        let pid = std::process::id();
        assert_eq!(
            log.line("smtpd::session", Level::INFO, "connect from x[192.0.2.1]"),
            format!("postfix/smtpd[{pid}]: connect from x[192.0.2.1]")
        );
        assert_eq!(
            log.line("cleanup", Level::WARN, "ID: bad"),
            format!("postfix/cleanup[{pid}]: warning: ID: bad")
        );
        assert_eq!(
            log.line("smtpd", Level::ERROR, "x"),
            format!("postfix/smtpd[{pid}]: error: x")
        );
        assert_eq!(
            log.line("smtpd", Level::DEBUG, "x"),
            format!("postfix/smtpd[{pid}]: x")
        );
    }

    #[test]
    fn parameters_are_the_ones_read() {
        let source = include_str!("log.rs");
        for name in PARAMETERS {
            assert!(source.contains(&format!("text(\"{name}\")")), "{name}");
        }
        assert_eq!(source.matches("text(\"").count(), PARAMETERS.len());
    }

    #[test]
    fn severity_words_are_postfix_words() {
        let words: Vec<&str> = [
            Severity::Info,
            Severity::Warning,
            Severity::Error,
            Severity::Fatal,
            Severity::Panic,
        ]
        .iter()
        .map(|s| s.prefix())
        .collect();
        assert_eq!(words, ["", "warning: ", "error: ", "fatal: ", "panic: "]);
    }

    #[test]
    fn syslog_name_prefixes_the_program() {
        let dir = tempfile::tempdir().unwrap();
        let maillog = dir.path().join("maillog");
        config(
            dir.path(),
            &format!("maillog_file = {}\n", maillog.display()),
        );
        let overrides = [("syslog_name".to_owned(), "postfix/submission".to_owned())];
        let config = conf::Config::load(dir.path(), &overrides).unwrap();
        let log = Logger::new(&config, "smtpd").unwrap();
        assert_eq!(
            log.line("smtpd", Level::INFO, "x"),
            format!("postfix/submission/smtpd[{}]: x", std::process::id())
        );
    }

    #[test]
    fn maillog_file_gets_stamped_lines_with_fatal_and_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("maillog");
        let log = file_logger(dir.path(), &path);
        tracing::subscriber::with_default(log, || {
            tracing::info!(target: "cleanup", "4ABC: message-id=<x@y>");
            tracing::error!(target: "smtpd", severity = "fatal", "no queue");
            tracing::error!(target: "smtpd", severity = "panic", "bug");
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let pid = std::process::id();
        let tails = [
            format!(" mail postfix/cleanup[{pid}]: 4ABC: message-id=<x@y>"),
            format!(" mail postfix/smtpd[{pid}]: fatal: no queue"),
            format!(" mail postfix/smtpd[{pid}]: panic: bug"),
        ];
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        for (line, tail) in lines.iter().zip(&tails) {
            assert!(line.ends_with(tail.as_str()), "{line}");
            // "Nov 21 08:00:09": month, zero-padded day, time.
            let stamp = &line[..15];
            assert!(
                stamp.as_bytes()[..3].iter().all(u8::is_ascii_alphabetic),
                "{line}"
            );
            assert!(stamp[4..6].bytes().all(|b| b.is_ascii_digit()), "{line}");
        }
    }

    #[test]
    fn long_text_is_cut_at_2000_bytes_on_a_character_boundary() {
        assert_eq!(truncate("abc", 2), "ab");
        assert_eq!(truncate("aé", 2), "a");
        let dir = tempfile::tempdir().unwrap();
        let log = file_logger(dir.path(), &dir.path().join("maillog"));
        let line = log.line("smtpd", Level::INFO, &"y".repeat(5000));
        assert_eq!(line.matches('y').count(), MAX_TEXT);
    }

    #[test]
    fn without_maillog_file_lines_go_to_syslog_with_the_facility() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("log");
        let server = UnixDatagram::bind(&socket).unwrap();
        let config = config(dir.path(), "syslog_facility = local3\n");
        let log = Logger::with_syslog_socket(&config, "smtpd", &socket)
            .unwrap()
            .stderr(false);
        tracing::subscriber::with_default(log, || {
            tracing::info!(target: "smtpd", "connect from x[192.0.2.1]");
            tracing::warn!(target: "cleanup", "4ABC: odd");
        });
        let pid = std::process::id();
        let info = received(&server);
        assert!(info.starts_with("<158>"), "{info}");
        assert!(
            info.ends_with(&format!(" postfix/smtpd[{pid}]: connect from x[192.0.2.1]")),
            "{info}"
        );
        let warning = received(&server);
        assert!(warning.starts_with("<156>"), "{warning}");
        assert!(
            warning.ends_with(&format!(" postfix/cleanup[{pid}]: warning: 4ABC: odd")),
            "{warning}"
        );
    }

    #[test]
    fn syslog_facility_defaults_to_mail_and_must_be_known() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("log");
        let server = UnixDatagram::bind(&socket).unwrap();
        let log = Logger::with_syslog_socket(&config(dir.path(), ""), "qmgr", &socket)
            .unwrap()
            .stderr(false);
        tracing::subscriber::with_default(log, || tracing::info!("4ABC: removed"));
        assert!(received(&server).starts_with("<22>"));
        let bad = config(dir.path(), "syslog_facility = maill\n");
        let err = Logger::with_syslog_socket(&bad, "qmgr", &socket).unwrap_err();
        assert!(
            err.to_string().contains("unknown syslog facility: maill"),
            "{err}"
        );
    }

    #[test]
    fn without_a_syslog_socket_standard_error_is_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log =
            Logger::with_syslog_socket(&config(dir.path(), ""), "smtpd", &dir.path().join("none"))
                .unwrap()
                .stderr(false);
        assert!(matches!(log.transport, Transport::Stderr));
    }

    #[test]
    fn an_unopenable_maillog_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), "maillog_file = /nonexistent/dir/maillog\n");
        assert!(Logger::new(&config, "smtpd").is_err());
    }
}
