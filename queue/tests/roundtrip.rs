//! Write a queue file with the Writer, read it back with QueueFile: the
//! envelope, recipients, content and extracted section come back exactly.

mod support;

use std::fs;
use std::os::unix::fs::MetadataExt;

use queue::envelope::attr;
use queue::reader::{ContentRecord, Extracted};
use queue::record::MAX_PAYLOAD;
use queue::{Notify, QueueFile, QueueName, Recipient, writer};

use support::{at, spool, version_1};

fn message(q: &QueueFile, eol: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    q.content().write_to(&mut out, eol).expect("content");
    out
}

#[test]
fn envelope_content_and_extracted_come_back() {
    let s = spool();
    let c = s.sample();
    let q = QueueFile::read(s.incoming(&c)).expect("valid");
    assert_eq!(q.id(), Some(c.id.clone()));
    assert_eq!(q.version, 2);
    let env = &q.envelope;
    assert_eq!(env.arrival, at(1_700_000_000, 123_456));
    assert_eq!(env.sender, "alice@example.org");
    assert_eq!(env.attribute(attr::CLIENT_ADDRESS), Some("192.0.2.1"));
    assert_eq!(env.attribute(attr::HELO_NAME), None);
    let names: Vec<&str> = env.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["client_name", "client_address", "protocol_name"]);

    let rcpts: Vec<(&str, bool, bool)> = q
        .recipients
        .iter()
        .map(|r| (r.recipient.address.as_str(), r.done, r.extracted))
        .collect();
    assert_eq!(
        rcpts,
        [
            ("bob@example.net", false, false),
            ("carol@example.net", false, false),
            ("bcc@example.org", false, true)
        ]
    );
    let carol = &q.recipients[1].recipient;
    assert_eq!(carol.original, "Carol@Example.NET");
    assert_eq!(carol.notify, Notify::SUCCESS | Notify::FAILURE);
    assert_eq!(carol.orcpt.as_deref(), Some("rfc822;Carol@Example.NET"));
    assert_eq!(
        q.extracted,
        Extracted {
            filter: Some("smtp:[127.0.0.1]:10025".into()),
            ..Extracted::default()
        }
    );

    let text = b"Subject: hello\r\nX-Long: start and end\r\n\r\nbody \xe4\x00 line\r\n\r\n";
    assert_eq!(message(&q, b"\r\n"), text);
    let lf_size = text.len() as u64 - 5;
    assert_eq!((c.size, env.content_size), (lf_size, lf_size));
    let records: Vec<ContentRecord> = q.content().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 6);
    assert_eq!(records[3], ContentRecord::HeaderEnd);
}

#[test]
fn queue_file_is_private_and_named_by_arrival_and_inode() {
    let s = spool();
    let c = s.sample();
    let meta = fs::metadata(s.incoming(&c)).expect("stat");
    assert_eq!(meta.mode() & 0o777, 0o600);
    assert_eq!(c.id.inode(), meta.ino());
    assert_eq!(c.id.arrival(), at(1_700_000_000, 123_456));
    assert_eq!(s.incoming_names(), [c.id.to_string()]);
}

#[test]
fn long_lines_are_split_into_partial_records_and_joined_again() {
    let s = spool();
    let long: Vec<u8> = (0..3 * MAX_PAYLOAD + 17).map(|i| (i % 251) as u8).collect();
    let mut w = s.writer(at(1, 0));
    w.sender("").expect("sender");
    w.recipient(&Recipient::new("x@y")).expect("rcpt");
    w.line(b"H: v", true).expect("line");
    w.end_headers().expect("header end");
    w.line(&long[..10], false).expect("first piece");
    w.line(&long[10..], true).expect("rest");
    w.line(&long, false).expect("unterminated last line");
    let c = w.finish().expect("finish");

    let q = QueueFile::read(s.incoming(&c)).expect("valid");
    let mut expected = b"H: v\n\n".to_vec();
    expected.extend_from_slice(&long);
    expected.push(b'\n');
    expected.extend_from_slice(&long);
    assert_eq!(message(&q, b"\n"), expected);
    assert_eq!(c.size, expected.len() as u64);
    let records: Vec<ContentRecord> = q.content().map(|r| r.expect("record")).collect();
    let partial = records
        .iter()
        .filter(|r| {
            matches!(
                r,
                ContentRecord::Line {
                    complete: false,
                    ..
                }
            )
        })
        .count();
    // 10 bytes, then 3 full records + 1 for the rest of the first line;
    // 4 partial records for the unterminated one.
    assert_eq!(partial, 1 + 3 + 4);
    assert!(records.iter().all(|r| match r {
        ContentRecord::Line { bytes, .. } => bytes.len() <= MAX_PAYLOAD,
        ContentRecord::HeaderEnd => true,
    }));
}

#[test]
fn empty_content_and_header_only_messages() {
    let s = spool();
    let mut w = s.writer(at(2, 0));
    w.sender("a@b").expect("sender");
    w.recipient(&Recipient::new("c@d")).expect("rcpt");
    let c = w.finish().expect("finish");
    let q = QueueFile::read(s.incoming(&c)).expect("valid");
    assert_eq!((c.size, q.content().count()), (0, 0));
    assert!(message(&q, b"\r\n").is_empty());

    let mut w = s.writer(at(2, 0));
    w.sender("a@b").expect("sender");
    w.recipient(&Recipient::new("c@d")).expect("rcpt");
    w.line(b"Subject: only a header", true).expect("line");
    w.end_headers().expect("header end");
    let c = w.finish().expect("finish");
    let q = QueueFile::read(s.incoming(&c)).expect("valid");
    assert_eq!(message(&q, b"\r\n"), b"Subject: only a header\r\n\r\n");
    assert_eq!(c.size, 24);
}

#[test]
fn binary_content_survives_byte_for_byte() {
    let s = spool();
    let mut w = s.writer(at(3, 0));
    w.sender("a@b").expect("sender");
    w.recipient(&Recipient::new("c@d")).expect("rcpt");
    let lines: Vec<Vec<u8>> = (0u8..=255).map(|b| vec![b, b'\r', 0, 0xff, b]).collect();
    lines.iter().for_each(|l| w.line(l, true).expect("line"));
    let c = w.finish().expect("finish");
    let q = QueueFile::read(s.incoming(&c)).expect("valid");
    let got: Vec<Vec<u8>> = q
        .content()
        .map(|r| match r.expect("record") {
            ContentRecord::Line {
                bytes,
                complete: true,
            } => bytes,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, lines);
}

#[test]
fn hold_redirect_and_extracted_recipients() {
    let s = spool();
    let mut w = s.writer(at(4, 0));
    w.sender("a@b").expect("sender");
    w.recipient(&Recipient::new("c@d")).expect("rcpt");
    w.line(b"x", true).expect("line");
    w.hold("header_checks: spam").expect("hold");
    w.redirect("abuse@example.org").expect("redirect");
    w.recipient(&Recipient::new("archive@example.org"))
        .expect("bcc");
    let c = w.finish().expect("finish");
    let q = QueueFile::read(s.incoming(&c)).expect("valid");
    assert_eq!(q.extracted.hold.as_deref(), Some("header_checks: spam"));
    assert_eq!(q.extracted.redirect.as_deref(), Some("abuse@example.org"));
    assert_eq!(q.extracted.filter, None);
    assert!(q.recipients[1].extracted);
}

#[test]
fn done_flip_is_seen_by_the_reader_and_keeps_the_file_valid() {
    let s = spool();
    let c = s.sample();
    let path = s.incoming(&c);
    let q = QueueFile::read(&path).expect("valid");
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    writer::mark_done(&file, &path, q.recipients[1].offset).expect("done");
    writer::mark_done(&file, &path, q.recipients[2].offset).expect("done");
    let q = QueueFile::read(&path).expect("still valid");
    let done: Vec<bool> = q.recipients.iter().map(|r| r.done).collect();
    assert_eq!(done, [false, true, true]);
    let pending: Vec<&str> = q.pending().map(|r| r.recipient.address.as_str()).collect();
    assert_eq!(pending, ["bob@example.net"]);
}

#[test]
fn memory_parse_agrees_with_file_read() {
    let s = spool();
    let c = s.sample();
    let path = s.incoming(&c);
    let from_file = QueueFile::read(&path).expect("valid");
    let from_memory = QueueFile::parse(fs::read(&path).expect("read")).expect("valid");
    assert_eq!(from_memory.envelope, from_file.envelope);
    assert_eq!(from_memory.recipients, from_file.recipients);
    assert_eq!(from_memory.extracted, from_file.extracted);
    assert_eq!(message(&from_memory, b"\n"), message(&from_file, b"\n"));
    assert_eq!(from_memory.id(), None);
}

#[test]
fn files_move_between_queues_by_rename() {
    let s = spool();
    let c = s.sample();
    let active = s.dirs.path(QueueName::Active, &c.id);
    fs::rename(s.incoming(&c), &active).expect("rename");
    let q = QueueFile::read(&active).expect("valid");
    assert_eq!(q.id(), Some(c.id));
}

#[test]
fn version_1_files_are_still_read() {
    let s = spool();
    let c = s.sample();
    let path = s.incoming(&c);
    let current = QueueFile::read(&path).expect("valid");
    fs::write(&path, version_1(&fs::read(&path).expect("read"))).expect("write");
    let old = QueueFile::read(&path).expect("valid version 1");
    assert_eq!((old.version, current.version), (1, 2));
    assert_eq!(old.envelope, current.envelope);
    assert_eq!(old.recipients, current.recipients);
    assert_eq!(old.extracted, current.extracted);
    assert_eq!(old.content_range(), current.content_range());
    assert_eq!(message(&old, b"\n"), message(&current, b"\n"));

    // The done flip leaves a version 1 file valid.
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    writer::mark_done(&file, &path, old.recipients[0].offset).expect("done");
    let done = QueueFile::read(&path).expect("still valid");
    assert!(done.recipients[0].done);
}
