//! The master on a test instance with every standard service in master.cf
//! (only smtpd exists yet; the others are skipped with a log line): mail
//! flows through the smtpd it starts; `kill -9` of smtpd → restarted,
//! nothing acknowledged lost; SIGHUP with a session in the middle of a
//! transaction → that session still delivers its message and new
//! sessions work; SIGTERM → clean exit. As root, smtpd runs as
//! `mail_owner` and the master as root. The master.cf columns: `maxproc`
//! bounds smtpd's sessions (the next client waits), `chroot` `y` jails
//! smtpd in the queue, Debian's stock master.cf loads, and `fifo`,
//! `unix-dgram` and `pass` services get their sockets.
//! (Over the 600-line budget: the scenarios share the helpers above them.)

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::time::Duration;

use e2e::daemon::Signal;
use e2e::smtp_client::Dialogue;
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

/// Waits for the `n`th smtpd to be ready and returns its pid.
fn nth_smtpd(master: &Daemon, n: usize) -> u32 {
    master.nth_ready("smtpd", n, WAIT)
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

fn line_seen(master: &Daemon, line: &str) {
    master
        .wait_for_line(line, WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn master_restarts_smtpd_reloads_without_dropping_sessions_and_stops() {
    let inst = instance();
    let master = inst.start_master();
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
    let mut open = Dialogue::open(&inst.smtp_addr());
    assert!(open.say("EHLO client.test").starts_with("250"));
    assert!(open.say("MAIL FROM:<a@example.test>").starts_with("250"));
    assert!(open.say("RCPT TO:<b@example.test>").starts_with("250"));
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
    assert!(open.say("DATA").starts_with("354"));
    let end = open.content(b"Subject: in flight\n\nsent across a reload\n");
    let id = end
        .trim_end()
        .strip_prefix("250 2.0.0 Ok: queued as ")
        .unwrap_or_else(|| panic!("not queued: {end}"));
    assert!(queued(&inst, id));
    assert!(open.say("QUIT").starts_with("221"));
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
    let master = inst.start_master();
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
    (status_field(pid, "Uid:"), status_field(pid, "Gid:"))
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
    let master = inst.start_master();
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
    let master = inst.start_master();
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
    let master = inst.start_master();
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
    let master = inst.start_master();
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

/// maxproc of the smtp service bounds the SMTP sessions at once (one
/// smtpd serves them all): the next client is connected but gets no
/// banner until a session ends, and smtpd logs Postfix master's warning.
#[test]
fn maxproc_bounds_concurrent_sessions_and_the_next_client_waits() {
    let template = include_str!("../templates/master.cf").replace(
        "127.0.0.1:{port} inet n -       n       -       -       smtpd",
        "127.0.0.1:{port} inet n -       n       -       2       smtpd",
    );
    assert_ne!(template, include_str!("../templates/master.cf"));
    let inst = instance_with(Instance::builder().master_cf(&template));
    let master = inst.start_master();
    let smtpd = nth_smtpd(&master, 1);
    let mut one = Dialogue::open(&inst.smtp_addr());
    let mut two = Dialogue::open(&inst.smtp_addr());
    // The listen queue takes the third connection; smtpd does not.
    let third = TcpStream::connect(inst.smtp_addr()).expect("connect");
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut third_in = BufReader::new(third.try_clone().unwrap());
    let mut line = String::new();
    assert!(
        third_in.read_line(&mut line).is_err(),
        "no banner while two sessions are open: {line:?}"
    );
    let port = inst.port();
    line_seen(
        &master,
        &format!(
            "postfix/smtpd[{smtpd}]: warning: service \"127.0.0.1:{port}\" ({port}) has reached \
             its process limit \"2\": new clients may experience noticeable delays"
        ),
    );
    line_seen(
        &master,
        &format!(
            "postfix/smtpd[{smtpd}]: warning: to avoid this condition, increase the process \
             count in master.cf or reduce the service time per client"
        ),
    );
    assert!(one.say("QUIT").starts_with("221"));
    third.set_read_timeout(Some(WAIT)).unwrap();
    line.clear();
    third_in.read_line(&mut line).expect("banner");
    assert!(line.starts_with("220 "), "{line}");
    assert!(two.say("QUIT").starts_with("221"));
    drop(third_in);
    drop(third);
    let id = send(&inst, 1);
    assert!(queued(&inst, &id));
    // A session past the limit is not refused: no 421 was logged.
    assert!(
        !master
            .lines()
            .iter()
            .any(|l| l.contains("too many") || l.contains("refusing")),
        "{}",
        master.report()
    );
}

/// A line of /proc/PID/status, its words joined by one space.
fn status_field(pid: u32, name: &str) -> String {
    // A process that is gone has nothing.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `chroot` `y` for smtp, as Debian's master.cf has it: smtpd chroots
/// itself into the queue directory (its root and working directory),
/// runs as mail_owner with that one group, and receives mail into
/// incoming/.
#[test]
fn with_chroot_y_smtpd_runs_jailed_in_the_queue_as_mail_owner() {
    if !Uid::effective().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let template = include_str!("../templates/master.cf").replace(
        "127.0.0.1:{port} inet n -       n       -",
        "127.0.0.1:{port} inet n -       y       -",
    );
    assert_ne!(template, include_str!("../templates/master.cf"));
    let inst = instance_with(Instance::builder().master_cf(&template));
    let master = inst.start_master();
    let smtpd = nth_smtpd(&master, 1);
    let queue = std::fs::canonicalize(inst.queue_dir()).unwrap();
    let link = |what: &str| std::fs::read_link(format!("/proc/{smtpd}/{what}")).unwrap();
    assert_eq!(link("root"), queue);
    assert_eq!(link("cwd"), queue);
    let (user, _) = e2e::instance::system_accounts();
    let owner = User::from_name(&user).unwrap().unwrap();
    let (uid, gid) = (owner.uid.as_raw(), owner.gid.as_raw());
    assert_eq!(
        ids(smtpd),
        (
            format!("{uid} {uid} {uid} {uid}"),
            format!("{gid} {gid} {gid} {gid}")
        )
    );
    assert_eq!(status_field(smtpd, "Groups:"), gid.to_string());
    let id = send(&inst, 1);
    assert!(queued(&inst, &id));
    let id = send(&inst, 2);
    assert!(queued(&inst, &id));
    // The default local_recipient_maps (unix:passwd.byname) still knows
    // the local users, though /etc/passwd is outside the jail.
    let mut local = Dialogue::open(&inst.smtp_addr());
    assert!(local.say("EHLO client.test").starts_with("250"));
    assert!(local.say("MAIL FROM:<a@example.test>").starts_with("250"));
    assert!(
        local
            .say("RCPT TO:<root@mail.example.test>")
            .starts_with("250")
    );
    assert_eq!(
        local.say("RCPT TO:<no-such-user@mail.example.test>"),
        "550 5.1.1 <no-such-user@mail.example.test>: Recipient address rejected: \
         User unknown in local recipient table\r\n"
    );
    assert!(local.say("QUIT").starts_with("221"));
    assert!(
        !master.lines().iter().any(|l| l.contains("chroot")),
        "{}",
        master.report()
    );
}

/// The active lines of Debian's stock master.cf (Postfix 3.7), SMTP on
/// the instance's loopback port.
const DEBIAN_MASTER_CF: &str = "\
127.0.0.1:{port} inet n - y - - smtpd
pickup    unix  n       -       y       60      1       pickup
cleanup   unix  n       -       y       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       y       1000?   1       tlsmgr
rewrite   unix  -       -       y       -       -       trivial-rewrite
bounce    unix  -       -       y       -       0       bounce
defer     unix  -       -       y       -       0       bounce
trace     unix  -       -       y       -       0       bounce
verify    unix  -       -       y       -       1       verify
flush     unix  n       -       y       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
        -o syslog_name=postfix/$service_name
showq     unix  n       -       y       -       -       showq
error     unix  -       -       y       -       -       error
retry     unix  -       -       y       -       -       error
discard   unix  -       -       y       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       y       -       -       lmtp
anvil     unix  -       -       y       -       1       anvil
scache    unix  -       -       y       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
maildrop  unix  -       n       n       -       -       pipe
  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
uucp      unix  -       n       n       -       -       pipe
  flags=Fqhu user=uucp argv=uux -r -n -z -a$sender - $nexthop!rmail ($recipient)
";

/// Debian's stock master.cf loads without an error and mail flows; a
/// `fifo` service gets a named pipe, `unix-dgram` a datagram socket and
/// `pass` a stream socket, each at file descriptor 3 of its process.
#[test]
fn debian_master_cf_loads_and_fifo_dgram_and_pass_services_get_their_sockets() {
    let master_cf = format!(
        "{DEBIAN_MASTER_CF}\
         wake      fifo  n       -       n       60      1       {{data}}/sleeper\n\
         log2      unix-dgram n  -       n       -       1       {{data}}/sleeper\n\
         smtpd     pass  -       -       n       -       -       {{data}}/sleeper\n"
    );
    let inst = instance_with(
        Instance::builder()
            .master_cf(&master_cf)
            .file("data/sleeper", "#!/bin/sh\nexec sleep 600\n"),
    );
    let sleeper = inst.path("data/sleeper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sleeper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let master = inst.start_master();
    let id = send(&inst, 1);
    assert!(queued(&inst, &id));
    let lines = master.lines();
    assert!(
        !lines.iter().any(|l| l.contains("]: fatal: ")
            || l.contains("]: error: ")
            || l.contains("]: warning: ")),
        "{}",
        master.report()
    );
    use std::os::unix::fs::FileTypeExt;
    let kind = |rel: &str| {
        std::fs::symlink_metadata(inst.queue_dir().join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}\n{}", master.report()))
            .file_type()
    };
    assert!(kind("public/wake").is_fifo());
    assert!(kind("public/log2").is_socket());
    assert!(kind("private/smtpd").is_socket());
    // Each sleeper has its endpoint at fd 3: the named pipe, or a socket.
    let targets = wait_until("three sleepers", WAIT, || {
        let mut targets = sleepers_fd3(master.pid());
        (targets.len() == 3).then(|| {
            targets.sort();
            targets
        })
    });
    assert_eq!(
        targets
            .iter()
            .filter(|t| t.ends_with("/public/wake"))
            .count(),
        1,
        "{targets:?}"
    );
    assert_eq!(
        targets.iter().filter(|t| t.starts_with("socket:")).count(),
        2,
        "{targets:?}"
    );
}

/// What fd 3 of each `sleep` child of the master is.
fn sleepers_fd3(master: u32) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            status_field(*pid, "PPid:") == master.to_string()
                && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
        })
        .filter_map(|pid| std::fs::read_link(format!("/proc/{pid}/fd/3")).ok())
        .map(|t| t.to_string_lossy().into_owned())
        .collect()
}
