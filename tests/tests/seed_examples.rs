//! The seed examples of issue 6, run against our smtpd and, where the
//! example needs no DNS, against the real Postfix 3.7 with the same
//! main.cf lines and the same dialogue: every reply must be the same, and
//! so must smtpd's reject and warning log lines (what Postfix does is the
//! spec). Differences we know of are listed per test, which fails when
//! one appears or goes away.
//!
//! 1. a hash access map (built by our postmap for ours, Postfix's postmap
//!    for Postfix) in check_client/sender/recipient_access, with clients
//!    bound to different 127.x addresses;
//! 2. `hash:`, `reject_unknown_client` and `reject_maps_rbl` as client
//!    restrictions: against Postfix without DNS, and against dnsmasq
//!    (ours only: Postfix uses the system resolver; the expected texts
//!    are Postfix 3.7's);
//! 3. `smtpd_helo_required` with the HELO restrictions, new and old names;
//! 4. `strict_rfc821_envelopes`, on and off, with the address forms it
//!    refuses.
//!
//! The client is python3 (as in open_relay.rs): the harness's client
//! cannot bind a source address.
//!
//! Over the 600-line budget: most of it is the examples' data
//! (dialogues and expected replies).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use e2e::{Daemon, Instance, RealPostfix, free_port, require_peer, run_clean, wait_until};

/// Runs sessions read from stdin: `SESSION <source address>` starts one,
/// every other line is a command sent as is. Prints `SESSION`, then each
/// reply (banner first) on one line, the lines of a multi-line reply
/// joined by ` | `; `<closed>` when the server hung up.
const CLIENT: &str = r#"
import socket, sys
port = int(sys.argv[1])
sessions = []
for line in sys.stdin.read().split("\n"):
    if line.startswith("SESSION "):
        sessions.append((line[8:], []))
    elif sessions and line != "":
        sessions[-1][1].append(line)
def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            lines.append("<closed>")
            return " | ".join(lines)
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return " | ".join(lines)
for source, commands in sessions:
    conn = socket.create_connection(("127.0.0.1", port), 30, source_address=(source, 0))
    f = conn.makefile("rb")
    print("SESSION")
    print(reply(f))
    for command in commands:
        conn.sendall(command.encode() + b"\r\n")
        r = reply(f)
        print(r)
        if r.endswith("<closed>"):
            break
    conn.close()
"#;

/// One SMTP session: the client's source address and its commands.
struct Session {
    source: String,
    commands: Vec<String>,
}

impl Session {
    fn new(source: &str, commands: &[&str]) -> Session {
        Session {
            source: source.to_owned(),
            commands: commands.iter().map(|c| (*c).to_owned()).collect(),
        }
    }
}

/// The replies of each session, banner first.
fn run_sessions(python: &Path, port: u16, sessions: &[Session]) -> Vec<Vec<String>> {
    let mut input = String::new();
    for s in sessions {
        writeln!(input, "SESSION {}", s.source).unwrap();
        for c in &s.commands {
            writeln!(input, "{c}").unwrap();
        }
    }
    let mut child = Command::new(python)
        .arg("-c")
        .arg(CLIENT)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write the sessions");
    let out = child.wait_with_output().expect("python3 finishes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut replies: Vec<Vec<String>> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        match (line, replies.last_mut()) {
            ("SESSION", _) => replies.push(Vec::new()),
            (reply, Some(session)) => session.push(reply.to_owned()),
            (reply, None) => panic!("reply before any session: {reply}"),
        }
    }
    assert_eq!(replies.len(), sessions.len(), "{replies:#?}");
    replies
}

/// The commands whose replies differ, each difference once.
fn differences(sessions: &[Session], ours: &[Vec<String>], theirs: &[Vec<String>]) -> Vec<String> {
    let mut diffs = Vec::new();
    for ((s, mine), real) in sessions.iter().zip(ours).zip(theirs) {
        let commands = std::iter::once("<connect>").chain(s.commands.iter().map(String::as_str));
        for (i, command) in commands.enumerate() {
            let none = String::from("<nothing>");
            let (m, r) = (mine.get(i).unwrap_or(&none), real.get(i).unwrap_or(&none));
            let diff = describe(command, m, r);
            if m != r && !diffs.contains(&diff) {
                diffs.push(diff);
            }
        }
    }
    diffs
}

fn describe(command: &str, ours: &str, postfix: &str) -> String {
    format!("{command:?}\n    ours:    {ours:?}\n    postfix: {postfix:?}")
}

/// main.cf lines of every example, for both servers; `{maps}` stands
/// for the directory that holds the example's tables.
const COMMON: &[&str] = &[
    "myhostname = mail.example.test",
    "mydestination = localhost, $myhostname",
    "mynetworks = 127.0.0.0/8",
    "smtpd_banner = $myhostname ESMTP",
    "smtpd_error_sleep_time = 0s",
    // No DNS (the client's name stays "unknown" on both sides).
    "smtpd_peername_lookup = no",
    // scripts/real-postfix holds every message and rejects every
    // recipient from outside mynetworks: back to the defaults.
    "smtpd_client_restrictions =",
    "smtpd_recipient_restrictions =",
];

/// `name = value` lines with `{maps}` replaced.
fn settings(lines: &[&str], maps: &str) -> Vec<(String, String)> {
    COMMON
        .iter()
        .chain(lines)
        .map(|l| {
            let (name, value) = l.split_once('=').expect("a main.cf line");
            (name.trim().to_owned(), value.trim().replace("{maps}", maps))
        })
        .collect()
}

/// Our smtpd, declared before its instance so that it stops first.
struct Ours {
    smtpd: Daemon,
    inst: Instance,
}

/// Our smtpd with `lines` and the `hash:` tables `tables` (file name,
/// source text) in `etc/`, built by our postmap.
fn start_ours(lines: &[&str], tables: &[(&str, &str)]) -> Ours {
    let mut builder = Instance::builder();
    for (name, value) in settings(lines, "{etc}") {
        builder = builder.param(&name, &value);
    }
    for (file, text) in tables {
        builder = builder.file(format!("etc/{file}"), text);
    }
    let inst = builder.build();
    for (file, _) in tables {
        let table = format!("hash:{}", inst.config_dir().join(file).display());
        run_clean(inst.command("postmap").arg(table));
    }
    Ours {
        smtpd: inst.start_smtpd(),
        inst,
    }
}

/// The real Postfix with the same `lines` and tables, built beforehand
/// by Postfix's postmap (its smtpd opens them when the readiness probe
/// connects); `None` when it cannot run here (a skip).
fn start_postfix(lines: &[&str], tables: &[(&str, &str)]) -> Option<RealPostfix> {
    let Some(postmap) = e2e::peer("postmap") else {
        eprintln!("skipped: Postfix's postmap is not installed (scripts/test installs it)");
        return None;
    };
    let build = tempfile::tempdir().expect("temporary directory");
    fs::write(build.path().join("main.cf"), "compatibility_level = 3.6\n").expect("main.cf");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (file, text) in tables {
        let source = build.path().join(file);
        fs::write(&source, text).expect("write a table");
        run_clean(
            Command::new(&postmap)
                .arg("-c")
                .arg(build.path())
                .arg(format!("hash:{}", source.display())),
        );
        let db = format!("{file}.db");
        let indexed = fs::read(build.path().join(&db)).expect("postmap made the .db");
        files.push(((*file).to_owned(), text.as_bytes().to_vec()));
        files.push((db, indexed));
    }
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let extra: Vec<String> = settings(lines, "{dir}")
        .into_iter()
        .map(|(name, value)| format!("{name} = {value}"))
        .collect();
    RealPostfix::start(&files, &extra)
}

/// smtpd's rejections and warnings in `log`, without the line prefix.
/// A rejection is logged as `NOQUEUE: reject: ...` by both, except that
/// Postfix names the queue file once it has one (after the first
/// accepted RCPT) and ours creates none before DATA: the prefix is cut.
fn reject_and_warning_lines(log: &[String]) -> Vec<String> {
    log.iter()
        .filter_map(|l| l.split_once("postfix/smtpd[").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("]: ").map(|(_, text)| text))
        .filter_map(|t| match t.split_once(": reject: ") {
            Some((_, rest)) => Some(format!("reject: {rest}")),
            None => t.starts_with("warning: ").then(|| t.to_owned()),
        })
        .collect()
}

/// Runs `sessions` against ours and Postfix, configured alike, and
/// asserts the same replies and the same reject and warning lines.
fn same_as_postfix(lines: &[&str], tables: &[(&str, &str)], sessions: &[Session]) {
    let python = require_peer!("python3");
    let Some(real) = start_postfix(lines, tables) else {
        return;
    };
    let ours = start_ours(lines, tables);
    let mine = run_sessions(&python, ours.inst.port(), sessions);
    let theirs = run_sessions(&python, real.port(), sessions);
    let diffs = differences(sessions, &mine, &theirs);
    assert!(
        diffs.is_empty(),
        "replies that differ from Postfix:\n{}\n{}",
        join(&diffs.iter().collect::<Vec<_>>()),
        ours.smtpd.report()
    );
    let my_log = reject_and_warning_lines(&ours.smtpd.lines());
    // Postfix logs through postlogd, a moment after the reply.
    let deadline = Instant::now() + Duration::from_secs(5);
    let their_log = loop {
        let maillog: Vec<String> = real.maillog().lines().map(str::to_owned).collect();
        let lines = reject_and_warning_lines(&maillog);
        if lines.len() >= my_log.len() || Instant::now() >= deadline {
            break lines;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let only_ours: Vec<&String> = my_log.iter().filter(|l| !their_log.contains(l)).collect();
    let only_theirs: Vec<&String> = their_log.iter().filter(|l| !my_log.contains(l)).collect();
    assert!(
        my_log == their_log,
        "log lines differ\nonly ours:\n{}\nonly postfix:\n{}\npostfix's maillog:\n{}",
        join(&only_ours),
        join(&only_theirs),
        real.maillog()
    );
}

fn join(lines: &[&String]) -> String {
    lines
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- 1. an access map -------------------------------------------------

const ACCESS: &str = "\
127.0.0.2             REJECT
127.0.0.3             554 Go away, client
127.0.0.4             450 Come back later, client
127.0.0.5             OK
<>                    550 No bounces here
spam@bad.example      REJECT
friend@bad.example    OK
bad.example           554 No mail from bad.example
slow.example          450 Sender domain is busy
nobody@relay.example  REJECT
gone@relay.example    554 No such user here
busy@relay.example    450 Mailbox busy
welcome@relay.example OK
";

#[test]
fn access_map_for_client_sender_and_recipient_answers_as_postfix() {
    let lines = [
        "smtpd_client_restrictions = check_client_access hash:{maps}/access",
        "smtpd_sender_restrictions = check_sender_access hash:{maps}/access",
        "smtpd_recipient_restrictions = check_recipient_access hash:{maps}/access",
    ];
    let commands = [
        "HELO client.example",
        "MAIL FROM:<alice@good.example>",
        "RCPT TO:<someone@relay.example>",
        "RCPT TO:<nobody@relay.example>",
        "RCPT TO:<gone@relay.example>",
        "RCPT TO:<busy@relay.example>",
        "RCPT TO:<welcome@relay.example>",
        "RSET",
        "MAIL FROM:<spam@bad.example>",
        "RCPT TO:<someone@relay.example>",
        "RSET",
        "MAIL FROM:<other@bad.example>",
        "RCPT TO:<someone@relay.example>",
        "RSET",
        "MAIL FROM:<x@sub.bad.example>",
        "RCPT TO:<someone@relay.example>",
        "RSET",
        "MAIL FROM:<friend@bad.example>",
        "RCPT TO:<someone@relay.example>",
        "RSET",
        "MAIL FROM:<x@slow.example>",
        "RCPT TO:<someone@relay.example>",
        "RSET",
        "MAIL FROM:<>",
        "RCPT TO:<someone@relay.example>",
        "QUIT",
    ];
    let sessions: Vec<Session> = [
        "127.0.0.1",
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.5",
    ]
    .into_iter()
    .map(|source| Session::new(source, &commands))
    .collect();
    same_as_postfix(&lines, &[("access", ACCESS)], &sessions);
}

// ---- 2. old client restriction names, with DNS ------------------------

/// Without DNS, where Postfix can be asked: with `smtpd_peername_lookup
/// = no` every client is "unknown", so reject_unknown_client rejects all
/// but the client the access map lets through, before reject_maps_rbl
/// would look anything up.
#[test]
fn old_client_restriction_names_without_dns_answer_as_postfix() {
    let lines = [
        "smtpd_client_restrictions = hash:{maps}/access, reject_unknown_client, reject_maps_rbl",
        "maps_rbl_domains = rbl.test",
    ];
    let commands = [
        "HELO client.example",
        "MAIL FROM:<alice@sender.example>",
        "RCPT TO:<bob@relay.example>",
        "QUIT",
    ];
    let sessions = [
        Session::new("127.0.0.3", &commands),
        Session::new("127.0.0.7", &commands),
    ];
    same_as_postfix(&lines, &[("access", DNS_ACCESS)], &sessions);
}

/// dnsmasq serving fixed records on 127.0.0.1:`port` (UDP and TCP),
/// nothing else: no upstream, no /etc/hosts, no config file.
fn start_dnsmasq(dnsmasq: &Path, port: u16, log: &Path) -> Daemon {
    let mut cmd = Command::new(dnsmasq);
    cmd.args([
        "--no-resolv",
        "--no-hosts",
        "--no-daemon",
        "--conf-file=/dev/null",
        "--pid-file",
        "--log-facility=-",
        "--log-queries",
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        // Reverse lookups of 127.x without a record: NXDOMAIN, not REFUSED.
        "--bogus-priv",
    ])
    .arg(format!("--port={port}"))
    .args(DNS_RECORDS);
    let daemon = Daemon::spawn(cmd, log).unwrap_or_else(|e| panic!("{e}"));
    wait_until("dnsmasq to listen", Duration::from_secs(10), || {
        assert!(e2e::is_alive(daemon.pid()), "{}", daemon.report());
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    daemon
}

const DNS_RECORDS: &[&str] = &[
    // Names below these zones without a record are NXDOMAIN.
    "--local=/client.test/",
    "--local=/rbl.test/",
    // 127.0.0.2: a good name, listed in rbl.test (no TXT).
    "--host-record=listed.client.test,127.0.0.2",
    "--address=/2.0.0.127.rbl.test/127.0.0.2",
    // 127.0.0.3: no PTR.
    // 127.0.0.4: PTR and A agree, not listed.
    "--host-record=good.client.test,127.0.0.4",
    // 127.0.0.5: the PTR name does not resolve back.
    "--ptr-record=5.0.0.127.in-addr.arpa,forged.client.test",
    "--host-record=forged.client.test,127.0.0.9",
    // 127.0.0.6: listed, with a reason.
    "--host-record=reason.client.test,127.0.0.6",
    "--address=/6.0.0.127.rbl.test/127.0.0.2",
    "--txt-record=6.0.0.127.rbl.test,Listed for testing",
    // 127.0.0.7: no PTR, listed, but OK in the access map.
    "--address=/7.0.0.127.rbl.test/127.0.0.2",
];

const DNS_ACCESS: &str = "127.0.0.7 OK\n";

/// Our smtpd with `lines` (after [`COMMON`]) and [`DNS_ACCESS`], asking
/// dnsmasq; the replies to RCPT per client must be `expected` (Postfix
/// 3.7's texts: default_rbl_reply, unknown_client_reject_code = 450 with
/// 4.7.25 from RFC 7372) and smtpd's reject and warning lines `log`.
fn dns_example(lines: &[&str], expected: &[(&str, &str)], log: &[&str]) {
    let dnsmasq = require_peer!("dnsmasq");
    let python = require_peer!("python3");
    let dns_port = free_port();
    let dns = format!("smtpd_dns_servers = 127.0.0.1:{dns_port}");
    let mut builder = Instance::builder();
    for (name, value) in settings(&[lines, &[dns.as_str()]].concat(), "{etc}") {
        builder = builder.param(&name, &value);
    }
    let inst = builder.file("etc/access", DNS_ACCESS).build();
    let table = format!("hash:{}", inst.config_dir().join("access").display());
    run_clean(inst.command("postmap").arg(table));
    let dns = start_dnsmasq(&dnsmasq, dns_port, &inst.log_dir().join("dnsmasq.log"));
    let smtpd = inst.start_smtpd();
    let sessions: Vec<Session> = expected
        .iter()
        .map(|(source, _)| {
            Session::new(
                source,
                &[
                    "HELO client.example",
                    "MAIL FROM:<alice@sender.example>",
                    "RCPT TO:<bob@relay.example>",
                    "QUIT",
                ],
            )
        })
        .collect();
    let replies = run_sessions(&python, inst.port(), &sessions);
    let got: Vec<(&str, String)> = expected
        .iter()
        .zip(&replies)
        .map(|((source, _), r)| (*source, r.get(3).cloned().unwrap_or_default()))
        .collect();
    let want: Vec<(&str, String)> = expected
        .iter()
        .map(|(s, r)| (*s, (*r).to_owned()))
        .collect();
    assert_eq!(
        got,
        want,
        "{replies:#?}\n{}\n{}",
        smtpd.report(),
        dns.report()
    );
    let lines = reject_and_warning_lines(&smtpd.lines());
    assert_eq!(lines, log, "{}\n{}", smtpd.report(), dns.report());
}

const MAPS_RBL_WARNING: &str = "warning: support for restriction \"reject_maps_rbl\" will be \
     removed from Postfix; use \"reject_rbl_client domain-name\" instead";

/// reject_maps_rbl looks up the client in maps_rbl_domains (dnsmasq),
/// with Postfix's default reply and the TXT record as the reason; an OK
/// in the access map before it wins.
#[test]
fn reject_maps_rbl_blocks_listed_clients_as_postfix_documents() {
    let lines = [
        "smtpd_client_restrictions = hash:{maps}/access, reject_maps_rbl",
        "maps_rbl_domains = rbl.test",
    ];
    let expected = [
        (
            "127.0.0.2",
            "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.test",
        ),
        ("127.0.0.4", "250 2.1.5 Ok"),
        (
            "127.0.0.6",
            "554 5.7.1 Service unavailable; Client host [127.0.0.6] blocked using rbl.test; \
             Listed for testing",
        ),
        ("127.0.0.7", "250 2.1.5 Ok"),
    ];
    let log = [
        MAPS_RBL_WARNING,
        "reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 Service unavailable; \
         Client host [127.0.0.2] blocked using rbl.test; from=<alice@sender.example> \
         to=<bob@relay.example> proto=SMTP helo=<client.example>",
        "reject: RCPT from unknown[127.0.0.6]: 554 5.7.1 Service unavailable; \
         Client host [127.0.0.6] blocked using rbl.test; Listed for testing; \
         from=<alice@sender.example> to=<bob@relay.example> proto=SMTP helo=<client.example>",
    ];
    dns_example(&lines, &expected, &log);
}

/// The whole seed example: client names from PTR and A records (the
/// resolver must ask the server for 127.x PTRs, which hickory's own
/// RFC 6761 rules would answer with `localhost.`).
#[test]
fn old_client_restriction_names_with_dns_answer_as_postfix_documents() {
    let lines = [
        "smtpd_peername_lookup = yes",
        "smtpd_client_restrictions = hash:{maps}/access, reject_unknown_client, reject_maps_rbl",
        "maps_rbl_domains = rbl.test",
    ];
    let cannot_find =
        |ip: &str| format!("450 4.7.25 Client host rejected: cannot find your hostname, [{ip}]");
    let (c3, c5) = (cannot_find("127.0.0.3"), cannot_find("127.0.0.5"));
    let expected = [
        (
            "127.0.0.2",
            "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.test",
        ),
        ("127.0.0.3", c3.as_str()),
        ("127.0.0.4", "250 2.1.5 Ok"),
        ("127.0.0.5", c5.as_str()),
        (
            "127.0.0.6",
            "554 5.7.1 Service unavailable; Client host [127.0.0.6] blocked using rbl.test; \
             Listed for testing",
        ),
        ("127.0.0.7", "250 2.1.5 Ok"),
    ];
    let tail = "from=<alice@sender.example> to=<bob@relay.example> proto=SMTP \
                helo=<client.example>";
    let log = [
        MAPS_RBL_WARNING.to_owned(),
        format!(
            "reject: RCPT from listed.client.test[127.0.0.2]: 554 5.7.1 Service unavailable; \
             Client host [127.0.0.2] blocked using rbl.test; {tail}"
        ),
        format!("reject: RCPT from unknown[127.0.0.3]: {c3}; {tail}"),
        "warning: hostname forged.client.test does not resolve to address 127.0.0.5".to_owned(),
        format!("reject: RCPT from unknown[127.0.0.5]: {c5}; {tail}"),
        format!(
            "reject: RCPT from reason.client.test[127.0.0.6]: 554 5.7.1 Service unavailable; \
             Client host [127.0.0.6] blocked using rbl.test; Listed for testing; {tail}"
        ),
    ];
    let log: Vec<&str> = log.iter().map(String::as_str).collect();
    dns_example(&lines, &expected, &log);
}

// ---- 3. HELO required, HELO restrictions ------------------------------

/// One session per HELO argument (first without any HELO), each going
/// on to MAIL and RCPT, where smtpd_delay_reject shows the rejection.
fn helo_sessions() -> Vec<Session> {
    let mut sessions = vec![Session::new(
        "127.0.0.1",
        &[
            "MAIL FROM:<alice@sender.example>",
            "HELO client.example",
            "MAIL FROM:<alice@sender.example>",
            "RCPT TO:<bob@relay.example>",
            "QUIT",
        ],
    )];
    let names = [
        "client.example",
        "localhost",
        "host",
        "client.example.",
        "-bad-.example",
        "bad_name.example",
        "foo..example",
        "[127.0.0.1]",
        "[1.2.3]",
        "1.2.3.4",
        "[IPv6:::1]",
        "",
    ];
    for name in names {
        let helo = format!("HELO {name}");
        sessions.push(Session::new(
            "127.0.0.1",
            &[
                helo.trim_end(),
                "MAIL FROM:<alice@sender.example>",
                "RCPT TO:<bob@relay.example>",
                "QUIT",
            ],
        ));
    }
    sessions
}

#[test]
fn helo_required_and_helo_restrictions_answer_as_postfix() {
    let lines = [
        "smtpd_helo_required = yes",
        "smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
    ];
    same_as_postfix(&lines, &[], &helo_sessions());
}

#[test]
fn old_helo_restriction_names_answer_as_postfix() {
    let lines = [
        "smtpd_helo_required = yes",
        "smtpd_helo_restrictions = reject_invalid_hostname, reject_non_fqdn_hostname",
    ];
    same_as_postfix(&lines, &[], &helo_sessions());
}

// ---- 4. strict_rfc821_envelopes ----------------------------------------

/// One session per MAIL form, then per RCPT form.
fn envelope_sessions() -> Vec<Session> {
    let mails = [
        "MAIL FROM:<alice@sender.example>",
        "MAIL FROM:<alice@sender.example> ",
        "MAIL FROM: <alice@sender.example>",
        "MAIL FROM:alice@sender.example",
        "MAIL FROM:<Joe <alice@sender.example>>",
        "MAIL FROM:<alice@sender.example> (Joe)",
        "MAIL FROM:(Joe) <alice@sender.example>",
        "MAIL FROM:Joe <alice@sender.example>",
        "MAIL FROM:<\"Joe Q\"@sender.example>",
        "MAIL FROM:<alice@sender.example> SIZE=100",
        "MAIL FROM:<>",
        "MAIL FROM:< alice@sender.example >",
    ];
    let rcpts = [
        "RCPT TO:bob@relay.example",
        "RCPT TO:<bob@relay.example> ",
        "RCPT TO:<bob@relay.example> (Bob)",
        "RCPT TO:Bob <bob@relay.example>",
        "RCPT TO:<Bob <bob@relay.example>>",
    ];
    let mut sessions: Vec<Session> = mails
        .iter()
        .map(|mail| {
            Session::new(
                "127.0.0.1",
                &[
                    "HELO client.example",
                    mail,
                    "RCPT TO:<bob@relay.example>",
                    "QUIT",
                ],
            )
        })
        .collect();
    sessions.extend(rcpts.iter().map(|rcpt| {
        Session::new(
            "127.0.0.1",
            &[
                "HELO client.example",
                "MAIL FROM:<alice@sender.example>",
                rcpt,
                "QUIT",
            ],
        )
    }));
    sessions
}

#[test]
fn strict_rfc821_envelopes_answers_as_postfix() {
    same_as_postfix(
        &["strict_rfc821_envelopes = yes"],
        &[],
        &envelope_sessions(),
    );
}

#[test]
fn lax_envelopes_answer_as_postfix() {
    same_as_postfix(&["strict_rfc821_envelopes = no"], &[], &envelope_sessions());
}
