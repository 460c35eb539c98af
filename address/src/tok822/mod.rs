//! The RFC 822 address-list parser (Postfix `tok822_*`): a permissive
//! tokenizer, a parse tree that groups tokens into addresses without ever
//! throwing text away, and conversion back to internal (unquoted) and
//! external (quoted) strings. Cleanup uses it to rewrite the addresses in
//! `From:`/`To:`/`Cc:` headers ([`rewrite_header`]).

mod header;
mod parse;
mod render;
mod scan;

pub use header::{Rewritten, fold_header, rewrite_header};
pub use render::{Externalized, MAX_NON_ADDRESS_TEXT, Style};

/// The characters that end an atom: RFC 822's specials, plus `%` and `!`
/// for old routing forms and `|` for aliases, as in Postfix.
const OPERATORS: &str = "|%!()<>@,;:\\\".[]";

/// Is `c` an operator character (a token boundary inside an atom)?
fn is_operator(c: char) -> bool {
    OPERATORS.contains(c)
}

/// One token, or one node of the parse tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A run of ordinary characters.
    Atom(String),
    /// A quoted string, without its quotes and backslashes; also an atom
    /// that needs quoting (it contains a space, control or operator).
    Quoted(String),
    /// A comment, kept in external form with its parentheses, because
    /// undoing the backslashes in a nested comment needs a real parser.
    Comment(String),
    /// The text between `[` and `]`, backslashes removed.
    DomainLiteral(String),
    /// A one-character operator: `@ . , ; : < > % ! |` and stray `) ]`.
    Op(char),
    /// The `:` that starts a named group (`name: a@b, c@d;`).
    GroupStart,
    /// The tokens of one address (parse trees only; never nested).
    Address(Vec<Token>),
}

impl Token {
    /// Is this a word-like token, after which another word needs a space?
    fn is_word(&self) -> bool {
        matches!(
            self,
            Token::Atom(_)
                | Token::Quoted(_)
                | Token::Comment(_)
                | Token::DomainLiteral(_)
                | Token::Address(_)
        )
    }
}

/// A parsed address list: top-level tokens with the addresses grouped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    tokens: Vec<Token>,
}

impl Tree {
    /// Parse an address list in external form, e.g. a header value. The
    /// parser inserts commas between addresses that lack them and keeps
    /// everything it does not understand.
    pub fn parse(text: &str) -> Tree {
        Tree::parse_limited(text, None)
    }

    /// Parse at most `limit` tokens; the rest of `text` is ignored (cleanup's
    /// `header_address_token_limit`). `None` or `Some(0)` means no limit.
    pub fn parse_limited(text: &str, limit: Option<usize>) -> Tree {
        Tree {
            tokens: parse::group(scan::scan(text, limit)),
        }
    }

    /// The top-level tokens.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The tokens of each address, in order.
    pub fn addresses(&self) -> impl Iterator<Item = &[Token]> {
        self.tokens.iter().filter_map(|t| match t {
            Token::Address(parts) => Some(parts.as_slice()),
            _ => None,
        })
    }

    /// Each address in internal (unquoted) form, e.g. for recipients
    /// extracted from `To:` headers.
    pub fn internal_addresses(&self) -> Vec<String> {
        self.addresses().map(internalize).collect()
    }

    /// The whole list in internal (unquoted) form.
    pub fn to_internal(&self) -> String {
        render::internalize(&self.tokens, false)
    }

    /// The whole list in external (quoted) form, on one line.
    pub fn to_external(&self) -> String {
        render::externalize(&self.tokens, Style::default()).text
    }

    /// The external form in the given [`Style`]: optionally with a
    /// line break after each comma, optionally with overlong comments and
    /// phrases stripped (the warnings say what was stripped).
    pub fn externalize(&self, style: Style) -> Externalized {
        render::externalize(&self.tokens, style)
    }
}

/// Tokenize one address in external form without building a tree
/// (Postfix `tok822_scan_addr`): what the rewriting engine works on.
pub fn scan_address(text: &str) -> Vec<Token> {
    scan::scan(text, None)
}

/// The internal (unquoted) form of an address's tokens.
pub fn internalize(tokens: &[Token]) -> String {
    render::internalize_address(tokens)
}

/// The external (quoted) form of an address's tokens: the internal form
/// with the local part quoted where needed ([`crate::quote::external`]).
pub fn externalize_address(tokens: &[Token]) -> String {
    crate::quote::external(&internalize(tokens))
}

/// The external form of an address's tokens taken one by one: quoted
/// strings keep their quotes where they were (`"a"."b"@c`), rather than
/// the local part being quoted as a whole.
pub fn externalize_tokens(tokens: &[Token]) -> String {
    render::externalize_parts(tokens)
}
