//! The postmap(1) source format, read exactly as Postfix 3.7 reads it:
//! logical lines (`#` comments, blank lines, lines that start with white
//! space continue the previous one), then `key whitespace value`, where
//! the key ends at the first white space outside `"..."` and a backslash
//! protects the next character. The key keeps its quotes: postmap cannot
//! tell an address localpart from any other string (postmap.c).
//!
//! [`parse`] turns source text into [`Records`] plus warnings in Postfix's
//! words; `texthash` tables use the same parser through [`read_texthash`].

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;

use crate::table::{Error, OpenOptions};

pub mod base64;
mod lines;
mod records;

pub use lines::{LogicalLine, LogicalLines, Piece};
pub(crate) use lines::{c_str, is_space, printable};
pub use records::{Duplicates, Record, Records, Warning, fold, merge_warnings};

/// Which program's wording to use: `texthash` (dict_thash.c) adds
/// "-- ignoring this line" to the format warning, postmap.c does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Syntax {
    #[default]
    Postmap,
    Texthash,
}

/// How source text becomes records (postmap's `-f`, `-F`, `-u`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Fold keys to lower case (not with `postmap -f`).
    pub fold: bool,
    /// Values name files whose contents are stored base64-encoded (`-F`).
    pub rhs_is_file: bool,
    /// Skip lines that are not UTF-8, with Postfix's warning (not `-u`).
    /// Postfix itself checks only when `smtputf8_enable = yes`.
    pub utf8_check: bool,
    pub syntax: Syntax,
}

impl Default for ParseOptions {
    fn default() -> ParseOptions {
        ParseOptions::from_open(&OpenOptions::default())
    }
}

impl ParseOptions {
    /// The parse options that go with a table's open options.
    pub fn from_open(opts: &OpenOptions) -> ParseOptions {
        ParseOptions {
            fold: opts.fold,
            rhs_is_file: opts.rhs_is_file,
            utf8_check: opts.utf8_check,
            syntax: Syntax::Postmap,
        }
    }
}

/// The result of parsing a source: entries in source order (duplicates
/// still present) and the warnings, each with its line.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub records: Records,
    pub warnings: Vec<Warning>,
}

/// How one logical line splits, per postmap.c.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split<'a> {
    Entry {
        key: &'a [u8],
        value: &'a [u8],
    },
    /// An odd number of unescaped `"` before the end of the key.
    Unbalanced,
    /// No key or no value.
    Format,
}

/// Split a logical line into key and value: the key ends at the first
/// white space outside quotes; the value is trimmed.
pub fn split(line: &[u8]) -> Split<'_> {
    let s = c_str(line);
    let mut in_quotes = false;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 1,
            c if is_space(c) && !in_quotes => break,
            b'"' => in_quotes = !in_quotes,
            _ => {}
        }
        i += 1;
    }
    if in_quotes {
        return Split::Unbalanced;
    }
    let end = i.min(s.len());
    let key = &s[..end];
    let mut value = s.get(end + 1..).unwrap_or(&[]);
    while let [c, rest @ ..] = value
        && is_space(*c)
    {
        value = rest;
    }
    while let [rest @ .., c] = value
        && is_space(*c)
    {
        value = rest;
    }
    if key.is_empty() || value.is_empty() {
        return Split::Format;
    }
    Split::Entry { key, value }
}

/// The logical line to parse from `piece`, or None after recording
/// Postfix's warning: for text that continues nothing, and (when UTF-8 is
/// checked) for a line that is not UTF-8. Shared by the postmap and
/// aliases formats.
pub(crate) fn content_line<'a>(
    piece: Piece<'a>,
    label: &str,
    opts: &ParseOptions,
    warnings: &mut Vec<Warning>,
) -> Option<LogicalLine<'a>> {
    let line = match piece {
        Piece::Warning(w) => {
            warnings.push(w);
            return None;
        }
        Piece::Line(line) => line,
    };
    if opts.utf8_check && !line.text.is_ascii() && std::str::from_utf8(&line.text).is_err() {
        let n = line.first;
        warnings.push(Warning {
            line: n,
            text: format!(
                "{label}, line {n}: non-UTF-8 input \"{}\" -- ignoring this line",
                printable(c_str(&line.text))
            ),
        });
        return None;
    }
    Some(line)
}

/// Parse postmap source text. `label` names it in warnings: the source
/// path as given on the command line, or `stdin` for `postmap -i`.
pub fn parse(text: &[u8], label: &str, opts: &ParseOptions) -> Parsed {
    // A line is usually ~30 bytes: size the arena once.
    let mut out = Parsed {
        records: Records::with_capacity(text.len() / 24, text.len()),
        warnings: Vec::new(),
    };
    let mut file_value = Vec::new();
    for piece in LogicalLines::new(text, label) {
        let Some(line) = content_line(piece, label, opts, &mut out.warnings) else {
            continue;
        };
        let n = line.first;
        let mut warn = |text: String| out.warnings.push(Warning { line: n, text });
        let (key, value) = match split(&line.text) {
            Split::Entry { key, value } => (key, value),
            Split::Unbalanced => {
                warn(format!(
                    "{label}, line {n}: unbalanced '\"' in '{}' -- ignoring this line",
                    printable(c_str(&line.text))
                ));
                continue;
            }
            Split::Format => {
                let tail = match opts.syntax {
                    Syntax::Postmap => "",
                    Syntax::Texthash => " -- ignoring this line",
                };
                warn(format!(
                    "{label}, line {n}: expected format: key whitespace value{tail}"
                ));
                continue;
            }
        };
        if key.last() == Some(&b':') {
            warn(format!(
                "{label}, line {n}: record is in \"key: value\" format; is this an alias file?"
            ));
        }
        let value = if opts.rhs_is_file {
            match files_to_base64(value, &mut file_value) {
                Ok(()) => &file_value[..],
                Err(e) => {
                    warn(format!("{label}, line {n}: {e}: skipping this entry"));
                    continue;
                }
            }
        } else {
            value
        };
        if opts.fold {
            out.records.push_folded(key, value, n);
        } else {
            out.records.push(key, value, n);
        }
    }
    out
}

/// Read and parse a source file; the error is Postfix's `open %s: %m`.
pub fn read(path: &str, opts: &ParseOptions) -> Result<Parsed, Error> {
    let text =
        fs::read(path).map_err(|e| Error::Open(format!("open {path}: {}", conf::io_reason(&e))))?;
    Ok(parse(&text, path, opts))
}

/// `postmap -F`: the value is a list of file names (separated by white
/// space or commas); their contents, joined by newlines, replace it,
/// base64-encoded into `out`. The error is `open X: reason` or
/// `read X: reason`, as dict_file.c words it.
pub fn files_to_base64(value: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut contents = Vec::new();
    let names = value
        .split(|&c| matches!(c, b',' | b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|n| !n.is_empty());
    for (i, name) in names.enumerate() {
        let path = std::ffi::OsStr::from_bytes(name);
        let name = printable(name);
        let mut file =
            fs::File::open(path).map_err(|e| format!("open {name}: {}", conf::io_reason(&e)))?;
        if i > 0 {
            contents.push(b'\n');
        }
        file.read_to_end(&mut contents)
            .map_err(|e| format!("read {name}: {}", conf::io_reason(&e)))?;
    }
    out.clear();
    base64::encode_into(&contents, out);
    Ok(())
}

/// Entries in source order, keys folded when the table folds.
pub type Entries = Vec<(String, String)>;

/// A `texthash:` table, read the way dict_thash.c does: the postmap
/// parser, duplicates judged on the folded key but reported as written,
/// with file and line. Returns the entries and the warnings (in source
/// order); a missing file is `open database PATH: reason`.
pub fn read_texthash(
    path: &str,
    opts: &OpenOptions,
    dup: Duplicates,
) -> Result<(Entries, Vec<String>), Error> {
    let text = fs::read(path)
        .map_err(|e| Error::Open(format!("open database {path}: {}", conf::io_reason(&e))))?;
    Ok(texthash_from(&text, path, opts, dup))
}

/// [`read_texthash`] of text already read; `path` names it in warnings.
pub fn texthash_from(
    text: &[u8],
    path: &str,
    opts: &OpenOptions,
    dup: Duplicates,
) -> (Entries, Vec<String>) {
    let parse_opts = ParseOptions {
        fold: false,
        syntax: Syntax::Texthash,
        ..ParseOptions::from_open(opts)
    };
    let parsed = parse(text, path, &parse_opts);
    let mut entries: Vec<(String, String)> = Vec::with_capacity(parsed.records.len());
    let mut index: HashMap<String, usize> = HashMap::with_capacity(parsed.records.len());
    let mut dup_warnings = Vec::new();
    for r in parsed.records.iter() {
        let written = String::from_utf8_lossy(r.key);
        let key = if opts.fold {
            fold(&written).into_owned()
        } else {
            written.to_string()
        };
        let value = String::from_utf8_lossy(r.value).into_owned();
        match index.get(&key) {
            None => {
                index.insert(key.clone(), entries.len());
                entries.push((key, value));
            }
            Some(&slot) => match dup {
                Duplicates::Ignore => {}
                Duplicates::Replace => entries[slot].1 = value,
                Duplicates::Warn => dup_warnings.push(Warning {
                    line: r.line,
                    text: format!(
                        "{path}, line {}: duplicate entry: \"{}\"",
                        r.line,
                        printable(r.key)
                    ),
                }),
            },
        }
    }
    (entries, merge_warnings(parsed.warnings, dup_warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
        fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn entries(p: &Parsed) -> Vec<(String, String, usize)> {
        p.records
            .iter()
            .map(|r| {
                (
                    String::from_utf8_lossy(r.key).into_owned(),
                    String::from_utf8_lossy(r.value).into_owned(),
                    r.line,
                )
            })
            .collect()
    }

    fn texts(p: &Parsed) -> Vec<&str> {
        p.warnings.iter().map(|w| w.text.as_str()).collect()
    }

    // Input and warnings checked against the real postmap 3.7.11.
    const TRICKY: &str = "# comment\n\nABC DEF\n  cont inued\nkeyonly\n\"dd ee ff\n\"aa bb\" cc\n\
        xx: yy\n  \t\nfoo\tbar  \n#c\n baz\nfoo again\nlast\\\nMiXeD\tVaL\n\\ val\n\
        \"q\\\"x\" y\n\"a\"b c\nx\"y z\" w\n";

    #[test]
    fn tricky_input_matches_postfix() {
        let p = parse(TRICKY.as_bytes(), "t1", &ParseOptions::default());
        assert_eq!(
            texts(&p),
            [
                "t1, line 5: expected format: key whitespace value",
                "t1, line 6: unbalanced '\"' in '\"dd ee ff' -- ignoring this line",
                "t1, line 8: record is in \"key: value\" format; is this an alias file?",
                "t1, line 14: expected format: key whitespace value",
                "t1, line 16: expected format: key whitespace value",
            ]
        );
        let e = entries(&p);
        let want: [(&str, &str, usize); 9] = [
            ("abc", "DEF  cont inued", 3),
            ("\"aa bb\"", "cc", 7),
            ("xx:", "yy", 8),
            ("foo", "bar   baz", 10),
            ("foo", "again", 13),
            ("mixed", "VaL", 15),
            ("\"q\\\"x\"", "y", 17),
            ("\"a\"b", "c", 18),
            ("x\"y z\"", "w", 19),
        ];
        let want: Vec<(String, String, usize)> = want
            .iter()
            .map(|&(k, v, n)| (k.into(), v.into(), n))
            .collect();
        assert_eq!(e, want);
    }

    #[test]
    fn cr_nul_and_escapes_match_postfix() {
        let text = b"cr v\r\ncronly\r\na\0b c\ngg\\ hh ii\nk2\n more\n  stuff\n\xe4x latin\n";
        let opts = ParseOptions {
            utf8_check: false,
            ..ParseOptions::default()
        };
        let p = parse(text, "t2", &opts);
        assert_eq!(
            texts(&p),
            [
                "t2, line 2: expected format: key whitespace value",
                "t2, line 3: expected format: key whitespace value",
            ]
        );
        let e = entries(&p);
        assert_eq!(e[0], ("cr".into(), "v".into(), 1));
        assert_eq!(e[1], ("gg\\ hh".into(), "ii".into(), 4));
        assert_eq!(e[2], ("k2".into(), "more  stuff".into(), 5));
        assert_eq!(p.records.get(3).map(|r| r.key), Some(&b"\xe4x"[..]));
    }

    #[test]
    fn non_utf8_is_skipped_when_checked() {
        let p = parse(b"\xe4x latin\nok v\n", "t", &ParseOptions::default());
        assert_eq!(
            texts(&p),
            ["t, line 1: non-UTF-8 input \"?x latin\" -- ignoring this line"]
        );
        assert_eq!(p.records.len(), 1);
    }

    #[test]
    fn fold_off_keeps_case() {
        let opts = ParseOptions {
            fold: false,
            ..ParseOptions::default()
        };
        let p = parse(b"ABC\tDEF\n", "map.in", &opts);
        assert_eq!(entries(&p), [("ABC".into(), "DEF".into(), 1)]);
    }

    #[test]
    fn quote_test_lines() {
        // postmap/quote_test.ref, one `postmap -i` per line.
        let cases: [(&str, Option<&str>); 7] = [
            ("\"aa bb\" cc\n", Some("\"aa bb\"")),
            ("\"dd ee ff\n", None),
            ("gg\\ hh ii\n", Some("gg\\ hh")),
            ("\"gg\\\"hh\" ii\n", Some("\"gg\\\"hh\"")),
            ("\"jj@kk\" ll\n", Some("\"jj@kk\"")),
            ("mm@nn@oo pp\n", Some("mm@nn@oo")),
            ("@oo pp\n", Some("@oo")),
        ];
        for (input, key) in cases {
            let p = parse(input.as_bytes(), "stdin", &ParseOptions::default());
            let got = p
                .records
                .get(0)
                .map(|r| String::from_utf8_lossy(r.key).into_owned());
            assert_eq!(got.as_deref(), key, "{input}");
            if key.is_none() {
                assert_eq!(
                    texts(&p),
                    ["stdin, line 1: unbalanced '\"' in '\"dd ee ff' -- ignoring this line"]
                );
            }
        }
    }

    #[test]
    fn rhs_is_file_reads_and_encodes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f1 = dir.path().join("f1");
        let f2 = dir.path().join("f2");
        fs::write(&f1, "one").expect("write");
        fs::write(&f2, "two\n").expect("write");
        let (f1, f2) = (f1.display(), f2.display());
        let missing = dir.path().join("missing");
        let text = format!(
            "a {f1}\nb {f2},,{f1}\nc {}\nd {}\n",
            missing.display(),
            dir.path().display()
        );
        let opts = ParseOptions {
            rhs_is_file: true,
            ..ParseOptions::default()
        };
        let p = parse(text.as_bytes(), "tf", &opts);
        assert_eq!(
            texts(&p),
            [
                format!(
                    "tf, line 3: open {}: No such file or directory: skipping this entry",
                    missing.display()
                ),
                format!(
                    "tf, line 4: read {}: Is a directory: skipping this entry",
                    dir.path().display()
                ),
            ]
        );
        let e = entries(&p);
        assert_eq!(e[0].1, "b25l");
        assert_eq!(
            base64::decode(e[1].1.as_bytes()).as_deref(),
            Some(&b"two\n\none"[..])
        );
    }

    #[test]
    fn texthash_fixture() {
        let no_fold = OpenOptions {
            fold: false,
            ..OpenOptions::default()
        };
        let text = fixture("dict/dict_thash.in");
        let (mut got, warnings) = texthash_from(&text, "dict_thash.in", &no_fold, Duplicates::Warn);
        got.sort();
        let mut out: String = warnings
            .iter()
            .map(|w| format!("postmap: warning: {w}\n"))
            .collect();
        for (k, v) in &got {
            out.push_str(&format!("{k}\t{v}\n"));
        }
        assert_eq!(out.as_bytes(), fixture("dict/dict_thash.ref"));
        let text = fixture("dict/dict_thash.map");
        let (mut map, warnings) =
            texthash_from(&text, "dict_thash.map", &no_fold, Duplicates::Warn);
        assert!(warnings.is_empty());
        map.sort();
        let dumped: String = map.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect();
        assert_eq!(dumped.as_bytes(), fixture("dict/dict_thash.map"));
    }

    #[test]
    fn texthash_folds_and_reports_written_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t4");
        fs::write(&path, "foo 1\nFOO 2\nBar 3\n").expect("write");
        let path = path.display().to_string();
        let (entries, warnings) =
            read_texthash(&path, &OpenOptions::default(), Duplicates::Warn).expect("read");
        assert_eq!(
            warnings,
            [format!("{path}, line 2: duplicate entry: \"FOO\"")]
        );
        assert_eq!(
            entries,
            [("foo".into(), "1".into()), ("bar".into(), "3".into())]
        );
        let (entries, warnings) =
            read_texthash(&path, &OpenOptions::default(), Duplicates::Replace).expect("read");
        assert!(warnings.is_empty());
        assert_eq!(entries[0], ("foo".into(), "2".into()));
        let err = read_texthash("/nonexistent/x", &OpenOptions::default(), Duplicates::Warn);
        assert_eq!(
            err.map(|_| ()).map_err(|e| e.to_string()),
            Err("open database /nonexistent/x: No such file or directory".into())
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let alphabet = b" \t\r\n#\"\\:ab\0\xff\xc3";
        for len in 0..400 {
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            for syntax in [Syntax::Postmap, Syntax::Texthash] {
                let opts = ParseOptions {
                    syntax,
                    utf8_check: len % 2 == 0,
                    ..ParseOptions::default()
                };
                let p = parse(&text, "g", &opts);
                assert!(
                    p.records
                        .iter()
                        .all(|r| !r.key.is_empty() && !r.value.is_empty())
                );
            }
        }
    }
}
