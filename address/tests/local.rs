//! Replays Postfix's `resolve_local` test runs (README §3,
//! `resolve_local.ref`; the arguments are in invocations.json): is a
//! domain local for a given `mydestination`? A table that cannot answer
//! is an error (with Postfix's warning), not a "no".

mod support;

use address::local::LocalDomains;
use address::names::NameList;
use postmap::OpenOptions;

fn run(mydestination: &str, domain: &str) -> String {
    let list = NameList::new("mydestination", mydestination, &OpenOptions::default())
        .expect("mydestination parses");
    let local = LocalDomains::new(list, Vec::new());
    let (warning, answer) = match local.is_local(domain) {
        Ok(true) => (String::new(), "YES"),
        Ok(false) => (String::new(), "NO"),
        Err(e) => (format!("unknown: warning: {e}\n"), "ERROR"),
    };
    format!("{warning}mydestination={mydestination} destination={domain} {answer}\n")
}

#[test]
fn resolve_local_fixture_matches_postfix() {
    let invocations = support::invocations("global");
    let runs = invocations["tests"]["resolve_local"]["runs"]
        .as_array()
        .expect("runs");
    let mut out = String::new();
    for r in runs {
        let args = r["args"].as_array().expect("args");
        let arg = |i: usize| args[i].as_str().expect("string");
        out.push_str(&run(arg(0), arg(1)));
    }
    support::assert_same(
        "resolve_local",
        &out,
        &support::read("local/resolve_local.ref"),
    );
}
