//! `check_policy_service` against the real postgrey: our smtpd with
//! `smtpd_recipient_restrictions = reject_unauth_destination,
//! check_policy_service inet:127.0.0.1:PORT` greylists a new
//! (client, sender, recipient) triplet with postgrey's own reply, and
//! accepts the retry once postgrey's delay has passed, with postgrey's
//! `X-Greylist:` header prepended to the queued message.

use std::fs;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use nix::unistd::{Gid, Group, Uid, User};

use e2e::{Daemon, Instance, free_port, require_peer, smtp_client, wait_until};
use queue::QueueName;

/// postgrey's `--delay`, in seconds: the shortest it takes.
const DELAY: u64 = 1;

const RCPT: &str = "user@mail.example.test";

const MESSAGE: &[u8] = b"Subject: greylisted\n\nhello\n";

/// postgrey in the foreground on `127.0.0.1:port`, its database and
/// (empty) allow lists under the instance, as the user running the test;
/// the daemon harness kills it when the test ends.
fn start_postgrey(postgrey: &std::path::Path, inst: &Instance, port: u16) -> Daemon {
    let dir = inst.path("postgrey");
    fs::create_dir(&dir).expect("mkdir postgrey");
    for list in ["clients", "recipients"] {
        fs::write(dir.join(list), "").expect("write allow list");
    }
    // Net::Server changes to --user/--group, by name (Perl would take a
    // numeric 0 for "unset"): ours.
    let user = User::from_uid(Uid::current())
        .ok()
        .flatten()
        .expect("the current user has a name");
    let group = Group::from_gid(Gid::current())
        .ok()
        .flatten()
        .expect("the current group has a name");
    let mut cmd = Command::new(postgrey);
    cmd.arg(format!("--inet=127.0.0.1:{port}"))
        .arg(format!("--dbdir={}", dir.display()))
        .arg(format!("--delay={DELAY}"))
        .arg(format!("--user={}", user.name))
        .arg(format!("--group={}", group.name))
        .arg(format!(
            "--whitelist-clients={}",
            dir.join("clients").display()
        ))
        .arg(format!(
            "--whitelist-recipients={}",
            dir.join("recipients").display()
        ))
        .arg("--auto-whitelist-clients=0");
    let daemon =
        Daemon::spawn(cmd, inst.log_dir().join("postgrey.log")).unwrap_or_else(|e| panic!("{e}"));
    wait_until("postgrey to listen", Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    daemon
}

fn queued_files(inst: &Instance) -> Vec<Vec<u8>> {
    fs::read_dir(inst.queue_dir().join(QueueName::Incoming.as_str()))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter_map(|e| fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn send(inst: &Instance) -> smtp_client::Transcript {
    smtp_client::send(
        &inst.smtp_addr(),
        "client.example",
        "sender@outside.example",
        &[RCPT],
        MESSAGE,
    )
    .expect("SMTP session")
}

#[test]
fn postgrey_greylists_the_first_attempt_and_accepts_the_retry() {
    let postgrey = require_peer!("postgrey");
    let port = free_port();
    let inst = Instance::builder()
        .param(
            "smtpd_recipient_restrictions",
            &format!("reject_unauth_destination, check_policy_service inet:127.0.0.1:{port}"),
        )
        .param("local_recipient_maps", "")
        .param("smtpd_error_sleep_time", "0s")
        .build();
    let _postgrey = start_postgrey(&postgrey, &inst, port);
    let smtpd = inst.start_smtpd();

    let first = send(&inst);
    let greylisted = format!(
        "450 4.2.0 <{RCPT}>: Recipient address rejected: Greylisted, \
         see http://postgrey.schweikert.ch/help/mail.example.test.html\r\n"
    );
    assert_eq!(first.rcpts, [greylisted], "{}", smtpd.report());
    assert!(queued_files(&inst).is_empty(), "{}", smtpd.report());
    assert!(
        smtpd.lines().iter().any(|l| l.contains(
            "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 450 4.2.0 <user@mail.example.test>: \
             Recipient address rejected: Greylisted"
        )),
        "{}",
        smtpd.report()
    );

    // Greylisting is about time: the retry must come after the delay.
    std::thread::sleep(Duration::from_millis(DELAY * 1000 + 100));
    let retry = wait_until("the retry to be accepted", Duration::from_secs(10), || {
        Some(send(&inst)).filter(|t| t.rcpts[0].starts_with("250"))
    });
    assert!(
        retry.end_of_data.starts_with("250 2.0.0 Ok: queued as "),
        "{retry:?}\n{}",
        smtpd.report()
    );
    let queued = queued_files(&inst);
    assert_eq!(queued.len(), 1, "{}", smtpd.report());
    let text = String::from_utf8_lossy(&queued[0]);
    assert!(
        text.contains("X-Greylist: delayed "),
        "postgrey's PREPEND is in the queue file:\n{text}"
    );
}
