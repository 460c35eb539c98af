//! Address canonicalization as trivial-rewrite does it (Postfix
//! `rewrite.c`): strip a source route, turn `site!user` and `user%site`
//! into `user@site`, complete addresses with `@$myorigin` and
//! `.$mydomain` (remote headers: `remote_header_rewrite_domain`, or not
//! at all when it is empty), and strip a trailing dot.

use conf::Config;

use crate::tok822::{self, Token};

/// Whose rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Locally submitted mail and envelopes: complete with `myorigin`
    /// and `mydomain`.
    Local,
    /// Headers of mail from remote clients: complete with
    /// `remote_header_rewrite_domain`.
    Remote,
}

/// The parameters of canonicalization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewriteParams {
    pub myorigin: String,
    pub mydomain: String,
    pub remote_header_rewrite_domain: String,
    /// `site!user` becomes `user@site`.
    pub swap_bangpath: bool,
    /// `user%site` becomes `user@site`.
    pub allow_percent_hack: bool,
    /// `user` becomes `user@$myorigin`.
    pub append_at_myorigin: bool,
    /// `user@host` becomes `user@host.$mydomain`.
    pub append_dot_mydomain: bool,
}

impl RewriteParams {
    /// The parameters of the same names from `config`.
    pub fn from_config(config: &Config) -> Result<RewriteParams, conf::config::Error> {
        let text = |name: &str| config.get(name).map(Option::unwrap_or_default);
        Ok(RewriteParams {
            myorigin: text("myorigin")?,
            mydomain: text("mydomain")?,
            remote_header_rewrite_domain: text("remote_header_rewrite_domain")?,
            swap_bangpath: config.get_bool("swap_bangpath")?,
            allow_percent_hack: config.get_bool("allow_percent_hack")?,
            append_at_myorigin: config.get_bool("append_at_myorigin")?,
            append_dot_mydomain: config.get_bool("append_dot_mydomain")?,
        })
    }

    /// The domain appended after `@` to an address without one.
    fn origin(&self, context: Context) -> &str {
        match context {
            Context::Local => &self.myorigin,
            Context::Remote => &self.remote_header_rewrite_domain,
        }
    }

    /// The domain appended after `.` to a domain without a dot.
    fn domain(&self, context: Context) -> &str {
        match context {
            Context::Local => &self.mydomain,
            Context::Remote => &self.remote_header_rewrite_domain,
        }
    }

    /// Canonicalize an address in external (quoted) form. The empty
    /// address stays empty.
    pub fn rewrite(&self, context: Context, address: &str) -> String {
        let mut tokens = tok822::scan_address(address);
        if tokens.is_empty() {
            // Empty, or only white space: nothing to rewrite.
            return String::new();
        }
        self.rewrite_tokens(context, &mut tokens);
        tok822::externalize_address(&tokens)
    }

    /// [`RewriteParams::rewrite`] for an address in internal form, with
    /// the result in internal form.
    pub fn rewrite_internal(&self, context: Context, address: &str) -> String {
        crate::quote::internal(&self.rewrite(context, &crate::quote::external(address)))
    }

    /// Canonicalize the tokens of one address in place.
    pub fn rewrite_tokens(&self, context: Context, tokens: &mut Vec<Token>) {
        // The empty address is special; a lone `@` counts as empty.
        if tokens.is_empty() || tokens[..] == [Token::Quoted(String::new())] {
            return;
        }
        if tokens[..] == [Token::Op('@')] {
            *tokens = vec![Token::Quoted(String::new())];
            return;
        }
        strip_source_route(tokens);
        if !tokens.contains(&Token::Op('@')) {
            self.complete_local_part(context, tokens);
        }
        self.append_dot_domain(context, tokens);
        strip_trailing_dot(tokens);
    }

    /// An address without `@`: swap `site!user`, or promote the last
    /// `%`, or append `@origin`.
    fn complete_local_part(&self, context: Context, tokens: &mut Vec<Token>) {
        if self.swap_bangpath
            && let Some(bang) = tokens.iter().position(|t| *t == Token::Op('!'))
        {
            let user = tokens.split_off(bang + 1);
            tokens.truncate(bang);
            let site = std::mem::replace(tokens, user);
            tokens.push(Token::Op('@'));
            tokens.extend(site);
        } else if self.allow_percent_hack
            && let Some(percent) = tokens.iter().rposition(|t| *t == Token::Op('%'))
        {
            tokens[percent] = Token::Op('@');
        } else if self.append_at_myorigin && !self.origin(context).is_empty() {
            tokens.push(Token::Op('@'));
            tokens.extend(tok822::scan_address(self.origin(context)));
        }
    }

    /// `user@host` becomes `user@host.domain`; an address ending in `@`,
    /// or whose domain has a dot or is a literal, is left alone.
    fn append_dot_domain(&self, context: Context, tokens: &mut Vec<Token>) {
        let domain = self.domain(context);
        if !self.append_dot_mydomain || domain.is_empty() {
            return;
        }
        let Some(at) = tokens.iter().rposition(|t| *t == Token::Op('@')) else {
            return;
        };
        let after = &tokens[at + 1..];
        let complete = after.is_empty()
            || after
                .iter()
                .any(|t| matches!(t, Token::DomainLiteral(_) | Token::Op('.')));
        if !complete {
            tokens.push(Token::Op('.'));
            tokens.extend(tok822::scan_address(domain));
        }
    }
}

/// `@relay1,@relay2:user@domain` becomes `user@domain`.
fn strip_source_route(tokens: &mut Vec<Token>) {
    if tokens.first() != Some(&Token::Op('@')) {
        return;
    }
    if let Some(colon) = tokens.iter().position(|t| *t == Token::Op(':'))
        && colon + 1 < tokens.len()
    {
        tokens.drain(..=colon);
    }
}

/// `user@domain.` loses its dot; `domain..` and `user@.` keep theirs.
fn strip_trailing_dot(tokens: &mut Vec<Token>) {
    if let [.., before, Token::Op('.')] = &tokens[..]
        && !matches!(before, Token::Op('.' | '@'))
    {
        tokens.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> RewriteParams {
        RewriteParams {
            myorigin: "origin.example".into(),
            mydomain: "example.com".into(),
            remote_header_rewrite_domain: String::new(),
            swap_bangpath: true,
            allow_percent_hack: true,
            append_at_myorigin: true,
            append_dot_mydomain: true,
        }
    }

    #[test]
    fn local_completion() {
        let p = params();
        assert_eq!(p.rewrite(Context::Local, "user"), "user@origin.example");
        assert_eq!(
            p.rewrite(Context::Local, "user@host"),
            "user@host.example.com"
        );
        assert_eq!(
            p.rewrite(Context::Local, "user@[1.2.3.4]"),
            "user@[1.2.3.4]"
        );
        assert_eq!(p.rewrite(Context::Local, "@a,@b:user@x.y"), "user@x.y");
        // `!` and `%` need no quotes in a local part.
        assert_eq!(p.rewrite(Context::Local, "a!b!c"), "b!c@a.example.com");
        assert_eq!(p.rewrite(Context::Local, "a%b%c"), "a%b@c.example.com");
        assert_eq!(p.rewrite(Context::Local, ""), "");
        assert_eq!(p.rewrite(Context::Local, " "), "");
        assert_eq!(p.rewrite(Context::Local, "\"\""), "\"\"");
    }

    #[test]
    fn remote_without_domain_completes_nothing() {
        let p = params();
        assert_eq!(p.rewrite(Context::Remote, "user"), "user");
        assert_eq!(p.rewrite(Context::Remote, "user@host"), "user@host");
        assert_eq!(p.rewrite(Context::Remote, "a!b"), "b@a");
    }

    #[test]
    fn switches_turn_steps_off() {
        let p = RewriteParams {
            swap_bangpath: false,
            allow_percent_hack: false,
            append_at_myorigin: false,
            append_dot_mydomain: false,
            ..params()
        };
        assert_eq!(p.rewrite(Context::Local, "a!b%c"), "a!b%c");
        assert_eq!(p.rewrite(Context::Local, "user@host."), "user@host");
    }

    #[test]
    fn internal_form_round_trip() {
        let p = params();
        assert_eq!(
            p.rewrite_internal(Context::Local, "joe user"),
            "joe user@origin.example"
        );
        assert_eq!(p.rewrite_internal(Context::Local, ""), "");
    }
}
