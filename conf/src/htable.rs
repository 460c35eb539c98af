//! The iteration order of Postfix's `htable`, so that postconf lists
//! things (warnings, appended main.cf settings) in the order the real one
//! does (with `NORANDOMIZE` set, its hash is deterministic): buckets in
//! index order, newest entry first in each bucket, the table growing to
//! `2n+1` buckets when full.

/// Postfix's modified FNV-1a hash (each byte plus one), unseeded.
fn hash(key: &str) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ (u64::from(b) + 1)).wrapping_mul(PRIME)
    })
}

fn bucket(key: &str, size: usize) -> usize {
    (hash(key) % size as u64) as usize
}

/// The keys in the order Postfix would list a table created with
/// `htable_create(size)` and filled in `keys` order. Duplicate keys keep
/// their first position.
pub fn order<'a>(size: usize, keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    // Each bucket is kept oldest-first; Postfix walks it newest-first.
    let mut buckets: Vec<Vec<&str>> = vec![Vec::new(); size.max(13) | 1];
    let mut used = 0;
    for key in keys {
        if buckets.iter().any(|b| b.contains(&key)) {
            continue;
        }
        if used >= buckets.len() {
            let size = (2 * buckets.len()) | 1;
            let mut grown: Vec<Vec<&str>> = vec![Vec::new(); size];
            for old in &buckets {
                for &k in old.iter().rev() {
                    grown[bucket(k, size)].push(k);
                }
            }
            buckets = grown;
        }
        let size = buckets.len();
        buckets[bucket(key, size)].push(key);
        used += 1;
    }
    buckets
        .iter()
        .flat_map(|b| b.iter().rev().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_key_once() {
        let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        let mut listed = order(13, keys.iter().map(String::as_str).chain(["k5"]));
        assert_eq!(listed.len(), 100);
        listed.sort();
        let mut sorted: Vec<&str> = keys.iter().map(String::as_str).collect();
        sorted.sort();
        assert_eq!(listed, sorted);
    }

    #[test]
    fn fnv_hash_matches_reference_values() {
        // FNV-1a of the empty string is the offset basis.
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
    }
}
