//! `main.cf`: reading and in-place editing, exactly as Postfix does it.
//!
//! Reading follows `readllines` + `split_nameval`: a line whose first
//! non-blank character is `#` is a comment, blank lines are skipped, a line
//! that starts with white space continues the previous logical line (the
//! newline is dropped, the leading white space kept), and each logical
//! line is `name = value`. A later setting overrides an earlier one, with
//! a warning. Editing (`postconf -e`, `-X`, `-#`) rewrites the file
//! line by line, keeping comments and order, and replaces it atomically.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// Problems that make main.cf unusable; Display is Postfix's fatal text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("open {path}: {}", crate::io_reason(source))]
    Open { path: String, source: io::Error },
    #[error("{path}, line {line}: {reason}: \"{text}\"")]
    Syntax {
        path: String,
        line: usize,
        reason: &'static str,
        text: String,
    },
    #[error("{0}")]
    EditRequest(String),
    #[error("write {path}: {}", crate::io_reason(source))]
    Write { path: String, source: io::Error },
}

/// One `name = value` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub value: String,
    /// First physical line of the logical line, counting from 1.
    pub line: usize,
}

/// A parsed main.cf.
#[derive(Debug, Clone, Default)]
pub struct MainCf {
    /// The path as Postfix prints it: `$config_directory/main.cf`.
    path: String,
    /// Effective settings in order of first appearance, last value wins.
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    warnings: Vec<String>,
}

/// A logical line: its text and the number of its first physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    pub text: String,
    pub line: usize,
}

/// The path of main.cf in `config_dir`, spelled as Postfix spells it.
pub fn path_in(config_dir: &Path) -> String {
    format!("{}/main.cf", config_dir.display())
}

/// Split text into logical lines. Text before the first line that starts
/// in column one cannot continue anything; it is reported in `orphans`.
pub fn logical_lines(text: &str) -> (Vec<LogicalLine>, Vec<String>) {
    let mut lines: Vec<LogicalLine> = Vec::new();
    let mut orphans = Vec::new();
    let mut orphan: Option<String> = None;
    for (n, physical) in text.lines().enumerate() {
        let trimmed = physical.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.len() == physical.len() {
            if let Some(o) = orphan.take() {
                orphans.push(o);
            }
            lines.push(LogicalLine {
                text: physical.to_string(),
                line: n + 1,
            });
        } else if let Some(o) = orphan.as_mut() {
            o.push_str(physical);
        } else if let Some(last) = lines.last_mut() {
            last.text.push_str(physical);
        } else {
            orphan = Some(physical.to_string());
        }
    }
    orphans.extend(orphan);
    (lines, orphans)
}

/// At most `max` bytes of `text` (on a character boundary), with `...`
/// when cut, as Postfix quotes long input in warnings.
pub fn abbreviate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Postfix's `split_nameval`: `name = value` with optional white space.
pub fn split_nameval(text: &str) -> Result<(&str, &str), &'static str> {
    let text = text.trim_start();
    let name_len = text
        .find(|c: char| c.is_ascii_whitespace() || c == '=')
        .unwrap_or(text.len());
    if name_len == 0 {
        return Err("missing attribute name");
    }
    let (name, rest) = text.split_at(name_len);
    let Some(rest) = rest.trim_start().strip_prefix('=') else {
        return Err("missing '=' after attribute name");
    };
    Ok((name, rest.trim_start().trim_end()))
}

impl MainCf {
    /// Read `$config_dir/main.cf`.
    pub fn read(config_dir: &Path) -> Result<MainCf, Error> {
        let path = path_in(config_dir);
        let bytes = std::fs::read(&path).map_err(|source| Error::Open {
            path: path.clone(),
            source,
        })?;
        MainCf::parse(path, &String::from_utf8_lossy(&bytes))
    }

    /// Parse main.cf text; `path` is used in messages.
    pub fn parse(path: String, text: &str) -> Result<MainCf, Error> {
        match MainCf::parse_until_error(path, text) {
            (cf, None) => Ok(cf),
            (_, Some(err)) => Err(err),
        }
    }

    /// Parse up to the first malformed line: the settings and warnings
    /// before it, and the error, as Postfix's dict_load_fp stops there.
    pub fn parse_until_error(path: String, text: &str) -> (MainCf, Option<Error>) {
        let mut cf = MainCf {
            path,
            ..MainCf::default()
        };
        let (lines, orphans) = logical_lines(text);
        for orphan in orphans {
            cf.warnings.push(format!(
                "{}: logical line must not start with whitespace: \"{}\"",
                cf.path,
                abbreviate(&orphan, 30)
            ));
        }
        for LogicalLine { text, line } in &lines {
            // Postfix works on C strings: a NUL byte ends the line.
            let text = text.split('\0').next().unwrap_or_default();
            match split_nameval(text) {
                Ok((name, value)) => cf.set(name, value, *line),
                Err(reason) => {
                    let err = Error::Syntax {
                        path: cf.path.clone(),
                        line: *line,
                        reason,
                        text: text.to_string(),
                    };
                    return (cf, Some(err));
                }
            }
        }
        (cf, None)
    }

    fn set(&mut self, name: &str, value: &str, line: usize) {
        if let Some(&i) = self.index.get(name) {
            let old = &self.entries[i];
            // Postfix says nothing when the value is the same.
            if old.value != value {
                self.warnings.push(format!(
                    "{}, line {line}: overriding earlier entry: {}={}",
                    self.path, old.name, old.value
                ));
            }
            self.entries[i].value = value.to_string();
            self.entries[i].line = line;
        } else {
            self.index.insert(name.to_string(), self.entries.len());
            self.entries.push(Entry {
                name: name.to_string(),
                value: value.to_string(),
                line,
            });
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The value main.cf gives `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.index
            .get(name)
            .map(|&i| self.entries[i].value.as_str())
    }

    /// Effective settings, in order of first appearance.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Non-fatal problems found while reading, formatted as Postfix logs them.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// What `postconf -e`, `-X` or `-#` does to main.cf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditMode {
    Set,
    Remove,
    CommentOut,
}

/// Parsed edit requests: for `Set`, `name=value` pairs; otherwise names.
#[derive(Debug, Clone)]
struct Request {
    name: String,
    value: String,
    found: usize,
}

/// Check the command-line arguments of an edit and turn them into
/// requests, with Postfix's fatal messages and the warning it gives when a
/// name is repeated.
fn requests(mode: EditMode, args: &[String]) -> Result<(Vec<Request>, Vec<String>), Error> {
    let mut reqs: Vec<Request> = Vec::new();
    let mut warnings = Vec::new();
    for arg in args {
        if arg.contains('\n') {
            return Err(Error::EditRequest(
                "-e, -X, or -# accepts no multi-line input".into(),
            ));
        }
        let text = arg.trim_start();
        if text.starts_with('#') {
            return Err(Error::EditRequest(
                "-e, -X, or -# accepts no comment input".into(),
            ));
        }
        let (name, value) = match mode {
            EditMode::Set => split_nameval(text)
                .map_err(|reason| Error::EditRequest(format!("{reason}: \"{text}\"")))?,
            EditMode::Remove | EditMode::CommentOut => {
                if text.is_empty() {
                    return Err(Error::EditRequest(
                        "-X or -# requires non-blank parameter names".into(),
                    ));
                }
                if text.contains('=') {
                    return Err(Error::EditRequest(
                        "-X or -# requires parameter names without value".into(),
                    ));
                }
                (text.trim_end(), "")
            }
        };
        if let Some(pos) = reqs.iter().position(|r| r.name == name) {
            let old = reqs.remove(pos);
            warnings.push(format!(
                "ignoring earlier request: '{} = {}'",
                old.name,
                if mode == EditMode::Set {
                    &old.value
                } else {
                    "(null)"
                }
            ));
        }
        reqs.push(Request {
            name: name.to_string(),
            value: value.to_string(),
            found: 0,
        });
    }
    Ok((reqs, warnings))
}

/// Apply an edit to main.cf text. Returns the new text and warnings.
pub fn edit_text(
    path: &str,
    text: &str,
    mode: EditMode,
    args: &[String],
) -> Result<(String, Vec<String>), Error> {
    let (mut reqs, mut warnings) = requests(mode, args)?;
    let mut out = String::with_capacity(text.len() + 64);
    let mut interesting = false;
    for physical in text.split_inclusive('\n') {
        let line = if physical.ends_with('\n') {
            physical.to_string()
        } else {
            format!("{physical}\n")
        };
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            out.push_str(&line);
            continue;
        }
        if content.len() < line.len() {
            // A continuation line belongs to the entry above it.
            if !interesting {
                out.push_str(&line);
            } else if mode == EditMode::CommentOut {
                out.push('#');
                out.push_str(&line);
            }
            continue;
        }
        let key_len = content
            .find(|c: char| c.is_ascii_whitespace() || c == '=')
            .unwrap_or(content.len());
        let key = &content[..key_len];
        let Some(req) = reqs.iter_mut().find(|r| r.name == key) else {
            interesting = false;
            out.push_str(&line);
            continue;
        };
        interesting = true;
        req.found += 1;
        if req.found == 2 {
            warnings.push(format!("{path}: multiple entries for \"{key}\""));
        }
        match mode {
            EditMode::Set => out.push_str(&format!("{key} = {}\n", req.value)),
            EditMode::CommentOut => {
                out.push('#');
                out.push_str(&line);
            }
            EditMode::Remove => {}
        }
    }
    if mode == EditMode::Set {
        // Postfix 3.7 appends new settings in its hash table's order.
        let size = args.len();
        for name in crate::htable::order(size, reqs.iter().map(|r| r.name.as_str())) {
            if let Some(req) = reqs.iter().find(|r| r.name == name && r.found == 0) {
                out.push_str(&format!("{} = {}\n", req.name, req.value));
            }
        }
    }
    Ok((out, warnings))
}

/// Apply an edit to `$config_dir/main.cf` in place, atomically.
pub fn edit_file(config_dir: &Path, mode: EditMode, args: &[String]) -> Result<Vec<String>, Error> {
    let path = path_in(config_dir);
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(source) => {
            return Err(Error::Open {
                path: format!("{path} for reading"),
                source,
            });
        }
    };
    let (new_text, warnings) = edit_text(&path, &text, mode, args)?;
    crate::atomic::write(&PathBuf::from(&path), new_text.as_bytes())
        .map_err(|source| Error::Write { path, source })?;
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MainCf, Error> {
        MainCf::parse("./main.cf".to_string(), text)
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn continuation_comments_and_blank_lines() {
        let cf = parse("x=1\n  # comment inside\n   continued\ny = 2 # not comment\n\n#c\n")
            .expect("parses");
        assert_eq!(cf.get("x"), Some("1   continued"));
        assert_eq!(cf.get("y"), Some("2 # not comment"));
        let cf = parse("x = 1\n\n  cont\n").expect("parses");
        assert_eq!(cf.get("x"), Some("1  cont"));
    }

    #[test]
    fn later_settings_override_with_a_warning() {
        let cf = parse("x = 3\nx = 3\n").expect("parses");
        assert!(cf.warnings().is_empty(), "same value, no warning");
        let cf = parse("x = 1\ny = 2\nx = 3\n").expect("parses");
        assert_eq!(cf.get("x"), Some("3"));
        assert_eq!(cf.entries()[0].name, "x");
        assert_eq!(
            cf.warnings(),
            ["./main.cf, line 3: overriding earlier entry: x=1"]
        );
    }

    #[test]
    fn leading_whitespace_at_start_is_warned_and_skipped() {
        let cf = parse("   this is a very long orphan continuation\nx=1\n").expect("parses");
        assert_eq!(
            cf.warnings(),
            [
                "./main.cf: logical line must not start with whitespace: \"   this is a very long orphan ...\""
            ]
        );
        let cf = parse(" indented = 1\nx=1\n").expect("parses");
        assert_eq!(cf.get("indented"), None);
        assert_eq!(
            cf.warnings(),
            ["./main.cf: logical line must not start with whitespace: \" indented = 1\""]
        );
    }

    #[test]
    fn syntax_errors_name_file_and_first_line() {
        let err = parse("x = 1\nfoo\n bar\n\n baz\n").expect_err("bad line");
        assert_eq!(
            err.to_string(),
            "./main.cf, line 2: missing '=' after attribute name: \"foo bar baz\""
        );
        let err = parse("bad line   \n").expect_err("bad line");
        assert_eq!(
            err.to_string(),
            "./main.cf, line 1: missing '=' after attribute name: \"bad line   \""
        );
        let err = parse("= bar\n").expect_err("no name");
        assert_eq!(
            err.to_string(),
            "./main.cf, line 1: missing attribute name: \"= bar\""
        );
    }

    #[test]
    fn values_are_trimmed() {
        let cf = parse("a=b\nc   =   d e  \t\ne =\n").expect("parses");
        assert_eq!(cf.get("a"), Some("b"));
        assert_eq!(cf.get("c"), Some("d e"));
        assert_eq!(cf.get("e"), Some(""));
    }

    #[test]
    fn edit_replaces_in_place_and_appends_in_postfix_order() {
        let text = "# head\nmyhostname = a\n  continued\n# keep\nrelayhost = x\n";
        let (out, warnings) = edit_text(
            "./main.cf",
            text,
            EditMode::Set,
            &args(&["zz = 1", "myhostname=b", "aa=2"]),
        )
        .expect("edit");
        // The order of new settings is Postfix's hash order (NORANDOMIZE).
        assert_eq!(
            out,
            "# head\nmyhostname = b\n# keep\nrelayhost = x\nzz = 1\naa = 2\n"
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn edit_remove_and_comment_out() {
        let text = "a = 1\n  more\nb = 2\na = 3\n";
        let (out, warnings) =
            edit_text("./main.cf", text, EditMode::Remove, &args(&["a"])).expect("edit");
        assert_eq!(out, "b = 2\n");
        assert_eq!(warnings, ["./main.cf: multiple entries for \"a\""]);
        let (out, _) =
            edit_text("./main.cf", text, EditMode::CommentOut, &args(&["a"])).expect("edit");
        assert_eq!(out, "#a = 1\n#  more\nb = 2\n#a = 3\n");
    }

    #[test]
    fn edit_requests_are_checked() {
        for (mode, arg, msg) in [
            (
                EditMode::Set,
                "x",
                "missing '=' after attribute name: \"x\"",
            ),
            (
                EditMode::Set,
                "# x=1",
                "-e, -X, or -# accepts no comment input",
            ),
            (
                EditMode::Remove,
                "x=1",
                "-X or -# requires parameter names without value",
            ),
            (
                EditMode::Remove,
                " ",
                "-X or -# requires non-blank parameter names",
            ),
            (
                EditMode::Set,
                "a=1\nb=2",
                "-e, -X, or -# accepts no multi-line input",
            ),
        ] {
            let err = edit_text("./main.cf", "", mode, &args(&[arg])).expect_err(arg);
            assert_eq!(err.to_string(), msg);
        }
    }

    #[test]
    fn repeated_edit_request_keeps_the_last() {
        let (out, warnings) =
            edit_text("./main.cf", "", EditMode::Set, &args(&["a=1", "a=2"])).expect("edit");
        assert_eq!(out, "a = 2\n");
        assert_eq!(warnings, ["ignoring earlier request: 'a = 1'"]);
    }

    #[test]
    fn no_panic_on_odd_input() {
        for text in [
            "",
            "\n",
            "=",
            " = ",
            "\u{0}",
            "a=\u{fffd}",
            "#",
            " #x\n y",
            "a\tb=c",
        ] {
            let _ = parse(text);
            let _ = edit_text("./main.cf", text, EditMode::Set, &args(&["a=b"]));
        }
    }
}
