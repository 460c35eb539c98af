//! The hand-off of accepted mail: the only module that knows where a
//! message goes. Production uses [`cleanup::Cleanup`] (durable queue
//! files, header and body checks); tests use [`Memory`].
//!
//! Opening and finishing a message are blocking file operations (create,
//! fsync, rename) and run in `spawn_blocking`; recipients and content
//! lines are buffered writes, done in place.

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

    /// Start a message (blocking).
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
    /// Make it durable (blocking): the 250 waits for this.
    fn finish(self) -> Result<Outcome, Error>;
}

/// [`Backend::open`] off the async threads.
pub async fn open<B: Backend>(
    backend: &Arc<B>,
    origin: Origin,
    sender: String,
    params: SenderParams,
    arrival: SystemTime,
) -> Result<B::Message, Error> {
    let backend = Arc::clone(backend);
    tokio::task::spawn_blocking(move || backend.open(&origin, &sender, &params, arrival))
        .await
        .map_err(|e| Error(format!("open task failed: {e}")))?
}

/// [`Message::finish`] off the async threads.
pub async fn finish<M: Message>(message: M) -> Result<Outcome, Error> {
    tokio::task::spawn_blocking(move || message.finish())
        .await
        .map_err(|e| Error(format!("finish task failed: {e}")))?
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

    fn finish(self) -> Result<Outcome, Error> {
        cleanup::Message::finish(self).map_err(failed)
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

    fn finish(self) -> Result<Outcome, Error> {
        let size = self.stored.content().len() as u64;
        let id = self.stored.id.clone();
        self.sink
            .lock()
            .map_err(|_| Error("memory queue poisoned".into()))?
            .push(self.stored);
        Ok(Outcome::Queued { id, size })
    }
}
