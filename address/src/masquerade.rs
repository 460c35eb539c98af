//! Address masquerading (Postfix `cleanup_masquerade`): below a domain in
//! `masquerade_domains`, `user@host.example.com` becomes
//! `user@example.com`, except for users in `masquerade_exceptions`. The
//! first listed parent of the address domain decides; `!domain` entries
//! stop masquerading at that domain.

use conf::Config;
use postmap::OpenOptions;

use crate::names::{self, NameList};
use crate::{ConfigError, quote};

/// The masquerading could not be decided: try again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A `masquerade_exceptions` table could not answer.
    #[error("masquerade_exceptions map lookup problem: {0}")]
    Exceptions(#[from] names::Error),
}

/// One `masquerade_domains` entry, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    domain: String,
    /// Masquerade below this domain (false for `!domain`).
    strip: bool,
}

/// `masquerade_domains` with `masquerade_exceptions`.
#[derive(Debug)]
pub struct Masquerade {
    entries: Vec<Entry>,
    exceptions: NameList,
}

impl Masquerade {
    /// `domains` is the value of `masquerade_domains` (commas or white
    /// space between entries).
    pub fn new(domains: &str, exceptions: NameList) -> Masquerade {
        let entries = conf::list::split_plain(domains)
            .map(|item| {
                let domain = item.trim_start_matches('!');
                Entry {
                    domain: domain.to_ascii_lowercase(),
                    strip: (item.len() - domain.len()) % 2 == 0,
                }
            })
            .filter(|entry| !entry.domain.is_empty())
            .collect();
        Masquerade {
            entries,
            exceptions,
        }
    }

    /// `masquerade_domains` and `masquerade_exceptions` from `config`.
    pub fn from_config(config: &Config, options: &OpenOptions) -> Result<Masquerade, ConfigError> {
        let domains = config.get("masquerade_domains")?.unwrap_or_default();
        let exceptions = config.get("masquerade_exceptions")?.unwrap_or_default();
        let exceptions = NameList::new("masquerade_exceptions", &exceptions, options)?;
        Ok(Masquerade::new(&domains, exceptions))
    }

    /// No domains are listed: masquerading does nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Masquerade an address in external (quoted) form: the new address,
    /// or `None` when it stays as it is. Exceptions are matched against
    /// the local part as it is written, quotes included.
    pub fn external(&self, address: &str) -> Result<Option<String>, Error> {
        let Some(at) = address.rfind('@') else {
            return Ok(None);
        };
        let (user, domain) = (&address[..at], &address[at + 1..]);
        if !self.exceptions.is_empty() && self.exceptions.matches(user)? {
            return Ok(None);
        }
        for entry in &self.entries {
            if domain.len() == entry.domain.len() {
                if domain.eq_ignore_ascii_case(&entry.domain) {
                    return Ok(None);
                }
            } else if domain.len() > entry.domain.len() {
                let parent = domain.len() - entry.domain.len();
                // The byte before the parent is an ASCII dot, so `parent`
                // is a character boundary.
                if domain.as_bytes()[parent - 1] == b'.'
                    && domain[parent..].eq_ignore_ascii_case(&entry.domain)
                {
                    return Ok(entry
                        .strip
                        .then(|| format!("{}{}", &address[..=at], entry.domain)));
                }
            }
        }
        Ok(None)
    }

    /// [`Masquerade::external`] for an address in internal form, with the
    /// result in internal form.
    pub fn internal(&self, address: &str) -> Result<Option<String>, Error> {
        let masqueraded = self.external(&quote::external(address))?;
        Ok(masqueraded.map(|external| quote::internal(&external)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masq(domains: &str, exceptions: &[&str]) -> Masquerade {
        Masquerade::new(
            domains,
            NameList::from_names("masquerade_exceptions", exceptions.iter().copied()),
        )
    }

    #[test]
    fn first_listed_parent_wins() {
        let m = masq("a.b.c, b.c", &[]);
        assert_eq!(m.external("x@aa.a.b.c"), Ok(Some("x@a.b.c".into())));
        assert_eq!(m.external("x@aaa.b.c"), Ok(Some("x@b.c".into())));
        assert_eq!(m.external("x@a.b.c"), Ok(None));
        assert_eq!(m.external("x@xa.b.c"), Ok(Some("x@b.c".into())));
        assert_eq!(m.external("x@é.b.c"), Ok(Some("x@b.c".into())));
        assert_eq!(m.external("x"), Ok(None));
        assert_eq!(m.external("x@"), Ok(None));
    }

    #[test]
    fn negation_and_exceptions() {
        assert_eq!(masq("!a.b.c, b.c", &[]).external("x@aa.a.b.c"), Ok(None));
        assert_eq!(
            masq("!!a.b.c", &[]).external("x@aa.a.b.c"),
            Ok(Some("x@a.b.c".into()))
        );
        assert_eq!(masq("b.c", &["root"]).external("Root@a.b.c"), Ok(None));
        assert!(masq("", &[]).is_empty());
    }

    #[test]
    fn internal_form_is_quoted_for_matching() {
        let m = masq("b.c", &["joe"]);
        assert_eq!(m.internal("joe@a.b.c"), Ok(None));
        assert_eq!(
            m.internal("jane doe@a.b.c"),
            Ok(Some("jane doe@b.c".into()))
        );
    }
}
