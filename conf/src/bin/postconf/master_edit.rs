//! `postconf -M|-F|-P` with `-e`, `-X` or `-#`: turn the command-line
//! arguments into [`conf::master_cf::edit::Request`]s, checked with
//! Postfix's messages, then rewrite master.cf in place.

use std::path::Path;
use std::process::ExitCode;

use conf::master_cf::edit::{Change, Request};
use conf::master_cf::{self, Field, Pattern, split_nameval};

use crate::diag;
use crate::master_mode::master_path;
use crate::opts::{Edit, Mode, Opts};

const EDIT_OPTIONS: &str = "-Me, -Fe, -Pe, -X, or -#";

pub(crate) fn run(opts: &Opts, edit: Edit) -> ExitCode {
    if opts.args.is_empty() {
        return diag::fatal(match edit {
            Edit::Set => "-e requires name=value argument",
            Edit::Remove | Edit::CommentOut => "missing service argument",
        });
    }
    let requests: Result<Vec<Request>, String> = opts
        .args
        .iter()
        .map(|raw| request(opts.mode, edit, raw))
        .collect();
    let requests = match requests {
        Ok(requests) => requests,
        Err(text) => return diag::fatal(text),
    };
    let path = master_path(opts);
    match master_cf::rewrite(Path::new(&path), &requests, &mut |w| diag::warn(w)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => diag::fatal(e),
    }
}

/// C `isspace()`.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// Word separators inside a master.cf entry.
fn has_blank(text: &str) -> bool {
    text.contains([' ', '\t', '\r', '\n'])
}

/// One argument: `pattern=value` for -e, `pattern` for -X and -#.
fn request(mode: Mode, edit: Edit, raw: &str) -> Result<Request, String> {
    if raw.contains('\n') {
        return Err(format!("{EDIT_OPTIONS} accept no multi-line input"));
    }
    let text = raw.trim_start_matches(is_space);
    if text.starts_with('#') {
        return Err(format!("{EDIT_OPTIONS} accept no comment input"));
    }
    let (pattern, value) = match edit {
        Edit::Set => {
            let (p, v) = split_nameval(text).map_err(|e| format!("{e}: \"{raw}\""))?;
            (p, Some(v.to_string()))
        }
        Edit::Remove | Edit::CommentOut => {
            if text.contains('=') {
                return Err("-X or -# requires names without value".to_string());
            }
            (text.trim_end_matches(is_space), None)
        }
    };
    let change = match mode {
        Mode::Fields => field_change(edit, pattern, value)?,
        Mode::Params => param_change(edit, pattern, value)?,
        _ => {
            let pattern = Pattern::parse(pattern, 2, 2)
                .ok_or("-Me, -MX or -M# requires service_name/type")?;
            let change = match (edit, value) {
                (Edit::Set, Some(entry)) => Change::Entry(entry),
                (Edit::CommentOut, _) => Change::CommentOut,
                _ => Change::Remove,
            };
            return Ok(Request {
                raw: raw.to_string(),
                pattern,
                change,
            });
        }
    };
    Ok(Request {
        raw: raw.to_string(),
        pattern: change.0,
        change: change.1,
    })
}

/// `-Fe name/type/field=value`.
fn field_change(
    edit: Edit,
    pattern: &str,
    value: Option<String>,
) -> Result<(Pattern, Change), String> {
    // Postfix's option checks reject -FX and -F# before this point.
    let value = match (edit, value) {
        (Edit::Set, Some(value)) => value,
        (Edit::CommentOut, _) => return Err("with option -F, do not specify -#".into()),
        _ => return Err("with option -F, do not specify -X".into()),
    };
    let pattern =
        Pattern::parse(pattern, 3, 3).ok_or("-Fe or -FX requires service_name/type/field_name")?;
    let third = pattern.third.clone().unwrap_or_default();
    if third == "*" {
        return Err("-Fe does not accept wild-card field name".into());
    }
    let field = Field::from_name(&third)
        .ok_or_else(|| format!("invalid service attribute name: \"{third}\""))?;
    if field != Field::Command && has_blank(&value) {
        return Err("-Fe does not accept whitespace in non-command field".into());
    }
    Ok((pattern, Change::Field(field, value)))
}

/// `-Pe name/type/parameter=value` and `-PX name/type/parameter`.
fn param_change(
    edit: Edit,
    pattern: &str,
    value: Option<String>,
) -> Result<(Pattern, Change), String> {
    if edit == Edit::CommentOut {
        return Err("with option -P, do not specify -#".into());
    }
    let pattern =
        Pattern::parse(pattern, 3, 3).ok_or("-Pe or -PX requires service_name/type/parameter")?;
    let name = pattern.third.clone().unwrap_or_default();
    if name == "*" {
        return Err("-Pe does not accept wild-card parameter name".into());
    }
    let change = match value {
        Some(value) if has_blank(&value) => {
            return Err("-Pe does not accept whitespace in parameter value".into());
        }
        Some(value) => Change::SetParam(name, value),
        None => Change::RemoveParam(name),
    };
    Ok((pattern, change))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(mode: Mode, edit: Edit, raw: &str) -> String {
        request(mode, edit, raw).expect_err("rejected")
    }

    #[test]
    fn entry_requests() {
        let r = request(Mode::Master, Edit::Set, " foo/unix = bar unix - - - - - x").expect("ok");
        assert_eq!(r.change, Change::Entry("bar unix - - - - - x".into()));
        assert_eq!(
            (r.pattern.name.as_str(), r.pattern.kind.as_str()),
            ("foo", "unix")
        );
        let r = request(Mode::Master, Edit::CommentOut, "foo/unix ").expect("ok");
        assert_eq!(r.change, Change::CommentOut);
        assert_eq!(
            err(Mode::Master, Edit::Set, "foo"),
            "missing '=' after attribute name: \"foo\""
        );
        assert_eq!(
            err(Mode::Master, Edit::Set, "/unix=a"),
            "-Me, -MX or -M# requires service_name/type"
        );
        assert_eq!(
            err(Mode::Master, Edit::Remove, "foo/unix=x"),
            "-X or -# requires names without value"
        );
        assert_eq!(
            err(Mode::Master, Edit::Set, "#foo/unix=x"),
            "-Me, -Fe, -Pe, -X, or -# accept no comment input"
        );
        assert_eq!(
            err(Mode::Master, Edit::Set, "foo/unix=x\ny"),
            "-Me, -Fe, -Pe, -X, or -# accept no multi-line input"
        );
    }

    #[test]
    fn field_requests() {
        let r = request(
            Mode::Fields,
            Edit::Set,
            "bar/unix/command=aa -stuffobb=cc dd",
        )
        .expect("ok");
        assert_eq!(
            r.change,
            Change::Field(Field::Command, "aa -stuffobb=cc dd".into())
        );
        assert_eq!(
            err(Mode::Fields, Edit::Set, "foo/unix=x"),
            "-Fe or -FX requires service_name/type/field_name"
        );
        assert_eq!(
            err(Mode::Fields, Edit::Set, "foo/unix/chroot=x y"),
            "-Fe does not accept whitespace in non-command field"
        );
        assert_eq!(
            err(Mode::Fields, Edit::Set, "foo/unix/*=X"),
            "-Fe does not accept wild-card field name"
        );
        assert_eq!(
            err(Mode::Fields, Edit::Set, "foo/unix/bogus=X"),
            "invalid service attribute name: \"bogus\""
        );
    }

    #[test]
    fn param_requests() {
        let r = request(Mode::Params, Edit::Remove, "bar/unix/xxx").expect("ok");
        assert_eq!(r.change, Change::RemoveParam("xxx".into()));
        assert_eq!(
            err(Mode::Params, Edit::Set, "foo/unix/a=b c"),
            "-Pe does not accept whitespace in parameter value"
        );
        assert_eq!(
            err(Mode::Params, Edit::Set, "foo/unix/*=b"),
            "-Pe does not accept wild-card parameter name"
        );
        assert_eq!(
            err(Mode::Params, Edit::Set, "foo/unix/a"),
            "missing '=' after attribute name: \"foo/unix/a\""
        );
    }
}
