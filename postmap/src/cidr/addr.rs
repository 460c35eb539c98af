//! Addresses and networks for cidr tables: parsing as `inet_pton()`
//! does, prefix matching, and printing as glibc's `inet_ntop()` does
//! (needed word for word in the "perhaps you should use" warning).

use std::net::{Ipv4Addr, Ipv6Addr};

/// An IPv4 or IPv6 address as a number, with its width in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Addr {
    pub(super) bits: u32,
    pub(super) value: u128,
}

impl Addr {
    /// Parse as Postfix does: the family is IPv6 when the text contains
    /// a colon, and the text must be exactly an address of that family
    /// (`inet_pton`: dotted quad without leading zeros, or IPv6 text).
    pub(super) fn parse(text: &str) -> Option<Addr> {
        if text.contains(':') {
            let addr: Ipv6Addr = text.parse().ok()?;
            Some(Addr {
                bits: 128,
                value: u128::from(addr),
            })
        } else {
            let addr: Ipv4Addr = text.parse().ok()?;
            Some(Addr {
                bits: 32,
                value: u128::from(u32::from(addr)),
            })
        }
    }

    /// The netmask for a prefix of `len` bits of a `bits`-bit address
    /// (`len <= bits`).
    pub(super) fn mask(bits: u32, len: u32) -> u128 {
        let all = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        if len == 0 {
            0
        } else {
            // 1 <= len <= bits, so the shift is at most 127.
            all & !((1u128 << (bits - len)) - 1)
        }
    }

    /// The address in glibc `inet_ntop()` form.
    pub(super) fn to_text(self) -> String {
        if self.bits == 32 {
            // The value has only 32 bits by construction.
            return Ipv4Addr::from(u32::try_from(self.value).unwrap_or(0)).to_string();
        }
        ntop6(self.value)
    }
}

/// glibc's `inet_ntop6`: lowercase hex words, the first longest run of
/// two or more zero words as `::`, and a trailing IPv4 address for
/// IPv4-compatible (`::a.b.c.d`) and IPv4-mapped (`::ffff:a.b.c.d`) forms.
fn ntop6(value: u128) -> String {
    let words: Vec<u16> = (0..8)
        .map(|i| ((value >> (112 - 16 * i)) & 0xffff) as u16)
        .collect();
    // The first longest run of zero words.
    let (mut best, mut best_len) = (None, 0usize);
    let mut at = 0;
    while at < 8 {
        if words[at] != 0 {
            at += 1;
            continue;
        }
        let start = at;
        while at < 8 && words[at] == 0 {
            at += 1;
        }
        if at - start > best_len {
            best = Some(start);
            best_len = at - start;
        }
    }
    if best_len < 2 {
        best = None;
    }
    let mut out = String::new();
    for (i, word) in words.iter().enumerate() {
        if let Some(base) = best
            && i >= base
            && i < base + best_len
        {
            if i == base {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best == Some(0) && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            let v4 = Ipv4Addr::from((value & 0xffff_ffff) as u32);
            out.push_str(&v4.to_string());
            return out;
        }
        out.push_str(&format!("{word:x}"));
    }
    if best.is_some_and(|base| base + best_len == 8) {
        out.push(':');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        Addr::parse(s).unwrap().to_text()
    }

    #[test]
    fn ipv6_text_as_glibc_writes_it() {
        assert_eq!(text("::"), "::");
        assert_eq!(text("::1"), "::1");
        assert_eq!(text("::102:304"), "::1.2.3.4");
        assert_eq!(text("::ffff:102:304"), "::ffff:1.2.3.4");
        assert_eq!(text("1:2:0:0:3:0:0:4"), "1:2::3:0:0:4");
        assert_eq!(text("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(text("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0");
        assert_eq!(text("1::"), "1::");
        assert_eq!(text("2001:DB8::A"), "2001:db8::a");
    }

    #[test]
    fn parse_is_strict_like_inet_pton() {
        for bad in [
            "01.2.3.4",
            "1.2.3",
            "1.2.3.256",
            "1::2::3",
            "1:2:3:4:5:6:7:8:9",
            "x.y",
            " 1.2.3.4",
            "1.2.3.4 ",
            "[::1]",
            "",
        ] {
            assert_eq!(Addr::parse(bad), None, "{bad}");
        }
        for good in [
            "0.0.0.0",
            "1.2.3.4",
            "::",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:7::",
            "::FFFF:1.2.3.4",
        ] {
            assert!(Addr::parse(good).is_some(), "{good}");
        }
    }

    #[test]
    fn masks() {
        assert_eq!(Addr::mask(32, 0), 0);
        assert_eq!(Addr::mask(32, 24), 0xffff_ff00);
        assert_eq!(Addr::mask(32, 32), 0xffff_ffff);
        assert_eq!(Addr::mask(128, 128), u128::MAX);
        assert_eq!(Addr::mask(128, 1), 1u128 << 127);
    }
}
