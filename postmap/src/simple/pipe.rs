//! `pipemap:{type:name, ...}`: the first table's result is the second
//! table's key, and so on; the last result is the answer (Postfix
//! `dict_pipe.c`). A miss or an error at any stage ends the lookup with
//! that outcome.

use crate::spec;
use crate::table::{Error, Opened, Table};

#[derive(Debug)]
pub struct Pipe {
    spec: String,
    stages: Vec<Box<dyn Table>>,
}

/// Open `pipemap:name`. `open_member` opens each nested spec (the caller
/// tracks nesting depth); its warnings are passed on.
pub fn open(
    name: &str,
    mut open_member: impl FnMut(&str) -> Result<Opened, Error>,
) -> Result<Opened, Error> {
    let spec = format!("pipemap:{name}");
    let bad_syntax = || {
        Error::Open(format!(
            "bad syntax: \"{spec}\"; need \"pipemap:{{type:name...}}\""
        ))
    };
    let list = spec::braced_body(name)
        .map(spec::split_list)
        .unwrap_or_default();
    if list.is_empty() {
        return Err(bad_syntax());
    }
    // Unlike unionmap, Postfix checks each stage just before opening it,
    // so an earlier stage's open error wins over a later syntax error.
    let mut stages = Vec::with_capacity(list.len());
    let mut warnings = Vec::new();
    for stage in list {
        if !stage.contains(':') {
            return Err(bad_syntax());
        }
        let opened = open_member(stage)?;
        warnings.extend(opened.warnings);
        stages.push(opened.table);
    }
    Ok(Opened {
        table: Box::new(Pipe { spec, stages }),
        warnings,
    })
}

impl Table for Pipe {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, Error> {
        let mut query = key.to_string();
        for stage in &self.stages {
            match stage.lookup(&query) {
                Ok(Some(result)) => query = result,
                Ok(None) => return Ok(None),
                Err(e) => return Err(super::as_outer(e, &self.spec)),
            }
        }
        Ok(Some(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::OpenOptions;

    fn lookup(name: &str, key: &str) -> Result<Option<String>, String> {
        let opts = OpenOptions::default();
        let opened = open(name, |stage| crate::open(stage, &opts)).map_err(|e| e.to_string())?;
        opened.table.lookup(key).map_err(|e| e.to_string())
    }

    #[test]
    fn each_result_is_the_next_key() {
        let name = "{inline:{k1=v1,k2=v2},inline:{v2=v3}}";
        assert_eq!(lookup(name, "k0"), Ok(None));
        assert_eq!(lookup(name, "k1"), Ok(None));
        assert_eq!(lookup(name, "k2"), Ok(Some("v3".into())));
        assert_eq!(lookup("{static:a}", "x"), Ok(Some("a".into())));
        assert_eq!(
            lookup("{static:{},inline:{{=yes}}}", "x"),
            Ok(Some("yes".into()))
        );
    }

    #[test]
    fn a_failing_stage_fails_only_when_reached() {
        let name = "{inline:{k1=v1},fail:fail}";
        assert_eq!(lookup(name, "k0"), Ok(None));
        assert_eq!(
            lookup(name, "k1"),
            Err(format!(
                "table pipemap:{name}: query error: Application error"
            ))
        );
    }

    #[test]
    fn syntax_errors_as_postfix() {
        for name in ["{}", "{ }", "{static:a}x", "{static:a,b}"] {
            assert_eq!(
                lookup(name, "k"),
                Err(format!(
                    "bad syntax: \"pipemap:{name}\"; need \"pipemap:{{type:name...}}\""
                ))
            );
        }
        assert_eq!(
            lookup("{foo:bar,b}", "k"),
            Err("unsupported dictionary type: foo".into())
        );
    }
}
