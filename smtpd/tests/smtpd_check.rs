//! Replays Postfix's `smtpd_check` fixtures (Postfix 3.7.11,
//! `src/smtpd/*.in` and `.ref`) against `smtpd::restrictions`, with the
//! test driver's command language (postfix-fixtures README §1): each
//! input line is echoed as `>>> line`, then the command's log lines
//! (`./smtpd_check: ...`) and its reply, or `OK`.
//!
//! The fixtures run in one test because the driver, like Postfix's, works
//! in a scratch directory that holds `smtpd_check_access.db`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use postmap::indexed::{self, Kind};
use postmap::source::{self, ParseOptions};
use smtpd::restrictions::{Client, Engine, NameStatus, NoDns, Outcome, State, TlsPeer, Verdict};

/// Every offline fixture: (name, input, expected output).
const FIXTURES: &[(&str, &str, &str)] = &[
    ("smtpd_acl", "smtpd_acl.in", "smtpd_acl.ref"),
    (
        "smtpd_addr_valid",
        "smtpd_addr_valid.in",
        "smtpd_addr_valid.ref",
    ),
    ("smtpd_check4", "smtpd_check.in4", "smtpd_check.ref4"),
    (
        "smtpd_check_dsn",
        "smtpd_check_dsn.in",
        "smtpd_check_dsn.ref",
    ),
    ("smtpd_error", "smtpd_error.in", "smtpd_error.ref"),
    ("smtpd_token", "smtpd_token.in", "smtpd_token.ref"),
];

/// Fixtures that do not pass yet, and why. A listed fixture that starts
/// passing fails the test, so the list stays honest.
const EXPECTED_FAILURES: &[(&str, &str)] = &[(
    "smtpd_token",
    "needs Postfix's SMTP command tokenizer (smtpd_token.c); smtpd parses \
     commands with smtp-proto in `command/`, which has no such tokenizer, so \
     there is nothing to replay it against yet",
)];

const PROGRAM: &str = "./smtpd_check";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtpd_check")
}

/// Build `hash:smtpd_check_access` in `dir` with our postmap.
fn build_access_table(dir: &Path) {
    let text = std::fs::read(fixture_dir().join("smtpd_check_access")).expect("read access source");
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
    overrides: Vec<(String, String)>,
    engine: Engine,
    state: State,
    out: String,
}

impl Driver {
    fn new(dir: &Path) -> Driver {
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
        let engine = engine(dir, &overrides);
        Driver {
            dir: dir.to_path_buf(),
            overrides,
            engine,
            state,
            out: String::new(),
        }
    }

    fn set(&mut self, name: &str, value: &str) {
        self.overrides.retain(|(n, _)| n != name);
        self.overrides.push((name.to_string(), value.to_string()));
        self.engine = engine(&self.dir, &self.overrides);
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

fn engine(dir: &Path, overrides: &[(String, String)]) -> Engine {
    let config = conf::Config::with_main(dir, Default::default(), overrides);
    let dns = Box::new(NoDns { temporary: true });
    Engine::from_config(&config, dns).expect("restriction settings")
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
fn replay(name: &str, input: &str, dir: &Path) -> Option<String> {
    if name == "smtpd_token" {
        return None;
    }
    let mut driver = Driver::new(dir);
    for line in input.lines() {
        driver.line(line);
    }
    Some(driver.out)
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

#[test]
fn offline_fixtures_replay_byte_for_byte() {
    let scratch = tempfile::tempdir().expect("scratch directory");
    build_access_table(scratch.path());
    // The fixtures name `hash:./smtpd_check_access`, relative to the
    // driver's working directory. This is the only test in this binary.
    std::env::set_current_dir(scratch.path()).expect("enter scratch directory");
    let mut problems = Vec::new();
    for (name, input, expected) in FIXTURES {
        let input = std::fs::read_to_string(fixture_dir().join(input)).expect("read input");
        let want = std::fs::read_to_string(fixture_dir().join(expected)).expect("read ref");
        let got = replay(name, &input, scratch.path());
        let passes = got.as_deref() == Some(want.as_str());
        let listed = EXPECTED_FAILURES.iter().any(|(n, _)| n == name);
        match (passes, listed) {
            (true, true) => problems.push(format!(
                "{name} now passes: remove it from EXPECTED_FAILURES"
            )),
            (false, false) => {
                let got = got.unwrap_or_default();
                problems.push(format!("{name}: {}", first_difference(&got, &want)));
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
