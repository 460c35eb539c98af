//! Words of a master.cf entry: splitting with `{ }` grouping, and the
//! normal form of daemon arguments that postconf prints and edits.

use super::Warning;

/// Word separators inside an entry (Postfix's `PCF_MASTER_BLANKS`).
pub(crate) fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// C `isspace()`, which Postfix uses for trimming and line structure.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Whether `text` contains a word separator (then it needs `{}` to print).
pub(crate) fn has_blank(text: &str) -> bool {
    text.bytes().any(is_blank)
}

/// Split on blanks, keeping `{ ... }` groups (with their braces) in one
/// word. Braces nest; a `}` outside any group is an ordinary character.
pub(crate) fn split_quoted(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && is_blank(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            return words;
        }
        let start = i;
        let mut level = 0usize;
        while let Some(&b) = bytes.get(i) {
            if b == b'{' {
                level += 1;
            } else if level > 0 && b == b'}' {
                level -= 1;
            } else if level == 0 && is_blank(b) {
                break;
            }
            i += 1;
        }
        // Cut points are ASCII bytes, so they are char boundaries.
        words.push(text[start..i].to_string());
    }
}

/// A word in the option section: starts with `-` and is not `--`.
pub(crate) fn is_option(word: &str) -> bool {
    word.starts_with('-') && word != "--"
}

/// Whether option `word` takes the next word as its value. Postfix asks
/// `strchr("o", word[1])`, which is also true for a lone `-` (the C
/// string's terminating NUL is "found"); we keep that so entries print,
/// edit and expand the same way.
pub(crate) fn takes_value(word: &str) -> bool {
    matches!(word.as_bytes().get(1), None | Some(b'o'))
}

/// The length of a balanced `{...}` at the start of `text`, 0 if none.
fn balanced_len(text: &[u8]) -> usize {
    let mut level = 0usize;
    for (i, &b) in text.iter().enumerate() {
        if b == b'{' {
            level += 1;
        } else if b == b'}' && level > 0 {
            level -= 1;
            if level == 0 {
                return i + 1;
            }
        }
        if i == 0 && level == 0 {
            return 0;
        }
    }
    0
}

/// The text inside a `{ ... }` word, trimmed, with a warning when the `}`
/// is missing or followed by more text.
fn unwrap_braces(word: &str, warn: &mut dyn FnMut(Warning)) -> String {
    let len = balanced_len(word.as_bytes());
    let inner = if len == 0 {
        warn(Warning::Braces {
            detail: format!("missing '}}' in \"{word}\""),
        });
        &word[1..]
    } else {
        if len < word.len() {
            warn(Warning::Braces {
                detail: format!("syntax error after '}}' in \"{word}\""),
            });
        }
        &word[1..len - 1]
    };
    trim_space(inner).to_string()
}

fn trim_space(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_ascii() && is_space(c as u8))
}

/// Split `name = value` (or `name=value`) with Postfix's rules: the name
/// ends at white space or `=`, blanks around the value are trimmed.
/// Errors are Postfix's texts.
pub fn split_nameval(text: &str) -> Result<(&str, &str), &'static str> {
    let text = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    if text.is_empty() || text.starts_with('=') {
        return Err("missing attribute name");
    }
    let name_end = text
        .bytes()
        .position(|b| is_space(b) || b == b'=')
        .unwrap_or(text.len());
    let (name, rest) = text.split_at(name_end);
    let rest = rest.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    let Some(value) = rest.strip_prefix('=') else {
        return Err("missing '=' after attribute name");
    };
    Ok((name, trim_space(value)))
}

/// Bring the words from `start` on into Postfix's normal form:
/// `-stuffozz` → `-stuff -ozz`, `-oname=value` → `-o name=value`,
/// `-o { name = value }` → `-o name=value`, and `{ text }` → `text`
/// everywhere else.
pub(crate) fn normalize(argv: &mut Vec<String>, start: usize, warn: &mut dyn FnMut(Warning)) {
    let mut i = start;
    while i < argv.len() && is_option(&argv[i]) {
        split_cluster(argv, i);
        if !takes_value(&argv[i]) {
            i += 1;
            continue;
        }
        let value_at = if argv[i].len() > 2 {
            // "-oname=value": the value is attached.
            let value = argv[i].split_off(2);
            argv.insert(i + 1, value);
            Some(i + 1)
        } else if i + 1 < argv.len() {
            Some(i + 1)
        } else {
            None
        };
        if let Some(v) = value_at.filter(|&v| argv[v].starts_with('{')) {
            argv[v] = unwrap_braces(&argv[v], warn);
            if argv[i] == "-o" {
                normalize_nameval(&mut argv[v], warn);
            }
        }
        i = value_at.map_or(i, |v| v) + 1;
    }
    for word in argv.iter_mut().skip(i) {
        if word.starts_with('{') {
            *word = unwrap_braces(word, warn);
        }
    }
}

/// If an `o` appears after the first option letter, cut the word there:
/// the `o` and what follows become a new `-o...` word after it.
fn split_cluster(argv: &mut Vec<String>, i: usize) {
    let Some(pos) = argv[i].bytes().skip(2).position(|b| b == b'o') else {
        return;
    };
    let tail = argv[i].split_off(pos + 2);
    argv.insert(i + 1, format!("-{tail}"));
}

/// `name = value` from inside `{}` becomes `name=value`.
fn normalize_nameval(word: &mut String, warn: &mut dyn FnMut(Warning)) {
    match split_nameval(word) {
        Ok((name, value)) => *word = format!("{name}={value}"),
        Err(detail) => warn(Warning::NameValue {
            detail,
            text: word.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> (Vec<String>, Vec<String>) {
        let mut argv = split_quoted(text);
        let mut warnings = Vec::new();
        normalize(&mut argv, 1, &mut |w| warnings.push(w.to_string()));
        (argv, warnings)
    }

    #[test]
    fn split_keeps_brace_groups() {
        assert_eq!(
            split_quoted("  a {b c} {d {e f} g}x }h\t{i"),
            vec!["a", "{b c}", "{d {e f} g}x", "}h", "{i"]
        );
        assert!(split_quoted(" \t\r\n").is_empty());
    }

    #[test]
    fn nameval_rules() {
        assert_eq!(split_nameval(" a = b c "), Ok(("a", "b c")));
        assert_eq!(split_nameval("a="), Ok(("a", "")));
        assert_eq!(split_nameval("a==b"), Ok(("a", "=b")));
        assert_eq!(split_nameval("=b"), Err("missing attribute name"));
        assert_eq!(split_nameval("  "), Err("missing attribute name"));
        assert_eq!(
            split_nameval("a b=c"),
            Err("missing '=' after attribute name")
        );
        assert_eq!(
            split_nameval("foo/unix"),
            Err("missing '=' after attribute name")
        );
    }

    #[test]
    fn attached_and_clustered_options() {
        let (argv, w) = norm("cmd -voaaa=bbb -vo ccc=x -v -oddd=y arg -oz=1");
        assert_eq!(
            argv,
            vec![
                "cmd", "-v", "-o", "aaa=bbb", "-v", "-o", "ccc=x", "-v", "-o", "ddd=y", "arg",
                "-oz=1"
            ]
        );
        assert!(w.is_empty());
        let (argv, _) = norm("aa -stuffobb=cc dd");
        assert_eq!(argv, vec!["aa", "-stuff", "-o", "bb=cc", "dd"]);
    }

    #[test]
    fn every_later_o_letter_splits_like_postfix() {
        // Postfix splits at any 'o' after the first option letter, even
        // inside an attached value.
        let (argv, _) = norm("x -ofoo=boo -xo -o -- -o a=b");
        assert_eq!(
            argv,
            vec![
                "x", "-o", "f", "-o", "-o=boo", "-x", "-o", "-o", "--", "-o", "a=b"
            ]
        );
    }

    #[test]
    fn lone_dash_takes_a_value() {
        let (argv, _) = norm("other -v - -o a=b - x");
        assert_eq!(argv, vec!["other", "-v", "-", "-o", "a=b", "-", "x"]);
    }

    #[test]
    fn braces_are_unwrapped_with_warnings() {
        let (argv, w) = norm(
            "other -o name1=value1 -o { name2 = value2a value2b } { arg1a arg1b } { arg2a arg2b }x { arg3a arg3b ",
        );
        assert_eq!(
            argv,
            vec![
                "other",
                "-o",
                "name1=value1",
                "-o",
                "name2=value2a value2b",
                "arg1a arg1b",
                "arg2a arg2b",
                "arg3a arg3b"
            ]
        );
        assert_eq!(
            w,
            vec![
                "master.cf: syntax error after '}' in \"{ arg2a arg2b }x\"",
                "master.cf: missing '}' in \"{ arg3a arg3b \"",
            ]
        );
    }

    #[test]
    fn braced_value_without_equals_is_kept_with_a_warning() {
        let (argv, w) = norm("c -o {c d} -o{ e = f }");
        assert_eq!(argv, vec!["c", "-o", "c d", "-o", "e=f"]);
        assert_eq!(
            w,
            vec!["master.cf: missing '=' after attribute name: \"c d\""]
        );
    }

    #[test]
    fn trailing_option_without_value() {
        let (argv, _) = norm("spawn -o always_bcc=$bar -o");
        assert_eq!(argv, vec!["spawn", "-o", "always_bcc=$bar", "-o"]);
    }

    #[test]
    fn unbalanced_and_odd_braces() {
        assert_eq!(balanced_len(b"{a{b}c}d"), 7);
        assert_eq!(balanced_len(b"{a{b}c"), 0);
        assert_eq!(balanced_len(b"x{}"), 0);
        assert_eq!(balanced_len(b"{"), 0);
        let (argv, w) = norm("c {");
        assert_eq!(argv, vec!["c", ""]);
        assert_eq!(w.len(), 1);
    }
}
