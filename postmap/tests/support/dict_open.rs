//! A replay of Postfix's `dict_open` test driver (`dict_test.c`) on top of
//! [`postmap::open`], so the `util/dict_*.ref` fixtures can be compared
//! byte for byte. Include it from a test file with
//! `#[path = "support/dict_open.rs"] mod dict_open;`.
//!
//! What it emulates (fixtures README §2):
//! - `args` are the driver's arguments: `type:name`, the access mode
//!   (`read`, `write`, `create`) and an optional flag list
//!   (`fold_fix,src_rhs_is_file,utf8_request`; other flags are ignored).
//! - Open warnings print as `./dict_open: warning: ...`, an open error as
//!   `./dict_open: error: <reason>`; then the `owner=` line. A table read
//!   from a file prints `owner=untrusted (uid=USER)`: the fixtures were
//!   made by an unprivileged user owning the file, and the recipes rewrite
//!   the uid to `USER`. Every other table, and a table that failed to
//!   open, prints `owner=trusted (uid=2147483647)`.
//! - Each stdin line is echoed as `> line`; `#` lines are then skipped.
//!   `get key` prints `key=value`, `key: not found` or `key: error`; after
//!   a failed open it first warns `<spec> is unavailable. <reason>`.
//!   `first`/`next` walk [`postmap::Table::entries`]. `put`, `del`,
//!   `verbose`, `flags` and `masks` are not emulated (our tables are
//!   read-only; postmap builds them) and print the usage line.
//! - `write`/`create` on a type that Postfix opens read-only only
//!   (inline, unionmap, pipemap, texthash, regexp, pcre, cidr) fails with
//!   Postfix's `<spec> map requires O_RDONLY access mode`; other types are
//!   opened for reading.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Mutex;

use postmap::{OpenOptions, Opened, Table};

const PROGRAM: &str = "./dict_open";
const USAGE: &str = "usage: verbose|del key|get key|put key=value|first|next|masks|flags";

/// Types whose Postfix open function refuses any mode but read-only.
const READ_ONLY_TYPES: &[&str] = &[
    "inline", "unionmap", "pipemap", "texthash", "regexp", "pcre", "cidr",
];

/// Types whose name is a file (unless it is an inline `{...}` text).
const FILE_TYPES: &[&str] = &[
    "texthash", "regexp", "pcre", "cidr", "hash", "btree", "cdb", "lmdb",
];

/// Run the driver with `args` and `stdin`; returns what it writes to
/// stdout and stderr, interleaved as the C driver (which flushes every
/// line) writes them.
pub(crate) fn replay(args: &[&str], stdin: &str) -> String {
    let mut out = String::new();
    let spec = args.first().copied().unwrap_or_default();
    let mode = args.get(1).copied().unwrap_or("read");
    let opts = options(args.get(2).copied().unwrap_or_default());

    let opened = open(spec, mode, &opts);
    match &opened {
        Ok(o) => {
            for w in &o.warnings {
                out.push_str(&format!("{PROGRAM}: warning: {w}\n"));
            }
        }
        Err(reason) => out.push_str(&format!("{PROGRAM}: error: {reason}\n")),
    }
    let from_file = opened.is_ok() && is_file_table(spec);
    out.push_str(if from_file {
        "owner=untrusted (uid=USER)\n"
    } else {
        "owner=trusted (uid=2147483647)\n"
    });

    let table = opened
        .as_ref()
        .map(|o| o.table.as_ref())
        .map_err(String::as_str);
    let mut cursor: Option<(Vec<(String, String)>, usize)> = None;
    for line in input_lines(stdin) {
        out.push_str(&format!("> {line}\n"));
        if line.starts_with('#') {
            continue;
        }
        run_command(line, spec, table, &mut cursor, &mut out);
    }
    out
}

/// Run `f` inside a fresh scratch directory holding `files` (name,
/// contents), as the current directory: the fixtures name their files
/// relative to it (`static:{ dict_static_file1 }`). The current directory
/// belongs to the whole test process, so callers are serialized.
pub(crate) fn in_scratch_dir<T>(files: &[(&str, &str)], f: impl FnOnce(&Path) -> T) -> T {
    static CWD: Mutex<()> = Mutex::new(());
    // A test that panicked while holding the lock left no state behind
    // but the directory, which is reset below.
    let _guard = CWD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().expect("create scratch dir");
    for (name, contents) in files {
        std::fs::write(dir.path().join(name), contents).expect("write scratch file");
    }
    let previous = std::env::current_dir().expect("current dir");
    std::env::set_current_dir(dir.path()).expect("enter scratch dir");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(dir.path())));
    std::env::set_current_dir(previous).expect("leave scratch dir");
    match result {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The text of fixture `name` in `tests/fixtures/dict/`.
pub(crate) fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dict")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The driver's open options: no folding unless `fold_fix` is given (it
/// passes only the flags named on its command line).
fn options(flags: &str) -> OpenOptions {
    let mut opts = OpenOptions {
        fold: false,
        utf8_check: false,
        ..OpenOptions::default()
    };
    for flag in flags.split([',', '|', ' ', '\t']) {
        match flag {
            "fold_fix" => opts.fold = true,
            "src_rhs_is_file" => opts.rhs_is_file = true,
            "utf8_request" => opts.utf8_check = true,
            _ => {}
        }
    }
    opts
}

fn open(spec: &str, mode: &str, opts: &OpenOptions) -> Result<Opened, String> {
    if mode != "read" && READ_ONLY_TYPES.contains(&type_of(spec)) {
        return Err(format!("{spec} map requires O_RDONLY access mode"));
    }
    postmap::open(spec, opts).map_err(|e| e.to_string())
}

fn type_of(spec: &str) -> &str {
    spec.split_once(':').map_or("", |(kind, _)| kind)
}

fn is_file_table(spec: &str) -> bool {
    let name = spec.split_once(':').map_or("", |(_, name)| name);
    FILE_TYPES.contains(&type_of(spec)) && !name.starts_with('{')
}

/// Lines as `vstring_fgets_nonl` reads them: split on newline only, a
/// last line without newline included.
fn input_lines(stdin: &str) -> impl Iterator<Item = &str> {
    let body = stdin.strip_suffix('\n').unwrap_or(stdin);
    body.split('\n').filter(move |_| !stdin.is_empty())
}

fn run_command(
    line: &str,
    spec: &str,
    table: Result<&dyn Table, &str>,
    cursor: &mut Option<(Vec<(String, String)>, usize)>,
    out: &mut String,
) {
    let line = line.trim_start_matches(' ');
    if line.is_empty() {
        out.push_str(&format!("{USAGE}\n"));
        return;
    }
    let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
    // The key and value are split on runs of space or '=' (mystrtok).
    let rest: Vec<&str> = rest.split([' ', '=']).filter(|w| !w.is_empty()).collect();
    let key = rest.first().map(|k| unescape(k));
    let has_value = rest.len() > 1;
    match (cmd, key, has_value) {
        ("get", Some(key), false) => get(&key, spec, table, out),
        ("first", None, false) => {
            *cursor = None;
            seq(table, cursor, out);
        }
        ("next", None, false) => seq(table, cursor, out),
        _ => out.push_str(&format!("{USAGE}\n")),
    }
}

fn get(key: &str, spec: &str, table: Result<&dyn Table, &str>, out: &mut String) {
    let table = match table {
        Ok(table) => table,
        Err(reason) => {
            out.push_str(&format!(
                "{PROGRAM}: warning: {spec} is unavailable. {reason}\n{key}: error\n"
            ));
            return;
        }
    };
    match table.lookup(key) {
        Ok(Some(value)) => out.push_str(&format!("{key}={value}\n")),
        Ok(None) => out.push_str(&format!("{key}: not found\n")),
        Err(_) => out.push_str(&format!("{key}: error\n")),
    }
}

/// `first` (cursor reset) and `next` over the table's entries.
fn seq(
    table: Result<&dyn Table, &str>,
    cursor: &mut Option<(Vec<(String, String)>, usize)>,
    out: &mut String,
) {
    let Ok(table) = table else {
        out.push_str("error\n");
        return;
    };
    if cursor.is_none() {
        match table.entries() {
            Ok(entries) => *cursor = Some((entries, 0)),
            Err(_) => {
                out.push_str("error\n");
                return;
            }
        }
    }
    let Some((entries, next)) = cursor.as_mut() else {
        return;
    };
    match entries.get(*next) {
        Some((k, v)) => {
            out.push_str(&format!("{k}={v}\n"));
            *next += 1;
        }
        None => out.push_str("not found\n"),
    }
}

/// Postfix `unescape()`: C escapes `\a \b \f \n \r \t \v`, up to three
/// octal digits, and any other escaped character as itself.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            break;
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut code = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            other => out.push(other),
        }
    }
    out
}
