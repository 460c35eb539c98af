//! Printing entries the way postconf prints them: the eight columns at
//! fixed positions, then the arguments, with `-o name=value` pairs on
//! lines of their own when folding (`postconf -Mf`, and always when
//! postconf writes an edited entry back to master.cf).

use super::args::{has_blank, is_option, takes_value};
use super::{Field, MIN_FIELDS, Service};

/// Fold lines that would get longer than this.
pub const LINE_LIMIT: usize = 80;
const INDENT: &str = "    ";

/// Where each of the eight columns should start.
const COLUMN_GOAL: [usize; MIN_FIELDS] = [0, 11, 17, 25, 33, 41, 49, 57];

/// Expands `$name` in a `-o` value (`postconf -x`).
pub type Expand<'a> = &'a dyn Fn(&str) -> String;

/// One entry as `postconf -M` (or `-Mf` with `fold`) prints it, with its
/// newline.
pub fn entry(service: &Service, fold: bool, expand: Option<Expand<'_>>) -> String {
    let words = service.words();
    let mut out = Line::default();
    for (word, goal) in words.iter().zip(COLUMN_GOAL) {
        if out.len > 0 {
            out.push(" ");
            while out.len < goal {
                out.push(" ");
            }
        }
        out.push(word);
    }
    out.arguments(&words[MIN_FIELDS..], fold, expand, 3);
    out.text.push('\n');
    out.text
}

/// One `name/type/field = value` line as `postconf -F` prints it (just
/// the value without `show_name`), with its newline.
pub fn field(
    service: &Service,
    field: Field,
    show_name: bool,
    fold: bool,
    expand: Option<Expand<'_>>,
) -> String {
    let mut out = Line::default();
    let value = service.field_text(field);
    if show_name {
        out.push(service.name());
        out.push("/");
        out.push(service.kind_text());
        out.push("/");
        out.push(field.name());
        out.push(" = ");
        // Postfix breaks here even without -f.
        if out.len + value.len() > LINE_LIMIT {
            out.break_line();
        }
    }
    out.push(value);
    if field == Field::Command {
        out.arguments(service.args(), fold, expand, 1);
    }
    out.text.push('\n');
    out.text
}

/// Output text and the length of its current line.
#[derive(Default)]
struct Line {
    text: String,
    len: usize,
}

impl Line {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.len += s.len();
    }

    fn break_line(&mut self) {
        self.text.push('\n');
        self.text.push_str(INDENT);
        self.len = INDENT.len();
    }

    /// The daemon options and other arguments. An option with a value
    /// stays on one line with it and, when folding, gets a line of its
    /// own. Arguments with blanks get `{}`, except (as in Postfix) the
    /// first non-option argument. `extra` is what Postfix adds to the
    /// length of an option with a value (3 for -M, 1 for -F).
    fn arguments(&mut self, args: &[String], fold: bool, expand: Option<Expand<'_>>, extra: usize) {
        let mut in_options = true;
        let mut i = 0;
        while let Some(arg) = args.get(i) {
            let mut arg_len = arg.len();
            let mut value = None;
            let mut braces = false;
            if !in_options {
                braces = has_blank(arg);
            } else if !is_option(arg) {
                in_options = false;
            } else if let Some(next) = args.get(i + 1).filter(|_| takes_value(arg)) {
                // Force a line break before an option with a value.
                self.len = LINE_LIMIT;
                let shown = match expand {
                    Some(expand) if arg == "-o" => expand(next),
                    _ => next.clone(),
                };
                arg_len += shown.len() + extra;
                braces = has_blank(&shown);
                if braces {
                    arg_len += 2;
                }
                value = Some(shown);
            }
            if self.len > INDENT.len() {
                if !fold || self.len + 1 + arg_len < LINE_LIMIT {
                    self.push(" ");
                } else {
                    self.break_line();
                }
            }
            let wrap = !in_options && braces;
            self.push_braced(arg, wrap);
            if let Some(value) = value {
                self.push(" ");
                self.push_braced(&value, braces);
                i += 1;
                // Force a line break after an option with a value.
                self.len = LINE_LIMIT;
            }
            i += 1;
        }
    }

    fn push_braced(&mut self, text: &str, braces: bool) {
        if braces {
            self.push("{");
        }
        self.push(text);
        if braces {
            self.push("}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(text: &str) -> Service {
        Service::from_text(text, &mut |_| {}).expect("valid entry")
    }

    #[test]
    fn columns_line_up() {
        let s = service("foo inet - n n - 0 spawn");
        assert_eq!(
            entry(&s, false, None),
            "foo        inet  -       n       n       -       0       spawn\n"
        );
        let s = service("x unix-dgram - - - - - foo");
        assert_eq!(
            entry(&s, true, None),
            "x          unix-dgram -  -       -       -       -       foo\n"
        );
    }

    #[test]
    fn folding_puts_each_option_value_on_its_own_line() {
        let s = service("foo unix - n n - 0 other -voaaa=bbb -vo ccc=$aaa -v -oddd=$ccc");
        assert_eq!(
            entry(&s, true, None),
            "foo        unix  -       n       n       -       0       other -v\n    \
             -o aaa=bbb\n    -v\n    -o ccc=$aaa\n    -v\n    -o ddd=$ccc\n"
        );
        assert_eq!(
            entry(&s, false, None),
            "foo        unix  -       n       n       -       0       other -v -o aaa=bbb -v \
             -o ccc=$aaa -v -o ddd=$ccc\n"
        );
    }

    #[test]
    fn braces_except_for_the_first_plain_argument() {
        let s = service(
            "bar inet - n n 0 0 other -o name1=value1 -o { name2 = value2a value2b } \
             { arg1a arg1b } { arg2a arg2b } { arg3a arg3b }",
        );
        assert_eq!(
            entry(&s, true, None),
            "bar        inet  -       n       n       0       0       other\n    \
             -o name1=value1\n    -o {name2=value2a value2b}\n    \
             arg1a arg1b {arg2a arg2b} {arg3a arg3b}\n"
        );
    }

    #[test]
    fn expansion_applies_to_o_values_only() {
        let s = service("foo unix - n n - 0 other -o a=$x - $y");
        let expand = |v: &str| v.replace("$x", "1").replace("$y", "2");
        assert_eq!(
            entry(&s, true, Some(&expand)),
            "foo        unix  -       n       n       -       0       other\n    -o a=1\n    - $y\n"
        );
    }

    #[test]
    fn fields_with_and_without_names() {
        let s = service("foo unix - n n - 0 pipe flags=R -o x");
        assert_eq!(
            field(&s, Field::Command, true, false, None),
            "foo/unix/command = pipe flags=R -o x\n"
        );
        // Postfix adds no space after a command of four bytes or less.
        assert_eq!(
            field(&s, Field::Command, false, false, None),
            "pipeflags=R -o x\n"
        );
        assert_eq!(
            field(&s, Field::Private, true, false, None),
            "foo/unix/private = -\n"
        );
        let s = service("baz unix - n n - 0 a -o b=c d");
        assert_eq!(
            field(&s, Field::Command, false, true, None),
            "a\n    -o b=c\n    d\n"
        );
    }

    #[test]
    fn long_names_break_before_the_value() {
        let name = "v".repeat(76);
        let s = service(&format!("{name} unix - n n - 0 command"));
        assert_eq!(
            field(&s, Field::Command, true, false, None),
            format!("{name}/unix/command = \n    command\n")
        );
    }
}
