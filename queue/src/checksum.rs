//! The checksum in a queue file's end record (`docs/queue-format.md`,
//! "Checksum"): which hash each format version uses, over which bytes.

use std::fmt;

use xxhash_rust::xxh64::Xxh64;

use crate::record::{RecordType, SIZE_LEN};

/// The checksum in the end record, over every record before it, header
/// and payload, except that the size record's payload counts as zeros
/// (it is patched at commit and checked against the file anyway) and a
/// done recipient's type byte counts as `R` (the done flip must not
/// invalidate the file). A change of any one byte elsewhere always
/// changes it.
///
/// The hash depends on the format version: version 2 uses XXH64 (seed
/// 0), which takes 32 bytes per step; version 1 used 64-bit FNV-1a, one
/// serial multiply per byte, which cost about 12% of the CPU of a
/// machine receiving 100 KB messages. Version 1 files are still read.
#[derive(Clone)]
pub enum Checksum {
    /// Version 1: 64-bit FNV-1a, the state so far.
    Fnv1a(u64),
    /// Version 2: XXH64 with seed 0.
    Xxh64(Xxh64),
}

/// Zeros that stand in for the size record's payload.
const ZEROS: [u8; SIZE_LEN] = [0; SIZE_LEN];

impl Checksum {
    /// The checksum of format `version`. A version this crate does not
    /// read gets the current one; such files are refused anyway.
    pub fn for_version(version: u16) -> Checksum {
        match version {
            1 => Checksum::Fnv1a(0xcbf2_9ce4_8422_2325),
            _ => Checksum::Xxh64(Xxh64::new(0)),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Checksum::Fnv1a(h) => {
                *h = bytes.iter().fold(*h, |h, &b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
                });
            }
            Checksum::Xxh64(h) => h.update(bytes),
        }
    }

    /// Add one record.
    pub fn add(&mut self, kind: RecordType, payload: &[u8]) {
        let kind = match kind {
            RecordType::DoneRecipient => RecordType::Recipient,
            k => k,
        };
        // Payloads never exceed MAX_PAYLOAD, which fits in 32 bits.
        let n = (payload.len() as u32).to_be_bytes();
        self.update(&[kind.byte(), n[0], n[1], n[2], n[3]]);
        match kind {
            RecordType::Size => payload
                .chunks(ZEROS.len())
                .for_each(|c| self.update(&ZEROS[..c.len()])),
            _ => self.update(payload),
        }
    }

    /// The checksum of the records added so far.
    pub fn value(&self) -> u64 {
        match self {
            Checksum::Fnv1a(h) => *h,
            Checksum::Xxh64(h) => h.digest(),
        }
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Checksum::Fnv1a(_) => "Fnv1a",
            Checksum::Xxh64(_) => "Xxh64",
        };
        write!(f, "{name}({:#018x})", self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::READ_VERSIONS;

    #[test]
    fn checksum_ignores_size_payload_and_done_flag_only() {
        for version in READ_VERSIONS {
            let sum = |records: &[(RecordType, &[u8])]| {
                let mut c = Checksum::for_version(version);
                records.iter().for_each(|(k, p)| c.add(*k, p));
                c.value()
            };
            let base = sum(&[(RecordType::Size, &[1; 24]), (RecordType::Recipient, b"r")]);
            assert_eq!(
                base,
                sum(&[
                    (RecordType::Size, &[2; 24]),
                    (RecordType::DoneRecipient, b"r")
                ])
            );
            assert_ne!(
                base,
                sum(&[(RecordType::Size, &[1; 24]), (RecordType::Recipient, b"s")])
            );
            assert_ne!(
                base,
                sum(&[(RecordType::Size, &[1; 24]), (RecordType::Sender, b"r")])
            );
            assert_ne!(
                base,
                sum(&[(RecordType::Size, &[1; 23]), (RecordType::Recipient, b"r")])
            );
        }
    }

    #[test]
    fn checksums_hash_the_record_stream_of_their_version() {
        let sum = |version, kind, payload: &[u8]| {
            let mut c = Checksum::for_version(version);
            c.add(kind, payload);
            c.value()
        };
        // Version 1: FNV-1a, values computed by the previous release.
        assert_eq!(sum(1, RecordType::Line, b"hello"), 0x501e_3a1d_5020_5f12);
        assert_eq!(sum(1, RecordType::Size, &[9; 24]), 0x44d7_ed42_8ccf_0efa);
        // Version 2: XXH64 of the same stream.
        let xxh64 = |bytes: &[u8]| xxhash_rust::xxh64::xxh64(bytes, 0);
        assert_eq!(
            sum(2, RecordType::Line, b"hello"),
            xxh64(b"N\0\0\0\x05hello")
        );
        let size = [&b"C\0\0\0\x18"[..], &[0; 24]].concat();
        assert_eq!(sum(2, RecordType::Size, &[9; 24]), xxh64(&size));
    }
}
