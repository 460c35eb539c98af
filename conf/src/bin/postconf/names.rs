//! postconf's parameter name space: which names are known, and of which
//! class (`-C builtin|service|user`).
//!
//! Built-in names come from the registry. A master.cf service that runs a
//! delivery program adds per-transport names (`relay_destination_...`).
//! A user-defined name is valid when it has a `name=value` and is either a
//! restriction class or referenced as `$name` from a value. Names that
//! lookup tables of the legacy DBMS types imply (`ldapfoo_domain` for
//! `ldap:ldapfoo`) are valid too. Scanning reports `$name` references that
//! nothing defines, and assignments to read-only parameters.

use std::collections::{BTreeMap, HashSet};

use conf::master_cf::MasterCf;
use conf::{Config, expand, param};

use conf::htable;

use crate::{dbms, diag};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Builtin,
    Service,
    User,
}

/// One master.cf service as a parameter name space.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub(crate) service: String,
    /// The service type (`inet`, `unix`, ...).
    pub(crate) kind: String,
    pub(crate) command: String,
    /// `-o name=value` in file order; read-only names are removed by
    /// [`NameSpace::build`].
    pub(crate) params: Vec<(String, String)>,
    /// User-defined names valid in this service.
    pub(crate) valid: HashSet<String>,
}

/// The services of a master.cf as name spaces.
pub(crate) fn scopes(master: &MasterCf) -> Vec<Scope> {
    master
        .services()
        .iter()
        .map(|s| Scope::new(s.name(), s.kind_text(), s.command(), s.overrides()))
        .collect()
}

impl Scope {
    fn new(service: &str, kind: &str, command: &str, params: Vec<(String, String)>) -> Scope {
        Scope {
            service: service.to_string(),
            kind: kind.to_string(),
            command: command.to_string(),
            params,
            valid: HashSet::new(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The distinct names in Postfix's dictionary order.
    fn names_in_dict_order(&self) -> Vec<String> {
        htable::order(13, self.params.iter().map(|(n, _)| n.as_str()))
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

/// Every known name with its class; service names carry their default.
#[derive(Debug, Default)]
pub(crate) struct NameSpace {
    pub(crate) known: BTreeMap<String, (Class, Option<String>)>,
}

/// Where a scan happens: main.cf, or one master.cf service.
#[derive(Clone, Copy)]
enum Where {
    Main,
    Master(usize),
}

struct Builder<'a> {
    cfg: &'a Config,
    scopes: &'a mut [Scope],
    ns: NameSpace,
    /// Restriction class names from main.cf.
    rest_classes: HashSet<String>,
    /// Names referenced by built-in defaults: kept for backwards
    /// compatibility, never reported as undefined.
    compat: HashSet<String>,
    /// DBMS configuration files already checked.
    dbms_files: dbms::Checked,
}

impl NameSpace {
    /// The built-in and service names, plus (unless only defaults are
    /// shown) the valid user-defined names. Warnings go to stderr.
    pub(crate) fn build(cfg: &Config, scopes: &mut [Scope], with_user: bool) -> NameSpace {
        let mut ns = NameSpace::default();
        for p in param::all() {
            ns.known.insert(p.name.to_string(), (Class::Builtin, None));
        }
        for scope in scopes.iter() {
            for (suffix, global) in param::service_suffixes(&scope.command) {
                let name = format!("{}{suffix}", scope.service);
                ns.known
                    .entry(name)
                    .and_modify(|e| e.0 = Class::Service)
                    .or_insert((Class::Service, Some(format!("${global}"))));
            }
        }
        if !with_user {
            return ns;
        }
        let mut b = Builder {
            cfg,
            scopes,
            ns,
            rest_classes: HashSet::new(),
            compat: compat_names(),
            dbms_files: dbms::Checked::default(),
        };
        b.drop_read_only_master();
        for i in 0..b.scopes.len() {
            b.scan_namespace(Where::Master(i));
        }
        b.scan_defaults();
        b.scan_namespace(Where::Main);
        b.ns
    }

    pub(crate) fn class(&self, name: &str) -> Option<Class> {
        self.known.get(name).map(|(c, _)| *c)
    }
}

/// The names that built-in defaults refer to.
fn compat_names() -> HashSet<String> {
    let mut names = HashSet::new();
    for p in param::all() {
        if let param::Default::Text(text) = p.default
            && !p.raw
        {
            names.extend(expand::referenced_names(text));
        }
    }
    names
}

impl Builder<'_> {
    fn source(&self, at: Where) -> String {
        let file = match at {
            Where::Main => "main.cf",
            Where::Master(_) => "master.cf",
        };
        format!("{}/{file}", self.cfg.dir().display())
    }

    /// master.cf `-o` assignments to read-only parameters are ignored.
    fn drop_read_only_master(&mut self) {
        let src = self.source(Where::Master(0));
        for scope in self.scopes.iter_mut() {
            for (name, value) in &scope.params {
                if param::find(name).is_some_and(|p| p.read_only) {
                    diag::warn(format!(
                        "{src}: read-only parameter assignment: {name}={value}"
                    ));
                }
            }
            scope
                .params
                .retain(|(n, _)| !param::find(n).is_some_and(|p| p.read_only));
        }
    }

    /// The names of a name space in Postfix's dictionary order, with values.
    fn entries(&self, at: Where) -> Vec<(String, String)> {
        match at {
            Where::Main => {
                let main = self.cfg.main_cf();
                let names = std::iter::once("config_directory")
                    .chain(main.entries().iter().map(|e| e.name.as_str()));
                htable::order(13, names)
                    .into_iter()
                    .filter_map(|n| self.cfg.explicit(n).map(|v| (n.to_string(), v.to_string())))
                    .collect()
            }
            Where::Master(i) => {
                let scope = &self.scopes[i];
                scope
                    .names_in_dict_order()
                    .into_iter()
                    .filter_map(|n| scope.get(&n).map(|v| (n.clone(), v.to_string())))
                    .collect()
            }
        }
    }

    fn scan_namespace(&mut self, at: Where) {
        let classes = match at {
            Where::Main => self
                .cfg
                .explicit("smtpd_restriction_classes")
                .map(str::to_string),
            Where::Master(i) => self.scopes[i]
                .get("smtpd_restriction_classes")
                .map(str::to_string),
        };
        if let Some(list) = classes {
            let list = self.expand_in(at, &list);
            for name in list
                .split([',', ' ', '\t', '\r', '\n'])
                .filter(|s| !s.is_empty())
            {
                if matches!(at, Where::Main) {
                    self.rest_classes.insert(name.to_string());
                }
                self.flag(name, at, false);
            }
        }
        if let Where::Main = at {
            self.warn_read_only_main();
        }
        for (name, value) in self.entries(at) {
            if let Where::Master(i) = at
                && self.rest_classes.contains(&name)
            {
                self.scopes[i].valid.insert(name.clone());
            }
            let builtin = param::find(&name);
            if builtin.is_some_and(|p| p.raw || p.read_only) {
                continue;
            }
            for referenced in expand::referenced_names(&value) {
                self.flag(&referenced, at, false);
            }
            // Only values of Postfix's own parameters name lookup tables.
            if matches!(self.ns.class(&name), Some(Class::Builtin | Class::Service)) {
                self.scan_dbms(at, &value);
            }
        }
    }

    fn warn_read_only_main(&self) {
        let src = self.source(Where::Main);
        let main = self.cfg.main_cf();
        let names = htable::order(13, main.entries().iter().map(|e| e.name.as_str()));
        for name in names {
            if param::find(name).is_some_and(|p| p.read_only)
                && let Some(value) = main.get(name)
            {
                diag::warn(format!(
                    "{src}: read-only parameter assignment: {name}={value}"
                ));
            }
        }
    }

    /// Lookup tables of the legacy DBMS types make their per-table
    /// parameter names valid; absolute-path ones have their file checked
    /// (each once per run), in the order the value names them.
    fn scan_dbms(&mut self, at: Where, value: &str) {
        let expanded = self.expand_in(at, value);
        let origin = match at {
            Where::Main => "main.cf".to_string(),
            Where::Master(i) => format!(
                "master.cf:{}/{}",
                self.scopes[i].service, self.scopes[i].kind
            ),
        };
        for found in dbms::references(&expanded, &origin) {
            match found {
                dbms::Found::Warning(warning) => diag::warn(warning),
                dbms::Found::Legacy(kind, table) => {
                    for name in dbms::legacy_names(kind, &table) {
                        self.flag(&name, at, true);
                    }
                }
                dbms::Found::File(kind, path) => {
                    let check = self.dbms_files.check_once(kind, &path);
                    check.warnings.iter().for_each(diag::warn);
                    if let Some(fatal) = check.fatal {
                        // Postfix's msg_fatal: the rest of the run is meaningless.
                        diag::fatal(fatal);
                        std::process::exit(1);
                    }
                }
            }
        }
    }

    /// Built-in defaults may name obsolete parameters (`$virtual_maps`);
    /// a user setting of such a name is used, and the name is known.
    fn scan_defaults(&mut self) {
        let mut names: Vec<String> = self.compat.iter().cloned().collect();
        names.sort();
        for name in names {
            self.flag(&name, Where::Main, true);
        }
    }

    /// Expand a value in a name space (service settings first).
    fn expand_in(&self, at: Where, text: &str) -> String {
        match at {
            Where::Main => self.cfg.expand(text),
            Where::Master(i) => self.cfg.expand_with(text, &self.scopes[i].params),
        }
    }

    /// Postfix's `flag_user_parameter`: a `$name` (or restriction class)
    /// makes `name=value` valid where it is set; warn when nothing sets it.
    fn flag(&mut self, name: &str, at: Where, quiet: bool) {
        let mut supplied = false;
        let local = match at {
            Where::Master(i) => Some(i),
            Where::Main => None,
        };
        if let Some(i) = local
            && self.scopes[i].get(name).is_some()
        {
            supplied = true;
            self.scopes[i].valid.insert(name.to_string());
        } else if self.cfg.explicit(name).is_some() {
            supplied = true;
            self.ns
                .known
                .entry(name.to_string())
                .or_insert((Class::User, None));
        }
        if local.is_none() {
            for scope in self.scopes.iter_mut() {
                if scope.get(name).is_some() {
                    supplied = true;
                    scope.valid.insert(name.to_string());
                }
            }
        }
        if !supplied && !quiet && !self.ns.known.contains_key(name) && !self.compat.contains(name) {
            diag::warn(format!("{}: undefined parameter: {name}", self.source(at)));
        }
    }
}
