//! Legacy database parameters (Postfix `postconf_dbms.c`, 3.7 behaviour).
//!
//! A lookup table `ldap:name` whose name is not a path is configured in
//! main.cf/master.cf with parameters `name_<suffix>`, so those names are
//! valid there; `ldap:/path/file.cf` is configured in its own file, which
//! postconf reads to warn about settings the client would ignore. Here we
//! find those references in a parameter value and check such files.

use std::collections::HashSet;
use std::io::{ErrorKind, Read};

use conf::main_cf::{logical_lines, split_nameval};

/// The lookup-table types with a legacy parameter name space, and their
/// legal parameter suffixes. Postfix generates these lists from the
/// `cfg_get_{str,int,bool}` calls in `global/dict_<type>.c` plus `domain`
/// (and, for the SQL types, the old query parameters `table`,
/// `select_field`, `where_field`, `additional_conditions`); they were read
/// back from the installed Postfix 3.7.11 postconf by probing.
const DBMS: &[(&str, &[&str])] = &[
    (
        "ldap",
        &[
            "bind",
            "bind_dn",
            "bind_pw",
            "cache",
            "cache_expiry",
            "cache_size",
            "chase_referrals",
            "debuglevel",
            "dereference",
            "domain",
            "expansion_limit",
            "leaf_result_attribute",
            "query_filter",
            "recursion_limit",
            "result_attribute",
            "result_filter",
            "result_format",
            "sasl_authz_id",
            "sasl_mechs",
            "sasl_minssf",
            "sasl_realm",
            "scope",
            "search_base",
            "server_host",
            "server_port",
            "size_limit",
            "special_result_attribute",
            "start_tls",
            "terminal_result_attribute",
            "timeout",
            "tls_ca_cert_dir",
            "tls_ca_cert_file",
            "tls_cert",
            "tls_cipher_suite",
            "tls_key",
            "tls_random_file",
            "tls_require_cert",
            "version",
        ],
    ),
    (
        "mysql",
        &[
            "additional_conditions",
            "dbname",
            "domain",
            "expansion_limit",
            "hosts",
            "option_file",
            "option_group",
            "password",
            "query",
            "require_result_set",
            "result_format",
            "select_field",
            "table",
            "tls_CAfile",
            "tls_CApath",
            "tls_cert_file",
            "tls_ciphers",
            "tls_key_file",
            "tls_verify_cert",
            "user",
            "where_field",
        ],
    ),
    (
        "pgsql",
        &[
            "additional_conditions",
            "dbname",
            "domain",
            "expansion_limit",
            "hosts",
            "password",
            "query",
            "result_format",
            "select_field",
            "select_function",
            "table",
            "user",
            "where_field",
        ],
    ),
    (
        "sqlite",
        &[
            "additional_conditions",
            "dbpath",
            "domain",
            "expansion_limit",
            "query",
            "result_format",
            "select_field",
            "table",
            "where_field",
        ],
    ),
    (
        "memcache",
        &[
            "backup",
            "data_size_limit",
            "domain",
            "flags",
            "key_format",
            "line_size_limit",
            "max_try",
            "memcache",
            "retry_pause",
            "timeout",
            "ttl",
        ],
    ),
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

/// Lookup-table references of the legacy DBMS types found in one parameter value.
#[derive(Debug, Default)]
pub(crate) struct DbmsRefs {
    /// (dbms type, relative table name), e.g. ("ldap", "ldapfoo"), in order of appearance.
    pub(crate) legacy: Vec<(&'static str, String)>,
    /// (dbms type, absolute config file path).
    pub(crate) files: Vec<(&'static str, String)>,
    /// Warnings exactly as postconf prints them after "postconf: warning: " (e.g. brace syntax errors).
    pub(crate) warnings: Vec<String>,
    /// All of the above interleaved: Postfix checks each file as it meets
    /// it, so its warnings and brace warnings come out in this order.
    pub(crate) found: Vec<Found>,
}

impl DbmsRefs {
    fn push(&mut self, found: Found) {
        match &found {
            Found::Legacy(db, name) => self.legacy.push((db, name.clone())),
            Found::File(db, path) => self.files.push((db, path.clone())),
            Found::Warning(text) => self.warnings.push(text.clone()),
        }
        self.found.push(found);
    }
}

/// Find the references in an (already $name-expanded) main.cf value.
pub(crate) fn references(value: &str) -> DbmsRefs {
    references_in(value, "main.cf")
}

/// Like [`references`], with `origin` starting brace warnings: "main.cf",
/// or "master.cf:service/type" for a master.cf `-o` value.
pub(crate) fn references_in(value: &str, origin: &str) -> DbmsRefs {
    let mut refs = DbmsRefs::default();
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
    let Some(mut table) = load(path, &String::from_utf8_lossy(&bytes), &mut check) else {
        return check;
    };
    for suffix in suffixes(dbms) {
        table.remove(suffix);
    }
    for (name, value) in table.entries() {
        check.warnings.push(format!(
            "{dbms}:{path}: unused parameter: {name}={value}"
        ));
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

/// dict_load_fp: `name = value` lines into a hash table, with its
/// warnings; None after a fatal syntax error.
fn load(path: &str, text: &str, check: &mut FileCheck) -> Option<HashOrder> {
    let (lines, orphans) = logical_lines(text);
    // Continuation text can only come before the first logical line, so
    // its warnings precede all others.
    for orphan in orphans {
        let shown = truncate(&orphan, 30);
        let more = if shown.len() < orphan.len() { "..." } else { "" };
        check.warnings.push(format!(
            "{path}: logical line must not start with whitespace: \"{shown}{more}\""
        ));
    }
    let mut table = HashOrder::new();
    for line in &lines {
        // Postfix parses a C string: a NUL byte ends the line.
        let text = line.text.split('\0').next().unwrap_or_default();
        let (name, value) = match split_nameval(text) {
            Ok(pair) => pair,
            Err(reason) => {
                let n = line.line;
                check.fatal = Some(format!("{path}, line {n}: {reason}: \"{text}\""));
                return None;
            }
        };
        if let Some(old) = table.get(name).filter(|old| *old != value) {
            let n = line.line;
            check.warnings.push(format!(
                "{path}, line {n}: overriding earlier entry: {name}={old}"
            ));
        }
        table.set(name, value);
    }
    Some(table)
}

/// At most `max` bytes of `text` (C `%.30s`), not splitting a character.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
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
fn unbrace<'a>(word: &'a str, origin: &str, refs: &mut DbmsRefs) -> &'a str {
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

/// Postfix's htable (as behind dict_ht), kept only to list entries in
/// the order Postfix does: buckets in index order, each chain newest
/// first, FNV-1a (each byte plus one) with the NORANDOMIZE seed, 13
/// buckets to start, growing to 2n+1 when full. With a random seed
/// Postfix's order is arbitrary, so this one is as good as any.
#[derive(Debug)]
pub(crate) struct HashOrder {
    /// Each chain is stored oldest first; Postfix links new entries at
    /// the head, so chains are read back to front.
    buckets: Vec<Vec<(String, String)>>,
    used: usize,
}

impl HashOrder {
    pub(crate) fn new() -> HashOrder {
        HashOrder {
            buckets: vec![Vec::new(); 13],
            used: 0,
        }
    }

    fn bucket(&self, key: &str) -> usize {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in key.bytes() {
            hash ^= u64::from(byte) + 1;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // The modulus is the bucket count, so the result fits in usize.
        (hash % self.buckets.len() as u64) as usize
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        let chain = &self.buckets[self.bucket(key)];
        chain.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// dict_ht_update: replace in place, or enter a new entry.
    pub(crate) fn set(&mut self, key: &str, value: &str) {
        let b = self.bucket(key);
        if let Some(entry) = self.buckets[b].iter_mut().find(|(k, _)| k == key) {
            entry.1 = value.to_string();
            return;
        }
        if self.used >= self.buckets.len() {
            self.grow();
        }
        let b = self.bucket(key);
        self.buckets[b].push((key.to_string(), value.to_string()));
        self.used += 1;
    }

    pub(crate) fn remove(&mut self, key: &str) {
        let b = self.bucket(key);
        if let Some(i) = self.buckets[b].iter().position(|(k, _)| k == key) {
            self.buckets[b].remove(i);
            self.used -= 1;
        }
    }

    /// htable_grow: relink every entry, old buckets in order, each chain
    /// from its head.
    fn grow(&mut self) {
        let size = (2 * self.buckets.len()) | 1;
        let old = std::mem::replace(&mut self.buckets, vec![Vec::new(); size]);
        for chain in old {
            for (key, value) in chain.into_iter().rev() {
                let b = self.bucket(&key);
                self.buckets[b].push((key, value));
            }
        }
    }

    /// htable_list order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.buckets
            .iter()
            .flat_map(|chain| chain.iter().rev())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(value: &str) -> Vec<(&'static str, String)> {
        references(value).legacy
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
            pairs(&[("mysql", "a"), ("pgsql", "b"), ("sqlite", "c"), ("memcache", "d")])
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
        let refs = references("foo bar pipemap:{ldap:xxx, memcache:yy}x randmap:{xx");
        assert_eq!(refs.legacy, pairs(&[("ldap", "xxx"), ("memcache", "yy")]));
        assert_eq!(
            refs.warnings,
            [
                "main.cf: syntax error after '}' in \"{ldap:xxx, memcache:yy}x\"",
                "main.cf: missing '}' in \"{xx\""
            ]
        );
        // test70
        let refs = references("check_sender_access { pipemap:{ldap:used} { search_order = foo, bar } }");
        assert_eq!(refs.legacy, pairs(&[("ldap", "used")]));
        assert!(refs.warnings.is_empty());
        // Postfix 3.7 recurses into inline regexp tables too.
        assert_eq!(
            legacy("ldap:{ldap:baz}, {mysql:qux}, regexp:{ldap:re} unionmap:{proxy:pgsql:p}"),
            pairs(&[("ldap", "baz"), ("mysql", "qux"), ("ldap", "re"), ("pgsql", "p")])
        );
    }

    #[test]
    fn inner_tables_come_before_the_rest() {
        let refs = references("ldap:/a pipemap:{ldap:/b}c ldap:/d");
        assert_eq!(
            refs.found,
            [
                Found::File("ldap", "/a".into()),
                Found::Warning("main.cf: syntax error after '}' in \"{ldap:/b}c\"".into()),
                Found::File("ldap", "/b".into()),
                Found::File("ldap", "/d".into()),
            ]
        );
        assert_eq!(refs.files.len(), 3);
    }

    #[test]
    fn master_cf_origin() {
        let refs = references_in("pipemap:{ldap:x}y", "master.cf:smtp/inet");
        assert_eq!(refs.warnings, ["master.cf:smtp/inet: syntax error after '}' in \"{ldap:x}y\""]);
    }

    #[test]
    fn absolute_paths_are_files() {
        // test66, test69
        let refs = references("ldap:/p/t.cf\n  mysql:/p/t.cf proxy:pgsql:/p/t.cf hash:/x");
        assert_eq!(
            refs.files,
            pairs(&[("ldap", "/p/t.cf"), ("mysql", "/p/t.cf"), ("pgsql", "/p/t.cf")])
        );
        assert!(refs.legacy.is_empty());
    }

    #[test]
    fn odd_input_never_panics() {
        let deep = format!("{}ldap:x{}", "{".repeat(100_000), "}".repeat(100_000));
        assert_eq!(legacy(&deep), pairs(&[("ldap", "x")]));
        for odd in ["", "{", "}", "{{", "}}{", "ldap:{", "ldap:{é}}", ",{,", "é:{ü", ":", "::"] {
            let _ = references(odd);
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
            "b=2", "zz=1", "rr=10", "ss=9", "vv=6", "tt=8", "uu=7", "c=3", "yy=3", "qq=11",
            "a=1", "ww=5", "xx=4",
        ];
        assert_eq!(names, want);
        let (check, _dir) = check_text("mysql", text);
        assert_eq!(check.warnings.len(), 14, "server_host is not a mysql suffix");
    }

    #[test]
    fn load_warnings_and_fatal() {
        let (check, dir) = check_text("ldap", "a = 1\nb = 2\na = 1\nb = 3\n  x\n#c\n\ndomain = 1\nc=\n");
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
        let (check, dir) = check_text("ldap", "  orphan one that is really quite long\n  two\nb = 1\0z\n");
        let p = dir.path().join("t.cf").display().to_string();
        assert_eq!(
            check.warnings[0],
            format!("{p}: logical line must not start with whitespace: \"  orphan one that is really qu...\"")
        );
        assert_eq!(check.warnings[1], format!("ldap:{p}: unused parameter: b=1"));
        let (check, dir) = check_text("ldap", "a = 1\na = 2\n\nx y   \n  = 2   \n");
        let p = dir.path().join("t.cf").display().to_string();
        assert_eq!(check.warnings.len(), 1);
        assert_eq!(
            check.fatal,
            Some(format!("{p}, line 4: missing '=' after attribute name: \"x y     = 2   \""))
        );
    }

    #[test]
    fn unreadable_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path().display().to_string();
        assert_eq!(
            check_file("ldap", &d).warnings,
            [format!("open \"ldap\" configuration \"{d}\": not a regular file")]
        );
        let missing = format!("{d}/none.cf");
        let want = format!("open \"mysql\" configuration \"{missing}\": No such file or directory");
        let mut checked = Checked::default();
        assert_eq!(checked.check_once("mysql", &missing).warnings, [want]);
        assert_eq!(checked.check_once("mysql", &missing), FileCheck::default());
        assert_eq!(checked.check_once("ldap", &missing).warnings.len(), 1);
    }

    #[test]
    fn hash_order_updates_in_place() {
        let mut table = HashOrder::new();
        for i in 0..40 {
            table.set(&format!("k{i}"), "v");
        }
        table.set("k3", "new");
        table.remove("k5");
        table.remove("absent");
        assert_eq!(table.get("k3"), Some("new"));
        assert_eq!(table.entries().count(), 39);
        assert_eq!(table.buckets.len(), 55);
    }
}
