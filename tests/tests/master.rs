//! The master on a test instance with every standard service in master.cf
//! (only smtpd exists yet; the others are skipped with a log line): mail
//! flows through the smtpd it starts; `kill -9` of smtpd → restarted,
//! nothing acknowledged lost; SIGHUP with a session in the middle of a
//! transaction → that session still delivers its message and new
//! sessions work; SIGTERM → clean exit. As root, smtpd runs as
//! `mail_owner` and the master as root.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use e2e::daemon::Signal;
use e2e::{Daemon, Instance, is_alive, smtp_client, wait_until};
use nix::unistd::{Group, Uid, User};

const WAIT: Duration = Duration::from_secs(30);

/// A test instance whose failed services are retried quickly.
fn instance() -> Instance {
    instance_with(Instance::builder())
}

fn instance_with(builder: e2e::instance::Builder) -> Instance {
    builder.param("service_throttle_time", "1s").build()
}

/// `master -d -c etc`, once it says `daemon started`.
fn start_master(inst: &Instance) -> Daemon {
    let mut cmd = inst.command("master");
    cmd.arg("-d").arg("-c").arg(inst.config_dir());
    let log = inst.log_dir().join("master.log");
    let master = Daemon::spawn(cmd, log).unwrap_or_else(|e| panic!("{e}"));
    let ready = format!(
        "postfix/master[{}]: daemon started -- version 3.7.11, configuration {}",
        master.pid(),
        inst.config_dir().display()
    );
    master
        .wait_for_line(&ready, WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
    master
}

/// The pids of smtpd processes that said `ready`, in order.
fn smtpd_pids(master: &Daemon) -> Vec<u32> {
    master
        .lines()
        .iter()
        .filter_map(|l| l.strip_prefix("postfix/smtpd[")?.strip_suffix("]: ready"))
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

/// Waits for the `n`th smtpd to be ready and returns its pid.
fn nth_smtpd(master: &Daemon, n: usize) -> u32 {
    wait_until(&format!("smtpd number {n}"), WAIT, || {
        smtpd_pids(master).get(n - 1).copied()
    })
}

/// Sends one message; returns its queue ID.
fn send(inst: &Instance, n: usize) -> String {
    let text = format!("Subject: master test {n}\n\nmessage {n}\n");
    let t = smtp_client::send(
        &inst.smtp_addr(),
        "client.test",
        "a@example.test",
        &["b@example.test"],
        text.as_bytes(),
    )
    .expect("SMTP session");
    t.end_of_data
        .trim_end()
        .strip_prefix("250 2.0.0 Ok: queued as ")
        .unwrap_or_else(|| panic!("not queued: {t:?}"))
        .to_owned()
}

fn queued(inst: &Instance, id: &str) -> bool {
    inst.queue_dir().join("incoming").join(id).is_file()
}

/// A session driven by hand, one command at a time.
struct Session {
    out: TcpStream,
    input: BufReader<TcpStream>,
}

impl Session {
    fn open(addr: &str) -> Session {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut s = Session {
            out: stream.try_clone().unwrap(),
            input: BufReader::new(stream),
        };
        assert!(s.reply().starts_with("220 "));
        s
    }

    fn reply(&mut self) -> String {
        let mut text = String::new();
        loop {
            let start = text.len();
            assert!(self.input.read_line(&mut text).expect("read") > 0, "{text}");
            if text.as_bytes().get(start + 3) != Some(&b'-') {
                return text;
            }
        }
    }

    fn say(&mut self, bytes: &[u8]) -> String {
        self.out.write_all(bytes).expect("write");
        self.reply()
    }
}

fn line_seen(master: &Daemon, line: &str) {
    master
        .wait_for_line(line, WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn master_restarts_smtpd_reloads_without_dropping_sessions_and_stops() {
    let inst = instance();
    let master = start_master(&inst);
    let mpid = master.pid();
    let bin = e2e::our_binary("smtpd");
    let bin_dir = bin.parent().unwrap().display().to_string();
    // Services without a program are skipped, once each.
    line_seen(
        &master,
        &format!(
            "postfix/master[{mpid}]: service qmgr/unix: {bin_dir}/qmgr does not exist yet: not started"
        ),
    );
    line_seen(
        &master,
        &format!(
            "postfix/master[{mpid}]: service postlog/unix-dgram: {bin_dir}/postlogd does not exist yet: not started"
        ),
    );

    // Mail flows through the smtpd the master started.
    let first = nth_smtpd(&master, 1);
    let one = send(&inst, 1);
    assert!(queued(&inst, &one));

    // kill -9: logged, restarted, mail keeps flowing, nothing lost.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first as i32), Signal::SIGKILL).unwrap();
    line_seen(
        &master,
        &format!(
            "postfix/master[{mpid}]: warning: process {} pid {first} killed by signal 9",
            bin.display()
        ),
    );
    let second = nth_smtpd(&master, 2);
    assert_ne!(second, first);
    // Killed by an admin is not a failed start: no throttling.
    assert!(
        !master
            .lines()
            .iter()
            .any(|l| l.contains("bad command startup")),
        "{}",
        master.report()
    );
    let two = send(&inst, 2);
    assert!(queued(&inst, &one) && queued(&inst, &two));

    // SIGHUP in the middle of a transaction.
    let mut open = Session::open(&inst.smtp_addr());
    assert!(open.say(b"EHLO client.test\r\n").starts_with("250"));
    assert!(
        open.say(b"MAIL FROM:<a@example.test>\r\n")
            .starts_with("250")
    );
    assert!(open.say(b"RCPT TO:<b@example.test>\r\n").starts_with("250"));
    let before = master.line_count();
    master.signal(Signal::SIGHUP).unwrap();
    master
        .wait_for_line_after(
            before,
            &format!(
                "postfix/master[{mpid}]: reload -- version 3.7.11, configuration {}",
                inst.config_dir().display()
            ),
            WAIT,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    line_seen(&master, &format!("postfix/smtpd[{second}]: draining"));
    let third = nth_smtpd(&master, 3);
    assert!(![first, second].contains(&third));
    // New sessions go to the new smtpd while the old one drains.
    let three = send(&inst, 3);
    assert!(queued(&inst, &three));
    assert!(is_alive(second), "the draining smtpd waits for its session");
    assert!(open.say(b"DATA\r\n").starts_with("354"));
    let end = open.say(b"Subject: in flight\r\n\r\nsent across a reload\r\n.\r\n");
    let id = end
        .trim_end()
        .strip_prefix("250 2.0.0 Ok: queued as ")
        .unwrap_or_else(|| panic!("not queued: {end}"));
    assert!(queued(&inst, id));
    assert!(open.say(b"QUIT\r\n").starts_with("221"));
    wait_until("the drained smtpd to exit", WAIT, || {
        (!is_alive(second)).then_some(())
    });
    let four = send(&inst, 4);
    assert!(queued(&inst, &four));
    // A drained smtpd exits 0: no warning about it.
    assert!(
        !master
            .lines()
            .iter()
            .any(|l| l.contains(&format!("pid {second} "))),
        "{}",
        master.report()
    );

    // SIGTERM: a clean exit, smtpd gone too.
    master.signal(Signal::SIGTERM).unwrap();
    line_seen(
        &master,
        &format!("postfix/master[{mpid}]: terminating on signal 15"),
    );
    let status = master.wait_exit(WAIT).unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status}");
    wait_until("smtpd to exit", WAIT, || (!is_alive(third)).then_some(()));
}

#[test]
fn a_second_master_is_refused_and_test_mode_sees_the_first() {
    let inst = instance();
    let test_mode = |inst: &Instance| {
        inst.command("master")
            .arg("-t")
            .status()
            .expect("master -t")
            .code()
    };
    assert_eq!(test_mode(&inst), Some(0));
    let master = start_master(&inst);
    assert_eq!(test_mode(&inst), Some(1));
    let second = inst.command("master").arg("-d").output().expect("master");
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("fatal: the Postfix mail system is already running"),
        "{stderr}"
    );
    let pid = std::fs::read_to_string(inst.queue_dir().join("pid/master.pid")).unwrap();
    assert_eq!(pid, format!("{:>10}\n", master.pid()));
    master.signal(Signal::SIGTERM).unwrap();
    master.wait_exit(WAIT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(test_mode(&inst), Some(0));
}

/// `Uid:` and `Gid:` lines of /proc/PID/status: real, effective, saved, fs.
fn ids(pid: u32) -> (String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    (field("Uid:"), field("Gid:"))
}

#[test]
fn as_root_smtpd_runs_as_mail_owner_and_master_as_root() {
    if !Uid::effective().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let inst = instance();
    let (user, group) = e2e::instance::system_accounts();
    let owner = User::from_name(&user).unwrap().unwrap();
    let master = start_master(&inst);
    let smtpd = nth_smtpd(&master, 1);
    let (uid, gid) = (owner.uid.as_raw(), owner.gid.as_raw());
    assert_eq!(
        ids(smtpd),
        (
            format!("{uid} {uid} {uid} {uid}"),
            format!("{gid} {gid} {gid} {gid}")
        )
    );
    assert_eq!(ids(master.pid()).0, "0 0 0 0");
    // Queue directories belong to mail_owner; public and maildrop to
    // setgid_group too.
    let setgid = Group::from_name(&group).unwrap().unwrap().gid.as_raw();
    let meta = |name: &str| {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(inst.queue_dir().join(name)).unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    assert_eq!(meta("incoming"), (uid, 0, 0o700));
    assert_eq!(meta("public"), (uid, setgid, 0o710));
    assert_eq!(meta("maildrop"), (uid, setgid, 0o730));
    // And mail flows with smtpd unprivileged.
    let id = send(&inst, 1);
    assert!(queued(&inst, &id));
}

/// A service that fails at once is throttled for `service_throttle_time`,
/// then tried again, with Postfix's log lines.
#[test]
fn a_failing_service_is_throttled_and_retried() {
    let template = format!(
        "{}crashy    unix  -       -       n       -       -       /bin/false\n",
        include_str!("../templates/master.cf")
    );
    let inst = instance_with(Instance::builder().master_cf(&template));
    let master = start_master(&inst);
    let mpid = master.pid();
    let exit = |l: &String| {
        l.starts_with(&format!(
            "postfix/master[{mpid}]: warning: process /bin/false pid "
        )) && l.ends_with(" exit status 1")
    };
    let throttled =
        format!("postfix/master[{mpid}]: warning: /bin/false: bad command startup -- throttling");
    wait_until("two failed starts", WAIT, || {
        let lines = master.lines();
        (lines.iter().filter(|l| exit(l)).count() >= 2).then_some(())
    });
    let lines = master.lines();
    let count = lines.iter().filter(|l| **l == throttled).count();
    assert!(count >= 2, "{}", master.report());
    // smtpd is unaffected.
    let id = send(&inst, 1);
    assert!(queued(&inst, &id));
    assert!(inst.queue_dir().join("private/crashy").exists());
}

/// The first line a new connection to `addr` gets.
fn banner(addr: &str) -> String {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("banner");
    line
}

/// SIGHUP, then the reload line.
fn reload(master: &Daemon, inst: &Instance) {
    let before = master.line_count();
    master.signal(Signal::SIGHUP).unwrap();
    let line = format!(
        "postfix/master[{}]: reload -- version 3.7.11, configuration {}",
        master.pid(),
        inst.config_dir().display()
    );
    master
        .wait_for_line_after(before, &line, WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Reload applies a changed main.cf to new sessions, starts a service
/// added to master.cf and closes one removed from it.
#[test]
fn reload_applies_main_cf_and_master_cf_changes() {
    let second_port = e2e::free_port();
    let inst = instance_with(Instance::builder().placeholder("port2", &second_port.to_string()));
    let master = start_master(&inst);
    assert!(banner(&inst.smtp_addr()).starts_with("220 mail.example.test ESMTP"));

    inst.set_param("smtpd_banner", "$myhostname ESMTP reloaded");
    let master_cf = std::fs::read_to_string(inst.config_dir().join("master.cf")).unwrap();
    inst.write(
        "etc/master.cf",
        &format!("{master_cf}127.0.0.1:{{port2}} inet n - n - - smtpd\n"),
    );
    reload(&master, &inst);
    let second = format!("127.0.0.1:{second_port}");
    wait_until("the new banner", WAIT, || {
        (banner(&inst.smtp_addr()) == "220 mail.example.test ESMTP reloaded\r\n").then_some(())
    });
    assert_eq!(banner(&second), "220 mail.example.test ESMTP reloaded\r\n");

    inst.write("etc/master.cf", &master_cf);
    reload(&master, &inst);
    // Its smtpd got SIGTERM and closes the last copy of the socket.
    wait_until("the removed service's socket to close", WAIT, || {
        TcpStream::connect(&second).is_err().then_some(())
    });
    let id = send(&inst, 1);
    assert!(queued(&inst, &id));
}

/// A bare port listens on every address of `inet_interfaces` in the
/// families of `inet_protocols`: 127.0.0.1 and ::1 for loopback-only.
#[test]
fn a_bare_port_listens_on_ipv4_and_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let template =
        include_str!("../templates/master.cf").replace("127.0.0.1:{port} inet", "{port} inet");
    let inst = instance_with(
        Instance::builder()
            .master_cf(&template)
            .param("inet_protocols", "all"),
    );
    let master = start_master(&inst);
    nth_smtpd(&master, 2);
    let port = inst.port();
    assert!(banner(&format!("127.0.0.1:{port}")).starts_with("220 "));
    assert!(banner(&format!("[::1]:{port}")).starts_with("220 "));
    let t = smtp_client::send(
        &format!("[::1]:{port}"),
        "client.test",
        "a@example.test",
        &["b@example.test"],
        b"Subject: v6\n\nover IPv6\n",
    )
    .expect("SMTP over IPv6");
    assert!(t.end_of_data.starts_with("250 "), "{t:?}");
}

/// Gives `dir` and everything under it to `uid`/`gid`.
fn chown_tree(dir: &std::path::Path, uid: Uid, gid: nix::unistd::Gid) {
    nix::unistd::chown(dir, Some(uid), Some(gid)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            chown_tree(&path, uid, gid);
        } else {
            nix::unistd::chown(&path, Some(uid), Some(gid)).unwrap();
        }
    }
}

/// Started by an ordinary user, the master and smtpd run as that user
/// (mail_owner is not used), say so once, and mail flows.
#[test]
fn as_an_ordinary_user_everything_runs_as_that_user() {
    use std::os::unix::process::CommandExt;
    if !Uid::effective().is_root() {
        eprintln!("skipped: needs root to become another ordinary user");
        return;
    }
    let nobody = User::from_name("nobody").unwrap().expect("user nobody");
    let inst = instance();
    chown_tree(inst.root(), nobody.uid, nobody.gid);
    let mut cmd = inst.command("master");
    cmd.arg("-d")
        .arg("-c")
        .arg(inst.config_dir())
        .uid(nobody.uid.as_raw())
        .gid(nobody.gid.as_raw());
    let master =
        Daemon::spawn(cmd, inst.log_dir().join("master.log")).unwrap_or_else(|e| panic!("{e}"));
    let mpid = master.pid();
    line_seen(
        &master,
        &format!(
            "postfix/master[{mpid}]: daemon started -- version 3.7.11, configuration {}",
            inst.config_dir().display()
        ),
    );
    let uid = nobody.uid.as_raw();
    let said = format!(
        "postfix/master[{mpid}]: not running as root: every service runs as uid {uid}, not as mail_owner "
    );
    let lines = master.lines();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with(&said)).count(),
        1,
        "{}",
        master.report()
    );
    let smtpd = nth_smtpd(&master, 1);
    assert_eq!(ids(smtpd).0, format!("{uid} {uid} {uid} {uid}"));
    assert_eq!(ids(mpid).0, format!("{uid} {uid} {uid} {uid}"));
    let id = send(&inst, 1);
    assert!(queued(&inst, &id));
    // The queue stays the user's: nothing was given to mail_owner.
    use std::os::unix::fs::MetadataExt;
    let incoming = std::fs::metadata(inst.queue_dir().join("incoming")).unwrap();
    assert_eq!(incoming.uid(), uid);
}
