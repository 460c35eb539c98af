//! `texthash:/path`: a postmap source file read into memory when the
//! table is opened (Postfix `dict_thash.c`), so no `postmap` run is
//! needed. Lines are parsed exactly as postmap parses them
//! ([`crate::source`]); a duplicate key keeps the first value and is
//! reported as a warning.

use std::collections::HashMap;

use crate::source::Duplicates;
use crate::table::{Error, OpenOptions, Opened, Table};

#[derive(Debug)]
pub struct Texthash {
    spec: String,
    fold: bool,
    /// Entries in file order (`postmap -s`), keys folded when `fold`.
    entries: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

/// Open `texthash:path`. A missing file is `open database PATH: reason`;
/// bad lines are skipped with warnings in Postfix's words.
pub fn open(path: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    let (entries, warnings) = crate::source::read_texthash(path, opts, Duplicates::Warn)?;
    let index = entries
        .iter()
        .enumerate()
        .map(|(slot, (key, _))| (key.clone(), slot))
        .collect();
    let table = Texthash {
        spec: format!("texthash:{path}"),
        fold: opts.fold,
        entries,
        index,
    };
    Ok(Opened {
        table: Box::new(table),
        warnings,
    })
}

impl Table for Texthash {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, Error> {
        let key = super::fold_key(key, self.fold);
        Ok(self
            .index
            .get(key.as_ref())
            .map(|&slot| self.entries[slot].1.clone()))
    }

    fn entries(&self) -> Result<Vec<(String, String)>, Error> {
        Ok(self.entries.clone())
    }
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
