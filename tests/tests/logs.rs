//! The maillog our smtpd writes, read by the log parsers admins run on
//! Postfix logs: the real `pflogsumm` must count the messages received
//! and rejected, and `fail2ban-regex` with fail2ban's stock `postfix`
//! filter must match the misbehaving clients' lines. The sessions:
//! messages accepted, messages rejected by `header_checks`, a client
//! that pipelines where it may not (after HELO, and before the banner),
//! one whose recipient is refused (a UTF-8 address without SMTPUTF8:
//! smtpd has no recipient restrictions yet) and one that hits
//! `smtpd_hard_error_limit` with unknown commands.
//!
//! The other transports: without `maillog_file` smtpd sends RFC 3164
//! datagrams to a test socket standing in for `/dev/log`
//! (`$MAIL_SYSLOG_SOCKET`), tagged with a master.cf-style
//! `-o syslog_name=postfix/submission`; `maillog_file = /dev/stdout`
//! stamps lines on smtpd's standard output.
//!
//! `tests/fixtures/logs/postfix-3.7-sessions.maillog` is what the real
//! Postfix 3.7.11 (`scripts/real-postfix`, same header_checks and
//! limits) logged for the same sessions; the parsers' reading of it pins
//! what this harness expects of them, and its lines are the shapes ours
//! must keep.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::{Daemon, Instance, our_binary, require_peer, smtp_client, workspace_root};

const ACCEPTED: usize = 3;
const HEADER_REJECTED: usize = 2;
/// `smtpd_hard_error_limit` in the instance.
const HARD_ERROR_LIMIT: usize = 3;

fn instance() -> Instance {
    Instance::builder()
        .param("header_checks", "regexp:{etc}/header_checks")
        .param("smtpd_hard_error_limit", &HARD_ERROR_LIMIT.to_string())
        .param("smtpd_forbid_unauth_pipelining", "yes")
        .file(
            "etc/header_checks",
            "/^Subject: .*buy now/ REJECT no spam here\n",
        )
        .build()
}

fn message(subject: &str) -> String {
    format!(
        "From: alice@example.net\nTo: root@localhost\nSubject: {subject}\n\
         Message-ID: <{}@example.net>\n\nhello\n",
        subject.replace(' ', ".")
    )
}

fn send(inst: &Instance, subject: &str) -> smtp_client::Transcript {
    smtp_client::send(
        &inst.smtp_addr(),
        "client.example.net",
        "alice@example.net",
        &["root@localhost"],
        message(subject).as_bytes(),
    )
    .unwrap_or_else(|e| panic!("send {subject}: {e}"))
}

/// One reply line (enough for the single-line replies used here).
fn reply(input: &mut impl BufRead) -> String {
    let mut line = String::new();
    input.read_line(&mut line).unwrap();
    line
}

fn connect(inst: &Instance) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(inst.smtp_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let input = BufReader::new(stream.try_clone().unwrap());
    (stream, input)
}

/// HELO and MAIL in one write: RFC 2920 pipelining without ESMTP.
fn pipeline_after_helo(inst: &Instance) {
    let (mut out, mut input) = connect(inst);
    assert!(reply(&mut input).starts_with("220"));
    out.write_all(b"HELO bad.example\r\nMAIL FROM:<x@bad.example>\r\n")
        .unwrap();
    let answer = reply(&mut input);
    assert!(answer.starts_with('5'), "{answer}");
}

/// A command before the banner; smtpd sees it only if it arrived before
/// it looked, so this tries until one session was refused.
fn pipeline_before_banner(inst: &Instance) {
    for _ in 0..20 {
        let (mut out, mut input) = connect(inst);
        out.write_all(b"EHLO bad.example\r\n").unwrap();
        let first = reply(&mut input);
        if first.starts_with('5') {
            return;
        }
        out.write_all(b"QUIT\r\n").unwrap();
        let mut rest = Vec::new();
        let _ = input.read_to_end(&mut rest);
    }
    panic!("smtpd never saw a command before its banner");
}

/// Unknown commands until smtpd hangs up with 421.
fn too_many_errors(inst: &Instance) {
    let (mut out, mut input) = connect(inst);
    assert!(reply(&mut input).starts_with("220"));
    for _ in 0..HARD_ERROR_LIMIT {
        out.write_all(b"XYZZY\r\n").unwrap();
        let answer = reply(&mut input);
        assert!(answer.starts_with('5'), "{answer}");
    }
    out.write_all(b"XYZZY\r\n").unwrap();
    let answer = reply(&mut input);
    assert!(answer.starts_with("421"), "{answer}");
}

/// A UTF-8 recipient without SMTPUTF8: `NOQUEUE: reject: RCPT`.
fn recipient_rejected(inst: &Instance) {
    let t = smtp_client::send(
        &inst.smtp_addr(),
        "client.example.net",
        "alice@example.net",
        &["b\u{f8}b@localhost"],
        message("utf8").as_bytes(),
    )
    .unwrap();
    assert!(t.rcpts[0].starts_with("553"), "{t:?}");
}

/// Runs every session and returns the maillog once smtpd stopped.
fn run_sessions(inst: &Instance) -> String {
    let smtpd: Daemon = inst.start_smtpd();
    for n in 0..ACCEPTED {
        let t = send(inst, &format!("hello {n}"));
        assert!(t.end_of_data.starts_with("250"), "{t:?}");
    }
    for n in 0..HEADER_REJECTED {
        let t = send(inst, &format!("buy now {n}"));
        assert!(t.end_of_data.starts_with("550"), "{t:?}");
    }
    recipient_rejected(inst);
    pipeline_after_helo(inst);
    pipeline_before_banner(inst);
    too_many_errors(inst);
    smtpd.stop();
    let maillog = inst.log_dir().join("maillog");
    std::fs::read_to_string(&maillog).unwrap_or_else(|e| panic!("{}: {e}", maillog.display()))
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The number before `word` in pflogsumm's "Grand Totals" section
/// (`      5   received`, `      2   rejected (28%)`).
fn grand_total(report: &str, word: &str) -> usize {
    let section = report
        .split_once("Grand Totals")
        .unwrap_or_else(|| panic!("no Grand Totals in:\n{report}"))
        .1;
    section
        .lines()
        .map(str::split_whitespace)
        .find_map(|mut words| {
            let count = words.next()?;
            (words.next()? == word).then(|| count.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no `{word}` total in:\n{report}"))
}

/// The lines fail2ban-regex printed as matched.
fn fail2ban_matches(fail2ban: &Path, maillog: &Path, filter: &str) -> Vec<String> {
    let report = output(
        Command::new(fail2ban)
            .arg("--print-all-matched")
            .arg(maillog)
            .arg(filter),
    );
    let matched = report
        .split_once("|- Matched line(s):\n")
        .map_or("", |(_, rest)| rest);
    matched
        .lines()
        .take_while(|l| l.starts_with("|  "))
        .map(|l| l.trim_start_matches("|  ").to_owned())
        .collect()
}

#[test]
fn pflogsumm_counts_received_and_rejected_messages() {
    let pflogsumm = require_peer!("pflogsumm");
    let inst = instance();
    let log = run_sessions(&inst);
    let report = output(Command::new(pflogsumm).arg(inst.log_dir().join("maillog")));
    // pflogsumm counts `ID: client=` lines as received, as Postfix logs
    // one for every message that reached DATA, header-rejected or not.
    assert_eq!(
        grand_total(&report, "received"),
        ACCEPTED + HEADER_REJECTED,
        "{report}\n{log}"
    );
    // cleanup's `reject: header` lines and smtpd's `NOQUEUE: reject: RCPT`.
    assert_eq!(
        grand_total(&report, "rejected"),
        HEADER_REJECTED + 1,
        "{report}\n{log}"
    );
}

#[test]
fn fail2ban_postfix_filter_matches_the_bad_clients() {
    let fail2ban = require_peer!("fail2ban-regex");
    let filter = Path::new("/etc/fail2ban/filter.d/postfix.conf");
    if !filter.exists() {
        let why = format!("{} is missing", filter.display());
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    let inst = instance();
    let log = run_sessions(&inst);
    let maillog = inst.log_dir().join("maillog");
    let matched = fail2ban_matches(&fail2ban, &maillog, &filter.display().to_string());
    let count = |needle: &str| matched.iter().filter(|l| l.contains(needle)).count();
    let context = format!("matched:\n{}\n\nmaillog:\n{log}", matched.join("\n"));
    assert_eq!(
        count("improper command pipelining after HELO from "),
        1,
        "{context}"
    );
    assert_eq!(
        count("improper command pipelining after CONNECT from "),
        1,
        "{context}"
    );
    assert_eq!(count("too many errors after "), 1, "{context}");
    assert!(
        matched.iter().all(|l| l.contains("[127.0.0.1]")),
        "{context}"
    );
    // Nothing else: not the well-behaved sessions, nor the UTF-8
    // recipient's reject, whose reason the filter does not list.
    assert_eq!(matched.len(), 3, "{context}");
}

/// smtpd started as [`Instance::start_smtpd`] does, with `args` after
/// `-c DIR` and `env` set, waiting for `ready` (a function of its pid).
fn start_smtpd_with(
    inst: &Instance,
    args: &[&str],
    env: &[(&str, &Path)],
    ready: impl Fn(u32) -> String,
) -> Daemon {
    queue::QueueDirs::new(inst.queue_dir())
        .create_all()
        .unwrap();
    let mut cmd = Command::new(workspace_root().join("scripts/with-listener"));
    cmd.arg(inst.smtp_addr())
        .arg(our_binary("smtpd"))
        .arg("-c")
        .arg(inst.config_dir())
        .args(args)
        .current_dir(inst.root());
    for (name, value) in env {
        cmd.env(name, value);
    }
    let daemon = Daemon::spawn(cmd, inst.log_dir().join("smtpd.log")).unwrap();
    let line = ready(daemon.pid());
    if let Err(e) = daemon.wait_for_line(&line, Duration::from_secs(30)) {
        panic!("{e}\n{}", daemon.report());
    }
    daemon
}

/// The next datagram, or the test fails after 10 s.
fn datagram(socket: &UnixDatagram) -> String {
    let mut buf = [0; 4096];
    let n = socket.recv(&mut buf).unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

#[test]
fn without_maillog_file_smtpd_logs_to_syslog_with_syslog_name() {
    let inst = instance();
    inst.set_param("maillog_file", "");
    let path = inst.path("dev-log");
    let syslog = UnixDatagram::bind(&path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let smtpd = start_smtpd_with(
        &inst,
        &["-o", "syslog_name=postfix/submission"],
        &[("MAIL_SYSLOG_SOCKET", &path)],
        |pid| format!("postfix/submission/smtpd[{pid}]: ready"),
    );
    let tag = format!("postfix/submission/smtpd[{}]: ", smtpd.pid());
    let ready = datagram(&syslog);
    // <22> is facility mail, severity info; then "Nov  5 08:00:09 ".
    assert!(ready.starts_with("<22>"), "{ready}");
    assert_eq!(&ready[4 + 15..], format!(" {tag}ready"), "{ready}");
    pipeline_after_helo(&inst);
    let lines: Vec<String> = (0..3).map(|_| datagram(&syslog)).collect();
    assert!(
        lines[0].ends_with(&format!("{tag}connect from unknown[127.0.0.1]")),
        "{lines:?}"
    );
    assert!(
        lines[1].contains(&format!(
            "{tag}improper command pipelining after HELO from unknown[127.0.0.1]: "
        )),
        "{lines:?}"
    );
    assert!(
        lines[2].contains(&format!("{tag}disconnect from unknown[127.0.0.1]")),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| l.starts_with("<22>")), "{lines:?}");
}

#[test]
fn maillog_file_dev_stdout_is_smtpds_standard_output() {
    let inst = instance();
    inst.set_param("maillog_file", "/dev/stdout");
    let smtpd = start_smtpd_with(&inst, &[], &[], |pid| {
        format!("postfix/smtpd[{pid}]: ready")
    });
    let tail = format!(" mail postfix/smtpd[{}]: ready", smtpd.pid());
    // The stamped copy on stdout, beside the bare one on stderr.
    let line = e2e::wait_until(
        "the stamped line on stdout",
        Duration::from_secs(10),
        || smtpd.lines().into_iter().find(|l| l.ends_with(&tail)),
    );
    // "Nov 05 08:00:09": postlogd's stamp, the day zero-padded.
    assert_eq!(line.len(), 15 + tail.len(), "{line}");
    assert!(line[4..6].bytes().all(|b| b.is_ascii_digit()), "{line}");
}

/// Real Postfix's maillog for the same sessions (see the module docs):
/// the parsers count and match it as the tests above expect of ours.
/// Postfix 3.7 accepted the UTF-8 recipient (a sixth `client=`), and
/// logged `too many errors after UNKNOWN`, which fail2ban matches.
#[test]
fn parsers_read_real_postfix_lines_as_the_tests_expect() {
    let pflogsumm = require_peer!("pflogsumm");
    let fail2ban = require_peer!("fail2ban-regex");
    let fixture = workspace_root().join("tests/fixtures/logs/postfix-3.7-sessions.maillog");
    let report = output(Command::new(pflogsumm).arg(&fixture));
    assert_eq!(
        grand_total(&report, "received"),
        ACCEPTED + HEADER_REJECTED + 1
    );
    assert_eq!(grand_total(&report, "rejected"), HEADER_REJECTED);
    let matched = fail2ban_matches(&fail2ban, &fixture, "/etc/fail2ban/filter.d/postfix.conf");
    let tails: Vec<&str> = matched
        .iter()
        .map(|l| l.split_once("]: ").map_or(l.as_str(), |(_, t)| t))
        .collect();
    assert_eq!(
        tails,
        [
            "improper command pipelining after HELO from localhost[127.0.0.1]: \
             MAIL FROM:<x@bad.example>\\r\\n",
            "improper command pipelining after CONNECT from localhost[127.0.0.1]: \
             EHLO bad.example\\r\\n",
            "too many errors after UNKNOWN from localhost[127.0.0.1]",
        ]
    );
}
