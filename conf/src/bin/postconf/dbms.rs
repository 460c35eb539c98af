//! Legacy database parameters (Postfix `postconf_dbms.c`, 3.7 behaviour).
//!
//! A lookup table `ldap:name` whose name is not a path is configured in
//! main.cf/master.cf with parameters `name_<suffix>`, so those names are
//! valid there; `ldap:/path/file.cf` is configured in its own file, which
//! postconf reads to warn about settings the client would ignore. Here we
//! find those references in a parameter value and check such files.

use std::collections::HashSet;
use std::io::{ErrorKind, Read};

use conf::htable;
use conf::main_cf::MainCf;

/// The lookup-table types with a legacy parameter name space, and their
/// legal parameter suffixes. Postfix generates these lists from the
/// `cfg_get_{str,int,bool}` calls in `global/dict_<type>.c` plus `domain`
/// (and, for the SQL types, the old query parameters `table`,
/// `select_field`, `where_field`, `additional_conditions`); they were read
/// back from the installed Postfix 3.7.11 postconf by probing.
#[rustfmt::skip]
const DBMS: &[(&str, &[&str])] = &[
    ("ldap", &[
        "bind", "bind_dn", "bind_pw", "cache", "cache_expiry", "cache_size", "chase_referrals",
        "debuglevel", "dereference", "domain", "expansion_limit", "leaf_result_attribute",
        "query_filter", "recursion_limit", "result_attribute", "result_filter", "result_format",
        "sasl_authz_id", "sasl_mechs", "sasl_minssf", "sasl_realm", "scope", "search_base",
        "server_host", "server_port", "size_limit", "special_result_attribute", "start_tls",
        "terminal_result_attribute", "timeout", "tls_ca_cert_dir", "tls_ca_cert_file",
        "tls_cert", "tls_cipher_suite", "tls_key", "tls_random_file", "tls_require_cert",
        "version",
    ]),
    ("mysql", &[
        "additional_conditions", "dbname", "domain", "expansion_limit", "hosts", "option_file",
        "option_group", "password", "query", "require_result_set", "result_format",
        "select_field", "table", "tls_CAfile", "tls_CApath", "tls_cert_file", "tls_ciphers",
        "tls_key_file", "tls_verify_cert", "user", "where_field",
    ]),
    ("pgsql", &[
        "additional_conditions", "dbname", "domain", "expansion_limit", "hosts", "password",
        "query", "result_format", "select_field", "select_function", "table", "user",
        "where_field",
    ]),
    ("sqlite", &[
        "additional_conditions", "dbpath", "domain", "expansion_limit", "query",
        "result_format", "select_field", "table", "where_field",
    ]),
    ("memcache", &[
        "backup", "data_size_limit", "domain", "flags", "key_format", "line_size_limit",
        "max_try", "memcache", "retry_pause", "timeout", "ttl",
    ]),
];

/// CHARS_COMMA_SP: what separates the words of a value.
const SEPARATORS: &[char] = &[',', ' ', '\t', '\r', '\n'];

/// One thing found in a value, in the order Postfix meets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// `type:name`: the parameters `name_<suffix>` become valid.
    Legacy(&'static str, String),
    /// `type:/path`: the file is to be checked (see [`Checked`]).
    File(&'static str, String),
    /// A brace error, as printed after "postconf: warning: ".
    Warning(String),
}

/// The lookup-table references of the legacy DBMS types in one (already
/// `$name`-expanded) parameter value, in the order Postfix meets them.
/// `origin` starts brace warnings: "main.cf", or "master.cf:service/type"
/// for a master.cf `-o` value.
pub(crate) fn references(value: &str, origin: &str) -> Vec<Found> {
    let mut refs = Vec::new();
    // Postfix recurses into each `{...}`; an explicit stack of unfinished
    // texts does the same without letting deep nesting overflow ours. The
    // inner text goes on top so it is finished before the outer rest.
    let mut stack = vec![value];
    while let Some(text) = stack.pop() {
        let Some((word, rest)) = next_word(text) else {
            continue;
        };
        stack.push(rest);
        if word.starts_with('{') {
            stack.push(unbrace(word, origin, &mut refs));
            continue;
        }
        let Some((db_type, name)) = strip_proxy(word) else {
            continue;
        };
        if name.starts_with('/') {
            if let Some(db) = dbms_name(db_type) {
                refs.push(Found::File(db, name.to_string()));
            }
        } else if name.starts_with('{') {
            // pipemap:{...}, unionmap:{...}: any type, its tables inside.
            stack.push(unbrace(name, origin, &mut refs));
        } else if !name.starts_with('.') {
            // A name starting with '.' would be relative to the queue
            // directory; Postfix skips it, and so do we.
            if let Some(db) = dbms_name(db_type) {
                refs.push(Found::Legacy(db, name.to_string()));
            }
        }
    }
    refs
}

/// The legal parameter suffixes of a dbms type ("domain", "server_host", ...), without the leading underscore.
pub(crate) fn suffixes(dbms: &str) -> &'static [&'static str] {
    DBMS.iter()
        .find(|(name, _)| *name == dbms)
        .map_or(&[], |(_, list)| list)
}

/// The main.cf/master.cf parameter names that `dbms:name` makes valid.
pub(crate) fn legacy_names(dbms: &str, name: &str) -> Vec<String> {
    suffixes(dbms)
        .iter()
        .map(|suffix| format!("{name}_{suffix}"))
        .collect()
}

/// What checking one dbms client configuration file produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FileCheck {
    /// Text after "postconf: warning: ", in order.
    pub(crate) warnings: Vec<String>,
    /// Text after "postconf: fatal: ": a line that is not `name = value`
    /// makes Postfix exit 1 after printing the warnings before it.
    pub(crate) fatal: Option<String>,
}

/// Read an absolute-path dbms config file and report the settings that
/// are not legal for `dbms`, in Postfix's hash-table order.
pub(crate) fn check_file(dbms: &str, path: &str) -> FileCheck {
    let mut check = FileCheck::default();
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        // Files with passwords may be unreadable to the admin running
        // postconf; Postfix stays silent about those.
        Err(err) if err.kind() == ErrorKind::PermissionDenied => return check,
        Err(err) => {
            let reason = conf::io_reason(&err);
            check.warnings.push(format!(
                "open \"{dbms}\" configuration \"{path}\": {reason}"
            ));
            return check;
        }
    };
    if file.metadata().is_ok_and(|meta| !meta.is_file()) {
        check.warnings.push(format!(
            "open \"{dbms}\" configuration \"{path}\": not a regular file"
        ));
        return check;
    }
    let mut bytes = Vec::new();
    if let Err(err) = file.read_to_end(&mut bytes) {
        let reason = conf::io_reason(&err);
        check.warnings.push(format!(
            "read \"{dbms}\" configuration \"{path}\": {reason}"
        ));
        return check;
    }
    let Some(table) = load(path, &String::from_utf8_lossy(&bytes), &mut check) else {
        return check;
    };
    // Postfix deletes the legal names from its hash table and lists the
    // rest; deleting does not reorder, so the listing is the full table's
    // order without them.
    let legal = suffixes(dbms);
    let names = table.entries().iter().map(|e| e.name.as_str());
    for name in htable::order(13, names) {
        if legal.contains(&name) {
            continue;
        }
        let value = table.get(name).unwrap_or_default();
        check
            .warnings
            .push(format!("{dbms}:{path}: unused parameter: {name}={value}"));
    }
    check
}

/// Postfix reads each `type:path` file once per run ("nag only the first
/// time"), even when the first attempt failed.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    seen: HashSet<String>,
}

impl Checked {
    /// [`check_file`] the first time `dbms:path` is met, else nothing.
    pub(crate) fn check_once(&mut self, dbms: &str, path: &str) -> FileCheck {
        if self.seen.insert(format!("{dbms}:{path}")) {
            check_file(dbms, path)
        } else {
            FileCheck::default()
        }
    }
}

/// dict_load_fp: `name = value` lines, with its warnings; None after a
/// fatal syntax error.
fn load(path: &str, text: &str, check: &mut FileCheck) -> Option<MainCf> {
    let (table, err) = MainCf::parse_until_error(path.to_string(), text);
    check.warnings.extend(table.warnings().iter().cloned());
    match err {
        Some(err) => {
            check.fatal = Some(err.to_string());
            None
        }
        None => Some(table),
    }
}

/// mystrtokq: skip separators, then take text up to a separator outside
/// braces. A `}` with no `{` open is ordinary text.
fn next_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches(SEPARATORS);
    if text.is_empty() {
        return None;
    }
    let mut level = 0usize;
    for (i, c) in text.char_indices() {
        if c == '{' {
            level += 1;
        } else if level > 0 && c == '}' {
            level -= 1;
        } else if level == 0 && SEPARATORS.contains(&c) {
            return Some((&text[..i], &text[i + c.len_utf8()..]));
        }
    }
    Some((text, ""))
}

/// extpar without stripping, on a word that starts with `{`: the text
/// inside the braces (all of the rest when `}` is missing). Text after
/// the `}` is dropped with a warning.
fn unbrace<'a>(word: &'a str, origin: &str, refs: &mut Vec<Found>) -> &'a str {
    let mut level = 0usize;
    for (i, c) in word.char_indices() {
        if c == '{' {
            level += 1;
        } else if c == '}' {
            level = level.saturating_sub(1);
            if level == 0 {
                if i + 1 < word.len() {
                    let text = format!("{origin}: syntax error after '}}' in \"{word}\"");
                    refs.push(Found::Warning(text));
                }
                return &word[1..i];
            }
        }
    }
    let text = format!("{origin}: missing '}}' in \"{word}\"");
    refs.push(Found::Warning(text));
    word.get(1..).unwrap_or_default()
}

/// Split `type:name`, skipping any `proxy:` in front as proxymap does.
fn strip_proxy(word: &str) -> Option<(&str, &str)> {
    let mut rest = word;
    loop {
        let (db_type, name) = rest.split_once(':')?;
        if db_type != "proxy" {
            return Some((db_type, name));
        }
        rest = name;
    }
}

/// The static name of a legacy dbms type (case matters, as in Postfix).
fn dbms_name(db_type: &str) -> Option<&'static str> {
    DBMS.iter()
        .map(|(name, _)| *name)
        .find(|name| *name == db_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one value names, by kind.
    #[derive(Debug, Default)]
    struct Refs {
        legacy: Vec<(&'static str, String)>,
        files: Vec<(&'static str, String)>,
        warnings: Vec<String>,
    }

    fn by_kind(value: &str) -> Refs {
        let mut refs = Refs::default();
        for found in references(value, "main.cf") {
            match found {
                Found::Legacy(db, name) => refs.legacy.push((db, name)),
                Found::File(db, path) => refs.files.push((db, path)),
                Found::Warning(text) => refs.warnings.push(text),
            }
        }
        refs
    }

    fn legacy(value: &str) -> Vec<(&'static str, String)> {
        by_kind(value).legacy
    }

    fn pairs(list: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        list.iter().map(|(d, n)| (*d, n.to_string())).collect()
    }

    #[test]
    fn proxy_prefixes_are_skipped() {
        // test28/test29
        assert_eq!(legacy("proxy:ldap:foo"), pairs(&[("ldap", "foo")]));
        assert_eq!(
            legacy("proxy:proxy:mysql:a, pgsql:b\tsqlite:c memcache:d"),
            pairs(&[
                ("mysql", "a"),
                ("pgsql", "b"),
                ("sqlite", "c"),
                ("memcache", "d")
            ])
        );
        assert!(legacy("proxy:ldap").is_empty());
        assert!(legacy("proxy:{ldap:x}").is_empty());
    }

    #[test]
    fn only_known_types_case_sensitive() {
        assert!(legacy("LDAP:foo hash:/etc/x regexp:foo").is_empty());
        assert_eq!(legacy("ldap:foo:bar"), pairs(&[("ldap", "foo:bar")]));
        assert_eq!(legacy("ldap:"), pairs(&[("ldap", "")]));
        assert!(legacy("ldap:.dot").is_empty());
    }

    #[test]
    fn composite_tables_recurse() {
        // test58
        let refs = by_kind("foo bar pipemap:{ldap:xxx, memcache:yy}x randmap:{xx");
        assert_eq!(refs.legacy, pairs(&[("ldap", "xxx"), ("memcache", "yy")]));
        assert_eq!(
            refs.warnings,
            [
                "main.cf: syntax error after '}' in \"{ldap:xxx, memcache:yy}x\"",
                "main.cf: missing '}' in \"{xx\""
            ]
        );
        // test70
        let refs =
            by_kind("check_sender_access { pipemap:{ldap:used} { search_order = foo, bar } }");
        assert_eq!(refs.legacy, pairs(&[("ldap", "used")]));
        assert!(refs.warnings.is_empty());
        // Postfix 3.7 recurses into inline regexp tables too.
        assert_eq!(
            legacy("ldap:{ldap:baz}, {mysql:qux}, regexp:{ldap:re} unionmap:{proxy:pgsql:p}"),
            pairs(&[
                ("ldap", "baz"),
                ("mysql", "qux"),
                ("ldap", "re"),
                ("pgsql", "p")
            ])
        );
    }

    #[test]
    fn inner_tables_come_before_the_rest() {
        let found = references("ldap:/a pipemap:{ldap:/b}c ldap:/d", "main.cf");
        assert_eq!(
            found,
            [
                Found::File("ldap", "/a".into()),
                Found::Warning("main.cf: syntax error after '}' in \"{ldap:/b}c\"".into()),
                Found::File("ldap", "/b".into()),
                Found::File("ldap", "/d".into()),
            ]
        );
    }

    #[test]
    fn master_cf_origin() {
        assert_eq!(
            references("pipemap:{ldap:x}y", "master.cf:smtp/inet"),
            [
                Found::Warning(
                    "master.cf:smtp/inet: syntax error after '}' in \"{ldap:x}y\"".into()
                ),
                Found::Legacy("ldap", "x".into()),
            ]
        );
    }

    #[test]
    fn absolute_paths_are_files() {
        // test66, test69
        let refs = by_kind("ldap:/p/t.cf\n  mysql:/p/t.cf proxy:pgsql:/p/t.cf hash:/x");
        assert_eq!(
            refs.files,
            pairs(&[
                ("ldap", "/p/t.cf"),
                ("mysql", "/p/t.cf"),
                ("pgsql", "/p/t.cf")
            ])
        );
        assert!(refs.legacy.is_empty());
    }

    #[test]
    fn odd_input_never_panics() {
        // Deep nesting: no recursion, so no stack overflow (Postfix, like
        // us, rescans each level, so keep this small enough to be quick).
        let deep = format!("{}ldap:x{}", "{".repeat(5_000), "}".repeat(5_000));
        assert_eq!(legacy(&deep), pairs(&[("ldap", "x")]));
        for odd in [
            "",
            "{",
            "}",
            "{{",
            "}}{",
            "ldap:{",
            "ldap:{é}}",
            ",{,",
            "é:{ü",
            ":",
            "::",
        ] {
            let _ = by_kind(odd);
        }
    }

    #[test]
    fn suffix_lists() {
        assert_eq!(suffixes("ldap").len(), 38);
        assert_eq!(suffixes("mysql").len(), 21);
        assert_eq!(suffixes("pgsql").len(), 13);
        assert_eq!(suffixes("sqlite").len(), 9);
        assert_eq!(suffixes("memcache").len(), 11);
        assert!(suffixes("hash").is_empty());
        for (_, list) in DBMS {
            assert!(list.contains(&"domain"));
        }
        assert!(legacy_names("ldap", "foo").contains(&"foo_server_host".to_string()));
    }

    fn check_text(dbms: &str, text: &str) -> (FileCheck, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.cf");
        std::fs::write(&path, text).expect("write");
        let path = path.to_str().expect("utf-8 temp path").to_string();
        (check_file(dbms, &path), dir)
    }

    #[test]
    fn unused_settings_in_hash_order() {
        // test66
        let (check, dir) = check_text("ldap", "junk = junk\n");
        let path = dir.path().join("t.cf");
        let want = format!("ldap:{}: unused parameter: junk=junk", path.display());
        assert_eq!(check.warnings, [want]);
        // 15 entries: the table grows once. Order taken from postconf 3.7.11.
        let text = "a = 1\nb = 2\nc = 3\ndomain = x\nzz=1\nserver_host=2\nyy = 3\n\
                    xx=4\nww=5\nvv=6\nuu=7\ntt=8\nss=9\nrr=10\nqq=11\n";
        let (check, _dir) = check_text("ldap", text);
        let names: Vec<&str> = check
            .warnings
            .iter()
            .filter_map(|w| w.split("unused parameter: ").nth(1))
            .collect();
        let want = [
            "b=2", "zz=1", "rr=10", "ss=9", "vv=6", "tt=8", "uu=7", "c=3", "yy=3", "qq=11", "a=1",
            "ww=5", "xx=4",
        ];
        assert_eq!(names, want);
        let (check, _dir) = check_text("mysql", text);
        assert_eq!(
            check.warnings.len(),
            14,
            "server_host is not a mysql suffix"
        );
    }

    #[test]
    fn load_warnings_and_fatal() {
        let (check, dir) = check_text(
            "ldap",
            "a = 1\nb = 2\na = 1\nb = 3\n  x\n#c\n\ndomain = 1\nc=\n",
        );
        let p = dir.path().join("t.cf").display().to_string();
        assert_eq!(
            check.warnings,
            [
                format!("{p}, line 4: overriding earlier entry: b=2"),
                format!("ldap:{p}: unused parameter: b=3  x"),
                format!("ldap:{p}: unused parameter: c="),
                format!("ldap:{p}: unused parameter: a=1"),
            ]
        );
        let (check, dir) = check_text(
            "ldap",
            "  orphan one that is really quite long\n  two\nb = 1\0z\n",
        );
        let p = dir.path().join("t.cf").display().to_string();
        assert_eq!(
            check.warnings[0],
            format!(
                "{p}: logical line must not start with whitespace: \"  orphan one that is really qu...\""
            )
        );
        assert_eq!(
            check.warnings[1],
            format!("ldap:{p}: unused parameter: b=1")
        );
        let (check, dir) = check_text("ldap", "a = 1\na = 2\n\nx y   \n  = 2   \n");
        let p = dir.path().join("t.cf").display().to_string();
        assert_eq!(check.warnings.len(), 1);
        assert_eq!(
            check.fatal,
            Some(format!(
                "{p}, line 4: missing '=' after attribute name: \"x y     = 2   \""
            ))
        );
    }

    #[test]
    fn unreadable_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path().display().to_string();
        assert_eq!(
            check_file("ldap", &d).warnings,
            [format!(
                "open \"ldap\" configuration \"{d}\": not a regular file"
            )]
        );
        let missing = format!("{d}/none.cf");
        let want = format!("open \"mysql\" configuration \"{missing}\": No such file or directory");
        let mut checked = Checked::default();
        assert_eq!(checked.check_once("mysql", &missing).warnings, [want]);
        assert_eq!(checked.check_once("mysql", &missing), FileCheck::default());
        assert_eq!(checked.check_once("ldap", &missing).warnings.len(), 1);
    }
}
