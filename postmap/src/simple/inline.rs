//! `inline:{ key=value, { key = value with spaces }, ... }`: a fixed-string
//! table written in the table name (Postfix `dict_inline.c`). Keys may be
//! quoted (`{ "a b" = c }`) and keep their quotes, as in Postfix; later
//! duplicates replace earlier ones without a warning.

use super::memory::MemoryTable;
use crate::spec;
use crate::table::{Error, OpenOptions, Opened};

/// Open `inline:name`, where `name` is the `{...}` text.
pub fn open(name: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    let spec = format!("inline:{name}");
    let Some(body) = spec::braced_body(name) else {
        return Err(Error::Open(format!(
            "bad syntax: \"{spec}\"; need \"inline:{{name=value...}}\""
        )));
    };
    let mut table = MemoryTable::new(spec, opts.fold);
    let mut err = None;
    for token in spec::split_list(body) {
        match parse_entry(token, opts.rhs_is_file) {
            Ok((key, value)) => table.insert(key, value),
            Err(why) => {
                err = Some(why);
                break;
            }
        }
    }
    if err.is_some() || table.is_empty() {
        let what = if opts.rhs_is_file {
            "filename"
        } else {
            "value"
        };
        return Err(Error::Open(format!(
            "{}: \"{}\"; need \"inline:{{name={what}...}}\"",
            err.as_deref().unwrap_or("empty table"),
            table.spec()
        )));
    }
    Ok(Opened::new(table))
}

/// One `key=value` or `{ key = value }` element.
fn parse_entry(token: &str, rhs_is_file: bool) -> Result<(&str, String), String> {
    let text = if token.starts_with('{') {
        spec::extract_braced(token, true)?
    } else {
        token
    };
    let (key, value) = spec::split_name_value(text)?;
    let value = if rhs_is_file {
        super::value_from_files(value)?
    } else {
        value.to_string()
    };
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> OpenOptions {
        OpenOptions {
            fold: false,
            ..OpenOptions::default()
        }
    }

    fn open_err(name: &str) -> String {
        match open(name, &plain()) {
            Ok(_) => "opened".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parse_errors_as_postfix() {
        let need = "need \"inline:{name=value...}\"";
        assert_eq!(
            open_err("{ }"),
            format!("empty table: \"inline:{{ }}\"; {need}")
        );
        assert_eq!(
            open_err("{ foo = xx }"),
            format!("missing '=' after attribute name: \"inline:{{ foo = xx }}\"; {need}")
        );
        assert_eq!(
            open_err("{ foo=xx }x"),
            format!("bad syntax: \"inline:{{ foo=xx }}x\"; {need}")
        );
        assert_eq!(
            open_err("{ foo=xx x"),
            format!("bad syntax: \"inline:{{ foo=xx x\"; {need}")
        );
        assert_eq!(
            open_err("{ foo=xx {x=y}x}"),
            format!(
                "syntax error after '}}' in \"{{x=y}}x\": \"inline:{{ foo=xx {{x=y}}x}}\"; {need}"
            )
        );
        assert_eq!(
            open_err("{\"a=b}"),
            format!("unbalanced '\"': \"inline:{{\"a=b}}\"; {need}")
        );
        assert_eq!(
            open_err("{}"),
            format!("bad syntax: \"inline:{{}}\"; {need}")
        );
    }

    #[test]
    fn folds_keys_at_open_and_lookup_when_asked() {
        let folded = open("{ foo=XX, { bAr = lotsa stuff }}", &OpenOptions::default())
            .expect("opens")
            .table;
        assert_eq!(folded.lookup("FOO"), Ok(Some("XX".into())));
        assert_eq!(folded.lookup("bar"), Ok(Some("lotsa stuff".into())));
        assert_eq!(folded.lookup("baz"), Ok(None));

        let exact = open("{{ bAr = x }}", &plain()).expect("opens").table;
        assert_eq!(exact.lookup("bar"), Ok(None));
        assert_eq!(exact.lookup("bAr"), Ok(Some("x".into())));
    }

    #[test]
    fn quoted_keys_keep_their_quotes() {
        let t = open("{{\"a b\" = c d}}", &plain()).expect("opens").table;
        assert_eq!(t.lookup("\"a b\""), Ok(Some("c d".into())));
        assert_eq!(t.lookup("a b"), Ok(None));
    }

    #[test]
    fn later_duplicate_replaces_and_dump_keeps_order() {
        let t = open("{b=1, a=2, b=3, =4}", &plain()).expect("opens").table;
        assert_eq!(
            t.entries(),
            Ok(vec![
                ("b".into(), "3".into()),
                ("a".into(), "2".into()),
                (String::new(), "4".into())
            ])
        );
        assert_eq!(t.lookup(""), Ok(Some("4".into())));
    }

    #[test]
    fn missing_value_file_names_filename() {
        let opts = OpenOptions {
            rhs_is_file: true,
            ..plain()
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("xx");
        let name = format!("{{ foo={} }}", missing.display());
        let err = open(&name, &opts).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err(format!(
                "open {}: No such file or directory: \"inline:{name}\"; \
                 need \"inline:{{name=filename...}}\"",
                missing.display()
            ))
        );
    }
}
