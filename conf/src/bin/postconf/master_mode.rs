//! `postconf -M`, `-F` and `-P`: print master.cf entries, their fields
//! (`name/type/field = value`) or their `-o` parameters
//! (`name/type/parameter = value`), optionally selected by patterns such
//! as `smtp`, `*/inet` or `smtp/inet/chroot`. With `-e`, `-X` or `-#`
//! the same modes edit master.cf instead (see [`crate::master_edit`]).
//!
//! The order of work follows Postfix: master.cf is read, `$name` uses are
//! checked (warnings for undefined names and read-only assignments), the
//! output is printed, then unmatched patterns and unused `-o` parameters
//! are reported.

use std::path::Path;
use std::process::ExitCode;

use conf::Config;
use conf::main_cf::MainCf;
use conf::master_cf::format;
use conf::master_cf::{Field, MasterCf, Pattern, Service};

use crate::names::{self, NameSpace, Scope};
use crate::opts::{Mode, Opts};
use crate::output::Output;
use crate::{diag, master_edit, show, unused};

/// Run a -M, -F or -P command. main.cf is read here, after master.cf as
/// Postfix does, and not at all for edits (which never need it).
pub(crate) fn run(opts: &Opts) -> ExitCode {
    if let Some(edit) = opts.edit {
        return master_edit::run(opts, edit);
    }
    let path = master_path(opts);
    let master = match MasterCf::read(Path::new(&path), &mut |w| diag::warn(w)) {
        Ok(master) => master,
        Err(e) => return diag::fatal(e),
    };
    let main = match MainCf::read(&opts.config_dir) {
        Ok(main) => main,
        Err(e) => return diag::fatal(e),
    };
    main.warnings().iter().for_each(diag::warn);
    let cfg = &Config::with_main(&opts.config_dir, main, &opts.overrides);
    let mut scopes = names::scopes(&master);
    let ns = NameSpace::build(cfg, &mut scopes, true);
    let mut show = Show {
        opts,
        cfg,
        master: &master,
        scopes: &scopes,
        out: Output::default(),
    };
    let shown = match opts.mode {
        Mode::Fields => show.fields(),
        Mode::Params => show.params(),
        _ => show.entries(),
    };
    if let Err(text) = shown.and_then(|()| show.out.flush()) {
        return diag::fatal(text);
    }
    unused::master(cfg, &ns, &scopes);
    ExitCode::SUCCESS
}

/// `config_directory/master.cf`, spelled the way Postfix prints it.
pub(crate) fn master_path(opts: &Opts) -> String {
    format!("{}/master.cf", opts.config_dir.display())
}

/// A selection pattern from the command line, and how often it matched.
struct Request<'a> {
    raw: &'a str,
    pattern: Pattern,
    /// For -F: the field, None for `*`.
    field: Option<Field>,
    matches: usize,
}

/// Parse the selection arguments; `usage` is the fatal text for a bad one.
fn requests<'a>(args: &'a [String], max: usize, usage: &str) -> Result<Vec<Request<'a>>, String> {
    args.iter()
        .map(|raw| {
            let pattern = Pattern::parse(raw, 1, max).ok_or_else(|| usage.to_string())?;
            Ok(Request {
                raw,
                pattern,
                field: None,
                matches: 0,
            })
        })
        .collect()
}

fn warn_unmatched(requests: &[Request<'_>]) {
    for r in requests.iter().filter(|r| r.matches == 0) {
        diag::warn(format!("unmatched request: \"{}\"", r.raw));
    }
}

struct Show<'a> {
    opts: &'a Opts,
    cfg: &'a Config,
    master: &'a MasterCf,
    /// One per service, with read-only names already removed.
    scopes: &'a [Scope],
    out: Output,
}

impl Show<'_> {
    /// `-M [-fx] [service[/type] ...]`.
    fn entries(&mut self) -> Result<(), String> {
        let mut requests = requests(&self.opts.args, 2, "-M option requires service_name[/type]")?;
        for (i, service) in self.master.services().iter().enumerate() {
            let times = count_matches(&mut requests, service);
            for _ in 0..times {
                let expand = |text: &str| self.expand(i, text);
                let expand: Option<format::Expand<'_>> = self.opts.expand.then_some(&expand);
                let text = format::entry(service, self.opts.fold, expand);
                self.out.write(&text)?;
            }
        }
        warn_unmatched(&requests);
        Ok(())
    }

    /// `-F [-fhHx] [service[/type[/field]] ...]`.
    fn fields(&mut self) -> Result<(), String> {
        let mut requests = requests(
            &self.opts.args,
            3,
            "-F option requires service_name[/type[/field]]",
        )?;
        for r in &mut requests {
            let third = r.pattern.third.as_deref().unwrap_or("*");
            if third != "*" {
                r.field = Some(
                    Field::from_name(third)
                        .ok_or_else(|| format!("invalid service attribute name: \"{third}\""))?,
                );
            }
        }
        for (i, service) in self.master.services().iter().enumerate() {
            if requests.is_empty() {
                self.print_fields(i, service, None)?;
            }
            for r in requests.iter_mut() {
                if r.pattern.matches(service.name(), service.kind_text()) {
                    r.matches += 1;
                    self.print_fields(i, service, r.field)?;
                }
            }
        }
        warn_unmatched(&requests);
        Ok(())
    }

    /// Print one field, or all eight.
    fn print_fields(
        &mut self,
        i: usize,
        service: &Service,
        field: Option<Field>,
    ) -> Result<(), String> {
        let fields = match field {
            Some(f) => vec![f],
            None => Field::ALL.to_vec(),
        };
        for field in fields {
            if self.opts.names_only {
                let name = format!(
                    "{}/{}/{}",
                    service.name(),
                    service.kind_text(),
                    field.name()
                );
                self.out.write(&show::format_line(self.opts.fold, &name))?;
                continue;
            }
            let expand = |text: &str| self.expand(i, text);
            let expand: Option<format::Expand<'_>> = self.opts.expand.then_some(&expand);
            let show_name = !self.opts.hide_names;
            let text = format::field(service, field, show_name, self.opts.fold, expand);
            self.out.write(&text)?;
        }
        Ok(())
    }

    /// `-P [-fhHx] [service[/type[/parameter]] ...]`.
    fn params(&mut self) -> Result<(), String> {
        let mut requests = requests(
            &self.opts.args,
            3,
            "-P option requires service_name[/type[/parameter]]",
        )?;
        for (i, service) in self.master.services().iter().enumerate() {
            let Some(dict) = self.dict(i) else {
                continue;
            };
            let params = sorted_params(&dict);
            if requests.is_empty() {
                self.print_params(i, service, &params, None)?;
            }
            for r in requests.iter_mut() {
                if !r.pattern.matches(service.name(), service.kind_text()) {
                    continue;
                }
                let wanted = r.pattern.third.as_deref().filter(|t| *t != "*");
                if wanted.is_none_or(|w| params.iter().any(|(n, _)| *n == w)) {
                    r.matches += 1;
                    self.print_params(i, service, &params, wanted)?;
                }
            }
        }
        warn_unmatched(&requests);
        Ok(())
    }

    fn print_params(
        &mut self,
        i: usize,
        service: &Service,
        params: &[(&str, &str)],
        only: Option<&str>,
    ) -> Result<(), String> {
        for &(name, value) in params.iter().filter(|(n, _)| only.is_none_or(|o| o == *n)) {
            let full = format!("{}/{}/{name}", service.name(), service.kind_text());
            let text = if self.opts.names_only {
                full
            } else {
                let value = if self.opts.expand {
                    self.expand(i, value)
                } else {
                    value.to_string()
                };
                if self.opts.hide_names {
                    value
                } else {
                    format!("{full} = {value}")
                }
            };
            self.out.write(&show::format_line(self.opts.fold, &text))?;
        }
        Ok(())
    }

    /// The `-o` parameters postconf associates with entry `i`. Postfix
    /// keeps one table per service name and type, shared by all entries
    /// with that name and type, and created by the first one that has a
    /// `-o name=value` (even one dropped later as read-only); an entry
    /// before that has no table.
    fn dict(&self, i: usize) -> Option<Vec<(String, String)>> {
        let services = self.master.services();
        let me = &services[i];
        let same: Vec<usize> = (0..services.len())
            .filter(|&j| {
                services[j].name() == me.name() && services[j].kind_text() == me.kind_text()
            })
            .collect();
        if !same
            .iter()
            .any(|&j| j <= i && !services[j].overrides().is_empty())
        {
            return None;
        }
        Some(
            same.iter()
                .flat_map(|&j| self.scopes[j].params.iter().cloned())
                .collect(),
        )
    }

    /// `$name` expansion in service `i`: its read-only names
    /// (`service_name`, `process_name`) first, then its `-o` settings,
    /// then main.cf and the defaults.
    fn expand(&self, i: usize, text: &str) -> String {
        let service = &self.master.services()[i];
        let mut local = self.dict(i).unwrap_or_default();
        // Later entries win in expand_with.
        local.push(("service_name".to_string(), service.name().to_string()));
        local.push((
            "process_name".to_string(),
            service.process_name().to_string(),
        ));
        self.cfg.expand_with(text, &local)
    }
}

/// How many times `service` is printed: once with no patterns, else once
/// per matching pattern (which is counted).
fn count_matches(requests: &mut [Request<'_>], service: &Service) -> usize {
    if requests.is_empty() {
        return 1;
    }
    let mut times = 0;
    for r in requests.iter_mut() {
        if r.pattern.matches(service.name(), service.kind_text()) {
            r.matches += 1;
            times += 1;
        }
    }
    times
}

/// Parameters with the last setting of each name winning, sorted by name
/// as Postfix sorts them (byte order).
fn sorted_params(params: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut last: Vec<(&str, &str)> = Vec::new();
    for (name, value) in params.iter().rev() {
        if !last.iter().any(|(n, _)| n == name) {
            last.push((name, value));
        }
    }
    last.sort_unstable_by(|a, b| a.0.cmp(b.0));
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_sorted_and_last_wins() {
        let params: Vec<(String, String)> = [("b", "1"), ("a", "2"), ("b", "3"), ("B", "4")]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            sorted_params(&params),
            vec![("B", "4"), ("a", "2"), ("b", "3")]
        );
    }

    #[test]
    fn bad_patterns_give_usage() {
        let args = vec!["fo*".to_string()];
        let err = requests(&args, 2, "usage").err();
        assert_eq!(err.as_deref(), Some("usage"));
        let args = vec!["a/b/c".to_string()];
        assert!(requests(&args, 3, "usage").is_ok());
    }
}
