//! The table behind the `dict_open` driver (`dict_open.rs`): a table
//! opened for reading through [`postmap::open`], an indexed table opened
//! for update (`write`, `create`) and changed through
//! [`postmap::indexed::update`] and [`postmap::indexed::delete`], or
//! Postfix's `internal:` table (dict_ht), a process-private in-memory
//! table that no configuration can use and that only the driver needs.
//! Keys and values are bytes here, as they are to Postfix's `DICT`.

use postmap::indexed::{self, IndexedTable, Kind, Recheck, WriteOptions};
use postmap::source::{Duplicates, Parsed};
use postmap::table::{self, OpenOptions, Table};

/// Entries in table order.
pub(crate) type Entries = Vec<(Vec<u8>, Vec<u8>)>;

pub(crate) enum Store {
    /// Opened for reading: lookups and sequencing only.
    Table(Box<dyn Table>),
    /// An indexed table opened `write` or `create`.
    Indexed {
        table: IndexedTable,
        kind: Kind,
        name: String,
    },
    /// `internal:name`, in insertion order.
    Internal(Entries),
}

/// Types whose Postfix open function refuses any mode but read-only.
const READ_ONLY_TYPES: &[&str] = &[
    "inline", "unionmap", "pipemap", "texthash", "regexp", "pcre", "cidr", "randmap",
];

pub(crate) fn type_of(spec: &str) -> &str {
    spec.split_once(':').map_or("", |(kind, _)| kind)
}

/// Open `spec` in `mode` (`read`, `write` or `create`); the warnings of
/// the open come with the store, an error is Postfix's reason. `write`
/// needs an existing table; `create` starts an empty one, as Postfix's
/// `O_CREAT | O_TRUNC` does.
pub(crate) fn open(
    spec: &str,
    mode: &str,
    opts: &OpenOptions,
) -> Result<(Store, Vec<String>), String> {
    let kind = type_of(spec);
    let name = spec.split_once(':').map_or("", |(_, name)| name);
    if mode != "read" && READ_ONLY_TYPES.contains(&kind) {
        return Err(format!("{spec} map requires O_RDONLY access mode"));
    }
    if kind == "internal" {
        return Ok((Store::Internal(Vec::new()), Vec::new()));
    }
    if let Some(kind) = Kind::from_type(kind).filter(|_| mode != "read") {
        if mode == "create" {
            indexed::create(kind, name, &Parsed::default(), &write_options())
                .map_err(|e| e.to_string())?;
        }
        // Every lookup looks at the file: a `get` right after a `put`
        // must see the table that the put renamed into place.
        let table = IndexedTable::open(kind, spec, name, opts, Recheck::Always)
            .map_err(|e| e.to_string())?;
        let name = name.to_string();
        return Ok((Store::Indexed { table, kind, name }, Vec::new()));
    }
    let opened = postmap::open(spec, opts).map_err(|e| e.to_string())?;
    Ok((Store::Table(opened.table), opened.warnings))
}

/// The driver opens tables with "duplicates replace" (`DICT_FLAG_DUP_REPLACE`).
fn write_options() -> WriteOptions {
    WriteOptions {
        dup: Duplicates::Replace,
        ..WriteOptions::default()
    }
}

/// `key` as a fixed-string table with `fold_fix` sees it: ASCII lower
/// case, as [`postmap::source::fold`] folds.
fn folded(key: &[u8], fold: bool) -> Vec<u8> {
    if fold {
        key.to_ascii_lowercase()
    } else {
        key.to_vec()
    }
}

impl Store {
    /// The value of `key`; `Err` when the table cannot answer.
    pub(crate) fn get(&self, key: &[u8], fold: bool) -> Result<Option<Vec<u8>>, ()> {
        match self {
            // Tables fold their keys themselves.
            Store::Table(t) => match table::lookup_bytes(t.as_ref(), key, false).answer {
                Ok(value) => Ok(value.map(String::into_bytes)),
                Err(_) => Err(()),
            },
            Store::Indexed { table, .. } => table.get(&folded(key, fold)).map_err(|_| ()),
            Store::Internal(entries) => {
                let key = folded(key, fold);
                Ok(entries
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone()))
            }
        }
    }

    /// Store `key` = `value`, replacing an old value. `None` when the
    /// store cannot be updated (opened for reading).
    pub(crate) fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        fold: bool,
    ) -> Option<Result<(), String>> {
        match self {
            Store::Table(_) => None,
            Store::Indexed { kind, name, .. } => {
                let mut parsed = Parsed::default();
                parsed.records.push(&folded(key, fold), value, 1);
                let done = indexed::update(*kind, name, &parsed, &write_options());
                Some(done.map(|_| ()).map_err(|e| e.to_string()))
            }
            Store::Internal(entries) => {
                let key = folded(key, fold);
                match entries.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = value.to_vec(),
                    None => entries.push((key, value.to_vec())),
                }
                Some(Ok(()))
            }
        }
    }

    /// Remove `key`: whether it was there. `None` when the store cannot
    /// be updated.
    pub(crate) fn del(&mut self, key: &[u8], fold: bool) -> Option<Result<bool, String>> {
        match self {
            Store::Table(_) => None,
            Store::Indexed { kind, name, .. } => {
                // Our tables keep text keys; a key that is not UTF-8 was
                // refused or cannot match one.
                let key = String::from_utf8_lossy(key);
                let found = indexed::delete(*kind, name, &[&key], fold);
                Some(found.map(|f| f.contains(&true)).map_err(|e| e.to_string()))
            }
            Store::Internal(entries) => {
                let key = folded(key, fold);
                let before = entries.len();
                entries.retain(|(k, _)| *k != key);
                Some(Ok(entries.len() != before))
            }
        }
    }

    /// Every entry in table order; `Err` when the table cannot list them.
    pub(crate) fn entries(&self) -> Result<Entries, ()> {
        match self {
            Store::Table(t) => t
                .entries()
                .map(|all| {
                    all.into_iter()
                        .map(|(k, v)| (k.into_bytes(), v.into_bytes()))
                        .collect()
                })
                .map_err(|_| ()),
            Store::Indexed { table, kind, .. } => {
                let mut all = Vec::new();
                table
                    .for_each(&mut |k, v| all.push((k.to_vec(), v.to_vec())))
                    .map_err(|_| ())?;
                // A B-tree lists its keys in order.
                if *kind == Kind::Btree {
                    all.sort();
                }
                Ok(all)
            }
            Store::Internal(entries) => Ok(entries.clone()),
        }
    }
}
