//! Indexed tables are read by many processes while `postmap` rebuilds
//! them: 8 reader processes look up and dump a table in a loop while it is
//! rebuilt 100 times. No reader may see an error, a torn file, or a set of
//! entries that is neither the old nor the new generation.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use e2e::our_binary;

const KEYS: usize = 20_000;
const REBUILDS: usize = 100;
const READERS: usize = 8;

/// Generation `g`: every key `kN` maps to `gG-kN`; even generations also
/// have `evenN` keys, so the key set itself changes between generations.
fn source(generation: usize) -> String {
    let mut text = String::with_capacity(KEYS * 24);
    for n in 0..KEYS {
        text.push_str(&format!("k{n} g{generation}-k{n}\n"));
        if generation.is_multiple_of(2) {
            text.push_str(&format!("even{n} g{generation}-even{n}\n"));
        }
    }
    text
}

fn postmap(dir: &Path) -> Command {
    let mut cmd = Command::new(our_binary("postmap"));
    cmd.env("MAIL_CONFIG", dir.join("etc"));
    cmd
}

fn rebuild(dir: &Path, table: &Path, generation: usize) {
    // The source is replaced atomically too, so a rebuild never reads a
    // half-written source.
    let tmp = table.with_extension("new");
    fs::write(&tmp, source(generation)).expect("write source");
    fs::rename(&tmp, table).expect("rename source");
    let status = postmap(dir)
        .arg(format!("hash:{}", table.display()))
        .status();
    assert!(
        status.expect("run postmap").success(),
        "rebuild {generation}"
    );
}

/// The generation of a value `gG-key` for `key`, or a description of why
/// the value is wrong.
fn generation_of(key: &str, value: &str) -> Result<usize, String> {
    let (g, rest) = value
        .strip_prefix('g')
        .and_then(|v| v.split_once('-'))
        .ok_or_else(|| format!("malformed value {value:?} for {key}"))?;
    if rest != key {
        return Err(format!("value {value:?} belongs to another key than {key}"));
    }
    g.parse()
        .map_err(|_| format!("bad generation in {value:?}"))
}

/// One `postmap -q -` over every `kN` key: each must be found, with a
/// value of some generation. Lookups may straddle a rebuild, one by one.
/// Returns the generations seen.
fn check_lookups(dir: &Path, table: &Path) -> Result<BTreeSet<usize>, String> {
    let mut child = postmap(dir)
        .args(["-q", "-"])
        .arg(format!("hash:{}", table.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let keys: String = (0..KEYS).map(|n| format!("k{n}\n")).collect();
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let writer = thread::spawn(move || stdin.write_all(keys.as_bytes()));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer
        .join()
        .map_err(|_| "writer panicked")?
        .map_err(|e| e.to_string())?;
    if !out.stderr.is_empty() || !out.status.success() {
        return Err(format!(
            "postmap -q -: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = 0;
    let mut seen = BTreeSet::new();
    for line in text.lines() {
        let (key, value) = line.split_once('\t').ok_or(format!("bad line {line:?}"))?;
        seen.insert(generation_of(key, value)?);
        found += 1;
    }
    if found != KEYS {
        return Err(format!("{found} of {KEYS} keys found"));
    }
    Ok(seen)
}

/// One `postmap -s`: the whole table must be exactly one generation,
/// which is returned.
fn check_dump(dir: &Path, table: &Path) -> Result<BTreeSet<usize>, String> {
    let out = postmap(dir)
        .arg("-s")
        .arg(format!("hash:{}", table.display()))
        .output()
        .map_err(|e| e.to_string())?;
    if !out.stderr.is_empty() || !out.status.success() {
        return Err(format!(
            "postmap -s: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut generation = None;
    let mut count = 0;
    for line in text.lines() {
        let (key, value) = line.split_once('\t').ok_or(format!("bad line {line:?}"))?;
        let g = generation_of(key, value)?;
        if *generation.get_or_insert(g) != g {
            return Err(format!("generations {generation:?} and {g} in one dump"));
        }
        count += 1;
    }
    let g = generation.ok_or("empty dump")?;
    let expected = if g.is_multiple_of(2) { 2 * KEYS } else { KEYS };
    if count != expected {
        return Err(format!(
            "generation {g} dump has {count} entries, not {expected}"
        ));
    }
    Ok(BTreeSet::from([g]))
}

#[test]
fn readers_see_whole_generations_while_postmap_rebuilds() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir: PathBuf = scratch.path().to_path_buf();
    fs::create_dir(dir.join("etc")).expect("etc");
    fs::write(dir.join("etc/main.cf"), "").expect("main.cf");
    let table = dir.join("map");
    rebuild(&dir, &table, 0);

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|i| {
            let (dir, table, done) = (dir.clone(), table.clone(), done.clone());
            thread::spawn(move || -> Result<BTreeSet<usize>, String> {
                let mut seen = BTreeSet::new();
                while !done.load(Ordering::Relaxed) || seen.is_empty() {
                    let round = if i % 2 == 0 {
                        check_lookups(&dir, &table)?
                    } else {
                        check_dump(&dir, &table)?
                    };
                    seen.extend(round);
                }
                Ok(seen)
            })
        })
        .collect();
    for generation in 1..=REBUILDS {
        rebuild(&dir, &table, generation);
    }
    done.store(true, Ordering::Relaxed);
    let mut seen = BTreeSet::new();
    for (i, reader) in readers.into_iter().enumerate() {
        let result = reader.join().expect("reader thread");
        seen.extend(result.unwrap_or_else(|e| panic!("reader {i}: {e}")));
    }
    // The readers ran while the table changed under them.
    assert!(seen.len() > 2, "readers saw only generations {seen:?}");
}
