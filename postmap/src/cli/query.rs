//! `-q key` and `-q -`: the first value found across the listed tables
//! (postmap.c `postmap_query`, `postmap_queries`). `-q key` opens one
//! table at a time and stops at the first hit; `-q -` opens each table
//! when the first key needs it, so an empty stdin opens nothing. With
//! `-b`/`-h`, stdin is a message and its header or body lines are the
//! keys ([`super::message_keys`]). With `-F` values are base64-decoded.

use std::io::{self, BufRead, BufReader};

use crate::source::base64;

use super::Context;
use super::diag::{self, Fatal, Output, fatal, printable_bytes};
use super::maps::{LookupError, Map};
use super::message_keys::{MessageKeys, Step};
use super::mime::Mime;

/// What a C string holds: up to the first NUL. Postfix keys and values
/// are C strings, in lookups and in output alike.
pub(crate) fn c_str(bytes: &[u8]) -> &[u8] {
    bytes.split(|&c| c == 0).next().unwrap_or(bytes)
}

/// Read one line of stdin without its newline; false at the end.
pub(crate) fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> Result<bool, Fatal> {
    line.clear();
    let n = input
        .read_until(b'\n', line)
        .map_err(|e| fatal(format!("read standard input: {}", conf::io_reason(&e))))?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(n > 0)
}

/// Postfix's two warnings about a table that answers with "".
fn warn_empty(table: &str, key: &[u8]) {
    diag::warn(format!(
        "table {table}: key {}: empty string result is not allowed",
        printable_bytes(key)
    ));
    diag::warn(format!(
        "table {table} should return NO RESULT in case of NOT FOUND"
    ));
}

/// A lookup as `postmap` makes it: with `-F` the value is decoded
/// (Postfix `dict_file_lookup`); a table error is fatal.
fn lookup(cx: &Context<'_>, map: &Map, key: &[u8]) -> Result<Option<Vec<u8>>, Fatal> {
    let value = map.lookup(key).map_err(|e| map.query_error(&e))?;
    match value {
        Some(v) if cx.opts.rhs_is_file => match base64::decode(&v) {
            Some(decoded) => Ok(Some(decoded)),
            None => {
                diag::warn(malformed_base64(&map.label, key, &v));
                Err(map.query_error(&LookupError::Config))
            }
        },
        other => Ok(other),
    }
}

/// `table X: key K: malformed BASE64 value: V` (V cut at 30 bytes).
pub(crate) fn malformed_base64(label: &str, key: &[u8], value: &[u8]) -> String {
    format!(
        "table {label}: key {}: malformed BASE64 value: {}",
        printable_bytes(key),
        printable_bytes(&value[..value.len().min(30)])
    )
}

/// `-q key`: true when found.
pub(crate) fn one(cx: &Context<'_>, key: &[u8], out: &mut Output) -> Result<bool, Fatal> {
    let key = c_str(key);
    for arg in &cx.opts.maps {
        let map = Map::open(cx, arg)?;
        if let Some(value) = lookup(cx, &map, key)? {
            let value = c_str(&value);
            if value.is_empty() {
                warn_empty(&map.spec, key);
            }
            out.line(&[value])?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// The tables of `-q -`, each opened when first needed.
struct LazyMaps<'a> {
    cx: &'a Context<'a>,
    maps: Vec<Option<Map>>,
}

impl<'a> LazyMaps<'a> {
    fn new(cx: &'a Context<'a>) -> LazyMaps<'a> {
        LazyMaps {
            cx,
            maps: cx.opts.maps.iter().map(|_| None).collect(),
        }
    }

    /// Print `key<TAB>value` for the first table that has `key`.
    fn query(&mut self, key: &[u8], decode: bool, out: &mut Output) -> Result<bool, Fatal> {
        let cx = self.cx;
        for (slot, arg) in self.maps.iter_mut().zip(&cx.opts.maps) {
            let map = match slot {
                Some(map) => map,
                None => slot.insert(Map::open(cx, arg)?),
            };
            let value = if decode {
                lookup(cx, map, key)?
            } else {
                map.lookup(key).map_err(|e| map.query_error(&e))?
            };
            if let Some(value) = value {
                let value = c_str(&value);
                if value.is_empty() {
                    warn_empty(&map.label, key);
                }
                cx.print_pair(out, key, value)?;
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// `-q -`: true when any key was found.
pub(crate) fn stdin(cx: &Context<'_>, out: &mut Output) -> Result<bool, Fatal> {
    let mut maps = LazyMaps::new(cx);
    let mut input = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut line = Vec::new();
    let mut found = false;
    while read_line(&mut input, &mut line)? {
        found |= maps.query(c_str(&line), true, out)?;
    }
    Ok(found)
}

/// `-q -` with `-h` and/or `-b`: true when any key was found.
pub(crate) fn message(cx: &Context<'_>, out: &mut Output) -> Result<bool, Fatal> {
    let mut maps = LazyMaps::new(cx);
    let opts = cx.opts;
    let settings = cx.settings;
    let mime = opts
        .mime
        .then(|| Mime::new(settings.mime_depth, settings.mime_boundary));
    let mut keys = MessageKeys::new(
        opts.header_keys,
        opts.body_keys,
        settings.header_limit,
        mime,
    );
    let mut input = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut line = Vec::new();
    let mut found = false;
    let mut query = |key: &[u8]| -> Result<(), Fatal> {
        found |= maps.query(key, false, out)?;
        Ok(())
    };
    while read_line(&mut input, &mut line)? {
        if keys.line(&line, &mut query)? == Step::Done {
            break;
        }
    }
    keys.finish(&mut query)?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_strings_end_at_nul() {
        assert_eq!(c_str(b"ab\0cd"), b"ab");
        assert_eq!(c_str(b"abc"), b"abc");
        assert_eq!(c_str(b""), b"");
    }

    #[test]
    fn lines_lose_only_their_newline() {
        let mut input = &b"a\r\nb\n\nlast"[..];
        let mut line = Vec::new();
        let mut got = Vec::new();
        while read_line(&mut input, &mut line).expect("reads") {
            got.push(line.clone());
        }
        assert_eq!(got, [&b"a\r"[..], b"b", b"", b"last"]);
    }

    #[test]
    fn malformed_base64_is_cut_at_30_bytes() {
        let value = b"0123456789012345678901234567890123456789";
        assert_eq!(
            malformed_base64("hash:m.db", b"k\tx", value),
            "table hash:m.db: key k?x: malformed BASE64 value: 012345678901234567890123456789"
        );
    }
}
