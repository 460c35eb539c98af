//! A replay of Postfix's `dict_open` test driver (`dict_test.c`, 3.7.11)
//! on top of [`postmap::open`] and [`postmap::indexed`], so the
//! `util/dict_*.ref` fixtures can be compared byte for byte. Include it
//! from a test file with `#[path = "support/dict_open.rs"] mod dict_open;`.
//!
//! What it emulates (fixtures README §2):
//! - `args` are the driver's arguments: `type:name`, the access mode
//!   (`read`, `write`, `create`) and an optional flag list
//!   (`fold_fix,src_rhs_is_file,utf8_request,...`; names Postfix does not
//!   know are ignored, where Postfix 3.7.11 would stop with a fatal
//!   error).
//! - Open warnings print as `./dict_open: warning: ...`, an open error as
//!   `./dict_open: error: <reason>`; then the `owner=` line. A table read
//!   from a file prints `owner=untrusted (uid=USER)`: the fixtures were
//!   made by an unprivileged user owning the file, and the recipes rewrite
//!   the uid to `USER`. `randmap` prints `owner=trusted (uid=0)`, as
//!   dict_random.c sets it. Every other table, and a table that failed to
//!   open, prints `owner=trusted (uid=2147483647)`.
//! - Each stdin line is echoed as `> line`; `#` lines are then skipped.
//!   `get key` prints `key=value`, `key: not found` or `key: error`;
//!   `put key value` prints nothing when done, `del key` prints
//!   `key: deleted` or `key: not found`; after a failed open each of them
//!   first warns `<spec> is unavailable. <reason>` and answers `error`.
//!   `first`/`next` walk the table's entries. `flags` prints the dict
//!   flags, `verbose` nothing; `masks` is not emulated.
//! - `put` and `del` work on indexed tables opened `write` or `create`
//!   and on `internal:` tables (see `dict_store.rs`). Tables opened for
//!   reading answer them with the usage line (not emulated).
//! - With `utf8_request`, keys and values that are not UTF-8 are refused
//!   as Postfix's `dict_utf8` wrapper refuses them, through
//!   `postmap::table::{check_key, check_update, lookup_bytes}`.
//! - `write`/`create` on a type that Postfix opens read-only only
//!   (inline, unionmap, pipemap, texthash, regexp, pcre, cidr, randmap)
//!   fails with Postfix's `<spec> map requires O_RDONLY access mode`.
#![allow(dead_code)]

#[path = "dict_store.rs"]
mod dict_store;

use std::path::Path;
use std::sync::Mutex;

use dict_store::{Entries, Store};
use postmap::OpenOptions;
use postmap::table;

const PROGRAM: &str = "./dict_open";
const USAGE: &str = "usage: verbose|del key|get key|put key=value|first|next|masks|flags";

/// Types whose name is a file (unless it is an inline `{...}` text).
const FILE_TYPES: &[&str] = &[
    "texthash", "regexp", "pcre", "cidr", "hash", "btree", "cdb", "lmdb",
];

/// Postfix's dict flags (`dict.h`), in the order of `dict_mask[]`
/// (`dict.c`), which is the order `flags` prints them in.
const DICT_MASK: &[(&str, u32)] = &[
    ("warn_dup", 1 << 0),
    ("ignore_dup", 1 << 1),
    ("try0null", 1 << 2),
    ("try1null", 1 << 3),
    ("fixed", 1 << 4),
    ("pattern", 1 << 5),
    ("lock", 1 << 6),
    ("replace", 1 << 7),
    ("sync_update", 1 << 8),
    ("debug", 1 << 9),
    ("no_regsub", 1 << 11),
    ("no_proxy", 1 << 12),
    ("no_unauth", 1 << 13),
    ("fold_fix", 1 << 14),
    ("fold_mul", 1 << 15),
    ("open_lock", 1 << 16),
    ("bulk_update", 1 << 17),
    ("multi_writer", 1 << 18),
    ("utf8_request", 1 << 19),
    ("utf8_active", 1 << 20),
    ("src_rhs_is_file", 1 << 21),
];

fn flag(name: &str) -> u32 {
    DICT_MASK
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, bit)| *bit)
}

/// An opened table and what the driver knows about it.
struct Dict<'a> {
    spec: &'a str,
    store: Result<Store, String>,
    flags: u32,
    /// The `first`/`next` position: a snapshot of the entries.
    cursor: Option<(Entries, usize)>,
}

impl Dict<'_> {
    fn has(&self, name: &str) -> bool {
        self.flags & flag(name) != 0
    }
}

/// Run the driver with `args` and `stdin`; returns what it writes to
/// stdout and stderr, interleaved as the C driver (which flushes every
/// line) writes them.
pub(crate) fn replay(args: &[&str], stdin: &str) -> String {
    String::from_utf8_lossy(&replay_bytes(args, stdin.as_bytes())).into_owned()
}

/// [`replay`] for input that need not be UTF-8; the output is bytes too.
pub(crate) fn replay_bytes(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let spec = args.first().copied().unwrap_or_default();
    let mode = args.get(1).copied().unwrap_or("read");
    let requested = args.get(2).copied().unwrap_or_default();
    let opts = options(requested);

    let opened = dict_store::open(spec, mode, &opts);
    match &opened {
        Ok((_, warnings)) => {
            for w in warnings {
                say(&mut out, format!("{PROGRAM}: warning: {w}"));
            }
        }
        Err(reason) => say(&mut out, format!("{PROGRAM}: error: {reason}")),
    }
    let owner = match &opened {
        Ok(_) if dict_store::type_of(spec) == "randmap" => "owner=trusted (uid=0)",
        Ok(_) if is_file_table(spec) => "owner=untrusted (uid=USER)",
        _ => "owner=trusted (uid=2147483647)",
    };
    say(&mut out, owner);

    let mut dict = Dict {
        spec,
        flags: flags(spec, requested),
        store: opened.map(|(store, _)| store),
        cursor: None,
    };
    for line in input_lines(stdin) {
        out.extend_from_slice(b"> ");
        out.extend_from_slice(line);
        out.push(b'\n');
        if line.starts_with(b"#") {
            continue;
        }
        run_command(line, &mut dict, &mut out);
    }
    out
}

fn say(out: &mut Vec<u8>, line: impl AsRef<str>) {
    out.extend_from_slice(line.as_ref().as_bytes());
    out.push(b'\n');
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
    String::from_utf8(fixture_bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The bytes of fixture `name` in `tests/fixtures/dict/`.
pub(crate) fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dict")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The driver's open options: no folding unless `fold_fix` is given (it
/// passes only the flags named on its command line).
fn options(flags: &str) -> OpenOptions {
    let mut opts = OpenOptions {
        fold: false,
        utf8_check: false,
        ..OpenOptions::default()
    };
    for flag in flag_names(flags) {
        match flag {
            "fold_fix" => opts.fold = true,
            "src_rhs_is_file" => opts.rhs_is_file = true,
            "utf8_request" => opts.utf8_check = true,
            _ => {}
        }
    }
    opts
}

fn flag_names(flags: &str) -> impl Iterator<Item = &str> {
    flags.split([',', '|', ' ', '\t']).filter(|f| !f.is_empty())
}

/// The table's dict flags: those requested, `lock` and `replace` as the
/// driver adds them, what the type's open function sets (dict_ht,
/// dict_inline, dict_static, dict_db, dict_cdb, dict_lmdb: `fixed`, the
/// Berkeley DB, cdb and LMDB ones also `try0null|try1null` until the
/// first access decides; the pattern tables and randmap: `pattern`), and
/// `utf8_active` when UTF-8 checks were requested.
fn flags(spec: &str, requested: &str) -> u32 {
    let mut bits = flag_names(requested).map(flag).fold(0, |a, b| a | b);
    if bits & flag("open_lock") == 0 {
        bits |= flag("lock");
    }
    if bits & (flag("warn_dup") | flag("ignore_dup")) == 0 {
        bits |= flag("replace");
    }
    bits |= match dict_store::type_of(spec) {
        "internal" | "inline" | "static" | "texthash" => flag("fixed"),
        "hash" | "btree" | "cdb" | "lmdb" => flag("fixed") | flag("try0null") | flag("try1null"),
        "regexp" | "pcre" | "cidr" | "randmap" => flag("pattern"),
        _ => 0,
    };
    if bits & flag("utf8_request") != 0 {
        bits |= flag("utf8_active");
    }
    bits
}

/// Postfix `dict_flags_str()`: the names joined with `|`.
fn flags_text(bits: u32) -> String {
    let names: Vec<&str> = DICT_MASK
        .iter()
        .filter(|(_, bit)| bits & bit != 0)
        .map(|(name, _)| *name)
        .collect();
    names.join("|")
}

fn is_file_table(spec: &str) -> bool {
    let name = spec.split_once(':').map_or("", |(_, name)| name);
    FILE_TYPES.contains(&dict_store::type_of(spec)) && !name.starts_with('{')
}

/// Lines as `vstring_fgets_nonl` reads them: split on newline only, a
/// last line without newline included.
fn input_lines(stdin: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = stdin.strip_suffix(b"\n").unwrap_or(stdin);
    body.split(|&c| c == b'\n')
        .filter(move |_| !stdin.is_empty())
}

/// The next token of `s` separated by any of `delims` (Postfix
/// `mystrtok`), and the rest after it.
fn next_token<'a>(s: &'a [u8], delims: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let start = s.iter().position(|c| !delims.contains(c))?;
    let s = &s[start..];
    let end = s.iter().position(|c| delims.contains(c)).unwrap_or(s.len());
    Some((&s[..end], s.get(end + 1..).unwrap_or_default()))
}

fn run_command(line: &[u8], dict: &mut Dict<'_>, out: &mut Vec<u8>) {
    let Some((cmd, rest)) = next_token(line, b" ") else {
        say(out, USAGE);
        return;
    };
    // The key (unescaped) and the value are split on space or '='; text
    // after the value is ignored, as in Postfix.
    let (key, rest) = match next_token(rest, b" =") {
        Some((key, rest)) => (Some(unescape(key)), rest),
        None => (None, rest),
    };
    let value = next_token(rest, b" =").map(|(value, _)| value);
    match (cmd, key, value) {
        (b"get", Some(key), None) => get(&key, dict, out),
        (b"put", Some(key), Some(value)) => put(&key, value, dict, out),
        (b"del", Some(key), None) => del(&key, dict, out),
        (b"first", None, None) => {
            dict.cursor = None;
            seq(dict, out);
        }
        (b"next", None, None) => seq(dict, out),
        (b"flags", None, None) => say(out, format!("dict flags {}", flags_text(dict.flags))),
        (b"verbose", None, None) => {}
        _ => say(out, USAGE),
    }
}

/// `key: <what>`, the key as the user typed it (after unescaping).
fn answer(out: &mut Vec<u8>, key: &[u8], what: &str) {
    out.extend_from_slice(key);
    say(out, format!(": {what}"));
}

/// After a failed open every request warns and fails, as Postfix's
/// surrogate table (dict_surrogate.c) does: true when it did.
fn open_failed(dict: &Dict<'_>, out: &mut Vec<u8>) -> bool {
    let Err(reason) = &dict.store else {
        return false;
    };
    say(
        out,
        format!("{PROGRAM}: warning: {} is unavailable. {reason}", dict.spec),
    );
    true
}

fn get(key: &[u8], dict: &Dict<'_>, out: &mut Vec<u8>) {
    if open_failed(dict, out) {
        return answer(out, key, "error");
    }
    if dict.has("utf8_request")
        && let Err(warning) = table::check_key(dict.spec, key)
    {
        say(out, format!("{PROGRAM}: warning: {warning}"));
        return answer(out, key, "not found");
    }
    let Ok(store) = &dict.store else {
        return;
    };
    match store.get(key, dict.has("fold_fix")) {
        Ok(Some(value)) => {
            out.extend_from_slice(key);
            out.push(b'=');
            out.extend_from_slice(&value);
            out.push(b'\n');
        }
        Ok(None) => answer(out, key, "not found"),
        Err(()) => answer(out, key, "error"),
    }
}

fn put(key: &[u8], value: &[u8], dict: &mut Dict<'_>, out: &mut Vec<u8>) {
    if open_failed(dict, out) {
        return answer(out, key, "error");
    }
    if dict.has("utf8_request")
        && let Err(warning) = table::check_update(dict.spec, key, value)
    {
        // Skipped, and reported as done.
        return say(out, format!("{PROGRAM}: warning: {warning}"));
    }
    let fold = dict.has("fold_fix");
    let Ok(store) = &mut dict.store else {
        return;
    };
    match store.put(key, value, fold) {
        None => say(out, USAGE),
        Some(Ok(())) => {}
        Some(Err(reason)) => {
            say(out, format!("{PROGRAM}: warning: {reason}"));
            answer(out, key, "error");
        }
    }
}

fn del(key: &[u8], dict: &mut Dict<'_>, out: &mut Vec<u8>) {
    if open_failed(dict, out) {
        return answer(out, key, "error");
    }
    if dict.has("utf8_request")
        && let Err(warning) = table::check_key(dict.spec, key)
    {
        // Skipped, and reported as done: Postfix says "deleted".
        say(out, format!("{PROGRAM}: warning: {warning}"));
        return answer(out, key, "deleted");
    }
    let fold = dict.has("fold_fix");
    let Ok(store) = &mut dict.store else {
        return;
    };
    match store.del(key, fold) {
        None => say(out, USAGE),
        Some(Ok(true)) => answer(out, key, "deleted"),
        Some(Ok(false)) => answer(out, key, "not found"),
        Some(Err(reason)) => {
            say(out, format!("{PROGRAM}: warning: {reason}"));
            answer(out, key, "error");
        }
    }
}

/// `first` (cursor reset) and `next` over the table's entries.
fn seq(dict: &mut Dict<'_>, out: &mut Vec<u8>) {
    if open_failed(dict, out) {
        return say(out, "error");
    }
    let Ok(store) = &dict.store else {
        return;
    };
    if dict.cursor.is_none() {
        match store.entries() {
            Ok(entries) => dict.cursor = Some((entries, 0)),
            Err(()) => {
                say(out, "error");
                return;
            }
        }
    }
    let Some((entries, next)) = dict.cursor.as_mut() else {
        return;
    };
    match entries.get(*next) {
        Some((k, v)) => {
            out.extend_from_slice(k);
            out.push(b'=');
            out.extend_from_slice(v);
            out.push(b'\n');
            *next += 1;
        }
        None => say(out, "not found"),
    }
}

/// Postfix `unescape()`: C escapes `\a \b \f \n \r \t \v`, up to three
/// octal digits (one byte), and any other escaped byte as itself.
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.iter().copied().peekable();
    while let Some(c) = bytes.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(e) = bytes.next() else {
            break;
        };
        match e {
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut code = u32::from(e - b'0');
                for _ in 0..2 {
                    match bytes.next_if(|d| (b'0'..=b'7').contains(d)) {
                        Some(d) => code = code * 8 + u32::from(d - b'0'),
                        None => break,
                    }
                }
                // Three octal digits can exceed a byte; C keeps the low 8 bits.
                out.push(code.to_le_bytes()[0]);
            }
            other => out.push(other),
        }
    }
    out
}
