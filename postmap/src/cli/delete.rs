//! `-d key` and `-d -`: remove one entry per table (postmap.c
//! `postmap_delete`, `postmap_deletes`). `-d key` opens and updates one
//! table at a time; `-d -` opens every table before it reads a key, so a
//! missing table is fatal before anything changes. Only indexed tables
//! can be changed: the pattern tables and those written in place are
//! read-only in Postfix too, `static` refuses, `fail` fails.
//!
//! The keys of `-d -` are applied in one rewrite per table (each indexed
//! table is a constant database, rewritten whole); when a later table
//! fails, the earlier ones lose just the first key, as in Postfix, which
//! stops at that point.

use std::io::{self, BufReader};

use crate::indexed::{self, BuildError, IndexedTable, Kind, Recheck};
use crate::spec;

use super::Context;
use super::diag::{self, Fatal, fatal, printable_bytes};
use super::maps::arg_text;
use super::query::{c_str, read_line};

/// Types Postfix opens read-only only (`... map requires O_RDONLY access
/// mode`).
const READ_ONLY: &[&str] = &[
    "inline", "unionmap", "pipemap", "randmap", "texthash", "regexp", "pcre", "cidr",
];

#[derive(Debug)]
enum Target {
    Indexed {
        kind: Kind,
        name: String,
        label: String,
    },
    /// A table without a delete operation (`static`).
    NoDelete(String),
    /// `fail:`, whose every operation fails.
    Fail(String),
}

impl Target {
    fn open(cx: &Context<'_>, arg: &std::ffi::OsStr) -> Result<Target, Fatal> {
        let arg = arg_text(arg);
        let opts = cx.open_options();
        let parsed = spec::parse(&arg, &opts.default_type).map_err(fatal)?;
        let spec = parsed.text();
        if let Some(kind) = Kind::from_type(parsed.kind) {
            // Opening shows that the table exists and can be read.
            IndexedTable::open(kind, &spec, parsed.name, &opts, Recheck::Never).map_err(fatal)?;
            return Ok(Target::Indexed {
                kind,
                name: parsed.name.to_string(),
                label: format!("{}:{}", kind.type_name(), kind.dict_name(parsed.name)),
            });
        }
        if READ_ONLY.contains(&parsed.kind) {
            return Err(fatal(format!("{spec} map requires O_RDONLY access mode")));
        }
        let opened = crate::open(&arg, &opts).map_err(fatal)?;
        opened.warnings.iter().for_each(diag::warn);
        Ok(match parsed.kind {
            "fail" => Target::Fail(spec),
            _ => Target::NoDelete(spec),
        })
    }

    fn label(&self) -> &str {
        match self {
            Target::Indexed { label, .. } => label,
            Target::NoDelete(spec) | Target::Fail(spec) => spec,
        }
    }

    /// The fatal error of deleting from a table that cannot do it.
    fn refusal(&self) -> Option<Fatal> {
        match self {
            Target::Indexed { .. } => None,
            Target::NoDelete(spec) => Some(fatal(format!(
                "table {spec}: delete operation is not supported"
            ))),
            Target::Fail(spec) => Some(fatal(format!(
                "table {spec}: delete error: Application error"
            ))),
        }
    }
}

/// Delete `keys` from an indexed table; true when one was there.
fn delete_from(cx: &Context<'_>, target: &Target, keys: &[&[u8]]) -> Result<bool, Fatal> {
    let Target::Indexed { kind, name, label } = target else {
        return Ok(false);
    };
    if keys.is_empty() {
        return Ok(false);
    }
    let keys: Vec<String> = keys
        .iter()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    match indexed::delete(*kind, name, &keys, cx.opts.fold) {
        Ok(found) => Ok(found.contains(&true)),
        Err(e @ BuildError::Open { .. }) => Err(fatal(e)),
        Err(e) => Err(fatal(format!("table {label}: delete error: {e}"))),
    }
}

/// Apply `keys` to `targets` in Postfix's order (each key, each table);
/// true when anything was deleted.
fn apply(cx: &Context<'_>, targets: &[Target], keys: &[&[u8]]) -> Result<bool, Fatal> {
    let mut found = false;
    let mut pending: Vec<Vec<&[u8]>> = targets.iter().map(|_| Vec::new()).collect();
    for &key in keys {
        for (target, batch) in targets.iter().zip(pending.iter_mut()) {
            // dict_utf8 skips an impossible key and calls that success.
            if cx.utf8 && std::str::from_utf8(key).is_err() {
                diag::warn(format!(
                    "{}: non-UTF-8 key \"{}\": malformed UTF-8 or invalid codepoint",
                    target.label(),
                    printable_bytes(key)
                ));
                found = true;
                continue;
            }
            if let Some(refusal) = target.refusal() {
                for (t, b) in targets.iter().zip(&pending) {
                    delete_from(cx, t, b)?;
                }
                return Err(refusal);
            }
            batch.push(key);
        }
    }
    for (target, batch) in targets.iter().zip(&pending) {
        found |= delete_from(cx, target, batch)?;
    }
    Ok(found)
}

/// `-d key` / `-d -`: true when anything was deleted.
pub(crate) fn run(cx: &Context<'_>, key: &[u8]) -> Result<bool, Fatal> {
    if key != b"-" {
        let key = c_str(key);
        let mut found = false;
        for arg in &cx.opts.maps {
            let target = Target::open(cx, arg)?;
            found |= apply(cx, std::slice::from_ref(&target), &[key])?;
        }
        return Ok(found);
    }
    let targets = cx
        .opts
        .maps
        .iter()
        .map(|arg| Target::open(cx, arg))
        .collect::<Result<Vec<_>, _>>()?;
    let mut input = BufReader::new(io::stdin().lock());
    let mut lines = Vec::new();
    let mut line = Vec::new();
    while read_line(&mut input, &mut line)? {
        lines.push(c_str(&line).to_vec());
    }
    let keys: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    apply(cx, &targets, &keys)
}
