//! The whole flow with the real cleanup library: SMTP in (over
//! `tokio::io::duplex`), a durable queue file in `incoming/` out, read
//! back with `queue::QueueFile`. Covers what only cleanup does:
//! `header_size_limit`, header_checks REJECT reaching the client, and
//! the queue attributes smtpd hands over.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use queue::{QueueDirs, QueueFile, QueueName};
use smtpd::client::Client;
use smtpd::config::Settings;
use smtpd::log::Log;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

struct Setup {
    _dir: tempfile::TempDir,
    spool: std::path::PathBuf,
    cleanup: Arc<cleanup::Cleanup>,
    settings: Arc<Settings>,
}

fn setup(main_cf: &str) -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let spool = dir.path().join("spool");
    QueueDirs::new(&spool).create_all().expect("queue dirs");
    let text = format!(
        "compatibility_level = 3.6\nqueue_directory = {}\nmyhostname = mx.example.test\n\
         mydomain = example.test\nmynetworks = 127.0.0.0/8\ninet_interfaces = loopback-only\n{main_cf}",
        spool.display()
    );
    std::fs::write(dir.path().join("main.cf"), text).expect("main.cf");
    let config = conf::Config::load(dir.path(), &[]).expect("config");
    let cleanup = Arc::new(cleanup::Cleanup::new(&config).expect("cleanup"));
    let mut settings = Settings::from_config(&config).expect("settings");
    settings.log = Log::memory().0;
    Setup {
        _dir: dir,
        spool,
        cleanup,
        settings: Arc::new(settings),
    }
}

/// Run a session: send each `(line, expected reply prefix)`.
async fn talk(setup: &Setup, steps: &[(&str, &str)]) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let token = CancellationToken::new();
    let task = tokio::spawn(smtpd::conn::serve(
        server,
        Client::test(),
        Arc::clone(&setup.settings),
        Arc::clone(&setup.cleanup),
        None,
        token,
    ));
    let mut client = BufReader::new(client);
    expect(&mut client, "220 ").await;
    for (send, want) in steps {
        client
            .get_mut()
            .write_all(send.as_bytes())
            .await
            .expect("write");
        if !want.is_empty() {
            expect(&mut client, want).await;
        }
    }
    drop(client);
    tokio::time::timeout(WAIT, task)
        .await
        .expect("ends")
        .expect("no panic");
}

async fn expect(client: &mut BufReader<DuplexStream>, want: &str) {
    loop {
        let mut line = String::new();
        tokio::time::timeout(WAIT, client.read_line(&mut line))
            .await
            .expect("reply in time")
            .expect("read");
        assert!(!line.is_empty(), "closed while waiting for {want}");
        // Multi-line replies: wait for the last line.
        if line.as_bytes().get(3) == Some(&b'-') {
            continue;
        }
        assert!(line.starts_with(want), "got {line:?}, want {want:?}");
        return;
    }
}

fn incoming(spool: &Path) -> Vec<QueueFile> {
    let dir = spool.join(QueueName::Incoming.as_str());
    let mut files: Vec<QueueFile> = std::fs::read_dir(dir)
        .expect("incoming/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .map(|p| QueueFile::read(&p).expect("valid queue file"))
        .collect();
    files.sort_by_key(|f| f.id());
    files
}

fn content(file: &QueueFile) -> String {
    let mut out = Vec::new();
    file.content().write_to(&mut out, b"\n").expect("content");
    String::from_utf8(out).expect("UTF-8 test content")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_and_bdat_reach_incoming() {
    let s = setup("header_size_limit = 200\n");
    let long_header = format!("X-Long: {}\r\n", vec!["w".repeat(60); 6].join("\r\n "));
    let data = format!("Subject: one\r\n{long_header}X-After: 1\r\n\r\n..dot\r\nbody\r\n.\r\n");
    talk(
        &s,
        &[
            ("EHLO client.example\r\n", "250 "),
            (
                "MAIL FROM:<a@b.example> RET=HDRS ENVID=e+2B1\r\n",
                "250 2.1.0",
            ),
            (
                "RCPT TO:<c@d.example> NOTIFY=SUCCESS ORCPT=rfc822;c+40d.example\r\n",
                "250 2.1.5",
            ),
            ("DATA\r\n", "354 "),
            (&data, "250 2.0.0 Ok: queued as "),
            ("MAIL FROM:<>\r\nRCPT TO:<postmaster>\r\n", ""),
            ("BDAT 14\r\nSubject: two\r\n", "250 2.1.0"),
            ("", "250 2.1.5"),
            ("", "250 2.0.0 Ok: 14 bytes"),
            (
                "BDAT 6 LAST\r\n\r\nbody",
                "250 2.0.0 Ok: 22 bytes queued as ",
            ),
            ("QUIT\r\n", "221 "),
        ],
    )
    .await;
    let files = incoming(&s.spool);
    assert_eq!(files.len(), 2);
    let one = content(&files[0]);
    assert!(
        one.starts_with("Received: from client.example (unknown [192.0.2.1])\n"),
        "{one}"
    );
    assert!(
        one.contains("\n\tby mx.example.test (Postfix) with ESMTP id "),
        "{one}"
    );
    assert!(one.contains("\n\tfor <c@d.example>; "), "{one}");
    assert!(
        one.contains("\nX-After: 1\n"),
        "header_size_limit keeps later headers: {one}"
    );
    assert!(
        one.matches(&"w".repeat(60)).count() < 6,
        "the long header is cut: {one}"
    );
    assert!(one.ends_with("\n.dot\nbody\n"), "{one}");
    assert_eq!(files[0].envelope.sender, "a@b.example");
    assert_eq!(files[0].recipients[0].recipient.address, "c@d.example");
    assert_eq!(files[1].envelope.sender, "");
    // cleanup qualifies it with $myorigin, as Postfix does.
    assert_eq!(
        files[1].recipients[0].recipient.address,
        "postmaster@mx.example.test"
    );
    let two = content(&files[1]);
    assert!(two.ends_with("Subject: two\n\nbody\n"), "{two}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_checks_reject_reaches_the_client() {
    let s = setup("header_checks = regexp:{{/^Subject: spam/ REJECT no spam please}}\n");
    talk(
        &s,
        &[
            ("EHLO client.example\r\n", "250 "),
            ("MAIL FROM:<a@b.example>\r\n", "250 2.1.0"),
            ("RCPT TO:<c@d.example>\r\n", "250 2.1.5"),
            ("DATA\r\n", "354 "),
            (
                "Subject: spam\r\n\r\nbuy\r\n.\r\n",
                "550 5.7.1 no spam please",
            ),
            ("NOOP\r\n", "250 2.0.0 Ok"),
            ("QUIT\r\n", "221 "),
        ],
    )
    .await;
    assert!(incoming(&s.spool).is_empty());
}
