//! Helpers shared by the fixture tests: where the fixtures are, and
//! Postfix's logical-line reader.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

/// `tests/fixtures/<rel>`, copied from shared/postfix-fixtures (Postfix
/// 3.7.11 `src/global` and `src/cleanup`).
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The test recipes of a fixture directory (`global` or `cleanup`).
pub fn invocations(dir: &str) -> serde_json::Value {
    serde_json::from_str(&read(&format!("invocations/{dir}.json"))).expect("valid JSON")
}

/// Postfix `readlline`: a line that starts with white space continues the
/// previous one (joined without the newline, leading white space kept);
/// empty lines and lines whose first non-blank is `#` are dropped.
pub fn logical_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match lines.last_mut() {
            Some(last) if line.starts_with(char::is_whitespace) => last.push_str(line),
            _ => lines.push(line.to_string()),
        }
    }
    lines
}

/// Compare line by line first, for a readable failure, then byte for byte.
pub fn assert_same(name: &str, actual: &str, expected: &str) {
    for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(a, e, "{name}: line {} differs", i + 1);
    }
    assert_eq!(actual, expected, "{name}: output differs");
}
