//! `unionmap:{type:name, ...}`: every table is asked, and all their
//! answers are joined with commas in table order (Postfix `dict_union.c`).
//! If any table fails, the whole lookup fails: a partial answer could
//! make the caller act on incomplete data.

use crate::spec;
use crate::table::{Error, Opened, Table};

#[derive(Debug)]
pub struct Union {
    spec: String,
    members: Vec<Box<dyn Table>>,
}

/// Open `unionmap:name`. `open_member` opens each nested spec (the caller
/// tracks nesting depth); its warnings are passed on.
pub fn open(
    name: &str,
    mut open_member: impl FnMut(&str) -> Result<Opened, Error>,
) -> Result<Opened, Error> {
    let spec = format!("unionmap:{name}");
    let bad_syntax = || {
        Error::Open(format!(
            "bad syntax: \"{spec}\"; need \"unionmap:{{type:name...}}\""
        ))
    };
    let list = spec::braced_body(name)
        .map(spec::split_list)
        .unwrap_or_default();
    if list.is_empty() {
        return Err(bad_syntax());
    }
    // Postfix 3.7 checks each member just before opening it, so an
    // earlier member's open error wins over a later syntax error.
    let mut members = Vec::with_capacity(list.len());
    let mut warnings = Vec::new();
    for member in list {
        if !member.contains(':') {
            return Err(bad_syntax());
        }
        let opened = open_member(member)?;
        warnings.extend(opened.warnings);
        members.push(opened.table);
    }
    Ok(Opened {
        table: Box::new(Union { spec, members }),
        warnings,
    })
}

impl Table for Union {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, Error> {
        let mut joined = String::new();
        for member in &self.members {
            let found = member
                .lookup(key)
                .map_err(|e| super::as_outer(e, &self.spec))?;
            // As Postfix: a comma only after a non-empty prefix, and an
            // all-empty result is "not found".
            if let Some(value) = found {
                if !joined.is_empty() {
                    joined.push(',');
                }
                joined.push_str(&value);
            }
        }
        Ok((!joined.is_empty()).then_some(joined))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::OpenOptions;

    fn open_spec(name: &str) -> Result<Opened, Error> {
        let opts = OpenOptions::default();
        open(name, |member| crate::open(member, &opts))
    }

    fn lookup(name: &str, key: &str) -> Result<Option<String>, String> {
        let t = open_spec(name).map_err(|e| e.to_string())?.table;
        t.lookup(key).map_err(|e| e.to_string())
    }

    #[test]
    fn joins_every_match_in_order() {
        let name = "{static:one,static:two,inline:{foo=three}}";
        assert_eq!(lookup(name, "foo"), Ok(Some("one,two,three".into())));
        assert_eq!(lookup(name, "bar"), Ok(Some("one,two".into())));
        assert_eq!(lookup("{inline:{a=b}}", "x"), Ok(None));
    }

    #[test]
    fn empty_results_join_as_postfix() {
        assert_eq!(lookup("{static:{},static:{}}", "k"), Ok(None));
        assert_eq!(lookup("{static:{},static:b}", "k"), Ok(Some("b".into())));
        assert_eq!(
            lookup("{static:a,static:{},static:c}", "k"),
            Ok(Some("a,,c".into()))
        );
    }

    #[test]
    fn any_error_fails_under_the_union_name() {
        assert_eq!(
            lookup("{static:one,fail:fail}", "k"),
            Err("table unionmap:{static:one,fail:fail}: query error: Application error".into())
        );
    }

    #[test]
    fn syntax_errors_as_postfix() {
        for name in [
            "{}",
            "{ }",
            "{static:a}x",
            "static:a",
            "{static:a, b}",
            "{ , }",
        ] {
            assert_eq!(
                lookup(name, "k"),
                Err(format!(
                    "bad syntax: \"unionmap:{name}\"; need \"unionmap:{{type:name...}}\""
                ))
            );
        }
        assert_eq!(
            lookup("{foo:bar,b}", "k"),
            Err("unsupported dictionary type: foo".into())
        );
        assert_eq!(
            lookup("{inline:{}}", "k"),
            Err("bad syntax: \"inline:{}\"; need \"inline:{name=value...}\"".into())
        );
    }
}
