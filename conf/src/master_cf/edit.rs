//! Rewriting master.cf in place, as `postconf -M/-F/-P` with `-e`, `-X`
//! or `-#` does: comments, blank lines and untouched entries are copied
//! byte for byte; changed entries are printed in folded form.
//!
//! The rules follow Postfix 3.7's `pcf_edit_master()`, quirks included
//! where they are visible in the output (see the comments below).

use super::editor::Editor;
use super::{Error, Field, Pattern, Service, Warning};

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
    pub(super) fn edits_in_place(&self) -> bool {
        matches!(
            self,
            Change::Field(..) | Change::SetParam(..) | Change::RemoveParam(_)
        )
    }
}

/// A `-Me` request's new entry, parsed once; Postfix parses it again for
/// every entry it compares with, repeating any warnings.
pub(super) struct Tentative {
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
    pub(super) fn get(&self, warn: &mut dyn FnMut(Warning)) -> Result<&Service, Error> {
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
    let mut editor = Editor::new(text, path, requests.len());
    editor.run(requests, &tentative, warn)?;
    let counts = editor.counts().to_vec();
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
    Ok(editor.into_output())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const BASE: &str = "# header comment\nfoo unix - n n - 0 other\n# inner comment\n -o a=b\n\n \
                        -o c=d\nbar inet - n n - 0 other\n\t-v\nbaz unix - n n - 0 other\n";

    /// An edit request as postconf builds one from `raw` (shared with the
    /// editor's tests).
    pub(in crate::master_cf) fn req(raw: &str, change: Change) -> Request {
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

    pub(in crate::master_cf) fn run(
        text: &str,
        requests: &[Request],
    ) -> (Result<String, String>, Vec<String>) {
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

    pub(in crate::master_cf) fn edited(text: &str, requests: &[Request]) -> String {
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
    fn bytes_that_are_not_utf8_are_kept() {
        let text = b"foo unix - n n - 0 x -o a=\xff\n";
        let out = apply(
            text,
            "./master.cf",
            &[req(
                "foo/unix/b=1",
                Change::SetParam("b".into(), "1".into()),
            )],
            &mut |_| {},
        )
        .expect("edit");
        assert_eq!(
            out,
            b"foo        unix  -       n       n       -       0       x\n    -o a=\xff\n    -o b=1\n"
        );
    }
}
