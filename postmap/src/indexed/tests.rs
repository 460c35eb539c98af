//! Tests of the indexed tables as postmap uses them: build, query, `-i`,
//! `-d`, `-s`, the Postfix fixtures, and readers during rebuilds. (A
//! file of its own: these exercise mod.rs and build.rs together.)

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::*;
use crate::aliases;
use crate::source::{self, Duplicates, ParseOptions};

const ALL: [Kind; 4] = [Kind::Hash, Kind::Btree, Kind::Cdb, Kind::Lmdb];

fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn name_in(dir: &tempfile::TempDir, file: &str) -> String {
    dir.path().join(file).display().to_string()
}

fn table(kind: Kind, name: &str, fold: bool, recheck: Recheck) -> IndexedTable {
    let opts = OpenOptions {
        fold,
        ..OpenOptions::default()
    };
    let spec = format!("{}:{name}", kind.type_name());
    IndexedTable::open(kind, &spec, name, &opts, recheck).expect("open table")
}

fn build(kind: Kind, name: &str, text: &str) -> Vec<String> {
    let parsed = source::parse(text.as_bytes(), name, &ParseOptions::default());
    create(kind, name, &parsed, &WriteOptions::default()).expect("build")
}

fn dump(t: &IndexedTable) -> Vec<String> {
    let mut lines: Vec<String> = t
        .entries()
        .expect("entries")
        .into_iter()
        .map(|(k, v)| format!("{k}\t{v}\n"))
        .collect();
    lines.sort();
    lines
}

#[test]
fn kinds_map_types_and_suffixes() {
    for kind in ALL {
        assert_eq!(Kind::from_type(kind.type_name()), Some(kind));
    }
    assert_eq!(Kind::from_type("regexp"), None);
    assert_eq!(Kind::Hash.suffix(), ".db");
    assert_eq!(Kind::Cdb.path("map.in"), PathBuf::from("map.in.cdb"));
    assert_eq!(Kind::Lmdb.dict_name("x"), "x");
    assert_eq!(Kind::Btree.dict_name("x"), "x.db");
}

#[test]
fn fixture_test1_and_test2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = name_in(&dir, "map.in");
    fs::write(&name, fixture("postmap/map.in")).expect("copy");
    for kind in ALL {
        let parsed = source::read(&name, &ParseOptions::default()).expect("read");
        assert!(
            create(kind, &name, &parsed, &WriteOptions::default())
                .expect("build")
                .is_empty()
        );
        let t = table(kind, &name, true, Recheck::Always);
        assert_eq!(t.lookup("abc"), Ok(Some("DEF".into())));
        assert_eq!(t.lookup("ABC"), Ok(Some("DEF".into())));
        assert_eq!(t.lookup("ghi"), Ok(Some("jkl".into())));
        assert_eq!(t.lookup("xyz"), Ok(None));
        // postmap -f: keys kept as written, queries not folded.
        let no_fold = ParseOptions {
            fold: false,
            ..ParseOptions::default()
        };
        let parsed = source::read(&name, &no_fold).expect("read");
        create(kind, &name, &parsed, &WriteOptions::default()).expect("build -f");
        let t = table(kind, &name, false, Recheck::Always);
        assert_eq!(t.lookup("ABC"), Ok(Some("DEF".into())));
        assert_eq!(t.lookup("abc"), Ok(None));
    }
}

#[test]
fn missing_table_is_postfix_open_error() {
    let opts = OpenOptions::default();
    for (kind, file) in [
        (Kind::Hash, "nonexist.db"),
        (Kind::Lmdb, "nonexist.lmdb"),
        (Kind::Cdb, "nonexist.cdb"),
    ] {
        let err = open(kind, "x", "nonexist", &opts).map(|_| ());
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err(format!("open database {file}: No such file or directory"))
        );
    }
    let err = delete(Kind::Hash, "nonexist", &["x"], true).map(|_| ());
    assert_eq!(
        err.map_err(|e| e.to_string()),
        Err("open database nonexist.db: No such file or directory".into())
    );
}

#[test]
fn warnings_interleave_like_postfix() {
    // Checked against postmap 3.7.11: parse warnings and the store's
    // duplicate warning come in line order.
    let text = "foo 1\nbad\nfoo 2\nxx: yy\nFOO 3\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let name = name_in(&dir, "t1");
    let w = build(Kind::Hash, &name, text);
    assert_eq!(
        w,
        [
            format!("{name}, line 2: expected format: key whitespace value"),
            format!("{name}.db: duplicate entry: \"foo\""),
            format!("{name}, line 4: record is in \"key: value\" format; is this an alias file?"),
            format!("{name}.db: duplicate entry: \"foo\""),
        ]
    );
    let w = build(Kind::Lmdb, &name, text);
    assert_eq!(w[1], format!("lmdb:{name}: duplicate entry: \"foo\""));
    let w = build(Kind::Cdb, &name, text);
    assert_eq!(w[1], format!("{name}: duplicate entry: \"foo\""));
    assert_eq!(
        table(Kind::Cdb, &name, true, Recheck::Never).lookup("foo"),
        Ok(Some("1".into()))
    );
}

#[test]
fn fixture_lmdb_abb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = name_in(&dir, "lmdb_abb");
    fs::write(&name, fixture("postmap/lmdb_abb")).expect("copy");
    let parsed = source::read(&name, &ParseOptions::default()).expect("read");
    let warnings = create(Kind::Lmdb, &name, &parsed, &WriteOptions::default()).expect("build");
    let mut out: String = warnings
        .iter()
        .map(|w| format!("postmap: warning: {w}\n"))
        .collect();
    out.extend(dump(&table(Kind::Lmdb, &name, true, Recheck::Always)));
    // The fixture ran in the table's directory.
    let out = out.replace(&format!("{}/", dir.path().display()), "");
    assert_eq!(out.as_bytes(), fixture("postmap/lmdb_abb.ref"));
}

#[test]
fn fixture_quote_test_with_incremental_updates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = name_in(&dir, "quote_test_map");
    let steps = [
        "\"aa bb\" cc\n",
        "\"dd ee ff\n",
        "gg\\ hh ii\n",
        "\"gg\\\"hh\" ii\n",
        "\"jj@kk\" ll\n",
        "mm@nn@oo pp\n",
        "@oo pp\n",
    ];
    let mut out = String::new();
    for stdin in steps {
        let parsed = source::parse(stdin.as_bytes(), "stdin", &ParseOptions::default());
        for w in update(Kind::Hash, &name, &parsed, &WriteOptions::default()).expect("update") {
            out.push_str(&format!("postmap: warning: {w}\n"));
        }
    }
    out.extend(dump(&table(Kind::Hash, &name, true, Recheck::Always)));
    assert_eq!(out.as_bytes(), fixture("postmap/quote_test.ref"));
}

#[test]
fn fixture_file_test_build_side() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = |file: &str| name_in(&dir, file);
    fs::write(at("postmap-file-1"), "this-is-file1").expect("write");
    fs::write(at("postmap-file-2"), "this-is-file2").expect("write");
    let with_files = ParseOptions {
        rhs_is_file: true,
        ..ParseOptions::default()
    };
    let mut out = String::new();
    let steps = [
        (format!("file-1 {}\n", at("postmap-file-1")), with_files),
        (format!("file-2 {}\n", at("postmap-file-2")), with_files),
        (format!("file-3 {}\n", at("postmap-file-3")), with_files),
        (
            "entry-4 postmap-entry-4\n".to_string(),
            ParseOptions::default(),
        ),
    ];
    let name = at("file_test_map");
    for (stdin, opts) in steps {
        let parsed = source::parse(stdin.as_bytes(), "stdin", &opts);
        for w in update(Kind::Hash, &name, &parsed, &WriteOptions::default()).expect("update") {
            out.push_str(&format!("postmap: warning: {w}\n"));
        }
    }
    out.extend(dump(&table(Kind::Hash, &name, true, Recheck::Always)));
    let out = out.replace(&format!("{}/", dir.path().display()), "");
    let want = String::from_utf8(fixture("postmap/file_test.ref")).expect("utf8");
    // The first four lines of the .ref are the -i steps and `-s`; the
    // rest decode with -F, which is the reading side's business.
    let head: String = want.lines().take(4).map(|l| format!("{l}\n")).collect();
    assert_eq!(out, head);
}

#[test]
fn update_keeps_existing_first_and_honours_replace() {
    for kind in ALL {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = name_in(&dir, "inc");
        build(kind, &name, "a 1\nb 2\n");
        let parsed = source::parse(b"a 9\nc 3\nc 4\n", "stdin", &ParseOptions::default());
        let w = update(kind, &name, &parsed, &WriteOptions::default()).expect("update");
        assert_eq!(w.len(), 2, "{kind:?}: {w:?}");
        let t = table(kind, &name, true, Recheck::Always);
        assert_eq!(t.lookup("a"), Ok(Some("1".into())));
        assert_eq!(t.lookup("c"), Ok(Some("3".into())));
        let parsed = source::parse(b"a 8\n", "stdin", &ParseOptions::default());
        let replace = WriteOptions {
            dup: Duplicates::Replace,
            ..WriteOptions::default()
        };
        assert!(
            update(kind, &name, &parsed, &replace)
                .expect("update -r")
                .is_empty()
        );
        assert_eq!(t.lookup("a"), Ok(Some("8".into())));
        assert_eq!(t.entries().expect("entries").len(), 3);
    }
}

#[test]
fn delete_folds_and_reports_each_key() {
    for kind in ALL {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = name_in(&dir, "del");
        build(kind, &name, "a 1\nb 2\nc 3\n");
        let path = kind.path(&name);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(
            delete(kind, &name, &["A", "zz", "c"], true).expect("delete"),
            [true, false, true]
        );
        let t = table(kind, &name, true, Recheck::Always);
        assert_eq!(
            t.entries().expect("entries"),
            [("b".to_string(), "2".to_string())]
        );
        let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "{kind:?} keeps the mode of the table it replaces"
        );
        let before = fs::metadata(&path).expect("stat").ino();
        assert_eq!(delete(kind, &name, &["B"], false).expect("delete"), [false]);
        assert_eq!(
            fs::metadata(&path).expect("stat").ino(),
            before,
            "nothing to delete, no rewrite"
        );
    }
}

#[test]
fn dump_order_per_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = name_in(&dir, "order");
    let text = "b 1\na 2\nc 3\n";
    for (kind, want) in [
        (Kind::Hash, "bac"),
        (Kind::Cdb, "bac"),
        (Kind::Btree, "abc"),
        (Kind::Lmdb, "abc"),
    ] {
        build(kind, &name, text);
        let keys: String = table(kind, &name, true, Recheck::Never)
            .entries()
            .expect("entries")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, want, "{kind:?}");
    }
}

#[test]
fn postalias_fixture_and_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = name_in(&dir, "map.in");
    fs::write(&name, fixture("postalias/map.in")).expect("copy");
    let mut parsed = aliases::read(&name, &ParseOptions::default()).expect("read");
    aliases::add_signatures(&mut parsed.records, None);
    assert!(
        create(Kind::Hash, &name, &parsed, &WriteOptions::default())
            .expect("build")
            .is_empty()
    );
    let t = table(Kind::Hash, &name, true, Recheck::Always);
    assert_eq!(t.lookup("ABC"), Ok(Some("DEF".into())));
    assert_eq!(t.lookup("@"), Ok(Some("@".into())));
    // postalias -i: the signature is replaced silently.
    let mut parsed = aliases::parse(b"x: y\n", "stdin", &ParseOptions::default());
    aliases::add_signatures(&mut parsed.records, None);
    assert!(
        update(Kind::Hash, &name, &parsed, &WriteOptions::default())
            .expect("update")
            .is_empty()
    );
    assert_eq!(t.entries().expect("entries").len(), 4);
}

#[test]
fn readers_notice_rebuilds_per_policy() {
    for kind in ALL {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = name_in(&dir, "gen");
        build(kind, &name, "k old\n");
        let always = table(kind, &name, true, Recheck::Always);
        let never = table(kind, &name, true, Recheck::Never);
        let hourly = table(kind, &name, true, Recheck::Every(Duration::from_secs(3600)));
        assert_eq!(hourly.lookup("k"), Ok(Some("old".into())));
        build(kind, &name, "k new\n");
        assert_eq!(always.lookup("k"), Ok(Some("new".into())), "{kind:?}");
        // Tables of one path share one open file per process (LMDB
        // requires it), so the reopen is seen by all of them.
        assert_eq!(never.lookup("k"), Ok(Some("new".into())));
        assert_eq!(hourly.lookup("k"), Ok(Some("new".into())));
    }
}

#[test]
fn corrupt_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = name_in(&dir, "bad");
    for kind in ALL {
        let path = kind.path(&name);
        for bytes in [
            &b""[..],
            b"garbage\n",
            &[0xffu8; 3000][..],
            &[0u8; 70000][..],
        ] {
            fs::write(&path, bytes).expect("write");
            assert!(
                open(kind, "x", &name, &OpenOptions::default()).is_err(),
                "{kind:?} {}",
                bytes.len()
            );
        }
    }
    assert_eq!(
        open(Kind::Hash, "x", &name, &OpenOptions::default())
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(format!("open database {name}.db: Invalid argument"))
    );
    // A table that turns into garbage after it was opened: the cdb reader
    // keeps its old file, the lmdb one reports errors, nobody panics.
    for kind in ALL {
        build(kind, &name, "k v\n");
        let t = table(kind, &name, true, Recheck::Always);
        let tmp = dir.path().join("garbage");
        fs::write(&tmp, [0x17u8; 9000]).expect("write");
        fs::rename(&tmp, kind.path(&name)).expect("rename");
        match t.lookup("k") {
            Ok(v) => assert_eq!(v.as_deref(), Some("v"), "{kind:?}"),
            Err(e) => assert_eq!(kind, Kind::Lmdb, "{e}"),
        }
        build(kind, &name, "k fixed\n");
        assert_eq!(t.lookup("k"), Ok(Some("fixed".into())), "{kind:?} recovers");
    }
}

/// Generation `g` of the rebuild test: 50 shared keys whose values name
/// the generation, and one key of its own.
fn generation(g: usize) -> String {
    let mut text: String = (0..50).map(|i| format!("key{i} g{g}-{i}\n")).collect();
    text.push_str(&format!("only{g} here\n"));
    text
}

#[test]
fn rebuilds_under_concurrent_lookups_show_whole_generations() {
    for kind in ALL {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = name_in(&dir, "rebuild");
        build(kind, &name, &generation(0));
        let reader = Arc::new(table(kind, &name, true, Recheck::Always));
        let done = Arc::new(AtomicBool::new(false));
        let checker = {
            let (reader, done) = (Arc::clone(&reader), Arc::clone(&done));
            std::thread::spawn(move || check_generations(&reader, &done))
        };
        for g in 1..=20 {
            build(kind, &name, &generation(g));
        }
        done.store(true, Ordering::SeqCst);
        let (lookups, last) = checker.join().expect("reader thread");
        assert!(lookups > 0);
        assert!(last <= 20);
        assert_eq!(reader.lookup("key7"), Ok(Some("g20-7".into())), "{kind:?}");
    }
}

/// Look up keys until `done`; every answer must belong to one whole
/// generation, never older than one seen before. Returns the number of
/// lookups and the last generation seen.
fn check_generations(reader: &IndexedTable, done: &AtomicBool) -> (usize, usize) {
    let mut last = 0;
    let mut lookups = 0;
    while !done.load(Ordering::SeqCst) || lookups == 0 {
        let i = lookups % 50;
        let value = reader
            .lookup(&format!("key{i}"))
            .expect("no lookup error")
            .expect("key present");
        let (g, rest) = value
            .trim_start_matches('g')
            .split_once('-')
            .expect("value format");
        let g: usize = g.parse().expect("generation");
        assert_eq!(rest, i.to_string());
        assert!(g >= last, "generation went back from {last} to {g}");
        last = g;
        if lookups % 25 == 0 {
            // A dump is one snapshot: one generation's key set, whole.
            let entries = reader.entries().expect("no dump error");
            let gens: HashSet<String> = entries
                .iter()
                .filter(|(k, _)| k.starts_with("key"))
                .map(|(_, v)| v.split('-').next().unwrap_or_default().to_string())
                .collect();
            assert_eq!(gens.len(), 1, "mixed generations in one dump");
            assert_eq!(entries.len(), 51);
        }
        lookups += 1;
    }
    (lookups, last)
}

#[test]
fn our_lmdb_files_read_by_postfix() {
    let postmap = std::path::Path::new("/usr/sbin/postmap");
    if !postmap.exists() {
        eprintln!("skipped: no Postfix postmap installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("main.cf"), "").expect("main.cf");
    let name = name_in(&dir, "interop");
    build(Kind::Lmdb, &name, "Alpha one\nbeta two words\n");
    let out = std::process::Command::new(postmap)
        .env("MAIL_CONFIG", dir.path())
        .args(["-q", "ALPHA", &format!("lmdb:{name}")])
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: cannot run {}", postmap.display());
        return;
    };
    if String::from_utf8_lossy(&out.stderr).contains("unsupported dictionary type") {
        eprintln!("skipped: Postfix without lmdb");
        return;
    }
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\n");
}
