//! Mail addresses as Postfix handles them.
//!
//! - [`tok822`]: the RFC 822 address-list parser ([`tok822::Tree`]) and the
//!   header rewriting cleanup builds on it ([`tok822::rewrite_header`]).
//! - [`quote`]: internal (unquoted) and external (quoted) address forms.
//! - [`extension`]: `user+ext` address extensions.
//! - [`names`], [`local`]: name lists and the "is this domain ours"
//!   test that lookups build on (table lists are [`postmap::Maps`]).
//! - [`find`]: the table-lookup strategies for addresses
//!   (`user+ext@domain`, `user@domain`, `user`, `@domain`, ...).
//! - [`search`]: table specifications with a search order.
//! - [`map`]: canonical-map style address mapping.
//! - [`rewrite`]: trivial-rewrite's canonicalization
//!   ([`rewrite::RewriteParams`]).
//! - [`masquerade`]: `masquerade_domains` ([`masquerade::Masquerade`]).
#![forbid(unsafe_code)]

pub mod extension;
pub mod find;
pub mod local;
pub mod map;
pub mod masquerade;
pub mod names;
pub mod quote;
pub mod rewrite;
pub mod search;
pub mod tok822;

/// Why a component could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A parameter value is invalid (bad boolean, failed expansion, ...).
    #[error(transparent)]
    Config(#[from] conf::config::Error),
    /// A list parameter names a file that cannot be read.
    #[error(transparent)]
    Names(#[from] names::Error),
}
