//! Parsed table entries, ready to be stored, and Postfix's duplicate-key
//! policy. All keys and values of a table live in one byte arena, so
//! parsing a million-line source costs two vector growths, not two
//! million allocations.

use std::collections::HashMap;
use std::hash::Hasher;

/// What to do when a key is stored twice (`postmap` default, `-r`, `-w`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Duplicates {
    /// Keep the first value and warn `duplicate entry: "key"` (default).
    #[default]
    Warn,
    /// Keep the last value, silently (`-r`).
    Replace,
    /// Keep the first value, silently (`-w`).
    Ignore,
}

/// A warning in Postfix's words, with the source line it belongs to, so
/// that warnings found in different passes print in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The (first) source line; 0 when the warning has no line.
    pub line: usize,
    pub text: String,
}

/// One entry as stored: the key already folded when the table folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    /// The source line (first line of a multi-line entry); 0 for entries
    /// that come from an existing table or are added by the program.
    pub line: usize,
    /// Replaces an existing entry silently, whatever the policy: the
    /// Sendmail `@` signature postalias adds on every update.
    pub signature: bool,
}

#[derive(Debug, Clone, Copy)]
struct Item {
    start: usize,
    key_len: u32,
    value_len: u32,
    line: u32,
    signature: bool,
}

/// Entries in source order. Keys and values may hold any bytes.
#[derive(Debug, Clone, Default)]
pub struct Records {
    arena: Vec<u8>,
    items: Vec<Item>,
}

impl Records {
    pub fn new() -> Records {
        Records::default()
    }

    /// Room for about `entries` entries of `bytes` bytes in total.
    pub fn with_capacity(entries: usize, bytes: usize) -> Records {
        Records {
            arena: Vec::with_capacity(bytes),
            items: Vec::with_capacity(entries),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Append an entry. Keys or values of 4 GiB and more cannot be stored
    /// in any of our file formats; they are cut (cdb would refuse them).
    pub fn push(&mut self, key: &[u8], value: &[u8], line: usize) {
        self.push_item(key, value, line, false);
    }

    /// Append an entry that replaces an existing one silently.
    pub fn push_signature(&mut self, key: &[u8], value: &[u8]) {
        self.push_item(key, value, 0, true);
    }

    /// Append an entry whose key is folded to lower case on the way in
    /// (Postfix folds ASCII only unless SMTPUTF8 is on; see [`fold`]).
    pub fn push_folded(&mut self, key: &[u8], value: &[u8], line: usize) {
        let start = self.arena.len();
        self.push(key, value, line);
        let end = start + key.len().min(u32::MAX as usize);
        self.arena[start..end].make_ascii_lowercase();
    }

    fn push_item(&mut self, key: &[u8], value: &[u8], line: usize, signature: bool) {
        let key = &key[..key.len().min(u32::MAX as usize)];
        let value = &value[..value.len().min(u32::MAX as usize)];
        let start = self.arena.len();
        self.arena.extend_from_slice(key);
        self.arena.extend_from_slice(value);
        self.items.push(Item {
            start,
            key_len: key.len() as u32,
            value_len: value.len() as u32,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            signature,
        });
    }

    /// Append all entries of `other`, with their lines and flags.
    pub fn append(&mut self, other: &Records) {
        let base = self.arena.len();
        self.arena.extend_from_slice(&other.arena);
        self.items.extend(other.items.iter().map(|item| Item {
            start: item.start + base,
            ..*item
        }));
    }

    /// The entry at `index`, if any.
    pub fn get(&self, index: usize) -> Option<Record<'_>> {
        let item = self.items.get(index)?;
        let key_end = item.start + item.key_len as usize;
        let value_end = key_end + item.value_len as usize;
        Some(Record {
            key: self.arena.get(item.start..key_end)?,
            value: self.arena.get(key_end..value_end)?,
            line: item.line as usize,
            signature: item.signature,
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = Record<'_>> + '_ {
        (0..self.items.len()).filter_map(|i| self.get(i))
    }

    /// Apply the duplicate policy the way Postfix's `dict_put` does while
    /// a table is filled in source order: the result lists, in order of
    /// first appearance, the index of the entry that wins for each key.
    /// `on_duplicate` is called, in source order, for each duplicate that
    /// must be warned about (policy [`Duplicates::Warn`]), with the entry
    /// that lost.
    ///
    /// Duplicates are found by sorting (hash, index) pairs rather than
    /// with a hash map: one sequential pass and a sort beat a million
    /// random probes into a 30 MB map by a factor of three.
    pub fn dedup(
        &self,
        policy: Duplicates,
        mut on_duplicate: impl FnMut(Record<'_>),
    ) -> Vec<usize> {
        let key = |i: usize| self.get(i).map(|r| r.key);
        let mut order: Vec<(u64, usize)> = (0..self.len())
            .map(|i| (key(i).map_or(0, hash_key), i))
            .collect();
        order.sort_unstable();
        let mut dropped = vec![false; self.len()];
        let mut replaced: HashMap<usize, usize> = HashMap::new();
        let mut warned = Vec::new();
        let mut rest = Vec::new();
        for group in order.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
            // Indices ascend within a group. Equal hashes almost always
            // mean equal keys; real collisions go round again.
            rest.clear();
            rest.extend(group.iter().map(|&(_, i)| i));
            while let Some((&first, others)) = rest.split_first() {
                let mut unequal = Vec::new();
                for &i in others {
                    if key(i) != key(first) {
                        unequal.push(i);
                        continue;
                    }
                    dropped[i] = true;
                    let signature = self.items.get(i).is_some_and(|item| item.signature);
                    if signature || policy == Duplicates::Replace {
                        replaced.insert(first, i);
                    } else if policy == Duplicates::Warn {
                        warned.push(i);
                    }
                }
                rest = unequal;
            }
        }
        warned.sort_unstable();
        for i in warned {
            if let Some(record) = self.get(i) {
                on_duplicate(record);
            }
        }
        (0..self.len())
            .filter(|&i| !dropped[i])
            .map(|i| replaced.get(&i).copied().unwrap_or(i))
            .collect()
    }
}

fn hash_key(key: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(key);
    hasher.finish()
}

/// Fold a key the way Postfix does with `smtputf8_enable = no` (the
/// default below compatibility level 1, and what every table we build is
/// queried with): ASCII letters only, so `ÄBC` becomes `Äbc`.
pub fn fold(key: &str) -> std::borrow::Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(key.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(key)
    }
}

/// Merge warnings of two passes (parsing, then storing) into file order;
/// on the same line the parser's warning comes first, as in Postfix,
/// where a line is parsed before it is stored.
pub fn merge_warnings(first: Vec<Warning>, second: Vec<Warning>) -> Vec<String> {
    let mut out = Vec::with_capacity(first.len() + second.len());
    let mut a = first.into_iter().peekable();
    let mut b = second.into_iter().peekable();
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.line <= y.line,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_a { a.next() } else { b.next() };
        if let Some(w) = next {
            out.push(w.text);
        }
    }
    out
}

/// The multiply-rotate hash of rustc (FxHash): keys are trusted local
/// table data, so collision resistance buys nothing here (a collision
/// only costs a key comparison), and SipHash is several times slower.
#[derive(Default)]
struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Records {
        let mut r = Records::new();
        r.push(b"a", b"1", 1);
        r.push(b"b", b"2", 2);
        r.push(b"a", b"3", 3);
        r.push(b"c", b"", 4);
        r
    }

    fn values(r: &Records, winners: &[usize]) -> Vec<(String, String)> {
        winners
            .iter()
            .filter_map(|&i| r.get(i))
            .map(|e| {
                (
                    String::from_utf8_lossy(e.key).into_owned(),
                    String::from_utf8_lossy(e.value).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn warn_keeps_first_and_reports_the_loser() {
        let r = sample();
        let mut dups = Vec::new();
        let w = r.dedup(Duplicates::Warn, |d| dups.push((d.key.to_vec(), d.line)));
        assert_eq!(
            values(&r, &w),
            [("a", "1"), ("b", "2"), ("c", "")].map(|(k, v)| (k.into(), v.into()))
        );
        assert_eq!(dups, vec![(b"a".to_vec(), 3)]);
    }

    #[test]
    fn replace_keeps_last_in_first_position() {
        let r = sample();
        let w = r.dedup(Duplicates::Replace, |_| panic!("no warning expected"));
        assert_eq!(values(&r, &w)[0], ("a".into(), "3".into()));
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn ignore_is_silent() {
        let r = sample();
        let w = r.dedup(Duplicates::Ignore, |_| panic!("no warning expected"));
        assert_eq!(values(&r, &w)[0], ("a".into(), "1".into()));
    }

    #[test]
    fn signature_replaces_silently() {
        let mut r = Records::new();
        r.push(b"@", b"old", 0);
        r.push_signature(b"@", b"@");
        let w = r.dedup(Duplicates::Warn, |_| panic!("no warning expected"));
        assert_eq!(values(&r, &w), vec![("@".into(), "@".into())]);
    }

    #[test]
    fn push_folded_lowercases_ascii_key_only() {
        let mut r = Records::new();
        r.push_folded("ÄBC".as_bytes(), b"VaL", 1);
        let e = r.get(0).expect("entry");
        assert_eq!(e.key, "Äbc".as_bytes());
        assert_eq!(e.value, b"VaL");
        assert_eq!(fold("MiXeD"), "mixed");
        assert!(matches!(fold("lower"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn merge_orders_by_line_parser_first() {
        let w = |line: usize, t: &str| Warning {
            line,
            text: t.to_string(),
        };
        let merged = merge_warnings(
            vec![w(1, "p1"), w(3, "p3"), w(5, "p5")],
            vec![w(3, "d3"), w(4, "d4")],
        );
        assert_eq!(merged, ["p1", "p3", "d3", "d4", "p5"]);
    }

    #[test]
    fn hash_collisions_are_told_apart() {
        // "" and eight NULs both hash to 0.
        assert_eq!(hash_key(b""), hash_key(&[0u8; 8]));
        let mut r = Records::new();
        for (key, line) in [
            (&b""[..], 1),
            (&[0u8; 8][..], 2),
            (b"", 3),
            (&[0u8; 8][..], 4),
        ] {
            r.push(key, b"v", line);
        }
        let mut lines = Vec::new();
        let w = r.dedup(Duplicates::Warn, |d| lines.push(d.line));
        assert_eq!(w, [0, 1]);
        assert_eq!(lines, [3, 4]);
    }

    #[test]
    fn hasher_distinguishes_lengths() {
        let h = |b: &[u8]| {
            let mut x = FxHasher::default();
            x.write(b);
            x.finish()
        };
        assert_ne!(h(b"a"), h(b"a\0"));
        assert_ne!(h(b""), h(b"\0"));
    }
}
