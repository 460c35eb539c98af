//! Postfix's `util/dict_*` fixtures for the tables written in place
//! (inline, static, fail, texthash, unionmap, pipemap), the surrogate
//! (failed open) behaviour, and the inline forms of the pattern tables,
//! replayed through `postmap::open` and compared byte for byte.
//!
//! The runs below are those of `tests/fixtures/dict/invocations.json`
//! (checked by `runs_match_invocations_json`).

#[path = "support/dict_open.rs"]
mod dict_open;

use dict_open::{fixture, in_scratch_dir, replay};

/// One driver run of a fixture.
struct Run {
    args: &'static [&'static str],
    stdin: &'static str,
    /// A line written before the run (`sh -x` tracing in the recipe).
    emit_before: Option<&'static str>,
    /// The recipe drops the `owner=` line (`drop_lines_matching: uid=`).
    drop_uid: bool,
}

const fn run(args: &'static [&'static str], stdin: &'static str) -> Run {
    Run {
        args,
        stdin,
        emit_before: None,
        drop_uid: false,
    }
}

const fn traced(args: &'static [&'static str], stdin: &'static str, trace: &'static str) -> Run {
    Run {
        args,
        stdin,
        emit_before: Some(trace),
        drop_uid: false,
    }
}

const fn uid_dropped(args: &'static [&'static str], stdin: &'static str) -> Run {
    Run {
        args,
        stdin,
        emit_before: None,
        drop_uid: true,
    }
}

/// The concatenated output of `runs`, in a scratch directory with `files`.
fn replay_runs(runs: &[Run], files: &[(&str, &str)]) -> String {
    in_scratch_dir(files, |_| {
        let mut out = String::new();
        for r in runs {
            if let Some(line) = r.emit_before {
                out.push_str(line);
                out.push('\n');
            }
            let text = replay(r.args, r.stdin);
            for line in text.split_inclusive('\n') {
                if !(r.drop_uid && line.contains("uid=")) {
                    out.push_str(line);
                }
            }
        }
        out
    })
}

const INLINE: &[Run] = &[
    run(&["inline:{ }", "read"], ""),
    run(&["inline:{ foo = xx }", "read"], ""),
    run(&["inline:{ foo=xx }x", "read"], ""),
    run(&["inline:{ foo=xx x", "read"], ""),
    run(&["inline:{ foo=xx {x=y}x}", "read"], ""),
    run(
        &[
            "inline:{ foo=XX, { bAr = lotsa stuff }}",
            "read",
            "fold_fix",
        ],
        "get foo\nget bar\nget baz\n",
    ),
    run(
        &[
            "inline:{ foo=XX, { bAr = lotsa stuff }}",
            "read",
            "fold_fix,utf8_request",
        ],
        "get foo\nget bar\nget baz\n",
    ),
];

const INLINE_FILE: &[Run] = &[
    run(
        &["inline:{ foo=xx, bar=yy }", "read", "src_rhs_is_file"],
        "get foo\n",
    ),
    run(
        &[
            "inline:{ file1=dict_inline_file1, file2=dict_inline_file2}",
            "read",
            "src_rhs_is_file",
        ],
        "get file1\nget file2\nget file3\n",
    ),
];

const STATIC: &[Run] = &[
    run(&["static:fooxx", "read"], "get foo\nget bar\n"),
    run(&["static:{ foo xx ", "read"], ""),
    run(&["static:{ foo xx }x", "read"], ""),
    run(&["static:{ foo xx }", "read"], "get foo\nget bar\n"),
];

const STATIC_FILE: &[Run] = &[
    run(&["static:fooxx", "read", "src_rhs_is_file"], "get foo\n"),
    run(
        &["static:{ dict_static_file1 }", "read", "src_rhs_is_file"],
        "get file1\nget file2\n",
    ),
];

const UNION: &[Run] = &[
    traced(
        &[
            "unionmap:{static:one,static:two,inline:{foo=three}}",
            "read",
        ],
        "get foo\nget bar\n",
        "+ ./dict_open unionmap:{static:one,static:two,inline:{foo=three}} read",
    ),
    traced(
        &["unionmap:{static:one,fail:fail}", "read"],
        "get foo\n",
        "+ ./dict_open unionmap:{static:one,fail:fail} read",
    ),
];

const PIPE: &[Run] = &[
    traced(
        &["pipemap:{inline:{k1=v1,k2=v2},inline:{v2=v3}}", "read"],
        "get k0\nget k1\nget k2\n",
        "+ ./dict_open pipemap:{inline:{k1=v1,k2=v2},inline:{v2=v3}} read",
    ),
    traced(
        &["pipemap:{inline:{k1=v1},fail:fail}", "read"],
        "get k0\nget k1\n",
        "+ ./dict_open pipemap:{inline:{k1=v1},fail:fail} read",
    ),
];

const SURROGATE: &[Run] = &[
    run(&["cidr:/xx", "write"], "get foo\n"),
    run(&["cidr:/xx", "read"], "get foo\n"),
    run(&["pcre:/xx", "write"], "get foo\n"),
    run(&["pcre:/xx", "read"], "get foo\n"),
    run(&["regexp:/xx", "write"], "get foo\n"),
    run(&["regexp:/xx", "read"], "get foo\n"),
    run(&["unix:xx", "write"], "get foo\n"),
    run(&["unix:xx", "read"], "get foo\n"),
    run(&["texthash:/xx", "write"], "get foo\n"),
    run(&["texthash:/xx", "read"], "get foo\n"),
    run(&["hash:/xx", "read"], "get foo\n"),
];

const INLINE_REGEXP: &[Run] = &[uid_dropped(
    &["regexp:{{/foo/ got foo}}", "read"],
    "get foo\nget bar\n",
)];

const INLINE_PCRE: &[Run] = &[uid_dropped(
    &["pcre:{{/foo/ got foo}}", "read"],
    "get foo\nget bar\n",
)];

const INLINE_CIDR: &[Run] = &[uid_dropped(
    &["cidr:{{1.2.3.4 got 1.2.3.4}}", "read"],
    "get 1.2.3.4\nget 4.3.2.1\n",
)];

#[test]
fn dict_inline() {
    assert_eq!(replay_runs(INLINE, &[]), fixture("dict_inline.ref"));
}

#[test]
fn dict_inline_file() {
    let files = [
        ("dict_inline_file1", "this-is-file1\n"),
        ("dict_inline_file2", "this-is-file2\n"),
    ];
    assert_eq!(
        replay_runs(INLINE_FILE, &files),
        fixture("dict_inline_file.ref")
    );
}

#[test]
fn dict_static() {
    assert_eq!(replay_runs(STATIC, &[]), fixture("dict_static.ref"));
}

#[test]
fn dict_static_file() {
    let files = [("dict_static_file1", "this-is-file1\n")];
    assert_eq!(
        replay_runs(STATIC_FILE, &files),
        fixture("dict_static_file.ref")
    );
}

#[test]
fn dict_union() {
    assert_eq!(replay_runs(UNION, &[]), fixture("dict_union_test.ref"));
}

#[test]
fn dict_pipe() {
    assert_eq!(replay_runs(PIPE, &[]), fixture("dict_pipe_test.ref"));
}

/// Every run but the two `unix:xx` ones (runs 7 and 8, lines 25-34 of
/// the .ref): Postfix has a `unix:` table (passwd lookups) that opens
/// `unix:xx` and then refuses it ("map requires O_RDONLY access mode",
/// "unknown table: unix:xx"); we have no `unix:` type, so our open says
/// "unsupported dictionary type: unix".
#[test]
fn surrogate() {
    let expected = fixture("surrogate.ref");
    // Each run ends with its one lookup, "foo: error".
    let chunks: Vec<&str> = expected.split_inclusive("foo: error\n").collect();
    assert_eq!(chunks.len(), SURROGATE.len());
    let mut want = String::new();
    let mut runs = Vec::new();
    for (chunk, r) in chunks.iter().zip(SURROGATE) {
        if r.args[0].starts_with("unix:") {
            assert!(chunk.contains("unix:xx"), "{chunk}");
            continue;
        }
        want.push_str(chunk);
        runs.push(run(r.args, r.stdin));
    }
    assert_eq!(replay_runs(&runs, &[]), want);
}

/// `postmap -fs texthash:FILE`: open warnings on stderr, then every
/// entry as `key<TAB>value`. Postfix prints entries in hash-table order;
/// we sort both sides (the recipe's setup check sorts as well).
fn postmap_fs_texthash(path: &str) -> (String, Vec<String>) {
    let opts = postmap::OpenOptions {
        fold: false,
        ..postmap::OpenOptions::default()
    };
    let opened = postmap::open(&format!("texthash:{path}"), &opts).expect("texthash opens");
    let warnings: String = opened
        .warnings
        .iter()
        .map(|w| format!("postmap: warning: {w}\n"))
        .collect();
    let mut entries: Vec<String> = opened
        .table
        .entries()
        .expect("texthash dumps")
        .into_iter()
        .map(|(k, v)| format!("{k}\t{v}\n"))
        .collect();
    entries.sort();
    (warnings, entries)
}

#[test]
fn dict_thash() {
    let files = [
        ("dict_thash.in", fixture("dict_thash.in")),
        ("dict_thash.map", fixture("dict_thash.map")),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    in_scratch_dir(&files, |_| {
        // Setup check: the .map dumps as itself, without warnings.
        let (warnings, entries) = postmap_fs_texthash("dict_thash.map");
        assert_eq!(warnings, "");
        let mut map: Vec<String> = fixture("dict_thash.map")
            .split_inclusive('\n')
            .map(str::to_string)
            .collect();
        map.sort();
        assert_eq!(entries, map);

        let (warnings, entries) = postmap_fs_texthash("dict_thash.in");
        assert_eq!(warnings + &entries.concat(), fixture("dict_thash.ref"));
    });
}

#[test]
fn dict_inline_regexp() {
    assert_eq!(
        replay_runs(INLINE_REGEXP, &[]),
        fixture("dict_inline_regexp.ref")
    );
}

#[test]
fn dict_inline_pcre() {
    assert_eq!(
        replay_runs(INLINE_PCRE, &[]),
        fixture("dict_inline_pcre.ref")
    );
}

#[test]
fn dict_inline_cidr() {
    assert_eq!(
        replay_runs(INLINE_CIDR, &[]),
        fixture("dict_inline_cidr.ref")
    );
}

/// The runs above are the ones invocations.json lists (a text check: the
/// test name and every argument appear in it as JSON strings).
#[test]
fn runs_match_invocations_json() {
    let json = fixture("invocations.json");
    let as_json = |s: &str| {
        let escaped = s
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        format!("\"{escaped}\"")
    };
    let cases: [(&str, &[Run]); 10] = [
        ("dict_inline", INLINE),
        ("dict_inline_file", INLINE_FILE),
        ("dict_static", STATIC),
        ("dict_static_file", STATIC_FILE),
        ("dict_union", UNION),
        ("dict_pipe", PIPE),
        ("surrogate", SURROGATE),
        ("dict_inline_regexp", INLINE_REGEXP),
        ("dict_inline_pcre", INLINE_PCRE),
        ("dict_inline_cidr", INLINE_CIDR),
    ];
    for (name, runs) in cases {
        assert!(json.contains(&as_json(name)), "{name}");
        for r in runs {
            for arg in r.args {
                assert!(json.contains(&as_json(arg)), "{name}: {arg}");
            }
            assert!(json.contains(&as_json(r.stdin)) || r.stdin.is_empty());
        }
    }
}

#[test]
fn driver_echoes_comments_and_prints_usage() {
    let out = replay(
        &["inline:{a=b}", "read"],
        "# note\n\nput a=c\nget a\nfirst\nnext\nnext\n",
    );
    assert_eq!(
        out,
        "owner=trusted (uid=2147483647)\n\
         > # note\n\
         > \n\
         usage: verbose|del key|get key|put key=value|first|next|masks|flags\n\
         > put a=c\n\
         usage: verbose|del key|get key|put key=value|first|next|masks|flags\n\
         > get a\n\
         a=b\n\
         > first\n\
         a=b\n\
         > next\n\
         not found\n\
         > next\n\
         not found\n"
    );
}
