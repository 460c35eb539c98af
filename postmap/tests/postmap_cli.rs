//! Replays Postfix 3.7's postmap and postalias command tests
//! (`tests/fixtures/{postmap,postalias}/cases.json`, conventions in their
//! `meta`) against our binaries, byte for byte: each case in an empty
//! scratch directory with an empty main.cf (`MAIL_CONFIG`); stdout and
//! stderr captured together in one file, as a shell `>file 2>&1` does;
//! `sort_stdout` steps have their stdout sorted bytewise after their
//! stderr.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixtures(topic: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(topic)
}

fn binary(program: &str) -> &'static str {
    match program {
        "postmap" => env!("CARGO_BIN_EXE_postmap"),
        "postalias" => env!("CARGO_BIN_EXE_postalias"),
        other => panic!("no binary for {other}"),
    }
}

/// What a case requires of each step's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Every step must succeed.
    Succeed,
    /// Every step must fail (the `fail:` cases).
    Fail,
    /// Stop at the first failing step (quote_test).
    StopAtFailure,
    /// The first N steps must succeed; later ones may fail (file_test).
    FirstSucceed(usize),
}

fn policy(case: &str) -> Policy {
    match case {
        "fail_test" => Policy::Fail,
        "quote_test" => Policy::StopAtFailure,
        "file_test" => Policy::FirstSucceed(4),
        _ => Policy::Succeed,
    }
}

/// Source files a case's recipe writes itself (a here-document in
/// Postfix's Makefile) that cases.json leaves to the fixture of the same
/// name.
fn recipe_files(case: &str) -> &'static [&'static str] {
    match case {
        "lmdb_abb" => &["lmdb_abb"],
        _ => &[],
    }
}

/// A scratch directory with `cf/main.cf` empty and the case's files.
fn scratch(topic: &str, name: &str, case: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("scratch dir");
    fs::create_dir(dir.path().join("cf")).expect("cf");
    fs::write(dir.path().join("cf/main.cf"), "").expect("main.cf");
    let listed = case["files_before_from_fixtures"]
        .as_array()
        .into_iter()
        .flatten();
    let listed = listed.map(|n| n.as_str().expect("file name"));
    for name in listed.chain(recipe_files(name).iter().copied()) {
        fs::copy(fixtures(topic).join(name), dir.path().join(name)).expect("copy fixture");
        // Fixtures are read-only; the copies need not be.
        let mut perms = fs::metadata(dir.path().join(name))
            .expect("stat")
            .permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
        fs::set_permissions(dir.path().join(name), perms).expect("chmod");
    }
    for (name, text) in case["files_before"].as_object().into_iter().flatten() {
        let text = text.as_str().expect("file text");
        fs::write(dir.path().join(name), text).expect("files_before");
    }
    dir
}

/// The command of `step`, in `dir`, with its stdin.
fn command(topic: &str, dir: &Path, step: &Value) -> (Command, Option<Vec<u8>>) {
    let argv: Vec<&str> = step["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .map(|a| a.as_str().expect("arg"))
        .collect();
    let mut cmd = Command::new(binary(argv[0]));
    cmd.args(&argv[1..])
        .current_dir(dir)
        .env("MAIL_CONFIG", dir.join("cf"));
    let stdin = if let Some(text) = step["stdin"].as_str() {
        Some(text.as_bytes().to_vec())
    } else {
        step["stdin_from_fixture"]
            .as_str()
            .map(|name| fs::read(fixtures(topic).join(name)).expect("stdin fixture"))
    };
    (cmd, stdin)
}

/// Run with stdin fed and stdout/stderr as configured by the caller.
fn run(mut cmd: Command, stdin: Option<Vec<u8>>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("spawn");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(&text).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

/// One step of an `expected_combined` case; appends to `combined`.
fn combined_step(topic: &str, dir: &Path, step: &Value, combined: &Path) -> bool {
    let (mut cmd, stdin) = command(topic, dir, step);
    let file = File::options()
        .append(true)
        .open(combined)
        .expect("combined");
    let sort = step["sort_stdout"].as_bool().unwrap_or(false);
    cmd.stderr(file.try_clone().expect("dup"));
    cmd.stdout(if sort { Stdio::piped() } else { file.into() });
    let out = run(cmd, stdin);
    if sort {
        let mut lines: Vec<&[u8]> = out.stdout.split_inclusive(|&c| c == b'\n').collect();
        lines.sort_unstable();
        let mut f = File::options()
            .append(true)
            .open(combined)
            .expect("combined");
        f.write_all(&lines.concat()).expect("append sorted");
    }
    out.status.success()
}

fn check_status(name: &str, policy: Policy, index: usize, ok: bool) -> bool {
    match policy {
        Policy::Succeed => assert!(ok, "{name}: step {index} failed"),
        Policy::Fail => assert!(!ok, "{name}: step {index} succeeded"),
        Policy::FirstSucceed(n) if index < n => assert!(ok, "{name}: step {index} failed"),
        Policy::StopAtFailure if !ok => return false,
        Policy::FirstSucceed(_) | Policy::StopAtFailure => {}
    }
    true
}

fn replay_case(topic: &str, name: &str, case: &Value) {
    let dir = scratch(topic, name, case);
    let combined = dir.path().join("combined.out");
    fs::write(&combined, "").expect("combined");
    let policy = policy(name);
    for (index, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
        if step["capture"].as_bool() == Some(false) {
            let (mut cmd, stdin) = command(topic, dir.path(), step);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let out = run(cmd, stdin);
            assert!(out.status.success(), "{name}: step {index}: {out:?}");
        } else if let Some(reference) = step["expected_stdout"].as_str() {
            let (mut cmd, stdin) = command(topic, dir.path(), step);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let out = run(cmd, stdin);
            let want = fs::read(fixtures(topic).join(reference)).expect("reference");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&want),
                "{name}: step {index} stdout"
            );
            assert!(out.stderr.is_empty(), "{name}: step {index}: {out:?}");
            check_status(name, policy, index, out.status.success());
        } else {
            let ok = combined_step(topic, dir.path(), step, &combined);
            if !check_status(name, policy, index, ok) {
                break;
            }
        }
    }
    if let Some(reference) = case["expected_combined"].as_str() {
        let want = fs::read(fixtures(topic).join(reference)).expect("reference");
        let got = fs::read(&combined).expect("combined");
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{topic}/{name}"
        );
        assert_eq!(got, want, "{topic}/{name}: bytes");
    }
}

fn replay(topic: &str) -> Vec<String> {
    let text = fs::read_to_string(fixtures(topic).join("cases.json")).expect("cases.json");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let cases = doc["cases"].as_object().expect("cases");
    for (name, case) in cases {
        replay_case(topic, name, case);
    }
    cases.keys().cloned().collect()
}

#[test]
fn postmap_cases_replay() {
    let cases = replay("postmap");
    assert_eq!(
        cases,
        [
            "fail_test",
            "file_test",
            "lmdb_abb",
            "quote_test",
            "test1",
            "test2"
        ]
    );
}

#[test]
fn postalias_cases_replay() {
    let cases = replay("postalias");
    assert_eq!(cases, ["fail_test", "test1", "test2"]);
}
