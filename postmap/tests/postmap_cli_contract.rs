//! The command-line contract of postmap, postalias and newaliases beyond
//! Postfix's own fixtures: every expected output here is what the
//! installed Postfix 3.7.11 printed for the same command (exit status,
//! stdout, stderr).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("scratch");
    fs::create_dir(dir.path().join("cf")).expect("cf");
    fs::write(dir.path().join("cf/main.cf"), "").expect("main.cf");
    fs::write(dir.path().join("map.in"), "ABC DEF\nghi jkl\n").expect("map.in");
    dir
}

fn run(exe: &str, dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .env("MAIL_CONFIG", dir.join("cf"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut pipe) = child.stdin.take() {
        // A program that exits early may not read it all.
        let _ = pipe.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn postmap(dir: &Path, args: &[&str], stdin: &str) -> Run {
    run(env!("CARGO_BIN_EXE_postmap"), dir, args, stdin)
}

fn postalias(dir: &Path, args: &[&str], stdin: &str) -> Run {
    run(env!("CARGO_BIN_EXE_postalias"), dir, args, stdin)
}

const USAGE: &str = "postmap: fatal: usage: postmap [-bfFhimnNoprsuUvw] [-c config_dir] \
                     [-d key] [-q key] [map_type:]file...\n";

/// (arguments, exit status, stderr) as Postfix 3.7.11 has them.
const FATALS: &[(&[&str], i32, &str)] = &[
    (
        &["-q", "x", "foo:bar"],
        1,
        "postmap: fatal: unsupported dictionary type: foo\n",
    ),
    (
        &["-q", "x", "nonexist"],
        1,
        "postmap: fatal: open database nonexist.db: No such file or directory\n",
    ),
    (
        &["-d", "x", "nonexist"],
        1,
        "postmap: fatal: open database nonexist.db: No such file or directory\n",
    ),
    (
        &["-s", "regexp:/dev/null"],
        1,
        "postmap: fatal: table regexp:/dev/null: sequence operation is not supported\n",
    ),
    (
        &["-q", "x", "-s", "map.in"],
        1,
        "postmap: fatal: specify only one of -s or -q or -d\n",
    ),
    (
        &["-s", "-q", "x", "map.in"],
        1,
        "postmap: fatal: specify only one of -s -q or -d\n",
    ),
    (
        &["-b", "map.in"],
        1,
        "postmap: fatal: specify -b -h or -m only with \"-q -\"\n",
    ),
    (
        &["nonexist"],
        1,
        "postmap: fatal: open nonexist: No such file or directory\n",
    ),
    (
        &["proxy:hash:map.in"],
        1,
        "postmap: fatal: can't create maps via the proxy service\n",
    ),
    (
        &["-q", "x", "hash:"],
        1,
        "postmap: fatal: open dictionary: expecting \"type:name\" form instead of \"hash:\"\n",
    ),
    (&["-s"], 1, ""),
    (
        &["regexp:map.in"],
        1,
        "postmap: fatal: unsupported dictionary type: regexp does not support bulk-mode creation.\n",
    ),
    (
        &["foo:map.in"],
        1,
        "postmap: fatal: unsupported dictionary type: foo. Is the postfix-foo package installed?\n",
    ),
    (
        &["-d", "a", "texthash:map.in"],
        1,
        "postmap: fatal: texthash:map.in map requires O_RDONLY access mode\n",
    ),
    (
        &["-d", "a", "static:x"],
        1,
        "postmap: fatal: table static:x: delete operation is not supported\n",
    ),
    (
        &["-s", "static:x"],
        1,
        "postmap: fatal: table static:x: sequence operation is not supported\n",
    ),
    (
        &["-s", "proxy:hash:map.in"],
        1,
        "postmap: fatal: can't sequence maps via the proxy service\n",
    ),
];

#[test]
fn fatal_errors_match_postfix() {
    let dir = scratch();
    for (args, code, stderr) in FATALS {
        let out = postmap(dir.path(), args, "");
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(*code), "", *stderr),
            "postmap {args:?}"
        );
    }
}

#[test]
fn usage_errors_name_the_option_first() {
    let dir = scratch();
    let out = postmap(dir.path(), &[], "");
    assert_eq!((out.code, out.stderr.as_str()), (Some(1), USAGE));
    let out = postmap(dir.path(), &["-x"], "");
    assert_eq!(
        out.stderr,
        format!("postmap: invalid option -- 'x'\n{USAGE}")
    );
    let out = postmap(dir.path(), &["-q"], "");
    assert_eq!(
        out.stderr,
        format!("postmap: option requires an argument -- 'q'\n{USAGE}")
    );
    let out = postalias(dir.path(), &["-F", "x"], "");
    assert_eq!(
        out.stderr,
        "postalias: invalid option -- 'F'\npostalias: fatal: usage: postalias [-Nfinoprsuvw] \
         [-c config_dir] [-d key] [-q key] [map_type:]file...\n"
    );
}

#[test]
fn missing_main_cf_is_fatal() {
    let dir = scratch();
    let out = postmap(
        dir.path(),
        &["-c", "/nonexistent/pf", "-q", "x", "map.in"],
        "",
    );
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "postmap: fatal: open /nonexistent/pf/main.cf: No such file or directory\n"
    );
}

#[test]
fn exit_status_tells_found_and_deleted() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(postmap(d, &["map.in"], "").code, Some(0));
    let out = postmap(d, &["-q", "ABC", "map.in"], "");
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "DEF\n"));
    assert_eq!(postmap(d, &["-q", "zz", "map.in"], "").code, Some(1));
    let out = postmap(d, &["-q", "-", "map.in"], "zz\nghi\n");
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "ghi\tjkl\n"));
    assert_eq!(postmap(d, &["-q", "-", "map.in"], "zz\n").code, Some(1));
    assert_eq!(postmap(d, &["-d", "abc", "map.in"], "").code, Some(0));
    assert_eq!(postmap(d, &["-d", "abc", "map.in"], "").code, Some(1));
    assert_eq!(postmap(d, &["-d", "-", "map.in"], "zz\n").code, Some(1));
    // `-q -` opens tables lazily; `-d -` opens them all first.
    assert_eq!(postmap(d, &["-q", "-", "nonexist"], "").code, Some(1));
    let out = postmap(d, &["-d", "-", "map.in", "nonexist"], "ghi\n");
    assert_eq!(out.code, Some(1));
    assert_eq!(postmap(d, &["-q", "ghi", "map.in"], "").code, Some(0));
}

#[test]
fn fatal_error_discards_buffered_output() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(postmap(d, &["map.in"], "").code, Some(0));
    let out = postmap(d, &["-q", "-", "map.in", "fail:x"], "ghi\nzz\n");
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "postmap: fatal: table fail:x: query error: Application error\n"
    );
}

#[test]
fn message_keys_with_and_without_mime() {
    let dir = scratch();
    let d = dir.path();
    fs::write(d.join("all.re"), "/.?/ K\n").expect("regexp");
    let message = "Subject: s\nContent-Type: multipart/mixed; boundary=b\n\n\
                   --b\nX-Part: 1\n\ntext\n--b--\n";
    let out = postmap(d, &["-hq", "-", "regexp:all.re"], message);
    assert_eq!(
        out.stdout,
        "Subject: s\tK\nContent-Type: multipart/mixed; boundary=b\tK\n"
    );
    let out = postmap(d, &["-hmq", "-", "regexp:all.re"], message);
    assert_eq!(
        out.stdout,
        "Subject: s\tK\nContent-Type: multipart/mixed; boundary=b\tK\nX-Part: 1\tK\n"
    );
    let out = postmap(d, &["-bmq", "-", "regexp:all.re"], message);
    assert_eq!(out.stdout, "\tK\n--b\tK\n\tK\ntext\tK\n--b--\tK\n");
    let out = postmap(d, &["-mq", "-", "regexp:all.re"], "x\n");
    assert_eq!(
        out.stderr,
        "postmap: warning: ignoring -m option without -b or -h\n"
    );
    assert_eq!(out.stdout, "x\tK\n");
}

#[test]
fn postalias_adds_signatures() {
    let dir = scratch();
    let d = dir.path();
    fs::write(d.join("aliases"), "Root: a, b,c\nbad line\n").expect("aliases");
    let out = postalias(d, &["aliases"], "");
    assert_eq!(out.code, Some(0));
    assert_eq!(
        out.stderr,
        "postalias: warning: aliases, line 2: need name:value pair\n"
    );
    let out = postalias(d, &["-s", "aliases"], "");
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], "@:\t@");
    assert!(lines[1].starts_with("YP_LAST_MODIFIED:\t"));
    assert!(lines[2].starts_with("YP_MASTER_NAME:\t"));
    assert_eq!(lines[3], "root:\ta, b, c");
    let out = postalias(d, &["-q", "-", "aliases"], "root\n");
    assert_eq!(out.stdout, "root:\ta, b, c\n");
}

#[test]
fn newaliases_runs_postalias_on_alias_database() {
    let dir = scratch();
    let d = dir.path();
    fs::write(d.join("al"), "root: me\n").expect("aliases");
    let main_cf = format!("alias_database = lmdb:{}/al\n", d.display());
    fs::write(d.join("cf/main.cf"), main_cf).expect("main.cf");
    let newaliases = env!("CARGO_BIN_EXE_newaliases");
    let out = run(newaliases, d, &[], "");
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""));
    assert!(d.join("al.lmdb").exists());
    let out = run(newaliases, d, &["root"], "");
    assert_eq!(out.code, Some(75));
    assert_eq!(
        out.stderr,
        "newaliases: fatal: alias initialization mode requires no recipient\n"
    );
    let out = run(newaliases, d, &["-oA/nonexistent/al"], "");
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "postalias: fatal: open /nonexistent/al: No such file or directory\n"
    );
}

/// As root, a table is built as the owner of its source, unless `-o`.
#[test]
fn root_builds_as_the_source_owner() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !nix_is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = scratch();
    let d = dir.path();
    // The owner must be able to reach and write the directory.
    for p in [d, &d.join("cf")] {
        fs::set_permissions(p, fs::Permissions::from_mode(0o777)).expect("chmod");
    }
    let searchable = d
        .parent()
        .and_then(|p| fs::metadata(p).ok())
        .is_some_and(|m| m.mode() & 0o001 != 0);
    if !searchable {
        eprintln!("skipped: the temporary directory is not searchable by others");
        return;
    }
    for name in ["s1", "s2"] {
        fs::write(d.join(name), "a b\n").expect("source");
        std::os::unix::fs::chown(d.join(name), Some(65534), Some(65534)).expect("chown");
        fs::set_permissions(d.join(name), fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    assert_eq!(postmap(d, &["s1"], "").code, Some(0));
    assert_eq!(postmap(d, &["-o", "s2"], "").code, Some(0));
    let owner = |f: &str| fs::metadata(d.join(f)).map(|m| (m.uid(), m.mode() & 0o777));
    assert_eq!(owner("s1.db").ok(), Some((65534, 0o600)));
    assert_eq!(owner("s2.db").ok(), Some((0, 0o600)));
}

fn nix_is_root() -> bool {
    // /proc/self is owned by the effective user.
    fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}
