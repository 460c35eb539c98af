//! Progress of a large build on a terminal. Postfix prints nothing while
//! it builds; a million-line table takes long enough that an admin at a
//! terminal deserves a sign of life. Only when stderr is a terminal and
//! the source is large, so scripts, logs and tests see Postfix's output.

use std::io::IsTerminal;

use super::diag;

/// Sources from this size (about 150k lines) show progress.
const LARGE: u64 = 4 << 20;

#[derive(Debug)]
pub(crate) struct Progress {
    on: bool,
}

impl Progress {
    /// Start reading `source` of `size` bytes.
    pub(crate) fn start(source: &str, size: u64) -> Progress {
        let on = size >= LARGE && std::io::stderr().is_terminal();
        if on {
            diag::status_line(&format!("reading {source} ({} MB)", size >> 20));
        }
        Progress { on }
    }

    /// The source is parsed; the table is being written.
    pub(crate) fn writing(&self, table: &str, entries: usize) {
        if self.on {
            diag::status_line(&format!("writing {table}: {entries} entries"));
        }
    }

    /// Erase the status line (before warnings are printed).
    pub(crate) fn done(&self) {
        if self.on {
            diag::status_line("");
        }
    }
}
