//! `cidr:` tables (cidr_table(5)): IPv4 and IPv6 networks tried in
//! order, first match wins. `network/prefix result`, a bare address,
//! `[addr]/len` or `[addr/len]`, `!` negation, `if network` ... `endif`.
//! A key that is not an IP address matches nothing; a rule only matches
//! keys of its own address family, negated or not (Postfix `cidr_match`).

mod addr;

use crate::pattern::program::{Builder, Program};
use crate::pattern::rhs_file;
use crate::pattern::source::{self, is_space, skip_space, trim_blanks};
use crate::table::{Error, OpenOptions, Opened, Table};

use addr::Addr;

/// Open the cidr table in file `path` (or inline `{...}` text).
pub fn open(spec: &str, path: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    let text = source::load("cidr", path)?;
    from_text(spec, path, &text, opts)
}

/// Build a cidr table from `text`; `origin` names it in warnings.
pub fn from_text(
    spec: &str,
    origin: &str,
    text: &str,
    opts: &OpenOptions,
) -> Result<Opened, Error> {
    let mut warnings = Vec::new();
    let mut builder = Builder::new();
    for line in source::logical_lines(origin, text, &mut warnings) {
        let rule = trim_blanks(&line.text);
        if rule.is_empty() {
            continue;
        }
        if let Err(why) = parse_rule(rule, line.number, opts, &mut builder) {
            warnings.push(format!(
                "cidr map {origin}, line {}: {why}: skipping this rule",
                line.number
            ));
        }
    }
    let (program, unclosed) = builder.finish();
    for line in unclosed {
        warnings.push(format!(
            "cidr map {origin}, line {line}: IF has no matching ENDIF"
        ));
    }
    let table = CidrTable {
        spec: spec.to_string(),
        program,
    };
    Ok(Opened {
        table: Box::new(table),
        warnings,
    })
}

/// A network to compare keys with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cond {
    positive: bool,
    bits: u32,
    net: u128,
    mask: u128,
}

impl Cond {
    /// Whether the rule applies to `key` (negation included): only keys
    /// of the same family are considered at all.
    fn holds(&self, key: Addr) -> bool {
        key.bits == self.bits && ((key.value & self.mask) == self.net) == self.positive
    }
}

#[derive(Debug)]
struct CidrTable {
    spec: String,
    program: Program<(Cond, String), Cond>,
}

impl Table for CidrTable {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, Error> {
        let Some(key) = Addr::parse(key) else {
            return Ok(None);
        };
        self.program.run(
            |cond| Ok(cond.holds(key)),
            |(cond, value)| Ok(cond.holds(key).then(|| value.clone())),
        )
    }
}

/// Whether `rule` starts with keyword `word` (any case) followed by a
/// non-alphanumeric character.
fn starts_word(rule: &str, word: &str) -> bool {
    rule.get(..word.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(word))
        && !rule
            .as_bytes()
            .get(word.len())
            .is_some_and(u8::is_ascii_alphanumeric)
}

/// Leading `!` and white space, and whether the count of `!` is even.
fn negation(mut s: &str) -> (bool, &str) {
    let mut positive = true;
    while let Some(c) = s.chars().next() {
        if c == '!' {
            positive = !positive;
        } else if !is_space(c) {
            break;
        }
        s = &s[c.len_utf8()..];
    }
    (positive, s)
}

/// Parse one logical line into `builder`; the error is Postfix's reason.
fn parse_rule(
    rule: &str,
    line: usize,
    opts: &OpenOptions,
    builder: &mut Builder<(Cond, String), Cond>,
) -> Result<(), String> {
    if starts_word(rule, "if") {
        let (positive, pattern) = negation(&rule[2..]);
        if pattern.is_empty() {
            return Err("no address pattern".to_string());
        }
        let cond = parse_pattern(pattern, positive)?;
        builder.push_if(cond, line);
        return Ok(());
    }
    if starts_word(rule, "endif") {
        if !skip_space(&rule[5..]).is_empty() {
            return Err("garbage after ENDIF".to_string());
        }
        if !builder.push_endif() {
            return Err("ENDIF without IF".to_string());
        }
        return Ok(());
    }
    let (positive, rest) = negation(rule);
    let end = rest.find(is_space).unwrap_or(rest.len());
    let (pattern, value) = (&rest[..end], skip_space(&rest[end..]));
    if pattern.is_empty() {
        return Err("no address pattern".to_string());
    }
    let cond = parse_pattern(pattern, positive)?;
    if value.is_empty() {
        return Err("no lookup result".to_string());
    }
    let value = if opts.rhs_is_file {
        rhs_file::to_base64(value)?
    } else {
        value.to_string()
    };
    builder.push_match((cond, value));
    Ok(())
}

/// An address or network pattern (Postfix `cidr_match_parse`).
fn parse_pattern(pattern: &str, positive: bool) -> Result<Cond, String> {
    // `[addr]`, `[addr]/len` and `[addr/len]`: brackets are optional in
    // tables but allowed, as in match lists.
    let (addr, mask) = match pattern.strip_prefix('[') {
        Some(inner) => {
            let Some((addr, after)) = inner.split_once(']') else {
                return Err(format!("missing ']' character after \"[{inner}\""));
            };
            match after.strip_prefix('/') {
                Some(mask) => (addr, Some(mask)),
                None if after.is_empty() => split_mask(addr),
                None => return Err(format!("garbage after \"[{addr}]\"")),
            }
        }
        None => split_mask(pattern),
    };
    let Some(mask) = mask else {
        let net = Addr::parse(addr).ok_or_else(|| format!("bad address pattern: \"{addr}\""))?;
        return Ok(Cond {
            positive,
            bits: net.bits,
            net: net.value,
            mask: Addr::mask(net.bits, net.bits),
        });
    };
    let bits = if addr.contains(':') { 128 } else { 32 };
    if mask.is_empty() || !mask.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad mask value in \"{addr}/{mask}\""));
    }
    let len = mask.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    let len = match u32::try_from(len) {
        Ok(len) if len <= bits => len,
        _ => return Err(format!("bad mask length in \"{addr}/{mask}\"")),
    };
    let net = Addr::parse(addr).ok_or_else(|| format!("bad network value in \"{addr}/{mask}\""))?;
    let netmask = Addr::mask(bits, len);
    if net.value & !netmask != 0 {
        let suggest = Addr {
            bits,
            value: net.value & netmask,
        };
        return Err(format!(
            "non-null host address bits in \"{addr}/{mask}\", perhaps you should use \"{}/{len}\" instead",
            suggest.to_text()
        ));
    }
    Ok(Cond {
        positive,
        bits,
        net: net.value,
        mask: netmask,
    })
}

/// `addr/len` into its parts (at the first `/`).
fn split_mask(pattern: &str) -> (&str, Option<&str>) {
    match pattern.split_once('/') {
        Some((addr, mask)) => (addr, Some(mask)),
        None => (pattern, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> (Box<dyn Table>, Vec<String>) {
        let opened = from_text("cidr:t", "t", text, &OpenOptions::default()).unwrap();
        (opened.table, opened.warnings)
    }

    fn get(table: &dyn Table, key: &str) -> Option<String> {
        table.lookup(key).unwrap()
    }

    #[test]
    fn networks_and_bare_addresses() {
        let (t, w) = table("10.0.0.0/8 ten\n192.0.2.1 host\n2001:db8::/32 doc\n0.0.0.0/0 any4\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(get(&*t, "10.1.2.3").as_deref(), Some("ten"));
        assert_eq!(get(&*t, "192.0.2.1").as_deref(), Some("host"));
        assert_eq!(get(&*t, "192.0.2.2").as_deref(), Some("any4"));
        assert_eq!(get(&*t, "2001:DB8::1").as_deref(), Some("doc"));
        assert_eq!(get(&*t, "2001:db9::1"), None);
        assert_eq!(get(&*t, "not-an-address"), None);
        assert_eq!(get(&*t, "[10.1.2.3]"), None);
    }

    #[test]
    fn negation_applies_within_the_family_only() {
        let (t, _) = table("! 10.0.0.0/8 outside\n");
        assert_eq!(get(&*t, "11.0.0.1").as_deref(), Some("outside"));
        assert_eq!(get(&*t, "10.0.0.1"), None);
        assert_eq!(get(&*t, "::1"), None);
    }

    #[test]
    fn if_blocks() {
        let (t, w) = table("if 1.2.3.0/24\nif !1.2.3.4\n1.2.3.0/28 low\nendif\nendif\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(get(&*t, "1.2.3.5").as_deref(), Some("low"));
        assert_eq!(get(&*t, "1.2.3.4"), None);
        assert_eq!(get(&*t, "1.2.4.5"), None);
    }

    #[test]
    fn bracket_forms() {
        let (t, w) = table("[1.2.3.4]/32 a\n[1.2.4.0/24] b\n[::1] c\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(get(&*t, "1.2.3.4").as_deref(), Some("a"));
        assert_eq!(get(&*t, "1.2.4.9").as_deref(), Some("b"));
        assert_eq!(get(&*t, "::1").as_deref(), Some("c"));
    }

    #[test]
    fn warnings_in_postfix_words() {
        let (_, w) = table(
            "1.2.3.4/ x\n1.2.3.4/024 y\nendif junk\nif\n::1:2:3:4/64 a\n::102:304/120 c\nif 1.2.3.4\n",
        );
        assert_eq!(
            w,
            vec![
                "cidr map t, line 1: bad mask value in \"1.2.3.4/\": skipping this rule",
                "cidr map t, line 2: non-null host address bits in \"1.2.3.4/024\", perhaps you should use \"1.2.3.0/24\" instead: skipping this rule",
                "cidr map t, line 3: garbage after ENDIF: skipping this rule",
                "cidr map t, line 4: no address pattern: skipping this rule",
                "cidr map t, line 5: non-null host address bits in \"::1:2:3:4/64\", perhaps you should use \"::/64\" instead: skipping this rule",
                "cidr map t, line 6: non-null host address bits in \"::102:304/120\", perhaps you should use \"::1.2.3.0/120\" instead: skipping this rule",
                "cidr map t, line 7: IF has no matching ENDIF",
            ]
        );
    }
}
