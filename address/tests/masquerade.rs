//! Replays Postfix's `cleanup_masquerade` test runs (README §7,
//! `cleanup_masq.ref`; the arguments of each run are in cleanup's
//! invocations.json): exceptions, masquerade_domains and an address in,
//! the masqueraded address and the error flags out. `errs: 2` is
//! cleanup's "write error, try again" status, which we report as
//! `masquerade::Error`.

mod support;

use address::masquerade::Masquerade;
use address::names::NameList;
use postmap::OpenOptions;

/// CLEANUP_STAT_WRITE: the message cannot be accepted now.
const STAT_WRITE: u32 = 2;

fn run(exceptions: &str, domains: &str, address: &str) -> String {
    let exception_list =
        NameList::new("masquerade_exceptions", exceptions, &OpenOptions::default())
            .expect("exceptions parse");
    let masq = Masquerade::new(domains, exception_list);
    let (result, errs) = match masq.external(address) {
        Ok(Some(new)) => (new, 0),
        Ok(None) => (address.to_string(), 0),
        Err(_) => (address.to_string(), STAT_WRITE),
    };
    format!(
        "----------\nexceptions: {exceptions}\nmasq_list:  {domains}\naddress:    {address}\n\
         result:     {result}\nerrs:       {errs}\n"
    )
}

#[test]
fn cleanup_masq_fixture_matches_postfix() {
    let invocations = support::invocations("cleanup");
    let runs = invocations["tests"]["cleanup_masquerade"]["runs"]
        .as_array()
        .expect("runs");
    let mut out = String::new();
    for r in runs {
        let args: Vec<&str> = r["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("string"))
            .collect();
        let [exceptions, domains, address] = args[..] else {
            panic!("three arguments expected");
        };
        out.push_str(&run(exceptions, domains, address));
    }
    assert_eq!(runs.len(), 11);
    support::assert_same(
        "cleanup_masq",
        &out,
        &support::read("masquerade/cleanup_masq.ref"),
    );
}
