//! Indexed tables named in main.cf whose index is older than the source
//! file they were built from: the admin edited a map and forgot `postmap`.
//! Postfix's daemons warn about this when they open such a table
//! (`dict_db.c`); `postfix check` says it before they run.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use conf::Config;

use crate::say::Message;

/// The types with an index file built by postmap, and its suffix.
const INDEXED: &[(&str, &str)] = &[
    ("hash", "db"),
    ("btree", "db"),
    ("cdb", "cdb"),
    ("lmdb", "lmdb"),
];

/// Whether main.cf parameter `name` holds table specifications.
fn names_tables(name: &str) -> bool {
    name.ends_with("_maps")
        || name.ends_with("_checks")
        || name.ends_with("_restrictions")
        || name == "alias_database"
}

/// Each (source file, index file) named in `value`, looking through
/// `proxy:` and into `{ }` groups (`unionmap:{hash:a, hash:b}`).
fn indexed_in(value: &str) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut todo: Vec<String> = conf::list::split(value).items;
    while let Some(item) = todo.pop() {
        let Some((kind, name)) = item.split_once(':') else {
            continue;
        };
        if let Some(inner) = name.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            todo.extend(conf::list::split(inner).items);
        } else if kind == "proxy" {
            todo.push(name.to_owned());
        } else if let Some((_, suffix)) = INDEXED.iter().find(|(k, _)| *k == kind) {
            out.push((
                PathBuf::from(name),
                PathBuf::from(format!("{name}.{suffix}")),
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn mtime(path: &Path) -> io::Result<std::time::SystemTime> {
    fs::metadata(path)?.modified()
}

/// Warnings for the indexed tables of main.cf (explicit settings only:
/// defaults such as `hash:/etc/aliases` belong to the host, not to this
/// configuration).
pub(crate) fn check(config: &Config) -> Vec<Message> {
    let mut tables: Vec<(PathBuf, PathBuf)> = Vec::new();
    for entry in config.main_cf().entries() {
        if !names_tables(&entry.name) {
            continue;
        }
        let value = config.get(&entry.name).ok().flatten().unwrap_or_default();
        tables.extend(indexed_in(&value));
    }
    tables.sort();
    tables.dedup();
    let mut out = Vec::new();
    for (source, index) in tables {
        let Ok(source_time) = mtime(&source) else {
            continue;
        };
        match mtime(&index) {
            Ok(index_time) if index_time < source_time => out.push(Message::warning(format!(
                "database {} is older than source file {}",
                index.display(),
                source.display()
            ))),
            Ok(_) => {}
            Err(e) => out.push(Message::warning(format!(
                "open database {}: {}",
                index.display(),
                conf::io_reason(&e)
            ))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn pairs(value: &str) -> Vec<(String, String)> {
        indexed_in(value)
            .into_iter()
            .map(|(s, i)| (s.display().to_string(), i.display().to_string()))
            .collect()
    }

    #[test]
    fn finds_indexed_tables_only() {
        assert_eq!(
            pairs("hash:/e/a, regexp:/e/r cdb:/e/c\tproxy:lmdb:/e/l"),
            [
                ("/e/a".into(), "/e/a.db".into()),
                ("/e/c".into(), "/e/c.cdb".into()),
                ("/e/l".into(), "/e/l.lmdb".into()),
            ]
        );
        assert_eq!(
            pairs("check_client_access btree:/e/b, permit"),
            [("/e/b".to_owned(), "/e/b.db".to_owned())]
        );
        assert_eq!(
            pairs("unionmap:{hash:/e/u, inline:{a=b}}"),
            [("/e/u".to_owned(), "/e/u.db".to_owned())]
        );
        assert!(pairs("static:x, inline:{a=b}, /e/plain").is_empty());
    }

    #[test]
    fn parameter_names_that_hold_tables() {
        assert!(names_tables("transport_maps"));
        assert!(names_tables("header_checks"));
        assert!(names_tables("smtpd_recipient_restrictions"));
        assert!(names_tables("alias_database"));
        assert!(!names_tables("mydestination"));
    }

    #[test]
    fn an_index_older_than_its_source_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("access");
        let index = dir.path().join("access.db");
        fs::write(&source, "a OK\n").unwrap();
        fs::write(&index, "").unwrap();
        let then = SystemTime::now() - Duration::from_secs(60);
        fs::File::options()
            .write(true)
            .open(&index)
            .unwrap()
            .set_modified(then)
            .unwrap();
        fs::write(
            dir.path().join("main.cf"),
            format!(
                "smtpd_client_restrictions = check_client_access hash:{}\n\
                 transport_maps = cdb:{}/transport\n",
                source.display(),
                dir.path().display()
            ),
        )
        .unwrap();
        fs::write(dir.path().join("transport"), "").unwrap();
        let config = Config::load(dir.path(), &[]).unwrap();
        let texts: Vec<String> = check(&config).into_iter().map(|m| m.text).collect();
        assert_eq!(
            texts,
            [
                format!(
                    "database {} is older than source file {}",
                    index.display(),
                    source.display()
                ),
                format!(
                    "open database {}/transport.cdb: No such file or directory",
                    dir.path().display()
                ),
            ]
        );
    }
}
