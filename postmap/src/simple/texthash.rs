//! `texthash:/path`: a postmap source file read into memory when the
//! table is opened (Postfix `dict_thash.c`), so no `postmap` run is
//! needed. Lines are parsed exactly as postmap parses them
//! ([`crate::source`]); a duplicate key keeps the first value and is
//! reported as a warning.

use super::memory::MemoryTable;
use crate::source::Duplicates;
use crate::table::{Error, OpenOptions, Opened};

/// Open `texthash:path`. A missing file is `open database PATH: reason`;
/// bad lines are skipped with warnings in Postfix's words.
pub fn open(path: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    let (entries, warnings) = crate::source::read_texthash(path, opts, Duplicates::Warn)?;
    let mut table = MemoryTable::new(format!("texthash:{path}"), opts.fold);
    for (key, value) in entries {
        table.insert(&key, value);
    }
    Ok(Opened {
        table: Box::new(table),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_map(text: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("map");
        std::fs::write(&path, text).expect("write");
        let path = path.to_string_lossy().into_owned();
        (dir, path)
    }

    #[test]
    fn reads_source_format_and_folds() {
        let (_dir, path) = write_map("# comment\nUser@Example.COM  OK\n  continued\nx y\n");
        let opened = open(&path, &OpenOptions::default()).expect("opens");
        assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
        let t = opened.table;
        // A continuation line joins with its leading white space kept.
        assert_eq!(
            t.lookup("USER@example.com"),
            Ok(Some("OK  continued".into()))
        );
        assert_eq!(t.lookup("X"), Ok(Some("y".into())));
        assert_eq!(t.spec(), format!("texthash:{path}"));
    }

    #[test]
    fn no_fold_keeps_case() {
        let (_dir, path) = write_map("Key value\n");
        let opts = OpenOptions {
            fold: false,
            ..OpenOptions::default()
        };
        let t = open(&path, &opts).expect("opens").table;
        assert_eq!(t.lookup("key"), Ok(None));
        assert_eq!(t.lookup("Key"), Ok(Some("value".into())));
    }

    #[test]
    fn duplicate_keeps_first_and_warns() {
        let (_dir, path) = write_map("aaa bbb\naaa ccc\n");
        let opened = open(&path, &OpenOptions::default()).expect("opens");
        assert_eq!(
            opened.warnings,
            vec![format!("{path}, line 2: duplicate entry: \"aaa\"")]
        );
        assert_eq!(
            opened.table.entries(),
            Ok(vec![("aaa".into(), "bbb".into())])
        );
    }

    #[test]
    fn missing_file_is_postfix_error() {
        let (_dir, path) = write_map("");
        let missing = format!("{path}.none");
        assert_eq!(
            open(&missing, &OpenOptions::default()).map(|_| ()),
            Err(Error::Open(format!(
                "open database {missing}: No such file or directory"
            )))
        );
    }
}
