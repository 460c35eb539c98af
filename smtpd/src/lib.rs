//! smtpd: the inbound SMTP server (RFC 5321), as a library so that the
//! binary stays thin and every part is testable in process.
//!
//! - [`server::run`] serves sessions on a listener it did not bind, one
//!   task each, until a [`tokio_util::sync::CancellationToken`] fires.
//! - [`conn`] drives one connection (any `AsyncRead + AsyncWrite`,
//!   swapped for TLS after STARTTLS); [`session::Session`] is the sans-I/O
//!   state machine it feeds, one function per verb.
//! - [`command`] finds and parses command lines (smtp-proto plus guards);
//!   [`data_reader`] reads DATA and BDAT content into records
//!   ([`lines`]), under [`bare_newline`] rules.
//! - [`enqueue`] hands messages to cleanup (or [`enqueue::Memory`] in
//!   tests); [`received`] writes the `Received:` header; [`reply`] names
//!   every reply; [`log`] is where log lines go.
//! - [`config::Settings`] holds the parameters; [`networks`] matches
//!   mynetworks-style client lists; [`header_rewrite`] decides whose
//!   headers cleanup rewrites; [`tls`] loads the certificate; [`client`]
//!   names the peer.
#![forbid(unsafe_code)]

pub mod bare_newline;
pub mod client;
pub mod command;
pub mod config;
pub mod conn;
pub mod data_reader;
pub mod enqueue;
pub mod header_rewrite;
pub mod lines;
pub mod log;
pub mod networks;
pub mod received;
pub mod reply;
pub mod restrictions;
pub mod server;
pub mod session;
pub mod tls;

pub use config::Settings;
