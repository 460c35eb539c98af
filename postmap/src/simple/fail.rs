//! `fail:name`: a table whose every access fails (Postfix `dict_fail.c`).
//! Configurations use it to force a deferral, and tests to exercise the
//! error paths of whatever reads tables.

use crate::table::{Error, Opened, Table};

/// The error text Postfix's postmap prints after `query error: ` and
/// `sequence error: ` for this table: the table sets an error code with
/// no system errno behind it.
const REASON: &str = "Application error";

#[derive(Debug)]
pub struct Fail {
    spec: String,
}

/// Open `fail:name`. Any name will do; opening never fails.
pub fn open(name: &str) -> Opened {
    Opened::new(Fail {
        spec: format!("fail:{name}"),
    })
}

impl Table for Fail {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, _key: &str) -> Result<Option<String>, Error> {
        Err(Error::Lookup {
            spec: self.spec.clone(),
            reason: format!("query error: {REASON}"),
        })
    }

    fn entries(&self) -> Result<Vec<(String, String)>, Error> {
        Err(Error::Lookup {
            spec: self.spec.clone(),
            reason: format!("sequence error: {REASON}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_access_fails_in_postfix_words() {
        let t = open("aliases").table;
        assert_eq!(
            t.lookup("x").map_err(|e| e.to_string()),
            Err("table fail:aliases: query error: Application error".into())
        );
        assert_eq!(
            t.entries().map_err(|e| e.to_string()),
            Err("table fail:aliases: sequence error: Application error".into())
        );
    }
}
