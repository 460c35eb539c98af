//! The master starts smtpd on demand, as Postfix's master does: with
//! `-o max_idle=1` in master.cf smtpd exits 0 after a second without a
//! client, nothing is logged, no smtpd runs, and the next client still
//! gets its banner promptly (the master sees it waiting on the listening
//! socket and starts one) and its mail is queued. A crashed smtpd is
//! still logged and started again at once, without a client.

use std::time::{Duration, Instant};

use e2e::daemon::Signal;
use e2e::smtp_client::Dialogue;
use e2e::{Daemon, Instance, is_alive, wait_until};

const WAIT: Duration = Duration::from_secs(30);

/// How long smtpd waits for a client before it exits (`max_idle`).
const MAX_IDLE: Duration = Duration::from_secs(1);

/// An instance whose smtpd has `-o max_idle=1` in master.cf.
fn instance() -> Instance {
    let template = include_str!("../templates/master.cf")
        .replace("-       smtpd\n", "-       smtpd\n    -o max_idle=1\n");
    assert_ne!(template, include_str!("../templates/master.cf"));
    Instance::builder()
        .master_cf(&template)
        .param("service_throttle_time", "1s")
        .build()
}

/// Waits for the `n`th smtpd to say `ready`; returns its pid.
fn nth_smtpd(master: &Daemon, n: usize) -> u32 {
    master.nth_ready("smtpd", n, WAIT)
}

/// The live smtpd children of `parent` (from /proc).
fn smtpds(parent: u32) -> Vec<u32> {
    let smtpd = e2e::our_binary("smtpd");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // pid (comm) state ppid ...: comm may hold spaces.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after.split_whitespace().nth(1) == Some(&parent.to_string())
        })
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == smtpd))
        .filter(|pid| is_alive(*pid))
        .collect()
}

/// Waits for `pid` to exit.
fn exited(pid: u32) {
    wait_until(&format!("pid {pid} to exit"), WAIT, || {
        (!is_alive(pid)).then_some(())
    });
}

/// One message over `session`; returns its queue ID.
fn deliver(session: &mut Dialogue, n: usize) -> String {
    assert!(session.say("EHLO client.test").starts_with("250"));
    assert!(session.say("MAIL FROM:<a@example.test>").starts_with("250"));
    assert!(session.say("RCPT TO:<b@example.test>").starts_with("250"));
    assert!(session.say("DATA").starts_with("354"));
    let end = session.content(format!("Subject: on demand {n}\n\nmessage {n}\n").as_bytes());
    end.trim_end()
        .strip_prefix("250 2.0.0 Ok: queued as ")
        .unwrap_or_else(|| panic!("not queued: {end}"))
        .to_owned()
}

fn queued(inst: &Instance, id: &str) -> bool {
    inst.queue_dir().join("incoming").join(id).is_file()
}

/// No master line names `pid`: its exit was not a failure.
fn nothing_logged_about(master: &Daemon, pid: u32) {
    let needle = format!("pid {pid} ");
    assert!(
        !master.lines().iter().any(|l| l.contains(&needle)),
        "{}",
        master.report()
    );
}

#[test]
fn an_idle_smtpd_exits_and_the_next_client_starts_one() {
    let inst = instance();
    let master = inst.start_master();
    let first = nth_smtpd(&master, 1);
    exited(first);
    wait_until("no smtpd", WAIT, || {
        smtpds(master.pid()).is_empty().then_some(())
    });
    // Still none a moment later: an idle exit is not restarted.
    std::thread::sleep(MAX_IDLE * 2);
    assert_eq!(smtpds(master.pid()), Vec::<u32>::new());
    nothing_logged_about(&master, first);

    // The next client gets a banner from a new smtpd, promptly.
    let connected = Instant::now();
    let mut session = Dialogue::open(&inst.smtp_addr());
    assert!(session.banner.starts_with("220 "), "{}", session.banner);
    assert!(
        connected.elapsed() < Duration::from_secs(10),
        "{:?}",
        connected.elapsed()
    );
    let second = nth_smtpd(&master, 2);
    assert_ne!(second, first);
    // A session longer than max_idle keeps it.
    std::thread::sleep(MAX_IDLE * 2);
    let id = deliver(&mut session, 1);
    assert!(queued(&inst, &id));
    assert!(session.say("QUIT").starts_with("221"));
    exited(second);
    nothing_logged_about(&master, second);

    // And again.
    let mut again = Dialogue::open(&inst.smtp_addr());
    let id = deliver(&mut again, 2);
    assert!(queued(&inst, &id));
    assert!(nth_smtpd(&master, 3) != second);

    master.signal(Signal::SIGTERM).unwrap();
    let status = master.wait_exit(WAIT).unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status}");
}

#[test]
fn a_crashed_smtpd_is_logged_and_started_again_at_once() {
    let inst = instance();
    let master = inst.start_master();
    let mpid = master.pid();
    let first = nth_smtpd(&master, 1);
    // An open session keeps it past max_idle and past the two seconds
    // of a failed start (no throttling).
    let session = Dialogue::open(&inst.smtp_addr());
    assert!(session.banner.starts_with("220 "));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(is_alive(first));
    // SIGABRT, as a panic=abort or a failed assertion in libc would;
    // Rust's own SIGSEGV handler ignores a SIGSEGV sent by kill.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first as i32), Signal::SIGABRT).unwrap();
    let line = format!(
        "postfix/master[{mpid}]: warning: process {} pid {first} killed by signal 6",
        e2e::our_binary("smtpd").display()
    );
    master
        .wait_for_line(&line, WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
    drop(session);
    // Started again with no client waiting.
    let second = nth_smtpd(&master, 2);
    assert_ne!(second, first);
    assert!(
        !master
            .lines()
            .iter()
            .any(|l| l.contains("bad command startup")),
        "{}",
        master.report()
    );
    // It too leaves when idle, and the next client starts a third.
    exited(second);
    nothing_logged_about(&master, second);
    let mut session = Dialogue::open(&inst.smtp_addr());
    let id = deliver(&mut session, 1);
    assert!(queued(&inst, &id));
    assert!(nth_smtpd(&master, 3) != second);
}
