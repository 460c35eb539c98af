//! Replays Postfix's `tok822_parse` driver (README §3) on
//! `tok822_parse.in` and `tok822_limit.in`: for each logical input line
//! the parse tree, the internal form and both external forms, with the
//! warnings of overlong comments where the driver prints them (stderr,
//! flushed before the external form, program name `unknown`).

mod support;

use address::tok822::{Style, Token, Tree};

/// The driver's token limit.
const LIMIT: usize = 20;

fn print_tree(out: &mut String, tokens: &[Token], indent: usize) {
    let pad = " ".repeat(indent);
    for token in tokens {
        let line = match token {
            Token::Op(c) => format!("{pad} OP \"{c}\""),
            Token::Address(parts) => {
                out.push_str(&format!("{pad} address\n"));
                print_tree(out, parts, indent + 2);
                continue;
            }
            Token::GroupStart => format!("{pad} group \":\""),
            Token::Comment(t) => format!("{pad} comment \"{t}\""),
            Token::Atom(t) => format!("{pad} atom \"{t}\""),
            Token::Quoted(t) => format!("{pad} quoted string \"{t}\""),
            Token::DomainLiteral(t) => format!("{pad} domain literal \"{t}\""),
        };
        out.push_str(&line);
        out.push('\n');
    }
}

fn externalized(out: &mut String, tree: &Tree, title: &str, line_breaks: bool) {
    let ext = tree.externalize(Style {
        line_breaks,
        limit_non_address: true,
    });
    for warning in &ext.warnings {
        out.push_str(&format!("unknown: warning: {warning}\n"));
    }
    out.push_str(&format!("{title}:\n{}\n\n", ext.text));
}

fn driver(input: &str) -> String {
    let mut out = String::new();
    for line in support::logical_lines(input) {
        out.push_str(&format!(">>>{line}<<<\n\n"));
        let tree = Tree::parse_limited(&line, Some(LIMIT));
        out.push_str("Parse tree:\n");
        print_tree(&mut out, tree.tokens(), 0);
        out.push('\n');
        out.push_str(&format!("Internalized:\n{}\n\n", tree.to_internal()));
        externalized(&mut out, &tree, "Externalized, no newlines inserted", false);
        externalized(&mut out, &tree, "Externalized, newlines inserted", true);
    }
    out
}

#[test]
fn tok822_parse_fixture_matches_postfix() {
    let out = driver(&support::read("tok822/tok822_parse.in"));
    support::assert_same(
        "tok822_parse",
        &out,
        &support::read("tok822/tok822_parse.ref"),
    );
}

#[test]
fn tok822_limit_fixture_matches_postfix() {
    let out = driver(&support::read("tok822/tok822_limit.in"));
    support::assert_same(
        "tok822_limit",
        &out,
        &support::read("tok822/tok822_limit.ref"),
    );
}
