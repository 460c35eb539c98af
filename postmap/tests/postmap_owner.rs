//! Root runs postmap on a source owned by someone else, in a directory
//! that owner can use but cannot reach from `/` (a parent is 0700 root).
//! postmap switches to the owner before it builds, as Postfix does, and
//! must still build every table type: Postfix opens the table by the
//! name given, relative to the current directory, and so must we
//! (regression: heed opened LMDB files by their absolute path, and the
//! lmdb build failed with `write ./map.lmdb.N.tmp: Permission denied`).
//! Root only; skipped with a message otherwise (CI runs as root).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

/// The owner of the source: `nobody` on Debian.
const OWNER: u32 = 65534;

fn is_root() -> bool {
    // /proc/self is owned by the effective user.
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn postmap(cf: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postmap"))
        .arg("-c")
        .arg(cf)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run postmap")
}

#[test]
fn root_builds_as_owner_below_an_unsearchable_directory() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    // Root's and 0700: the owner cannot search it.
    let top = tempfile::tempdir().expect("scratch");
    fs::set_permissions(top.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
    let cf = top.path().join("cf");
    fs::create_dir(&cf).expect("cf");
    fs::write(cf.join("main.cf"), "").expect("main.cf");
    let dir = top.path().join("owned");
    fs::create_dir(&dir).expect("dir");
    std::os::unix::fs::chown(&dir, Some(OWNER), Some(OWNER)).expect("chown dir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::write(dir.join("map"), "Key value\n").expect("source");
    std::os::unix::fs::chown(dir.join("map"), Some(OWNER), Some(OWNER)).expect("chown");

    for kind in ["lmdb", "hash", "cdb"] {
        let spec = format!("{kind}:map");
        let out = postmap(&cf, &dir, &[&spec]);
        assert!(out.status.success(), "{spec}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{spec}");
        let suffix = if kind == "hash" { "db" } else { kind };
        let meta = fs::metadata(dir.join(format!("map.{suffix}"))).expect("table");
        assert_eq!((meta.uid(), meta.gid()), (OWNER, OWNER), "{spec}");
        let out = postmap(&cf, &dir, &["-q", "KEY", &spec]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "value\n", "{spec}");
    }
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
