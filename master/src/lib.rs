//! What every daemon of the suite shares with the master that starts it.
//!
//! - [`log`]: Postfix-shaped log lines (`postfix/smtpd[PID]: ...`) from
//!   `tracing` events, to standard error and to `maillog_file`.
#![forbid(unsafe_code)]

pub mod log;
