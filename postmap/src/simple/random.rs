//! `randmap:{value_1, ..., value_n}`: every lookup answers one of the
//! values, chosen at random whatever the key (Postfix `dict_random.c`),
//! e.g. to spread mail over transports. Values are separated by commas or
//! white space; a value in `{...}` may hold either and keeps its braces,
//! as in Postfix. With `rhs_is_file` each value names files whose
//! contents, base64-encoded, become the value.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use crate::spec;
use crate::table::{Error, OpenOptions, Opened, Table};

#[derive(Debug)]
pub struct Random {
    spec: String,
    values: Vec<String>,
}

/// Open `randmap:name`. `name` must be one balanced `{...}` group with at
/// least one value in it; anything else is Postfix's "bad syntax" error.
/// A value file that cannot be read is the error `open NAME: reason`.
pub fn open(name: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    let syntax = || {
        Error::Open(format!(
            "bad syntax: \"randmap:{name}\"; need \"randmap:{{value...}}\""
        ))
    };
    let body = spec::braced_body(name).ok_or_else(syntax)?;
    let mut values = Vec::new();
    for value in spec::split_list(body) {
        values.push(if opts.rhs_is_file {
            super::value_from_files(value).map_err(Error::Open)?
        } else {
            value.to_string()
        });
    }
    if values.is_empty() {
        return Err(syntax());
    }
    Ok(Opened::new(Random {
        spec: format!("randmap:{name}"),
        values,
    }))
}

/// A random number for picking a value. The choice needs no cryptographic
/// strength (Postfix uses `rand()`); std's per-instance random hasher
/// keys give a fresh number per call without a dependency.
fn random() -> u64 {
    RandomState::new().hash_one(0u8)
}

impl Table for Random {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, _key: &str) -> Result<Option<String>, Error> {
        let len = self.values.len() as u64;
        // `open` refuses an empty list; the fallback only keeps this total.
        let pick = usize::try_from(random() % len.max(1)).unwrap_or(0);
        Ok(self.values.get(pick).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_err(name: &str) -> String {
        match open(name, &OpenOptions::default()) {
            Ok(_) => "opened".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn one_value_is_always_the_answer() {
        let t = open("{123 123}", &OpenOptions::default()).expect("opens");
        assert!(t.warnings.is_empty());
        for key in ["foo", "bar"] {
            assert_eq!(t.table.lookup(key), Ok(Some("123".into())));
        }
        assert_eq!(t.table.spec(), "randmap:{123 123}");
    }

    #[test]
    fn every_value_is_chosen_sometimes() {
        let t = open("{a, b,c {d e}}", &OpenOptions::default()).expect("opens");
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            if let Ok(Some(v)) = t.table.lookup("k") {
                seen.insert(v);
            }
        }
        let want: std::collections::BTreeSet<String> =
            ["a", "b", "c", "{d e}"].map(String::from).into();
        assert_eq!(seen, want);
    }

    #[test]
    fn syntax_errors_as_postfix() {
        for name in ["123", "{ 123 ", "{ 123 }x", "{}", "{ , }", "x{1}"] {
            assert_eq!(
                open_err(name),
                format!("bad syntax: \"randmap:{name}\"; need \"randmap:{{value...}}\"")
            );
        }
    }

    #[test]
    fn values_from_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("f1");
        std::fs::write(&file, "this-is-file1\n").expect("write");
        let opts = OpenOptions {
            rhs_is_file: true,
            ..OpenOptions::default()
        };
        let name = format!("{{ {} }}", file.display());
        let t = open(&name, &opts).expect("opens").table;
        assert_eq!(t.lookup("k"), Ok(Some("dGhpcy1pcy1maWxlMQo=".into())));
        let missing = dir.path().join("nope");
        let err = open(&format!("{{{}}}", missing.display()), &opts).map(|_| ());
        assert_eq!(
            err,
            Err(Error::Open(format!(
                "open {}: No such file or directory",
                missing.display()
            )))
        );
    }

    #[test]
    fn dump_is_unsupported() {
        let t = open("{a}", &OpenOptions::default()).expect("opens").table;
        assert!(matches!(t.entries(), Err(Error::Unsupported { .. })));
    }
}
