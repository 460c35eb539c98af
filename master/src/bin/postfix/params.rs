//! main.cf settings no known name accounts for: typos and parameters of
//! features the suite does not have. The warning is `postconf -n`'s
//! (`DIR/main.cf: unused parameter: name=value`), which Postfix prints
//! whenever `postfix check` runs postconf.
//!
//! A name is known when the registry (`conf::param`) declares it, when
//! some main.cf or master.cf value refers to it as `$name` (a user-defined
//! parameter), when `smtpd_restriction_classes` lists it, or when it is a
//! per-service parameter of a master.cf service (`relay_recipient_limit`).

use std::collections::HashSet;

use conf::Config;

use crate::say::Message;

/// The names `text` refers to: `$name`, `${name...}`, `$(name...)`.
fn references(text: &str) -> impl Iterator<Item = &str> {
    text.split('$').skip(1).filter_map(|after| {
        let after = after.strip_prefix(['{', '(']).unwrap_or(after);
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        (end > 0).then(|| &after[..end])
    })
}

/// The service names of master.cf text (first field of each entry line).
fn services(master_cf: &str) -> Vec<&str> {
    master_cf
        .lines()
        .filter(|l| !l.starts_with(['#', ' ', '\t']))
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

/// Whether `name` is `<service><suffix>` for a per-service suffix.
fn is_per_service(name: &str, services: &[&str]) -> bool {
    let suffixes = conf::param::SERVICE_SUFFIXES
        .iter()
        .chain(std::iter::once(&conf::param::TIME_LIMIT_SUFFIX));
    suffixes.clone().any(|(suffix, _)| {
        name.strip_suffix(suffix)
            .is_some_and(|service| services.contains(&service))
    })
}

/// Warnings for the unknown names in `config`'s main.cf; `master_cf` is
/// the text of master.cf (empty when there is none).
pub(crate) fn check(config: &Config, master_cf: &str) -> Vec<Message> {
    let main = config.main_cf();
    let mut known: HashSet<&str> = HashSet::new();
    for entry in main.entries() {
        known.extend(references(&entry.value));
    }
    known.extend(references(master_cf));
    if let Some(classes) = main.get("smtpd_restriction_classes") {
        known.extend(conf::list::split_plain(classes));
    }
    let services = services(master_cf);
    main.entries()
        .iter()
        .filter(|e| conf::param::find(&e.name).is_none())
        .filter(|e| !known.contains(e.name.as_str()) && !is_per_service(&e.name, &services))
        .map(|e| {
            Message::warning(format!(
                "{}: unused parameter: {}={}",
                main.path(),
                e.name,
                e.value
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_in_every_form() {
        let found: Vec<&str> = references("a $x, ${y?z} $(w:v) $ $9x").collect();
        assert_eq!(found, ["x", "y", "w", "9x"]);
    }

    #[test]
    fn unknown_names_are_reported_and_user_defined_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.cf"),
            "myhostname = a.example\nbogus_param = 1\nmy_nets = 10.0.0.0/8\n\
             mynetworks = $my_nets\nsmtpd_restriction_classes = strict\nstrict = reject\n\
             relay_recipient_limit = 5\nsmtp_destination_rate_delay = 1s\n",
        )
        .unwrap();
        let config = Config::load(dir.path(), &[]).unwrap();
        let master_cf = "smtp unix - - n - - smtp\nrelay unix - - n - - smtp\n  -o x=$other\n";
        let lines: Vec<String> = check(&config, master_cf)
            .iter()
            .map(|m| m.stderr_line("postfix"))
            .collect();
        assert_eq!(
            lines,
            [format!(
                "postfix/postfix-script: warning: {}/main.cf: unused parameter: bogus_param=1",
                dir.path().display()
            )]
        );
    }
}
