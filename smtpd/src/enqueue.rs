//! The hand-off of accepted mail: the only module that knows where a
//! message goes. Production uses [`cleanup::Cleanup`] (durable queue
//! files, header and body checks); tests use [`Memory`].
//!
//! Opening a message (creating an unnamed file, a few microseconds),
//! recipients and content lines (buffered writes to the page cache) are
//! done in place: a hand-off to a blocking thread would cost more than
//! they do. Finishing waits, without a thread of its own, for the queue's
//! committer threads to sync the file and its directory, the directory
//! once for many sessions' files (`queue::writer::commit`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use cleanup::{Origin, Outcome, SenderParams};
use queue::{Notify, QueueId};

use crate::restrictions::Actions;

/// A local failure: the client gets a 4xx and may try again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

/// Where messages go.
pub trait Backend: Send + Sync + 'static {
    type Message: Message;

    /// Start a message. Called on the async threads: it must not wait
    /// for the disk (creating a file does not).
    fn open(
        self: &Arc<Self>,
        origin: &Origin,
        sender: &str,
        params: &SenderParams,
        arrival: SystemTime,
    ) -> Result<Self::Message, Error>;
}

/// One message being written.
pub trait Message: Send + 'static {
    fn id(&self) -> &QueueId;
    fn add_recipient(
        &mut self,
        address: &str,
        notify: Notify,
        orcpt: Option<&str>,
    ) -> Result<(), Error>;
    /// A content record without line ending; `complete = false`: the
    /// line continues in the next record.
    fn line(&mut self, bytes: &[u8], complete: bool) -> Result<(), Error>;
    /// What the restrictions decided for the message: HOLD, DISCARD,
    /// FILTER, REDIRECT, BCC (PREPEND is content, written with
    /// [`Message::line`]).
    fn apply(&mut self, actions: &Actions);
    /// Make it durable: the 250 waits for this. The future must not
    /// block its thread.
    fn finish(self) -> impl Future<Output = Result<Outcome, Error>> + Send + 'static;
}

impl Backend for cleanup::Cleanup {
    type Message = cleanup::Message;

    fn open(
        self: &Arc<Self>,
        origin: &Origin,
        sender: &str,
        params: &SenderParams,
        arrival: SystemTime,
    ) -> Result<cleanup::Message, Error> {
        cleanup::Cleanup::open(self, origin, sender, params, arrival).map_err(failed)
    }
}

fn failed(e: cleanup::Error) -> Error {
    Error(e.to_string())
}

impl Message for cleanup::Message {
    fn id(&self) -> &QueueId {
        cleanup::Message::id(self)
    }

    fn add_recipient(
        &mut self,
        address: &str,
        notify: Notify,
        orcpt: Option<&str>,
    ) -> Result<(), Error> {
        cleanup::Message::add_recipient(self, address, notify, orcpt).map_err(failed)
    }

    fn line(&mut self, bytes: &[u8], complete: bool) -> Result<(), Error> {
        cleanup::Message::line(self, bytes, complete).map_err(failed)
    }

    fn apply(&mut self, actions: &Actions) {
        if actions.hold {
            self.hold("");
        }
        if actions.discard {
            self.discard();
        }
        if let Some(nexthop) = &actions.filter {
            self.filter(nexthop);
        }
        if let Some(address) = &actions.redirect {
            self.redirect(address);
        }
        for address in &actions.bcc {
            self.add_bcc(address);
        }
    }

    fn finish(self) -> impl Future<Output = Result<Outcome, Error>> + Send + 'static {
        let committing = cleanup::Message::commit(self);
        async move { committing.await.map_err(failed) }
    }
}

/// A message kept in memory by [`Memory`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: QueueId,
    pub origin: Origin,
    pub sender: String,
    pub params: SenderParams,
    pub recipients: Vec<(String, Notify, Option<String>)>,
    /// The content as records.
    pub records: Vec<(Vec<u8>, bool)>,
    /// What the restrictions decided.
    pub actions: Actions,
}

impl Stored {
    /// The content with CRLF line endings (records joined).
    pub fn content(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (bytes, complete) in &self.records {
            out.extend_from_slice(bytes);
            if *complete {
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }
}

/// An in-memory backend for tests: every finished message is kept.
/// Message N gets the queue ID of inode N at the epoch (`0000000000z1`,
/// `0000000000z2`, ...), so that fixtures can name it.
#[derive(Debug, Default)]
pub struct Memory {
    next: AtomicU64,
    stored: Arc<Mutex<Vec<Stored>>>,
}

impl Memory {
    pub fn new() -> Memory {
        Memory::default()
    }

    /// The messages finished so far.
    pub fn messages(&self) -> Vec<Stored> {
        self.stored.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// A message of [`Memory`].
#[derive(Debug)]
pub struct MemoryMessage {
    stored: Stored,
    sink: Arc<Mutex<Vec<Stored>>>,
}

impl Backend for Memory {
    type Message = MemoryMessage;

    fn open(
        self: &Arc<Self>,
        origin: &Origin,
        sender: &str,
        params: &SenderParams,
        _arrival: SystemTime,
    ) -> Result<MemoryMessage, Error> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(MemoryMessage {
            stored: Stored {
                id: QueueId::new(UNIX_EPOCH, n),
                origin: origin.clone(),
                sender: sender.to_string(),
                params: params.clone(),
                recipients: Vec::new(),
                records: Vec::new(),
                actions: Actions::default(),
            },
            sink: Arc::clone(&self.stored),
        })
    }
}

impl Message for MemoryMessage {
    fn id(&self) -> &QueueId {
        &self.stored.id
    }

    fn add_recipient(
        &mut self,
        address: &str,
        notify: Notify,
        orcpt: Option<&str>,
    ) -> Result<(), Error> {
        let orcpt = orcpt.map(str::to_string);
        self.stored
            .recipients
            .push((address.to_string(), notify, orcpt));
        Ok(())
    }

    fn line(&mut self, bytes: &[u8], complete: bool) -> Result<(), Error> {
        self.stored.records.push((bytes.to_vec(), complete));
        Ok(())
    }

    fn apply(&mut self, actions: &Actions) {
        self.stored.actions = actions.clone();
    }

    fn finish(self) -> impl Future<Output = Result<Outcome, Error>> + Send + 'static {
        let size = self.stored.content().len() as u64;
        let id = self.stored.id.clone();
        let stored = self
            .sink
            .lock()
            .map_err(|_| Error("memory queue poisoned".into()))
            .map(|mut sink| sink.push(self.stored));
        async move { stored.map(|()| Outcome::Queued { id, size }) }
    }
}
