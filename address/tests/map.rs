//! Replays the address-mapping fixtures (README §3): `mail_addr_map`'s
//! self tests, whose vectors live in Postfix's C source and are restated
//! here (the .ref holds the report of the three tests that are meant to
//! fail), and the `mail_addr_crunch` runs of invocations.json. Both
//! drivers replace trivial-rewrite's canonicalization with the identity.

mod support;

use address::extension::Delimiters;
use address::find::{Form, QueryForm, Settings};
use address::local::LocalDomains;
use address::map::{self, Mapper};
use address::names::NameList;
use postmap::{Maps, OpenOptions};

fn identity(address: &str) -> String {
    address.to_string()
}

struct Case {
    name: &'static str,
    database: &'static str,
    propagate: bool,
    delimiter: &'static str,
    forms: (Form, QueryForm, Form),
    address: &'static str,
    expect: &'static [&'static str],
}

const EXT: (Form, QueryForm, Form) = (Form::External, QueryForm::External, Form::External);
const INT: (Form, QueryForm, Form) = (Form::Internal, QueryForm::External, Form::Internal);
const INT_EXT: (Form, QueryForm, Form) = (Form::Internal, QueryForm::External, Form::External);
const QUOTED: &str = "inline:{ {\"a a\"@example.com=\"b b\"@example.com} }";

const fn case(
    name: &'static str,
    database: &'static str,
    propagate: bool,
    delimiter: &'static str,
    forms: (Form, QueryForm, Form),
    address: &'static str,
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        database,
        propagate,
        delimiter,
        forms,
        address,
        expect,
    }
}

/// mail_addr_map.c `pass_tests`: all must pass.
const PASS: &[Case] = &[
    case(
        "1 external -external-> external, no extension",
        "inline:{ aa@example.com=bb@example.com }",
        true,
        "+",
        EXT,
        "aa@example.com",
        &["bb@example.com"],
    ),
    case(
        "2 external -external-> external, extension, propagation",
        "inline:{ aa@example.com=bb@example.com }",
        true,
        "+",
        EXT,
        "aa+ext@example.com",
        &["bb+ext@example.com"],
    ),
    case(
        "3 external -external-> external, extension, no propagation, no match",
        "inline:{ aa@example.com=bb@example.com }",
        false,
        "",
        EXT,
        "aa+ext@example.com",
        &[],
    ),
    case(
        "4 external -external-> external, extension, full match",
        "inline:{{cc+ext@example.com=dd@example.com,ee@example.com}}",
        true,
        "+",
        EXT,
        "cc+ext@example.com",
        &["dd@example.com", "ee@example.com"],
    ),
    case(
        "5 external -external-> external, no extension, quoted",
        QUOTED,
        true,
        "+",
        EXT,
        "\"a a\"@example.com",
        &["\"b b\"@example.com"],
    ),
    case(
        "6 external -external-> external, extension, propagation, quoted",
        QUOTED,
        true,
        "+",
        EXT,
        "\"a a+ext\"@example.com",
        &["\"b b+ext\"@example.com"],
    ),
    case(
        "7 internal -external-> internal, no extension, propagation, embedded space",
        QUOTED,
        true,
        "+",
        INT,
        "a a@example.com",
        &["b b@example.com"],
    ),
    case(
        "8 internal -external-> internal, extension, propagation, embedded space",
        QUOTED,
        true,
        "+",
        INT,
        "a a+ext@example.com",
        &["b b+ext@example.com"],
    ),
    case(
        "9 internal -external-> internal, no extension, propagation, embedded space",
        "inline:{ {a_a@example.com=\"b b\"@example.com} }",
        true,
        "+",
        INT,
        "a_a@example.com",
        &["b b@example.com"],
    ),
    case(
        "10 internal -external-> internal, extension, propagation, embedded space",
        "inline:{ {a_a@example.com=\"b b\"@example.com} }",
        true,
        "+",
        INT,
        "a_a+ext@example.com",
        &["b b+ext@example.com"],
    ),
    case(
        "11 internal -external-> internal, no extension, @domain",
        "inline:{ {@example.com=@example.net} }",
        true,
        "+",
        INT_EXT,
        "a@a@example.com",
        &["\"a@a\"@example.net"],
    ),
    case(
        "12 external -external-> external, extension, propagation",
        "inline:{ aa@example.com=bb@example.com }",
        true,
        ".",
        EXT,
        "aa.ext@example.com",
        &["bb.ext@example.com"],
    ),
];

/// mail_addr_map.c `fail_tests`: all must fail, reporting as in the .ref.
const FAIL: &[Case] = &[
    case(
        "selftest 1 external -external-> external, no extension, quoted",
        QUOTED,
        true,
        "+",
        EXT,
        "\"a a\"@example.com",
        &["\"bXb\"@example.com"],
    ),
    case(
        "selftest 2 external -external-> external, no extension, quoted",
        QUOTED,
        true,
        "+",
        EXT,
        "\"aXa\"@example.com",
        &["\"b b\"@example.com"],
    ),
    case(
        "selftest 3 external -external-> external, no extension, quoted",
        QUOTED,
        true,
        "+",
        EXT,
        "\"a a\"@example.com",
        &[],
    ),
];

/// Run one case; the report of a failed comparison, as the C driver's
/// `compare()` and `main()` print it, or "" when it passed.
fn run(case: &Case) -> String {
    let settings = Settings {
        delimiters: Delimiters::new(case.delimiter),
        myorigin: "localhost.localdomain".into(),
        local: LocalDomains::new(
            NameList::from_names("mydestination", ["localhost"]),
            Vec::new(),
        ),
    };
    let maps = Maps::open("test", case.database, &OpenOptions::default());
    let mapper = Mapper {
        maps: &maps,
        settings: &settings,
        canonicalize: &identity,
        propagate: case.propagate,
    };
    let (input, keys, output) = case.forms;
    let result = mapper
        .map(case.address, input, keys, output)
        .expect("no lookup error")
        .unwrap_or_default();
    let mut report = String::new();
    if !case.expect.is_empty() && !result.is_empty() {
        for (n, (e, r)) in case.expect.iter().zip(&result).enumerate() {
            if e != r {
                report.push_str(&format!(
                    "unknown: warning: fail test {}: expect[{n}]='{e}', result[{n}]='{r}'\n",
                    case.name
                ));
            }
        }
    }
    if case.expect.len() != result.len() {
        report.push_str(&format!(
            "unknown: warning: fail test {}: expects {} results but there were {}\n",
            case.name,
            case.expect.len(),
            result.len()
        ));
        for (n, r) in result.iter().enumerate().skip(case.expect.len()) {
            report.push_str(&format!("unknown: no expect to match result[{n}]='{r}'\n"));
        }
        for (n, e) in case.expect.iter().enumerate().skip(result.len()) {
            report.push_str(&format!("unknown: no result to match expect[{n}]='{e}'\n"));
        }
    }
    if !report.is_empty() {
        report.push_str(&format!("unknown: database = {}\n", case.database));
        report.push_str(&format!(
            "unknown: propagate = {}\n",
            u8::from(case.propagate)
        ));
        report.push_str(&format!("unknown: delimiter = '{}'\n", case.delimiter));
        report.push_str(&format!("unknown: in_form = {input}\n"));
        report.push_str(&format!("unknown: query_form = {keys}\n"));
        report.push_str(&format!("unknown: out_form = {output}\n"));
        report.push_str(&format!("unknown: address = {}\n", case.address));
    }
    report
}

#[test]
fn mail_addr_map_pass_tests_pass() {
    for case in PASS {
        assert_eq!(run(case), "", "{}", case.name);
    }
}

#[test]
fn mail_addr_map_fail_tests_match_postfix() {
    let out: String = FAIL.iter().map(run).collect();
    support::assert_same(
        "mail_addr_map",
        &out,
        &support::read("map/mail_addr_map.ref"),
    );
}

#[test]
fn non_address_results_are_errors() {
    let settings = Settings {
        delimiters: Delimiters::new("+"),
        myorigin: "localhost".into(),
        local: LocalDomains::new(
            NameList::from_names("mydestination", ["localhost"]),
            Vec::new(),
        ),
    };
    let maps = Maps::open(
        "canonical_maps",
        "inline:{a@x=(comment)}",
        &OpenOptions::default(),
    );
    let mapper = Mapper {
        maps: &maps,
        settings: &settings,
        canonicalize: &identity,
        propagate: true,
    };
    let err = mapper.external("a@x").expect_err("not an address");
    assert_eq!(
        err.to_string(),
        "canonical_maps lookup of a@x returns non-address result \"(comment)\""
    );
    let failing = Maps::open("canonical_maps", "fail:x", &OpenOptions::default());
    let mapper = Mapper {
        maps: &failing,
        ..mapper
    };
    assert!(matches!(mapper.external("a@x"), Err(map::Error::Lookup(_))));
}

#[test]
fn mail_addr_crunch_fixture_matches_postfix() {
    let invocations = support::invocations("global");
    let runs = invocations["tests"]["mail_addr_crunch"]["runs"]
        .as_array()
        .expect("runs");
    let mut out = String::new();
    for r in runs {
        out.push_str(r["emit_before"].as_str().expect("title"));
        out.push('\n');
        let stdin = r["stdin"].as_str().expect("stdin");
        let mut lines = stdin.lines();
        let mut form = || {
            lines
                .next()
                .expect("form")
                .parse::<Form>()
                .expect("valid form")
        };
        let (input, output) = (form(), form());
        let extension = lines.next().expect("extension line");
        let extension = (!extension.is_empty()).then_some(extension);
        for list in lines {
            for address in map::crunch(list, extension, input, output, &identity) {
                out.push_str(&format!("|{address}|\n"));
            }
        }
    }
    support::assert_same(
        "mail_addr_crunch",
        &out,
        &support::read("map/mail_addr_crunch.ref"),
    );
}
