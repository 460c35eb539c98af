//! Message content: DATA and BDAT chunks read from the stream, through
//! the sans-I/O readers, into the queue (via [`crate::enqueue`]). The
//! queue file is opened when content starts (the queue ID is logged
//! then, `ID: client=...`), gets the recipients and our `Received:`
//! header first, and is finished after the end (the queue's commit
//! thread fsyncs it); the reply waits for it.

use std::time::SystemTime;

use cleanup::Outcome;
use queue::QueueId;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{COMMAND_READ, Conn, Stop, Stream};
use crate::command::RcptTo;
use crate::data_reader::{ChunkReader, DataReader, Verdict};
use crate::enqueue::{self, Backend, Message};
use crate::session::{Delivery, Ended, Response, Session};

/// Where records go: the open message, or nowhere after a failure (the
/// content is still read to its end).
pub(super) struct Sink<M> {
    message: Option<M>,
    id: Option<QueueId>,
    error: Option<String>,
}

impl<M: Message> Sink<M> {
    fn line(&mut self, bytes: &[u8], complete: bool) {
        if self.error.is_some() {
            return;
        }
        if let Some(m) = &mut self.message
            && let Err(e) = m.line(bytes, complete)
        {
            self.error = Some(e.0);
        }
    }

    /// Make the message durable, or say why not. The end-of-data
    /// restrictions come first: their refusal drops the message; then
    /// the restrictions' actions go with it.
    async fn finish(mut self, verdict: Verdict, session: &mut Session) -> Ended {
        if matches!(verdict, Verdict::Ok { .. })
            && self.error.is_none()
            && let Some(reply) = session.check_end_of_data()
        {
            return Ended {
                id: self.id,
                delivery: Delivery::Rejected(reply),
            };
        }
        if let Some(m) = &mut self.message {
            m.apply(session.actions());
        }
        let id = self.id;
        let delivery = match (verdict, self.error, self.message) {
            (Verdict::TooBig, _, _) => Delivery::TooBig,
            (Verdict::BareNewline, _, _) => Delivery::BareNewline,
            (Verdict::Ok { .. }, Some(why), _) => Delivery::Failed(why),
            (Verdict::Ok { .. }, None, None) => Delivery::Failed("no queue file".into()),
            (Verdict::Ok { .. }, None, Some(m)) => match m.finish().await {
                Ok(Outcome::Queued { id, size }) => Delivery::Queued { id, size },
                Ok(Outcome::Discarded { id }) => Delivery::Discarded { id },
                Ok(Outcome::Rejected { reply, .. }) => Delivery::Rejected(reply),
                Err(e) => Delivery::Failed(e.0),
            },
        };
        Ended { id, delivery }
    }
}

/// Recipients, then the PREPEND headers and the `Received:` lines as the
/// first content.
fn write_envelope<M: Message>(
    m: &mut M,
    recipients: &[RcptTo],
    prepend: &[String],
    headers: &[String],
) -> Result<(), enqueue::Error> {
    for r in recipients {
        m.add_recipient(&r.address, r.notify, r.orcpt.as_deref())?;
    }
    for h in prepend.iter().chain(headers) {
        m.line(h.as_bytes(), true)?;
    }
    Ok(())
}

/// A BDAT sequence between chunks.
pub(super) struct Inflight<M> {
    sink: Sink<M>,
    reader: ChunkReader,
}

impl<B: Backend> Conn<B> {
    /// Open the queue file for the current transaction and write the
    /// envelope recipients and the `Received:` header.
    async fn open_sink(&mut self) -> Sink<B::Message> {
        let arrival = SystemTime::now();
        let session = &self.session;
        let Some(txn) = session.transaction() else {
            return Sink {
                message: None,
                id: None,
                error: Some("no transaction".into()),
            };
        };
        let opened = self.backend.open(
            &session.origin(),
            &txn.from.address,
            &session.sender_params(),
            arrival,
        );
        let mut message = match opened {
            Ok(m) => m,
            Err(e) => {
                return Sink {
                    message: None,
                    id: None,
                    error: Some(e.0),
                };
            }
        };
        let id = message.id().clone();
        session.opened(&id);
        let headers = session.received(&id, arrival);
        let prepend = &session.actions().prepend;
        let error = write_envelope(&mut message, &txn.recipients, prepend, &headers)
            .err()
            .map(|e| e.0);
        self.session.set_queue_id(Some(&id));
        Sink {
            message: Some(message),
            id: Some(id),
            error,
        }
    }

    /// DATA content up to CRLF.CRLF, then the final reply.
    pub(super) async fn read_data<S>(&mut self, stream: &mut Stream<S>) -> Result<Response, Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let mut sink = self.open_sink().await;
        let settings = &self.settings;
        let mut reader = DataReader::new(
            self.session.mode(),
            settings.line_length_limit,
            settings.message_size_limit,
        );
        loop {
            let progress = reader.feed(&self.buf, &mut |b: &[u8], c| sink.line(b, c));
            self.buf.drain(..progress.used);
            if progress.done {
                break;
            }
            self.read_content(stream).await?;
        }
        let ended = sink.finish(reader.verdict(), &mut self.session).await;
        self.buf.shrink_to(COMMAND_READ);
        Ok(self.session.message_done(ended, None))
    }

    /// One BDAT chunk; after the LAST one, the message's final reply.
    pub(super) async fn read_chunk<S>(
        &mut self,
        stream: &mut Stream<S>,
        size: u64,
        last: bool,
    ) -> Result<Response, Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let mut inflight = match self.chunks.take() {
            Some(inflight) => inflight,
            None => {
                let settings = &self.settings;
                let reader = ChunkReader::new(
                    self.session.mode(),
                    settings.line_length_limit,
                    settings.message_size_limit,
                );
                Inflight {
                    sink: self.open_sink().await,
                    reader,
                }
            }
        };
        let Inflight { sink, reader } = &mut inflight;
        reader.start_chunk(size);
        loop {
            let used = reader.feed(&self.buf, &mut |b: &[u8], c| sink.line(b, c));
            self.buf.drain(..used);
            if reader.remaining() == 0 {
                break;
            }
            self.read_content(stream).await?;
        }
        if !last {
            self.chunks = Some(inflight);
            return Ok(self.session.chunk_ok(size));
        }
        let Inflight {
            mut sink,
            mut reader,
        } = inflight;
        reader.finish(&mut |b: &[u8], c| sink.line(b, c));
        let total = reader.total();
        let ended = sink.finish(reader.verdict(), &mut self.session).await;
        self.buf.shrink_to(COMMAND_READ);
        Ok(self.session.message_done(ended, Some(total)))
    }

    /// Read `size` bytes and drop them.
    pub(super) async fn discard<S>(&mut self, stream: &mut Stream<S>, size: u64) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let mut left = size;
        loop {
            let take = self
                .buf
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            self.buf.drain(..take);
            left -= take as u64;
            if left == 0 {
                self.buf.shrink_to(COMMAND_READ);
                return Ok(());
            }
            self.read_content(stream).await?;
        }
    }
}
