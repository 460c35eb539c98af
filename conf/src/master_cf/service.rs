//! One master.cf entry: its columns, typed, and its daemon arguments in
//! Postfix's normal form; plus the in-place changes `postconf -Fe`,
//! `-Pe` and `-PX` make to it.

use super::{Error, Field, MIN_FIELDS, ServiceType, Warning, args, split_nameval};

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
    pub(super) line: usize,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master_cf::MasterCf;

    fn one(text: &str) -> Service {
        let cf = MasterCf::parse(text.as_bytes(), "./master.cf", &mut |_| {}).expect("valid");
        assert_eq!(cf.services().len(), 1);
        cf.services()[0].clone()
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
    fn param_set_update_and_remove() {
        let text = "foo unix - n n - 0 x -o a=1 -v -o a=2 arg -o a=3";
        let mut s = one(text);
        s.set_param("a", "9");
        s.set_param("b", "8");
        assert_eq!(s.args().join(" "), "-o a=9 -v -o a=9 -o b=8 arg -o a=3");
        let mut s = one(text);
        s.remove_param("a");
        assert_eq!(s.args().join(" "), "-v arg -o a=3");
    }

    #[test]
    fn field_changes_are_checked() {
        let mut s = one("foo unix - n n - 0 x");
        s.set_field(Field::Chroot, "y", &mut |_| {}).expect("valid");
        assert!(s.is_chrooted());
        let e = s
            .set_field(Field::Wakeup, "soon", &mut |_| {})
            .expect_err("invalid");
        assert_eq!(e.to_string(), "invalid wakeup field \"soon\" in \"soon\"");
        s.set_field(Field::Command, "aa -stuffobb=cc dd", &mut |_| {})
            .expect("valid");
        assert_eq!(s.command(), "aa");
        assert_eq!(s.args().join(" "), "-stuff -o bb=cc dd");
        assert!(s.set_field(Field::Command, " ", &mut |_| {}).is_err());
        assert!(s.set_field(Field::Service, "", &mut |_| {}).is_err());
    }
}
