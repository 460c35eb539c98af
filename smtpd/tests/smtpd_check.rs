//! Replays Postfix's `smtpd_check` fixtures (Postfix 3.7.11,
//! `src/smtpd/*.in` and `.ref`) against `smtpd::restrictions`, with the
//! test driver's command language (postfix-fixtures README §1): each
//! input line is echoed as `>>> line`, then the command's log lines
//! (`./smtpd_check: ...`) and its reply, or `OK`.
//!
//! The fixtures run in one test because the driver, like Postfix's, works
//! in a scratch directory that holds `smtpd_check_access.db`. The
//! DNS-dependent ones use the hickory resolver against an in-process
//! server on 127.0.0.1 (`src/restrictions/fixture_dns.rs`) that serves
//! `fixtures/smtpd_check/dns-zone.txt`; nothing leaves the host.
//! `smtpd_token` replays `smtpd::command::token`, the tokenizer that
//! finds MAIL/RCPT arguments. `smtpd_check2` runs with one access-table
//! line as it was when its .ref was recorded ([`OLDER_TABLE_LINES`]).
//!
//! Debugging aids: `SMTPD_CHECK_ONLY=name` runs one fixture, and
//! `SMTPD_CHECK_DUMP=dir` writes each replay to `dir/name.out`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use postmap::indexed::{self, Kind};
use postmap::source::{self, ParseOptions};

use smtpd::restrictions::resolver::{self, Resolver};
use smtpd::restrictions::{
    Client, Dns, Engine, NameStatus, NoDns, Outcome, State, TlsPeer, Verdict,
};

#[path = "../src/restrictions/fixture_dns.rs"]
mod fixture_dns;

/// Every fixture: (name, input, expected output, needs DNS). The DNS
/// fixtures run against [`fixture_dns`] serving `dns-zone.txt`, the
/// answers read off their .ref files (porcupine.org's zones as they were).
const FIXTURES: &[(&str, &str, &str, bool)] = &[
    ("smtpd_acl", "smtpd_acl.in", "smtpd_acl.ref", false),
    (
        "smtpd_addr_valid",
        "smtpd_addr_valid.in",
        "smtpd_addr_valid.ref",
        false,
    ),
    ("smtpd_check4", "smtpd_check.in4", "smtpd_check.ref4", false),
    (
        "smtpd_check_dsn",
        "smtpd_check_dsn.in",
        "smtpd_check_dsn.ref",
        false,
    ),
    ("smtpd_error", "smtpd_error.in", "smtpd_error.ref", false),
    ("smtpd_token", "smtpd_token.in", "smtpd_token.ref", false),
    ("smtpd_check", "smtpd_check.in", "smtpd_check.ref", true),
    ("smtpd_check2", "smtpd_check.in2", "smtpd_check.ref2", true),
    ("smtpd_exp", "smtpd_exp.in", "smtpd_exp.ref", true),
    ("smtpd_dnswl", "smtpd_dnswl.in", "smtpd_dnswl.ref", true),
    ("smtpd_server", "smtpd_server.in", "smtpd_server.ref", true),
    ("smtpd_nullmx", "smtpd_nullmx.in", "smtpd_nullmx.ref", true),
    (
        "smtpd_dns_filter",
        "smtpd_dns_filter.in",
        "smtpd_dns_filter.ref",
        true,
    ),
    (
        "smtpd_check_backup",
        "smtpd_check_backup.in",
        "smtpd_check_backup.ref",
        true,
    ),
];

const PROGRAM: &str = "./smtpd_check";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtpd_check")
}

/// Lines of smtpd_check_access as they were when a .ref was recorded.
/// `smtpd_check.ref2` was recorded with an older table whose
/// spike.porcupine.org entry said `name server ...`; the table Postfix
/// ships (and `.ref` expects) says `ns or mx server ...`.
const OLDER_TABLE_LINES: &[(&str, &str, &str)] = &[(
    "smtpd_check2",
    "spike.porcupine.org\treject ns or mx server spike.porcupine.org",
    "spike.porcupine.org\treject name server spike.porcupine.org",
)];

/// Lines of a .ref recorded by an older Postfix than 3.7.11, whose
/// binary answers otherwise (checked against the real one by
/// tests/tests/seed_examples.rs): `reject_unknown_client_hostname`
/// gives RFC 7372's 4.7.25 since Postfix 3.6; `smtpd_check.ref` and
/// `.ref2` (not in Postfix's default test run) still say 4.7.1.
const NEWER_REPLIES: &[(&str, &str)] = &[
    (
        "4.7.1 Client host rejected: cannot find your hostname",
        "4.7.25 Client host rejected: cannot find your hostname",
    ),
    (
        "5.7.1 Client host rejected: cannot find your hostname",
        "5.7.25 Client host rejected: cannot find your hostname",
    ),
];

/// Build `hash:smtpd_check_access` in `dir` with our postmap, as it was
/// when `fixture`'s .ref was recorded.
fn build_access_table(dir: &Path, fixture: &str) {
    let mut text = std::fs::read_to_string(fixture_dir().join("smtpd_check_access"))
        .expect("read access source");
    for (_, now, then) in OLDER_TABLE_LINES.iter().filter(|(f, ..)| *f == fixture) {
        assert!(text.contains(now), "smtpd_check_access has no line {now:?}");
        text = text.replace(now, then);
    }
    let text = text.into_bytes();
    let opts = ParseOptions::from_open(&postmap::OpenOptions::default());
    let parsed = source::parse(&text, "smtpd_check_access", &opts);
    let kind = Kind::from_type("hash").expect("hash is a table type");
    let name = dir.join("smtpd_check_access");
    indexed::create(
        kind,
        name.to_str().expect("utf-8 path"),
        &parsed,
        &Default::default(),
    )
    .expect("build smtpd_check_access");
}

/// Boolean parameters that the driver sets with numbers.
const BOOLEANS: &[&str] = &[
    "smtpd_delay_reject",
    "allow_untrusted_routing",
    "show_user_unknown_table_name",
    "smtpd_reject_unlisted_sender",
    "smtpd_reject_unlisted_recipient",
    "smtpd_peername_lookup",
    "smtpd_client_port_logging",
    "smtpd_tls_ask_ccert",
];

/// The driver's session: parameters, the engine built from them, and the
/// session state.
struct Driver {
    dir: PathBuf,
    dns: Arc<dyn Dns>,
    overrides: Vec<(String, String)>,
    engine: Engine,
    state: State,
    out: String,
}

impl Driver {
    fn new(dir: &Path, dns: Arc<dyn Dns>) -> Driver {
        let mut overrides: Vec<(String, String)> = [
            "local_recipient_maps",
            "virtual_alias_maps",
            "mynetworks",
            "relay_domains",
        ]
        .iter()
        .map(|n| (n.to_string(), String::new()))
        .collect();
        // The driver runs the recipient list before the relay list.
        overrides.push((
            "smtpd_relay_before_recipient_restrictions".to_string(),
            "no".to_string(),
        ));
        for stage in [
            "client",
            "helo",
            "sender",
            "recipient",
            "relay",
            "data",
            "end_of_data",
            "etrn",
        ] {
            overrides.push((format!("smtpd_{stage}_restrictions"), String::new()));
        }
        let mut state = State::new(Client::new("localhost", "127.0.0.1"));
        state.protocol = "SMTP".to_string();
        state.queue_id = "<queue id>".to_string();
        let engine = engine(dir, &dns, &overrides).expect("the initial settings are valid");
        Driver {
            dir: dir.to_path_buf(),
            dns,
            overrides,
            engine,
            state,
            out: String::new(),
        }
    }

    fn set(&mut self, name: &str, value: &str) {
        self.overrides.retain(|(n, _)| n != name);
        self.overrides.push((name.to_string(), value.to_string()));
        match engine(&self.dir, &self.dns, &self.overrides) {
            Ok(mut engine) => {
                engine.inherit_warnings(&self.engine);
                self.engine = engine;
            }
            // Postfix's driver exits here; the .ref then ends early.
            Err(e) => {
                let _ = writeln!(self.out, "{PROGRAM}: fatal: {e}");
                return;
            }
        }
        for warning in self.engine.warnings() {
            let _ = writeln!(self.out, "{PROGRAM}: warning: {warning}");
        }
    }

    fn line(&mut self, line: &str) {
        let _ = writeln!(self.out, ">>> {line}");
        if line.starts_with('#') {
            return;
        }
        let words = split_words(line);
        if words.is_empty() {
            return;
        }
        let answer = self.command(&words);
        let _ = writeln!(self.out, "{answer}");
    }

    fn command(&mut self, words: &[String]) -> String {
        let verb = words[0].to_ascii_lowercase();
        match (words.len(), verb.as_str()) {
            (1, "rewrite") => self.rewrite(),
            (1, "flush_dnsxl_cache") => "OK".to_string(),
            (3 | 4, "client") => {
                let mut client = Client::new(&words[1], &words[2]);
                if let Some(status) = words.get(3) {
                    let status = match status.as_str() {
                        "2" => NameStatus::Ok,
                        "5" => NameStatus::Permanent,
                        "6" => NameStatus::Forged,
                        _ => NameStatus::Temporary,
                    };
                    client.name_status = status;
                    client.reverse_name_status = status;
                }
                self.state.set_client(client);
                let outcome = self.engine.check_client(&mut self.state);
                self.report(outcome)
            }
            (2, _) => self.two_words(&verb, &words[1]),
            _ => "bad command".to_string(),
        }
    }

    fn two_words(&mut self, verb: &str, arg: &str) -> String {
        let outcome = match verb {
            "helo" => self.engine.check_helo(&mut self.state, arg),
            "mail" => self.engine.check_mail(&mut self.state, strip_brackets(arg)),
            "rcpt" => self.engine.check_rcpt(&mut self.state, strip_brackets(arg)),
            "fingerprint" => {
                self.state.tls = Some(TlsPeer {
                    cert_fingerprint: arg.to_string(),
                    pkey_fingerprint: arg.to_string(),
                });
                return "OK".to_string();
            }
            "client_restrictions"
            | "helo_restrictions"
            | "sender_restrictions"
            | "recipient_restrictions"
            | "relay_restrictions"
            | "etrn_restrictions" => {
                self.set(&format!("smtpd_{verb}"), arg);
                return "OK".to_string();
            }
            "restriction_class" => {
                let Some((name, value)) = arg.split_once(',') else {
                    return "bad command".to_string();
                };
                let classes = self.param("smtpd_restriction_classes");
                self.set("smtpd_restriction_classes", &format!("{classes} {name}"));
                self.set(name, value);
                return "OK".to_string();
            }
            // Postfix's driver stubs "is this address ours" with these
            // addresses; conf checks inet_interfaces against the host's
            // real interfaces (smtpd_check_backup names 168.100.3.7), so
            // the driver gives them as proxy_interfaces, which count as
            // ours without being local interfaces.
            "inet_interfaces" => {
                self.set("proxy_interfaces", arg);
                return "OK".to_string();
            }
            _ if BOOLEANS.contains(&verb) => {
                let value = if arg.starts_with('0') { "no" } else { "yes" };
                self.set(verb, value);
                return "OK".to_string();
            }
            _ if conf::param::find(verb).is_some() => {
                self.set(verb, arg);
                return "OK".to_string();
            }
            _ => return "bad command".to_string(),
        };
        self.report(outcome)
    }

    fn param(&self, name: &str) -> String {
        self.overrides
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn rewrite(&mut self) -> String {
        let (result, log) = self.engine.check_rewrite(&mut self.state);
        for line in log {
            let _ = writeln!(self.out, "{PROGRAM}: {line}");
        }
        match result {
            Ok(_) => "OK".to_string(),
            Err(reply) => reply.to_string(),
        }
    }

    fn report(&mut self, outcome: Outcome) -> String {
        for line in &outcome.log {
            let _ = writeln!(self.out, "{PROGRAM}: {line}");
        }
        match outcome.verdict {
            Verdict::Accept => "OK".to_string(),
            Verdict::Reject(reply) => reply.to_string(),
        }
    }
}

fn engine(
    dir: &Path,
    dns: &Arc<dyn Dns>,
    overrides: &[(String, String)],
) -> Result<Engine, smtpd::restrictions::Error> {
    let config = conf::Config::with_main(dir, Default::default(), overrides);
    Engine::from_config(&config, Box::new(Arc::clone(dns)))
}

/// `<addr>` → `addr`: one pair of angle brackets.
fn strip_brackets(arg: &str) -> &str {
    arg.strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(arg)
}

/// Words on white space; `{ ... }` stays in one word.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut depth = 0usize;
    for c in line.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if c.is_whitespace() && depth == 0 => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Replay `input`; None when there is no driver for the fixture.
fn replay(name: &str, input: &str, dir: &Path, dns: Arc<dyn Dns>) -> String {
    if name == "smtpd_token" {
        return replay_tokens(input);
    }
    let mut driver = Driver::new(dir, dns);
    for line in input.lines() {
        driver.line(line);
    }
    driver.out
}

/// The `smtpd_token` driver: each line, then its tokens.
fn replay_tokens(input: &str) -> String {
    let mut out = String::new();
    for line in input.lines().filter(|l| !l.starts_with('#')) {
        out.push_str(line);
        out.push('\n');
        for token in smtpd::command::token::tokens(line) {
            let kind = if token.malformed { "error" } else { "other" };
            out.push_str(&format!(
                "Token type:  {kind}\nToken value: {}\n",
                token.text
            ));
        }
    }
    out
}

/// The first differing line, for the failure message.
fn first_difference(got: &str, want: &str) -> String {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        if g != w {
            return format!("line {}:\n  got:  {g}\n  want: {w}", i + 1);
        }
    }
    format!(
        "lengths differ: got {} lines, want {}",
        got.lines().count(),
        want.lines().count()
    )
}

/// The hickory resolver, asking the fixture server only.
fn fixture_resolver(server: &fixture_dns::Server) -> Resolver {
    let settings = resolver::Settings {
        servers: vec![server.addr()],
        timeout: Some(std::time::Duration::from_millis(500)),
        attempts: Some(1),
    };
    Resolver::new(&settings).expect("resolver")
}

/// The lines of `dns-zone.txt` that `fixture` sees: those before any
/// `[names]` header and under `[all]` are shared; those under
/// `[name1 name2]` belong to those fixtures only, for answers that
/// changed between the runs that recorded the .ref files.
fn zone_for(text: &str, fixture: &str) -> String {
    let mut section = "all".to_string();
    let mut zone = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(names) = trimmed.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = names.to_string();
        } else if section == "all" || section.split_whitespace().any(|n| n == fixture) {
            zone.push_str(line);
            zone.push('\n');
        }
    }
    zone
}

#[test]
fn fixtures_replay_byte_for_byte() {
    let zone_text = std::fs::read_to_string(fixture_dir().join("dns-zone.txt")).expect("read zone");
    // Without a network, Postfix's driver sees every lookup fail.
    let no_dns: Arc<dyn Dns> = Arc::new(NoDns { temporary: true });
    let root = tempfile::tempdir().expect("scratch directory");
    // Postfix's layout: the driver runs in src/smtpd, and
    // smtpd_dns_filter names `regexp:../dns/*.reg`.
    let scratch = root.path().join("smtpd");
    let dns_dir = root.path().join("dns");
    std::fs::create_dir_all(&scratch).expect("create smtpd/");
    std::fs::create_dir_all(&dns_dir).expect("create dns/");
    for entry in std::fs::read_dir(fixture_dir().join("dns")).expect("read dns/") {
        let path = entry.expect("dns/ entry").path();
        let name = path.file_name().expect("file name").to_owned();
        std::fs::copy(&path, dns_dir.join(name)).expect("copy a .reg file");
    }
    // The fixtures name `hash:./smtpd_check_access`, relative to the
    // driver's working directory. No other test here depends on it.
    std::env::set_current_dir(&scratch).expect("enter scratch directory");
    let mut problems = Vec::new();
    let only = std::env::var("SMTPD_CHECK_ONLY").ok();
    for (name, input, expected, needs_dns) in FIXTURES {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        build_access_table(&scratch, name);
        let input = std::fs::read_to_string(fixture_dir().join(input)).expect("read input");
        let mut want = std::fs::read_to_string(fixture_dir().join(expected)).expect("read ref");
        for (then, now) in NEWER_REPLIES {
            want = want.replace(then, now);
        }
        // One server and resolver (so one cache) per fixture, as each
        // .ref comes from a run of its own.
        let zone = fixture_dns::Zone::parse(&zone_for(&zone_text, name)).expect("dns-zone.txt");
        let server = fixture_dns::Server::start(zone).expect("start the fixture DNS server");
        let dns: Arc<dyn Dns> = if *needs_dns {
            Arc::new(fixture_resolver(&server))
        } else {
            Arc::clone(&no_dns)
        };
        let got = replay(name, &input, &scratch, dns);
        if let Ok(dump) = std::env::var("SMTPD_CHECK_DUMP") {
            let _ = std::fs::write(Path::new(&dump).join(format!("{name}.out")), &got);
        }
        if got != want {
            problems.push(format!("{name}: {}", first_difference(&got, &want)));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A fixture copied in but left out of [`FIXTURES`] would never run.
#[test]
fn every_ref_file_is_replayed() {
    for entry in std::fs::read_dir(fixture_dir()).expect("read the fixture directory") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        if name.contains(".ref") {
            assert!(
                FIXTURES.iter().any(|(_, _, r, _)| *r == name),
                "{name} is not in FIXTURES"
            );
        }
    }
}
