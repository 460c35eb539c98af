//! Grouping a token list into a parse tree (Postfix `tok822_parse`), read
//! from right to left: `<...>` is a route address, `;` ends a named group,
//! and a word after a word starts a new address (a comma is inserted).
//! Comments move right of their address; tokens the parser does not
//! understand stay where they are, so no text is ever lost.

use super::Token;

/// Tokens already placed (`done`) and tokens waiting to become the next
/// address (`pending`), both in reverse order: the tree grows leftwards.
#[derive(Default)]
struct Builder {
    done: Vec<Token>,
    pending: Vec<Token>,
}

impl Builder {
    /// Close the pending tokens into an address; with `comma`, separate it
    /// from whatever is to its left with an inserted comma.
    fn close_address(&mut self, comma: bool) {
        if self.pending.is_empty() {
            return;
        }
        let mut parts = std::mem::take(&mut self.pending);
        parts.reverse();
        self.done.push(Token::Address(parts));
        if comma {
            self.done.push(Token::Op(','));
        }
    }

    /// Move tokens from the end of `rest` to `done` until `stop` says a
    /// token ends the run; that token stays in `rest`. Returns whether one
    /// did (false: the input is used up).
    fn skip_until(&mut self, rest: &mut Vec<Token>, stop: impl Fn(&Token) -> bool) -> bool {
        while let Some(token) = rest.pop() {
            if stop(&token) {
                rest.push(token);
                return true;
            }
            self.done.push(token);
        }
        false
    }

    /// After a `>`: collect the route address back to its `<`, moving
    /// comments out to the right, then skip the phrase before the `<` up
    /// to the previous separator. Returns whether a separator stopped it.
    fn route_address(&mut self, rest: &mut Vec<Token>) -> bool {
        while let Some(token) = rest.pop() {
            match token {
                Token::Op('<') => {
                    rest.push(token);
                    break;
                }
                Token::Comment(_) => self.done.push(token),
                _ => self.pending.push(token),
            }
        }
        self.close_address(false);
        self.skip_until(rest, |t| matches!(t, Token::Op('>' | ';' | ',' | ':')))
    }
}

/// Build the parse tree of a scanned token list.
pub(super) fn group(mut rest: Vec<Token>) -> Vec<Token> {
    let mut tree = Builder::default();
    // A word here starts an address (no word seen yet to its right).
    let mut word_ok = true;
    // A `;` was seen, so a `:` starts a named group.
    let mut in_group = false;
    // The token on top of `rest` was left there by a skip: it belongs to
    // the placed part already and is never part of the next address.
    let mut placed = false;
    while let Some(token) = rest.pop() {
        let was_placed = std::mem::take(&mut placed);
        match token {
            Token::Comment(_) => tree.done.push(token),
            Token::Op(';') => {
                tree.close_address(true);
                tree.done.push(token);
                (word_ok, in_group) = (true, true);
            }
            Token::Op(':') if in_group => {
                tree.close_address(false);
                tree.done.push(Token::GroupStart);
                placed = tree.skip_until(&mut rest, |t| *t == Token::Op(','));
            }
            Token::Op('>') => {
                tree.close_address(true);
                tree.done.push(token);
                placed = tree.route_address(&mut rest);
                word_ok = true;
            }
            Token::Atom(_) | Token::Quoted(_) | Token::DomainLiteral(_) => {
                if !word_ok {
                    tree.close_address(true);
                }
                tree.pending.push(token);
                word_ok = false;
            }
            Token::Op(',') => {
                tree.close_address(false);
                tree.done.push(token);
                word_ok = true;
            }
            _ => {
                word_ok = true;
                if was_placed {
                    tree.done.push(token);
                } else {
                    tree.pending.push(token);
                }
            }
        }
    }
    tree.close_address(false);
    tree.done.reverse();
    tree.done
}

#[cfg(test)]
mod tests {
    use super::super::{Token, Tree};

    fn shape(text: &str) -> String {
        Tree::parse(text)
            .tokens()
            .iter()
            .map(|t| match t {
                Token::Address(parts) => format!("A{}", parts.len()),
                Token::Op(c) => c.to_string(),
                Token::GroupStart => "G".into(),
                Token::Comment(_) => "C".into(),
                _ => "w".into(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn missing_commas_are_inserted() {
        assert_eq!(shape("a b c"), "A1 , A1 , A1");
        assert_eq!(shape("a@b, c@d"), "A3 , A3");
    }

    #[test]
    fn route_addresses_and_phrases() {
        assert_eq!(shape("Joe User <joe@x> (c), d"), "w w < A3 > C , A1");
        assert_eq!(shape("<a> <b>"), "< A1 > < A1 >");
        assert_eq!(shape("< a (x) b >"), "< A2 C >");
        assert_eq!(shape("<>"), "< >");
        assert_eq!(shape("a>"), "A1 >");
    }

    #[test]
    fn named_groups() {
        assert_eq!(shape("named group: foo@bar, baz@barf;"), "w w G A3 , A3 ;");
        assert_eq!(shape("a: b: c;"), "w : w G A1 ;");
        assert_eq!(shape(":;"), "G ;");
    }

    #[test]
    fn comments_move_right_of_their_address() {
        assert_eq!(shape("a (c) b"), "A1 , A1 C");
    }
}
