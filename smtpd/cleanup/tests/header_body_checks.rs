//! Replays Postfix 3.7's `header_body_checks` test driver: four table
//! specs (header_checks, mime_header_checks, nested_header_checks,
//! body_checks; empty for none) over `mime_test.in`, printing every
//! surviving line with its record number, prepended lines bare, and the
//! action log lines. The refs (`tests/fixtures/header_body_checks/*.ref`)
//! must match byte for byte; the regexp tables of the prepend, replace
//! and strip cases are the driver's `files_before`, stored beside them.
//! Then cleanup's own actions (REJECT, DISCARD, HOLD, FILTER, REDIRECT,
//! BCC, PASS, ...) and their verdict and log lines, and random input that
//! must never panic.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use cleanup::checks::{Family, Inspector, LogContext, Maps, Output, Profile, Specs, Verdict};
use cleanup::mime::{Defect, Limits, Options};
use postmap::OpenOptions;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Postfix's `rec_streamlf_get` with a record limit.
fn records(input: &[u8], max: usize) -> Vec<(&[u8], bool)> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let window = &rest[..rest.len().min(max)];
        match window.iter().position(|&c| c == b'\n') {
            Some(nl) => {
                out.push((&rest[..nl], true));
                rest = &rest[nl + 1..];
            }
            None => {
                out.push((window, false));
                rest = &rest[window.len()..];
            }
        }
    }
    out
}

fn maps(specs: [&str; 4], family: Family, size_limit: u64) -> Arc<Maps> {
    let [header, mime, nested, body] = specs.map(String::from);
    let specs = Specs {
        family,
        header_checks: header,
        mime_header_checks: mime,
        nested_header_checks: nested,
        body_checks: body,
        body_checks_size_limit: size_limit,
    };
    let (maps, warnings) = Maps::open(&specs, &OpenOptions::default());
    assert!(warnings.is_empty(), "{warnings:?}");
    Arc::new(maps)
}

/// The driver's output for one inspector event.
#[derive(Default)]
struct Driver {
    out: Vec<u8>,
    recno: u64,
}

impl Driver {
    fn line(&mut self, text: &[u8]) {
        self.out.extend_from_slice(text);
        self.out.push(b'\n');
    }

    fn warn(&mut self, text: &str) {
        self.line(format!("header_body_checks: warning: {text}").as_bytes());
    }

    fn render(&mut self, output: Output<'_>) {
        match output {
            Output::Header {
                class,
                text,
                offset,
                ..
            } => {
                let head = format!("{} {} {offset}\t|", self.recno, class.label());
                self.line(&[head.as_bytes(), text].concat());
                self.recno += 1;
            }
            Output::Body {
                text,
                complete,
                offset,
            } => {
                let kind = if complete { 'N' } else { 'L' };
                let head = format!("{} BODY {kind} {offset}\t|", self.recno);
                self.line(&[head.as_bytes(), text].concat());
                self.recno += 1;
            }
            Output::Removed { .. } => self.recno += 1,
            Output::Prepend { text, .. } => self.line(text.as_bytes()),
            Output::HeaderEnd => self.line(b"HEADER END"),
            Output::BodyEnd => self.line(b"BODY END"),
            Output::Logged(logged) => {
                let line = logged.delivery_line("test-queueID", false);
                self.line(format!("header_body_checks: {line}").as_bytes());
            }
            Output::Warning(text) => self.warn(&text),
            Output::LookupError { param, error } => self.warn(&format!("{param}: {error}")),
            Output::Defect { defect, text } => {
                let shown = cleanup::checks::printable(&text[..text.len().min(100)], false);
                self.warn(&format!("{}: {shown}", defect.text()));
            }
        }
    }
}

fn run_driver(specs: [&str; 4]) -> Vec<u8> {
    let options = Options {
        report_8bit_in_7bit_body: true,
        report_8bit_in_header: true,
        report_encoding_domain: true,
        report_truncated_header: true,
        report_nesting: true,
        downgrade: true,
        ..Options::default()
    };
    let limits = Limits {
        header_size: 2000,
        nesting: 20,
        boundary_length: 2000,
    };
    let maps = maps(specs, Family::Cleanup, 0);
    let mut inspector = Inspector::new(maps, Profile::Delivery, options, limits);
    let input = fs::read(fixtures().join("mime/mime_test.in")).unwrap();
    let mut driver = Driver::default();
    for (text, complete) in records(&input, 1024) {
        inspector.update(text, complete, &mut |o| driver.render(o));
    }
    inspector.finish(&mut |o| driver.render(o));
    let summary = [
        (
            Defect::TruncatedHeader,
            "message header length exceeds safety limit",
        ),
        (Defect::Nesting, "MIME nesting exceeds safety limit"),
        (
            Defect::EightBitInHeader,
            "improper use of 8-bit data in message header",
        ),
        (
            Defect::EightBitInBody,
            "improper use of 8-bit data in message body",
        ),
        (
            Defect::EncodingDomain,
            "improper message/* or multipart/* encoding domain",
        ),
    ];
    for (defect, text) in summary {
        if inspector.defects().contains(defect) {
            driver.warn(text);
        }
    }
    driver.out
}

fn expect(name: &str, actual: &[u8]) {
    let path = fixtures().join(format!("header_body_checks/header_body_checks_{name}.ref"));
    let expected = fs::read(&path).unwrap();
    assert!(
        actual == expected,
        "{name}: output differs\n--- expected\n{}\n--- actual\n{}",
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(actual)
    );
}

/// The four regexp tables of a case, as `regexp:` specs.
fn tables(name: &str) -> [String; 4] {
    ["head", "mime", "nest", "body"].map(|part| {
        let path = fixtures().join(format!(
            "header_body_checks/header_body_checks_{name}.{part}"
        ));
        format!("regexp:{}", path.display())
    })
}

fn replay_tables(name: &str) {
    let specs = tables(name);
    let specs = [0, 1, 2, 3].map(|i| specs[i].as_str());
    expect(name, &run_driver(specs));
}

#[test]
fn header_body_checks_null() {
    expect("null", &run_driver(["", "", "", ""]));
    expect("null", &run_driver(["static:dunno"; 4]));
    expect("null", &run_driver(["static:ok"; 4]));
}

#[test]
fn header_body_checks_warn() {
    expect("warn", &run_driver(["static:warn"; 4]));
}

#[test]
fn header_body_checks_ignore() {
    expect("ignore", &run_driver(["static:ignore"; 4]));
}

#[test]
fn header_body_checks_prepend() {
    replay_tables("prepend");
}

#[test]
fn header_body_checks_replace() {
    replay_tables("replace");
}

#[test]
fn header_body_checks_strip() {
    replay_tables("strip");
}

/// Run cleanup's profile over `message` (lines without terminators) and
/// collect the outputs as text lines plus the verdict.
fn cleanup_run(specs: [&str; 4], message: &[&str]) -> (Vec<String>, Verdict) {
    let maps = maps(specs, Family::Cleanup, 0);
    let mut inspector = Inspector::new(
        maps,
        Profile::Cleanup,
        Options::default(),
        Limits::default(),
    );
    let ctx = LogContext {
        queue_id: "QID".into(),
        origin: Some("client[192.0.2.1]".into()),
        sender: Some("s@example.org".into()),
        recipient: Some("r@example.net".into()),
        protocol: Some("ESMTP".into()),
        helo: Some("helo.example".into()),
        utf8: true,
    };
    let mut lines = Vec::new();
    let mut render = |output: Output<'_>| {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        lines.push(match output {
            Output::Header { text: t, .. } => format!("H {}", text(t)),
            Output::Body { text: t, .. } => format!("B {}", text(t)),
            Output::Prepend { context, text } => format!("P {} {text}", context.as_str()),
            Output::Removed { text: t, .. } => format!("- {}", text(t)),
            Output::Logged(logged) => format!("L {}", logged.cleanup_line(&ctx)),
            Output::Warning(w) => format!("W {w}"),
            other => format!("{other:?}"),
        });
    };
    for line in message {
        inspector.update(line.as_bytes(), true, &mut render);
    }
    let verdict = inspector.finish(&mut render).clone();
    (lines, verdict)
}

const MESSAGE: [&str; 5] = ["Subject: hello", "X-Spam: yes", "", "body one", "body two"];

fn header_rules(rules: &str) -> String {
    format!("regexp:{{{rules}}}")
}

#[test]
fn reject_stops_inspection_and_logs_the_reason() {
    let rules = header_rules("{/^Subject:/ REJECT 5.7.0 no subjects}, {/^X-Spam:/ DISCARD}");
    let (lines, verdict) = cleanup_run([&rules, "", "", "static:{REJECT body}"], &MESSAGE);
    let rejection = verdict.reject.expect("rejected");
    assert_eq!(rejection.reason(), "5.7.0 no subjects");
    assert!(!verdict.discard, "inspection stopped after REJECT");
    assert!(
        lines.contains(
            &"L QID: reject: header Subject: hello from client[192.0.2.1]; from=<s@example.org> \
          to=<r@example.net> proto=ESMTP helo=<helo.example>: 5.7.0 no subjects"
                .to_string()
        )
    );
    assert!(lines.contains(&"B body two".to_string()));
}

#[test]
fn fate_actions_fill_the_verdict() {
    let rules = header_rules(
        "{/^Subject:/ HOLD held}, {/^X-Spam:/ FILTER smtp:[127.0.0.1]:10025}, \
         {/one/ BCC audit@example.org}, {/two/ REDIRECT boss@example.org}",
    );
    let (lines, verdict) = cleanup_run([&rules, "", "", &rules], &MESSAGE);
    assert_eq!(verdict.hold.as_deref(), Some("held"));
    assert_eq!(verdict.filter.as_deref(), Some("smtp:[127.0.0.1]:10025"));
    assert_eq!(verdict.bcc, ["audit@example.org"]);
    assert_eq!(verdict.redirect.as_deref(), Some("boss@example.org"));
    assert!(verdict.reject.is_none() && !verdict.discard && !verdict.passed);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("L QID: hold: header Subject: hello"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("helo=<helo.example>: audit@example.org"))
    );
}

#[test]
fn bad_action_arguments_are_warned_about_and_ignored() {
    let rules = header_rules(
        "{/^Subject:/ FILTER nocolon}, {/^X-Spam:/ REDIRECT nobody}, \
         {/one/ PREPEND not a header}, {/two/ FROBNICATE}",
    );
    let (lines, verdict) = cleanup_run([&rules, "", "", "static:{BCC nobody}"], &MESSAGE);
    assert_eq!(verdict, Verdict::default());
    for warning in [
        "W bad FILTER command nocolon in header_checks -- need transport:destination",
        "W bad REDIRECT target \"nobody\" in header_checks map -- need user@domain",
        "W bad BCC address \"nobody\" in body_checks map -- need user@domain",
    ] {
        assert!(
            lines.contains(&warning.to_string()),
            "{warning}\n{lines:#?}"
        );
    }
}

#[test]
fn edits_and_pass() {
    let rules = header_rules(
        "{/^Subject:/ REPLACE Subject: [ext] hello}, {/^X-Spam:/ STRIP spam marker}, \
         {/one/ PREPEND before one}, {/two/ PASS trusted}",
    );
    let (lines, verdict) = cleanup_run([&rules, "", "", &rules], &MESSAGE);
    assert!(verdict.passed);
    let edited: Vec<&str> = lines
        .iter()
        .filter(|l| !l.starts_with('L'))
        .map(String::as_str)
        .collect();
    assert_eq!(
        edited,
        [
            "H Subject: [ext] hello",
            "- X-Spam: yes",
            "HeaderEnd",
            "B ",
            "P body before one",
            "B body one",
            "B body two",
            "BodyEnd"
        ]
    );
}

#[test]
fn mime_headers_use_mime_header_checks_and_body_checks_stop_at_the_limit() {
    let message = [
        "Subject: s",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=b",
        "",
        "--b",
        "Content-Type: message/rfc822",
        "",
        "Subject: nested",
        "",
        "0123456789",
        "late line",
    ];
    let maps = maps(
        [
            "static:{WARN main}",
            "static:{WARN mime}",
            "static:{WARN nest}",
            "static:{WARN body}",
        ],
        Family::Cleanup,
        12,
    );
    let mut inspector = Inspector::new(
        maps,
        Profile::Cleanup,
        Options::default(),
        Limits::default(),
    );
    let mut logged = Vec::new();
    let mut render = |output: Output<'_>| {
        if let Output::Logged(l) = output {
            logged.push(format!("{} {}", String::from_utf8_lossy(l.content), l.text));
        }
    };
    for line in message {
        inspector.update(line.as_bytes(), true, &mut render);
    }
    inspector.finish(&mut render);
    assert_eq!(
        logged,
        [
            "Subject: s main",
            "MIME-Version: 1.0 mime",
            "Content-Type: multipart/mixed; boundary=b mime",
            "--b body",
            "Content-Type: message/rfc822 mime",
            "Subject: nested nest",
            "0123456789 body",
        ]
    );
}

#[test]
fn lookup_failures_defer_the_message() {
    let maps = maps(["fail:checks", "", "", ""], Family::Cleanup, 0);
    let mut inspector = Inspector::new(
        maps,
        Profile::Cleanup,
        Options::default(),
        Limits::default(),
    );
    let mut errors = 0;
    let mut count = |o: Output<'_>| errors += usize::from(matches!(o, Output::LookupError { .. }));
    inspector.update(b"Subject: x", true, &mut count);
    inspector.update(b"Subject: y", true, &mut count);
    let verdict = inspector.finish(&mut count).clone();
    assert_eq!(errors, 2);
    assert_eq!(verdict.lookup_error.as_deref(), Some("header_checks"));
}

#[test]
fn reported_mime_defects_reject_in_cleanup_only() {
    let options = Options {
        report_8bit_in_header: true,
        ..Options::default()
    };
    for (profile, rejected) in [(Profile::Cleanup, true), (Profile::Delivery, false)] {
        let maps = Arc::new(Maps::default());
        let mut inspector = Inspector::new(maps, profile, options, Limits::default());
        inspector.update(b"Subject: caf\xc3\xa9", true, &mut |_| {});
        let verdict = inspector.finish(&mut |_| {});
        assert_eq!(verdict.reject.is_some(), rejected);
        if let Some(rejection) = &verdict.reject {
            assert_eq!(
                rejection.reason(),
                "5.6.0 improper use of 8-bit data in message header"
            );
        }
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_content_never_panics() {
    const LINES: [&[u8]; 10] = [
        b"Subject: x",
        b"Content-Type: multipart/mixed; boundary=z",
        b"--z",
        b"--z--",
        b"Content-Type: message/rfc822",
        b"",
        b" folded",
        b"To: \xff\xfe",
        b"body",
        b"\0\x80",
    ];
    let rules = header_rules(
        "{/x/ REPLACE X: y}, {/z/ STRIP}, {/o/ PREPEND O: k}, {/^$/ REJECT}, \
         {/b/ REDIRECT a@b}, {/./ HOLD}",
    );
    let maps = maps([&rules, &rules, &rules, &rules], Family::Cleanup, 5);
    let mut rng = Rng(42);
    for round in 0..500 {
        let profile = if round % 2 == 0 {
            Profile::Cleanup
        } else {
            Profile::Delivery
        };
        let options = Options {
            report_8bit_in_header: true,
            report_8bit_in_7bit_body: true,
            report_nesting: true,
            downgrade: round % 3 == 0,
            ..Options::default()
        };
        let mut inspector = Inspector::new(Arc::clone(&maps), profile, options, Limits::default());
        let mut seen = 0usize;
        for _ in 0..rng.below(40) {
            let mut record = LINES[rng.below(LINES.len())].to_vec();
            record.extend((0..rng.below(6)).map(|_| rng.next() as u8));
            inspector.update(&record, rng.below(5) != 0, &mut |_| seen += 1);
        }
        inspector.finish(&mut |_| seen += 1);
        assert!(seen > 0);
    }
}
