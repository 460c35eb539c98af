//! Our `postconf` against the real one (Postfix 3.7 from Debian), on the
//! same files in the same run: the built-in defaults, the three shapes of
//! main.cf our users run (LAN relay, gatekeeper in front of Exchange,
//! smarthost), and in-place edits. `NORANDOMIZE=1` makes Postfix's
//! hash-table order (of warnings and of appended settings) deterministic.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::{our_binary, require_peer, workspace_root};

/// Values that depend on the running process rather than on the build or
/// the configuration: `process_id` is the pid of each postconf.
const PER_PROCESS: &[&str] = &["process_id"];

const SHAPES: &[&str] = &["relay", "gatekeeper", "smarthost"];

/// stdout, stderr and exit code of `program -c dir args`.
fn run(program: &Path, dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(program)
        .arg("-c")
        .arg(dir)
        .args(args)
        .env("NORANDOMIZE", "1")
        .env_remove("MAIL_CONFIG")
        .output()
        .expect("run postconf");
    let strip = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| {
                !PER_PROCESS
                    .iter()
                    .any(|p| l.starts_with(&format!("{p} = ")))
            })
            // Our own parameters (docs/differences.md) are not Postfix's.
            .filter(|l| {
                !l.split_once(" =")
                    .is_some_and(|(name, _)| conf::param::is_extension(name))
            })
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .replace(&program.display().to_string(), "postconf")
    };
    (
        strip(&out.stdout),
        strip(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

fn parse(listing: &str) -> BTreeMap<String, String> {
    listing
        .lines()
        .filter_map(|l| {
            l.split_once(" =")
                .map(|(n, v)| (n.to_string(), v.trim_start().to_string()))
        })
        .collect()
}

/// A config directory holding one shape's main.cf and the quick start's
/// master.cf (which defines the services whose parameters postconf adds).
fn shape_dir(shape: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = workspace_root().join("tests/fixtures/main-cf");
    fs::copy(
        fixtures.join(format!("{shape}.cf")),
        dir.path().join("main.cf"),
    )
    .expect("main.cf");
    fs::copy(
        workspace_root().join("examples/quickstart/master.cf"),
        dir.path().join("master.cf"),
    )
    .expect("master.cf");
    dir
}

#[test]
fn defaults_match_postfix() {
    let real = require_peer!("postconf");
    let ours = our_binary("postconf");
    for master in [
        None,
        Some(workspace_root().join("examples/quickstart/master.cf")),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("main.cf"), "").expect("main.cf");
        if let Some(m) = &master {
            fs::copy(m, dir.path().join("master.cf")).expect("master.cf");
        }
        let (theirs, _, rc_theirs) = run(&real, dir.path(), &["-d"]);
        let (mine, _, rc_mine) = run(&ours, dir.path(), &["-d"]);
        assert_eq!((rc_mine, rc_theirs), (0, 0));
        let (theirs, mine) = (parse(&theirs), parse(&mine));
        assert!(
            theirs.len() > 800,
            "real postconf -d listed {}",
            theirs.len()
        );
        let only_theirs: Vec<_> = theirs.keys().filter(|k| !mine.contains_key(*k)).collect();
        let only_mine: Vec<_> = mine.keys().filter(|k| !theirs.contains_key(*k)).collect();
        assert!(only_theirs.is_empty(), "unknown to us: {only_theirs:?}");
        assert!(only_mine.is_empty(), "unknown to Postfix: {only_mine:?}");
        let differ: Vec<String> = theirs
            .iter()
            .filter(|(k, v)| mine.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: Postfix {v:?}, ours {:?}", mine.get(k)))
            .collect();
        assert!(differ.is_empty(), "defaults differ:\n{}", differ.join("\n"));
    }
}

#[test]
fn realistic_main_cf_prints_as_postfix_prints_it() {
    let real = require_peer!("postconf");
    let ours = our_binary("postconf");
    for shape in SHAPES {
        let dir = shape_dir(shape);
        for args in [
            &["-n"][..],
            &["-nx"],
            &["-nf"],
            &[],
            &["-x"],
            &[
                "-h",
                "mynetworks",
                "mydomain",
                "relay_domains",
                "smtpd_relay_restrictions",
            ],
            &["-x", "myorigin", "mydestination", "no_such_parameter"],
            &["-M"],
            &["-Mf"],
        ] {
            assert_eq!(
                run(&ours, dir.path(), args),
                run(&real, dir.path(), args),
                "{shape}: postconf {args:?}"
            );
        }
    }
}

fn edit_both(real: &Path, ours: &Path, shape: &str, args: &[&str]) -> (PathBuf, PathBuf) {
    let (a, b) = (shape_dir(shape), shape_dir(shape));
    let (out_real, out_ours) = (run(real, a.path(), args), run(ours, b.path(), args));
    assert_eq!(out_ours, out_real, "{shape}: postconf {args:?}");
    (a.keep(), b.keep())
}

#[test]
fn edits_leave_the_same_file_as_postfix() {
    let real = require_peer!("postconf");
    let ours = our_binary("postconf");
    let edits: &[&[&str]] = &[
        &[
            "-e",
            "relayhost = [new.example]:25",
            "myhostname=changed.example",
            "zzz_new=1",
            "aaa_new = 2",
        ],
        &["-e", "mynetworks=10.0.0.0/8", "mynetworks=10.1.0.0/16"],
        &["smtpd_banner = $myhostname ESMTP ready"],
        &["-X", "mynetworks", "masquerade_domains", "not_there"],
        &["-#", "smtpd_client_restrictions", "compatibility_level"],
        &["-e", "bad line without equals"],
        &["-X", "name=value"],
    ];
    for shape in SHAPES {
        for args in edits {
            let (a, b) = edit_both(&real, &ours, shape, args);
            let read = |d: &Path| fs::read_to_string(d.join("main.cf")).expect("main.cf");
            assert_eq!(
                read(&b),
                read(&a),
                "{shape}: main.cf after postconf {args:?}"
            );
            fs::remove_dir_all(a).expect("cleanup");
            fs::remove_dir_all(b).expect("cleanup");
        }
    }
}

#[test]
fn foreign_inet_interfaces_address_is_fatal_in_both() {
    let real = require_peer!("postconf");
    let ours = our_binary("postconf");
    let dir = shape_dir("smarthost");
    let main = dir.path().join("main.cf");
    let text = fs::read_to_string(&main).expect("main.cf");
    fs::write(
        &main,
        text.replace("inet_interfaces = all", "inet_interfaces = 192.0.2.254"),
    )
    .expect("main.cf");
    let theirs = run(&real, dir.path(), &["-n"]);
    assert_eq!(theirs.2, 1, "{theirs:?}");
    assert_eq!(run(&ours, dir.path(), &["-n"]), theirs);
}

/// Postfix reads main.cf several times and repeats some warnings once per
/// read; ours prints each once (docs/differences.md). Collapse repeats.
fn once((out, err, code): (String, String, i32)) -> (String, String, i32) {
    let mut seen: Vec<&str> = Vec::new();
    for line in err.lines() {
        if !seen.contains(&line) {
            seen.push(line);
        }
    }
    let err = seen.iter().map(|l| format!("{l}\n")).collect();
    (out, err, code)
}

#[test]
fn malformed_files_fail_as_in_postfix() {
    let real = require_peer!("postconf");
    let ours = our_binary("postconf");
    let good_master = "smtp inet n - y - - smtpd\n";
    let cases: &[(&str, &str, &[&str])] = &[
        ("x = 1\nbad line\n", good_master, &["-n"]),
        ("x = 1\n= value\n", good_master, &["-n"]),
        (" indented = 1\nx = 1\n", good_master, &["-n"]),
        (
            "",
            "smtp inet n - y - - smtpd\nfoo xxxx n - y - - bar\n",
            &["-n"],
        ),
        ("", "smtp inet n - y\n", &["-M"]),
        ("", "smtp inet q - y - - smtpd\n", &["-F"]),
        ("", "smtp inet n - y -1 - smtpd\n", &["-P"]),
        ("", " leading inet n - y - - smtpd\n", &["-M"]),
    ];
    for (main, master, args) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("main.cf"), main).expect("main.cf");
        fs::write(dir.path().join("master.cf"), master).expect("master.cf");
        let theirs = once(run(&real, dir.path(), args));
        assert_eq!(
            run(&ours, dir.path(), args),
            theirs,
            "{main:?} {master:?} {args:?}"
        );
    }
    // A bad main.cf line is named by file and line.
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("main.cf"), "x = 1\n\nbad line\n").expect("main.cf");
    let (_, err, code) = run(&ours, dir.path(), &["-n"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/main.cf, line 3: "), "{err}");
}

#[test]
fn master_cf_edits_leave_the_same_file_as_postfix() {
    let real = require_peer!("postconf");
    let ours = our_binary("postconf");
    let edits: &[&[&str]] = &[
        &[
            "-M",
            "submission/inet=submission inet n - n - - smtpd -o syslog_name=postfix/submission",
        ],
        &["-Me", "smtp/unix=smtp unix - - n - 10 smtp"],
        &["-MX", "relay/unix", "no/such"],
        &["-M#", "showq/unix"],
        &["-Fe", "pickup/unix/wakeup=30", "smtp/inet/chroot=y"],
        &[
            "-Pe",
            "smtp/inet/smtpd_tls_security_level=may",
            "smtp/inet/syslog_name=postfix/smtp",
        ],
        &["-PX", "smtp/inet/syslog_name"],
        &["-Fe", "smtp/inet/wakeup=a b"],
        &["-MX", "smtp"],
    ];
    for args in edits {
        let (a, b) = edit_both(&real, &ours, "relay", args);
        let read = |d: &Path| fs::read_to_string(d.join("master.cf")).expect("master.cf");
        assert_eq!(read(&b), read(&a), "master.cf after postconf {args:?}");
        fs::remove_dir_all(a).expect("cleanup");
        fs::remove_dir_all(b).expect("cleanup");
    }
}
