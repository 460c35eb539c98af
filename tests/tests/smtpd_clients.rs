//! Real SMTP clients against our smtpd: swaks (plain, pipelining,
//! STARTTLS), Python's smtplib (SMTPUTF8), `openssl s_client -starttls
//! smtp` and smtp-source. Each message must be in `incoming/` exactly as
//! sent, after the `Received:` header smtpd adds, and postcat must show it.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use e2e::{Instance, our_binary, require_peer, run_clean, workspace_root};
use queue::{QueueFile, QueueName};

fn tls_files() -> (PathBuf, PathBuf) {
    let dir = workspace_root().join("smtpd/tests/fixtures/tls");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

fn instance() -> Instance {
    let (cert, key) = tls_files();
    Instance::builder()
        .param("smtpd_tls_security_level", "may")
        .param("smtpd_tls_cert_file", &cert.display().to_string())
        .param("smtpd_tls_key_file", &key.display().to_string())
        .param("smtpd_tls_received_header", "yes")
        .build()
}

/// Every queue file in `incoming/`, read and validated.
fn queued(inst: &Instance) -> Vec<QueueFile> {
    let dir = inst.queue_dir().join(QueueName::Incoming.as_str());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| QueueFile::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect();
    files.sort_by_key(|f| f.id());
    files
}

/// The content of `file` with `\n` line ends.
fn content(file: &QueueFile) -> String {
    let mut out = Vec::new();
    file.content().write_to(&mut out, b"\n").unwrap();
    String::from_utf8(out).unwrap()
}

/// The content without smtpd's `Received:` header (its first lines).
fn without_received(text: &str) -> &str {
    assert!(text.starts_with("Received: from "), "{text}");
    let mut rest = text;
    loop {
        let (_, after) = rest.split_once('\n').unwrap();
        rest = after;
        if !rest.starts_with([' ', '\t']) {
            return rest;
        }
    }
}

const MESSAGE: &str = "Date: Sat, 21 Nov 2026 08:00:00 +0000\n\
From: Alice <alice@example.net>\n\
To: bob@example.org\n\
Subject: e2e\n\
Message-ID: <e2e-1@example.net>\n\
\n\
line one\n\
.leading dot\n\
..two dots\n\
\n\
last line\n";

fn swaks(inst: &Instance, extra: &[&str]) -> String {
    let swaks = e2e::peer("swaks").unwrap();
    let data = inst.path("message.eml");
    // swaks ends the data with CRLF.CRLF itself.
    fs::write(&data, MESSAGE.strip_suffix('\n').unwrap()).unwrap();
    let out = Command::new(swaks)
        .args(["--server", &inst.smtp_addr(), "--from", "alice@example.net"])
        .args(["--to", "bob@example.org", "--helo", "client.test"])
        .arg("--data")
        .arg(&data)
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "swaks failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn assert_one_message_as_sent(inst: &Instance) -> QueueFile {
    let files = queued(inst);
    assert_eq!(files.len(), 1);
    let file = files.into_iter().next().unwrap();
    assert_eq!(without_received(&content(&file)), MESSAGE);
    assert_eq!(file.envelope.sender, "alice@example.net");
    assert_eq!(file.recipients[0].recipient.address, "bob@example.org");
    file
}

#[test]
fn swaks_plain() {
    require_peer!("swaks");
    let inst = instance();
    let _smtpd = inst.start_smtpd();
    let out = swaks(&inst, &[]);
    assert!(out.contains("<-  250 2.0.0 Ok: queued as "), "{out}");
    let file = assert_one_message_as_sent(&inst);
    let postcat = run_clean(
        Command::new(our_binary("postcat"))
            .arg("-c")
            .arg(inst.config_dir())
            .arg("-q")
            .arg(file.id().unwrap().to_string()),
    );
    assert!(postcat.contains("sender: alice@example.net"), "{postcat}");
    assert!(postcat.contains(".leading dot"), "{postcat}");
}

#[test]
fn swaks_pipelining() {
    require_peer!("swaks");
    let inst = instance();
    let _smtpd = inst.start_smtpd();
    let out = swaks(&inst, &["--pipeline"]);
    assert!(out.contains("250 2.0.0 Ok: queued as "), "{out}");
    assert_one_message_as_sent(&inst);
}

#[test]
fn swaks_starttls() {
    require_peer!("swaks");
    let inst = instance();
    let _smtpd = inst.start_smtpd();
    let out = swaks(&inst, &["--tls"]);
    assert!(out.contains("TLS started"), "{out}");
    assert!(out.contains("250 2.0.0 Ok: queued as "), "{out}");
    let file = assert_one_message_as_sent(&inst);
    assert!(content(&file).contains("(using TLS"), "{}", content(&file));
}

#[test]
fn python_smtplib_smtputf8() {
    let python = require_peer!("python3");
    let inst = instance();
    let _smtpd = inst.start_smtpd();
    let script = format!(
        r#"
import smtplib
from email.message import EmailMessage
msg = EmailMessage()
msg["From"] = "Jörg <jörg@exämple.net>"
msg["To"] = "bob@example.org"
msg["Subject"] = "grüße"
msg["Message-ID"] = "<utf8-1@example.net>"
msg["Date"] = "Sat, 21 Nov 2026 08:00:00 +0000"
msg.set_content("Grüße aus Köln\n")
with smtplib.SMTP("127.0.0.1", {port}, local_hostname="client.test") as s:
    s.send_message(msg)
"#,
        port = inst.port()
    );
    let status = Command::new(python).arg("-c").arg(script).status().unwrap();
    assert!(status.success());
    let files = queued(&inst);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].envelope.sender, "jörg@exämple.net");
    assert_eq!(files[0].envelope.attribute("smtputf8"), Some("yes"));
    let text = content(&files[0]);
    assert!(text.contains("Subject: grüße\n"), "{text}");
    assert!(text.contains("Grüße aus Köln\n"), "{text}");
}

#[test]
fn openssl_s_client_starttls() {
    let openssl = require_peer!("openssl");
    let inst = instance();
    let _smtpd = inst.start_smtpd();
    let mut child = Command::new(openssl)
        .args([
            "s_client",
            "-quiet",
            "-crlf",
            "-starttls",
            "smtp",
            "-connect",
            &inst.smtp_addr(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    // RFC 2920: EHLO and DATA end a pipelined group; smtpd refuses what
    // comes before their reply (smtpd_forbid_unauth_pipelining).
    let groups = [
        "EHLO client.test\n".to_owned(),
        "MAIL FROM:<alice@example.net>\nRCPT TO:<bob@example.org>\nDATA\n".to_owned(),
        format!("{}.\n", MESSAGE.replace("\n.", "\n..")),
        "QUIT\n".to_owned(),
    ];
    let ends = ["250 ", "354 ", "250 ", "221 "];
    let mut transcript = String::new();
    for (group, end) in groups.iter().zip(ends) {
        input.write_all(group.as_bytes()).unwrap();
        input.flush().unwrap();
        loop {
            let mut line = String::new();
            assert!(
                output.read_line(&mut line).unwrap() > 0,
                "closed:\n{transcript}"
            );
            transcript.push_str(&line);
            if line.starts_with(end) {
                break;
            }
            assert!(!line.starts_with(['4', '5']), "{transcript}");
        }
    }
    drop(input);
    child.wait().unwrap();
    assert!(
        transcript.contains("250 2.0.0 Ok: queued as "),
        "{transcript}"
    );
    assert_one_message_as_sent(&inst);
}

#[test]
fn smtp_source_load() {
    let source = require_peer!("smtp-source");
    let inst = instance();
    let _smtpd = inst.start_smtpd();
    let status = Command::new(source)
        .args([
            "-s",
            "10",
            "-m",
            "200",
            "-l",
            "4096",
            "-f",
            "load@example.net",
            "-t",
            "bob@example.org",
        ])
        .arg(inst.smtp_addr())
        .status()
        .unwrap();
    assert!(status.success());
    let files = queued(&inst);
    assert_eq!(files.len(), 200);
    for file in &files {
        assert_eq!(file.envelope.sender, "load@example.net");
        assert!(
            file.envelope.content_size > 4096,
            "{}",
            file.envelope.content_size
        );
    }
}
