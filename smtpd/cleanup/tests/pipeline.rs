//! The whole cleanup pipeline on a real queue directory: envelope
//! rewriting, missing headers, checks and their verdicts, and what lands
//! in `incoming/`.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use address::rewrite::Context;
use cleanup::{Cleanup, Origin, Outcome, SenderParams};
use conf::Config;
use queue::{Notify, QueueDirs, QueueFile, QueueName};
use tempfile::TempDir;

/// A queue directory and a main.cf with `extra` appended.
fn setup(extra: &str) -> (TempDir, Arc<Cleanup>) {
    let dir = TempDir::new().unwrap();
    let spool = dir.path().join("spool");
    QueueDirs::new(&spool).create_all().unwrap();
    let main_cf = format!(
        "queue_directory = {}\nmyhostname = mail.example.com\nmydomain = example.com\n\
         myorigin = $mydomain\nmydestination = $myhostname\n{extra}\n",
        spool.display()
    );
    fs::write(dir.path().join("main.cf"), main_cf).unwrap();
    let config = Config::load(dir.path(), &[]).unwrap();
    (dir, Arc::new(Cleanup::new(&config).unwrap()))
}

fn origin(context: Option<Context>) -> Origin {
    Origin {
        client_name: "client.example.net".into(),
        reverse_client_name: "client.example.net".into(),
        client_address: "192.0.2.1".into(),
        client_port: 40000,
        helo: Some("client.example.net".into()),
        protocol: "ESMTP".into(),
        header_rewrite: context,
    }
}

/// Sends `content` (lines separated by `\n`) from `sender` to `rcpts`.
fn send(
    cleanup: &Arc<Cleanup>,
    ctx: Option<Context>,
    sender: &str,
    rcpts: &[&str],
    content: &str,
) -> Outcome {
    let arrival = UNIX_EPOCH + Duration::from_secs(1_795_248_000);
    let mut msg = cleanup
        .open(&origin(ctx), sender, &SenderParams::default(), arrival)
        .unwrap();
    for rcpt in rcpts {
        msg.add_recipient(rcpt, Notify::default(), None).unwrap();
    }
    for line in content.split('\n') {
        msg.line(line.as_bytes(), true).unwrap();
    }
    msg.finish().unwrap()
}

fn queued(spool: &Path, outcome: &Outcome) -> QueueFile {
    let Outcome::Queued { id, .. } = outcome else {
        panic!("not queued: {outcome:?}");
    };
    QueueFile::read(QueueDirs::new(spool).path(QueueName::Incoming, id)).unwrap()
}

fn text(file: &QueueFile) -> String {
    let mut out = Vec::new();
    file.content().write_to(&mut out, b"\n").unwrap();
    String::from_utf8(out).unwrap()
}

fn incoming_is_empty(spool: &Path) -> bool {
    fs::read_dir(spool.join("incoming"))
        .unwrap()
        .next()
        .is_none()
}

const RECEIVED: &str = "Received: from client.example.net (client.example.net [192.0.2.1])\n\tby mail.example.com (Postfix) with ESMTP id X";

#[test]
fn remote_message_is_stored_as_sent() {
    let (dir, cleanup) = setup("");
    let body = format!("{RECEIVED}\nFrom: a@example.net\nSubject: hi\n\nbody line\n.dot\n");
    let outcome = send(&cleanup, None, "a@example.net", &["b@example.org"], &body);
    let file = queued(&dir.path().join("spool"), &outcome);
    assert_eq!(text(&file), format!("{body}\n"));
    assert_eq!(file.envelope.sender, "a@example.net");
    assert_eq!(file.recipients[0].recipient.address, "b@example.org");
    assert_eq!(file.recipients[0].recipient.original, "b@example.org");
    assert_eq!(file.envelope.attribute("client_address"), Some("192.0.2.1"));
}

#[test]
fn local_client_gets_missing_headers() {
    let (dir, cleanup) = setup("");
    let outcome = send(
        &cleanup,
        Some(Context::Local),
        "user",
        &["other"],
        &format!("{RECEIVED}\n\nbody"),
    );
    let file = queued(&dir.path().join("spool"), &outcome);
    let id = file.id().unwrap();
    let text = text(&file);
    assert!(
        text.contains(&format!("\nMessage-Id: <{id}@mail.example.com>\n")),
        "{text}"
    );
    assert!(text.contains("\nDate: Sat, 21 Nov 2026 "), "{text}");
    assert!(text.contains("\nFrom: user@example.com\n"), "{text}");
    // undisclosed_recipients_header is empty by default since Postfix 2.8.
    assert!(!text.contains("\nTo:"), "{text}");
    assert_eq!(file.envelope.sender, "user@example.com");
    assert_eq!(file.recipients[0].recipient.address, "other@example.com");
}

#[test]
fn canonical_maps_rewrite_envelope_and_headers() {
    let (dir, cleanup) = setup(
        "canonical_maps = inline:{old@example.com=new@example.com}\nmasquerade_domains = example.com",
    );
    let content =
        format!("{RECEIVED}\nFrom: Old <old@example.com>\nCc: x@host.example.com\n\nbody");
    let outcome = send(
        &cleanup,
        Some(Context::Local),
        "old@example.com",
        &["y@host.example.com"],
        &content,
    );
    let file = queued(&dir.path().join("spool"), &outcome);
    let text = text(&file);
    assert_eq!(file.envelope.sender, "new@example.com");
    assert!(text.contains("\nFrom: Old <new@example.com>\n"), "{text}");
    assert!(text.contains("\nCc: x@example.com\n"), "{text}");
    // masquerade_classes leaves envelope recipients alone by default.
    assert_eq!(file.recipients[0].recipient.address, "y@host.example.com");
}

#[test]
fn header_checks_reject_keeps_nothing() {
    let (dir, cleanup) = setup("header_checks = regexp:{{/^Subject: spam/ REJECT no spam here}}");
    let outcome = send(
        &cleanup,
        None,
        "a@example.net",
        &["b@example.org"],
        &format!("{RECEIVED}\nSubject: spam\n\nx"),
    );
    let Outcome::Rejected { reply, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(reply.render(), "550 5.7.1 no spam here\r\n");
    assert!(incoming_is_empty(&dir.path().join("spool")));
}

#[test]
fn body_checks_discard_keeps_nothing() {
    let (dir, cleanup) = setup("body_checks = regexp:{{/worm/ DISCARD}}");
    let outcome = send(
        &cleanup,
        None,
        "a@example.net",
        &["b@example.org"],
        &format!("{RECEIVED}\n\na worm"),
    );
    assert!(matches!(outcome, Outcome::Discarded { .. }), "{outcome:?}");
    assert!(incoming_is_empty(&dir.path().join("spool")));
}

#[test]
fn hold_filter_redirect_and_bcc_are_recorded() {
    let (dir, cleanup) = setup(
        "header_checks = regexp:{{/^Subject: a/ HOLD held}, {/^Subject: a/ FILTER smtp:[127.0.0.1]:10025}}\n\
         body_checks = regexp:{{/^redirect/ REDIRECT r@example.org}, {/^bcc/ BCC c@example.org}}",
    );
    // REDIRECT ends all further checks, as in Postfix: BCC comes first.
    let content = format!("{RECEIVED}\nSubject: a\n\nbcc\nredirect");
    let outcome = send(
        &cleanup,
        None,
        "a@example.net",
        &["b@example.org"],
        &content,
    );
    let file = queued(&dir.path().join("spool"), &outcome);
    assert_eq!(file.extracted.hold.as_deref(), Some("held"));
    assert_eq!(file.extracted.redirect.as_deref(), Some("r@example.org"));
    assert!(
        file.recipients
            .iter()
            .any(|r| r.extracted && r.recipient.address == "c@example.org")
    );
}

#[test]
fn failing_table_defers() {
    let (dir, cleanup) = setup("header_checks = fail:broken");
    let outcome = send(
        &cleanup,
        None,
        "a@example.net",
        &["b@example.org"],
        &format!("{RECEIVED}\nSubject: x\n\nx"),
    );
    let Outcome::Rejected { reply, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reply.is_transient(), "{reply:?}");
    assert!(incoming_is_empty(&dir.path().join("spool")));
}

#[test]
fn too_many_hops_is_rejected() {
    let (dir, cleanup) = setup("hopcount_limit = 3");
    let content = format!("{RECEIVED}\n{RECEIVED}\n{RECEIVED}\n\nx");
    let outcome = send(
        &cleanup,
        None,
        "a@example.net",
        &["b@example.org"],
        &content,
    );
    let Outcome::Rejected { reply, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(reply.render(), "554 5.4.0 Error: too many hops\r\n");
    assert!(incoming_is_empty(&dir.path().join("spool")));
}

#[test]
fn message_without_received_header_is_refused() {
    let (_dir, cleanup) = setup("");
    let outcome = send(
        &cleanup,
        None,
        "a@example.net",
        &["b@example.org"],
        "Subject: x\n\nx",
    );
    let Outcome::Rejected { reply, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reply.is_transient());
}

#[test]
fn content_filter_is_recorded_unless_a_filter_action_overrides() {
    let (dir, cleanup) = setup(
        "content_filter = smtp:[127.0.0.1]:10024\n\
         header_checks = regexp:{{/^X-Other:/ FILTER lmtp:[127.0.0.1]:10026}}",
    );
    let spool = dir.path().join("spool");
    let plain = send(
        &cleanup,
        None,
        "a@example.net",
        &["b@example.org"],
        &format!("{RECEIVED}\n\nx"),
    );
    let file = queued(&spool, &plain);
    assert_eq!(
        file.extracted.filter.as_deref(),
        Some("smtp:[127.0.0.1]:10024")
    );
    let other = send(
        &cleanup,
        None,
        "a@example.net",
        &["b@example.org"],
        &format!("{RECEIVED}\nX-Other: 1\n\nx"),
    );
    let file = queued(&spool, &other);
    assert_eq!(
        file.extracted.filter.as_deref(),
        Some("lmtp:[127.0.0.1]:10026")
    );
}

/// Opens a message like [`send`], lets `decide` record the receiving
/// program's actions, and finishes it.
fn send_with(
    cleanup: &Arc<Cleanup>,
    content: &str,
    decide: impl FnOnce(&mut cleanup::Message),
) -> Outcome {
    let arrival = UNIX_EPOCH + Duration::from_secs(1_795_248_000);
    let mut msg = cleanup
        .open(
            &origin(None),
            "a@example.net",
            &SenderParams::default(),
            arrival,
        )
        .unwrap();
    msg.add_recipient("b@example.org", Notify::default(), None)
        .unwrap();
    decide(&mut msg);
    for line in content.split('\n') {
        msg.line(line.as_bytes(), true).unwrap();
    }
    msg.finish().unwrap()
}

#[test]
fn smtpd_actions_reach_the_queue_file() {
    let (dir, cleanup) = setup("");
    let outcome = send_with(&cleanup, &format!("{RECEIVED}\nSubject: a\n\nbody"), |m| {
        m.hold("");
        m.filter("smtp:[127.0.0.1]:10025");
        m.redirect("r@example.org");
        m.add_bcc("c@example.org");
    });
    let file = queued(&dir.path().join("spool"), &outcome);
    assert_eq!(file.extracted.hold.as_deref(), Some(""));
    assert_eq!(
        file.extracted.filter.as_deref(),
        Some("smtp:[127.0.0.1]:10025")
    );
    assert_eq!(file.extracted.redirect.as_deref(), Some("r@example.org"));
    assert!(
        file.recipients
            .iter()
            .any(|r| r.extracted && r.recipient.address == "c@example.org")
    );
}

#[test]
fn header_check_actions_win_over_smtpd_actions() {
    let (dir, cleanup) =
        setup("header_checks = regexp:{{/^Subject: a/ FILTER lmtp:[127.0.0.1]:10026}}");
    let outcome = send_with(&cleanup, &format!("{RECEIVED}\nSubject: a\n\nbody"), |m| {
        m.filter("smtp:[127.0.0.1]:10025");
        m.add_bcc("c@example.org");
    });
    let file = queued(&dir.path().join("spool"), &outcome);
    assert_eq!(
        file.extracted.filter.as_deref(),
        Some("lmtp:[127.0.0.1]:10026")
    );
    assert_eq!(file.extracted.hold, None);
}

#[test]
fn smtpd_discard_keeps_nothing() {
    let (dir, cleanup) = setup("");
    let outcome = send_with(&cleanup, &format!("{RECEIVED}\nSubject: a\n\nbody"), |m| {
        m.discard();
    });
    assert!(matches!(outcome, Outcome::Discarded { .. }), "{outcome:?}");
    assert!(incoming_is_empty(&dir.path().join("spool")));
}
