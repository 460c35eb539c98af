//! Rewriting master.cf in place, as `postconf -M/-F/-P` with `-e`, `-X`
//! or `-#` does: comments, blank lines and untouched entries are copied
//! byte for byte; changed entries are printed in folded form.
//!
//! The rules follow Postfix 3.7's `pcf_edit_master()`, quirks included
//! where they are visible in the output (see the comments below).

use super::lines::{Physical, physical};
use super::{Error, Field, MIN_FIELDS, Pattern, Service, Warning, args, format};

/// One command-line request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The argument as given; it appears in messages.
    pub raw: String,
    pub pattern: Pattern,
    pub change: Change,
}

/// What a request does to the entries it matches. Postfix makes all the
/// requests of one run the same kind; mixing kinds is allowed here but
/// has no Postfix equivalent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `-Me name/type=entry`: the first entry that matches the pattern (or
    /// has the new entry's name and type) is replaced, later ones are
    /// removed; with no match the entry is appended.
    Entry(String),
    /// `-MX`: remove matching entries.
    Remove,
    /// `-M#`: comment out matching entries.
    CommentOut,
    /// `-Fe name/type/field=value`.
    Field(Field, String),
    /// `-Pe name/type/param=value`: update every `-o param=...`, or add one.
    SetParam(String, String),
    /// `-PX name/type/param`: remove every `-o param=...`.
    RemoveParam(String),
}

impl Change {
    fn edits_in_place(&self) -> bool {
        matches!(
            self,
            Change::Field(..) | Change::SetParam(..) | Change::RemoveParam(_)
        )
    }
}

impl Service {
    /// Replace one column, or the command and its arguments. The result
    /// is checked like a new entry; errors name `value`.
    pub fn set_field(
        &mut self,
        field: Field,
        value: &str,
        warn: &mut dyn FnMut(Warning),
    ) -> Result<(), Error> {
        let mut argv = self.argv.clone();
        if field == Field::Command {
            argv.truncate(MIN_FIELDS - 1);
            argv.extend(args::split_quoted(value));
            if argv.len() < MIN_FIELDS {
                return Err(Error::FieldCount);
            }
            args::normalize(&mut argv, MIN_FIELDS, warn);
        } else {
            argv[field as usize] = value.to_string();
        }
        // Postfix lets an empty column through by accident (and then
        // writes a file it cannot read back); refuse it.
        if argv[..MIN_FIELDS].iter().any(String::is_empty) {
            return Err(Error::InvalidField {
                field,
                value: String::new(),
                text: value.to_string(),
                at: None,
            });
        }
        let line = self.line;
        *self = Service::checked(argv, value)?;
        self.line = line;
        Ok(())
    }

    /// Set every `-o name=...` in the option section to `name=value`, or
    /// add `-o name=value` at the end of the option section.
    pub fn set_param(&mut self, name: &str, value: &str) {
        let setting = format!("{name}={value}");
        let (found, end) = self.visit_params(name, |argv, i| {
            argv[i + 1] = setting.clone();
            i + 2
        });
        if !found {
            self.argv.insert(end, "-o".to_string());
            self.argv.insert(end + 1, setting);
        }
    }

    /// Remove every `-o name=...` from the option section.
    pub fn remove_param(&mut self, name: &str) {
        self.visit_params(name, |argv, i| {
            argv.drain(i..i + 2);
            i
        });
    }

    /// Call `on_match` for each `-o name=...` in the option section; it
    /// returns where to continue. Gives whether any matched, and where
    /// the option section ends.
    fn visit_params(
        &mut self,
        name: &str,
        mut on_match: impl FnMut(&mut Vec<String>, usize) -> usize,
    ) -> (bool, usize) {
        let mut found = false;
        let mut i = MIN_FIELDS;
        while i < self.argv.len() && args::is_option(&self.argv[i]) {
            if !args::takes_value(&self.argv[i]) || i + 1 == self.argv.len() {
                i += 1;
                continue;
            }
            let is_match = self.argv[i] == "-o"
                && self.argv[i + 1]
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('='));
            if is_match {
                found = true;
                i = on_match(&mut self.argv, i);
            } else {
                i += 2;
            }
        }
        (found, i)
    }
}

/// A `-Me` request's new entry, parsed once; Postfix parses it again for
/// every entry it compares with, repeating any warnings.
struct Tentative {
    entry: Result<Service, Error>,
    warnings: Vec<Warning>,
    raw: String,
}

impl Tentative {
    fn parse(request: &Request) -> Option<Tentative> {
        let Change::Entry(text) = &request.change else {
            return None;
        };
        let mut warnings = Vec::new();
        let entry = Service::from_text(text, &mut |w| warnings.push(w));
        Some(Tentative {
            entry,
            warnings,
            raw: request.raw.clone(),
        })
    }

    /// The entry, replaying the parse warnings as Postfix would.
    fn get(&self, warn: &mut dyn FnMut(Warning)) -> Result<&Service, Error> {
        for w in &self.warnings {
            warn(w.clone());
        }
        match &self.entry {
            Ok(entry) => Ok(entry),
            Err(Error::InvalidField {
                field, value, text, ..
            }) => Err(Error::InvalidField {
                field: *field,
                value: value.clone(),
                text: text.clone(),
                at: None,
            }),
            Err(other) => Err(Error::Request {
                detail: other.to_string(),
                raw: self.raw.clone(),
            }),
        }
    }
}

/// Apply `requests` to the contents of master.cf (`path` is for
/// messages) and give the new contents.
pub fn apply(
    text: &[u8],
    path: &str,
    requests: &[Request],
    warn: &mut dyn FnMut(Warning),
) -> Result<Vec<u8>, Error> {
    let tentative: Vec<Option<Tentative>> = requests.iter().map(Tentative::parse).collect();
    let mut editor = Editor {
        lines: physical(text),
        next: 0,
        out: Vec::with_capacity(text.len() + 100),
        counts: vec![0; requests.len()],
        path,
        lineno: 0,
    };
    let mut state = Matched::No;
    while let Some(line) = editor.read() {
        if line.is_passive() {
            editor.copy(line, "");
        } else if line.is_continuation() {
            match state {
                Matched::No => editor.copy(line, ""),
                Matched::CommentOut => editor.copy(line, "#"),
                Matched::Drop => {}
            }
        } else {
            state = editor.entry(line, requests, &tentative, warn)?;
        }
    }
    let counts = std::mem::take(&mut editor.counts);
    for ((request, tentative), count) in requests.iter().zip(&tentative).zip(counts) {
        if count > 0 {
            continue;
        }
        match tentative {
            Some(t) => {
                let entry = t.get(warn)?;
                editor.write_entry(entry);
            }
            None if request.change.edits_in_place() => warn(Warning::Unmatched {
                raw: request.raw.clone(),
            }),
            None => {}
        }
    }
    Ok(editor.out)
}

/// What happens to the continuation lines of the current entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matched {
    No,
    CommentOut,
    Drop,
}

struct Editor<'a> {
    lines: Vec<Physical<'a>>,
    next: usize,
    out: Vec<u8>,
    counts: Vec<usize>,
    path: &'a str,
    /// Postfix's line counter. Lines swallowed while collecting an entry
    /// to edit are not counted (a Postfix bug we keep, since the number
    /// shows in error messages).
    lineno: usize,
}

impl<'a> Editor<'a> {
    fn read(&mut self) -> Option<Physical<'a>> {
        let line = *self.lines.get(self.next)?;
        self.next += 1;
        self.lineno += 1;
        Some(line)
    }

    fn copy(&mut self, line: Physical<'_>, prefix: &str) {
        self.out.extend_from_slice(prefix.as_bytes());
        self.out.extend_from_slice(line.bytes);
        if line.newline {
            self.out.push(b'\n');
        }
    }

    fn write_entry(&mut self, entry: &Service) {
        // Postfix would glue the entry to an unterminated last line.
        if self.out.last().is_some_and(|&b| b != b'\n') {
            self.out.push(b'\n');
        }
        self.out
            .extend_from_slice(format::entry(entry, true, None).as_bytes());
    }

    /// Handle the first line of an entry; give what to do with its
    /// continuation lines.
    fn entry(
        &mut self,
        line: Physical<'a>,
        requests: &[Request],
        tentative: &[Option<Tentative>],
        warn: &mut dyn FnMut(Warning),
    ) -> Result<Matched, Error> {
        let text = String::from_utf8_lossy(line.bytes).into_owned();
        let (name, kind) = self.name_and_type(&text)?;
        let mut matched = None;
        let mut new_entry: Option<Service> = None;
        for (r, request) in requests.iter().enumerate() {
            let candidate = match &tentative[r] {
                Some(t) => Some(t.get(warn)?),
                None => None,
            };
            let mut use_candidate = false;
            if request.pattern.matches(&name, &kind) {
                self.counts[r] += 1;
                matched = Some(&request.change);
                if request.change.edits_in_place() {
                    if new_entry.is_none() {
                        new_entry = Some(self.collect(line, warn)?);
                    }
                    if let Some(entry) = new_entry.as_mut() {
                        edit_in_place(entry, request, warn)?;
                    }
                } else {
                    use_candidate = self.counts[r] == 1;
                }
            } else if let Some(c) = candidate {
                // The new entry replaces an entry with its own name/type.
                if Pattern::exact(c.name(), c.kind_text()).matches(&name, &kind) {
                    self.counts[r] += 1;
                    matched = Some(&request.change);
                    use_candidate = self.counts[r] == 1;
                }
            }
            if let Some(c) = candidate.filter(|_| use_candidate) {
                new_entry = Some(c.clone());
            }
        }
        Ok(self.finish_entry(line, matched, new_entry))
    }

    fn finish_entry(
        &mut self,
        line: Physical<'_>,
        matched: Option<&Change>,
        new_entry: Option<Service>,
    ) -> Matched {
        if let Some(entry) = new_entry {
            self.write_entry(&entry);
            return Matched::Drop;
        }
        match matched {
            None => {
                self.copy(line, "");
                Matched::No
            }
            Some(Change::CommentOut) => {
                self.copy(line, "#");
                Matched::CommentOut
            }
            Some(_) => Matched::Drop,
        }
    }

    /// The first two words of an entry's first line, checked as Postfix
    /// checks them before editing.
    fn name_and_type(&self, text: &str) -> Result<(String, String), Error> {
        let mut words = text
            .split(|c: char| c.is_ascii() && args::is_blank(c as u8))
            .filter(|w| !w.is_empty());
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            return Err(Error::NameAndType {
                path: self.path.to_string(),
                line: self.lineno,
            });
        };
        if name.contains('=') {
            return Err(Error::NameSyntax {
                path: self.path.to_string(),
                line: self.lineno,
                name: name.to_string(),
            });
        }
        if kind.contains(['=', '/']) {
            return Err(Error::TypeSyntax {
                path: self.path.to_string(),
                line: self.lineno,
                kind: kind.to_string(),
            });
        }
        Ok((name.to_string(), kind.to_string()))
    }

    /// Read the rest of the entry that starts with `first` and parse it.
    /// Comment and blank lines met on the way are copied out now, so they
    /// end up before the rewritten entry.
    fn collect(
        &mut self,
        first: Physical<'_>,
        warn: &mut dyn FnMut(Warning),
    ) -> Result<Service, Error> {
        let mut text = String::from_utf8_lossy(first.bytes).into_owned();
        text.push('\n');
        while let Some(&line) = self.lines.get(self.next).filter(|l| l.joins_previous()) {
            self.next += 1;
            if line.is_passive() {
                self.copy(line, "");
                continue;
            }
            text.push_str(&String::from_utf8_lossy(line.bytes));
            if line.newline {
                text.push('\n');
            }
        }
        Service::from_text(&text, warn).map_err(|e| match e {
            Error::FieldCount => Error::FieldCountAt {
                path: self.path.to_string(),
                line: self.lineno,
            },
            other => other,
        })
    }
}

fn edit_in_place(
    entry: &mut Service,
    request: &Request,
    warn: &mut dyn FnMut(Warning),
) -> Result<(), Error> {
    match &request.change {
        Change::Field(field, value) => entry.set_field(*field, value, warn).map_err(|e| match e {
            Error::FieldCount => Error::Request {
                detail: "bad field count".to_string(),
                raw: request.raw.clone(),
            },
            other => other,
        }),
        Change::SetParam(name, value) => {
            entry.set_param(name, value);
            Ok(())
        }
        Change::RemoveParam(name) => {
            entry.remove_param(name);
            Ok(())
        }
        Change::Entry(_) | Change::Remove | Change::CommentOut => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "# header comment\nfoo unix - n n - 0 other\n# inner comment\n -o a=b\n\n \
                        -o c=d\nbar inet - n n - 0 other\n\t-v\nbaz unix - n n - 0 other\n";

    fn req(raw: &str, change: Change) -> Request {
        let pattern = raw.split('=').next().unwrap_or(raw);
        let max = if pattern.matches('/').count() >= 2 {
            3
        } else {
            2
        };
        Request {
            raw: raw.to_string(),
            pattern: Pattern::parse(pattern, 2, max).expect("pattern"),
            change,
        }
    }

    fn run(text: &str, requests: &[Request]) -> (Result<String, String>, Vec<String>) {
        let mut warnings = Vec::new();
        let result = apply(text.as_bytes(), "./master.cf", requests, &mut |w| {
            warnings.push(w.to_string())
        });
        (
            result
                .map(|b| String::from_utf8(b).expect("utf-8"))
                .map_err(|e| e.to_string()),
            warnings,
        )
    }

    fn edited(text: &str, requests: &[Request]) -> String {
        run(text, requests).0.expect("edit succeeds")
    }

    #[test]
    fn comment_out_keeps_inner_comments() {
        assert_eq!(
            edited(BASE, &[req("foo/unix", Change::CommentOut)]),
            "# header comment\n#foo unix - n n - 0 other\n# inner comment\n# -o a=b\n\n# -o c=d\n\
             bar inet - n n - 0 other\n\t-v\nbaz unix - n n - 0 other\n"
        );
    }

    #[test]
    fn remove_drops_continuations_only() {
        assert_eq!(
            edited(BASE, &[req("*/unix", Change::Remove)]),
            "# header comment\n# inner comment\n\nbar inet - n n - 0 other\n\t-v\n"
        );
    }

    #[test]
    fn field_edit_moves_inner_comments_before_the_entry() {
        assert_eq!(
            edited(
                BASE,
                &[req(
                    "foo/unix/chroot=y",
                    Change::Field(Field::Chroot, "y".into())
                )]
            ),
            "# header comment\n# inner comment\n\n\
             foo        unix  -       n       y       -       0       other\n    -o a=b\n    -o c=d\n\
             bar inet - n n - 0 other\n\t-v\nbaz unix - n n - 0 other\n"
        );
    }

    #[test]
    fn command_edit_normalizes_options() {
        let text = "foo unix - n n - 0 other\nbar unix - n n - 0 other\n";
        let out = edited(
            text,
            &[
                req(
                    "bar/unix/chroot=y",
                    Change::Field(Field::Chroot, "y".into()),
                ),
                req(
                    "bar/unix/command=aa -stuffobb=cc dd",
                    Change::Field(Field::Command, "aa -stuffobb=cc dd".into()),
                ),
            ],
        );
        assert_eq!(
            out,
            "foo unix - n n - 0 other\n\
             bar        unix  -       n       y       -       0       aa -stuff\n    -o bb=cc\n    dd\n"
        );
    }

    #[test]
    fn param_set_update_and_remove() {
        let text = "foo unix - n n - 0 x -o a=1 -v -o a=2 arg -o a=3\n";
        assert_eq!(
            edited(
                text,
                &[
                    req("foo/unix/a=9", Change::SetParam("a".into(), "9".into())),
                    req("foo/unix/b=8", Change::SetParam("b".into(), "8".into())),
                ]
            ),
            "foo        unix  -       n       n       -       0       x\n    -o a=9\n    -v\n    \
             -o a=9\n    -o b=8\n    arg -o a=3\n"
        );
        assert_eq!(
            edited(text, &[req("foo/unix/a", Change::RemoveParam("a".into()))]),
            "foo        unix  -       n       n       -       0       x -v arg -o a=3\n"
        );
    }

    #[test]
    fn unmatched_in_place_edits_warn() {
        let (out, w) = run(
            BASE,
            &[req(
                "nope/unix/a=b",
                Change::SetParam("a".into(), "b".into()),
            )],
        );
        assert_eq!(out.as_deref(), Ok(BASE));
        assert_eq!(w, vec!["unmatched service_name/type: \"nope/unix/a=b\""]);
        let (out, w) = run(BASE, &[req("nope/unix", Change::Remove)]);
        assert_eq!(out.as_deref(), Ok(BASE));
        assert!(w.is_empty());
    }

    #[test]
    fn entry_replaces_first_match_and_drops_the_rest() {
        let out = edited(
            BASE,
            &[req("*/unix", Change::Entry("a unix - - - - - h".into()))],
        );
        assert_eq!(
            out,
            "# header comment\na          unix  -       -       -       -       -       h\n\
             # inner comment\n\nbar inet - n n - 0 other\n\t-v\n"
        );
    }

    #[test]
    fn entry_replaces_its_own_name_and_type_or_is_appended() {
        let out = edited(
            BASE,
            &[req(
                "qqq/unix",
                Change::Entry("bar inet - - - - - cmd2".into()),
            )],
        );
        assert!(
            out.contains("\nbar        inet  -       -       -       -       -       cmd2\nbaz")
        );
        assert!(!out.contains("\t-v"));
        let (out, w) = run(
            "foo unix - n n - 0 x",
            &[req(
                "zz/unix",
                Change::Entry("zz unix - - - - - x {a}b".into()),
            )],
        );
        assert_eq!(
            out.as_deref(),
            Ok(
                "foo unix - n n - 0 x\nzz         unix  -       -       -       -       -       x a\n"
            )
        );
        // Parsed once per entry compared with, and once more to append.
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn bad_new_entries() {
        let (out, _) = run(BASE, &[req("foo/unix=bad", Change::Entry("bad".into()))]);
        assert_eq!(out, Err("bad field count: \"foo/unix=bad\"".to_string()));
        let (out, _) = run(
            "",
            &[req("foo/unix=x", Change::Entry("a b c d e f g h".into()))],
        );
        assert_eq!(
            out,
            Err("invalid type field \"b\" in \"a b c d e f g h\"".to_string())
        );
    }

    #[test]
    fn bad_field_values() {
        let (out, _) = run(
            BASE,
            &[req(
                "foo/unix/chroot=X",
                Change::Field(Field::Chroot, "X".into()),
            )],
        );
        assert_eq!(out, Err("invalid chroot field \"X\" in \"X\"".to_string()));
        let (out, _) = run(
            BASE,
            &[req(
                "foo/unix/chroot=",
                Change::Field(Field::Chroot, "".into()),
            )],
        );
        assert!(out.is_err());
        let (out, _) = run(
            BASE,
            &[req(
                "foo/unix/command=",
                Change::Field(Field::Command, "".into()),
            )],
        );
        assert_eq!(
            out,
            Err("bad field count: \"foo/unix/command=\"".to_string())
        );
    }

    #[test]
    fn invalid_existing_entry_is_quoted_with_spaces_for_newlines() {
        let text = "foo unix - n n - 0 other\nbar inet - n X - 0 other\n -o a=b\n#c\n -o c=d\n";
        let (out, _) = run(
            text,
            &[req(
                "bar/inet/chroot=y",
                Change::Field(Field::Chroot, "y".into()),
            )],
        );
        assert_eq!(
            out,
            Err(
                "invalid chroot field \"X\" in \"bar inet - n X - 0 other  -o a=b  -o c=d \""
                    .to_string()
            )
        );
    }

    #[test]
    fn line_errors() {
        let set = || req("foo/unix/x=y", Change::SetParam("x".into(), "y".into()));
        let (out, _) = run("foo unix - n n - 0 other\nbar\n -o a=b\n", &[set()]);
        assert_eq!(
            out,
            Err("file ./master.cf: line 2: specify service name and type on the same line".into())
        );
        let (out, _) = run(
            "foo unix - n n - 0 other\nbar inet\n -o a=b\nx=y unix\n",
            &[set()],
        );
        assert_eq!(
            out,
            Err(
                "file ./master.cf: line 4: service name syntax \"x=y\" is unsupported \
                 with -Me, -Fe, -Pe, -X, or -#"
                    .into()
            )
        );
        let (out, _) = run("foo unix - n n - 0 other\nbar in/et\n", &[set()]);
        assert!(out.is_err_and(|e| e.contains("service type syntax \"in/et\"")));
    }

    #[test]
    fn lines_swallowed_by_an_edit_are_not_counted() {
        // Postfix's own line count skips the two continuation lines.
        let text = "foo unix - n n - 0 x\n -o a=b\n -o c=d\nbar\n";
        let (out, _) = run(
            text,
            &[req(
                "foo/unix/x=y",
                Change::SetParam("x".into(), "y".into()),
            )],
        );
        assert_eq!(
            out,
            Err("file ./master.cf: line 2: specify service name and type on the same line".into())
        );
    }

    #[test]
    fn unterminated_last_lines() {
        assert_eq!(
            edited(
                "foo unix - n n - 0 x",
                &[req("foo/unix", Change::CommentOut)]
            ),
            "#foo unix - n n - 0 x"
        );
        // Postfix would write "#cfoo ..." here.
        assert_eq!(
            edited(
                "foo unix - n n - 0 x\n#c",
                &[req(
                    "foo/unix/a=b",
                    Change::SetParam("a".into(), "b".into())
                )]
            ),
            "#c\nfoo        unix  -       n       n       -       0       x\n    -o a=b\n"
        );
    }

    #[test]
    fn leading_continuation_is_copied() {
        let text = "  foo unix - n n - 0 other\nbar unix - n n - 0 x\n";
        assert_eq!(
            edited(
                text,
                &[req(
                    "bar/unix/x=y",
                    Change::SetParam("x".into(), "y".into())
                )]
            ),
            "  foo unix - n n - 0 other\nbar        unix  -       n       n       -       0       x\n    -o x=y\n"
        );
    }
}
