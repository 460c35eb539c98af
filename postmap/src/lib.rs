//! Lookup tables: every type Postfix users rely on, behind one interface.
//!
//! - [`Table`] is what daemons use: `lookup(key)`.
//! - [`open`] opens a `type:name` specification ([`spec`] parses it).
//! - [`Maps`] is the list of tables one parameter names, searched in
//!   order (Postfix `maps_find`), with surrogates for tables that cannot
//!   be opened; [`maps::Key`] and [`maps::Error`] go with it.
//! - Indexed tables (`hash`, `btree`, `cdb`: a constant database; `lmdb`)
//!   are built by `postmap` from a source file ([`source`]) and rebuilt
//!   atomically while daemons read them ([`indexed`]).
//! - Pattern tables: [`regexp`], [`pcre`], [`cidr`].
//! - Tables written in place: `static`, `inline`, `texthash`, `fail`,
//!   `unionmap`, `pipemap` ([`simple`]).
//! - [`aliases`] is the aliases(5) format, for `postalias`.
//!
//! `unsafe` is allowed only in the LMDB module, where opening an environment
//! is an unsafe call of heed (see its SAFETY comment).
#![deny(unsafe_code)]

pub mod aliases;
pub mod cidr;
pub mod cli;
pub mod header_token;
pub mod indexed;
pub mod maps;
mod pattern;
pub mod pcre;
pub mod regexp;
pub mod simple;
pub mod source;
pub mod spec;
pub mod table;

mod open;
pub use open::{open, supported_types};

pub use maps::Maps;
pub use table::{Error, OpenOptions, Opened, Table};
