//! Typed parameter values, parsed as Postfix's `mail_conf_bool.c`,
//! `mail_conf_int.c`, `mail_conf_long.c`, `mail_conf_time.c` and
//! `conv_time.c` do, with their error texts (fatal in Postfix, an
//! [`Error`] here). `min`/`max` of zero mean "no limit", as in Postfix.

use std::time::Duration;

use crate::expand;

/// Why a parameter value was rejected; the texts are Postfix's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("bad boolean configuration: {name} = {value}")]
    BadBool { name: String, value: String },
    #[error("bad numerical configuration: {name} = {value}")]
    BadNumber { name: String, value: String },
    #[error("invalid {name} parameter value {value} < {min}")]
    TooSmall { name: String, value: i64, min: i64 },
    #[error("invalid {name} parameter value {value} > {max}")]
    TooLarge { name: String, value: i64, max: i64 },
    #[error("parameter {name}: bad time value or unit: {value}")]
    BadTime { name: String, value: String },
    #[error("invalid {name}: {value} (min {min})")]
    TimeTooSmall { name: String, value: i64, min: i64 },
    #[error("invalid {name}: {value} (max {max})")]
    TimeTooLarge { name: String, value: i64, max: i64 },
    #[error("malformed compatibility level syntax: \"{value}\"")]
    BadCompatLevel { value: String },
}

/// `yes` or `no`, in any case (strcasecmp), nothing else.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, Error> {
    if value.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err(Error::BadBool {
            name: name.to_string(),
            value: value.to_string(),
        })
    }
}

/// A C `int` parameter: decimal (strtol: optional leading white space and
/// sign), nothing after the digits, within `i32`, then `min`/`max`.
pub fn parse_int(name: &str, value: &str, min: i64, max: i64) -> Result<i64, Error> {
    parse_number(name, value, i32::MIN.into(), i32::MAX.into(), min, max)
}

/// A C `long` parameter, e.g. the byte counts `message_size_limit` and
/// `mailbox_size_limit`: like [`parse_int`] within `i64`.
pub fn parse_long(name: &str, value: &str, min: i64, max: i64) -> Result<i64, Error> {
    parse_number(name, value, i64::MIN, i64::MAX, min, max)
}

fn parse_number(
    name: &str,
    value: &str,
    lowest: i64,
    highest: i64,
    min: i64,
    max: i64,
) -> Result<i64, Error> {
    let n = strtol(value);
    if value.is_empty()
        || n.end != value.len()
        || n.overflow
        || n.value < lowest
        || n.value > highest
    {
        return Err(Error::BadNumber {
            name: name.to_string(),
            value: value.to_string(),
        });
    }
    let name = name.to_string();
    match n.value {
        v if min != 0 && v < min => Err(Error::TooSmall {
            name,
            value: v,
            min,
        }),
        v if max != 0 && v > max => Err(Error::TooLarge {
            name,
            value: v,
            max,
        }),
        v => Ok(v),
    }
}

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// A time value (conv_time): a non-negative `int` with an optional unit
/// letter `s`, `m`, `h`, `d` or `w`; without one, `default_unit` applies.
/// The result must fit a C `int` of seconds. `min`/`max` are in seconds.
pub fn parse_time(
    name: &str,
    value: &str,
    default_unit: char,
    min: i64,
    max: i64,
) -> Result<Duration, Error> {
    let bad = || Error::BadTime {
        name: name.to_string(),
        value: value.to_string(),
    };
    let seconds = time_in_seconds(value, default_unit).ok_or_else(bad)?;
    let name = name.to_string();
    match seconds {
        v if min != 0 && v < min => Err(Error::TimeTooSmall {
            name,
            value: v,
            min,
        }),
        v if max != 0 && v > max => Err(Error::TimeTooLarge {
            name,
            value: v,
            max,
        }),
        // Checked non-negative by time_in_seconds.
        v => Ok(Duration::from_secs(v.unsigned_abs())),
    }
}

/// conv_time. Like strtol, it reads nothing from "s", so "s" is 0 seconds.
fn time_in_seconds(value: &str, default_unit: char) -> Option<i64> {
    let n = strtol(value);
    let int_max = i64::from(i32::MAX);
    let rest = &value.as_bytes()[n.end..];
    if value.is_empty() || n.overflow || n.value > int_max || n.value < 0 || rest.len() > 1 {
        return None;
    }
    let unit = rest.first().map_or(default_unit, |&c| char::from(c));
    let scale = match unit {
        'w' => WEEK,
        'd' => DAY,
        'h' => HOUR,
        'm' => MINUTE,
        's' => return Some(n.value),
        _ => return None,
    };
    // Postfix's check is strict (`<`), so the largest multiple is refused.
    (n.value < int_max / scale).then_some(n.value * scale)
}

/// The time unit of a default value such as `5d`, `300s` or
/// `${stress?{10}:{300}}s`: the default is first evaluated with nothing
/// defined, as get_def_time_unit does with mail_conf_eval. `None` when it
/// has no unit, or the unit is not its last character.
pub fn time_unit_of_default(default: &str) -> Option<char> {
    let evaluated = expand::expand(default, true, &mut |_| None).value;
    time_unit_of_value(&evaluated)
}

/// get_def_time_unit on an evaluated value: the first letter, which must
/// also be the last character.
pub fn time_unit_of_value(evaluated: &str) -> Option<char> {
    let at = evaluated.find(|c: char| c.is_ascii_alphabetic())?;
    let unit = evaluated[at..].chars().next()?;
    (at + 1 == evaluated.len()).then_some(unit)
}

/// A compatibility level `major[.minor[.patch]]` as one comparable number
/// (compat_level_from_string): minor and patch take 10 bits each, major
/// the rest, so `3.10` compares above `3.9`, unlike as strings or floats.
pub fn parse_compat_level(value: &str) -> Result<i64, Error> {
    let bad = || Error::BadCompatLevel {
        value: value.to_string(),
    };
    let mut level = 0;
    let mut rest = value;
    for (shift, max) in [(20, i64::MAX >> 20), (10, 1023), (0, 1023)] {
        let n = strtol(rest);
        let tail = &rest[n.end..];
        let tail_ok = tail.is_empty() || (shift != 0 && tail.starts_with('.'));
        if n.end == 0 || !tail_ok || n.overflow || !(0..=max).contains(&n.value) {
            return Err(bad());
        }
        level |= n.value << shift;
        if tail.is_empty() {
            return Ok(level);
        }
        rest = &tail[1..];
    }
    Err(bad())
}

/// What C `strtol(s, &end, 10)` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Strtol {
    /// Clamped to the `i64` range on overflow.
    pub(crate) value: i64,
    /// Byte offset of the first unused byte; 0 when no digits were read.
    pub(crate) end: usize,
    /// `errno == ERANGE`.
    pub(crate) overflow: bool,
}

/// C `strtol` in base 10: leading isspace, optional sign, digits.
pub(crate) fn strtol(s: &str) -> Strtol {
    let b = s.as_bytes();
    let mut i = b
        .iter()
        .take_while(|&&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let negative = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits_start = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
        let digit = i64::from(c - b'0');
        // Accumulate negatively so that i64::MIN is reachable.
        match value.checked_mul(10).and_then(|v| v.checked_sub(digit)) {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return Strtol {
            value: 0,
            end: 0,
            overflow: false,
        };
    }
    let value = match (negative, overflow) {
        (true, true) => i64::MIN,
        (false, true) => i64::MAX,
        (true, false) => value,
        (false, false) => value.checked_neg().unwrap_or_else(|| {
            overflow = true;
            i64::MAX
        }),
    };
    Strtol {
        value,
        end: i,
        overflow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("p", "yes"), Ok(true));
        assert_eq!(parse_bool("p", "YeS"), Ok(true));
        assert_eq!(parse_bool("p", "No"), Ok(false));
        for bad in ["", "y", "true", "1", " yes", "yes "] {
            let err = parse_bool("soft_bounce", bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("bad boolean configuration: soft_bounce = {bad}")
            );
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int("p", "42", 0, 0), Ok(42));
        assert_eq!(parse_int("p", " -7", 0, 0), Ok(-7));
        assert_eq!(parse_int("p", "+7", 0, 0), Ok(7));
        assert_eq!(parse_int("p", "2147483647", 0, 0), Ok(2147483647));
        for bad in [
            "",
            "x",
            "1x",
            "1 ",
            "2147483648",
            "-2147483649",
            "99999999999999999999",
            "-",
        ] {
            let err = parse_int("default_process_limit", bad, 0, 0).unwrap_err();
            let want = format!("bad numerical configuration: default_process_limit = {bad}");
            assert_eq!(err.to_string(), want);
        }
        let err = parse_int("p", "0", 1, 0).unwrap_err();
        assert_eq!(err.to_string(), "invalid p parameter value 0 < 1");
        let err = parse_int("p", "11", 0, 10).unwrap_err();
        assert_eq!(err.to_string(), "invalid p parameter value 11 > 10");
        assert_eq!(parse_int("p", "0", 0, 10), Ok(0));
    }

    #[test]
    fn longs() {
        assert_eq!(
            parse_long("message_size_limit", "10240000", 0, 0),
            Ok(10240000)
        );
        assert_eq!(parse_long("p", "9223372036854775807", 0, 0), Ok(i64::MAX));
        assert_eq!(parse_long("p", "-9223372036854775808", 0, 0), Ok(i64::MIN));
        assert!(parse_long("p", "9223372036854775808", 0, 0).is_err());
        assert!(parse_long("p", "-9223372036854775809", 0, 0).is_err());
        assert!(parse_long("p", "10k", 0, 0).is_err());
    }

    /// Replays mail_conf_time.c's test driver: defaults 10s .. 10w, whose
    /// unit is both the default unit and the explicit one.
    #[test]
    fn mail_conf_time_fixture() {
        let mut out = String::new();
        for (name, default) in [
            ("seconds", "10s"),
            ("minutes", "10m"),
            ("hours", "10h"),
            ("days", "10d"),
            ("weeks", "10w"),
        ] {
            let unit = time_unit_of_default(default).unwrap_or('?');
            let secs = parse_time(name, default, unit, 0, 0).map_or(-1, |d| d.as_secs() as i64);
            out.push_str(&format!("10 {name} = {secs}\n"));
        }
        assert_eq!(
            out,
            include_str!("../tests/fixtures/mail_conf_time/mail_conf_time.ref")
        );
    }

    #[test]
    fn times() {
        let secs = |v: &str, unit: char| parse_time("t", v, unit, 0, 0).map(|d| d.as_secs());
        assert_eq!(secs("300", 's'), Ok(300));
        assert_eq!(secs("5", 'd'), Ok(5 * 86400));
        assert_eq!(secs("5h", 'd'), Ok(5 * 3600));
        assert_eq!(secs("0w", 's'), Ok(0));
        assert_eq!(secs("s", 's'), Ok(0));
        assert_eq!(secs("2147483647s", 's'), Ok(2147483647));
        assert_eq!(secs("3549w", 's'), Ok(3549 * WEEK as u64));
        for bad in [
            "",
            "-1s",
            "5x",
            "5ss",
            "5 s",
            "3550w",
            "24855d",
            "2147483648",
            "1é",
            "9999999999999999999999",
        ] {
            let err = parse_time("maximal_queue_lifetime", bad, 'd', 0, 0).unwrap_err();
            let want = format!("parameter maximal_queue_lifetime: bad time value or unit: {bad}");
            assert_eq!(err.to_string(), want);
        }
        let err = parse_time("t", "1m", 's', 100, 0).unwrap_err();
        assert_eq!(err.to_string(), "invalid t: 60 (min 100)");
        let err = parse_time("t", "1h", 's', 0, 100).unwrap_err();
        assert_eq!(err.to_string(), "invalid t: 3600 (max 100)");
    }

    #[test]
    fn default_time_units() {
        assert_eq!(time_unit_of_default("5d"), Some('d'));
        assert_eq!(time_unit_of_default("300s"), Some('s'));
        assert_eq!(time_unit_of_default("${stress?{10}:{300}}s"), Some('s'));
        assert_eq!(
            time_unit_of_default("${stress?10}${stress:300}s"),
            Some('s')
        );
        assert_eq!(time_unit_of_default("10"), None);
        assert_eq!(time_unit_of_default("1ms"), None);
        assert_eq!(time_unit_of_default(""), None);
        assert_eq!(time_unit_of_value("é"), None);
    }

    #[test]
    fn compat_levels() {
        assert_eq!(parse_compat_level("0"), Ok(0));
        assert_eq!(parse_compat_level("3.6"), Ok((3 << 20) | (6 << 10)));
        assert_eq!(parse_compat_level("3.6.1"), Ok((3 << 20) | (6 << 10) | 1));
        assert!(parse_compat_level("3.10").unwrap() > parse_compat_level("3.9").unwrap());
        for bad in [
            "",
            "3.",
            "3.6.1.2",
            "3.1024",
            "-1",
            "x",
            "3.6x",
            "99999999999999999999",
        ] {
            let err = parse_compat_level(bad).unwrap_err();
            let want = format!("malformed compatibility level syntax: \"{bad}\"");
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn strtol_like_c() {
        let t = |s: &str| {
            let n = strtol(s);
            (n.value, n.end, n.overflow)
        };
        assert_eq!(t("12ab"), (12, 2, false));
        assert_eq!(t("  -3"), (-3, 4, false));
        assert_eq!(t("+"), (0, 0, false));
        assert_eq!(t(" x"), (0, 0, false));
        assert_eq!(t("99999999999999999999x"), (i64::MAX, 20, true));
        assert_eq!(t("-99999999999999999999"), (i64::MIN, 21, true));
    }
}
