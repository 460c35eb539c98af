//! Replays Postfix 3.7's own postconf tests (`tests/fixtures/postconf/`,
//! described in its `cases.json`) against our `postconf`: each case
//! creates its files in a scratch directory, runs the steps with
//! `NORANDOMIZE=1`, and compares the captured output (or the edited
//! master.cf) with Postfix's expected `.ref`, byte for byte.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/postconf")
}

/// Where a step's output goes.
fn output_file(dir: &Path, spec: &Value) -> Option<(PathBuf, bool)> {
    let obj = spec.as_object()?;
    if let Some(Value::String(f)) = obj.get("write_to") {
        return Some((dir.join(f), false));
    }
    if let Some(Value::String(f)) = obj.get("append_to") {
        return Some((dir.join(f), true));
    }
    None
}

fn open_output(path: &Path, append: bool) -> File {
    OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .expect("open step output")
}

fn run_step(dir: &Path, step: &Value) {
    let argv: Vec<&str> = step["argv"]
        .as_array()
        .expect("argv")
        .iter()
        .map(|a| a.as_str().expect("argv string"))
        .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postconf"));
    cmd.args(&argv[1..])
        .current_dir(dir)
        .env("NORANDOMIZE", "1")
        .env_remove("MAIL_CONFIG")
        .stdin(Stdio::null());
    let filter = step
        .get("filter_stdout")
        .and_then(|f| f.get("keep_lines_containing"))
        .and_then(Value::as_str);
    let stdout = output_file(dir, &step["stdout"]);
    let stderr_same = step["stderr"].as_str() == Some("same-as-stdout");
    // With a filter, the output passes through grep: capture, then filter.
    let pipe_path = dir.join(".step-output");
    let target = match (&stdout, filter) {
        (Some(_), Some(_)) => Some((pipe_path.clone(), false)),
        (Some((p, a)), None) => Some((p.clone(), *a)),
        (None, _) => None,
    };
    match &target {
        Some((path, append)) => {
            let file = open_output(path, *append);
            if stderr_same {
                cmd.stderr(file.try_clone().expect("dup"));
            }
            cmd.stdout(file);
        }
        None => {
            cmd.stdout(Stdio::null());
        }
    }
    if !stderr_same {
        match output_file(dir, &step["stderr"]) {
            Some((path, append)) => cmd.stderr(open_output(&path, append)),
            None => cmd.stderr(Stdio::null()),
        };
    }
    cmd.status().expect("run postconf");
    if let (Some((path, append)), Some(needle)) = (&stdout, filter) {
        let text = fs::read_to_string(&pipe_path).expect("read step output");
        let kept: String = text
            .lines()
            .filter(|l| l.contains(needle))
            .map(|l| format!("{l}\n"))
            .collect();
        let mut file = open_output(path, *append);
        std::io::Write::write_all(&mut file, kept.as_bytes()).expect("write filtered");
    }
}

/// Run one case; Err describes the difference.
fn run_case(name: &str, case: &Value) -> Result<(), String> {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let dir = scratch.path().canonicalize().expect("canonical scratch");
    let pwd = dir.to_str().expect("utf-8 path");
    for (file, text) in case["files_before"].as_object().expect("files_before") {
        let text = text.as_str().expect("file text").replace("PWD", pwd);
        fs::write(dir.join(file), text).expect("write fixture file");
    }
    for step in case["steps"].as_array().expect("steps") {
        run_step(&dir, step);
    }
    let expected_file = case["expected"].as_str().expect("expected");
    let expected = fs::read_to_string(fixtures().join(expected_file))
        .expect("read .ref")
        .replace("./postconf:", "postconf:")
        .replace("PWD", pwd);
    let compare = case["compare_with"].as_str().expect("compare_with");
    let actual = fs::read_to_string(dir.join(compare)).unwrap_or_default();
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "{name}: output differs\n--- expected\n{expected}--- actual\n{actual}---"
        ))
    }
}

#[test]
fn postfix_postconf_fixtures_pass() {
    let cases: Value = serde_json::from_str(
        &fs::read_to_string(fixtures().join("cases.json")).expect("read cases.json"),
    )
    .expect("parse cases.json");
    let cases = cases["cases"].as_object().expect("cases");
    assert_eq!(cases.len(), 70, "all of Postfix's postconf cases are here");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, case)| run_case(name, case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} postconf cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
