//! `static:value`: every key maps to one value (Postfix `dict_static.c`).
//! `static:{ text with spaces }` allows white space in the value; with
//! `rhs_is_file` the value names files whose contents become the result.

use crate::spec;
use crate::table::{Error, OpenOptions, Opened, Table};

#[derive(Debug)]
pub struct Static {
    spec: String,
    value: String,
}

/// Open `static:name`. Braces around the value are optional; when present
/// they must balance and end the name ("bad static:name syntax").
pub fn open(name: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    let value = if name.starts_with('{') {
        spec::extract_braced(name, true)
            .map_err(|why| Error::Open(format!("bad static:name syntax: {why}")))?
    } else {
        name
    };
    let value = if opts.rhs_is_file {
        super::value_from_files(value).map_err(Error::Open)?
    } else {
        value.to_string()
    };
    Ok(Opened::new(Static {
        spec: format!("static:{name}"),
        value,
    }))
}

impl Table for Static {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, _key: &str) -> Result<Option<String>, Error> {
        Ok(Some(self.value.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(name: &str) -> Result<Option<String>, Error> {
        open(name, &OpenOptions::default())?.table.lookup("any")
    }

    #[test]
    fn every_key_gets_the_value() {
        assert_eq!(value("fooxx"), Ok(Some("fooxx".into())));
        assert_eq!(value("{ foo xx }"), Ok(Some("foo xx".into())));
        assert_eq!(value("{ a {b} c }"), Ok(Some("a {b} c".into())));
        assert_eq!(value("a}"), Ok(Some("a}".into())));
        assert_eq!(value("{}"), Ok(Some(String::new())));
    }

    #[test]
    fn brace_errors_as_postfix() {
        assert_eq!(
            value("{ foo xx "),
            Err(Error::Open(
                "bad static:name syntax: missing '}' in \"{ foo xx \"".into()
            ))
        );
        assert_eq!(
            value("{ foo xx }x"),
            Err(Error::Open(
                "bad static:name syntax: syntax error after '}' in \"{ foo xx }x\"".into()
            ))
        );
    }

    #[test]
    fn dump_is_unsupported() {
        let t = open("x", &OpenOptions::default()).expect("opens").table;
        assert_eq!(
            t.entries(),
            Err(Error::Unsupported {
                spec: "static:x".into()
            })
        );
    }

    #[test]
    fn value_from_file_is_base64() {
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
    }
}
