//! One connection: reads command lines and content from the stream,
//! feeds the [`Session`], writes its replies. All protocol decisions are
//! the session's; this module owns the I/O policy:
//!
//! - replies are buffered and written before every read, so pipelined
//!   commands get their replies in one write (RFC 2920);
//! - every read has `smtpd_timeout` (421 4.4.2 after it); a read for a
//!   command also ends on shutdown (421), a read inside DATA or BDAT
//!   does not, so a message in flight is finished;
//! - the input buffer starts at 1 KiB and grows only while a long line or
//!   message content needs it, so idle sessions stay small;
//! - after STARTTLS every buffered byte is dropped before the handshake.

mod content;
mod stream;

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

pub use stream::Stream;

use crate::client::Client;
use crate::command::{self, CommandReader, Next as LineNext};
use crate::config::Settings;
use crate::enqueue::Backend;
use crate::reply::{self, Reply};
use crate::restrictions::dns;
use crate::session::{Next, Response, Session};
use crate::tls::Tls;

/// Read size for commands; the buffer grows past it only for long lines.
const COMMAND_READ: usize = 1024;
/// Read size inside DATA and BDAT.
const CONTENT_READ: usize = 64 * 1024;

/// Why a session ended.
#[derive(Debug)]
enum Stop {
    /// After QUIT, 421, 221 and the like: the reply is queued.
    Closed,
    /// The client went away.
    Lost,
    /// `smtpd_timeout` passed waiting for the client.
    Timeout,
    /// The server is stopping.
    Shutdown,
}

/// What the loop does after a command.
enum Step {
    Continue,
    Close,
    StartTls,
}

/// Serve one client on `stream` until it quits, fails or the server
/// stops. `tls` is the loaded certificate, if STARTTLS is configured.
pub async fn serve<S, B>(
    stream: S,
    client: Client,
    settings: Arc<Settings>,
    backend: Arc<B>,
    tls: Option<Arc<Tls>>,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    let client = look_up_names(&settings, client).await;
    let session = Session::new(Arc::clone(&settings), client, tls.is_some());
    let mut conn = Conn {
        reader: CommandReader::new(settings.line_length_limit),
        settings,
        session,
        backend,
        tls,
        shutdown,
        buf: Vec::new(),
        out: Vec::new(),
        chunks: None,
    };
    let log = conn.session.log().clone();
    log.info(format_args!(
        "connect from {}",
        conn.session.client().namaddr()
    ));
    conn.run(Stream::Plain(stream)).await;
    log.info(conn.session.disconnect_line());
}

/// The client's names (`smtpd_peername_lookup`), before the banner as
/// Postfix does: from /etc/hosts and cached answers on this worker when
/// they suffice, else on a blocking thread.
async fn look_up_names(settings: &Arc<Settings>, client: Client) -> Client {
    if !settings.peername_lookup {
        return client.without_lookup();
    }
    let Some(engine) = &settings.restrictions else {
        return client;
    };
    let addr = client.addr;
    let found = match dns::without_waiting(|| dns::client(engine.dns(), addr)) {
        Some(found) => Some(found),
        None => {
            let shared = Arc::clone(settings);
            tokio::task::spawn_blocking(move || {
                let engine = shared.restrictions.as_ref()?;
                Some(dns::client(engine.dns(), addr))
            })
            .await
            .ok()
            .flatten()
        }
    };
    let Some((names, warning)) = found else {
        return client;
    };
    if let Some(warning) = warning {
        settings.log.warning(warning);
    }
    client.with_names(names)
}

/// The state of one connection besides the stream.
struct Conn<B: Backend> {
    settings: Arc<Settings>,
    session: Session,
    backend: Arc<B>,
    tls: Option<Arc<Tls>>,
    shutdown: CancellationToken,
    reader: CommandReader,
    /// Input not yet used.
    buf: Vec<u8>,
    /// Replies not yet written.
    out: Vec<u8>,
    /// The message of a BDAT sequence, between chunks.
    chunks: Option<content::Inflight<B::Message>>,
}

impl<B: Backend> Conn<B> {
    async fn run<S>(&mut self, mut stream: Stream<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let mut result = self.greet(&mut stream).await;
        while result.is_ok() {
            result = match self.step(&mut stream).await {
                Ok(Step::Continue) => Ok(()),
                Ok(Step::Close) => Err(Stop::Closed),
                Ok(Step::StartTls) => match self.start_tls(stream).await {
                    Ok(tls) => {
                        stream = tls;
                        Ok(())
                    }
                    // The plain stream is gone with the failed handshake.
                    Err(stop) => return self.log_stop(&stop),
                },
                Err(stop) => Err(stop),
            };
        }
        if let Err(stop) = result {
            self.end(&mut stream, &stop).await;
        }
    }

    /// The banner, unless the client talked first (pre-greet pipelining).
    async fn greet<S>(&mut self, stream: &mut Stream<S>) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        // Let the runtime see input that arrived with the connection,
        // then look without waiting, as Postfix does before its banner.
        tokio::task::yield_now().await;
        self.buf.reserve(COMMAND_READ);
        // One poll, no timer: a zero timeout would wait for the next tick
        // of tokio's 1 ms timer wheel, before every banner. Dropping the
        // pending read loses nothing (`read_buf` is cancel-safe).
        let early = {
            let read = stream.read_buf(&mut self.buf);
            tokio::pin!(read);
            std::future::poll_fn(|cx| {
                Poll::Ready(match read.as_mut().poll(cx) {
                    Poll::Ready(result) => Some(result),
                    Poll::Pending => None,
                })
            })
            .await
        };
        if matches!(early, Some(Ok(0) | Err(_))) {
            return Err(Stop::Lost);
        }
        if let Some(reply) = self.session.screen_pregreet(&self.buf) {
            self.push(&reply);
            return Err(Stop::Closed);
        }
        let greeting = self.session.greeting();
        self.push(&greeting);
        Ok(())
    }

    /// Answer the next command line, reading more input if needed.
    async fn step<S>(&mut self, stream: &mut Stream<S>) -> Result<Step, Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        if let Some(reply) = self.session.too_many_errors() {
            // fail2ban's postfix filter bans on this line.
            self.session.log().info(format_args!(
                "too many errors after {} from {}",
                self.session.last_command(),
                self.session.client().namaddr()
            ));
            self.push(&reply);
            return Ok(Step::Close);
        }
        let Some(response) = self.next_command() else {
            self.read_command(stream).await?;
            return Ok(Step::Continue);
        };
        let step = self.follow(stream, response).await?;
        if !self.session.is_chunking() {
            // RSET, QUIT or an error ended a BDAT sequence: abort it.
            self.chunks = None;
        }
        Ok(step)
    }

    /// Parse and answer one complete line from the buffer, if there is
    /// one.
    fn next_command(&mut self) -> Option<Response> {
        let (line, used) = match self.reader.next(&self.buf) {
            LineNext::NeedMore { used } => {
                self.buf.drain(..used);
                return None;
            }
            LineNext::Line { line, used } => (line, used),
        };
        if line.truncated {
            self.session.log().warning(format_args!(
                "{}: request longer than {}: {}...",
                self.session.client().namaddr(),
                self.settings.line_length_limit,
                crate::log::escape(&line.text, 30)
            ));
        }
        let parsed = command::parse(
            &line.text,
            self.settings.smtputf8,
            self.settings.strict_rfc821_envelopes,
        );
        let pending = if parsed.verb == command::Verb::Bdat {
            &[][..]
        } else {
            &self.buf[used..]
        };
        let response = match self.session.screen(&line, parsed.verb, pending) {
            Some(stop) => stop,
            None => self.session.handle(parsed),
        };
        self.buf.drain(..used);
        Some(response)
    }

    /// Send the response's reply and do what it says next.
    async fn follow<S>(&mut self, stream: &mut Stream<S>, response: Response) -> Result<Step, Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let next = response.next.clone();
        self.answer(response).await;
        let after = match next {
            Next::Continue => return Ok(Step::Continue),
            Next::Close => return Ok(Step::Close),
            Next::StartTls => return Ok(Step::StartTls),
            Next::ReadData => self.read_data(stream).await?,
            Next::ReadChunk { size, last } => self.read_chunk(stream, size, last).await?,
            Next::DiscardChunk { size, then } => {
                self.discard(stream, size).await?;
                self.session.chunk_discarded(then)
            }
        };
        self.answer(after).await;
        Ok(Step::Continue)
    }

    /// Queue a response's reply, after its error delay.
    async fn answer(&mut self, response: Response) {
        if let Some(delay) = response.delay {
            tokio::time::sleep(delay).await;
        }
        if let Some(reply) = &response.reply {
            self.push(reply);
        }
    }

    fn push(&mut self, reply: &Reply) {
        self.out.extend_from_slice(reply.render().as_bytes());
    }

    /// Write queued replies.
    async fn flush<S>(&mut self, stream: &mut Stream<S>) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            stream.write_all(&self.out).await?;
            stream.flush().await
        };
        match tokio::time::timeout(self.settings.timeout, write).await {
            Ok(Ok(())) => {
                self.out.clear();
                self.out.shrink_to(COMMAND_READ);
                Ok(())
            }
            Ok(Err(_)) => Err(Stop::Lost),
            Err(_) => Err(Stop::Timeout),
        }
    }

    /// Write replies, then wait for more command input.
    async fn read_command<S>(&mut self, stream: &mut Stream<S>) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        self.flush(stream).await?;
        let shutdown = self.shutdown.clone();
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => Err(Stop::Shutdown),
            read = fill(stream, &mut self.buf, COMMAND_READ, self.settings.timeout) => read,
        }
    }

    /// Write replies, then wait for more content (no shutdown check: a
    /// message in flight is finished).
    async fn read_content<S>(&mut self, stream: &mut Stream<S>) -> Result<(), Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        self.flush(stream).await?;
        fill(stream, &mut self.buf, CONTENT_READ, self.settings.timeout).await
    }

    /// STARTTLS accepted: drop what the client sent before the handshake
    /// (RFC 3207 §4.2; CVE-2011-0411), then shake hands.
    async fn start_tls<S>(&mut self, stream: Stream<S>) -> Result<Stream<S>, Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let mut stream = stream;
        self.flush(&mut stream).await?;
        self.buf.clear();
        self.buf.shrink_to(COMMAND_READ);
        self.reader = CommandReader::new(self.settings.line_length_limit);
        let (Some(tls), Stream::Plain(plain)) = (self.tls.clone(), stream) else {
            return Err(Stop::Closed);
        };
        let accept = tls.acceptor.accept(plain);
        match tokio::time::timeout(self.settings.tls.handshake_timeout, accept).await {
            Ok(Ok(tls_stream)) => {
                let info = tls.describe(tls_stream.get_ref().1);
                self.session.tls_started(info);
                Ok(Stream::Tls(Box::new(tls_stream)))
            }
            Ok(Err(e)) => {
                self.session.log().info(format_args!(
                    "SSL_accept error from {}: {e}",
                    self.session.client().namaddr()
                ));
                Err(Stop::Lost)
            }
            Err(_) => Err(Stop::Timeout),
        }
    }

    /// The last words: 421 on timeout or shutdown, then the log line.
    async fn end<S>(&mut self, stream: &mut Stream<S>, stop: &Stop)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let host = &self.settings.myhostname;
        match stop {
            Stop::Timeout => self.push(&reply::timeout(host)),
            Stop::Shutdown => self.push(&reply::shutting_down(host)),
            Stop::Closed | Stop::Lost => {}
        }
        if !matches!(stop, Stop::Lost) {
            // A client that is gone cannot be told; that is all.
            let _ = self.flush(stream).await;
            // TLS says goodbye (close_notify); a plain connection's FIN
            // goes out when it is closed, without a system call of its own.
            if let Stream::Tls(_) = stream {
                let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
            }
        }
        self.log_stop(stop);
    }

    fn log_stop(&self, stop: &Stop) {
        let what = match stop {
            Stop::Lost => "lost connection",
            Stop::Timeout => "timeout",
            Stop::Closed | Stop::Shutdown => return,
        };
        self.session.log().info(format_args!(
            "{what} after {} from {}",
            self.session.last_command(),
            self.session.client().namaddr()
        ));
    }
}

/// One read into `buf`, with at least `want` bytes of room.
async fn fill<S>(
    stream: &mut Stream<S>,
    buf: &mut Vec<u8>,
    want: usize,
    timeout: Duration,
) -> Result<(), Stop>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    if buf.capacity() - buf.len() < want / 2 {
        buf.reserve(want);
    }
    match tokio::time::timeout(timeout, stream.read_buf(buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => Err(Stop::Lost),
        Ok(Ok(_)) => Ok(()),
        Err(_) => Err(Stop::Timeout),
    }
}
