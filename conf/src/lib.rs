//! Configuration: `main.cf` and `master.cf` as Postfix reads them.
//!
//! - [`main_cf`] reads and edits `main.cf` (logical lines, `name = value`).
//! - [`expand`] is Postfix's `mac_expand`: `$name`, `${name?text}`,
//!   `${{a} == {b}?{t}:{f}}` and friends.
//! - [`list`] splits list-valued parameters on commas and white space,
//!   keeping `{ ... }` groups together.
//! - [`value`] parses booleans, integers, sizes and time values.
//! - [`param`] is the registry: every parameter the suite knows, declared
//!   once with its type, default and one line of documentation.
//! - [`master_cf`] reads and edits `master.cf`.
//! - [`Config`] is the effective configuration of one config directory:
//!   `main.cf` over the registry defaults, with lazy `$name` expansion.
#![forbid(unsafe_code)]

pub mod atomic;
pub mod config;
pub mod expand;
pub mod htable;
pub mod list;
pub mod main_cf;
pub mod master_cf;
pub mod param;
pub mod value;

pub use config::Config;

/// The reason part of an I/O error as Postfix prints `%m`: the C library's
/// text without Rust's " (os error N)" suffix.
pub fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The lookup table types the suite supports, as `postconf -m` lists them
/// (the `postmap` crate opens them, and tests that it opens each).
pub const TABLE_TYPES: &[&str] = &[
    "btree", "cdb", "cidr", "fail", "hash", "inline", "lmdb", "pcre", "pipemap", "proxy",
    "randmap", "regexp", "static", "texthash", "unionmap", "unix",
];
