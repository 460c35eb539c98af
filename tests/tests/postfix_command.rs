//! Our `postfix` command on a temporary instance: what `check` reports
//! (a world-writable queue directory, a missing mail_owner, a map source
//! newer than its index, an unknown parameter), `status`, `stop` and
//! `reload` when nothing runs, and `flush` without qmgr, with the real
//! Postfix's messages and exit codes where comparing is cheap.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use e2e::instance::Builder;
use e2e::{Instance, require_peer, run_clean, wait_until};
use nix::unistd::Uid;

/// Our `postfix -c ETC args`: (stderr, exit status).
fn postfix(inst: &Instance, args: &[&str]) -> (String, i32) {
    let out = inst.postfix(args);
    assert!(out.stdout.is_empty(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().expect("postfix exits, it is not killed"),
    )
}

/// The real `postfix -c ETC args` under script(1): it prints only when
/// stderr is a terminal. (output, exit status), or None when it cannot
/// run here (not root: the real postfix refuses).
fn real_postfix(inst: &Instance, args: &str) -> Option<(String, i32)> {
    if !Uid::effective().is_root() {
        eprintln!("skipped: the real postfix needs root");
        return None;
    }
    let line = format!("postfix -c {} {args}", inst.config_dir().display());
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .output()
        .expect("run script(1)");
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    Some((text, out.status.code().unwrap_or(-1)))
}

/// An instance the real Postfix accepts too: its accounts and programs.
fn real_compatible() -> Builder {
    Instance::builder()
        .param("mail_owner", "postfix")
        .param("setgid_group", "postdrop")
        .param("daemon_directory", "/usr/lib/postfix/sbin")
        .param("command_directory", "/usr/sbin")
        .param("maillog_file_prefixes", "{root}")
}

fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn check_is_quiet_on_a_fresh_instance_and_creates_the_queue() {
    let inst = Instance::builder().build();
    assert_eq!(postfix(&inst, &["check"]), (String::new(), 0));
    for queue in ["maildrop", "incoming", "active", "deferred", "hold", "pid"] {
        assert!(inst.queue_dir().join(queue).is_dir(), "{queue}");
    }
    let maildrop = fs::metadata(inst.queue_dir().join("maildrop")).unwrap();
    assert_eq!(maildrop.permissions().mode() & 0o7777, 0o730);
}

#[test]
fn check_reports_a_world_writable_queue_directory() {
    let inst = Instance::builder().build();
    postfix(&inst, &["check"]);
    let hold = inst.queue_dir().join("hold");
    chmod(&hold, 0o777);
    let (stderr, status) = postfix(&inst, &["check"]);
    assert_eq!(
        stderr,
        format!(
            "postfix/postfix-script: warning: group or other writable: {}\n",
            hold.display()
        )
    );
    assert_eq!(status, 0);
    // check reports, it does not repair; set-permissions does.
    assert_eq!(postfix(&inst, &["set-permissions"]), (String::new(), 0));
    assert_eq!(postfix(&inst, &["check"]), (String::new(), 0));
}

#[test]
fn check_reports_a_missing_mail_owner_with_the_command_that_creates_it() {
    let inst = Instance::builder()
        .param("mail_owner", "nosuchuser")
        .build();
    let (stderr, status) = postfix(&inst, &["check"]);
    let main_cf = inst.config_dir().join("main.cf");
    let root = Uid::effective().is_root();
    let severity = if root { "fatal" } else { "warning" };
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "postfix: {severity}: file {}: parameter mail_owner: unknown user name value: nosuchuser",
                main_cf.display()
            )
            .as_str()
        ),
        "{stderr}"
    );
    let hint = lines.next().unwrap_or_default();
    assert!(
        hint.starts_with("postfix/postfix-script: to create it: useradd --system ")
            && hint.ends_with(" nosuchuser"),
        "{stderr}"
    );
    assert_eq!(status, i32::from(root));
}

#[test]
fn real_postfix_agrees_that_a_missing_mail_owner_is_fatal() {
    require_peer!("postfix");
    let inst = real_compatible().param("mail_owner", "nosuchuser").build();
    let Some((real, real_status)) = real_postfix(&inst, "check") else {
        return;
    };
    let (ours, status) = postfix(&inst, &["check"]);
    assert_eq!(status, real_status);
    assert_eq!(ours.lines().next(), real.lines().next(), "{ours}\n{real}");
}

#[test]
fn check_reports_a_map_source_newer_than_its_index() {
    let inst = Instance::builder()
        .param(
            "smtpd_client_restrictions",
            "check_client_access hash:{etc}/access",
        )
        .param("transport_maps", "cdb:{etc}/transport")
        .file("etc/access", "192.0.2.1 REJECT\n")
        .file("etc/transport", "example.com relay:[192.0.2.2]\n");
    let inst = inst.build();
    let access = inst.config_dir().join("access");
    let transport = inst.config_dir().join("transport");
    run_clean(
        inst.command("postmap")
            .arg(format!("hash:{}", access.display())),
    );
    run_clean(
        inst.command("postmap")
            .arg(format!("cdb:{}", transport.display())),
    );
    assert_eq!(postfix(&inst, &["check"]), (String::new(), 0));
    // The admin edits both maps and forgets postmap.
    let later = SystemTime::now() + Duration::from_secs(5);
    set_mtime(&access, later);
    set_mtime(&transport, later);
    let (stderr, status) = postfix(&inst, &["check"]);
    let etc = inst.config_dir();
    assert_eq!(
        stderr,
        format!(
            "postfix/postfix-script: warning: database {e}/access.db is older than source file {e}/access\n\
             postfix/postfix-script: warning: database {e}/transport.cdb is older than source file {e}/transport\n",
            e = etc.display()
        )
    );
    assert_eq!(status, 0);
}

#[test]
fn check_reports_an_unknown_parameter_as_postconf_does() {
    let inst = Instance::builder().param("bogus_param", "1").build();
    let (stderr, status) = postfix(&inst, &["check"]);
    let warning = format!(
        "warning: {}/main.cf: unused parameter: bogus_param=1",
        inst.config_dir().display()
    );
    assert_eq!(stderr, format!("postfix/postfix-script: {warning}\n"));
    assert_eq!(status, 0);
    let postconf = require_peer!("postconf");
    let out = Command::new(postconf)
        .arg("-c")
        .arg(inst.config_dir())
        .arg("-n")
        .output()
        .unwrap();
    let real = String::from_utf8_lossy(&out.stderr);
    assert!(real.contains(&warning), "{real}");
}

#[test]
fn check_reports_owners_and_writable_config_like_real_postfix() {
    require_peer!("postfix");
    let inst = real_compatible().build();
    // The first check creates the queue, owned by mail_owner.
    let Some((first, _)) = real_postfix(&inst, "check") else {
        return;
    };
    assert_eq!(first, "");
    chmod(&inst.config_dir().join("main.cf"), 0o666);
    chown(inst.queue_dir().join("saved"), Some(0), Some(0)).unwrap();
    chown(inst.queue_dir().join("public"), None, Some(0)).unwrap();
    let (real, real_status) = real_postfix(&inst, "check").unwrap();
    let (ours, status) = postfix(&inst, &["check"]);
    assert_eq!((ours.as_str(), status), (real.as_str(), real_status));
    for text in [
        "group or other writable: ",
        "not owned by postfix: ",
        "not owned by group postdrop: ",
    ] {
        assert!(ours.contains(text), "{ours}");
    }
}

#[test]
fn status_stop_and_reload_when_nothing_runs() {
    let inst = Instance::builder().build();
    assert_eq!(
        postfix(&inst, &["status"]),
        (
            "postfix/postfix-script: the Postfix mail system is not running\n".to_owned(),
            1
        )
    );
    for command in ["stop", "reload", "abort"] {
        assert_eq!(
            postfix(&inst, &[command]),
            (
                "postfix/postfix-script: fatal: the Postfix mail system is not running\n"
                    .to_owned(),
                1
            ),
            "{command}"
        );
    }
    let log = fs::read_to_string(inst.log_dir().join("maillog")).unwrap();
    assert!(
        log.contains("postfix/postfix-script[")
            && log.contains("]: fatal: the Postfix mail system is not running"),
        "{log}"
    );
}

#[test]
fn status_stop_and_flush_match_real_postfix_when_nothing_runs() {
    require_peer!("postfix");
    let inst = real_compatible().build();
    for command in ["status", "stop", "reload", "flush", "bogus"] {
        let Some((real, real_status)) = real_postfix(&inst, command) else {
            return;
        };
        let (ours, status) = postfix(&inst, &[command]);
        assert_eq!(status, real_status, "{command}: {ours}\n{real}");
        if command == "bogus" {
            // Our usage names only the commands we have.
            assert!(ours.starts_with("postfix/postfix-script: fatal: unknown command: 'bogus'."));
        } else {
            assert_eq!(ours, real, "{command}");
        }
    }
}

fn maillog(inst: &Instance) -> String {
    fs::read_to_string(inst.log_dir().join("maillog")).unwrap_or_default()
}

#[test]
fn start_status_reload_and_stop_the_master() {
    let inst = Instance::builder().build();
    let _stop = inst.kill_master_on_drop();
    assert_eq!(
        postfix(&inst, &["start"]),
        (
            "postfix/postfix-script: starting the Postfix mail system\n".to_owned(),
            0
        )
    );
    let pid = master::pidfile::running(&inst.queue_dir())
        .unwrap()
        .expect("master -w returns once the master holds its pid file");
    assert!(maillog(&inst).contains(&format!(
        "postfix/master[{pid}]: daemon started -- version "
    )));
    assert_eq!(
        postfix(&inst, &["status"]),
        (
            format!("postfix/postfix-script: the Postfix mail system is running: PID: {pid}\n"),
            0
        )
    );
    assert_eq!(
        postfix(&inst, &["start"]),
        (
            "postfix/postfix-script: fatal: the Postfix mail system is already running\n"
                .to_owned(),
            1
        )
    );
    assert_eq!(
        postfix(&inst, &["reload"]),
        (
            "postfix/postfix-script: refreshing the Postfix mail system\n".to_owned(),
            0
        )
    );
    let reloaded = format!("postfix/master[{pid}]: reload -- version ");
    wait_until("the master reloads", Duration::from_secs(10), || {
        maillog(&inst).contains(&reloaded).then_some(())
    });
    let (stderr, status) = postfix(&inst, &["stop"]);
    assert_eq!(
        stderr.lines().next(),
        Some("postfix/postfix-script: stopping the Postfix mail system"),
        "{stderr}"
    );
    assert!(!stderr.contains("with force"), "{stderr}");
    assert_eq!(status, 0);
    assert_eq!(master::pidfile::running(&inst.queue_dir()).unwrap(), None);
    assert_eq!(
        postfix(&inst, &["status"]),
        (
            "postfix/postfix-script: the Postfix mail system is not running\n".to_owned(),
            1
        )
    );
    let log = maillog(&inst);
    for line in [
        "]: starting the Postfix mail system",
        "]: refreshing the Postfix mail system",
        "]: stopping the Postfix mail system",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("postfix/postfix-script[") && l.ends_with(line)),
            "{log}"
        );
    }
}

#[test]
fn start_fg_keeps_the_master_in_the_foreground_until_abort() {
    let inst = Instance::builder().build();
    let _stop = inst.kill_master_on_drop();
    let mut cmd = inst.command("postfix");
    cmd.arg("-c").arg(inst.config_dir()).arg("start-fg");
    let fg = inst.start(
        cmd,
        "postfix/postfix-script: starting the Postfix mail system",
    );
    let pid = wait_until("the master runs", Duration::from_secs(10), || {
        master::pidfile::running(&inst.queue_dir()).ok().flatten()
    });
    // A child of start-fg (master -d), not start-fg itself.
    assert_ne!(pid, fg.pid());
    assert_eq!(
        postfix(&inst, &["abort"]),
        (
            "postfix/postfix-script: aborting the Postfix mail system\n".to_owned(),
            0
        )
    );
    let status = fg.wait_exit(Duration::from_secs(15)).unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(postfix(&inst, &["status"]).1, 1);
}

#[test]
fn stop_uses_force_on_a_master_that_ignores_sigterm() {
    let inst = Instance::builder().build();
    postfix(&inst, &["check"]);
    let pid_file = inst.queue_dir().join("pid/master.pid");
    fs::write(&pid_file, "").unwrap();
    // A stand-in master that holds the lock and ignores SIGTERM (an
    // ignored signal stays ignored across exec), in a session of its own.
    let mut holder = Command::new("setsid")
        .args(["sh", "-c", "trap '' TERM; exec flock \"$0\" sleep 60"])
        .arg(&pid_file)
        .spawn()
        .unwrap();
    let pid = holder.id();
    fs::write(&pid_file, format!("{pid:>10}\n")).unwrap();
    wait_until(
        "the stand-in holds the lock",
        Duration::from_secs(10),
        || {
            master::pidfile::running(&inst.queue_dir())
                .ok()
                .flatten()
                .filter(|p| *p == pid)
        },
    );
    let (stderr, status) = postfix(&inst, &["stop"]);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"postfix/postfix-script: stopping the Postfix mail system"),
        "{stderr}"
    );
    assert!(
        lines.contains(&"postfix/postfix-script: waiting for the Postfix mail system to terminate"),
        "{stderr}"
    );
    assert_eq!(
        lines.last(),
        Some(&"postfix/postfix-script: warning: stopping the Postfix mail system with force"),
        "{stderr}"
    );
    assert_eq!(status, 0);
    holder.wait().unwrap();
    // flock's child (sleep) shares the lock and dies with the group.
    wait_until("the lock is released", Duration::from_secs(10), || {
        master::pidfile::running(&inst.queue_dir())
            .unwrap()
            .is_none()
            .then_some(())
    });
}
