//! Property test: every parser and rewriter in the crate takes whatever
//! bytes a network peer sends without panicking, and quoting round-trips.
//! Inputs are random bytes (made text the way a header would be, lossily),
//! and random strings over the characters the grammar cares about.

use std::convert::Infallible;

use address::extension::Delimiters;
use address::find::{self, Query, Settings, Strategy};
use address::local::LocalDomains;
use address::masquerade::Masquerade;
use address::names::NameList;
use address::rewrite::{Context, RewriteParams};
use address::tok822::{self, Style, Tree};
use address::{map, quote, search};

/// xorshift64*: deterministic, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "a", "b", "@", ".", ",", ";", ":", "<", ">", "(", ")", "[", "]", "\"", "\\", "%", "!", "|",
    " ", "\t", "\r\n", "+", "-", "é", "\u{0}", "\u{7f}", "ünï", "x.y", "@r:", "{", "}", "=",
];

fn grammar_text(rng: &mut Rng) -> String {
    let len = rng.below(60);
    (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect()
}

fn garbage_text(rng: &mut Rng) -> String {
    let len = rng.below(200);
    let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn settings() -> Settings {
    Settings {
        delimiters: Delimiters::new("+-é"),
        myorigin: "example.com".into(),
        local: LocalDomains::new(
            NameList::from_names("mydestination", ["localhost", "é.example"]),
            vec!["127.0.0.1".parse().expect("ip")],
        ),
    }
}

fn params() -> RewriteParams {
    RewriteParams {
        myorigin: "example.com".into(),
        mydomain: "example.com".into(),
        remote_header_rewrite_domain: "remote.invalid".into(),
        swap_bangpath: true,
        allow_percent_hack: true,
        append_at_myorigin: true,
        append_dot_mydomain: true,
    }
}

fn exercise(text: &str, settings: &Settings, params: &RewriteParams, masq: &Masquerade) {
    let tree = Tree::parse(text);
    let _ = tree.to_internal();
    let _ = tree.to_external();
    let _ = tree.externalize(Style::HEADER);
    let _ = tree.internal_addresses();
    let _ = Tree::parse_limited(text, Some(5)).externalize(Style::HEADER);
    let rewritten = tok822::rewrite_header("To", text, Some(100), |a| {
        Ok::<_, Infallible>(Some(params.rewrite_internal(Context::Local, a)))
    });
    if let Ok(Some(header)) = rewritten {
        assert!(header.header.starts_with("To: "));
    }

    assert_eq!(
        quote::internal(&quote::external(text)),
        text,
        "round trip of {text:?}"
    );
    let _ = quote::internal(text);
    for context in [Context::Local, Context::Remote] {
        let _ = params.rewrite(context, text);
        let _ = params.rewrite_internal(context, text);
    }
    let _ = masq.external(text);
    let _ = masq.internal(text);
    let _ = map::crunch(
        text,
        Some("+x"),
        find::Form::External,
        find::Form::Internal,
        &|a| a.to_string(),
    );
    let all = Strategy::DEFAULT
        | Strategy::DOMAIN
        | Strategy::PDMS
        | Strategy::LOCALPART_AT_IF_LOCAL
        | Strategy::LOCALPART_AT;
    let query = Query {
        strategy: all,
        ..Query::new(text)
    };
    let _ = find::search(&query, settings, |_, _| Ok(None));
    let _ = settings.delimiters.strip(text);
    let _ = settings.local.is_local(text);
    let _ = search::parse(text, &[("one", 1)]);
}

#[test]
fn random_input_never_panics() {
    let settings = settings();
    let params = params();
    let masq = Masquerade::new(
        "!b.c, a.b.c, é.c",
        NameList::from_names("masquerade_exceptions", ["root"]),
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5_000 {
        let text = grammar_text(&mut rng);
        exercise(&text, &settings, &params, &masq);
        let text = garbage_text(&mut rng);
        exercise(&text, &settings, &params, &masq);
    }
}

#[test]
fn hostile_sizes_are_handled() {
    let settings = settings();
    let params = params();
    let masq = Masquerade::new("b.c", NameList::from_names("x", []));
    for text in [
        "(".repeat(100_000),
        "\"".repeat(100_001),
        "<".repeat(50_000) + &">".repeat(50_000),
        "a, ".repeat(30_000),
        "\\".repeat(99_999),
        "x".repeat(300) + " <a@b>",
    ] {
        exercise(&text, &settings, &params, &masq);
    }
}
