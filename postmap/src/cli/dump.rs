//! `-s`: list every entry of the first table named, as `key<TAB>value`
//! (postmap.c `postmap_seq`). The other tables are not looked at, and
//! without one the exit status is 1 with no message, as in Postfix.
//! With `-F` values are base64-decoded; one that is not base64 is
//! warned about and skipped.

use crate::source::base64;

use super::Context;
use super::diag::{self, Fatal, Output, fatal, printable_bytes};
use super::maps::{Map, arg_text};
use super::query::{c_str, malformed_base64};

/// True when a table was listed.
pub(crate) fn run(cx: &Context<'_>, out: &mut Output) -> Result<bool, Fatal> {
    let Some(arg) = cx.opts.maps.first() else {
        return Ok(false);
    };
    if arg_text(arg).split_once(':').map(|(t, _)| t) == Some("proxy") {
        return Err(fatal("can't sequence maps via the proxy service"));
    }
    let map = Map::open(cx, arg)?;
    for (key, value) in map.entries()? {
        let (key, value) = (c_str(&key), c_str(&value));
        if key.is_empty() {
            diag::warn(format!(
                "table {}: empty lookup key value is not allowed",
                map.spec
            ));
        } else if value.is_empty() {
            diag::warn(format!(
                "table {}: key {}: empty string result is not allowed",
                map.spec,
                printable_bytes(key)
            ));
            diag::warn(format!(
                "table {} should return NO RESULT in case of NOT FOUND",
                map.spec
            ));
        }
        if !cx.opts.rhs_is_file {
            cx.print_pair(out, key, value)?;
            continue;
        }
        match base64::decode(value) {
            Some(decoded) => cx.print_pair(out, key, c_str(&decoded))?,
            None => diag::warn(malformed_base64(&map.label, key, value)),
        }
    }
    Ok(true)
}
