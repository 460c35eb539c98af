//! What the regexp, pcre and cidr tables share: reading rules from a file
//! or inline text ([`source`]), the `if`/`endif` rule list ([`program`]),
//! `$n` result templates ([`template`]), file-valued results
//! ([`rhs_file`]) and the regexp/pcre rule syntax and lookup ([`rules`]).

pub(crate) mod program;
pub(crate) mod rhs_file;
pub(crate) mod rules;
pub(crate) mod source;
pub(crate) mod template;
