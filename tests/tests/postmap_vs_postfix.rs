//! Our postmap and postalias against the real ones (Postfix 3.7 from
//! Debian), on the same generated tables in the same run: thousands of
//! keys with mixed case, trailing dots, IPv6 addresses, `user@` and
//! `@domain` forms, and regexp, pcre and cidr tables. `-q` results and
//! exit codes must be the same, and `-s` dumps the same up to order.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use e2e::{our_binary, require_peer};

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const DOMAINS: &[&str] = &[
    "example.com",
    "Example.COM",
    "mail.example.org.",
    "sub.example.net",
    "x.y",
];
const VALUES: &[&str] = &[
    "OK",
    "REJECT no thanks",
    "550 5.7.1 go away",
    "DUNNO",
    "relay:[10.0.0.1]:25",
];

fn key(rng: &mut Lcg, i: usize) -> String {
    let domain = DOMAINS[rng.next(DOMAINS.len())];
    match rng.next(7) {
        0 => format!("User{i}@{domain}"),
        1 => format!("user{i}@"),
        2 => format!("@d{i}.{domain}"),
        3 => format!("d{i}.{domain}"),
        4 => format!("2001:db8::{i:x}"),
        5 => format!("10.{}.{}.{}", i % 256, (i / 256) % 256, i % 7),
        _ => format!("MiXeD{i}.{domain}"),
    }
}

/// A hash source with `n` entries, and query keys (present in other case
/// and absent ones).
fn hash_table(n: usize) -> (String, Vec<String>) {
    let mut rng = Lcg(42);
    let mut text = String::from("# generated\n");
    let mut queries = Vec::new();
    for i in 0..n {
        let k = key(&mut rng, i);
        let v = VALUES[rng.next(VALUES.len())];
        text.push_str(&format!("{k}\t{v}\n"));
        if i % 3 == 0 {
            queries.push(if i % 2 == 0 {
                k.to_uppercase()
            } else {
                k.clone()
            });
        }
        if i % 5 == 0 {
            queries.push(format!("absent{i}@{}", DOMAINS[i % DOMAINS.len()]));
        }
    }
    (text, queries)
}

fn run(program: &Path, dir: &Path, args: &[String], stdin: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("MAIL_CONFIG", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_string();
    let writer = std::thread::spawn(move || input.write_all(data.as_bytes()));
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    out
}

/// stdout (sorted when `sort`), stderr with the program name normalised,
/// and the exit code.
fn summary(program: &Path, out: &Output, sort: bool) -> (String, String, Option<i32>) {
    // The build time postalias records (as Debian's does, for NIS) is the
    // one value that differs between two builds.
    let mut lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            if l.starts_with("YP_LAST_MODIFIED") {
                "YP_LAST_MODIFIED"
            } else {
                l
            }
        })
        .collect();
    if sort {
        lines.sort_unstable();
    }
    let stdout = lines.join("\n");
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&program.display().to_string(), "postmap");
    (stdout, stderr, out.status.code())
}

/// Two scratch config directories (ours, theirs) holding the same files.
fn twin_dirs(files: &[(&str, &str)]) -> (tempfile::TempDir, tempfile::TempDir) {
    let make = || {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("main.cf"), "").expect("main.cf");
        for (name, text) in files {
            fs::write(dir.path().join(name), text).expect("table file");
        }
        dir
    };
    (make(), make())
}

fn compare(program: &str, files: &[(&str, &str)], steps: &[(Vec<String>, String, bool)]) {
    let real = match program {
        "postmap" => require_peer!("postmap"),
        _ => require_peer!("postalias"),
    };
    let ours = our_binary(program);
    let (mine, theirs) = twin_dirs(files);
    for (args, stdin, sort) in steps {
        let a = summary(&ours, &run(&ours, mine.path(), args, stdin), *sort);
        let b = summary(&real, &run(&real, theirs.path(), args, stdin), *sort);
        assert_eq!(a, b, "{program} {args:?}");
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn hash_tables_answer_as_postfix() {
    let (text, queries) = hash_table(5000);
    let stdin = queries.join("\n") + "\n";
    let mut steps = vec![
        (args(&["hash:map"]), String::new(), false),
        (args(&["-q", "-", "hash:map"]), stdin.clone(), false),
        (args(&["-s", "hash:map"]), String::new(), true),
        (
            args(&["-q", "nothing-here", "hash:map"]),
            String::new(),
            false,
        ),
        (args(&["-fq", "-", "hash:map"]), stdin, false),
    ];
    for q in queries.iter().take(20) {
        steps.push((
            vec!["-q".into(), q.clone(), "hash:map".into()],
            String::new(),
            false,
        ));
    }
    steps.push((
        args(&["-d", "nothing-here", "hash:map"]),
        String::new(),
        false,
    ));
    compare("postmap", &[("map", &text)], &steps);
}

#[test]
fn pattern_tables_answer_as_postfix() {
    let regexp = "\
/^(user[0-9]+)@example\\.com$/ OK $1
if /@example\\.org$/
/^admin@/ REJECT no admins
!/^postmaster@/ DUNNO
endif
/^([^@]+)@(.+)$/ local=$1 domain=$2
";
    let pcre = "\
/^(?!postmaster@)(\\w+)@(?:sub\\.)?example\\.net$/ user $1
/^(.)\\1/ doubled $1
/\\.(exe|pif|scr|zip)$/i REJECT attachment .$1
";
    let cidr = "\
10.0.0.0/8 internal
!192.0.2.0/24 outside
2001:db8::/32 documentation
192.0.2.1 one
";
    let (text, queries) = hash_table(600);
    let keys = queries.join("\n")
        + "\nuser1@example.com\nadmin@example.org\npostmaster@example.org\nbob@sub.example.net\n\
           aab\nfile.EXE\n10.1.2.3\n192.0.2.1\n192.0.2.9\n2001:db8::7\n";
    let files = [
        ("re", regexp),
        ("pc", pcre),
        ("ci", cidr),
        ("map", text.as_str()),
    ];
    let steps = vec![
        (args(&["-q", "-", "regexp:re"]), keys.clone(), false),
        (args(&["-q", "-", "pcre:pc"]), keys.clone(), false),
        (args(&["-q", "-", "cidr:ci"]), keys.clone(), false),
        (
            args(&["-q", "-", "regexp:re", "cidr:ci"]),
            keys.clone(),
            false,
        ),
        (args(&["-s", "regexp:re"]), String::new(), false),
        (args(&["-q", "x", "inline:{a=b}"]), String::new(), false),
        (
            args(&["-q", "-", "inline:{User@Example.COM=hit, x=y}"]),
            keys,
            false,
        ),
        (args(&["-q", "x", "nosuchtype:foo"]), String::new(), false),
    ];
    compare("postmap", &files, &steps);
}

#[test]
fn aliases_answer_as_postfix() {
    let aliases = "\
# generated aliases
postmaster: root
root: admin@example.com, \"|/usr/bin/procmail -a x\"
owner-list: list-request
list: :include:/etc/postfix/list.txt,
    /var/mail/archive
list-request: admin
\"quoted name\": someone
MixedCase: Target@Example.COM
";
    let steps = vec![
        (args(&["aliases"]), String::new(), false),
        (
            args(&["-q", "-", "aliases"]),
            "root\nlist\nmixedcase\nquoted name\nnone\n".into(),
            false,
        ),
        (args(&["-q", "postmaster", "aliases"]), String::new(), false),
        (args(&["-q", "nobody", "aliases"]), String::new(), false),
        (args(&["-s", "aliases"]), String::new(), true),
    ];
    compare("postalias", &[("aliases", aliases)], &steps);
}
