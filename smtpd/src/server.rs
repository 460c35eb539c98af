//! The accept loop (mini-redis `server.rs`, modernised): one task per
//! connection behind a `Semaphore` sized by [`SessionLimit`] (master.cf
//! `maxproc`, or the descriptor limit): at the limit nothing is accepted
//! until a session ends, so new clients wait in the listen queue and a
//! warning says so, as Postfix's master does when every smtpd is busy;
//! `smtpd_client_connection_count_limit` sessions per client address;
//! and a `TaskTracker` so that shutdown waits for every session to say
//! 421 or finish the message it is receiving. Draining (the master's
//! reload) stops accepting and lets open sessions run to their end.
//! Started by the master, smtpd also ends by itself, with status 0, as
//! Postfix daemons do ([`Lifetime`]): after `max_idle` without a session,
//! and once it has served `max_use` × its session limit sessions and
//! none is open (it never stops accepting for that: no other process
//! would take the waiting clients). The master starts the next one when
//! a client comes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::client::Client;
use crate::config::{SessionLimit, Settings};
use crate::enqueue::Backend;
use crate::reply::{self, Reply};
use crate::tls;

/// How long a refused client gets to read its 421.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The least time between two "reached its process limit" warnings
/// (Postfix's master_avail.c: 1000 seconds).
const BUSY_WARNING_INTERVAL: Duration = Duration::from_secs(1000);

/// Serve SMTP on `listener` (bound by the caller: the master, or a test)
/// until `shutdown` is cancelled, then wait for the sessions to end.
/// Fails only at startup, when the TLS certificate cannot be loaded.
pub async fn run<B: Backend>(
    listener: TcpListener,
    settings: Arc<Settings>,
    backend: Arc<B>,
    shutdown: CancellationToken,
) -> Result<(), tls::Error> {
    let tls = tls::load(&settings.tls)?;
    run_draining(
        listener,
        settings,
        backend,
        tls,
        shutdown,
        CancellationToken::new(),
    )
    .await;
    Ok(())
}

/// [`run`] with the TLS certificate loaded by the caller (before a
/// chroot, where the files are out of reach), and when `drain` is
/// cancelled: close the listener (the master's new process accepts from
/// then on) and return once the open sessions have ended on their own.
/// `shutdown` still ends them early. Returns by itself, too, when
/// `settings.max_idle` or `settings.max_use` say so ([`Lifetime`]).
pub async fn run_draining<B: Backend>(
    listener: TcpListener,
    settings: Arc<Settings>,
    backend: Arc<B>,
    tls: Option<Arc<tls::Tls>>,
    shutdown: CancellationToken,
    drain: CancellationToken,
) {
    let sessions = Arc::new(Semaphore::new(settings.session_limit.max));
    let mut busy = Busy::new(&settings.session_limit, &listener);
    let per_client = Counts::default();
    let mut lifetime = Lifetime::new(&settings);
    let tracker = TaskTracker::new();
    loop {
        let permit = match Arc::clone(&sessions).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                busy.warn(&settings);
                let Some(permit) = wait_for_slot(&sessions, &shutdown, &drain).await else {
                    break;
                };
                permit
            }
        };
        let (socket, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = drain.cancelled() => break,
            () = lifetime.ended() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    settings.log.warning(format_args!("accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = socket.set_nodelay(true);
        let client =
            Client::from_peer(peer, socket.local_addr().ok(), settings.client_port_logging);
        let (slot, count) = per_client.claim(client.addr);
        let limit = settings.client_connection_limit;
        if limit > 0
            && count > limit
            && !settings
                .client_limit_exceptions
                .matches(&client.name, client.addr)
        {
            settings.log.warning(format_args!(
                "Connection concurrency limit exceeded: {count} from {} for service smtp",
                client.namaddr()
            ));
            let addr = client.addr.to_string();
            tracker.spawn(refuse(
                socket,
                reply::too_many_connections_from(&settings.myhostname, &addr),
            ));
            continue;
        }
        let (settings, backend, tls) = (Arc::clone(&settings), Arc::clone(&backend), tls.clone());
        let token = shutdown.child_token();
        let session = lifetime.open();
        tracker.spawn(async move {
            crate::conn::serve(socket, client, settings, backend, tls, token).await;
            drop(permit);
            drop(slot);
            drop(session);
        });
    }
    // Not ours to accept from any more; the sessions go on.
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// A session slot once one frees up; None when told to stop meanwhile.
async fn wait_for_slot(
    sessions: &Arc<Semaphore>,
    shutdown: &CancellationToken,
    drain: &CancellationToken,
) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        _ = shutdown.cancelled() => None,
        _ = drain.cancelled() => None,
        // Err only for a closed semaphore; this one is never closed.
        permit = Arc::clone(sessions).acquire_owned() => permit.ok(),
    }
}

/// The warning when every session slot is taken, at most once per
/// [`BUSY_WARNING_INTERVAL`], in the words of Postfix's master
/// (`service "smtp" (25) has reached its process limit "100": ...`).
struct Busy {
    first: String,
    hint: &'static str,
    last: Option<Instant>,
}

impl Busy {
    fn new(limit: &SessionLimit, listener: &TcpListener) -> Busy {
        // Postfix names the service and its port.
        let port = listener
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.port().to_string());
        let (what, hint) = if limit.is_process_limit {
            (
                "process limit",
                "to avoid this condition, increase the process count \
                 in master.cf or reduce the service time per client",
            )
        } else {
            (
                "session limit (open file limit)",
                "to avoid this condition, raise the open file limit \
                 of the master or reduce the service time per client",
            )
        };
        Busy {
            first: format!(
                "service \"{}\" ({port}) has reached its {what} \"{}\": \
                 new clients may experience noticeable delays",
                limit.service, limit.max
            ),
            hint,
            last: None,
        }
    }

    fn warn(&mut self, settings: &Settings) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < BUSY_WARNING_INTERVAL)
        {
            return;
        }
        self.last = Some(now);
        settings.log.warning(format_args!("{}", self.first));
        settings.log.warning(format_args!("{}", self.hint));
    }
}

/// When a process started by the master ends by itself (Postfix's
/// `max_idle` and `max_use`). `max_use` bounds a Postfix process's life
/// by the clients it served, one at a time; one smtpd serves as many at
/// once as `maxproc` Postfix processes would, so it counts `max_use` ×
/// its session limit and then leaves the first time no session is open.
struct Lifetime {
    open: Arc<Open>,
    served: u64,
    max_idle: Option<Duration>,
    max_sessions: Option<u64>,
}

/// The sessions open now, and a wake-up when the last one ends.
#[derive(Default)]
struct Open {
    count: AtomicUsize,
    none_left: Notify,
}

/// One open session: it closes when this drops.
struct Session(Arc<Open>);

impl Lifetime {
    fn new(settings: &Settings) -> Lifetime {
        let limit = u64::try_from(settings.session_limit.max).unwrap_or(u64::MAX);
        Lifetime {
            open: Arc::default(),
            served: 0,
            max_idle: settings.max_idle,
            max_sessions: settings.max_use.map(|n| n.saturating_mul(limit)),
        }
    }

    fn open(&mut self) -> Session {
        self.served += 1;
        self.open.count.fetch_add(1, Ordering::SeqCst);
        Session(Arc::clone(&self.open))
    }

    fn is_idle(&self) -> bool {
        self.open.count.load(Ordering::SeqCst) == 0
    }

    /// Resolves when the process is to exit: no session open, and
    /// either `max_use` reached or `max_idle` gone by since the last
    /// one ended. Never, without those limits.
    async fn ended(&self) {
        // A wake-up left from an earlier end only means one more look.
        while !self.is_idle() {
            self.open.none_left.notified().await;
        }
        if self.max_sessions.is_some_and(|max| self.served >= max) {
            tracing::debug!(target: "smtpd", "use limit -- exiting");
            return;
        }
        match self.max_idle {
            Some(idle) => tokio::time::sleep(idle).await,
            None => std::future::pending().await,
        }
        tracing::debug!(target: "smtpd", "idle timeout -- exiting");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.none_left.notify_one();
        }
    }
}

/// Say why, then hang up.
async fn refuse(mut socket: TcpStream, why: Reply) {
    let bye = async {
        socket.write_all(why.render().as_bytes()).await?;
        socket.shutdown().await
    };
    // A client that does not read its 421 is dropped all the same.
    let _ = tokio::time::timeout(REFUSE_TIMEOUT, bye).await;
}

/// Sessions per client address.
#[derive(Debug, Default, Clone)]
struct Counts {
    map: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One counted session; dropping it uncounts.
struct Slot {
    counts: Counts,
    addr: IpAddr,
}

impl Counts {
    /// Count a new session from `addr`; returns its slot and the count.
    fn claim(&self, addr: IpAddr) -> (Slot, usize) {
        let count = match self.map.lock() {
            Ok(mut map) => {
                let n = map.entry(addr).or_insert(0);
                *n += 1;
                *n
            }
            Err(_) => 0,
        };
        let slot = Slot {
            counts: self.clone(),
            addr,
        };
        (slot, count)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.counts.map.lock()
            && let Some(n) = map.get_mut(&self.addr)
        {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_go_down_when_slots_drop() {
        let counts = Counts::default();
        let addr: IpAddr = "192.0.2.1".parse().expect("addr");
        let (a, n) = counts.claim(addr);
        assert_eq!(n, 1);
        let (b, n) = counts.claim(addr);
        assert_eq!(n, 2);
        drop(a);
        drop(b);
        assert!(counts.map.lock().expect("lock").is_empty());
    }

    /// Draining closes the listener at once but lets an open session go
    /// on to deliver a message and QUIT, then `run_draining` returns.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn drain_stops_accepting_and_lets_sessions_finish() {
        use tokio::io::{AsyncBufReadExt, BufReader};
        const WAIT: Duration = Duration::from_secs(10);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut settings = Settings::for_tests(&[]).expect("settings");
        settings.log = crate::log::Log::memory().0;
        let backend = Arc::new(crate::enqueue::Memory::new());
        let drain = CancellationToken::new();
        let server = tokio::spawn(run_draining(
            listener,
            Arc::new(settings),
            Arc::clone(&backend),
            None,
            CancellationToken::new(),
            drain.clone(),
        ));
        let mut client = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
        let mut say = async |line: &str| {
            client
                .get_mut()
                .write_all(line.as_bytes())
                .await
                .expect("write");
            let mut reply = String::new();
            loop {
                let mut one = String::new();
                let read = tokio::time::timeout(WAIT, client.read_line(&mut one)).await;
                reply.push_str(&one);
                if read.is_err() || one.len() < 4 || one.as_bytes()[3] == b' ' {
                    return reply;
                }
            }
        };
        assert!(say("").await.starts_with("220 "));
        assert!(say("EHLO client.test\r\n").await.starts_with("250"));
        assert!(
            say("MAIL FROM:<a@example.test>\r\n")
                .await
                .starts_with("250")
        );
        drain.cancel();
        // The listener goes: new connections are refused.
        let refused = async {
            while TcpStream::connect(addr).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(WAIT, refused)
            .await
            .expect("listener closed");
        assert!(!server.is_finished());
        assert!(say("RCPT TO:<b@example.test>\r\n").await.starts_with("250"));
        assert!(say("DATA\r\n").await.starts_with("354"));
        assert!(
            say("Subject: x\r\n\r\nbody\r\n.\r\n")
                .await
                .starts_with("250")
        );
        assert!(say("QUIT\r\n").await.starts_with("221"));
        tokio::time::timeout(WAIT, server)
            .await
            .expect("run_draining returns after the session")
            .expect("no panic");
        assert_eq!(backend.messages().len(), 1);
    }
}
