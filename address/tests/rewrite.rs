//! Replays Postfix's `rewrite_clnt` test (README §3, `rewrite_clnt.in`)
//! against our canonicalization instead of a running trivial-rewrite:
//! each line is `rule address`, and the output repeats rule, address and
//! result. As the recipe says, MYDOMAIN in the .ref stands for
//! `$mydomain` and INVALID_DOMAIN for `$remote_header_rewrite_domain`.
//! The parameters come from a main.cf through `RewriteParams::from_config`.
//!
//! Only `rewrite` requests are here: `resolve_clnt.{in,ref}` (address
//! resolution: transport, next hop, flags) is for the later issue that
//! implements resolve.

mod support;

use std::path::Path;

use address::rewrite::{Context, RewriteParams};
use conf::Config;
use conf::main_cf::MainCf;

const MAIN_CF: &str = "\
myhostname = mx.example.com
mydomain = example.com
remote_header_rewrite_domain = domain.invalid
";

fn config(text: &str) -> Config {
    let main = MainCf::parse("./main.cf".into(), text).expect("main.cf parses");
    Config::with_main(Path::new("."), main, &[])
}

fn driver(params: &RewriteParams, input: &str) -> String {
    let mut out = String::new();
    for line in input.lines() {
        let (rule, address) = line.split_once(' ').expect("rule address");
        let context = match rule {
            "local" => Context::Local,
            "remote" => Context::Remote,
            other => panic!("unknown context: {other}"),
        };
        let result = params.rewrite(context, address);
        out.push_str(&format!("{:<10} {rule}\n", "rule"));
        out.push_str(&format!("{:<10} {address}\n", "address"));
        out.push_str(&format!("{:<10} {result}\n\n", "result"));
    }
    out
}

#[test]
fn rewrite_clnt_fixture_matches_postfix() {
    let params = RewriteParams::from_config(&config(MAIN_CF)).expect("valid parameters");
    assert_eq!(params.mydomain, "example.com");
    let expected = support::read("rewrite/rewrite_clnt.ref")
        .replace("MYDOMAIN", &params.mydomain)
        .replace("INVALID_DOMAIN", &params.remote_header_rewrite_domain);
    let out = driver(&params, &support::read("rewrite/rewrite_clnt.in"));
    support::assert_same("rewrite_clnt", &out, &expected);
}

#[test]
fn parameters_come_from_main_cf() {
    let params = RewriteParams::from_config(&config(
        "myhostname = mx.example.com\nmyorigin = $mydomain\nswap_bangpath = no\n\
         allow_percent_hack = no\nappend_dot_mydomain = no\n",
    ))
    .expect("valid parameters");
    assert_eq!(params.myorigin, "example.com");
    assert!(!params.swap_bangpath && !params.allow_percent_hack && !params.append_dot_mydomain);
    assert!(params.append_at_myorigin);
    assert_eq!(params.remote_header_rewrite_domain, "");
    assert_eq!(params.rewrite(Context::Local, "user"), "user@example.com");
    assert_eq!(params.rewrite(Context::Local, "user@host"), "user@host");
    let bad = RewriteParams::from_config(&config("swap_bangpath = maybe\n"));
    assert!(bad.is_err());
}
