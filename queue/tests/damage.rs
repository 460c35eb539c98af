//! Crash safety and untrusted input: a file that was never committed, or
//! was cut short, or has any byte changed, is rejected; random bytes are
//! rejected; nothing panics. A deterministic PRNG stands in for a fuzzer
//! so the test is reproducible and runs with `cargo test`.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use queue::reader::{self, ContentRecord};
use queue::{Corruption, Error, QueueFile, QueueId, QueueName, RecordType};

use support::{at, spool, version_1};

/// xorshift64*: small, deterministic, good enough to pick bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sample_bytes() -> Vec<u8> {
    let s = spool();
    let c = s.sample();
    fs::read(s.incoming(&c)).expect("read")
}

#[test]
fn the_sample_is_valid() {
    assert!(QueueFile::parse(sample_bytes()).is_ok());
}

#[test]
fn a_file_without_end_record_is_incomplete() {
    let bytes = sample_bytes();
    // The end record is the last 13 bytes: header and checksum.
    let cut = bytes[..bytes.len() - 13].to_vec();
    assert_eq!(
        QueueFile::parse(cut).map(|_| ()),
        Err(Corruption::Missing(RecordType::End))
    );
}

#[test]
fn every_truncation_is_rejected() {
    let bytes = sample_bytes();
    for len in 0..bytes.len() {
        let result = QueueFile::parse(bytes[..len].to_vec());
        assert!(result.is_err(), "accepted a file cut at {len}");
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let current = sample_bytes();
    for bytes in [version_1(&current), current] {
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[i] ^= 1 << bit;
                let result = QueueFile::parse(damaged);
                assert!(result.is_err(), "accepted a flip of bit {bit} at {i}");
            }
        }
    }
}

#[test]
fn a_version_1_file_with_a_wrong_checksum_is_rejected() {
    let current = sample_bytes();
    let mut v1 = version_1(&current);
    assert!(QueueFile::parse(v1.clone()).is_ok());
    let last = v1.len() - 1;
    v1[last] ^= 1;
    assert_eq!(QueueFile::parse(v1).map(|_| ()), Err(Corruption::Checksum));
    // Each version's checksum is checked with its own hash.
    let mut relabeled = current;
    relabeled[10] = 1;
    assert_eq!(
        QueueFile::parse(relabeled).map(|_| ()),
        Err(Corruption::Checksum)
    );
}

#[test]
fn unknown_versions_are_refused() {
    for version in [0, 3, 0x0102] {
        let mut bytes = sample_bytes();
        bytes[9..11].copy_from_slice(&u16::to_be_bytes(version));
        assert_eq!(
            QueueFile::parse(bytes).map(|_| ()),
            Err(Corruption::Version(version))
        );
    }
}

#[test]
fn random_damage_and_random_bytes_never_pass_or_panic() {
    let bytes = sample_bytes();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..20_000 {
        let mut damaged = bytes.clone();
        match round % 4 {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(damaged.len());
                    damaged[i] = rng.next() as u8;
                }
            }
            1 => {
                let i = rng.below(damaged.len());
                damaged.insert(i, rng.next() as u8);
            }
            2 => {
                let i = rng.below(damaged.len());
                damaged.remove(i);
            }
            _ => {
                // Random bytes behind a valid start, or none at all.
                let keep = rng.below(bytes.len());
                damaged.truncate(if round % 8 == 3 { keep } else { 0 });
                damaged.extend((0..rng.below(600)).map(|_| rng.next() as u8));
            }
        }
        if damaged == bytes {
            continue;
        }
        // A random byte may land where it changes nothing only if it
        // rewrote a byte with its own value; every other change fails.
        assert!(QueueFile::parse(damaged).is_err(), "round {round} accepted");
    }
}

#[test]
fn huge_lengths_are_refused_before_reading() {
    let mut bytes = sample_bytes();
    bytes.truncate(11);
    bytes.extend_from_slice(b"C\xff\xff\xff\xf0");
    assert!(matches!(
        QueueFile::parse(bytes),
        Err(Corruption::TooLong { offset: 11, .. })
    ));
}

/// A crash before commit leaves no name at all (an unnamed `O_TMPFILE`
/// file) or a temporary name that is no queue ID and reads as incomplete.
#[test]
fn a_crash_before_commit_leaves_no_queue_file_name() {
    let s = spool();
    let mut w = s.writer(at(5, 0));
    w.sender("a@b").expect("sender");
    w.line(b"x", true).expect("line");
    // A crash: no Drop, no finish.
    std::mem::forget(w);
    for name in s.incoming_names() {
        assert!(name.starts_with('.'));
        assert!(name.parse::<QueueId>().is_err());
        let path = s.dirs.dir(QueueName::Incoming).join(&name);
        let err = QueueFile::read(&path).expect_err("incomplete");
        assert!(
            matches!(err.corruption(), Some(Corruption::Missing(_))),
            "{err}"
        );
    }
}

#[test]
fn temporary_names_are_never_queue_ids() {
    let s = spool();
    let writers: Vec<_> = (0..50).map(|_| s.writer(at(6, 0))).collect();
    for name in &s.incoming_names() {
        assert!(name.starts_with('.'), "{name}");
        assert!(name.parse::<QueueId>().is_err(), "{name}");
    }
    drop(writers);
    assert!(s.incoming_names().is_empty());
}

#[test]
fn damaged_files_are_quarantined_with_postfix_log_lines() {
    let s = spool();
    let c = s.sample();
    let active = s.dirs.path(QueueName::Active, &c.id);
    fs::rename(s.incoming(&c), &active).expect("to active");
    let mut bytes = fs::read(&active).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    fs::write(&active, &bytes).expect("damage");

    let err = QueueFile::read(&active).expect_err("damaged");
    let damage = err.corruption().expect("corruption").clone();
    assert_eq!(damage, Corruption::Checksum);
    let moved = reader::quarantine(&s.dirs, &active, &damage).expect("quarantine");
    assert!(!active.exists());
    assert_eq!(moved.to, s.dirs.path(QueueName::Corrupt, &c.id));
    assert!(moved.to.exists());
    let id = c.id.as_str();
    assert_eq!(
        moved.log_lines(),
        [
            format!("{id}: checksum mismatch"),
            format!("saving corrupt file \"{id}\" from queue \"active\" to queue \"corrupt\"")
        ]
    );
    let temp = s.dirs.dir(QueueName::Incoming).join(".123.4");
    assert!(reader::quarantine(&s.dirs, &temp, &damage).is_err());
}

#[test]
fn symlinks_are_not_followed() {
    let s = spool();
    let c = s.sample();
    let link = s.dirs.dir(QueueName::Active).join("link");
    std::os::unix::fs::symlink(s.incoming(&c), &link).expect("symlink");
    assert!(matches!(QueueFile::read(&link), Err(Error::Io { .. })));
}

#[test]
fn a_file_changed_after_validation_gives_errors_not_panics() {
    let s = spool();
    let c = s.sample();
    let path = s.incoming(&c);
    let q = QueueFile::read(&path).expect("valid");
    let range = q.content_range();
    // Cut the file in the middle of the content.
    let f = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    f.set_len(range.start + 8).expect("truncate");
    let results: Vec<Result<ContentRecord, Error>> = q.content().collect();
    assert!(results.last().is_some_and(|r| r.is_err()), "{results:?}");
    // And overwritten with garbage.
    fs::write(&path, vec![b'Z'; range.end as usize]).expect("garbage");
    let results: Vec<Result<ContentRecord, Error>> = q.content().collect();
    assert_eq!(results.len(), 1);
    assert!(results[0].is_err());
}

#[test]
fn unreadable_files_are_io_errors_not_corruption() {
    let s = spool();
    let c = s.sample();
    let path = s.incoming(&c);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).expect("chmod");
    match QueueFile::read(&path) {
        // Root reads anything.
        Ok(_) => {}
        Err(e) => assert!(matches!(e, Error::Io { op: "open", .. }), "{e}"),
    }
    let missing = QueueFile::read(s.dirs.dir(QueueName::Hold).join("nothing"));
    assert!(matches!(missing, Err(Error::Io { op: "open", .. })));
}
