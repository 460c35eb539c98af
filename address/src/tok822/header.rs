//! Rewriting the addresses in a message header, as cleanup does for
//! `From:`, `To:`, `Cc:` and friends (Postfix `cleanup_rewrite_sender`,
//! `cleanup_rewrite_recip` and `cleanup_fold_header`): parse the value,
//! rewrite each address, and when anything changed regenerate the header
//! with one address per line, then fold short lines back together.

use super::{Style, Token, Tree, internalize, scan_address};
use crate::quote;

/// Joined lines of a regenerated header stay under this many bytes
/// (counting a continuation TAB as one), as in Postfix.
const FOLD_WIDTH: usize = 70;

/// A regenerated header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// `Name: value`, continuation lines separated by `\n` and starting
    /// with white space (a TAB where cleanup inserted the break).
    pub header: String,
    /// Comments and phrases that were stripped for being too long, in
    /// Postfix's words, for the caller to log.
    pub warnings: Vec<String>,
}

impl Tree {
    /// Offer each address, in internal form, to `rewrite`. A returned
    /// address that differs from the old one replaces it (it is quoted and
    /// re-tokenized, as Postfix does). Returns whether any address changed;
    /// the first error stops the rewriting.
    pub fn rewrite_addresses<E>(
        &mut self,
        mut rewrite: impl FnMut(&str) -> Result<Option<String>, E>,
    ) -> Result<bool, E> {
        let mut changed = false;
        for token in &mut self.tokens {
            let Token::Address(parts) = token else {
                continue;
            };
            let old = internalize(parts);
            if let Some(new) = rewrite(&old)?
                && new != old
            {
                *parts = scan_address(&quote::external(&new));
                changed = true;
            }
        }
        Ok(changed)
    }
}

/// Rewrite the addresses in the value of header `name` (the text after
/// the colon). `rewrite` gets each address in internal form and returns
/// its replacement, or `None` to keep it. When no address changed the
/// result is `None` and the header should be kept as it was; otherwise it
/// is the regenerated, folded header. `token_limit` bounds the work on a
/// hostile header (`header_address_token_limit`); tokens past it are
/// dropped from a regenerated header, as in Postfix.
pub fn rewrite_header<E>(
    name: &str,
    value: &str,
    token_limit: Option<usize>,
    rewrite: impl FnMut(&str) -> Result<Option<String>, E>,
) -> Result<Option<Rewritten>, E> {
    let mut tree = Tree::parse_limited(value, token_limit);
    if !tree.rewrite_addresses(rewrite)? {
        return Ok(None);
    }
    let external = tree.externalize(Style::HEADER);
    Ok(Some(Rewritten {
        header: fold_header(name, &external.text),
        warnings: external.warnings,
    }))
}

/// Fold `Name: ` plus an address list with one address per line (the
/// [`Style::HEADER`] form): a line is joined to the previous one while the
/// result stays under 70 bytes, and each line that does not start with
/// white space gets a TAB, so it continues the header.
pub fn fold_header(name: &str, lines: &str) -> String {
    let header = format!("{name}: {lines}");
    let mut joined = String::with_capacity(header.len());
    let mut line_start = 0;
    for (i, line) in header.split('\n').enumerate() {
        if i > 0 {
            let start = joined.len() + 1;
            if start + line.len() - line_start < FOLD_WIDTH {
                joined.push(' ');
            } else {
                joined.push('\n');
                line_start = start;
            }
        }
        joined.push_str(line);
    }
    let mut out = String::with_capacity(joined.len() + 8);
    for (i, line) in joined.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.starts_with([' ', '\t']) {
                out.push('\t');
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn upper_domain(addr: &str) -> Result<Option<String>, Infallible> {
        Ok(addr
            .rsplit_once('@')
            .map(|(local, domain)| format!("{local}@{}", domain.to_uppercase())))
    }

    #[test]
    fn unchanged_header_is_kept() {
        let same = |_: &str| Ok::<_, Infallible>(None);
        assert_eq!(rewrite_header("To", " a@b, c@d", None, same), Ok(None));
        let upper = |a: &str| Ok::<_, Infallible>(Some(a.to_string()));
        assert_eq!(rewrite_header("To", " A@B", None, upper), Ok(None));
    }

    #[test]
    fn rewritten_header_keeps_phrases_and_comments() {
        let out = rewrite_header(
            "From",
            " \"Joe Q. User\" <joe@x.example> (home), jane@y.example",
            None,
            upper_domain,
        )
        .expect("infallible")
        .expect("changed");
        assert_eq!(
            out.header,
            // Postfix puts no space between an operator and a comment.
            "From: \"Joe Q. User\" <joe@X.EXAMPLE>(home), jane@Y.EXAMPLE"
        );
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn quoting_follows_the_new_local_part() {
        let rename = |_: &str| Ok::<_, Infallible>(Some("joe user@example.com".to_string()));
        let out = rewrite_header("To", " x@y", None, rename)
            .expect("infallible")
            .expect("changed");
        assert_eq!(out.header, "To: \"joe user\"@example.com");
    }

    #[test]
    fn long_lists_fold_at_70() {
        let lines = (0..8)
            .map(|i| format!("user{i}@example.com"))
            .collect::<Vec<_>>()
            .join(",\n");
        let folded = fold_header("To", &lines);
        for line in folded.split('\n') {
            assert!(line.len() < 70, "{line}");
        }
        assert_eq!(
            folded.split('\n').next(),
            Some("To: user0@example.com, user1@example.com, user2@example.com,")
        );
        assert!(folded.contains("\n\tuser3@example.com,"));
    }

    #[test]
    fn errors_stop_rewriting() {
        let fail = |_: &str| Err::<Option<String>, _>("lookup failed");
        assert_eq!(
            rewrite_header("To", " a@b", None, fail),
            Err("lookup failed")
        );
    }
}
