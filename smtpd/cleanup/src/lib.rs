//! Message cleanup: the content pipeline between a receiving program
//! (smtpd now, pickup later) and the queue.
//!
//! - [`Cleanup`] is built once per process from main.cf: the tables, the
//!   checks and the queue directory. [`Cleanup::open`] starts a
//!   [`Message`]; recipients and content records go in, and
//!   [`Message::finish`] gives the [`Outcome`] once the queue file and
//!   its directory entry are on disk. [`Message::hold`],
//!   [`Message::discard`], [`Message::filter`], [`Message::redirect`] and
//!   [`Message::add_bcc`] record the receiving program's own decisions
//!   (smtpd's access restrictions) with the checks' verdict.
//! - [`mime`] walks message content record by record (Postfix
//!   `mime_state`): logical headers, body lines, MIME structure, defects,
//!   and the 8bit to quoted-printable downgrade.
//! - [`checks`] applies header_checks, mime_header_checks,
//!   nested_header_checks and body_checks to that walk and collects the
//!   verdict (reject, discard, hold, filter, redirect, bcc).
//! - [`addresses`] completes and maps envelope and header addresses
//!   (canonical maps, masquerading); [`date`] formats `Date:` stamps.
//!
//! Log lines go through `tracing` with target `cleanup`, in Postfix's
//! words, starting with the queue ID.
#![forbid(unsafe_code)]

pub mod addresses;
pub mod checks;
pub mod date;
mod error;
mod headers;
mod message;
pub mod mime;
mod origin;

use std::sync::Arc;
use std::time::SystemTime;

use conf::Config;
use postmap::OpenOptions;
use queue::{Committer, QueueDirs};

pub use error::Error;
pub use message::{Message, Outcome};
pub use origin::{BodyType, Origin, Ret, SenderParams};

/// Every parameter cleanup reads (with the `address` and `checks` code it
/// runs), for the headers of the programs that use it.
pub const PARAMETERS: &[&str] = &[
    "allow_percent_hack",
    "always_add_missing_headers",
    "append_at_myorigin",
    "append_dot_mydomain",
    "body_checks",
    "body_checks_size_limit",
    "canonical_classes",
    "canonical_maps",
    "content_filter",
    "disable_mime_input_processing",
    "double_bounce_sender",
    "enable_original_recipient",
    "header_address_token_limit",
    "header_checks",
    "header_size_limit",
    "hopcount_limit",
    "inet_interfaces",
    "inet_protocols",
    "masquerade_classes",
    "masquerade_domains",
    "masquerade_exceptions",
    "message_drop_headers",
    "mime_boundary_length_limit",
    "mime_header_checks",
    "mime_nesting_limit",
    "mydestination",
    "mydomain",
    "myhostname",
    "myorigin",
    "nested_header_checks",
    "owner_request_special",
    "propagate_unmatched_extensions",
    "proxy_interfaces",
    "queue_directory",
    "recipient_canonical_classes",
    "recipient_canonical_maps",
    "recipient_delimiter",
    "remote_header_rewrite_domain",
    "sender_canonical_classes",
    "sender_canonical_maps",
    "smtputf8_enable",
    "strict_7bit_headers",
    "strict_8bitmime",
    "strict_8bitmime_body",
    "strict_mime_encoding_domain",
    "swap_bangpath",
    "undisclosed_recipients_header",
];

/// Everything cleanup needs, built once per process; see the crate
/// documentation.
#[derive(Debug)]
pub struct Cleanup {
    dirs: QueueDirs,
    committer: Committer,
    rewriter: addresses::Rewriter,
    checks: Arc<checks::Maps>,
    mime_options: mime::Options,
    limits: mime::Limits,
    myhostname: String,
    always_add_missing_headers: bool,
    undisclosed_recipients_header: String,
    hopcount_limit: usize,
    enable_original_recipient: bool,
    /// `content_filter`: where every message goes first, unless a FILTER
    /// action names another place.
    content_filter: Option<String>,
    /// `header_address_token_limit`.
    token_limit: usize,
}

impl Cleanup {
    /// Reads the parameters and opens the tables they name (table
    /// warnings are logged). The queue directory must exist.
    pub fn new(config: &Config) -> Result<Cleanup, Error> {
        let opts = OpenOptions::default();
        let (maps, warnings) = checks::Maps::from_config(config, checks::Family::Cleanup)?;
        for warning in warnings {
            tracing::warn!(target: "cleanup", "{warning}");
        }
        let maps = Arc::new(maps);
        let mime_options = checks::cleanup_mime_options(config, &maps, true)?;
        let text = |name: &str| config.get(name).map(Option::unwrap_or_default);
        Ok(Cleanup {
            dirs: QueueDirs::new(text("queue_directory")?),
            committer: Committer::new(),
            rewriter: addresses::Rewriter::from_config(config, &opts)?,
            checks: maps,
            mime_options,
            limits: mime::Limits::from_config(config)?,
            myhostname: text("myhostname")?,
            always_add_missing_headers: config.get_bool("always_add_missing_headers")?,
            undisclosed_recipients_header: text("undisclosed_recipients_header")?,
            hopcount_limit: usize::try_from(config.get_int("hopcount_limit")?).unwrap_or(0),
            enable_original_recipient: config.get_bool("enable_original_recipient")?,
            content_filter: Some(text("content_filter")?).filter(|f| !f.is_empty()),
            token_limit: usize::try_from(config.get_int("header_address_token_limit")?)
                .unwrap_or(0),
        })
    }

    /// The queue this cleanup writes into.
    pub fn queue_dirs(&self) -> &QueueDirs {
        &self.dirs
    }

    /// Starts a message from `sender` (internal form; empty for the null
    /// sender): creates its queue file under a temporary name and writes
    /// the envelope so far.
    pub fn open(
        self: &Arc<Self>,
        origin: &Origin,
        sender: &str,
        params: &SenderParams,
        arrival: SystemTime,
    ) -> Result<Message, Error> {
        Message::open(Arc::clone(self), origin, sender, params, arrival)
    }
}
