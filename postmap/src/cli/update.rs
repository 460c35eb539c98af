//! Building a table from its source file, or adding entries from stdin
//! with `-i` (postmap.c `postmap`, postalias.c `postalias`), in Postfix's
//! order: refuse `proxy:`, open the source, take its permissions and, as
//! root, its owner (see [`super::owner`]), check that the type can be
//! built, then parse and write. Indexed types are written by
//! [`crate::indexed`]; `fail:` fails at its first entry.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::time::SystemTime;

use crate::indexed::{self, BuildError, Kind, WriteOptions};
use crate::source::{self, ParseOptions, Parsed, Syntax};

use super::Context;
use super::diag::{self, Fatal, fatal};
use super::maps::arg_text;
use super::owner;
use super::progress::Progress;

/// What a type builds into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Indexed(Kind),
    /// `fail:`: accepts the open, fails every write.
    Fail,
}

/// Postfix `mkmap_open()`'s verdict on a type.
fn target(kind: &str) -> Result<Target, Fatal> {
    if kind == "fail" {
        return Ok(Target::Fail);
    }
    if let Some(kind) = Kind::from_type(kind) {
        return Ok(Target::Indexed(kind));
    }
    if crate::supported_types().contains(&kind) {
        return Err(fatal(format!(
            "unsupported dictionary type: {kind} does not support bulk-mode creation."
        )));
    }
    // Debian's Postfix loads most types as plug-ins and says so.
    Err(fatal(format!(
        "unsupported dictionary type: {kind}. Is the postfix-{kind} package installed?"
    )))
}

/// The source: the file named, or stdin with `-i`.
fn open_source(cx: &Context<'_>, kind: &str, name: &str) -> Result<File, Fatal> {
    if cx.opts.incremental {
        let fd = io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| fatal(format!("fstat {name}: {}", conf::io_reason(&e))))?;
        return Ok(File::from(fd));
    }
    if kind == "proxy" {
        return Err(fatal("can't create maps via the proxy service"));
    }
    File::open(name).map_err(|e| fatal(format!("open {name}: {}", conf::io_reason(&e))))
}

/// Build (or with `-i` update) the table `arg` names (`[type:]name`).
pub(crate) fn run(cx: &Context<'_>, arg: &OsStr) -> Result<(), Fatal> {
    let arg = arg_text(arg);
    let (kind, name) = match arg.split_once(':') {
        Some((kind, name)) => (kind, name),
        None => (cx.settings.default_type.as_str(), arg.as_str()),
    };
    let mut source = open_source(cx, kind, name)?;
    let meta = source
        .metadata()
        .map_err(|e| fatal(format!("fstat {name}: {}", conf::io_reason(&e))))?;
    let mode = if cx.opts.save_perm && meta.is_file() {
        WriteOptions::mode_from_source(meta.mode())
    } else {
        0o644
    };
    if cx.opts.as_owner {
        owner::become_owner(&meta)?;
    }
    let target = target(kind)?;
    let label = if cx.opts.incremental { "stdin" } else { name };
    let progress = Progress::start(label, if cx.opts.incremental { 0 } else { meta.len() });
    let mut text = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    source
        .read_to_end(&mut text)
        .map_err(|e| fatal(format!("read {label}: {}", conf::io_reason(&e))))?;
    let parsed = parse(cx, &text, label);
    match target {
        Target::Fail => {
            progress.done();
            fail(kind, name, &parsed)
        }
        Target::Indexed(kind) => write(cx, kind, name, &parsed, mode, &progress),
    }
}

fn parse(cx: &Context<'_>, text: &[u8], label: &str) -> Parsed {
    let opts = ParseOptions {
        fold: cx.opts.fold,
        rhs_is_file: cx.opts.rhs_is_file,
        utf8_check: cx.utf8,
        syntax: Syntax::Postmap,
    };
    if !cx.program.aliases {
        return source::parse(text, label, &opts);
    }
    let mut parsed = crate::aliases::parse(text, label, &opts);
    // Debian's postalias is built with NIS support: it adds the NIS
    // entries after the Sendmail `@` signature.
    let host = cx.settings.myhostname.as_str();
    crate::aliases::add_signatures(&mut parsed.records, Some((host, SystemTime::now())));
    parsed
}

/// `fail:`: the warnings up to the first entry, then the write error.
fn fail(kind: &str, name: &str, parsed: &Parsed) -> Result<(), Fatal> {
    let cutoff = match parsed.records.get(0) {
        None => usize::MAX,
        Some(first) if first.signature => usize::MAX,
        Some(first) => first.line,
    };
    for w in parsed.warnings.iter().filter(|w| w.line <= cutoff) {
        diag::warn(&w.text);
    }
    if parsed.records.is_empty() {
        return Ok(());
    }
    Err(fatal(format!(
        "table {kind}:{name}: write error: Application error"
    )))
}

fn write(
    cx: &Context<'_>,
    kind: Kind,
    name: &str,
    parsed: &Parsed,
    mode: u32,
    progress: &Progress,
) -> Result<(), Fatal> {
    let opts = WriteOptions {
        dup: cx.opts.dup,
        mode,
    };
    let path = kind.path(name);
    progress.writing(
        &format!("{}:{}", kind.type_name(), path.display()),
        parsed.records.len(),
    );
    let written = if cx.opts.incremental {
        indexed::update(kind, name, parsed, &opts)
    } else {
        indexed::create(kind, name, parsed, &opts)
    };
    progress.done();
    match written {
        Ok(warnings) => {
            warnings.iter().for_each(diag::warn);
            Ok(())
        }
        Err(e) => {
            parsed.warnings.iter().for_each(|w| diag::warn(&w.text));
            Err(match e {
                BuildError::Io {
                    op: "create",
                    reason,
                    ..
                } => fatal(format!("open database {}: {reason}", path.display())),
                other => fatal(other),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(kind: &str) -> Result<Target, String> {
        target(kind).map_err(|f| f.0)
    }

    #[test]
    fn types_are_judged_as_mkmap_open_does() {
        assert_eq!(verdict("hash"), Ok(Target::Indexed(Kind::Hash)));
        assert_eq!(verdict("lmdb"), Ok(Target::Indexed(Kind::Lmdb)));
        assert_eq!(verdict("fail"), Ok(Target::Fail));
        assert_eq!(
            verdict("regexp"),
            Err("unsupported dictionary type: regexp does not support bulk-mode creation.".into())
        );
        assert_eq!(
            verdict("proxy"),
            Err("unsupported dictionary type: proxy does not support bulk-mode creation.".into())
        );
        assert_eq!(
            verdict("foo"),
            Err("unsupported dictionary type: foo. Is the postfix-foo package installed?".into())
        );
        assert_eq!(
            verdict(""),
            Err("unsupported dictionary type: . Is the postfix- package installed?".into())
        );
    }
}
