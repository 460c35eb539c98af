//! A fixed-string table held in memory, with the entries in the order
//! they were written (for `postmap -s`): what `inline:{...}` and
//! `texthash:` tables are once parsed.

use std::collections::HashMap;

use crate::table::{Error, Table};

#[derive(Debug)]
pub(super) struct MemoryTable {
    spec: String,
    fold: bool,
    /// Entries in the order written, one per key (folded when `fold`).
    entries: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl MemoryTable {
    pub(super) fn new(spec: String, fold: bool) -> MemoryTable {
        MemoryTable {
            spec,
            fold,
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Add an entry; a key given again takes the new value in place.
    pub(super) fn insert(&mut self, key: &str, value: String) {
        let key = super::fold_key(key, self.fold).into_owned();
        match self.index.get(&key) {
            Some(&slot) => self.entries[slot].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    pub(super) fn spec(&self) -> &str {
        &self.spec
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Table for MemoryTable {
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

    #[test]
    fn later_value_replaces_in_place_and_keys_fold() {
        let mut t = MemoryTable::new("inline:{}".into(), true);
        t.insert("B", "1".into());
        t.insert("a", "2".into());
        t.insert("b", "3".into());
        assert_eq!(t.lookup("b").expect("lookup").as_deref(), Some("3"));
        assert_eq!(
            t.entries().expect("entries"),
            [("b".to_string(), "3".to_string()), ("a".into(), "2".into())]
        );
        let exact = MemoryTable::new("inline:{}".into(), false);
        assert!(exact.is_empty());
    }
}
