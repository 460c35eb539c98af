//! Canonical-map style address mapping (Postfix `mail_addr_map` and
//! `mail_addr_crunch`): look an address up with the default strategy,
//! expand `@otherdomain` results to the original user, split the result
//! into addresses, canonicalize each (`@$myorigin`, `.$mydomain`) and
//! carry over an address extension the table did not match.

use postmap::Maps;

use crate::find::{self, Form, Query, QueryForm, Settings, Strategy};
use crate::quote;
use crate::tok822::{self, Tree};

/// The mapping could not be done: try again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A table could not answer.
    #[error(transparent)]
    Lookup(#[from] find::Error),
    /// The table's answer contains no address (Postfix's warning text).
    #[error("{title} lookup of {address} returns non-address result \"{result}\"")]
    NotAnAddress {
        title: String,
        address: String,
        result: String,
    },
}

/// Canonicalization of one external-form address, normally
/// [`crate::rewrite::RewriteParams::rewrite`] in the local context.
pub type Canonicalize<'a> = &'a dyn Fn(&str) -> String;

/// A table and how its answers become addresses.
#[derive(Clone, Copy)]
pub struct Mapper<'a> {
    pub maps: &'a Maps,
    pub settings: &'a Settings,
    pub canonicalize: Canonicalize<'a>,
    /// Append an extension the table did not match to each result
    /// (`propagate_unmatched_extensions` lists this kind of map).
    pub propagate: bool,
}

impl std::fmt::Debug for Mapper<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapper")
            .field("maps", &self.maps)
            .field("propagate", &self.propagate)
            .finish_non_exhaustive()
    }
}

impl Mapper<'_> {
    /// Map an external-form address to external-form addresses, as
    /// cleanup's canonical maps do. `None` when the table has no entry.
    pub fn external(&self, address: &str) -> Result<Option<Vec<String>>, Error> {
        self.map(address, Form::External, QueryForm::External, Form::External)
    }

    /// Map an internal-form address to internal-form addresses.
    pub fn internal(&self, address: &str) -> Result<Option<Vec<String>>, Error> {
        self.map(address, Form::Internal, QueryForm::External, Form::Internal)
    }

    /// Map `address` (in `input` form, looked up with `keys`) to addresses
    /// in `output` form.
    pub fn map(
        &self,
        address: &str,
        input: Form,
        keys: QueryForm,
        output: Form,
    ) -> Result<Option<Vec<String>>, Error> {
        let internal = match input {
            Form::External => quote::internal(address),
            Form::Internal => address.to_string(),
        };
        let query = Query {
            address: &internal,
            input: Form::Internal,
            keys,
            output: Form::External,
            strategy: Strategy::DEFAULT,
        };
        let Some(found) = find::find(self.maps, &query, self.settings)? else {
            return Ok(None);
        };
        let mut result = found.value;
        if result.starts_with('@') {
            // `@otherdomain`: the original user, without the extension
            // that was stripped to find the entry.
            let user = internal
                .rfind('@')
                .map_or(&internal[..], |at| &internal[..at]);
            let user = match &found.extension {
                Some(extension) => user.strip_suffix(extension.as_str()).unwrap_or(user),
                None => user,
            };
            result = quote::external(&format!("{user}{result}"));
        }
        let extension = found.extension.as_deref().filter(|_| self.propagate);
        let addresses = crunch(
            &result,
            extension,
            Form::External,
            output,
            self.canonicalize,
        );
        if addresses.is_empty() {
            return Err(Error::NotAnAddress {
                title: self.maps.title().to_string(),
                address: address.to_string(),
                result,
            });
        }
        Ok(Some(addresses))
    }
}

/// Split `text` (in `input` form) into addresses, canonicalize each, and
/// append `extension` (internal form, with its delimiter) to each local
/// part. The empty string and `<>` stand for the null address.
pub fn crunch(
    text: &str,
    extension: Option<&str>,
    input: Form,
    output: Form,
    canonicalize: Canonicalize<'_>,
) -> Vec<String> {
    let external = match input {
        Form::Internal => quote::external(text),
        Form::External => text.to_string(),
    };
    let external = match external.as_str() {
        "" | "<>" => "\"\"".to_string(),
        _ => external,
    };
    let tree = Tree::parse(&external);
    tree.addresses()
        .map(|parts| {
            let canonical = canonicalize(&tok822::externalize_tokens(parts));
            let mut address = quote::internal(&canonical);
            if let Some(extension) = extension {
                match address.rfind('@') {
                    Some(at) => address.insert_str(at, extension),
                    None => address.push_str(extension),
                }
            }
            match output {
                Form::External => quote::external(&address),
                Form::Internal => address,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(address: &str) -> String {
        address.to_string()
    }

    #[test]
    fn crunch_splits_and_extends() {
        let out = crunch(
            "a@x, \"b c\"@y, d",
            Some("+e"),
            Form::External,
            Form::External,
            &same,
        );
        assert_eq!(out, ["a+e@x", "\"b c+e\"@y", "d+e"]);
        assert_eq!(
            crunch("<>", None, Form::External, Form::Internal, &same),
            [""]
        );
        assert_eq!(
            crunch("", None, Form::Internal, Form::External, &same),
            ["\"\""]
        );
        assert!(
            crunch(
                "(only a comment)",
                None,
                Form::External,
                Form::External,
                &same
            )
            .is_empty()
        );
    }

    #[test]
    fn crunch_canonicalizes_each_address() {
        let complete = |a: &str| {
            if a.contains('@') {
                a.to_string()
            } else {
                format!("{a}@origin")
            }
        };
        let out = crunch("a, b@x", None, Form::External, Form::External, &complete);
        assert_eq!(out, ["a@origin", "b@x"]);
    }
}
