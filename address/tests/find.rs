//! Replays the address-lookup fixtures (README §3): Postfix's
//! `mail_addr_find` driver on `mail_addr_find.in`, the `strip_addr` self
//! test (its vectors are the "wanted" lines of the .ref) and the
//! `map_search` self test (its vectors are in Postfix's C source and are
//! restated here).

mod support;

use address::extension::Delimiters;
use address::find::{self, Form, Query, QueryForm, Settings};
use address::local::LocalDomains;
use address::names::NameList;
use address::search;
use postmap::{Maps, OpenOptions};

/// The driver's settings: `recipient_delimiter = +`,
/// `myorigin = localdomain`, `mydestination = localhost.localdomain`.
fn settings() -> Settings {
    Settings {
        delimiters: Delimiters::new("+"),
        myorigin: "localdomain".into(),
        local: LocalDomains::new(
            NameList::from_names("mydestination", ["localhost.localdomain"]),
            Vec::new(),
        ),
    }
}

/// One `test` command: `in:query:out:strategy:address[:result[:ext]]`,
/// split as `mystrtok` does (empty fields vanish).
fn test_command(out: &mut String, maps: &Maps, settings: &Settings, spec: &str) {
    let fields: Vec<&str> = spec.split(':').filter(|f| !f.is_empty()).collect();
    let [input, keys, output, strategy, address, expect @ ..] = &fields[..] else {
        panic!("bad test line {spec}");
    };
    assert!(expect.len() <= 2, "garbage after extension field: {spec}");
    let query = Query {
        address,
        input: input.parse().expect("input form"),
        keys: keys.parse().expect("query form"),
        output: output.parse().expect("output form"),
        strategy: strategy.parse().expect("strategy"),
    };
    let found = find::find(maps, &query, settings);
    let (result, extension) = match &found {
        Ok(Some(f)) => (f.value.as_str(), f.extension.as_deref()),
        Ok(None) => ("(not found)", None),
        Err(_) => ("(try again)", None),
    };
    out.push_str(&format!(
        "{input}:{address} -{keys}-> {output}:{result} ({})\n",
        extension.unwrap_or("null extension")
    ));
    let value = found.ok().flatten();
    let expect_result = expect.first().copied();
    let expect_ext = expect.get(1).copied();
    let got_ext = value.as_ref().and_then(|f| f.extension.as_deref());
    match (expect_result, value.as_ref().map(|f| f.value.as_str())) {
        (Some(e), Some(r)) if e != r => {
            out.push_str(&format!(
                "unknown: warning: expect result '{e}' but got '{r}'\n"
            ));
        }
        (Some(e), None) => out.push_str(&format!(
            "unknown: warning: expect result '{e}' but got none\n"
        )),
        (None, Some(r)) => out.push_str(&format!(
            "unknown: warning: expected no result but got '{r}'\n"
        )),
        _ => {}
    }
    if expect_result.is_some() && value.is_some() && expect_ext != got_ext {
        out.push_str(&format!(
            "unknown: warning: expect extension {expect_ext:?} but got {got_ext:?}\n"
        ));
    }
}

fn mail_addr_find_driver(input: &str) -> String {
    let settings = settings();
    let options = OpenOptions::default();
    let mut maps = None;
    let mut out = String::new();
    for line in input.lines() {
        let line = line.trim_start();
        let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim_start();
        match command {
            "" => {}
            c if c.starts_with('#') => {}
            "echo" => out.push_str(&format!("{rest}\n")),
            "maps" => {
                maps = Some(Maps::open("test", rest, &options));
                out.push_str(&format!("{rest}\n"));
            }
            "test" => test_command(
                &mut out,
                maps.as_ref().expect("maps first"),
                &settings,
                rest,
            ),
            other => out.push_str(&format!("unknown: warning: bad request: {other}\n")),
        }
    }
    out
}

#[test]
fn mail_addr_find_fixture_matches_postfix() {
    let out = mail_addr_find_driver(&support::read("find/mail_addr_find.in"));
    support::assert_same(
        "mail_addr_find",
        &out,
        &support::read("find/mail_addr_find.ref"),
    );
}

#[test]
fn query_forms_print_as_postfix_names() {
    for name in ["internal", "external", "internal-first", "external-first"] {
        assert_eq!(name.parse::<QueryForm>().expect("form").to_string(), name);
    }
    assert_eq!("external".parse::<Form>(), Ok(Form::External));
}

/// The driver splits with `+-`; each "wanted" line names an input and the
/// expected stripped address, with the extension when the driver asked
/// for it. The driver then prints what it got in the same shape.
#[test]
fn strip_addr_fixture_matches_postfix() {
    let expected = support::read("find/strip_addr.ref");
    let delimiters = Delimiters::new("+-");
    let mut out = String::new();
    for line in expected.lines() {
        let Some(wanted) = line.strip_prefix("unknown: wanted:    ") else {
            continue;
        };
        let (input, result) = wanted.split_once(" -> ").expect("input -> result");
        let stripped = delimiters.strip(input).expect("has an extension");
        out.push_str(&format!("{line}\n"));
        // The driver prints the extension only when it asked for it,
        // which the wanted line shows by listing one.
        let got = if result == stripped.address {
            stripped.address
        } else {
            format!("{} {}", stripped.address, stripped.extension)
        };
        out.push_str(&format!("unknown: strip_addr {input} -> {got}\n"));
    }
    support::assert_same("strip_addr", &out, &expected);
    // The driver's other cases expect no stripping at all.
    for (input, set) in [
        ("foo", ""),
        ("foo", "+-"),
        ("foo@bar", ""),
        ("foo@bar", "+-"),
        ("foo-ext", ""),
        ("foo-ext@bar", ""),
    ] {
        assert_eq!(
            Delimiters::new(set).strip(input),
            None,
            "{input} with {set:?}"
        );
    }
}

/// A valid spec's table and search order.
type Parsed = (&'static str, Option<&'static [u8]>);

/// map_search.c's test table: spec, and what it parses to (None: the spec
/// must be rejected).
const MAP_SEARCH_CASES: &[(&str, Option<Parsed>)] = &[
    ("type", None),
    ("type:name", Some(("type:name", None))),
    ("{type:name}", Some(("type:name", None))),
    ("{type:name", None),
    ("{type}", None),
    ("{type:name foo}", None),
    ("{type:name foo=bar}", None),
    ("{type:name search_order=}", Some(("type:name", Some(&[])))),
    ("{type:name search_order=one, two}", None),
    (
        "{type:name {search_order=one, two}}",
        Some(("type:name", Some(&[1, 2]))),
    ),
    ("{type:name {search_order=one, two, bad}}", None),
    (
        "{inline:{a=b} {search_order=one, two}}",
        Some(("inline:{a=b}", Some(&[1, 2]))),
    ),
];

#[test]
fn map_search_fixture_matches_postfix() {
    let names: &[(&str, u8)] = &[("one", 1), ("two", 2)];
    let mut out = String::new();
    for (i, (spec, expected)) in MAP_SEARCH_CASES.iter().enumerate() {
        out.push_str(&format!("unknown: test case {i}: '{spec}'\n"));
        match (search::parse(spec, names), expected) {
            (Err(e), None) => {
                for warning in e.warnings() {
                    out.push_str(&format!("unknown: warning: {warning}\n"));
                }
            }
            (Ok(found), Some((table, order))) => {
                assert_eq!(found.table, *table, "case {i}");
                assert_eq!(found.order.as_deref(), *order, "case {i}");
            }
            (got, _) => panic!("case {i}: unexpected {got:?}"),
        }
    }
    // The C code also logs each attribute it splits with a leftover
    // `msg_info("split_nameval(...")`; that is debugging output, not
    // behaviour, so it is left out of the comparison.
    let expected: String = support::read("find/map_search.ref")
        .lines()
        .filter(|l| !l.starts_with("unknown: split_nameval("))
        .map(|l| format!("{l}\n"))
        .collect();
    support::assert_same("map_search", &out, &expected);
}
