//! SMTP dialog fixtures: `tests/fixtures/dialog/NN-name.dialog`, each run
//! in memory over `tokio::io::duplex` and again over loopback TCP through
//! `server::run`. The format (one directive per line):
//!
//! ```text
//! # comment
//! = name = value       a parameter (before the first exchange); `{tls}`
//!                      in a value is the fixtures/tls directory
//! only duplex          skip the TCP run (timing-dependent cases)
//! > LINE               send LINE and CRLF (`>` alone: an empty line)
//! >> TEXT              send TEXT as is; escapes \r \n \t \0 \\ \xNN
//! >* N TEXT            send TEXT N times (escapes as >>)
//! < PREFIX             the next reply line starts with PREFIX (`{client}`
//!                      as in `log`)
//! <~ PREFIX            skip reply lines up to one starting with PREFIX
//! closed               the server closed the connection
//! tls                  start TLS (after `< 220 2.0.0 Ready`)
//! message N from=<a> to=<b>,<c>
//! | LINE               message N's content after Received:, line by line
//! empty N              message N has no content after Received:
//! has N TEXT           message N's whole content contains TEXT (escapes)
//! messages N           N messages were queued in all
//! log TEXT             some log line contains TEXT; `{client}` is the
//!                      client's name[addr] in this run
//! actions N TEXT       message N's restriction actions, as `{:?}` of
//!                      `Actions`, contain TEXT
//! ```
//!
//! Sessions run with the restriction engine and Postfix's default
//! restrictions. Both clients (192.0.2.1 in memory, 127.0.0.1 over TCP)
//! are in `mynetworks` unless a fixture says otherwise, so that relaying
//! is allowed; `smtpd_forbid_bare_newline_exclusions` (`$mynetworks` by
//! default) is empty, so that bare-LF rules apply to them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::aws_lc_rs;
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;
use smtpd::client::Client;
use smtpd::config::Settings;
use smtpd::enqueue::{Memory, Stored};
use smtpd::log::Log;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

const READ_TIMEOUT: Duration = Duration::from_secs(10);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One parsed fixture.
struct Fixture {
    name: String,
    params: Vec<(String, String)>,
    duplex_only: bool,
    steps: Vec<(usize, String)>,
}

fn load(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let tls_dir = fixtures().join("tls");
    let mut fixture = Fixture {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        params: vec![
            ("smtpd_error_sleep_time".into(), "0s".into()),
            ("mynetworks".into(), "192.0.2.0/24 127.0.0.0/8".into()),
            ("smtpd_forbid_bare_newline_exclusions".into(), "".into()),
        ],
        duplex_only: false,
        steps: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(param) = line.strip_prefix("= ") {
            let (name, value) = param.split_once('=').expect("= name = value");
            let value = value.trim().replace("{tls}", &tls_dir.to_string_lossy());
            fixture.params.push((name.trim().to_string(), value));
        } else if line == "only duplex" {
            fixture.duplex_only = true;
        } else {
            fixture.steps.push((i + 1, line.to_string()));
        }
    }
    fixture
}

fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("\\xNN"));
            }
            Some(other) => out.push(other as u8),
            None => out.push(b'\\'),
        }
    }
    out
}

/// The client side of a dialog.
struct Peer {
    io: Box<dyn Io>,
    buf: Vec<u8>,
}

impl Peer {
    async fn line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Some(line);
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(READ_TIMEOUT, self.io.read(&mut chunk))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut chunk = [0u8; 64];
        matches!(
            tokio::time::timeout(READ_TIMEOUT, self.io.read(&mut chunk)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    async fn start_tls(self) -> Peer {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pki_types::CertificateDer::pem_file_iter(fixtures().join("tls/cert.pem"))
            .expect("cert")
        {
            roots.add(cert.expect("cert")).expect("root");
        }
        let config =
            rustls::ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = ServerName::try_from("localhost").expect("name");
        let tls = connector
            .connect(name, self.io)
            .await
            .expect("TLS handshake");
        Peer {
            io: Box::new(tls),
            buf: Vec::new(),
        }
    }
}

/// Run the client steps; returns the first failure.
async fn converse(fixture: &Fixture, io: Box<dyn Io>, who: &str) -> Result<(), String> {
    let mut client = Peer {
        io,
        buf: Vec::new(),
    };
    for (n, step) in &fixture.steps {
        let fail = |what: String| Err(format!("{}:{n}: {step}: {what}", fixture.name));
        if let Some(line) = step.strip_prefix(">> ") {
            let _ = client.io.write_all(&unescape(line)).await;
        } else if let Some(spec) = step.strip_prefix(">* ") {
            let (count, text) = spec.split_once(' ').expect(">* N TEXT");
            let bytes = unescape(text).repeat(count.parse().expect(">* N"));
            let _ = client.io.write_all(&bytes).await;
        } else if step == ">" {
            let _ = client.io.write_all(b"\r\n").await;
        } else if let Some(line) = step.strip_prefix("> ") {
            let _ = client.io.write_all(format!("{line}\r\n").as_bytes()).await;
        } else if let Some(prefix) = step.strip_prefix("<~ ") {
            let prefix = prefix.replace("{client}", who);
            loop {
                match client.line().await {
                    Some(got) if got.starts_with(&prefix) => break,
                    Some(_) => {}
                    None => return fail("connection closed".into()),
                }
            }
        } else if let Some(prefix) = step.strip_prefix("< ") {
            let prefix = prefix.replace("{client}", who);
            match client.line().await {
                Some(got) if got.starts_with(&prefix) => {}
                Some(got) => return fail(format!("got {got:?}")),
                None => return fail("connection closed".into()),
            }
        } else if step == "closed" {
            if !client.closed().await {
                return fail("still open".into());
            }
        } else if step == "tls" {
            client = client.start_tls().await;
        } else if step.starts_with("message") || step.starts_with("| ") || step == "|" {
            break;
        } else if ["messages", "log ", "has ", "empty ", "actions "]
            .iter()
            .any(|p| step.starts_with(p))
        {
            continue;
        } else {
            return fail("unknown directive".into());
        }
    }
    Ok(())
}

/// Check `message`, `|`, `messages` and `log` against what was stored.
fn check_results(
    fixture: &Fixture,
    stored: &[Stored],
    logs: &[String],
    client: &str,
) -> Result<(), String> {
    let mut current: Option<(usize, Vec<String>, usize)> = None;
    let mut failures = Vec::new();
    let finish = |cur: &Option<(usize, Vec<String>, usize)>, failures: &mut Vec<String>| {
        if let Some((index, want, n)) = cur.as_ref().filter(|(_, want, _)| !want.is_empty()) {
            let got = stored.get(*index).map(body_lines).unwrap_or_default();
            if &got != want {
                failures.push(format!(
                    "{}:{n}: message content\n  want {want:?}\n  got  {got:?}",
                    fixture.name
                ));
            }
        }
    };
    for (n, step) in &fixture.steps {
        if let Some(line) = step
            .strip_prefix("| ")
            .or(if step == "|" { Some("") } else { None })
        {
            if let Some((_, want, _)) = &mut current {
                want.push(line.to_string());
            }
            continue;
        }
        finish(&current, &mut failures);
        current = None;
        if let Some(spec) = step.strip_prefix("message ") {
            let (index, envelope) = spec.split_once(' ').unwrap_or((spec, ""));
            let index: usize = index.parse().expect("message N");
            match stored.get(index - 1) {
                Some(m) => {
                    let got = envelope_of(m);
                    if !envelope.is_empty() && got != envelope {
                        failures.push(format!(
                            "{}:{n}: envelope {got:?}, want {envelope:?}",
                            fixture.name
                        ));
                    }
                }
                None => failures.push(format!("{}:{n}: no message {index}", fixture.name)),
            }
            current = Some((index - 1, Vec::new(), *n));
        } else if let Some(count) = step.strip_prefix("messages ") {
            if stored.len().to_string() != count {
                failures.push(format!(
                    "{}:{n}: {} messages, want {count}",
                    fixture.name,
                    stored.len()
                ));
            }
        } else if let Some(index) = step.strip_prefix("empty ") {
            let index: usize = index.parse().expect("empty N");
            let body = stored.get(index - 1).map(body_lines);
            if body.as_deref() != Some(&[][..]) {
                failures.push(format!("{}:{n}: message {index} is {body:?}", fixture.name));
            }
        } else if let Some(spec) = step.strip_prefix("has ") {
            let (index, text) = spec.split_once(' ').expect("has N TEXT");
            let index: usize = index.parse().expect("has N");
            let want = unescape(text);
            let found = stored.get(index - 1).is_some_and(|m| {
                m.content()
                    .windows(want.len())
                    .any(|w| w == want.as_slice())
            });
            if !found {
                failures.push(format!(
                    "{}:{n}: message {index} lacks {text:?}",
                    fixture.name
                ));
            }
        } else if let Some(spec) = step.strip_prefix("actions ") {
            let (index, text) = spec.split_once(' ').expect("actions N TEXT");
            let index: usize = index.parse().expect("actions N");
            let got = stored.get(index - 1).map(|m| format!("{:?}", m.actions));
            if !got.as_ref().is_some_and(|g| g.contains(text)) {
                failures.push(format!(
                    "{}:{n}: message {index} actions {got:?} lack {text:?}",
                    fixture.name
                ));
            }
        } else if let Some(text) = step.strip_prefix("log ") {
            let text = text.replace("{client}", client);
            if !logs.iter().any(|l| l.contains(&text)) {
                failures.push(format!(
                    "{}:{n}: no log line with {text:?} in {logs:#?}",
                    fixture.name
                ));
            }
        }
    }
    finish(&current, &mut failures);
    match failures.is_empty() {
        true => Ok(()),
        false => Err(failures.join("\n")),
    }
}

fn envelope_of(m: &Stored) -> String {
    let to: Vec<String> = m
        .recipients
        .iter()
        .map(|(a, _, _)| format!("<{a}>"))
        .collect();
    format!("from=<{}> to={}", m.sender, to.join(","))
}

/// The content lines after the `Received:` header.
fn body_lines(m: &Stored) -> Vec<String> {
    let text = String::from_utf8_lossy(&m.content()).into_owned();
    let mut lines: Vec<&str> = text.split("\r\n").collect();
    lines.pop();
    let mut start = 0;
    if lines.first().is_some_and(|l| l.starts_with("Received: ")) {
        start = 1;
        while lines.get(start).is_some_and(|l| l.starts_with('\t')) {
            start += 1;
        }
    }
    lines[start..].iter().map(|s| s.to_string()).collect()
}

fn settings(fixture: &Fixture) -> (Arc<Settings>, smtpd::log::Lines) {
    let params: Vec<(&str, &str)> = fixture
        .params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let mut settings =
        Settings::for_tests_restricted(&params).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
    let (log, lines) = Log::memory();
    settings.log = log;
    (Arc::new(settings), lines)
}

async fn run_duplex(fixture: &Fixture) -> Result<(), String> {
    let (settings, lines) = settings(fixture);
    let backend = Arc::new(Memory::new());
    let tls = smtpd::tls::load(&settings.tls).expect("TLS settings load");
    let (client, server) = tokio::io::duplex(64 * 1024);
    let token = CancellationToken::new();
    let server = tokio::spawn(smtpd::conn::serve(
        server,
        Client::test(),
        Arc::clone(&settings),
        Arc::clone(&backend),
        tls,
        token.clone(),
    ));
    let talk = converse(fixture, Box::new(client), "unknown[192.0.2.1]").await;
    token.cancel();
    let _ = tokio::time::timeout(READ_TIMEOUT, server).await;
    talk?;
    let logs = lines.lock().map(|l| l.clone()).unwrap_or_default();
    check_results(fixture, &backend.messages(), &logs, "unknown[192.0.2.1]")
}

async fn run_tcp(fixture: &Fixture) -> Result<(), String> {
    let (settings, lines) = settings(fixture);
    let backend = Arc::new(Memory::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let token = CancellationToken::new();
    let server = tokio::spawn(smtpd::server::run(
        listener,
        Arc::clone(&settings),
        Arc::clone(&backend),
        token.clone(),
    ));
    let socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let talk = converse(fixture, Box::new(socket), "unknown[127.0.0.1]").await;
    token.cancel();
    let _ = tokio::time::timeout(READ_TIMEOUT, server).await;
    talk.map_err(|e| format!("(tcp) {e}"))?;
    let logs = lines.lock().map(|l| l.clone()).unwrap_or_default();
    check_results(fixture, &backend.messages(), &logs, "unknown[127.0.0.1]")
        .map_err(|e| format!("(tcp) {e}"))
}

fn all_fixtures() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures().join("dialog"))
        .expect("fixtures/dialog exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dialog"))
        .collect();
    paths.sort();
    paths
}

#[tokio::test(flavor = "current_thread")]
async fn dialogs_in_memory() {
    let mut failures = Vec::new();
    for path in all_fixtures() {
        let fixture = load(&path);
        if let Err(e) = run_duplex(&fixture).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialogs_over_tcp() {
    let mut failures = Vec::new();
    for path in all_fixtures() {
        let fixture = load(&path);
        if fixture.duplex_only {
            continue;
        }
        if let Err(e) = run_tcp(&fixture).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
