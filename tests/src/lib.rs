//! The end-to-end harness: start our real binaries in a throw-away
//! instance and drive them with real clients.
//!
//! - [`Instance`] is a temporary root with `etc/` (main.cf, master.cf and
//!   maps, from templates with `{root}`, `{port}`, ... filled in), `spool/`,
//!   `mail/`, `data/` and `log/`. It is removed when the test passes and
//!   kept (its path printed) when it fails.
//! - [`Daemon`] runs one program in its own process group, copies its
//!   stdout and stderr into a log file, waits for an exact readiness line,
//!   and kills the whole group on drop, printing the logs if the test
//!   failed.
//! - [`our_binary`] finds a binary of this workspace in the target
//!   directory; [`peer`] and [`require_peer!`] find a real peer program
//!   (Postfix's `postconf`, swaks, python3, ...) or skip the test, except
//!   under `CI=true`, where a missing peer fails it.
//! - [`RealPostfix`] runs the distribution's Postfix as a private
//!   instance, the oracle of differential tests; [`smtp_client`] is a
//!   minimal client with exact control of the wire.
//! - [`free_port`], [`wait_until`] and [`run_clean`] are the small
//!   helpers around them.
//!
//! ```no_run
//! use e2e::{Instance, require_peer};
//!
//! let swaks = require_peer!("swaks");
//! let inst = Instance::builder().param("mydestination", "localhost").build();
//! let _smtpd = inst.start_smtpd();
//! let status = std::process::Command::new(swaks)
//!     .args(["--server", &inst.smtp_addr(), "--to", "user@localhost"])
//!     .status()
//!     .unwrap();
//! assert!(status.success());
//! ```
#![forbid(unsafe_code)]

pub mod binary;
pub mod daemon;
pub mod instance;
pub mod peer;
mod pgroup;
pub mod port;
pub mod real_postfix;
pub mod run;
pub mod smtp_client;
pub mod smtpd;
pub mod wait;

pub use binary::{our_binary, workspace_root};
pub use daemon::Daemon;
pub use instance::Instance;
pub use peer::peer;
pub use pgroup::is_alive;
pub use port::free_port;
pub use real_postfix::RealPostfix;
pub use run::run_clean;
pub use wait::wait_until;
