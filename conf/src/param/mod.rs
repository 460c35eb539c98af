//! The parameter registry: every parameter the suite knows, declared once.
//!
//! Each [`Param`] has its Postfix name, a [`Kind`], its default exactly as
//! Postfix 3.7's `postconf -d` prints it (`$name` references and all), and
//! one line of documentation. A few defaults depend on the host or the
//! process and are [`Computed`] at run time. `postconf -d` and
//! `docs/parameters.md` are generated from this table.

mod computed;
mod extensions;
mod table;

pub use computed::{Interface, local_interfaces, my_domain, my_hostname, my_networks};

/// The type of a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `yes` or `no`.
    Bool,
    /// A decimal integer (counts, sizes in bytes, reply codes).
    Int,
    /// A time value: an integer with an optional unit letter (s, m, h, d,
    /// w); the letter is the unit used when the value has none.
    Time(char),
    /// Free text, lists, lookup tables.
    Str,
}

/// Defaults that are not a fixed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    /// The host name, made fully qualified (see [`my_hostname`]).
    MyHostname,
    /// `$myhostname` minus its first label.
    MyDomain,
    /// The networks of this host, per `mynetworks_style`.
    MyNetworks,
    /// The process ID of the running program.
    ProcessId,
    /// The name of the running program.
    ProcessName,
}

/// Where a default comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    Text(&'static str),
    Computed(Computed),
}

/// One built-in parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Default,
    pub doc: &'static str,
    /// `$name` in the value is left alone (it is expanded later, per
    /// message or per recipient), as Postfix's "raw" parameters.
    pub raw: bool,
    /// Set by the program itself; main.cf may not assign it.
    pub read_only: bool,
}

impl Param {
    const fn new(
        name: &'static str,
        kind: Kind,
        default: &'static str,
        doc: &'static str,
    ) -> Param {
        Param {
            name,
            kind,
            default: Default::Text(default),
            doc,
            raw: false,
            read_only: false,
        }
    }

    const fn raw(
        name: &'static str,
        kind: Kind,
        default: &'static str,
        doc: &'static str,
    ) -> Param {
        Param {
            raw: true,
            ..Param::new(name, kind, default, doc)
        }
    }

    const fn read_only(
        name: &'static str,
        kind: Kind,
        default: &'static str,
        doc: &'static str,
    ) -> Param {
        Param {
            read_only: true,
            ..Param::new(name, kind, default, doc)
        }
    }

    const fn computed(
        name: &'static str,
        kind: Kind,
        computed: Computed,
        doc: &'static str,
    ) -> Param {
        Param {
            name,
            kind,
            default: Default::Computed(computed),
            doc,
            raw: false,
            read_only: matches!(computed, Computed::ProcessId | Computed::ProcessName),
        }
    }
}

/// All built-in parameters, Postfix's and ours, sorted by name.
pub fn all() -> &'static [Param] {
    static ALL: std::sync::LazyLock<Vec<Param>> = std::sync::LazyLock::new(|| {
        let mut all: Vec<Param> = table::PARAMS
            .iter()
            .chain(extensions::PARAMS)
            .copied()
            .collect();
        all.sort_by_key(|p| p.name);
        all
    });
    &ALL
}

/// The built-in parameter called `name`.
pub fn find(name: &str) -> Option<&'static Param> {
    let params = all();
    params
        .binary_search_by(|p| p.name.cmp(name))
        .ok()
        .map(|i| &params[i])
}

/// Is `name` one of our additions, unknown to Postfix
/// (docs/differences.md)?
pub fn is_extension(name: &str) -> bool {
    extensions::PARAMS.iter().any(|p| p.name == name)
}

/// Per-transport parameters: a master.cf service running one of the
/// delivery programs gets `<service><suffix>` parameters whose default is
/// `$<global>` (the queue manager reads them per transport).
pub const SERVICE_SUFFIXES: &[(&str, &str)] = &[
    ("_delivery_slot_cost", "default_delivery_slot_cost"),
    ("_delivery_slot_discount", "default_delivery_slot_discount"),
    ("_delivery_slot_loan", "default_delivery_slot_loan"),
    (
        "_destination_concurrency_failed_cohort_limit",
        "default_destination_concurrency_failed_cohort_limit",
    ),
    (
        "_destination_concurrency_limit",
        "default_destination_concurrency_limit",
    ),
    (
        "_destination_concurrency_negative_feedback",
        "default_destination_concurrency_negative_feedback",
    ),
    (
        "_destination_concurrency_positive_feedback",
        "default_destination_concurrency_positive_feedback",
    ),
    ("_destination_rate_delay", "default_destination_rate_delay"),
    (
        "_destination_recipient_limit",
        "default_destination_recipient_limit",
    ),
    ("_extra_recipient_limit", "default_extra_recipient_limit"),
    (
        "_initial_destination_concurrency",
        "initial_destination_concurrency",
    ),
    ("_minimum_delivery_slots", "default_minimum_delivery_slots"),
    ("_recipient_limit", "default_recipient_limit"),
    ("_recipient_refill_delay", "default_recipient_refill_delay"),
    ("_recipient_refill_limit", "default_recipient_refill_limit"),
    ("_transport_rate_delay", "default_transport_rate_delay"),
];

/// `<service>_time_limit` (default `$command_time_limit`) exists for
/// services that run `pipe` or `spawn`.
pub const TIME_LIMIT_SUFFIX: (&str, &str) = ("_time_limit", "command_time_limit");

/// The per-service parameters (suffix, global default parameter) that a
/// master.cf service running `command` defines.
pub fn service_suffixes(command: &str) -> Vec<(&'static str, &'static str)> {
    match command {
        "local" | "error" | "virtual" | "smtp" | "lmtp" => SERVICE_SUFFIXES.to_vec(),
        "pipe" => std::iter::once(TIME_LIMIT_SUFFIX)
            .chain(SERVICE_SUFFIXES.iter().copied())
            .collect(),
        "spawn" => vec![TIME_LIMIT_SUFFIX],
        _ => Vec::new(),
    }
}

/// The parameters a program's `main.rs` header lists under
/// `# CONFIGURATION PARAMETERS` (lines of the form ``//! - `name` ...``),
/// sorted; each program's tests compare them with what it reads, so that
/// the header stays true.
pub fn documented_parameters(main_rs: &str) -> Vec<&str> {
    let section = main_rs
        .split("//! # CONFIGURATION PARAMETERS")
        .nth(1)
        .and_then(|rest| rest.split("//! # ").next())
        .unwrap_or_default();
    let mut names: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("//! - `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_parameters_are_read_from_the_header() {
        let header = "//! # SECURITY\n//! - `not_this`\n//! # CONFIGURATION PARAMETERS\n\
                      //! - `myhostname` (default): text.\n//! - `alias_maps`: text.\n\
                      //!   continued\n//! # FILES\n//! - `nor_this`\n";
        assert_eq!(documented_parameters(header), ["alias_maps", "myhostname"]);
    }

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in all().windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} >= {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn find_knows_postfix_defaults() {
        let p = find("default_database_type").expect("declared");
        assert_eq!(p.default, Default::Text("hash"));
        assert_eq!(
            find("maximal_queue_lifetime").map(|p| p.kind),
            Some(Kind::Time('d'))
        );
        assert_eq!(find("smtpd_timeout").map(|p| p.kind), Some(Kind::Time('s')));
        assert_eq!(
            find("disable_vrfy_command").map(|p| p.kind),
            Some(Kind::Bool)
        );
        assert_eq!(find("message_size_limit").map(|p| p.kind), Some(Kind::Int));
        assert!(find("default_rbl_reply").is_some_and(|p| p.raw));
        assert!(find("process_id").is_some_and(|p| p.read_only));
        assert!(find("no_such_parameter").is_none());
    }

    #[test]
    fn every_parameter_has_a_doc_line() {
        for p in all() {
            assert!(!p.doc.is_empty() && !p.doc.contains('\n'), "{}", p.name);
        }
    }

    #[test]
    fn delivery_services_get_transport_parameters() {
        assert_eq!(service_suffixes("pipe").len(), SERVICE_SUFFIXES.len() + 1);
        assert_eq!(service_suffixes("smtp").len(), SERVICE_SUFFIXES.len());
        assert_eq!(service_suffixes("spawn"), vec![TIME_LIMIT_SUFFIX]);
        assert!(service_suffixes("smtpd").is_empty());
        for (_, global) in SERVICE_SUFFIXES {
            assert!(find(global).is_some(), "{global}");
        }
    }
}
