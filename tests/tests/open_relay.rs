//! No open relay: from a client outside `mynetworks` (Python's smtplib
//! bound to 127.0.0.2, while `mynetworks = 127.0.0.1/32`), every classic
//! relay trick is refused with Postfix's default restrictions and nothing
//! reaches `incoming/`; from 127.0.0.1 the same recipients are accepted.
//!
//! The outside client is python3 (a real client, STYLE §7) because the
//! harness's own client cannot bind a source address without the `nix`
//! socket feature, which the e2e crate does not enable.

use std::fs;
use std::process::Command;

use e2e::smtp_client;
use e2e::{Instance, RealPostfix, require_peer};
use queue::QueueName;

/// Our domain: the instance's `mydestination` holds `$myhostname`.
const OURS: &str = "mail.example.test";

/// The relay tricks of the issue, each aimed at other.example (or an IP
/// literal) through our domain.
fn tricks() -> Vec<String> {
    [
        "user@other.example",
        "user%other.example@{ours}",
        "other.example!user@{ours}",
        "@{ours}:user@other.example",
        "\"user@other.example\"@{ours}",
        "\"user%other.example\"@{ours}",
        "user@other.example@{ours}",
        "user@[192.0.2.1]",
        "user@other.example.",
        "user%other.example@{ours}.",
        "USER@OTHER.EXAMPLE",
        "user%OTHER.example@{upper}",
        "other.example!user%{ours}@{ours}",
    ]
    .iter()
    .map(|t| {
        t.replace("{ours}", OURS)
            .replace("{upper}", &OURS.to_ascii_uppercase())
    })
    .collect()
}

/// One connection per recipient from `source`: EHLO, MAIL, RCPT, QUIT.
/// Prints `recipient<TAB>code text` per recipient.
const CLIENT: &str = r#"
import smtplib, sys
port, source = int(sys.argv[1]), sys.argv[2]
for rcpt in sys.argv[3:]:
    s = smtplib.SMTP("127.0.0.1", port, source_address=(source, 0))
    s.ehlo("client.example")
    s.mail("sender@outside.example")
    code, text = s.rcpt("<" + rcpt + ">" if not rcpt.startswith("<") else rcpt)
    print(rcpt + "\t" + str(code) + " " + text.decode())
    s.quit()
"#;

fn rcpt_replies(python: &std::path::Path, port: u16, source: &str) -> Vec<(String, String)> {
    let out = Command::new(python)
        .arg("-c")
        .arg(CLIENT)
        .arg(port.to_string())
        .arg(source)
        .args(tricks())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(r, reply)| (r.to_string(), reply.to_string()))
        .collect()
}

fn incoming_count(inst: &Instance) -> usize {
    fs::read_dir(inst.queue_dir().join(QueueName::Incoming.as_str()))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn relay_tricks_from_outside_mynetworks_are_refused() {
    let python = require_peer!("python3");
    let inst = Instance::builder()
        .param("mynetworks", "127.0.0.1/32")
        .param("smtpd_error_sleep_time", "0s")
        .build();
    let smtpd = inst.start_smtpd();
    let replies = rcpt_replies(&python, inst.port(), "127.0.0.2");
    assert_eq!(replies.len(), tricks().len(), "{replies:?}");
    for (rcpt, reply) in &replies {
        let refused = reply.starts_with("454 4.7.1 ") && reply.ends_with(": Relay access denied");
        assert!(refused, "{rcpt}: {reply}\n{}", smtpd.report());
    }
    assert_eq!(incoming_count(&inst), 0, "{}", smtpd.report());
    assert!(
        smtpd
            .lines()
            .iter()
            .any(|l| l.contains("NOQUEUE: reject: RCPT from unknown[127.0.0.2]")),
        "{}",
        smtpd.report()
    );
}

#[test]
fn the_same_recipients_are_relayed_for_mynetworks() {
    // No passwd lookup service here: local_recipient_maps would answer
    // "temporary failure" for the local-looking forms.
    let inst = Instance::builder()
        .param("mynetworks", "127.0.0.1/32")
        .param("local_recipient_maps", "")
        .build();
    let smtpd = inst.start_smtpd();
    let tricks = tricks();
    let recipients: Vec<&str> = tricks.iter().map(String::as_str).collect();
    let t = smtp_client::send(
        &inst.smtp_addr(),
        "client.example",
        "sender@inside.example",
        &recipients,
        b"Subject: relay\n\nbody\n",
    )
    .expect("SMTP session");
    for (rcpt, reply) in recipients.iter().zip(&t.rcpts) {
        assert!(
            reply.starts_with("250"),
            "{rcpt}: {reply}\n{}",
            smtpd.report()
        );
    }
    assert!(
        t.end_of_data.starts_with("250"),
        "{t:?}\n{}",
        smtpd.report()
    );
    assert_eq!(incoming_count(&inst), 1, "{}", smtpd.report());
}

#[test]
fn relay_refusals_match_real_postfix() {
    let python = require_peer!("python3");
    let Some(real) = RealPostfix::start(
        &[],
        &[
            "mynetworks = 127.0.0.1/32".into(),
            format!("myhostname = {OURS}"),
            "mydestination = localhost, $myhostname".into(),
            "smtpd_client_restrictions =".into(),
            "smtpd_recipient_restrictions =".into(),
            "smtpd_error_sleep_time = 0s".into(),
        ],
    ) else {
        return;
    };
    let inst = Instance::builder()
        .param("mynetworks", "127.0.0.1/32")
        .param("smtpd_error_sleep_time", "0s")
        .build();
    let _smtpd = inst.start_smtpd();
    let ours = rcpt_replies(&python, inst.port(), "127.0.0.2");
    let theirs = rcpt_replies(&python, real.port(), "127.0.0.2");
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}\n{theirs:#?}");
    for ((rcpt, mine), (_, real)) in ours.iter().zip(&theirs) {
        assert_eq!(mine, real, "{rcpt}");
    }
}
