//! Printing main.cf parameters: `postconf [-dhHnx] [-C class] [name ...]`.

use conf::{Config, param};

use crate::diag;
use crate::names::{Class, NameSpace};
use crate::opts::{Classes, Opts};
use crate::output::Output;

const LINE_LIMIT: usize = 80;
const INDENT: &str = "    ";

/// Postfix's `pcf_print_line`: white space between words normalised to one
/// space; with `fold`, lines longer than 80 columns continue on a line
/// indented by four spaces.
pub(crate) fn format_line(fold: bool, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    let mut line_len = 0;
    for word in text
        .split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
    {
        if line_len > 0 {
            if !fold || line_len + word.len() < LINE_LIMIT {
                out.push(' ');
                line_len += 1;
            } else {
                out.push('\n');
                out.push_str(INDENT);
                line_len = INDENT.len();
            }
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push('\n');
    out
}

fn class_selected(classes: &Classes, class: Class) -> bool {
    match class {
        Class::Builtin => classes.builtin,
        Class::Service => classes.service,
        Class::User => classes.user,
    }
}

/// The value to print for a known name, or None when there is nothing to
/// print (`-n` and the name is not set).
fn value_of(cfg: &Config, ns: &NameSpace, opts: &Opts, name: &str) -> Option<String> {
    let (class, default) = ns.known.get(name)?;
    let explicit = cfg.explicit(name);
    if opts.explicit_only && explicit.is_none() {
        return None;
    }
    let value = match (explicit, class) {
        (Some(v), _) => v.to_string(),
        (None, Class::Builtin) => cfg.raw(name)?,
        (None, Class::Service) => match default {
            Some(d) => d.clone(),
            None => cfg.raw(name)?,
        },
        (None, Class::User) => return None,
    };
    if opts.expand && !param::find(name).is_some_and(|p| p.raw) {
        return Some(cfg.expand(&value));
    }
    Some(value)
}

fn print_one(out: &mut Output, opts: &Opts, name: &str, value: &str) -> Result<(), String> {
    let text = if opts.names_only {
        name.to_string()
    } else if opts.hide_names {
        value.to_string()
    } else {
        format!("{name} = {value}")
    };
    out.write(&format_line(opts.fold, &text))
}

/// Show the named parameters, or all known ones, sorted by name. The
/// output is flushed when all is shown, before any `unused parameter`
/// warning, as Postfix does.
pub(crate) fn parameters(cfg: &Config, ns: &NameSpace, opts: &Opts) -> Result<(), String> {
    let mut out = Output::default();
    if opts.args.is_empty() {
        for (name, (class, _)) in &ns.known {
            if !class_selected(&opts.classes, *class) {
                continue;
            }
            if let Some(value) = value_of(cfg, ns, opts, name) {
                print_one(&mut out, opts, name, &value)?;
            }
        }
    } else {
        for name in &opts.args {
            match value_of(cfg, ns, opts, name) {
                Some(value) => print_one(&mut out, opts, name, &value)?,
                None if ns.class(name).is_some() => {}
                None => diag::warn(format!("{name}: unknown parameter")),
            }
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_normalised() {
        assert_eq!(format_line(false, "a =  b\t c"), "a = b c\n");
        assert_eq!(format_line(false, "baz = "), "baz =\n");
    }

    #[test]
    fn long_lines_fold_at_eighty_columns() {
        let text =
            "forward_path = xxxxxxxxxxxxx xxxxxxxxxxxxxx xxxxxxxxxxxx xxxxxxxxxxxxx xxxxxxxxxxxxxx";
        assert_eq!(
            format_line(true, text),
            "forward_path = xxxxxxxxxxxxx xxxxxxxxxxxxxx xxxxxxxxxxxx xxxxxxxxxxxxx\n    xxxxxxxxxxxxxx\n"
        );
    }
}
