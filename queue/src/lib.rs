//! The on-disk queue: where messages wait between receipt and delivery.
//!
//! - [`QueueId`] ([`id`]): Postfix's long queue IDs, sortable by arrival
//!   time and safe as file names.
//! - [`QueueDirs`], [`QueueName`] ([`dir`]): the directories under
//!   `$queue_directory` and their modes.
//! - [`record`]: the record codec of queue files (type byte, 32-bit
//!   length, payload); `docs/queue-format.md` specifies the format.
//! - [`envelope`]: [`Recipient`], [`Notify`] (DSN), attribute names.
//! - [`Writer`], [`Committer`], [`Pending`] ([`writer`]): durable
//!   enqueue, committed in batches on a thread of its own; [`writer::mark_done`] for recipients.
//! - [`QueueFile`] ([`reader`]): validating reader for untrusted queue
//!   files; [`reader::quarantine`] moves damaged ones to `corrupt/`.
//! - [`Reply`], [`ReplyCode`], [`EnhancedStatus`] ([`reply`]): SMTP
//!   replies as values, shared by smtpd, cleanup and the smtp client.
//!
//! The `postcat` binary prints queue files.
#![forbid(unsafe_code)]

mod checksum;
pub mod dir;
pub mod envelope;
pub mod error;
pub mod id;
pub mod reader;
pub mod record;
pub mod reply;
pub mod writer;

pub use dir::{QueueDirs, QueueName};
pub use envelope::{Envelope, Notify, Recipient};
pub use error::{Corruption, Error};
pub use id::QueueId;
pub use reader::QueueFile;
pub use record::RecordType;
pub use reply::{EnhancedStatus, Reply, ReplyCode};
pub use writer::{Committed, Committer, Pending, Writer};
