//! What every daemon of the suite shares with the master that starts it.
//!
//! - [`log`]: Postfix-shaped log lines (`postfix/smtpd[PID]: ...`) from
//!   `tracing` events, to standard error, and to syslog or `maillog_file`.
//! - [`pidfile`]: the master's pid file and lock.
//! - [`service`]: what a daemon does for the master.cf `chroot` column:
//!   chroot into the queue, then drop to `mail_owner`.
#![forbid(unsafe_code)]

pub mod log;
pub mod pidfile;
pub mod service;
