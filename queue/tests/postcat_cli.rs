//! postcat against Postfix 3.7's postcat fixtures (tests/fixtures/postcat,
//! from `src/postcat` of the Postfix source). Postfix's sample queue file
//! is in Postfix's format, which we do not read; so each case runs on an
//! equivalent file written with our Writer, and the expected output is
//! the fixture's with two lines adjusted: `message_size:` shows our
//! numbers, and `sender_fullname:` is gone (we have no full-name record).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use queue::envelope::attr;
use queue::reader::QueueFile;
use queue::{Notify, Recipient, writer};

use support::{Spool, at, spool, version_1};

const POSTCAT: &str = env!("CARGO_BIN_EXE_postcat");
/// The fixtures' TZ=America/New_York as a rule, so no zoneinfo is needed.
const TZ: &str = "EST5EDT,M3.2.0,M11.1.0";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/postcat")
        .join(name)
}

/// A scratch directory with `cf/main.cf` pointing at the spool.
fn config(s: &Spool) -> PathBuf {
    let cf = s.tmp.path().join("cf");
    fs::create_dir_all(&cf).expect("cf");
    let main_cf = format!("queue_directory = {}\n", s.dirs.root().display());
    fs::write(cf.join("main.cf"), main_cf).expect("main.cf");
    cf
}

fn postcat(s: &Spool, args: &[&str], stdin: Option<&Path>) -> Output {
    let stdin = match stdin {
        Some(path) => Stdio::from(fs::File::open(path).expect("stdin file")),
        None => Stdio::null(),
    };
    Command::new(POSTCAT)
        .args(args)
        .current_dir(s.tmp.path())
        .env("MAIL_CONFIG", config(s))
        .env("TZ", TZ)
        .env_remove("TZDIR")
        .stdin(stdin)
        .output()
        .expect("run postcat")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Postfix's sample message, written by us to `test-queue-file`.
fn fixture_equivalent(s: &Spool) -> QueueFile {
    let mut w = s.writer(at(1_169_404_379, 306_437));
    w.attribute(attr::CREATE_TIME, "1169404388").expect("attr");
    w.attribute(attr::REWRITE_CONTEXT, "local").expect("attr");
    w.sender("me@porcupine.org").expect("sender");
    let header: [&[u8]; 7] = [
        b"Received: by hades.porcupine.org (Postfix, from userid 1001)",
        b"\tid DE040290405; Sun, 21 Jan 2007 13:33:08 -0500 (EST)",
        b"From: me@porcupine.org",
        b"To: you@porcupine.org",
        b"Message-Id: <20060725192735.5EC2D29013F@hades.porcupine.org>",
        b"Date: Tue, 25 Jul 2006 15:27:19 -0400 (EDT)",
        b"Subject: hey!",
    ];
    header.iter().for_each(|l| w.line(l, true).expect("line"));
    w.end_headers().expect("header end");
    w.line(b"text", true).expect("line");
    w.begin_extracted().expect("extracted");
    w.recipient(&Recipient::new("you@porcupine.org"))
        .expect("rcpt");
    let c = w.finish().expect("finish");
    let path = s.tmp.path().join("test-queue-file");
    fs::copy(s.incoming(&c), &path).expect("copy");
    QueueFile::read(&path).expect("valid")
}

fn expected(reference: &str, q: &QueueFile) -> String {
    let size = format!(
        "message_size: {:15} {:15} {:15} {:15} {:15}",
        q.envelope.content_size,
        q.content_range().start,
        q.recipients.len(),
        0,
        q.envelope.content_size
    );
    let text = fs::read_to_string(fixture(reference)).expect("fixture");
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("sender_fullname: "))
        .map(|l| match l.starts_with("message_size: ") {
            true => size.clone(),
            false => l.to_string(),
        })
        .collect();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn output_has_the_shape_of_postfix_fixtures() {
    let s = spool();
    let q = fixture_equivalent(&s);
    let cases: [(&[&str], &str); 8] = [
        (&[], "default_test.ref"),
        (&["-ebh"], "default_test.ref"),
        (&["-e"], "e_test.ref"),
        (&["-b"], "b_test.ref"),
        (&["-h"], "h_test.ref"),
        (&["-eb"], "eb_test.ref"),
        (&["-eh"], "eh_test.ref"),
        (&["-bh"], "bh_test.ref"),
    ];
    for (flags, reference) in cases {
        let mut args = flags.to_vec();
        args.push("test-queue-file");
        let out = postcat(&s, &args, None);
        assert_eq!(text(&out.stderr), "", "{args:?}");
        assert_eq!(text(&out.stdout), expected(reference, &q), "{args:?}");
        assert!(out.status.success(), "{args:?}");
    }
}

#[test]
fn postfix_queue_files_are_not_valid_input() {
    let s = spool();
    let path = s.tmp.path().join("test-queue-file");
    fs::copy(fixture("test-queue-file"), &path).expect("copy");
    let out = postcat(&s, &["test-queue-file", "test-queue-file"], None);
    let warning = "postcat: warning: test-queue-file: input is not a valid queue file\n";
    assert_eq!(text(&out.stderr), warning.repeat(2));
    assert_eq!(text(&out.stdout), "");
    assert!(out.status.success());
}

#[test]
fn dsn_done_and_extracted_records() {
    let s = spool();
    let mut w = s.writer(at(1_169_404_379, 0));
    w.sender("").expect("sender");
    w.recipient(&Recipient {
        address: "a@example.org".into(),
        original: "A@example.org".into(),
        notify: Notify::SUCCESS | Notify::DELAY,
        orcpt: Some("rfc822;A@example.org".into()),
    })
    .expect("rcpt");
    w.recipient(&Recipient::new("b@example.org")).expect("rcpt");
    w.line(b"Subject: x", true).expect("line");
    w.hold("check_recipient_access: held").expect("hold");
    w.filter("smtp:[127.0.0.1]:10025").expect("filter");
    w.redirect("c@example.org").expect("redirect");
    let c = w.finish().expect("finish");
    let path = s.incoming(&c);
    let q = QueueFile::read(&path).expect("valid");
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    writer::mark_done(&file, &path, q.recipients[0].offset).expect("done");
    let id = c.id.as_str();
    let out = postcat(&s, &["-q", "-e", id], None);
    let name = format!("incoming/{id}");
    let want = format!(
        "*** ENVELOPE RECORDS {name} ***\n\
         message_size: {:15} {:15} {:15} {:15} {:15}\n\
         message_arrival_time: Sun Jan 21 13:32:59 2007\n\
         sender: \n\
         named_attribute: notify_flags=10\n\
         named_attribute: dsn_orig_rcpt=rfc822;A@example.org\n\
         original_recipient: A@example.org\n\
         done_recipient: a@example.org\n\
         original_recipient: b@example.org\n\
         recipient: b@example.org\n\
         *** MESSAGE CONTENTS {name} ***\n\
         *** HEADER EXTRACTED {name} ***\n\
         hold_reason: check_recipient_access: held\n\
         content_filter: smtp:[127.0.0.1]:10025\n\
         redirect_to: c@example.org\n\
         *** MESSAGE FILE END {name} ***\n",
        c.size,
        q.content_range().start,
        2,
        0,
        c.size
    );
    assert_eq!(text(&out.stderr), "");
    assert_eq!(text(&out.stdout), want);
}

#[test]
fn offsets_types_stdin_and_start_offset() {
    let s = spool();
    let q = fixture_equivalent(&s);
    let out = postcat(&s, &["-ode", "test-queue-file"], None);
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "*** ENVELOPE RECORDS test-queue-file ***");
    assert!(
        lines[1].starts_with("       11  67 message_size: "),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "       40  84 message_arrival_time: Sun Jan 21 13:32:59 2007"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.ends_with(" 69 *** MESSAGE FILE END test-queue-file ***"))
    );

    let path = s.tmp.path().join("test-queue-file");
    let out = postcat(&s, &["-e"], Some(&path));
    assert!(text(&out.stdout).starts_with("*** ENVELOPE RECORDS stdin ***\n"));

    let rcpt = q.recipients[0].offset.to_string();
    let out = postcat(&s, &["-e", "-s", &rcpt, "test-queue-file"], None);
    assert_eq!(
        text(&out.stdout),
        "original_recipient: you@porcupine.org\n\
         recipient: you@porcupine.org\n\
         *** MESSAGE FILE END test-queue-file ***\n"
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn damage_ends_the_output_with_postfix_errors() {
    let s = spool();
    let q = fixture_equivalent(&s);
    let path = s.tmp.path().join("test-queue-file");
    let cut = q.content_range().start + 20;
    let bytes = fs::read(&path).expect("read");
    fs::write(&path, &bytes[..cut as usize]).expect("truncate");
    let out = postcat(&s, &["test-queue-file"], None);
    assert!(text(&out.stdout).ends_with("*** MESSAGE CONTENTS test-queue-file ***\n"));
    assert_eq!(
        text(&out.stderr),
        format!(
            "postcat: warning: test-queue-file: offset {}: unexpected end of file inside a record\n\
             postcat: fatal: record read error\n",
            q.content_range().start
        )
    );
    assert_eq!(out.status.code(), Some(1));

    // Cut between records: no end record.
    fs::write(&path, &bytes[..bytes.len() - 13]).expect("truncate");
    let out = postcat(&s, &["-e", "test-queue-file"], None);
    assert_eq!(
        text(&out.stderr),
        "postcat: warning: test-queue-file: premature end of file: no message_end record\n"
    );
    assert!(out.status.success());
}

#[test]
fn other_versions_and_verbose_output() {
    let s = spool();
    fixture_equivalent(&s);
    let path = s.tmp.path().join("test-queue-file");
    let out = postcat(&s, &["-v", "-h", "test-queue-file"], None);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("regular_text: Received: by hades"),
        "{stdout}"
    );
    let out = postcat(&s, &["-v", "-e", "test-queue-file"], None);
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[1], "queue_file_version: 2");

    let mut bytes = fs::read(&path).expect("read");
    bytes[10] = 3;
    fs::write(&path, &bytes).expect("write");
    let out = postcat(&s, &["test-queue-file"], None);
    assert_eq!(
        text(&out.stderr),
        "postcat: warning: test-queue-file: unsupported queue file version 3\n"
    );
    assert!(out.stdout.is_empty() && out.status.success());
}

#[test]
fn version_1_files_are_printed_and_checked() {
    let s = spool();
    let q = fixture_equivalent(&s);
    let path = s.tmp.path().join("test-queue-file");
    let current = postcat(&s, &["-v", "test-queue-file"], None);
    let v1 = version_1(&fs::read(&path).expect("read"));
    fs::write(&path, &v1).expect("write");

    let out = postcat(&s, &["test-queue-file"], None);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(text(&out.stdout), expected("default_test.ref", &q));
    assert!(out.status.success());
    let out = postcat(&s, &["-v", "test-queue-file"], None);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        text(&out.stdout),
        text(&current.stdout).replace("queue_file_version: 2", "queue_file_version: 1")
    );

    let mut damaged = v1;
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    fs::write(&path, &damaged).expect("write");
    let out = postcat(&s, &["test-queue-file"], None);
    assert_eq!(
        text(&out.stderr),
        "postcat: warning: test-queue-file: checksum mismatch\n"
    );
    assert!(out.status.success());
}

#[test]
fn damaged_files_never_crash_postcat() {
    let s = spool();
    fixture_equivalent(&s);
    let path = s.tmp.path().join("test-queue-file");
    let good = fs::read(&path).expect("read");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..100 {
        let mut bytes = good.clone();
        for _ in 0..1 + round % 4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed % bytes.len() as u64) as usize;
            bytes[i] = (seed >> 32) as u8;
        }
        fs::write(&path, &bytes).expect("write");
        let out = postcat(&s, &["-v", "test-queue-file"], None);
        let stderr = text(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "round {round}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "round {round}: {stderr}");
    }
}

#[test]
fn errors_and_exit_codes_as_postfix() {
    let s = spool();
    let usage = "postcat: fatal: usage: postcat [-b (body text)] [-c config_dir] \
                 [-d (decimal record type)] [-e (envelope records)] [-h (header text)] \
                 [-q (access queue)] [-v] [file(s)...]\n";
    let cases: [(&[&str], String); 7] = [
        (
            &["-q", "ABCDEF"],
            "postcat: fatal: open queue file ABCDEF: No such file or directory\n".into(),
        ),
        (
            &["-q", "../x"],
            "postcat: fatal: bad mail queue ID: ../x\n".into(),
        ),
        (
            &["/nonexistent"],
            "postcat: fatal: open /nonexistent: No such file or directory\n".into(),
        ),
        (&["-x"], format!("postcat: invalid option -- 'x'\n{usage}")),
        (
            &["-s"],
            format!("postcat: option requires an argument -- 's'\n{usage}"),
        ),
        (
            &["-s", "abc", "x"],
            "postcat: fatal: bad offset: abc\n".into(),
        ),
        (
            &["-c", "/nonexistent", "x"],
            "postcat: fatal: open /nonexistent/main.cf: No such file or directory\n".into(),
        ),
    ];
    for (args, stderr) in cases {
        let out = postcat(&s, args, None);
        assert_eq!(text(&out.stderr), stderr, "{args:?}");
        assert_eq!(text(&out.stdout), "", "{args:?}");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
    let out = postcat(&s, &[], None);
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
}
