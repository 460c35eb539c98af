//! Postfix's `util/dict_*` fixtures that write tables (`dict_test`,
//! `dict_seq`), check UTF-8 (`dict_utf8_test`) and pick at random
//! (`dict_random`, `dict_random_file`), replayed through the `dict_open`
//! driver emulation exactly as `tests/fixtures/dict/invocations.json`
//! describes them (arguments, stdin, scratch files, output filters) and
//! compared byte for byte, `dict_seq`'s order aside.
//!
//! Not replayed: `dict_stream.ref`. It is the output of dict_stream.c's
//! own unit test of `dict_stream_open()`: six inline texts
//! (`{{foo bar}, {blah blah}}`, ...) and the rule text or error each must
//! give, printed as `RUN`/`PASS` lines. Our `dict_stream_open()` is
//! `pattern::source::inline_to_text`, which is private to the crate, and
//! no public table shows the rule text it produced (a pattern table only
//! warns "ignoring unrecognized request" about `foo bar`). Replaying it
//! needs that function made public, or its six cases added to the unit
//! tests in `src/pattern/source.rs`.

#[path = "support/dict_open.rs"]
mod dict_open;

use std::path::Path;
use std::process::Command;

use dict_open::{fixture, fixture_bytes, in_scratch_dir, replay, replay_bytes};
use regex::bytes::Regex;
use serde_json::Value;

/// The test `name` of invocations.json.
fn case(name: &str) -> Value {
    let all: Value = serde_json::from_str(&fixture("invocations.json")).expect("invocations.json");
    all["tests"][name].clone()
}

fn text(v: &Value) -> &str {
    v.as_str().expect("a JSON string")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A run's stdin: literal, a fixture file, hex, or empty.
fn stdin_of(run: &Value) -> Vec<u8> {
    if let Some(s) = run["stdin"].as_str() {
        s.as_bytes().to_vec()
    } else if let Some(file) = run["stdin_file"].as_str() {
        fixture_bytes(file)
    } else if let Some(h) = run["stdin_hex"].as_str() {
        hex(h)
    } else {
        Vec::new()
    }
}

/// The recipe's sed steps, line by line.
fn filter(run: &Value, output: Vec<u8>) -> Vec<u8> {
    let mut out = output;
    for f in run["output_filters"].as_array().into_iter().flatten() {
        if let Some(re) = f["regex"].as_str() {
            let re = Regex::new(re).expect("filter regex");
            out = re
                .replace_all(&out, text(&f["replace"]).as_bytes())
                .into_owned();
        }
        if let Some(drop) = f["drop_lines_matching"].as_str() {
            let re = Regex::new(drop).expect("filter regex");
            out = out
                .split_inclusive(|&c| c == b'\n')
                .filter(|line| !re.is_match(line))
                .flatten()
                .copied()
                .collect();
        }
    }
    out
}

/// Run a `setup` step of the recipe (`postmap -N hash:testdb`) with our
/// postmap in `dir`, with an empty main.cf there.
fn setup(dir: &Path, argv: &[&str]) {
    assert_eq!(argv.first(), Some(&"postmap"), "{argv:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_postmap"))
        .arg("-c")
        .arg(dir)
        .args(&argv[1..])
        .current_dir(dir)
        .output()
        .expect("run postmap");
    assert!(out.status.success(), "{argv:?}: {out:?}");
}

/// How to replay a test of invocations.json.
#[derive(Default)]
struct Recipe<'a> {
    name: &'a str,
    /// Files the recipe takes from the fixture directory.
    extra: &'a [(&'a str, String)],
    /// Replaces the first flag of the setup's postmap command (the
    /// recipe's second pass).
    postmap_flag: Option<&'a str>,
    /// A correction of the stdin invocations.json gives: (from, to).
    stdin_fix: Option<(&'a str, &'a str)>,
}

fn recipe(name: &str) -> Recipe<'_> {
    Recipe {
        name,
        ..Recipe::default()
    }
}

/// Replace every `from` in `bytes` by `to`.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.starts_with(from) && !from.is_empty() {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// The concatenated, filtered output of every run of a test, in a
/// scratch directory with its `files_before`, the recipe's extra files
/// and an empty main.cf, after its setup steps.
fn replay_case(r: &Recipe<'_>) -> Vec<u8> {
    let (extra, postmap_flag) = (r.extra, r.postmap_flag);
    let case = case(r.name);
    let mut files: Vec<(String, String)> = vec![("main.cf".into(), String::new())];
    for (file, body) in case["files_before"].as_object().into_iter().flatten() {
        files.push((file.clone(), text(body).to_string()));
    }
    files.extend(extra.iter().map(|(n, b)| (n.to_string(), b.clone())));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_str()))
        .collect();
    in_scratch_dir(&files, |dir| {
        for step in case["setup"].as_array().into_iter().flatten() {
            let mut argv: Vec<&str> = step["argv"]
                .as_array()
                .expect("argv")
                .iter()
                .map(text)
                .collect();
            if let (Some(flag), Some(first)) = (postmap_flag, argv.get_mut(1)) {
                *first = flag;
            }
            setup(dir, &argv);
        }
        let mut out = Vec::new();
        for run in case["runs"].as_array().expect("runs") {
            assert_eq!(text(&run["driver"]), "dict_open");
            assert_eq!(text(&run["capture"]), "stdout+stderr");
            if let Some(line) = run["emit_before"].as_str() {
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
            let args: Vec<&str> = run["args"]
                .as_array()
                .expect("args")
                .iter()
                .map(text)
                .collect();
            let mut stdin = stdin_of(run);
            if let Some((from, to)) = r.stdin_fix {
                stdin = replace(&stdin, from.as_bytes(), to.as_bytes());
            }
            out.extend(filter(run, replay_bytes(&args, &stdin)));
        }
        out
    })
}

fn assert_bytes_eq(got: &[u8], want: &[u8]) {
    assert_eq!(
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(want),
        "(shown lossily)"
    );
    assert_eq!(got, want);
}

/// `fixtures/dict/testdb` is the text the recipe builds the table from
/// (`postmap -N hash:testdb`, then again with `-n`), not a Berkeley DB
/// file: our postmap builds `testdb.db` from it the same way (a cdb file,
/// where `-N` and `-n` change nothing), and both passes must print
/// dict_test.ref.
#[test]
fn dict_test() {
    let testdb = [("testdb", fixture("testdb"))];
    for flag in ["-N", "-n"] {
        let got = replay_case(&Recipe {
            extra: &testdb,
            postmap_flag: Some(flag),
            ..recipe("dict_test")
        });
        assert_bytes_eq(&got, &fixture_bytes("dict_test.ref"));
    }
}

/// dict_seq.ref is older than the 3.7.11 driver, and Postfix's default
/// tests do not run it: it has no `owner=` line, its `put`s echo
/// `key=value` (3.7.11 prints nothing, see dict_test.ref), and 3.7.11
/// would stop at the recipe's `sync` argument, a flag name it does not
/// know (we ignore it). Turn it into what the 3.7.11 driver prints.
fn dict_seq_for_3_7_11(stale: &str) -> String {
    let mut out = String::from("owner=untrusted (uid=USER)\n");
    let mut after_put = false;
    for line in stale.split_inclusive('\n') {
        if !std::mem::replace(&mut after_put, line.starts_with("> put ")) || line.starts_with('>') {
            out.push_str(line);
        }
    }
    out
}

/// The `first`/`next` answers of a driver transcript, sorted, and the
/// transcript with each answer replaced by a placeholder.
fn seq_answers(transcript: &str) -> (String, Vec<String>) {
    let mut rest = String::new();
    let mut answers = Vec::new();
    let mut after_seq = false;
    for line in transcript.split_inclusive('\n') {
        if after_seq && line.contains('=') {
            answers.push(line.to_string());
            rest.push_str("<entry>\n");
        } else {
            rest.push_str(line);
        }
        after_seq = line == "> first\n" || line == "> next\n";
    }
    answers.sort();
    (rest, answers)
}

/// `first`/`next` walk a Berkeley DB hash in its own order; ours walks
/// the table's order. So the entries are compared as a set (sorted), and
/// everything else byte for byte.
#[test]
fn dict_seq() {
    let got = String::from_utf8(replay_case(&recipe("dict_seq"))).expect("text");
    let want = dict_seq_for_3_7_11(&fixture("dict_seq.ref"));
    let (got_rest, got_entries) = seq_answers(&got);
    let (want_rest, want_entries) = seq_answers(&want);
    assert_eq!(got_rest, want_rest);
    assert_eq!(got_entries, want_entries);
    assert_eq!(want_entries.len(), 5);
}

/// The driver echoes its input, and dict_utf8_test.ref echoes "έ" of
/// "Δημοσθένους" as U+1F73 (Greek extended, bytes e1 bd b3), the
/// character of Postfix's recipe. invocations.json has the canonically
/// equivalent U+03AD (ce ad) there instead, as after a Unicode NFC
/// normalization; we feed the recipe's bytes.
#[test]
fn dict_utf8() {
    let got = replay_case(&Recipe {
        stdin_fix: Some(("\u{3ad}", "\u{1f73}")),
        ..recipe("dict_utf8")
    });
    assert_bytes_eq(&got, &fixture_bytes("dict_utf8_test.ref"));
}

/// Deterministic as in Postfix's recipe: the one valid table has a
/// single value (`{123 123}` is one value, twice), the others fail to
/// open.
#[test]
fn dict_random() {
    let got = replay_case(&recipe("dict_random"));
    assert_bytes_eq(&got, &fixture_bytes("dict_random.ref"));
}

#[test]
fn dict_random_file() {
    let got = replay_case(&recipe("dict_random_file"));
    assert_bytes_eq(&got, &fixture_bytes("dict_random_file.ref"));
}

/// `put`, `get`, `del` and `first`/`next` on every indexed type opened
/// for writing, with `fold_fix`, and a table that `create` empties.
#[test]
fn indexed_tables_update_in_write_mode() {
    for kind in ["hash", "btree", "cdb", "lmdb"] {
        in_scratch_dir(&[], |_| {
            let spec = format!("{kind}:t");
            let input = "put B 2\nput a 1\nput A 3\nget a\nget b\ndel c\nfirst\nnext\nnext\n";
            let out = replay(&[&spec, "create", "fold_fix"], input);
            let tail = out.split("> get a\n").nth(1).unwrap_or_default();
            let want = "a=3\n> get b\nb=2\n> del c\nc: not found\n";
            assert!(tail.starts_with(want), "{kind}: {out}");
            let mut entries: Vec<&str> = tail.lines().filter(|l| l.contains('=')).collect();
            entries.sort_unstable();
            assert_eq!(entries, ["a=3", "a=3", "b=2", "b=2"], "{kind}: {out}");

            let again = replay(&[&spec, "write"], "get a\ndel a\nget a\n");
            assert!(again.ends_with("a=3\n> del a\na: deleted\n> get a\na: not found\n"));
            let emptied = replay(&[&spec, "create"], "get b\nfirst\n");
            assert!(
                emptied.ends_with("b: not found\n> first\nnot found\n"),
                "{emptied}"
            );
        });
    }
}

#[test]
fn write_mode_needs_an_existing_table() {
    in_scratch_dir(&[], |_| {
        let out = replay(&["hash:missing", "write"], "get a\nput a b\ndel a\nfirst\n");
        let reason = "open database missing.db: No such file or directory";
        let unavailable = format!("./dict_open: warning: hash:missing is unavailable. {reason}\n");
        assert_eq!(
            out,
            format!(
                "./dict_open: error: {reason}\nowner=trusted (uid=2147483647)\n\
                 > get a\n{unavailable}a: error\n> put a b\n{unavailable}a: error\n\
                 > del a\n{unavailable}a: error\n> first\n{unavailable}error\n"
            )
        );
    });
}

#[test]
fn read_only_types_refuse_write_modes() {
    for spec in ["randmap:{a}", "inline:{a=b}", "cidr:x"] {
        for mode in ["write", "create"] {
            let out = replay(&[spec, mode], "");
            assert!(
                out.starts_with(&format!(
                    "./dict_open: error: {spec} map requires O_RDONLY access mode\n"
                )),
                "{out}"
            );
        }
    }
}

#[test]
fn internal_table_flags_and_utf8_deletes() {
    let out = replay_bytes(
        &["internal:x", "read", "fold_fix,utf8_request"],
        b"flags\nput K v\nget k\ndel \\200\ndel k\nget K\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&out),
        "owner=trusted (uid=2147483647)\n\
         > flags\n\
         dict flags fixed|lock|replace|fold_fix|utf8_request|utf8_active\n\
         > put K v\n\
         > get k\n\
         k=v\n\
         > del \\200\n\
         ./dict_open: warning: internal:x: non-UTF-8 key \"?\": \
         malformed UTF-8 or invalid codepoint\n\
         \u{fffd}: deleted\n\
         > del k\n\
         k: deleted\n\
         > get K\n\
         K: not found\n"
    );
}
