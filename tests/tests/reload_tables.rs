//! `postfix reload` after `postmap` of a changed access map: the new
//! entry takes effect for new sessions, and a session in the middle of
//! a transaction goes on to deliver its message; `postfix stop` and
//! `start` keep what was queued.

use std::fs;
use std::time::Duration;

use e2e::smtp_client::Dialogue;
use e2e::{Instance, wait_until};

const MESSAGE: &[u8] = b"Subject: reload\n\nbody\n";

/// Our `postfix -c ETC args`, which must succeed.
fn postfix(inst: &Instance, args: &[&str]) {
    let out = inst.postfix(args);
    assert!(out.status.success(), "postfix {args:?}: {out:?}");
}

fn postmap(inst: &Instance, map: &str) {
    let out = inst
        .command("postmap")
        .arg(inst.path(map))
        .output()
        .expect("run our postmap");
    assert!(out.status.success(), "postmap {map}: {out:?}");
}

fn maillog(inst: &Instance) -> String {
    fs::read_to_string(inst.log_dir().join("maillog")).unwrap_or_default()
}

/// Queue files in incoming/.
fn incoming(inst: &Instance) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(inst.queue_dir().join("incoming"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn reload_after_postmap_applies_the_new_entry_and_keeps_open_sessions() {
    let inst = Instance::builder()
        .file("etc/access", "spam@example.org REJECT old entry\n")
        .param(
            "smtpd_sender_restrictions",
            "check_sender_access hash:{root}/etc/access",
        )
        .build();
    postmap(&inst, "etc/access");
    let _stop = inst.kill_master_on_drop();
    postfix(&inst, &["start"]);
    let addr = inst.smtp_addr();
    wait_until("smtpd answers", Duration::from_secs(10), || {
        std::net::TcpStream::connect(&addr).ok()
    });

    // A session in the middle of a transaction when the reload comes.
    let mut open = Dialogue::open(&addr);
    assert!(open.say("EHLO client.example").starts_with("250"));
    assert!(open.say("MAIL FROM:<late@example.org>").starts_with("250"));
    assert!(open.say("RCPT TO:<user@example.test>").starts_with("250"));

    inst.write(
        "etc/access",
        "spam@example.org REJECT old entry\nlate@example.org REJECT new entry\n",
    );
    postmap(&inst, "etc/access");
    postfix(&inst, &["reload"]);
    wait_until("the master reloads", Duration::from_secs(10), || {
        maillog(&inst).contains("reload -- version").then_some(())
    });

    // New sessions see the new entry...
    let mut fresh = Dialogue::open(&addr);
    assert!(fresh.say("EHLO client.example").starts_with("250"));
    assert!(fresh.say("MAIL FROM:<late@example.org>").starts_with("250"));
    assert_eq!(
        fresh.say("RCPT TO:<user@example.test>"),
        "554 5.7.1 <late@example.org>: Sender address rejected: new entry\r\n"
    );
    assert!(fresh.say("QUIT").starts_with("221"));

    // ...and the open one finishes its message.
    assert!(open.say("DATA").starts_with("354"));
    let done = open.content(MESSAGE);
    assert!(done.starts_with("250 2.0.0 Ok: queued as "), "{done}");
    assert!(open.say("QUIT").starts_with("221"));
    let id = done
        .trim_end()
        .rsplit(' ')
        .next()
        .expect("a queue ID")
        .to_string();
    assert!(incoming(&inst).contains(&id), "{:?}", incoming(&inst));

    // Stop and start: the queued message is still there, intact.
    postfix(&inst, &["stop"]);
    postfix(&inst, &["start"]);
    let out = inst
        .command("postcat")
        .arg("-c")
        .arg(inst.config_dir())
        .arg("-q")
        .arg(&id)
        .output()
        .expect("run postcat");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Subject: reload"));
    postfix(&inst, &["stop"]);
}
