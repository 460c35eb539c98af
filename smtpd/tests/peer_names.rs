//! Client names over loopback TCP with the real resolver asking a test
//! DNS server: the PTR name counts only when its forward lookup gives the
//! client's address back, as Postfix's smtpd_peer; the statuses drive
//! `reject_unknown_client_hostname` (permanent or forged: the reject
//! code; temporary: 450).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use smtpd::config::Settings;
use smtpd::enqueue::Memory;
use smtpd::log::Log;
use smtpd::restrictions::resolver::{self, Resolver};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio_util::sync::CancellationToken;

#[path = "../src/restrictions/fixture_dns.rs"]
#[allow(dead_code)]
mod fixture_dns;

const ZONE: &str = "
5.0.0.127.in-addr.arpa PTR client.example.test
client.example.test A 127.0.0.5
6.0.0.127.in-addr.arpa PTR forged.example.test
forged.example.test A 192.0.2.9
7.0.0.127.in-addr.arpa SERVFAIL
";

/// The reply to RCPT from a client at `from`, and the log.
async fn rcpt_from(server: SocketAddr, from: &str) -> String {
    let socket = TcpSocket::new_v4().expect("socket");
    let local: IpAddr = from.parse().expect("address");
    socket
        .bind(SocketAddr::new(local, 0))
        .expect("bind the client");
    let stream = socket.connect(server).await.expect("connect");
    let mut stream = BufReader::new(stream);
    let mut rcpt = reply(&mut stream).await;
    for line in [
        "EHLO client.example.test",
        "MAIL FROM:<a@example.org>",
        "RCPT TO:<b@example.org>",
        "QUIT",
    ] {
        stream
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("write");
        let text = reply(&mut stream).await;
        if line.starts_with("RCPT") {
            rcpt = text;
        }
    }
    rcpt
}

/// One reply, its last line without CRLF; empty if the server closed.
async fn reply(stream: &mut BufReader<tokio::net::TcpStream>) -> String {
    loop {
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read_line(&mut line));
        match read.await {
            Ok(Ok(n)) if n > 0 && line.as_bytes().get(3) == Some(&b'-') => continue,
            Ok(Ok(n)) if n > 0 => return line.trim_end().to_string(),
            _ => return String::new(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_need_a_forward_lookup_that_gives_the_address_back() {
    let dns_server = fixture_dns::Server::start(fixture_dns::Zone::parse(ZONE).expect("zone"))
        .expect("start the test DNS server");
    let resolver = Resolver::new(&resolver::Settings {
        servers: vec![dns_server.addr()],
        timeout: Some(Duration::from_millis(500)),
        attempts: Some(1),
    })
    .expect("resolver");
    let mut settings = Settings::for_tests_with_dns(
        &[
            ("relay_domains", "example.org"),
            (
                "smtpd_client_restrictions",
                "reject_unknown_client_hostname",
            ),
            ("unknown_client_reject_code", "550"),
        ],
        Box::new(resolver),
    )
    .expect("settings");
    let (log, lines) = Log::memory();
    settings.log = log;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let stop = CancellationToken::new();
    let server = tokio::spawn(smtpd::server::run(
        listener,
        Arc::new(settings),
        Arc::new(Memory::new()),
        stop.clone(),
    ));

    let first = rcpt_from(addr, "127.0.0.5").await;
    assert_eq!(
        first,
        "250 2.1.5 Ok",
        "{}",
        lines.lock().expect("log").join("\n")
    );
    assert_eq!(
        rcpt_from(addr, "127.0.0.6").await,
        "550 5.7.25 Client host rejected: cannot find your hostname, [127.0.0.6]"
    );
    assert_eq!(
        rcpt_from(addr, "127.0.0.8").await,
        "550 5.7.25 Client host rejected: cannot find your hostname, [127.0.0.8]"
    );
    assert_eq!(
        rcpt_from(addr, "127.0.0.7").await,
        "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.7]"
    );
    stop.cancel();
    server.await.expect("join").expect("serves");

    let log = lines.lock().expect("log").join("\n");
    for line in [
        "connect from client.example.test[127.0.0.5]",
        "warning: hostname forged.example.test does not resolve to address 127.0.0.6",
        "connect from unknown[127.0.0.6]",
        "connect from unknown[127.0.0.7]",
    ] {
        assert!(log.contains(line), "no {line:?} in\n{log}");
    }
}
