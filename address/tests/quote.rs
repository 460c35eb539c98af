//! Replays Postfix's `quote_822_local` driver (README §3) on
//! `quote_822_local.in`: `quote`, `quote_with_flags` and `unquote`
//! commands, `<>` standing for the empty address.

mod support;

use address::quote::{self, Flags};

/// The driver's flag names, in the order it prints them. `append` only
/// changes how Postfix fills its buffer, so it maps to no flag here.
const FLAG_NAMES: &[&str] = &["8bitclean", "expose_at", "append", "bare_localpart"];

fn parse_flags(text: &str) -> (Flags, String) {
    let mut flags = Flags {
        eight_bit_clean: false,
        expose_at: false,
        bare_localpart: false,
    };
    let mut seen = Vec::new();
    for name in text.split('|') {
        match name {
            "8bitclean" => flags.eight_bit_clean = true,
            "expose_at" => flags.expose_at = true,
            "bare_localpart" => flags.bare_localpart = true,
            "append" => {}
            other => panic!("unknown flag {other}"),
        }
        seen.push(name);
    }
    let shown: Vec<&str> = FLAG_NAMES
        .iter()
        .copied()
        .filter(|n| seen.contains(n))
        .collect();
    (flags, shown.join("|"))
}

fn driver(input: &str) -> String {
    let mut out = String::new();
    for line in input.lines() {
        let Some((command, rest)) = line.trim_start().split_once(char::is_whitespace) else {
            continue;
        };
        let arg = |text: &str| match text.trim_start() {
            "<>" => String::new(),
            other => other.to_string(),
        };
        match command {
            "quote" => {
                let a = arg(rest);
                out.push_str(&format!("'{a}' quoted '{}'\n", quote::external(&a)));
            }
            "quote_with_flags" => {
                let (names, rest) = rest
                    .trim_start()
                    .split_once(' ')
                    .expect("flags and address");
                let (flags, shown) = parse_flags(names);
                let a = arg(rest);
                let quoted = quote::external_with(&a, flags);
                out.push_str(&format!("'{a}' quoted flags={shown} '{quoted}'\n"));
            }
            "unquote" => {
                let a = arg(rest);
                out.push_str(&format!("'{a}' unquoted '{}'\n", quote::internal(&a)));
            }
            other => panic!("unknown command {other}"),
        }
    }
    out
}

#[test]
fn quote_822_local_fixture_matches_postfix() {
    let out = driver(&support::read("quote/quote_822_local.in"));
    support::assert_same(
        "quote_822_local",
        &out,
        &support::read("quote/quote_822_local.ref"),
    );
}
