//! The line-by-line pass of an edit: copy what is not touched, print
//! what changes, and count which requests matched.

use super::edit::{Change, Request, Tentative};
use super::lines::{Physical, bytes_of, physical, text_of};
use super::{Error, Pattern, Service, Warning, args, format};

/// What happens to the continuation lines of the current entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matched {
    No,
    CommentOut,
    Drop,
}

pub(super) struct Editor<'a> {
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
    pub(super) fn new(text: &'a [u8], path: &'a str, requests: usize) -> Editor<'a> {
        Editor {
            lines: physical(text),
            next: 0,
            out: Vec::with_capacity(text.len() + 100),
            counts: vec![0; requests],
            path,
            lineno: 0,
        }
    }

    /// Copy or change every line; afterwards [`Editor::counts`] says how
    /// often each request matched.
    pub(super) fn run(
        &mut self,
        requests: &[Request],
        tentative: &[Option<Tentative>],
        warn: &mut dyn FnMut(Warning),
    ) -> Result<(), Error> {
        let mut state = Matched::No;
        while let Some(line) = self.read() {
            if line.is_passive() {
                self.copy(line, "");
            } else if line.is_continuation() {
                match state {
                    Matched::No => self.copy(line, ""),
                    Matched::CommentOut => self.copy(line, "#"),
                    Matched::Drop => {}
                }
            } else {
                state = self.entry(line, requests, tentative, warn)?;
            }
        }
        Ok(())
    }

    pub(super) fn counts(&self) -> &[usize] {
        &self.counts
    }

    pub(super) fn into_output(self) -> Vec<u8> {
        self.out
    }
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

    pub(super) fn write_entry(&mut self, entry: &Service) {
        // Postfix would glue the entry to an unterminated last line.
        if self.out.last().is_some_and(|&b| b != b'\n') {
            self.out.push(b'\n');
        }
        self.out
            .extend_from_slice(&bytes_of(&format::entry(entry, true, None)));
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
        let text = text_of(line.bytes);
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
        let mut text = text_of(first.bytes);
        text.push('\n');
        while let Some(&line) = self.lines.get(self.next).filter(|l| l.joins_previous()) {
            self.next += 1;
            if line.is_passive() {
                self.copy(line, "");
                continue;
            }
            text.push_str(&text_of(line.bytes));
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
    use crate::master_cf::edit::Change;
    use crate::master_cf::edit::tests::{edited, req, run};

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
