//! Envelope and header address rewriting (Postfix `cleanup_addr.c`,
//! `cleanup_map11.c`, `cleanup_masquerade.c`): complete the address
//! (`append_at_myorigin`, `append_dot_mydomain`, ...), then apply
//! `sender_canonical_maps` / `recipient_canonical_maps`, `canonical_maps`
//! and masquerading, each only for the address classes its `*_classes`
//! parameter lists.

use address::find::Settings;
use address::map::Mapper;
use address::masquerade::Masquerade;
use address::rewrite::{Context, RewriteParams};
use conf::Config;
use postmap::{Maps, OpenOptions};

use crate::Error;

/// A mapping loop is cut after this many steps, as in Postfix.
const MAX_RECURSION: usize = 10;

/// Where an address occurs (Postfix's `canonical_classes` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    EnvelopeSender,
    EnvelopeRecipient,
    HeaderSender,
    HeaderRecipient,
}

impl Class {
    const ALL: [(Class, &'static str); 4] = [
        (Class::EnvelopeSender, "envelope_sender"),
        (Class::EnvelopeRecipient, "envelope_recipient"),
        (Class::HeaderSender, "header_sender"),
        (Class::HeaderRecipient, "header_recipient"),
    ];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    fn is_sender(self) -> bool {
        matches!(self, Class::EnvelopeSender | Class::HeaderSender)
    }
}

/// A set of [`Class`]es, from a `*_classes` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Classes(u8);

impl Classes {
    fn from_config(config: &Config, name: &str) -> Result<Classes, Error> {
        let mut set = Classes::default();
        for word in config.get_list(name)? {
            match Class::ALL
                .iter()
                .find(|(_, w)| word.eq_ignore_ascii_case(w))
            {
                Some((class, _)) => set.0 |= class.bit(),
                None => {
                    tracing::warn!(target: "cleanup", "{name}: unknown address class \"{word}\"")
                }
            }
        }
        Ok(set)
    }

    fn has(self, class: Class) -> bool {
        self.0 & class.bit() != 0
    }
}

/// Why an address could not be rewritten: a table failed, or a mapping
/// loops. The message must be deferred. The text is the warning Postfix
/// logs after the queue ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

/// Everything address rewriting needs, built once per process.
#[derive(Debug)]
pub struct Rewriter {
    params: RewriteParams,
    settings: Settings,
    sender_canonical: (Maps, Classes),
    recipient_canonical: (Maps, Classes),
    canonical: (Maps, Classes),
    masquerade: (Masquerade, Classes),
    propagate: bool,
}

impl Rewriter {
    /// Opens the tables the parameters name; their warnings are logged.
    pub fn from_config(config: &Config, opts: &OpenOptions) -> Result<Rewriter, Error> {
        let maps = |name: &str| -> Result<Maps, Error> {
            let value = config.get(name)?.unwrap_or_default();
            let maps = Maps::open(name, &value, opts);
            for warning in maps.warnings() {
                tracing::warn!(target: "cleanup", "{warning}");
            }
            Ok(maps)
        };
        let propagate = config
            .get_list("propagate_unmatched_extensions")?
            .iter()
            .any(|w| w.eq_ignore_ascii_case("canonical"));
        Ok(Rewriter {
            params: RewriteParams::from_config(config)?,
            settings: Settings::from_config(config, opts)?,
            sender_canonical: (
                maps("sender_canonical_maps")?,
                Classes::from_config(config, "sender_canonical_classes")?,
            ),
            recipient_canonical: (
                maps("recipient_canonical_maps")?,
                Classes::from_config(config, "recipient_canonical_classes")?,
            ),
            canonical: (
                maps("canonical_maps")?,
                Classes::from_config(config, "canonical_classes")?,
            ),
            masquerade: (
                Masquerade::from_config(config, opts)?,
                Classes::from_config(config, "masquerade_classes")?,
            ),
            propagate,
        })
    }

    /// An envelope address (internal form) as the queue file records it.
    /// The null sender stays null.
    pub fn envelope(&self, class: Class, address: &str) -> Result<String, Failure> {
        if address.is_empty() {
            return Ok(String::new());
        }
        let completed = self.params.rewrite_internal(Context::Local, address);
        self.map(class, completed)
    }

    /// An address from a header (internal form), rewritten in `context`:
    /// `None` when it is unchanged.
    pub fn header(
        &self,
        class: Class,
        context: Context,
        address: &str,
    ) -> Result<Option<String>, Failure> {
        let completed = self.params.rewrite_internal(context, address);
        let mapped = self.map(class, completed)?;
        Ok((mapped != address).then_some(mapped))
    }

    /// Canonical maps, then masquerading, for `class`.
    fn map(&self, class: Class, mut address: String) -> Result<String, Failure> {
        let specific = if class.is_sender() {
            &self.sender_canonical
        } else {
            &self.recipient_canonical
        };
        for (maps, classes) in [specific, &self.canonical] {
            if classes.has(class) && !maps.is_empty() {
                address = self.map11(maps, address)?;
            }
        }
        let (masquerade, classes) = &self.masquerade;
        if classes.has(class) && !masquerade.is_empty() {
            match masquerade.internal(&address) {
                Ok(Some(masked)) => address = masked,
                Ok(None) => {}
                Err(e) => {
                    return Err(Failure(format!(
                        "{e} -- message not accepted, try again later"
                    )));
                }
            }
        }
        Ok(address)
    }

    /// One-to-one mapping through `maps` until the result stops changing
    /// (Postfix `cleanup_map11_internal`).
    fn map11(&self, maps: &Maps, mut address: String) -> Result<String, Failure> {
        let canonicalize = |a: &str| self.params.rewrite(Context::Local, a);
        let mapper = Mapper {
            maps,
            settings: &self.settings,
            canonicalize: &canonicalize,
            propagate: self.propagate,
        };
        for _ in 0..MAX_RECURSION {
            let found = mapper.internal(&address).map_err(|e| {
                Failure(format!(
                    "{} map lookup problem for {address}: {e} -- message not accepted, try again later",
                    maps.title()
                ))
            })?;
            let Some(mut results) = found else {
                return Ok(address);
            };
            if results.len() > 1 {
                tracing::warn!(target: "cleanup", "multi-valued {} entry for {address}", maps.title());
            }
            let next = results.swap_remove(0);
            if next.eq_ignore_ascii_case(&address) {
                return Ok(next);
            }
            address = next;
        }
        Err(Failure(format!(
            "unreasonable {} map nesting for {address} -- message not accepted, try again later",
            maps.title()
        )))
    }
}
