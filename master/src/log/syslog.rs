//! The syslog transport: one RFC 3164 datagram per line,
//! `<PRI>Mmm dd HH:MM:SS TAG[PID]: TEXT`, to the local syslog socket, as
//! glibc's syslog(3) sends it for Postfix's msg_syslog.c (the syslog
//! daemon adds the host name). Written by hand: it is one `send`.
//!
//! The socket is `/dev/log`, or the path in `$MAIL_SYSLOG_SOCKET`
//! ([`SOCKET_ENV`]) when that is set and not empty, so that tests can
//! stand in a socket of their own for the system's.

use std::fmt;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Severity;

/// Overrides the syslog socket path (tests; the system's is `/dev/log`).
pub const SOCKET_ENV: &str = "MAIL_SYSLOG_SOCKET";

/// The system's syslog socket.
pub const DEV_LOG: &str = "/dev/log";

/// The socket to log to: `$MAIL_SYSLOG_SOCKET`, else `/dev/log`.
pub fn socket_path() -> PathBuf {
    match std::env::var_os(SOCKET_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(DEV_LOG),
    }
}

/// A syslog facility, by the names Postfix's `syslog_facility` accepts
/// (msg_syslog.c), with Linux's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(u8);

/// `syslog_facility` names no facility.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syslog_facility: unknown syslog facility: {0}")]
pub struct UnknownFacility(pub String);

const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

impl Facility {
    /// `mail`, Postfix's default.
    pub const MAIL: Facility = Facility(2);

    /// The facility named `name` (exact, lower case, as Postfix matches).
    pub fn from_name(name: &str) -> Result<Facility, UnknownFacility> {
        FACILITIES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, code)| Facility(*code))
            .ok_or_else(|| UnknownFacility(name.to_owned()))
    }

    /// The RFC 3164 PRI value: facility × 8 + severity.
    pub fn priority(self, severity: Severity) -> u8 {
        self.0 * 8 + severity.syslog_level()
    }
}

impl fmt::Display for Facility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = FACILITIES
            .iter()
            .find(|(_, code)| *code == self.0)
            .map_or("?", |(n, _)| n);
        f.write_str(name)
    }
}

/// The datagram for one `line` (`TAG[PID]: [warning: ]TEXT`) stamped
/// `stamp` in the traditional form, the day padded with a space as
/// glibc's syslog(3) writes it (`%h %e %T`).
pub fn datagram(priority: u8, stamp: &jiff::Zoned, line: &str) -> Vec<u8> {
    format!("<{priority}>{} {line}", stamp.strftime("%b %e %H:%M:%S")).into_bytes()
}

/// A connection to the syslog socket.
#[derive(Debug)]
pub struct Syslog {
    path: PathBuf,
    facility: Facility,
    socket: Mutex<UnixDatagram>,
}

impl Syslog {
    /// Connects to `path`: an error when there is no socket there (the
    /// caller falls back to standard error).
    pub fn connect(path: &Path, facility: Facility) -> io::Result<Syslog> {
        let socket = connect(path)?;
        Ok(Syslog {
            path: path.to_owned(),
            facility,
            socket: Mutex::new(socket),
        })
    }

    /// Sends one line. A syslog daemon that went away (restarted) is
    /// reconnected once; when it is gone or its queue is full the line is
    /// dropped: logging never blocks or fails mail.
    pub fn send(&self, severity: Severity, line: &str) {
        let record = datagram(self.facility.priority(severity), &jiff::Zoned::now(), line);
        let Ok(mut socket) = self.socket.lock() else {
            return;
        };
        match socket.send(&record) {
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock) => {}
            Err(_) => {
                if let Ok(fresh) = connect(&self.path) {
                    *socket = fresh;
                    let _ = socket.send(&record);
                }
            }
            Ok(_) => {}
        }
    }
}

/// Non-blocking, so that a stalled syslog daemon drops lines instead of
/// stalling the server.
fn connect(path: &Path) -> io::Result<UnixDatagram> {
    let socket = UnixDatagram::unbound()?;
    socket.connect(path)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(text: &str) -> jiff::Zoned {
        text.parse().unwrap()
    }

    #[test]
    fn facilities_by_postfix_names() {
        assert_eq!(Facility::from_name("mail"), Ok(Facility::MAIL));
        assert_eq!(Facility::from_name("local7").unwrap().to_string(), "local7");
        assert_eq!(
            Facility::from_name("Mail").unwrap_err().to_string(),
            "syslog_facility: unknown syslog facility: Mail"
        );
    }

    #[test]
    fn priority_is_facility_times_eight_plus_severity() {
        let mail = Facility::MAIL;
        assert_eq!(mail.priority(Severity::Info), 22);
        assert_eq!(mail.priority(Severity::Warning), 20);
        assert_eq!(mail.priority(Severity::Error), 19);
        assert_eq!(mail.priority(Severity::Fatal), 18);
        assert_eq!(mail.priority(Severity::Panic), 18);
        let local0 = Facility::from_name("local0").unwrap();
        assert_eq!(local0.priority(Severity::Info), 134);
    }

    #[test]
    fn datagram_has_rfc3164_shape_with_space_padded_day() {
        let at = stamp("2026-01-05T08:00:09[UTC]");
        assert_eq!(
            datagram(22, &at, "postfix/smtpd[42]: connect from x[192.0.2.1]"),
            b"<22>Jan  5 08:00:09 postfix/smtpd[42]: connect from x[192.0.2.1]"
        );
        let at = stamp("2026-11-21T23:59:59[UTC]");
        assert_eq!(
            datagram(20, &at, "postfix/smtpd[42]: warning: x"),
            b"<20>Nov 21 23:59:59 postfix/smtpd[42]: warning: x"
        );
    }

    #[test]
    fn lines_reach_a_socket_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        assert!(Syslog::connect(&path, Facility::MAIL).is_err());
        let server = UnixDatagram::bind(&path).unwrap();
        let log = Syslog::connect(&path, Facility::MAIL).unwrap();
        log.send(Severity::Warning, "postfix/smtpd[42]: warning: x");
        let mut buf = [0; 512];
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(got.starts_with("<20>"), "{got}");
        assert!(got.ends_with(" postfix/smtpd[42]: warning: x"), "{got}");
        assert_eq!(got.len(), "<20>Nov 21 23:59:59 ".len() + 29, "{got}");
    }

    #[test]
    fn a_restarted_syslog_daemon_is_reconnected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let first = UnixDatagram::bind(&path).unwrap();
        let log = Syslog::connect(&path, Facility::MAIL).unwrap();
        drop(first);
        std::fs::remove_file(&path).unwrap();
        let second = UnixDatagram::bind(&path).unwrap();
        log.send(Severity::Info, "postfix/smtpd[42]: again");
        let mut buf = [0; 512];
        let n = second.recv(&mut buf).unwrap();
        assert!(buf[..n].ends_with(b"postfix/smtpd[42]: again"));
    }
}
