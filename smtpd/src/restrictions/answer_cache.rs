//! The answers the resolver got, kept for their TTL (at most five
//! minutes; "not found" for one minute; temporary failures not at all),
//! so that a repeated lookup, such as the same DNSBL query for every
//! recipient of a client, is a map lookup instead of a trip into
//! hickory's runtime on another thread.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hickory_resolver::proto::rr::{RData, RecordType};

use super::dns::Lookup;

const MAX_TTL: Duration = Duration::from_secs(300);
const NEGATIVE_TTL: Duration = Duration::from_secs(60);
/// Past this many entries the cache starts over (a crude bound on
/// memory; a busy gatekeeper refills it from hickory's own cache).
const MAX_ENTRIES: usize = 10_000;

type Key = (String, RecordType);
/// An answer and when it goes stale.
type Entry = (Lookup<Vec<RData>>, Instant);

#[derive(Debug, Default)]
pub(super) struct AnswerCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl AnswerCache {
    /// The answer for `name` and `rtype`, if one is kept and fresh.
    pub(super) fn get(&self, name: &str, rtype: RecordType) -> Option<Lookup<Vec<RData>>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (answer, until) = entries.get(&(name.to_string(), rtype))?;
        (Instant::now() < *until).then(|| answer.clone())
    }

    /// Keep `answer`; `ttl` is the smallest TTL of its records.
    pub(super) fn put(
        &self,
        name: &str,
        rtype: RecordType,
        answer: &Lookup<Vec<RData>>,
        ttl: Option<u32>,
    ) {
        let keep = match answer {
            Lookup::Found(_) => ttl
                .map_or(Duration::ZERO, |t| Duration::from_secs(t.into()))
                .min(MAX_TTL),
            Lookup::NotFound => NEGATIVE_TTL,
            Lookup::TempFail => return,
        };
        if keep.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            (name.to_string(), rtype),
            (answer.clone(), Instant::now() + keep),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_for_their_ttl_and_failures_not_at_all() {
        let cache = AnswerCache::default();
        let a = Lookup::Found(vec![RData::A("127.0.0.2".parse().expect("address"))]);
        cache.put("2.0.0.127.bl.test.", RecordType::A, &a, Some(30));
        assert_eq!(
            cache.get("2.0.0.127.bl.test.", RecordType::A),
            Some(a.clone())
        );
        assert_eq!(cache.get("2.0.0.127.bl.test.", RecordType::TXT), None);
        cache.put("zero.test.", RecordType::A, &a, Some(0));
        assert_eq!(cache.get("zero.test.", RecordType::A), None);
        cache.put("down.test.", RecordType::A, &Lookup::TempFail, None);
        assert_eq!(cache.get("down.test.", RecordType::A), None);
        cache.put("none.test.", RecordType::A, &Lookup::NotFound, None);
        assert_eq!(
            cache.get("none.test.", RecordType::A),
            Some(Lookup::NotFound)
        );
    }
}
