//! header_checks, mime_header_checks, nested_header_checks and body_checks
//! decided by our cleanup and by the real Postfix on the same corpus
//! (`tests/fixtures/checks/`): multipart mail, nested message/rfc822,
//! encoded headers, `.exe`/`.pif`/`.scr`/`.zip` attachments, and every
//! action. Compared per message: the reply after DATA, whether the message
//! is held, and every line cleanup logs (queue IDs normalised).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use address::rewrite::Context;
use cleanup::{Cleanup, Origin, Outcome, SenderParams};
use e2e::{RealPostfix, smtp_client, wait_until, workspace_root};
use queue::{Notify, QueueDirs, QueueFile, QueueName};

const HELO: &str = "client.test";
const SENDER: &str = "alice@example.net";
const RECIPIENT: &str = "bob@example.org";
const TABLES: [&str; 4] = [
    "header_checks",
    "mime_header_checks",
    "nested_header_checks",
    "body_checks",
];

fn fixtures() -> PathBuf {
    workspace_root().join("tests/fixtures/checks")
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(fixtures().join("corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// The tables, as (file name, contents).
fn tables() -> Vec<(&'static str, Vec<u8>)> {
    TABLES
        .iter()
        .map(|name| (*name, fs::read(fixtures().join(name)).unwrap()))
        .collect()
}

/// The main.cf lines that name the tables in `dir`.
fn table_settings(dir: &str) -> Vec<String> {
    TABLES
        .iter()
        .map(|name| format!("{name} = regexp:{dir}/{name}"))
        .collect()
}

/// The cleanup lines of `log` (`postfix/cleanup[PID]: ID: text`), with
/// the queue ID replaced.
fn cleanup_lines(log: &str, id: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.split_once("/cleanup[").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("]: ").map(|(_, text)| text))
        .filter(|text| text.starts_with(id) || !text.contains(": "))
        .map(|text| text.replace(id, "ID"))
        .collect()
}

/// What happened to one message, comparable between the two systems.
#[derive(Debug, PartialEq, Eq)]
struct Result {
    reply: String,
    held: bool,
    log: Vec<String>,
}

fn ask_postfix(postfix: &RealPostfix, message: &[u8]) -> Result {
    let addr = format!("127.0.0.1:{}", postfix.port());
    let sessions = postfix.maillog().matches("]: disconnect from").count() + 1;
    let t = smtp_client::send(&addr, HELO, SENDER, &[RECIPIENT], message).unwrap();
    // smtpd logs "disconnect" after cleanup has logged everything.
    wait_until(
        "the real smtpd to log the disconnect",
        Duration::from_secs(20),
        || (postfix.maillog().matches("]: disconnect from").count() >= sessions).then_some(()),
    );
    let reply = t.end_of_data.trim_end().to_owned();
    let id = reply
        .strip_prefix("250 2.0.0 Ok: queued as ")
        .map(str::to_owned);
    let log = postfix.maillog();
    let id = id.unwrap_or_else(|| rejected_id(&log, &reply));
    let held = postfix.queue_dir().join("hold").join(&id).exists();
    Result {
        reply: normalise(&reply),
        held,
        log: cleanup_lines(&log, &id),
    }
}

/// The queue ID of the last message cleanup rejected, from its log line.
fn rejected_id(log: &str, reply: &str) -> String {
    log.lines()
        .rev()
        .filter_map(|line| line.split_once("/cleanup[").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("]: ").map(|(_, text)| text))
        .find_map(|text| text.split_once(": reject: ").map(|(id, _)| id.to_owned()))
        .unwrap_or_else(|| panic!("no reject line for {reply:?} in\n{log}"))
}

fn normalise(reply: &str) -> String {
    match reply.strip_prefix("250 2.0.0 Ok: queued as ") {
        Some(_) => "250 2.0.0 Ok: queued".to_owned(),
        None => reply.to_owned(),
    }
}

fn ask_ours(cleanup: &Arc<Cleanup>, maillog: &Path, message: &[u8]) -> Result {
    let origin = Origin {
        client_name: "localhost".into(),
        reverse_client_name: "localhost".into(),
        client_address: "127.0.0.1".into(),
        client_port: 40000,
        helo: Some(HELO.into()),
        protocol: "ESMTP".into(),
        header_rewrite: Some(Context::Local),
    };
    let before = fs::read_to_string(maillog).unwrap_or_default().len();
    let mut msg = cleanup
        .open(&origin, SENDER, &SenderParams::default(), SystemTime::now())
        .unwrap();
    let id = msg.id().to_string();
    msg.add_recipient(RECIPIENT, Notify::default(), None)
        .unwrap();
    let received = format!(
        "Received: from {HELO} (localhost [127.0.0.1])\n\tby mail.example.test (Postfix) with ESMTP id {id}\n\tfor <{RECIPIENT}>; Sat, 21 Nov 2026 08:00:00 +0000 (UTC)"
    );
    for line in received.lines() {
        msg.line(line.as_bytes(), true).unwrap();
    }
    let text = message.strip_suffix(b"\n").unwrap_or(message);
    for line in text.split(|b| *b == b'\n') {
        msg.line(line, true).unwrap();
    }
    let outcome = msg.finish().unwrap();
    let (reply, held) = match &outcome {
        Outcome::Queued { id, .. } => {
            let path = cleanup.queue_dirs().path(QueueName::Incoming, id);
            let held = QueueFile::read(path).unwrap().extracted.hold.is_some();
            ("250 2.0.0 Ok: queued".to_owned(), held)
        }
        Outcome::Discarded { .. } => ("250 2.0.0 Ok: queued".to_owned(), false),
        Outcome::Rejected { reply, .. } => (reply.render().trim_end().to_owned(), false),
    };
    let log = fs::read_to_string(maillog).unwrap();
    Result {
        reply,
        held,
        log: cleanup_lines(&log[before..], &id),
    }
}

#[test]
fn checks_decide_as_postfix_does() {
    let work = tempfile::tempdir().unwrap();
    let tables = tables();
    let files: Vec<(&str, &[u8])> = tables.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    let mut extra = table_settings("{dir}");
    extra.extend(
        [
            "smtpd_client_restrictions =",
            "default_transport = discard",
            "enable_long_queue_ids = yes",
        ]
        .map(str::to_owned),
    );
    let Some(postfix) = RealPostfix::start(&files, &extra) else {
        return;
    };

    let spool = work.path().join("spool");
    QueueDirs::new(&spool).create_all().unwrap();
    let maillog = work.path().join("maillog");
    let mut main_cf = format!(
        "queue_directory = {}\nmyhostname = mail.example.test\nmaillog_file = {}\n",
        spool.display(),
        maillog.display()
    );
    for (name, contents) in &tables {
        fs::write(work.path().join(name), contents).unwrap();
    }
    for line in table_settings(&work.path().display().to_string()) {
        main_cf.push_str(&line);
        main_cf.push('\n');
    }
    fs::write(work.path().join("main.cf"), main_cf).unwrap();
    let config = conf::Config::load(work.path(), &[]).unwrap();
    let logger = master::log::Logger::new(&config, "smtpd")
        .unwrap()
        .stderr(false);
    let cleanup =
        tracing::subscriber::with_default(logger, || Arc::new(Cleanup::new(&config).unwrap()));
    let logger = master::log::Logger::new(&config, "smtpd")
        .unwrap()
        .stderr(false);

    let mut differences = Vec::new();
    tracing::subscriber::with_default(logger, || {
        for (name, message) in corpus() {
            let theirs = ask_postfix(&postfix, &message);
            let ours = ask_ours(&cleanup, &maillog, &message);
            if theirs != ours {
                differences.push(format!(
                    "{name}:\n  postfix: {theirs:?}\n  ours:    {ours:?}"
                ));
            }
        }
    });
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
