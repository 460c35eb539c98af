//! Looking an address up in tables (Postfix `mail_addr_find`): the full
//! address, then keys derived from it in a fixed order, each step enabled
//! by a [`Strategy`] flag. The first answer wins; a table error is an
//! error, never "not found". [`search`] takes the lookup as a closure, so
//! smtpd's access maps (where `DUNNO` is an answer) reuse the key order.

use std::fmt;
use std::ops::BitOr;
use std::str::FromStr;

use conf::Config;
use postmap::maps::{self, Key};
use postmap::{Maps, OpenOptions};

use crate::ConfigError;
use crate::extension::{Delimiters, Stripped};
use crate::local::LocalDomains;
use crate::{names, quote};

/// Which derived keys to try, combined with `|`. The steps run in the
/// order of the constants below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Strategy(u16);

impl Strategy {
    /// `user+ext@domain`, the address as given.
    pub const FULL: Strategy = Strategy(1 << 0);
    /// `user@domain`, when the address has an extension.
    pub const NOEXT: Strategy = Strategy(1 << 1);
    /// `user+ext`, then `user` (with NOEXT), when the domain is local:
    /// `$myorigin`, `$mydestination` or an interface address literal.
    pub const LOCALPART_IF_LOCAL: Strategy = Strategy(1 << 2);
    /// As above, with `@` at the end: `user+ext@`, `user@`.
    pub const LOCALPART_AT_IF_LOCAL: Strategy = Strategy(1 << 3);
    /// `@domain`.
    pub const AT_DOMAIN: Strategy = Strategy(1 << 4);
    /// `domain`.
    pub const DOMAIN: Strategy = Strategy(1 << 5);
    /// With DOMAIN: then each parent domain (`example.com`, `com`).
    pub const PDMS: Strategy = Strategy(1 << 6);
    /// With DOMAIN: then each parent as a dot-domain (`.example.com`).
    pub const PDDMDS: Strategy = Strategy(1 << 7);
    /// `user+ext@`, then `user@` (with NOEXT), whatever the domain.
    pub const LOCALPART_AT: Strategy = Strategy(1 << 8);
    /// What canonical, virtual and generic maps use.
    pub const DEFAULT: Strategy = Strategy(
        Strategy::FULL.0
            | Strategy::NOEXT.0
            | Strategy::LOCALPART_IF_LOCAL.0
            | Strategy::AT_DOMAIN.0,
    );

    /// Are all flags of `other` set?
    pub const fn contains(self, other: Strategy) -> bool {
        self.0 & other.0 == other.0
    }

    /// Is any flag of `other` set?
    pub const fn intersects(self, other: Strategy) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for Strategy {
    type Output = Strategy;
    fn bitor(self, other: Strategy) -> Strategy {
        Strategy(self.0 | other.0)
    }
}

/// The names of the flags, as Postfix's test driver spells them.
const STRATEGY_NAMES: &[(&str, Strategy)] = &[
    ("full", Strategy::FULL),
    ("noext", Strategy::NOEXT),
    ("localpart_if_local", Strategy::LOCALPART_IF_LOCAL),
    ("localpart_at_if_local", Strategy::LOCALPART_AT_IF_LOCAL),
    ("at_domain", Strategy::AT_DOMAIN),
    ("domain", Strategy::DOMAIN),
    ("pdms", Strategy::PDMS),
    ("pddms", Strategy::PDDMDS),
    ("localpart_at", Strategy::LOCALPART_AT),
    ("default", Strategy::DEFAULT),
];

/// A name that is not a strategy flag or address form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: '{name}'")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

impl FromStr for Strategy {
    type Err = UnknownName;

    /// `full|noext|...`, names in any case.
    fn from_str(text: &str) -> Result<Strategy, UnknownName> {
        let mut strategy = Strategy(0);
        for name in text.split('|').filter(|n| !n.is_empty()) {
            let (_, flag) = STRATEGY_NAMES
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(name))
                .ok_or_else(|| UnknownName {
                    what: "strategy",
                    name: name.to_string(),
                })?;
            strategy = strategy | *flag;
        }
        Ok(strategy)
    }
}

/// The form of an address (Postfix `mail_addr_form`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Unquoted: `joe user@example.com`.
    Internal,
    /// Quoted as in headers and table keys: `"joe user"@example.com`.
    External,
}

/// The form of the keys a search tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryForm {
    Internal,
    External,
    /// Internal, then external when the two differ.
    InternalFirst,
    /// External, then internal when the two differ (legacy tables).
    ExternalFirst,
}

const FORM_NAMES: &[(&str, QueryForm)] = &[
    ("internal", QueryForm::Internal),
    ("external", QueryForm::External),
    ("internal-first", QueryForm::InternalFirst),
    ("external-first", QueryForm::ExternalFirst),
];

impl FromStr for QueryForm {
    type Err = UnknownName;
    fn from_str(text: &str) -> Result<QueryForm, UnknownName> {
        FORM_NAMES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, form)| *form)
            .ok_or_else(|| UnknownName {
                what: "address form",
                name: text.to_string(),
            })
    }
}

impl fmt::Display for QueryForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = FORM_NAMES.iter().find(|(_, form)| form == self);
        f.write_str(name.map_or("", |(name, _)| name))
    }
}

impl FromStr for Form {
    type Err = UnknownName;
    fn from_str(text: &str) -> Result<Form, UnknownName> {
        match text.parse()? {
            QueryForm::Internal => Ok(Form::Internal),
            QueryForm::External => Ok(Form::External),
            _ => Err(UnknownName {
                what: "address form",
                name: text.to_string(),
            }),
        }
    }
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Form::Internal => "internal",
            Form::External => "external",
        })
    }
}

/// The configuration a search needs.
#[derive(Debug)]
pub struct Settings {
    pub delimiters: Delimiters,
    pub myorigin: String,
    pub local: LocalDomains,
}

impl Settings {
    /// `recipient_delimiter` (with its exceptions), `myorigin` and the
    /// local domains.
    pub fn from_config(config: &Config, options: &OpenOptions) -> Result<Settings, ConfigError> {
        Ok(Settings {
            delimiters: Delimiters::from_config(config)?,
            myorigin: config.get("myorigin")?.unwrap_or_default(),
            local: LocalDomains::from_config(config, options)?,
        })
    }
}

/// One search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query<'a> {
    pub address: &'a str,
    /// The form of `address`.
    pub input: Form,
    pub keys: QueryForm,
    /// The form of the result (converting assumes it is an address).
    pub output: Form,
    pub strategy: Strategy,
}

impl<'a> Query<'a> {
    /// An internal-form address, external keys and result, the default
    /// strategy: what most callers want (Postfix
    /// `mail_addr_find_int_to_ext`).
    pub fn new(address: &'a str) -> Query<'a> {
        Query {
            address,
            input: Form::Internal,
            keys: QueryForm::External,
            output: Form::External,
            strategy: Strategy::DEFAULT,
        }
    }
}

/// A table's answer, and the extension that was removed from the address
/// to find it (internal form, with its delimiter), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub value: String,
    pub extension: Option<String>,
}

/// Why a search could not be completed: try again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Table(#[from] maps::Error),
    /// Deciding whether the domain is local failed.
    #[error(transparent)]
    Local(#[from] names::Error),
}

/// Search `maps` for `query.address`.
pub fn find(maps: &Maps, query: &Query<'_>, settings: &Settings) -> Result<Option<Found>, Error> {
    search(query, settings, |key, kind| maps.find(key, kind))
}

/// Search with `lookup`, which answers one key (in the query form) of the
/// given kind. The first answer ends the search.
pub fn search(
    query: &Query<'_>,
    settings: &Settings,
    mut lookup: impl FnMut(&str, Key) -> Result<Option<String>, maps::Error>,
) -> Result<Option<Found>, Error> {
    let address = match query.input {
        Form::External => quote::internal(query.address),
        Form::Internal => query.address.to_string(),
    };
    let mut searcher = Searcher {
        keys: query.keys,
        strategy: query.strategy,
        settings,
        lookup: &mut lookup,
    };
    let found = searcher.run(&address)?;
    Ok(found.map(|found| match query.output {
        Form::Internal => Found {
            value: quote::internal(&found.value),
            ..found
        },
        Form::External => found,
    }))
}

type Lookup<'a> = dyn FnMut(&str, Key) -> Result<Option<String>, maps::Error> + 'a;

struct Searcher<'s, 'l> {
    keys: QueryForm,
    strategy: Strategy,
    settings: &'s Settings,
    lookup: &'l mut Lookup<'l>,
}

fn found(value: String, extension: Option<&Stripped>) -> Option<Found> {
    Some(Found {
        value,
        extension: extension.map(|s| s.extension.clone()),
    })
}

impl Searcher<'_, '_> {
    fn run(&mut self, full: &str) -> Result<Option<Found>, Error> {
        let stripped = match self.strategy.contains(Strategy::NOEXT) {
            true => self.settings.delimiters.strip(full),
            false => None,
        };
        if self.strategy.contains(Strategy::FULL)
            && let Some(value) = self.address(full, Key::Full, true)?
        {
            return Ok(found(value, None));
        }
        if let Some(s) = &stripped
            && let Some(value) = self.address(&s.address, Key::Partial, true)?
        {
            return Ok(found(value, Some(s)));
        }
        // Everything else derives keys from the domain.
        let Some(at) = full.rfind('@') else {
            return Ok(None);
        };
        let domain = &full[at + 1..];
        let if_local = Strategy::LOCALPART_IF_LOCAL | Strategy::LOCALPART_AT_IF_LOCAL;
        if self.strategy.intersects(if_local) && self.is_local(domain)? {
            for (flag, with_at) in [
                (Strategy::LOCALPART_IF_LOCAL, false),
                (Strategy::LOCALPART_AT_IF_LOCAL, true),
            ] {
                if self.strategy.contains(flag)
                    && let Some(found) = self.local_part(full, stripped.as_ref(), with_at)?
                {
                    return Ok(Some(found));
                }
            }
        }
        if self.strategy.contains(Strategy::AT_DOMAIN)
            && let Some(value) = (self.lookup)(&full[at..], Key::Partial)?
        {
            return Ok(found(value, None));
        }
        if self.strategy.contains(Strategy::DOMAIN)
            && let Some(value) = self.domain(domain)?
        {
            return Ok(found(value, None));
        }
        if self.strategy.contains(Strategy::LOCALPART_AT) {
            return self.local_part(full, stripped.as_ref(), true);
        }
        Ok(None)
    }

    /// The domain is `$myorigin` or local.
    fn is_local(&self, domain: &str) -> Result<bool, Error> {
        if domain.to_lowercase() == self.settings.myorigin.to_lowercase() {
            return Ok(true);
        }
        Ok(self.settings.local.is_local(domain)?)
    }

    /// `user+ext[@]`, then `user[@]` without the extension.
    fn local_part(
        &mut self,
        full: &str,
        stripped: Option<&Stripped>,
        with_at: bool,
    ) -> Result<Option<Found>, Error> {
        let local = |address: &str| match address.rfind('@') {
            Some(at) if with_at => address[..=at].to_string(),
            Some(at) => address[..at].to_string(),
            None => address.to_string(),
        };
        if let Some(value) = self.address(&local(full), Key::Partial, with_at)? {
            return Ok(found(value, None));
        }
        if let Some(s) = stripped
            && let Some(value) = self.address(&local(&s.address), Key::Partial, with_at)?
        {
            return Ok(found(value, Some(s)));
        }
        Ok(None)
    }

    /// `domain`, then its parents as the strategy says.
    fn domain(&mut self, domain: &str) -> Result<Option<String>, Error> {
        let parents = self.strategy.intersects(Strategy::PDMS | Strategy::PDDMDS);
        let dotted = self.strategy.contains(Strategy::PDDMDS);
        let mut name = domain;
        while !name.is_empty() {
            if let Some(value) = (self.lookup)(name, Key::Partial)? {
                return Ok(Some(value));
            }
            if !parents {
                break;
            }
            // The next dot after the first character.
            let first = name.chars().next().map_or(0, char::len_utf8);
            let Some(dot) = name[first..].find('.').map(|i| first + i) else {
                break;
            };
            name = if dotted {
                &name[dot..]
            } else {
                &name[dot + 1..]
            };
        }
        Ok(None)
    }

    /// Look up an address-like key in the query form: quoted, unquoted, or
    /// one then the other. Without `with_domain` the key is a bare local
    /// part.
    fn address(
        &mut self,
        key: &str,
        kind: Key,
        with_domain: bool,
    ) -> Result<Option<String>, Error> {
        let quoted = || {
            let flags = quote::Flags {
                bare_localpart: !with_domain,
                ..quote::Flags::default()
            };
            quote::external_with(key, flags)
        };
        let (first, second) = match self.keys {
            QueryForm::Internal => (key.to_string(), None),
            QueryForm::External => (quoted(), None),
            QueryForm::InternalFirst => (key.to_string(), Some(quoted())),
            QueryForm::ExternalFirst => (quoted(), Some(key.to_string())),
        };
        if let Some(value) = (self.lookup)(&first, kind)? {
            return Ok(Some(value));
        }
        match second {
            Some(second) if second != first => Ok((self.lookup)(&second, kind)?),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::NameList;

    fn settings() -> Settings {
        Settings {
            delimiters: Delimiters::new("+"),
            myorigin: "example.com".into(),
            local: LocalDomains::new(NameList::from_names("mydestination", ["localhost"]), vec![]),
        }
    }

    /// The keys a search tries, in order, when nothing is found.
    fn keys(address: &str, strategy: &str) -> Vec<String> {
        let mut tried = Vec::new();
        let query = Query {
            strategy: strategy.parse().expect("strategy"),
            ..Query::new(address)
        };
        let result = search(&query, &settings(), |key, kind| {
            let mark = if kind == Key::Partial { "~" } else { "" };
            tried.push(format!("{mark}{key}"));
            Ok(None)
        });
        assert_eq!(result, Ok(None));
        tried
    }

    #[test]
    fn default_search_order() {
        assert_eq!(
            keys("u+x@example.com", "default"),
            [
                "u+x@example.com",
                "~u@example.com",
                "~u+x",
                "~u",
                "~@example.com"
            ]
        );
        assert_eq!(
            keys("u+x@other", "default"),
            ["u+x@other", "~u@other", "~@other"]
        );
        assert_eq!(
            keys("a b@localhost", "default"),
            ["\"a b\"@localhost", "~\"a b\"", "~@localhost"]
        );
        assert_eq!(keys("u", "default"), ["u"]);
    }

    #[test]
    fn domain_search_orders() {
        assert_eq!(keys("u@a.b.c", "domain"), ["~a.b.c"]);
        assert_eq!(keys("u@a.b.c", "domain|pdms"), ["~a.b.c", "~b.c", "~c"]);
        assert_eq!(keys("u@a.b.c", "domain|pddms"), ["~a.b.c", "~.b.c", "~.c"]);
        assert_eq!(keys("u@é.b", "domain|pdms"), ["~é.b", "~b"]);
        assert_eq!(
            keys("u+x@a", "noext|localpart_at"),
            ["~u@a", "~u+x@", "~u@"]
        );
    }

    #[test]
    fn errors_are_not_misses() {
        let query = Query::new("u@example.com");
        let failed = search(&query, &settings(), |key, _| {
            Err(maps::Error::EmptyValue {
                title: "t".into(),
                key: key.into(),
            })
        });
        assert!(matches!(failed, Err(Error::Table(_))));
    }

    #[test]
    fn names_parse() {
        assert_eq!("FULL|noext".parse(), Ok(Strategy::FULL | Strategy::NOEXT));
        assert!("full|nope".parse::<Strategy>().is_err());
        assert_eq!("external-first".parse(), Ok(QueryForm::ExternalFirst));
        assert!("external-first".parse::<Form>().is_err());
        assert_eq!(Form::Internal.to_string(), "internal");
    }
}
