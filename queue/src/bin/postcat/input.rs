//! The inputs of postcat in order: standard input, the named files, or
//! (with `-q`) queue files looked up by ID in the queue directories, as
//! Postfix's postcat finds them.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use jiff::tz::TimeZone as Zone;
use queue::QueueName;

use super::diag;
use super::opts::Opts;
use super::print::{Printer, Stop};

/// The queues `-q` searches, in Postfix's order.
const SEARCHED: [QueueName; 6] = [
    QueueName::Maildrop,
    QueueName::Incoming,
    QueueName::Active,
    QueueName::Deferred,
    QueueName::Hold,
    QueueName::Saved,
];

const BUFFER: usize = 64 * 1024;

/// Print every input; `Err` is the text of the fatal error that ends the
/// program.
pub(crate) fn run(opts: &Opts, queue_directory: &str, zone: &Zone) -> Result<(), String> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(BUFFER, stdout.lock());
    let result = if opts.files.is_empty() {
        stdin(opts, zone, &mut out)
    } else if opts.search_queue {
        queue_files(opts, queue_directory, zone, &mut out)
    } else {
        named_files(opts, zone, &mut out)
    };
    let flushed = out.flush().map_err(write_error);
    result.and(flushed)
}

fn write_error(e: io::Error) -> String {
    format!("write standard output: {}", conf::io_reason(&e))
}

fn reason(e: &io::Error) -> String {
    conf::io_reason(e)
}

/// Print one input, turning a damaged record into Postfix's warning and
/// fatal `record read error`.
fn print<R: Read, W: Write>(
    opts: &Opts,
    zone: &Zone,
    out: &mut W,
    name: &str,
    input: R,
) -> Result<(), String> {
    let mut printer = Printer::new(out, opts.flags, zone, name);
    let result = printer.run(BufReader::with_capacity(BUFFER, input), opts.start);
    out.flush().map_err(write_error)?;
    match result {
        Ok(()) => Ok(()),
        Err(Stop::Write(e)) => Err(write_error(e)),
        Err(Stop::Record(text)) => {
            diag::warning(&text);
            Err("record read error".to_string())
        }
    }
}

fn stdin<W: Write>(opts: &Opts, zone: &Zone, out: &mut W) -> Result<(), String> {
    let mut input = io::stdin().lock();
    if opts.start > 0 {
        let skipped = io::copy(&mut (&mut input).take(opts.start), &mut io::sink())
            .map_err(|e| format!("stdin: read: {}", reason(&e)))?;
        if skipped < opts.start {
            return Err(format!(
                "stdin: skip {} bytes failed after {skipped}",
                opts.start
            ));
        }
    }
    print(opts, zone, out, "stdin", input)
}

fn named_files<W: Write>(opts: &Opts, zone: &Zone, out: &mut W) -> Result<(), String> {
    for arg in &opts.files {
        let name = arg.to_string_lossy();
        let mut file = File::open(arg).map_err(|e| format!("open {name}: {}", reason(&e)))?;
        if opts.start > 0 {
            file.seek(SeekFrom::Start(opts.start))
                .map_err(|e| format!("{name}: seek to {}: {}", opts.start, reason(&e)))?;
        }
        print(opts, zone, out, &name, file)?;
    }
    Ok(())
}

/// Postfix's `mail_queue_id_ok()`: 1 to 255 letters, digits and `_`, so
/// the name cannot leave the queue directory.
fn id_ok(id: &OsString) -> bool {
    let b = id.as_encoded_bytes();
    !b.is_empty() && b.len() <= 255 && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

fn queue_files<W: Write>(
    opts: &Opts,
    queue_directory: &str,
    zone: &Zone,
    out: &mut W,
) -> Result<(), String> {
    std::env::set_current_dir(queue_directory)
        .map_err(|e| format!("chdir {queue_directory}: {}", reason(&e)))?;
    for id in &opts.files {
        let shown = id.to_string_lossy();
        if !id_ok(id) {
            return Err(format!("bad mail queue ID: {shown}"));
        }
        let (name, file) = open_queue_file(&shown)
            .map_err(|e| format!("open queue file {shown}: {}", reason(&e)))?;
        if opts.start > 0 {
            let mut file = &file;
            file.seek(SeekFrom::Start(opts.start))
                .map_err(|e| format!("{name}: seek to {}: {}", opts.start, reason(&e)))?;
        }
        print(opts, zone, out, &name, &file)?;
    }
    Ok(())
}

/// Look in each queue, twice (the file may be moving between queues).
fn open_queue_file(id: &str) -> io::Result<(String, File)> {
    let mut last = io::Error::from(io::ErrorKind::NotFound);
    for _ in 0..2 {
        for q in SEARCHED {
            let name = format!("{q}/{id}");
            match File::open(Path::new(&name)) {
                Ok(file) => return Ok((name, file)),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_that_stay_in_the_queue() {
        assert!(id_ok(&"4ZzCqG0yB3z12".into()));
        assert!(id_ok(&"ABC_def".into()));
        for bad in ["", "../x", "a/b", "a.b", "a b", &"x".repeat(256)] {
            assert!(!id_ok(&bad.into()), "{bad}");
        }
    }
}
