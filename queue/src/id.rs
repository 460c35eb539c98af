//! Queue IDs in Postfix's long, non-repeating form (`mail_queue.h`,
//! `enable_long_queue_ids = yes`): arrival seconds in base 52 (at least
//! six digits), microseconds in base 52 (exactly four), a `z`, and the
//! inode number of the queue file in base 51 (so it holds no `z`).
//!
//! The alphabet is digits and consonants only, so an ID is safe as a file
//! name and spells no words. The digits are in ASCII order and the time
//! fields have a fixed width until the year 2596, so IDs sort by arrival
//! time as strings too; [`Ord`] compares the decoded values.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Postfix's "safe" alphabet: 10 digits, 21 upper- and 21 lower-case
/// consonants. The time fields use all 52; the inode field stops before
/// `z`, which separates the two.
const ALPHABET: &[u8; 52] = b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
const TIME_BASE: u64 = 52;
const INODE_BASE: u64 = 51;
const SEC_MIN_WIDTH: usize = 6;
const USEC_WIDTH: usize = 4;
const SEPARATOR: u8 = b'z';
/// Longer than any ID of two 64-bit numbers (12 + 4 + 1 + 12 digits).
const MAX_LEN: usize = 40;

/// A queue ID: the name of a queue file in every queue directory.
///
/// Two files that exist at the same time never share an ID (their inodes
/// differ), and the time part makes reuse after deletion practically
/// impossible, as Postfix's long IDs do.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct QueueId {
    secs: u64,
    usecs: u32,
    inode: u64,
    text: String,
}

/// Why a string is not a queue ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad queue ID: {reason}")]
pub struct ParseError {
    reason: &'static str,
}

fn bad(reason: &'static str) -> ParseError {
    ParseError { reason }
}

impl QueueId {
    /// The ID of a message that arrived at `arrival` in the file with
    /// inode number `inode`. Times before 1970 count as 1970.
    pub fn new(arrival: SystemTime, inode: u64) -> QueueId {
        let since = arrival.duration_since(UNIX_EPOCH).unwrap_or_default();
        QueueId::from_parts(since.as_secs(), since.subsec_micros(), inode)
    }

    fn from_parts(secs: u64, usecs: u32, inode: u64) -> QueueId {
        let mut text = String::with_capacity(24);
        encode(&mut text, secs, TIME_BASE, SEC_MIN_WIDTH);
        encode(&mut text, u64::from(usecs), TIME_BASE, USEC_WIDTH);
        text.push(char::from(SEPARATOR));
        encode(&mut text, inode, INODE_BASE, 1);
        QueueId {
            secs,
            usecs,
            inode,
            text,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The arrival time the ID encodes (microsecond precision).
    pub fn arrival(&self) -> SystemTime {
        arrival_of(self.secs, self.usecs).unwrap_or(UNIX_EPOCH)
    }

    /// The inode number of the queue file when it was created.
    pub fn inode(&self) -> u64 {
        self.inode
    }
}

/// The time `secs.usecs` after the epoch, if the platform can represent
/// it (every ID that [`QueueId::new`] makes or [`FromStr`] accepts).
fn arrival_of(secs: u64, usecs: u32) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(std::time::Duration::new(secs, usecs * 1000))
}

/// Append `value` in `base` digits of [`ALPHABET`], left-padded with `0`
/// to `width` (Postfix `safe_ultostr`).
fn encode(out: &mut String, mut value: u64, base: u64, width: usize) {
    let mut digits = [0u8; 64];
    let mut n = 0;
    loop {
        // `value % base` < 52, so the index is in range.
        digits[n] = ALPHABET[(value % base) as usize];
        n += 1;
        value /= base;
        if value == 0 {
            break;
        }
    }
    for _ in n..width {
        out.push('0');
    }
    digits[..n]
        .iter()
        .rev()
        .for_each(|&d| out.push(char::from(d)));
}

/// The value of one digit in `base`, if it is one.
fn digit(c: u8, base: u64) -> Option<u64> {
    let pos = ALPHABET.iter().position(|&a| a == c)? as u64;
    (pos < base).then_some(pos)
}

/// Decode a field; `None` if a character is not a digit in `base` or the
/// value does not fit in 64 bits.
fn decode(field: &[u8], base: u64) -> Option<u64> {
    field.iter().try_fold(0u64, |acc, &c| {
        acc.checked_mul(base)?.checked_add(digit(c, base)?)
    })
}

impl FromStr for QueueId {
    type Err = ParseError;

    /// Accepts exactly the canonical form [`QueueId::new`] produces, so a
    /// parsed ID is safe as a file name and names one file only.
    fn from_str(s: &str) -> Result<QueueId, ParseError> {
        let b = s.as_bytes();
        if b.len() > MAX_LEN {
            return Err(bad("too long"));
        }
        // The inode field has no `z`: the last one is the separator.
        let sep = b
            .iter()
            .rposition(|&c| c == SEPARATOR)
            .ok_or(bad("no separator"))?;
        if sep < SEC_MIN_WIDTH + USEC_WIDTH {
            return Err(bad("time field too short"));
        }
        let (sec_field, usec_field) = b[..sep].split_at(sep - USEC_WIDTH);
        let inode_field = &b[sep + 1..];
        if inode_field.is_empty() {
            return Err(bad("no inode field"));
        }
        let secs = decode(sec_field, TIME_BASE).ok_or(bad("bad seconds"))?;
        let usecs = decode(usec_field, TIME_BASE)
            .and_then(|u| u32::try_from(u).ok())
            .filter(|&u| u < 1_000_000)
            .ok_or(bad("bad microseconds"))?;
        if arrival_of(secs, usecs).is_none() {
            return Err(bad("time out of range"));
        }
        let inode = decode(inode_field, INODE_BASE).ok_or(bad("bad inode field"))?;
        let id = QueueId::from_parts(secs, usecs, inode);
        // Leading zeros beyond the padding would give a second name for
        // the same file.
        if id.text != s {
            return Err(bad("not in canonical form"));
        }
        Ok(id)
    }
}

impl Ord for QueueId {
    fn cmp(&self, other: &QueueId) -> std::cmp::Ordering {
        (self.secs, self.usecs, self.inode).cmp(&(other.secs, other.usecs, other.inode))
    }
}

impl PartialOrd for QueueId {
    fn partial_cmp(&self, other: &QueueId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QueueId({})", self.text)
    }
}

impl AsRef<str> for QueueId {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, usecs: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, usecs * 1000)
    }

    #[test]
    fn encodes_like_postfix_safe_ultostr() {
        // The field widths are Postfix's: 6 + 4, `z`, then the inode.
        let id = QueueId::new(at(1_169_404_379, 306_437), 2_951_005);
        let s = id.as_str();
        // Computed independently with Postfix's algorithm.
        assert_eq!(s, "33wm1l29K1zQDXq");
        assert_eq!(s.find('z'), Some(10));
        assert_eq!(decode(&s.as_bytes()[..6], 52), Some(1_169_404_379));
        assert_eq!(decode(&s.as_bytes()[6..10], 52), Some(306_437));
        assert_eq!(decode(&s.as_bytes()[11..], 51), Some(2_951_005));
        assert_eq!(QueueId::new(at(0, 0), 0).as_str(), "0000000000z0");
        assert_eq!(QueueId::new(at(51, 51), 50).as_str(), "00000z000zzy");
    }

    #[test]
    fn round_trips_through_text() {
        for (secs, usecs, inode) in [
            (0, 0, 0),
            (1_700_000_000, 999_999, u64::MAX),
            (40_000_000_000_000, 0, 1),
            (52u64.pow(6), 1, 51),
        ] {
            let id = QueueId::from_parts(secs, usecs, inode);
            let back: QueueId = id.as_str().parse().expect("parses");
            assert_eq!(back, id);
            assert_eq!(back.arrival(), at(secs, usecs));
        }
    }

    #[test]
    fn rejects_what_is_not_safe_or_canonical() {
        for s in [
            "",
            "z",
            "../etc/passwd",
            "4ABCDEF0123",
            "0000000000z",
            "000000000z1",
            "0000000000z0/",
            "0000000000z 1",
            "0000000000zA",
            "0000000000za",
            "00000000zzzz1",
            "000000ZZZZz1",
            "00000000000z1",
            "0000000000z01",
            "0000000000zé",
        ] {
            assert!(s.parse::<QueueId>().is_err(), "{s:?} accepted");
        }
        let too_big = format!("{}z1", "z".repeat(20));
        assert!(too_big.parse::<QueueId>().is_err());
        // 2 * 52^11 seconds fit in 64 bits but in no SystemTime.
        assert!("2000000000000000z1".parse::<QueueId>().is_err());
    }

    #[test]
    fn sorts_by_arrival_then_inode() {
        let a = QueueId::new(at(1_700_000_000, 5), 99_999_999);
        let b = QueueId::new(at(1_700_000_000, 6), 1);
        let c = QueueId::new(at(1_700_000_001, 0), 1);
        let d = QueueId::new(at(1_700_000_001, 0), 2);
        assert!(a < b && b < c && c < d);
        // As strings too, while the inode fields have the same length.
        assert!(a.as_str() < b.as_str() && b.as_str() < c.as_str() && c.as_str() < d.as_str());
    }
}
