//! `unused parameter` warnings: settings in main.cf or master.cf `-o`
//! that no known name accounts for (typos, removed features).

use conf::Config;

use crate::names::{NameSpace, Scope};
use conf::htable;

use crate::diag;

/// Warn about main.cf settings of unknown names, in Postfix's order.
pub(crate) fn main(cfg: &Config, ns: &NameSpace) {
    let main = cfg.main_cf();
    let names =
        std::iter::once("config_directory").chain(main.entries().iter().map(|e| e.name.as_str()));
    for name in htable::order(13, names) {
        let Some(value) = cfg.explicit(name) else {
            continue;
        };
        if ns.class(name).is_none() {
            diag::warn(format!(
                "{}/main.cf: unused parameter: {name}={value}",
                cfg.dir().display()
            ));
        }
    }
}

/// Warn about master.cf `-o` settings of names that are neither known
/// globally nor valid in their service.
pub(crate) fn master(cfg: &Config, ns: &NameSpace, scopes: &[Scope]) {
    for scope in scopes {
        let names = htable::order(13, scope.params.iter().map(|(n, _)| n.as_str()));
        for name in names {
            if ns.class(name).is_some() || scope.valid.contains(name) {
                continue;
            }
            if let Some(value) = scope.get(name) {
                diag::warn(format!(
                    "{}/master.cf: unused parameter: {name}={value}",
                    cfg.dir().display()
                ));
            }
        }
    }
}
