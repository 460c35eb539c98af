//! An acknowledged queue file survives a power loss: the queue lives on a
//! loop-mounted ext4 file system without a journal (the hardest case:
//! nothing but our own syncs orders the writes), messages are committed,
//! and a copy of the image taken right after the last commit is what the
//! disk would hold had the power gone then. After `e2fsck -p` (what a
//! boot runs), every committed file must be there, byte for byte.
//!
//! This found a real loss: a file synced before it was linked keeps a
//! link count of 0 on disk (the link's inode update stays in memory), and
//! e2fsck then clears the directory entry naming it.
//!
//! Needs root (mount) and e2fsprogs; skipped otherwise, except that the
//! programs are required under `CI=true`.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use nix::unistd::Uid;
use queue::{Committer, QueueDirs, QueueName, Recipient, Writer};

/// Unmounts the image when the test ends, however it ends (lazily: the
/// committer's threads may still hold a directory open).
struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

fn run(program: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One message of `lines` body lines; the file's bytes once committed.
fn commit(dirs: &QueueDirs, committer: &Committer, n: usize, lines: usize) -> (String, Vec<u8>) {
    let mut w = Writer::create(dirs, committer, SystemTime::now()).expect("create");
    w.sender("alice@example.org").expect("sender");
    w.recipient(&Recipient::new("bob@example.net"))
        .expect("recipient");
    w.begin_content().expect("content");
    w.line(format!("Subject: message {n}").as_bytes(), true)
        .expect("line");
    w.end_headers().expect("headers");
    for i in 0..lines {
        w.line(format!("line {i} of message {n}").as_bytes(), true)
            .expect("line");
    }
    let committed = w.finish().expect("commit");
    let id = committed.id.to_string();
    let bytes = fs::read(dirs.path(QueueName::Incoming, &committed.id)).expect("read");
    (id, bytes)
}

#[test]
fn committed_files_survive_a_power_loss_on_ext4_without_a_journal() {
    if !Uid::effective().is_root() {
        eprintln!("skipped: needs root (mount)");
        return;
    }
    let mkfs = e2e::require_peer!("mkfs.ext4");
    let e2fsck = e2e::require_peer!("e2fsck");
    let debugfs = e2e::require_peer!("debugfs");
    let tmp = tempfile::tempdir().expect("tempdir");
    let image = tmp.path().join("fs.img");
    let crashed = tmp.path().join("crashed.img");
    let mnt = tmp.path().join("mnt");
    fs::create_dir(&mnt).expect("mkdir");
    fs::File::create(&image)
        .and_then(|f| f.set_len(64 << 20))
        .expect("image");
    let image_arg = image.to_str().expect("utf-8 path");
    run(&mkfs, &["-q", "-F", "-O", "^has_journal", image_arg]);
    let mnt_arg = mnt.to_str().expect("utf-8 path");
    run(Path::new("mount"), &["-o", "loop", image_arg, mnt_arg]);
    let mounted = Mounted(&mnt);

    let dirs = QueueDirs::new(mnt.join("spool"));
    dirs.create_all().expect("queue dirs");
    // The directories themselves are not what this test is about.
    run(Path::new("sync"), &["-f", mnt_arg]);

    let committer = Committer::new();
    let mut committed: Vec<(String, Vec<u8>)> = (0..12)
        .map(|n| commit(&dirs, &committer, n, n * 40))
        .collect();
    // And a few at once, as concurrent sessions commit them.
    committed.extend(std::thread::scope(|s| {
        let handles: Vec<_> = (12..20)
            .map(|n| {
                let (dirs, committer) = (&dirs, &committer);
                s.spawn(move || commit(dirs, committer, n, 3))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect::<Vec<_>>()
    }));
    // The power goes: the disk holds what was written to it, nothing of
    // what is still only in memory.
    fs::copy(&image, &crashed).expect("copy the image");
    drop(mounted);

    let crashed_arg = crashed.to_str().expect("utf-8 path");
    let fsck = Command::new(&e2fsck)
        .args(["-f", "-p", crashed_arg])
        .output()
        .expect("e2fsck");
    // 0: clean; 1: errors corrected. Anything else needs a human.
    assert!(
        matches!(fsck.status.code(), Some(0 | 1)),
        "e2fsck -p: {:?}\n{}",
        fsck.status,
        String::from_utf8_lossy(&fsck.stdout)
    );
    let out = tmp.path().join("out");
    for (id, bytes) in &committed {
        let _ = fs::remove_file(&out);
        let request = format!("dump /spool/incoming/{id} {}", out.display());
        run(&debugfs, &["-R", &request, crashed_arg]);
        let found = fs::read(&out).unwrap_or_default();
        assert!(
            &found == bytes,
            "{id}: {} bytes after the power loss, {} committed\ne2fsck said:\n{}",
            found.len(),
            bytes.len(),
            String::from_utf8_lossy(&fsck.stdout)
        );
    }
}
