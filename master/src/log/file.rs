//! The `maillog_file` transport: `Mmm dd HH:MM:SS host TAG[PID]: TEXT`
//! lines appended to a file, as Postfix's postlogd(8) writes them
//! (msg_logger.c: `%b %d %H:%M:%S`, the day zero-padded, and the first
//! label of `myhostname`). `/dev/stdout` is the process's own standard
//! output, never reopened, for containers.
//!
//! Each line is one `write(2)` on an `O_APPEND` descriptor, so lines of
//! concurrent processes and threads never interleave.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::Mutex;

/// The name that means standard output (Postfix: `maillog_file =
/// /dev/stdout` with `postfix start-fg`).
pub const STDOUT: &str = "/dev/stdout";

/// An open `maillog_file`.
#[derive(Debug)]
pub struct Maillog {
    host: String,
    out: Mutex<File>,
}

impl Maillog {
    /// Opens `path` for appending (creating it), or duplicates standard
    /// output for `/dev/stdout`. `host` is `myhostname`; only its first
    /// label is written.
    pub fn open(path: &Path, host: &str) -> io::Result<Maillog> {
        let out = if path == Path::new(STDOUT) {
            File::from(io::stdout().as_fd().try_clone_to_owned()?)
        } else {
            OpenOptions::new().create(true).append(true).open(path)?
        };
        Ok(Maillog {
            host: first_label(host).to_owned(),
            out: Mutex::new(out),
        })
    }

    /// Appends one line; a failed write is dropped (logging never fails
    /// mail).
    pub fn write(&self, line: &str) {
        let record = record(&jiff::Zoned::now(), &self.host, line);
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(record.as_bytes());
        }
    }
}

/// `host` up to its first dot.
fn first_label(host: &str) -> &str {
    host.split('.').next().unwrap_or_default()
}

/// One record: stamp, host, `line` (`TAG[PID]: TEXT`) and a newline.
pub fn record(stamp: &jiff::Zoned, host: &str, line: &str) -> String {
    format!("{} {host} {line}\n", stamp.strftime("%b %d %H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_postlogd_shape_with_zero_padded_day() {
        let at: jiff::Zoned = "2026-01-05T08:00:09[UTC]".parse().unwrap();
        assert_eq!(
            record(&at, "mail", "postfix/smtpd[42]: connect from x[192.0.2.1]"),
            "Jan 05 08:00:09 mail postfix/smtpd[42]: connect from x[192.0.2.1]\n"
        );
    }

    #[test]
    fn only_the_first_host_label_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("maillog");
        let log = Maillog::open(&path, "mx.example.com").unwrap();
        log.write("postfix/qmgr[7]: 4ABC: removed");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with(" mx postfix/qmgr[7]: 4ABC: removed\n"),
            "{text}"
        );
        assert_eq!(text.len(), "Jan 05 08:00:09 ".len() + 34, "{text}");
    }

    #[test]
    fn an_existing_file_is_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("maillog");
        std::fs::write(&path, "old line\n").unwrap();
        Maillog::open(&path, "mx")
            .unwrap()
            .write("postfix/smtpd[1]: a");
        Maillog::open(&path, "mx")
            .unwrap()
            .write("postfix/smtpd[2]: b");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "old line");
        assert!(lines[1].ends_with(" mx postfix/smtpd[1]: a"), "{text}");
        assert!(lines[2].ends_with(" mx postfix/smtpd[2]: b"), "{text}");
    }

    #[test]
    fn concurrent_writers_keep_lines_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("maillog");
        let long = "x".repeat(1500);
        std::thread::scope(|s| {
            for n in 0..4 {
                let (path, long) = (&path, &long);
                s.spawn(move || {
                    // A logger of its own per thread, like separate processes.
                    let log = Maillog::open(path, "mx").unwrap();
                    for _ in 0..50 {
                        log.write(&format!("postfix/smtpd[{n}]: {long}"));
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 200);
        for line in text.lines() {
            assert!(line.ends_with(&long), "interleaved: {line:.60}");
            assert_eq!(line.matches("postfix/").count(), 1, "{line:.60}");
        }
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Maillog::open(&dir.path().join("no/such/maillog"), "mx").is_err());
    }
}
