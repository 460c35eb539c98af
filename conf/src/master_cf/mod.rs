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
mod error;
pub mod format;
mod lines;
pub mod pattern;
mod rewrite;

use std::path::Path;

pub use args::split_nameval;
pub use error::{Error, Warning};
pub use pattern::Pattern;
pub use rewrite::rewrite;

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

/// Column 6. `-` means the default (no wake-up); a trailing `?` asks for
/// no wake-up before the service is first used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wakeup {
    /// None for `-` (or a bare `?`, which postconf also accepts).
    pub seconds: Option<u32>,
    pub conditional: bool,
}

/// One master.cf entry. The column texts are kept as written, so that
/// postconf prints them back unchanged; the typed accessors give the
/// meaning, with `-` as None.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Columns 1-7, then the command, then its normalised arguments.
    argv: Vec<String>,
    kind: ServiceType,
    private: Option<bool>,
    unprivileged: Option<bool>,
    chroot: Option<bool>,
    wakeup: Wakeup,
    process_limit: Option<u32>,
    /// Line number of the entry's first line (0 for an entry not from a file).
    line: usize,
}

/// A daemon option from the option section of the arguments, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaemonOption<'a> {
    /// The option word, e.g. `-o` or `-v`.
    pub flag: &'a str,
    /// The value of an option that takes one (`-o`).
    pub value: Option<&'a str>,
}

impl Service {
    /// Build an entry from its words. `text` is the entry as written; it
    /// appears in error messages (newlines shown as spaces).
    pub fn from_text(text: &str, warn: &mut dyn FnMut(Warning)) -> Result<Service, Error> {
        let argv = args::split_quoted(text);
        if argv.len() < MIN_FIELDS {
            return Err(Error::FieldCount);
        }
        let mut service = Service::checked(argv, text)?;
        args::normalize(&mut service.argv, MIN_FIELDS, warn);
        Ok(service)
    }

    /// Validate the columns of `argv` (which has at least 8 words).
    fn checked(argv: Vec<String>, text: &str) -> Result<Service, Error> {
        let invalid = |field: Field, value: &str| Error::InvalidField {
            field,
            value: value.to_string(),
            text: text.replace('\n', " "),
            at: None,
        };
        let kind = ServiceType::parse(&argv[1]).ok_or_else(|| invalid(Field::Type, &argv[1]))?;
        let mut flags = [None; 3];
        for (slot, field) in
            flags
                .iter_mut()
                .zip([Field::Private, Field::Unprivileged, Field::Chroot])
        {
            let word = &argv[field.index()];
            *slot = parse_flag(word).ok_or_else(|| invalid(field, word))?;
        }
        let wakeup = parse_wakeup(&argv[5]).ok_or_else(|| invalid(Field::Wakeup, &argv[5]))?;
        let process_limit =
            parse_limit(&argv[6]).ok_or_else(|| invalid(Field::ProcessLimit, &argv[6]))?;
        Ok(Service {
            argv,
            kind,
            private: flags[0],
            unprivileged: flags[1],
            chroot: flags[2],
            wakeup,
            process_limit,
            line: 0,
        })
    }

    pub fn name(&self) -> &str {
        &self.argv[0]
    }

    pub fn kind(&self) -> ServiceType {
        self.kind
    }

    /// The type column as written.
    pub fn kind_text(&self) -> &str {
        &self.argv[1]
    }

    /// Column 3 as written: None for `-`.
    pub fn private(&self) -> Option<bool> {
        self.private
    }

    /// The effective private flag (default `y`).
    pub fn is_private(&self) -> bool {
        self.private.unwrap_or(true)
    }

    pub fn unprivileged(&self) -> Option<bool> {
        self.unprivileged
    }

    /// The effective unprivileged flag (default `y`).
    pub fn is_unprivileged(&self) -> bool {
        self.unprivileged.unwrap_or(true)
    }

    pub fn chroot(&self) -> Option<bool> {
        self.chroot
    }

    /// The effective chroot flag (default `n` since Postfix 3.0).
    pub fn is_chrooted(&self) -> bool {
        self.chroot.unwrap_or(false)
    }

    pub fn wakeup(&self) -> Wakeup {
        self.wakeup
    }

    /// Column 7: None for `-`, which means `$default_process_limit`.
    /// 0 means no limit. Absurdly large numbers saturate.
    pub fn process_limit(&self) -> Option<u32> {
        self.process_limit
    }

    /// The command name (relative to `daemon_directory`).
    pub fn command(&self) -> &str {
        &self.argv[MIN_FIELDS - 1]
    }

    /// The command's base name: what `$process_name` is for this service.
    pub fn process_name(&self) -> &str {
        let command = self.command();
        command.rsplit('/').next().unwrap_or(command)
    }

    /// The command arguments, normalised (`-o` and its value are separate
    /// words; `{}` groups unwrapped).
    pub fn args(&self) -> &[String] {
        &self.argv[MIN_FIELDS..]
    }

    /// Line number of the entry's first line in the file.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The text of one column (the command alone for [`Field::Command`]).
    pub fn field_text(&self, field: Field) -> &str {
        &self.argv[field.index()]
    }

    /// The daemon options before the first non-option argument (or `--`).
    /// An option `-o` (and, as in Postfix, a lone `-`) takes the next word
    /// as its value.
    pub fn options(&self) -> Vec<DaemonOption<'_>> {
        let args = self.args();
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(arg) = args.get(i) {
            if !args::is_option(arg) {
                break;
            }
            let value = if args::takes_value(arg) {
                args.get(i + 1).map(String::as_str)
            } else {
                None
            };
            i += 1 + usize::from(value.is_some());
            out.push(DaemonOption { flag: arg, value });
        }
        out
    }

    /// The `-o name=value` settings in file order, duplicates included
    /// (the last one wins). Values that are not `name=value` are skipped,
    /// as Postfix skips them.
    pub fn overrides(&self) -> Vec<(String, String)> {
        self.options()
            .into_iter()
            .filter(|o| o.flag == "-o")
            .filter_map(|o| o.value)
            .filter_map(|v| split_nameval(v).ok())
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// The words Postfix keeps for this entry: columns, command, arguments.
    pub fn words(&self) -> &[String] {
        &self.argv
    }
}

/// `y`, `n` or `-`.
fn parse_flag(word: &str) -> Option<Option<bool>> {
    match word {
        "y" => Some(Some(true)),
        "n" => Some(Some(false)),
        "-" => Some(None),
        _ => None,
    }
}

/// `-`, digits, either with an optional trailing `?`; a bare `?` passes
/// too, as it does in postconf.
fn parse_wakeup(word: &str) -> Option<Wakeup> {
    let (body, conditional) = match word.strip_suffix('?') {
        Some(body) => (body, true),
        None => (word, false),
    };
    let seconds = if body == "-" {
        None
    } else if body.bytes().all(|b| b.is_ascii_digit()) {
        saturating_number(body)
    } else {
        return None;
    };
    Some(Wakeup {
        seconds,
        conditional,
    })
}

/// `-` or digits.
fn parse_limit(word: &str) -> Option<Option<u32>> {
    if word == "-" {
        return Some(None);
    }
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(saturating_number(word))
}

/// Digits as a number, saturating; None for the empty string.
fn saturating_number(digits: &str) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    Some(digits.parse().unwrap_or(u32::MAX))
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

    fn one(text: &str) -> Service {
        let (result, _) = parse(text);
        let cf = result.expect("valid master.cf");
        assert_eq!(cf.services().len(), 1);
        cf.services()[0].clone()
    }

    fn error(text: &str) -> String {
        parse(text).0.expect_err("invalid master.cf").to_string()
    }

    #[test]
    fn every_column() {
        let s = one("# c\n\nsmtp inet n y - 60? 3 smtpd -v\n");
        assert_eq!(s.name(), "smtp");
        assert_eq!(s.kind(), ServiceType::Inet);
        assert_eq!(s.private(), Some(false));
        assert_eq!(s.unprivileged(), Some(true));
        assert_eq!(s.chroot(), None);
        assert!(!s.is_chrooted());
        let w = s.wakeup();
        assert_eq!((w.seconds, w.conditional), (Some(60), true));
        assert_eq!(s.process_limit(), Some(3));
        assert_eq!(s.command(), "smtpd");
        assert_eq!(s.args(), ["-v"]);
        assert_eq!(s.line(), 3);
        assert_eq!(s.field_text(Field::Wakeup), "60?");
    }

    #[test]
    fn dash_means_default() {
        let s = one("pickup unix - - - - - pickup");
        assert_eq!(
            (s.private(), s.unprivileged(), s.chroot()),
            (None, None, None)
        );
        assert!(s.is_private() && s.is_unprivileged() && !s.is_chrooted());
        assert_eq!(s.wakeup().seconds, None);
        assert_eq!(s.process_limit(), None);
    }

    #[test]
    fn every_type() {
        for kind in ["inet", "unix", "unix-dgram", "fifo", "pass"] {
            let s = one(&format!("x {kind} - - - - - c"));
            assert_eq!(s.kind().as_str(), kind);
        }
    }

    #[test]
    fn wakeup_and_limit_forms() {
        assert!(one("a unix - - - -? - c").wakeup().conditional);
        assert_eq!(one("a unix - - - ? - c").wakeup().seconds, None);
        assert_eq!(one("a unix - - - 0 0 c").process_limit(), Some(0));
        let big = one("a unix - - - 99999999999 99999999999 c");
        assert_eq!(big.wakeup().seconds, Some(u32::MAX));
        assert_eq!(big.process_limit(), Some(u32::MAX));
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
    fn continuation_and_overrides() {
        let s =
            one("foo unix - n n - 0 other\n -voaaa=bbb\n# note\n -vo ccc=$aaa\n -v -oddd=$ccc\n");
        assert_eq!(
            s.overrides(),
            vec![
                ("aaa".to_string(), "bbb".to_string()),
                ("ccc".to_string(), "$aaa".to_string()),
                ("ddd".to_string(), "$ccc".to_string()),
            ]
        );
        let flags: Vec<&str> = s.options().iter().map(|o| o.flag).collect();
        assert_eq!(flags, ["-v", "-o", "-v", "-o", "-v", "-o"]);
    }

    #[test]
    fn override_forms() {
        let s = one("a unix - - - - - c -o x=1 -oy=2 -o { z = 3 4 } -o bad -o=5 w -o q=6");
        assert_eq!(
            s.overrides(),
            vec![
                ("x".to_string(), "1".to_string()),
                ("y".to_string(), "2".to_string()),
                ("z".to_string(), "3 4".to_string()),
            ]
        );
        assert_eq!(s.args().last().map(String::as_str), Some("q=6"));
    }

    #[test]
    fn process_name_is_the_command_basename() {
        assert_eq!(
            one("a unix - - - - - /usr/lib/x/smtpd").process_name(),
            "smtpd"
        );
        assert_eq!(one("a unix - - - - - smtpd").process_name(), "smtpd");
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
