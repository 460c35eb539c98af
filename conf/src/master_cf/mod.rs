//! `master.cf`: the service table, read the way Postfix 3.7 reads it.
//!
//! [`MasterCf::read`] gives one [`Service`] per logical line, with its
//! columns checked like `postconf` checks them and its daemon arguments
//! normalised (`-stuffozz` becomes `-stuff -o zz`, `-oname=value` becomes
//! `-o name=value`, `{ ... }` groups are unwrapped). master(8) uses the
//! typed accessors; postconf uses [`format`] to print entries and [`edit`]
//! to rewrite the file in place, keeping comments and order.
//!
//! Column defaults, as master(5) documents them for Postfix 3.x:
//! private `y`, unprivileged `y`, chroot `n` (it was `y` before 3.0),
//! wakeup `0` (never), process limit `$default_process_limit`.

mod args;
pub mod edit;
mod editor;
mod error;
pub mod format;
mod lines;
pub mod pattern;
mod rewrite;
mod service;

use std::path::Path;

pub use args::split_nameval;
pub use error::{Error, Warning};
pub use lines::bytes_of;
pub use pattern::Pattern;
pub use rewrite::rewrite;
pub use service::{DaemonOption, Service, Wakeup};

/// The file name as Postfix prints it in some warnings (no directory).
pub const FILE_NAME: &str = "master.cf";

/// The number of columns before the command arguments.
const MIN_FIELDS: usize = 8;

/// Column 2: how clients reach the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    Inet,
    Unix,
    UnixDgram,
    Fifo,
    Pass,
}

impl ServiceType {
    pub fn parse(text: &str) -> Option<ServiceType> {
        Some(match text {
            "inet" => ServiceType::Inet,
            "unix" => ServiceType::Unix,
            "unix-dgram" => ServiceType::UnixDgram,
            "fifo" => ServiceType::Fifo,
            "pass" => ServiceType::Pass,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Inet => "inet",
            ServiceType::Unix => "unix",
            ServiceType::UnixDgram => "unix-dgram",
            ServiceType::Fifo => "fifo",
            ServiceType::Pass => "pass",
        }
    }
}

/// One of the eight columns, named as `postconf -F` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Service,
    Type,
    Private,
    Unprivileged,
    Chroot,
    Wakeup,
    ProcessLimit,
    /// The command and all its arguments.
    Command,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Service,
        Field::Type,
        Field::Private,
        Field::Unprivileged,
        Field::Chroot,
        Field::Wakeup,
        Field::ProcessLimit,
        Field::Command,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Service => "service",
            Field::Type => "type",
            Field::Private => "private",
            Field::Unprivileged => "unprivileged",
            Field::Chroot => "chroot",
            Field::Wakeup => "wakeup",
            Field::ProcessLimit => "process_limit",
            Field::Command => "command",
        }
    }

    /// The field named `name` (case-sensitive, like Postfix).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// All entries of one master.cf, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MasterCf {
    services: Vec<Service>,
}

impl MasterCf {
    /// Read and parse `path`. Warnings (which do not stop the parse) go to
    /// `warn` as they are found, before any error is returned.
    pub fn read(path: &Path, warn: &mut dyn FnMut(Warning)) -> Result<MasterCf, Error> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| Error::Open {
            path: shown.clone(),
            source,
        })?;
        MasterCf::parse(&bytes, &shown, warn)
    }

    /// Parse master.cf contents; `path` is used in messages.
    pub fn parse(
        bytes: &[u8],
        path: &str,
        warn: &mut dyn FnMut(Warning),
    ) -> Result<MasterCf, Error> {
        let mut services = Vec::new();
        for logical in lines::logical_lines(bytes, path, warn) {
            let mut service = Service::from_text(&logical.text, warn).map_err(|e| match e {
                Error::FieldCount => Error::FieldCountAt {
                    path: path.to_string(),
                    line: logical.line,
                },
                other => other.located(path, logical.line),
            })?;
            service.line = logical.line;
            services.push(service);
        }
        Ok(MasterCf { services })
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The entries whose name and type match `pattern`, in file order.
    pub fn matching<'a>(&'a self, pattern: &'a Pattern) -> impl Iterator<Item = &'a Service> {
        self.services
            .iter()
            .filter(|s| pattern.matches(s.name(), s.kind_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Result<MasterCf, Error>, Vec<String>) {
        let mut warnings = Vec::new();
        let result = MasterCf::parse(text.as_bytes(), "./master.cf", &mut |w| {
            warnings.push(w.to_string())
        });
        (result, warnings)
    }

    fn error(text: &str) -> String {
        parse(text).0.expect_err("invalid master.cf").to_string()
    }

    #[test]
    fn field_errors_quote_the_entry() {
        assert_eq!(
            error("foo unix - n n - 0 other\nbar xxxx - n n - 0 other\n"),
            "invalid type field \"xxxx\" in \"bar xxxx - n n - 0 other\""
        );
        assert_eq!(
            error("bar inet X n n - 0 other"),
            "invalid private field \"X\" in \"bar inet X n n - 0 other\""
        );
        assert_eq!(
            error("bar inet - yy n - 0 other"),
            "invalid unprivileged field \"yy\" in \"bar inet - yy n - 0 other\""
        );
        assert_eq!(
            error("bar inet - n X - 0 other"),
            "invalid chroot field \"X\" in \"bar inet - n X - 0 other\""
        );
        assert_eq!(
            error("bar inet - n n X? 0 other"),
            "invalid wakeup field \"X?\" in \"bar inet - n n X? 0 other\""
        );
        assert_eq!(
            error("bar inet - n n 1?? 0 other"),
            "invalid wakeup field \"1??\" in \"bar inet - n n 1?? 0 other\""
        );
        assert_eq!(
            error("bar inet - n n - -1 other"),
            "invalid process_limit field \"-1\" in \"bar inet - n n - -1 other\""
        );
    }

    #[test]
    fn errors_know_file_and_line() {
        let (result, _) = parse("a unix - - - - - c\n\n# x\nbad inet n X n - - smtpd\n -o c=d\n");
        let e = result.expect_err("bad");
        assert_eq!(
            e.to_string(),
            "invalid unprivileged field \"X\" in \"bad inet n X n - - smtpd -o c=d\""
        );
        assert_eq!(e.location(), Some(("./master.cf", 4)));
        assert!(
            e.with_location()
                .starts_with("file ./master.cf: line 4: invalid")
        );
        assert_eq!(
            error("smtp inet n - n - - smtpd\n\nfoo bar\n -o x\n"),
            "file ./master.cf: line 3: bad field count"
        );
    }

    #[test]
    fn matching_services() {
        let (result, _) = parse("foo inet - n n - 0 spawn\nbar unix - n n - 0 spawn\n");
        let cf = result.expect("valid");
        let p = Pattern::parse("*/inet", 1, 2).expect("pattern");
        let names: Vec<&str> = cf.matching(&p).map(Service::name).collect();
        assert_eq!(names, ["foo"]);
    }

    /// A tiny deterministic generator (xorshift), enough to shake the
    /// parser and the editor with junk.
    struct Junk(u64);

    impl Junk {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
            choices[self.next(choices.len())]
        }
    }

    /// Mostly well-formed entries with random columns, arguments and
    /// junk, so that both the checks and the later stages get exercised.
    fn junk_lines(seed: u64, count: usize) -> Vec<u8> {
        const JUNK: &[&str] = &[
            "{",
            "}",
            " ",
            "\t",
            "\n",
            "\n ",
            "#",
            "-o",
            "-oa=b",
            "-xo",
            "=",
            "a=b",
            "{ a = b }",
            "\r",
            "\u{e9}",
            "--",
            "/",
            "*",
            "\u{0}",
            "\u{b}",
            "-",
            "{x}y",
            "-o{ a b }",
            "$x",
        ];
        const FLAGS: &[&str] = &["-", "y", "n", "-", "x"];
        const NUMBERS: &[&str] = &["-", "0", "7?", "?", "-?", "12", "z"];
        let mut rng = Junk(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut out = String::new();
        for _ in 0..count {
            let columns = [
                rng.pick(&["foo", "bar", "#foo", " foo", "a=b", "x"]),
                rng.pick(&["unix", "inet", "fifo", "pass", "unix-dgram", "bogus"]),
                rng.pick(FLAGS),
                rng.pick(FLAGS),
                rng.pick(FLAGS),
                rng.pick(NUMBERS),
                rng.pick(NUMBERS),
                rng.pick(&["smtpd", "/a/b", "{ c d }"]),
            ];
            let keep = if rng.next(8) == 0 { rng.next(8) } else { 8 };
            out.push_str(&columns[..keep].join(" "));
            for _ in 0..rng.next(6) {
                out.push(' ');
                out.push_str(rng.pick(JUNK));
            }
            out.push('\n');
        }
        out.into_bytes()
    }

    #[test]
    fn garbage_never_panics() {
        let mut parsed = 0;
        for seed in 0..3000u64 {
            let text = junk_lines(seed, 1 + (seed % 5) as usize);
            let mut warnings = Vec::new();
            let result = MasterCf::parse(&text, "./master.cf", &mut |w| warnings.push(w));
            if let Err(e) = &result {
                assert!(!e.to_string().is_empty());
                assert!(!e.with_location().contains('\n'));
            }
            for cf in result.iter() {
                parsed += cf.services().len();
                for s in cf.services() {
                    let _ = format::entry(s, seed % 2 == 0, None);
                    for f in Field::ALL {
                        let _ = format::field(s, f, seed % 3 == 0, true, None);
                    }
                    let _ = s.overrides();
                }
            }
            let requests = edit_requests(seed);
            let _ = edit::apply(&text, "./master.cf", &requests, &mut |_| {});
        }
        assert!(parsed > 100, "the generator should yield valid entries too");
    }

    fn edit_requests(seed: u64) -> Vec<edit::Request> {
        let pattern = Pattern::parse("*/*", 2, 2).expect("pattern");
        let change = match seed % 6 {
            0 => edit::Change::Entry(String::from_utf8_lossy(&junk_lines(seed, 1)).trim().into()),
            1 => edit::Change::Remove,
            2 => edit::Change::CommentOut,
            3 => edit::Change::Field(Field::ALL[(seed % 8) as usize], "x".into()),
            4 => edit::Change::SetParam("a".into(), "b".into()),
            _ => edit::Change::RemoveParam("a".into()),
        };
        vec![edit::Request {
            raw: "*/*".into(),
            pattern,
            change,
        }]
    }
}
