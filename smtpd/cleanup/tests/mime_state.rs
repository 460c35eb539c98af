//! Replays Postfix 3.7's `mime_state` test driver over its fixtures
//! (`tests/fixtures/mime/*.in` → `*.ref`, copied from
//! `postfix/src/global`; `mime_cvt.in2`/`.ref2` are stored as
//! `mime_cvt2.in`/`.ref`, likewise `3`). The driver reads stdin in records
//! of at most 1024 bytes, walks them with every report option and the
//! 8bit downgrade on (header limit 2000, depth 20, boundary 2000), and
//! prints each event. The refs also hold the driver's debug lines
//! (`header_token`, `PUSH`/`POP boundary`, `garbage in`), which the
//! fixture README allows to drop; everything else must match byte for
//! byte. Also: random input never panics.

use std::fs;
use std::path::PathBuf;

use cleanup::mime::{Defect, Event, Limits, Options, Walker};

/// Postfix's `rec_streamlf_get` with a 1024-byte limit: records without
/// their newline, `false` for a piece of a longer (or unterminated) line.
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

/// Postfix `printable()` as the test drivers run it (no UTF-8).
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

fn render(out: &mut Vec<u8>, event: Event<'_>) {
    match event {
        Event::Header {
            class,
            text,
            offset,
            ..
        } => {
            out.extend_from_slice(format!("{} {offset}\t|", class.label()).as_bytes());
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Event::HeaderEnd => out.extend_from_slice(b"HEADER END\n"),
        Event::Body {
            text,
            complete,
            offset,
        } => {
            let kind = if complete { 'N' } else { 'L' };
            out.extend_from_slice(format!("BODY {kind} {offset}\t|").as_bytes());
            out.extend_from_slice(text);
            if complete {
                out.push(b'\n');
            }
        }
        Event::BodyEnd => out.extend_from_slice(b"BODY END\n"),
        Event::Defect { defect, text } => {
            let shown = printable(&text[..text.len().min(100)]);
            let line = format!("mime_state: warning: {}: {shown}\n", defect.text());
            out.extend_from_slice(line.as_bytes());
        }
    }
}

/// The driver's summary, in its order and words.
const SUMMARY: [(Defect, &str); 5] = [
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

fn driver_options() -> (Options, Limits) {
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
    (options, limits)
}

fn run_driver(input: &[u8]) -> Vec<u8> {
    let (options, limits) = driver_options();
    let mut walker = Walker::new(options, limits);
    let mut out = Vec::new();
    for (text, complete) in records(input, 1024) {
        walker.update(text, complete, &mut |e| render(&mut out, e));
    }
    let defects = walker.finish(&mut |e| render(&mut out, e));
    for (defect, text) in SUMMARY {
        if defects.contains(defect) {
            out.extend_from_slice(format!("mime_state: warning: {text}\n").as_bytes());
        }
    }
    out
}

/// The ref without the driver's debug lines.
fn without_debug(reference: &[u8]) -> Vec<u8> {
    const DEBUG: [&[u8]; 4] = [
        b"mime_state: header_token: ",
        b"mime_state: PUSH boundary ",
        b"mime_state: POP boundary ",
        b"mime_state: garbage in ",
    ];
    reference
        .split_inclusive(|&c| c == b'\n')
        .filter(|line| !DEBUG.iter().any(|d| line.starts_with(d)))
        .flatten()
        .copied()
        .collect()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mime")
        .join(name)
}

fn replay(stem: &str) {
    let input = fs::read(fixture(&format!("{stem}.in"))).expect("fixture input");
    let reference = fs::read(fixture(&format!("{stem}.ref"))).expect("fixture ref");
    let actual = run_driver(&input);
    let expected = without_debug(&reference);
    assert!(
        actual == expected,
        "{stem}: output differs\n--- expected\n{}\n--- actual\n{}",
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(&actual)
    );
}

#[test]
fn mime_test() {
    replay("mime_test");
}

#[test]
fn mime_nest() {
    replay("mime_nest");
}

#[test]
fn mime_8bit() {
    replay("mime_8bit");
}

#[test]
fn mime_dom() {
    replay("mime_dom");
}

#[test]
fn mime_trunc() {
    replay("mime_trunc");
}

#[test]
fn mime_garb1() {
    replay("mime_garb1");
}

#[test]
fn mime_garb2() {
    replay("mime_garb2");
}

#[test]
fn mime_garb3() {
    replay("mime_garb3");
}

#[test]
fn mime_garb4() {
    replay("mime_garb4");
}

#[test]
fn mime_cvt() {
    replay("mime_cvt");
}

#[test]
fn mime_cvt2() {
    replay("mime_cvt2");
}

#[test]
fn mime_cvt3() {
    replay("mime_cvt3");
}

#[test]
fn debug_lines_are_the_only_lines_dropped() {
    let reference = fs::read(fixture("mime_test.ref")).unwrap();
    let kept = without_debug(&reference);
    let dropped = reference.split(|&c| c == b'\n').count() - kept.split(|&c| c == b'\n').count();
    assert_eq!(dropped, 10);
}

/// A small xorshift generator: deterministic, no dependency.
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

/// Bytes biased towards what the walker reacts to.
fn random_record(rng: &mut Rng) -> Vec<u8> {
    const PIECES: [&[u8]; 14] = [
        b"--",
        b"--b",
        b"--b--",
        b"Content-Type: multipart/mixed; boundary=b",
        b"Content-Type: message/rfc822",
        b"content-type: multipart/digest; boundary=\"\"",
        b"Content-Transfer-Encoding: 8bit",
        b"Content-Transfer-Encoding: base64",
        b" folded",
        b"\t",
        b"X: \x80\xff",
        b"(\\\"",
        b"\0",
        b"",
    ];
    let mut record = Vec::new();
    for _ in 0..rng.below(4) {
        if rng.below(3) == 0 {
            let n = rng.below(40);
            record.extend((0..n).map(|_| rng.next() as u8));
        } else {
            record.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        }
    }
    record
}

#[test]
fn random_records_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..2000 {
        let options = Options {
            report_8bit_in_7bit_body: true,
            report_8bit_in_header: true,
            report_encoding_domain: true,
            report_truncated_header: true,
            report_nesting: true,
            downgrade: round % 2 == 0,
            recurse_all_message: round % 3 == 0,
            disable_mime: round % 7 == 0,
        };
        let limits = Limits {
            header_size: 1 + rng.below(200),
            nesting: rng.below(4),
            boundary_length: rng.below(5),
        };
        let mut walker = Walker::new(options, limits);
        let mut events = 0usize;
        for _ in 0..rng.below(60) {
            let record = random_record(&mut rng);
            walker.update(&record, rng.below(4) != 0, &mut |_| events += 1);
        }
        walker.finish(&mut |_| events += 1);
        walker.update(b"after", true, &mut |_| panic!("event after finish"));
        assert!(events >= 1);
    }
}
