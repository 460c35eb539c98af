//! `server::run` over loopback TCP: past the session cap clients wait,
//! the per-client cap answers 421, shutdown says 421 to idle sessions,
//! and `max_idle` and `max_use` end the server once no session is open.

use std::sync::Arc;
use std::time::Duration;

use smtpd::config::Settings;
use smtpd::enqueue::Memory;
use smtpd::log::Log;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

async fn start(
    settings: Settings,
) -> (
    std::net::SocketAddr,
    CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let token = CancellationToken::new();
    let stop = token.clone();
    let handle = tokio::spawn(async move {
        smtpd::server::run(listener, Arc::new(settings), Arc::new(Memory::new()), stop)
            .await
            .expect("serves");
    });
    (addr, token, handle)
}

async fn first_line(stream: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    let _ = tokio::time::timeout(WAIT, stream.read_line(&mut line)).await;
    line
}

async fn connect(addr: std::net::SocketAddr) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(addr).await.expect("connect"))
}

fn settings(overrides: &[(&str, &str)]) -> Settings {
    let mut s = Settings::for_tests(overrides).expect("settings");
    s.log = Log::memory().0;
    s
}

/// At the session limit (master.cf maxproc) nothing is accepted: the
/// next client waits in the listen queue, without a banner, until a
/// session ends; the warning is Postfix master's, logged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_past_the_cap_wait_in_the_listen_queue() {
    let (log, lines) = Log::memory();
    let mut s = settings(&[]).with_service("smtp", Some(1));
    s.log = log;
    let (addr, token, handle) = start(s).await;
    let mut one = connect(addr).await;
    assert!(first_line(&mut one).await.starts_with("220 "));
    let mut two = connect(addr).await;
    let mut three = connect(addr).await;
    let mut line = String::new();
    let waited = tokio::time::timeout(Duration::from_millis(500), two.read_line(&mut line)).await;
    assert!(waited.is_err(), "no banner yet: {line:?}");
    let warning = format!(
        "warning: service \"smtp\" ({}) has reached its process limit \"1\": \
         new clients may experience noticeable delays",
        addr.port()
    );
    let logged = || lines.lock().expect("lock").clone();
    assert_eq!(
        logged().iter().filter(|l| **l == warning).count(),
        1,
        "{:?}",
        logged()
    );
    assert!(
        logged().contains(
            &"warning: to avoid this condition, increase the process count in master.cf \
          or reduce the service time per client"
                .to_owned()
        )
    );
    // The first one leaves: the second gets its banner, then the third.
    one.get_mut().write_all(b"QUIT\r\n").await.expect("write");
    assert_eq!(first_line(&mut one).await, "221 2.0.0 Bye\r\n");
    drop(one);
    assert!(first_line(&mut two).await.starts_with("220 "));
    two.get_mut().write_all(b"QUIT\r\n").await.expect("write");
    assert_eq!(first_line(&mut two).await, "221 2.0.0 Bye\r\n");
    drop(two);
    assert!(first_line(&mut three).await.starts_with("220 "));
    // Once per burst: the second wait did not warn again.
    assert_eq!(logged().iter().filter(|l| **l == warning).count(), 1);
    token.cancel();
    assert!(first_line(&mut three).await.starts_with("421 4.3.2"));
    tokio::time::timeout(WAIT, handle)
        .await
        .expect("stops")
        .expect("no panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_past_its_limit_gets_421() {
    let s = settings(&[("smtpd_client_connection_count_limit", "1")]);
    let (addr, token, handle) = start(s).await;
    let mut one = connect(addr).await;
    assert!(first_line(&mut one).await.starts_with("220 "));
    let mut two = connect(addr).await;
    assert_eq!(
        first_line(&mut two).await,
        "421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1\r\n"
    );
    // The first one still works, and a slot frees when it leaves.
    one.get_mut().write_all(b"QUIT\r\n").await.expect("write");
    assert_eq!(first_line(&mut one).await, "221 2.0.0 Bye\r\n");
    drop(one);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut three = connect(addr).await;
    assert!(first_line(&mut three).await.starts_with("220 "));
    token.cancel();
    tokio::time::timeout(WAIT, handle)
        .await
        .expect("stops")
        .expect("no panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_message_in_flight() {
    let (addr, token, handle) = start(settings(&[])).await;
    let mut c = connect(addr).await;
    assert!(first_line(&mut c).await.starts_with("220 "));
    c.get_mut().write_all(b"EHLO x\r\n").await.expect("write");
    loop {
        if first_line(&mut c).await.starts_with("250 ") {
            break;
        }
    }
    let w = c.get_mut();
    w.write_all(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        .await
        .expect("write");
    for want in ["250 2.1.0", "250 2.1.5", "354 "] {
        assert!(first_line(&mut c).await.starts_with(want));
    }
    c.get_mut()
        .write_all(b"half a message\r\n")
        .await
        .expect("write");
    token.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.get_mut()
        .write_all(b"rest\r\n.\r\n")
        .await
        .expect("write");
    assert!(
        first_line(&mut c)
            .await
            .starts_with("250 2.0.0 Ok: queued as ")
    );
    assert!(first_line(&mut c).await.starts_with("421 4.3.2"));
    tokio::time::timeout(WAIT, handle)
        .await
        .expect("stops")
        .expect("no panic");
}

/// QUIT, and the 221.
async fn quit(mut stream: BufReader<TcpStream>) {
    stream
        .get_mut()
        .write_all(b"QUIT\r\n")
        .await
        .expect("write");
    assert_eq!(first_line(&mut stream).await, "221 2.0.0 Bye\r\n");
}

/// With `max_idle`, an open session keeps the server however long it
/// lasts; `max_idle` after it ends, the server returns by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_idle_after_the_last_session_ends_the_server() {
    let idle = Duration::from_secs(1);
    let mut s = settings(&[]);
    s.max_idle = Some(idle);
    let (addr, _token, handle) = start(s).await;
    let mut one = connect(addr).await;
    assert!(first_line(&mut one).await.starts_with("220 "));
    tokio::time::sleep(idle * 2).await;
    assert!(!handle.is_finished(), "a session is open");
    quit(one).await;
    let left = tokio::time::Instant::now();
    tokio::time::timeout(WAIT, handle)
        .await
        .expect("ends when idle")
        .expect("no panic");
    assert!(left.elapsed() >= idle - Duration::from_millis(100));
}

/// With `max_use` 1 and 2 sessions at once, the server goes after 2
/// sessions, at the first moment none is open; until then it still
/// takes new clients (no one else would).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_use_times_the_session_limit_ends_the_server_when_none_is_open() {
    let mut s = settings(&[]).with_service("smtp", Some(2));
    s.max_use = Some(1);
    let (addr, _token, handle) = start(s).await;
    let mut one = connect(addr).await;
    assert!(first_line(&mut one).await.starts_with("220 "));
    let mut two = connect(addr).await;
    assert!(first_line(&mut two).await.starts_with("220 "));
    quit(one).await;
    let mut three = connect(addr).await;
    assert!(
        first_line(&mut three).await.starts_with("220 "),
        "still accepting"
    );
    quit(two).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!handle.is_finished(), "a session is open");
    quit(three).await;
    tokio::time::timeout(WAIT, handle)
        .await
        .expect("ends once none is open")
        .expect("no panic");
}
