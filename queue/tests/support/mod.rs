//! Helpers shared by the integration tests: a scratch queue directory,
//! a typical message written through the public API, and the same file
//! in format version 1.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use queue::envelope::attr;
use queue::record::{self, Checksum, RecordType};
use queue::{Committed, Committer, Notify, QueueDirs, QueueName, Recipient, Writer};

/// A queue directory tree in a temporary directory.
pub struct Spool {
    pub tmp: tempfile::TempDir,
    pub dirs: QueueDirs,
    pub committer: Committer,
}

pub fn spool() -> Spool {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dirs = QueueDirs::new(tmp.path().join("queue"));
    dirs.create_all().expect("queue dirs");
    Spool {
        tmp,
        dirs,
        committer: Committer::new(),
    }
}

pub fn at(secs: u64, usecs: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, usecs * 1000)
}

impl Spool {
    pub fn writer(&self, arrival: SystemTime) -> Writer {
        Writer::create(&self.dirs, &self.committer, arrival).expect("create")
    }

    pub fn incoming(&self, c: &Committed) -> PathBuf {
        self.dirs.path(QueueName::Incoming, &c.id)
    }

    /// File names in `incoming/`, sorted.
    pub fn incoming_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dirs.dir(QueueName::Incoming))
            .expect("readdir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A small message with every kind of record.
    pub fn sample(&self) -> Committed {
        let mut w = self.writer(at(1_700_000_000, 123_456));
        w.attribute(attr::CLIENT_NAME, "mail.example.org")
            .expect("attr");
        w.attribute(attr::CLIENT_ADDRESS, "192.0.2.1")
            .expect("attr");
        w.attribute(attr::PROTOCOL_NAME, "ESMTP").expect("attr");
        w.sender("alice@example.org").expect("sender");
        w.recipient(&Recipient::new("bob@example.net"))
            .expect("rcpt");
        w.recipient(&Recipient {
            address: "carol@example.net".into(),
            original: "Carol@Example.NET".into(),
            notify: Notify::SUCCESS | Notify::FAILURE,
            orcpt: Some("rfc822;Carol@Example.NET".into()),
        })
        .expect("rcpt");
        w.begin_content().expect("content");
        w.line(b"Subject: hello", true).expect("line");
        w.line(b"X-Long: start", false).expect("line");
        w.line(b" and end", true).expect("line");
        w.end_headers().expect("header end");
        w.line(b"body \xe4\x00 line", true).expect("line");
        w.line(b"", true).expect("line");
        w.begin_extracted().expect("extracted");
        w.filter("smtp:[127.0.0.1]:10025").expect("filter");
        w.recipient(&Recipient::new("bcc@example.org"))
            .expect("bcc");
        w.finish().expect("finish")
    }
}

/// A current queue file rewritten in format version 1: the same records,
/// with version 1 in the version record and a version 1 (FNV-1a) end
/// record, as the previous release wrote them.
pub fn version_1(current: &[u8]) -> Vec<u8> {
    let mut reader = record::Reader::new(current);
    let mut out = Vec::new();
    let mut sum = Checksum::for_version(1);
    while let Some(rec) = reader.next_record().expect("a valid file") {
        let payload = match rec.kind {
            RecordType::Version => b"MTAQ\0\x01".to_vec(),
            RecordType::End => sum.value().to_be_bytes().to_vec(),
            _ => rec.payload.to_vec(),
        };
        sum.add(rec.kind, &payload);
        record::write(&mut out, rec.kind, &payload).expect("write");
    }
    out
}
