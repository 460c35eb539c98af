//! Replays Postfix 3.7's `dict_open` fixtures for regexp, pcre and cidr
//! tables byte for byte (see `tests/fixtures/dict/invocations.json` and
//! shared/postfix-fixtures/README.md §2), and feeds the three table types
//! garbage to show they never panic.
//!
//! The driver is emulated here: warnings from opening the table come
//! first as `./dict_open: warning: ...`, then `owner=...`, then each input
//! line echoed as `> line` followed by `key=value`, `key: not found` or
//! `key: error`. Table ownership is not modelled; file tables print the
//! `owner=untrusted (uid=USER)` line the recipes' filter produces.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use postmap::{OpenOptions, Opened};

/// The fixtures name files relative to the current directory, which is
/// process-wide: one replay at a time.
static CWD: Mutex<()> = Mutex::new(());

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dict")
}

/// One recipe from invocations.json.
struct Case {
    spec: &'static str,
    rhs_is_file: bool,
    /// A fixture file fed as stdin, or literal text.
    stdin: Input,
    files_before: &'static [(&'static str, &'static str)],
    /// Whether the recipe drops `uid=` lines instead of rewriting them.
    drop_owner: bool,
    expect: &'static str,
}

enum Input {
    File(&'static str),
    Text(&'static str),
}

fn open(spec: &str, opts: &OpenOptions) -> Result<Opened, postmap::Error> {
    let (kind, name) = spec.split_once(':').expect("type:name");
    match kind {
        "regexp" => postmap::regexp::open(spec, name, opts),
        "pcre" => postmap::pcre::open(spec, name, opts),
        "cidr" => postmap::cidr::open(spec, name, opts),
        other => panic!("not a pattern table type: {other}"),
    }
}

/// What `dict_open type:name read [flags]` prints for `input`.
fn drive(case: &Case, input: &str) -> String {
    let opts = OpenOptions {
        rhs_is_file: case.rhs_is_file,
        ..OpenOptions::default()
    };
    let mut out = String::new();
    let opened = open(case.spec, &opts);
    let table = match opened {
        Ok(opened) => {
            for warning in &opened.warnings {
                out.push_str(&format!("./dict_open: warning: {warning}\n"));
            }
            Some(opened.table)
        }
        Err(err) => {
            out.push_str(&format!("./dict_open: error: {err}\n"));
            None
        }
    };
    if !case.drop_owner {
        out.push_str("owner=untrusted (uid=USER)\n");
    }
    for line in input.lines() {
        out.push_str(&format!("> {line}\n"));
        if line.starts_with('#') {
            continue;
        }
        let Some(key) = line.strip_prefix("get ") else {
            panic!("the pattern fixtures only use get: {line}");
        };
        let answer = match &table {
            Some(table) => table.lookup(key),
            None => Err(postmap::Error::Open("unavailable".into())),
        };
        match answer {
            Ok(Some(value)) => out.push_str(&format!("{key}={value}\n")),
            Ok(None) => out.push_str(&format!("{key}: not found\n")),
            Err(_) => out.push_str(&format!("{key}: error\n")),
        }
    }
    out
}

/// Run `case` in a scratch directory holding the fixtures, as the
/// recipes run in Postfix's source directory.
fn replay(case: &Case) {
    let _guard = CWD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(fixtures()).expect("fixtures") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    for (name, content) in case.files_before {
        std::fs::write(dir.path().join(name), content).expect("files_before");
    }
    let input = match case.stdin {
        Input::File(name) => std::fs::read_to_string(fixtures().join(name)).expect("stdin"),
        Input::Text(text) => text.to_string(),
    };
    let old = std::env::current_dir().expect("cwd");
    std::env::set_current_dir(dir.path()).expect("chdir");
    let got = std::panic::catch_unwind(|| drive(case, &input));
    std::env::set_current_dir(old).expect("chdir back");
    let got = got.expect("driver panicked");
    // The pcre recipe rewrites an older PCRE's wording.
    let got = got.replace("missing )", "missing closing parenthesis");
    let want = std::fs::read_to_string(fixtures().join(case.expect)).expect("ref");
    assert_eq!(got, want, "{}", case.expect);
}

const FILES_REGEXP: &[(&str, &str)] = &[
    ("dict_regexp_file1", "this-is-file1\n"),
    ("dict_regexp_file2", "this-is-file2\n"),
];
const FILES_PCRE: &[(&str, &str)] = &[
    ("dict_pcre_file1", "this-is-file1\n"),
    ("dict_pcre_file2", "this-is-file2\n"),
];
const FILES_CIDR: &[(&str, &str)] = &[
    ("dict_cidr_file1", "this-is-file1\n"),
    ("dict_cidr_file2", "this-is-file2\n"),
];

fn file_case(spec: &'static str, stdin: &'static str, expect: &'static str) -> Case {
    Case {
        spec,
        rhs_is_file: false,
        stdin: Input::File(stdin),
        files_before: &[],
        drop_owner: false,
        expect,
    }
}

#[test]
fn dict_regexp() {
    replay(&file_case(
        "regexp:dict_regexp.map",
        "dict_regexp.in",
        "dict_regexp.ref",
    ));
}

#[test]
fn dict_pcre() {
    replay(&file_case(
        "pcre:dict_pcre.map",
        "dict_pcre.in",
        "dict_pcre.ref",
    ));
}

#[test]
fn dict_cidr() {
    replay(&file_case(
        "cidr:dict_cidr.map",
        "dict_cidr.in",
        "dict_cidr.ref",
    ));
}

#[test]
fn dict_regexp_file() {
    replay(&Case {
        rhs_is_file: true,
        files_before: FILES_REGEXP,
        ..file_case(
            "regexp:dict_regexp_file.map",
            "dict_regexp_file.in",
            "dict_regexp_file.ref",
        )
    });
}

#[test]
fn dict_pcre_file() {
    replay(&Case {
        rhs_is_file: true,
        files_before: FILES_PCRE,
        ..file_case(
            "pcre:dict_pcre_file.map",
            "dict_pcre_file.in",
            "dict_pcre_file.ref",
        )
    });
}

#[test]
fn dict_cidr_file() {
    replay(&Case {
        rhs_is_file: true,
        files_before: FILES_CIDR,
        ..file_case(
            "cidr:dict_cidr_file.map",
            "dict_cidr_file.in",
            "dict_cidr_file.ref",
        )
    });
}

fn miss_endif(spec: &'static str, expect: &'static str) -> Case {
    Case {
        stdin: Input::Text("get 1.2.3.5\n"),
        ..file_case(spec, "", expect)
    }
}

#[test]
fn miss_endif_cidr() {
    replay(&miss_endif(
        "cidr:miss_endif_cidr.map",
        "miss_endif_cidr.ref",
    ));
}

#[test]
fn miss_endif_regexp() {
    replay(&miss_endif(
        "regexp:miss_endif_re.map",
        "miss_endif_regexp.ref",
    ));
}

#[test]
fn miss_endif_pcre() {
    replay(&miss_endif("pcre:miss_endif_re.map", "miss_endif_pcre.ref"));
}

fn inline(spec: &'static str, stdin: &'static str, expect: &'static str) -> Case {
    Case {
        stdin: Input::Text(stdin),
        drop_owner: true,
        ..file_case(spec, "", expect)
    }
}

#[test]
fn dict_inline_regexp() {
    replay(&inline(
        "regexp:{{/foo/ got foo}}",
        "get foo\nget bar\n",
        "dict_inline_regexp.ref",
    ));
}

#[test]
fn dict_inline_pcre() {
    replay(&inline(
        "pcre:{{/foo/ got foo}}",
        "get foo\nget bar\n",
        "dict_inline_pcre.ref",
    ));
}

#[test]
fn dict_inline_cidr() {
    replay(&inline(
        "cidr:{{1.2.3.4 got 1.2.3.4}}",
        "get 1.2.3.4\nget 4.3.2.1\n",
        "dict_inline_cidr.ref",
    ));
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let n = self.next() as usize % items.len();
        items[n]
    }

    fn text(&mut self, pieces: &[&str], max: u64) -> String {
        let len = self.next() % max;
        (0..len).map(|_| self.pick(pieces)).collect()
    }
}

/// Rule text and keys built from every character that means something to
/// one of the three syntaxes; opening and looking up must never panic.
#[test]
fn garbage_never_panics() {
    let pieces = [
        "/",
        "!",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "\\",
        "$",
        "$$",
        "${",
        "$(",
        "$1",
        "${9}",
        "*",
        "+",
        "?",
        "|",
        "^",
        ".",
        ":",
        "::",
        "-",
        ",",
        "=",
        " ",
        "\t",
        "\n",
        "\n ",
        "#",
        "a",
        "Z",
        "0",
        "9",
        "1.2.3.4",
        "/24",
        "/129",
        "ffff",
        "[:alpha:]",
        "[.a.]",
        "(?",
        "(?<",
        "\\1",
        "\\Q",
        "\\E",
        "\\x{",
        "\\b",
        "\\<",
        "if",
        "endif",
        "IF ",
        "ENDIF",
        "é",
        "\u{0}",
        "{2,1}",
        "{99999}",
        "(?=",
        "(?<=a+)",
        "\\K",
        "(*",
        "\\g<1>",
        "[[=",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let opts = OpenOptions::default();
    for round in 0..400 {
        let text = rng.text(&pieces, 40);
        let keys: Vec<String> = (0..8).map(|_| rng.text(&pieces, 12)).collect();
        let tables = [
            postmap::regexp::from_text("regexp:g", "g", &text, &opts),
            postmap::pcre::from_text("pcre:g", "g", &text, &opts),
            postmap::cidr::from_text("cidr:g", "g", &text, &opts),
        ];
        for table in tables {
            let table = table.unwrap_or_else(|e| panic!("round {round}: {e}"));
            for key in &keys {
                // Errors are fine (a pcre backtracking limit); panics are not.
                let _ = table.table.lookup(key);
            }
        }
        // Rules that are well formed up to the garbage in their pattern.
        for kind in ["regexp", "pcre"] {
            let rule = format!(
                "/{}/ r$1\nif /{}/\n/x/ y\nendif\n",
                rng.text(&pieces, 10),
                rng.text(&pieces, 10)
            );
            let opened = match kind {
                "regexp" => postmap::regexp::from_text("regexp:g", "g", &rule, &opts),
                _ => postmap::pcre::from_text("pcre:g", "g", &rule, &opts),
            };
            let opened = opened.unwrap_or_else(|e| panic!("round {round}: {e}"));
            for key in &keys {
                let _ = opened.table.lookup(key);
            }
        }
    }
}

/// Postfix 3.7's inline form `type:{ {rule}, {rule} }`, through the
/// registry, with Postfix's error for text that is not a rule in braces.
#[test]
fn inline_rules_through_open() {
    let opts = OpenOptions::default();
    let opened = postmap::open("regexp:{ {/a/ b}, {/c/ d} }", &opts).expect("open");
    assert_eq!(opened.table.lookup("c").unwrap().as_deref(), Some("d"));
    let opened = postmap::open("cidr:{{10.0.0.0/8 ten}}", &opts).expect("open");
    assert_eq!(
        opened.table.lookup("10.1.1.1").unwrap().as_deref(),
        Some("ten")
    );
    match postmap::open("regexp:{/x/ y}", &opts) {
        Err(postmap::Error::Open(text)) => {
            assert_eq!(text, "regexp map: no '{' at start of text in \"/x/\"");
        }
        other => panic!("expected an open error, got {other:?}"),
    }
}
