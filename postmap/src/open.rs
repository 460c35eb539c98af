//! Opening a table from its `type:name` specification: the one place that
//! knows every table type (Postfix `dict_open.c`). Daemons, postmap and
//! the nested tables of unionmap and pipemap all open tables here.

use crate::simple;
use crate::spec;
use crate::table::{Error, OpenOptions, Opened};

/// How deep `unionmap:{unionmap:{...}}` may nest. Postfix has no limit
/// (it recurses until the stack runs out); real configurations nest one
/// or two levels, and a bound keeps a hostile or broken spec from
/// overflowing the stack of a daemon.
const MAX_NESTING: usize = 100;

/// The table types [`open`] supports, sorted, as `postconf -m` lists
/// them. The list lives in `conf` (postconf cannot depend on this crate);
/// a test below checks that every type on it is dispatched here.
pub fn supported_types() -> &'static [&'static str] {
    conf::TABLE_TYPES
}

/// Open the table `spec` (`type:name`, or a bare name of
/// `opts.default_type`). The error is Postfix's text for why the table
/// cannot be used; the caller decides whether that is fatal (postmap) or
/// makes every lookup fail (a daemon). Warnings about skipped lines come
/// back in [`Opened::warnings`], for the caller to log.
pub fn open(spec: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    open_nested(spec, opts, 0)
}

/// [`open`] at nesting level `depth` (0 for a top-level table).
fn open_nested(spec: &str, opts: &OpenOptions, depth: usize) -> Result<Opened, Error> {
    if depth > MAX_NESTING {
        return Err(Error::Open(format!(
            "table nesting is deeper than {MAX_NESTING} levels: \"{spec}\""
        )));
    }
    let parsed = spec::parse(spec, &opts.default_type)?;
    let text = parsed.text();
    let name = parsed.name;
    let nested = |member: &str| open_nested(member, opts, depth + 1);
    match parsed.kind {
        "static" => simple::static_table::open(name, opts),
        "inline" => simple::inline::open(name, opts),
        "fail" => Ok(simple::fail::open(name)),
        "randmap" => simple::random::open(name, opts),
        "texthash" => simple::texthash::open(name, opts),
        "unix" => simple::unix::open(name, opts),
        "unionmap" => simple::union::open(name, nested),
        "pipemap" => simple::pipe::open(name, nested),
        // The pattern modules read a file, or inline `{ {rule}, ... }`.
        "regexp" => crate::regexp::open(&text, name, opts),
        "pcre" => crate::pcre::open(&text, name, opts),
        "cidr" => crate::cidr::open(&text, name, opts),
        kind => match crate::indexed::Kind::from_type(kind) {
            Some(indexed) => crate::indexed::open(indexed, &text, name, opts),
            None => Err(Error::Open(format!("unsupported dictionary type: {kind}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_type_is_dispatched() {
        for kind in supported_types() {
            let spec = format!("{kind}:/nonexistent/table");
            if let Err(Error::Open(text)) = open(&spec, &OpenOptions::default()) {
                assert!(
                    !text.contains("unsupported dictionary type"),
                    "{spec}: {text}"
                );
            }
        }
    }

    fn open_err(spec: &str) -> String {
        match open(spec, &OpenOptions::default()) {
            Ok(_) => "opened".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unknown_type_is_postfix_error() {
        assert_eq!(open_err("foo:bar"), "unsupported dictionary type: foo");
        assert_eq!(
            open_err("unionmap:{static:a,foo:bar}"),
            "unsupported dictionary type: foo"
        );
    }

    #[test]
    fn every_listed_type_is_dispatched() {
        for kind in supported_types() {
            let err = open_err(&format!("{kind}:/nonexistent/x"));
            assert!(
                !err.starts_with("unsupported dictionary type"),
                "{kind}: {err}"
            );
        }
        let mut sorted = supported_types().to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, supported_types());
    }

    #[test]
    fn default_type_applies_to_bare_names() {
        let opts = OpenOptions {
            default_type: "static".into(),
            ..OpenOptions::default()
        };
        let t = open("fixed", &opts).expect("opens").table;
        assert_eq!(t.spec(), "static:fixed");
        assert_eq!(t.lookup("x"), Ok(Some("fixed".into())));
    }

    #[test]
    fn proxy_prefix_opens_the_inner_table() {
        let t = open("proxy:inline:{a=b}", &OpenOptions::default())
            .expect("opens")
            .table;
        assert_eq!(t.spec(), "inline:{a=b}");
        assert_eq!(t.lookup("A"), Ok(Some("b".into())));
    }

    #[test]
    fn odd_specs_are_errors_not_panics() {
        for spec in [
            "inline:{",
            "inline:}",
            "inline:{{{",
            "inline:{=}",
            "inline:{\\",
            "inline:{\"}",
            "unionmap:{}",
            "unionmap:{,}",
            "unionmap:{:}",
            "pipemap:{",
            "pipemap:}",
            "static:{",
            ":",
            "::",
            "proxy:",
            "proxy:proxy:",
            "{",
            "inline:{é=ü, {ß = ä ö}}",
        ] {
            let _ = open(spec, &OpenOptions::default());
        }
        assert_eq!(
            open_err("inline:{"),
            "bad syntax: \"inline:{\"; need \"inline:{name=value...}\""
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let levels = 10_000;
        let mut spec = "static:x".to_string();
        for _ in 0..levels {
            spec = format!("unionmap:{{{spec}}}");
        }
        assert!(open_err(&spec).starts_with("table nesting is deeper than 100 levels"));

        let mut ok = "static:x".to_string();
        for _ in 0..MAX_NESTING {
            ok = format!("pipemap:{{{ok}}}");
        }
        let t = open(&ok, &OpenOptions::default()).expect("opens").table;
        assert_eq!(t.lookup("k"), Ok(Some("x".into())));

        // Braces nested inside one inline element are plain text to the
        // key/value split: the key is `{{...{a`, the value `b}...}}`.
        let braces = format!("inline:{}a=b{}", "{".repeat(levels), "}".repeat(levels));
        assert!(open(&braces, &OpenOptions::default()).is_ok());
    }
}
