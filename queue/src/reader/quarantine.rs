//! Moving a damaged queue file aside to `corrupt/`, where it is kept for
//! the administrator and never read again, with the two warnings Postfix's
//! qmgr logs (`qmgr_active_corrupt`).

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::dir::{QueueDirs, QueueName};
use crate::error::Error;

/// A file moved to `corrupt/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// The file name (the queue ID, if the name was one).
    pub name: String,
    /// The queue it was in (`active`, `incoming`, ...).
    pub from_queue: String,
    pub to: PathBuf,
    pub reason: String,
}

impl Quarantined {
    /// The lines to log at warning level, as Postfix logs them:
    /// `ID: reason`, then
    /// `saving corrupt file "ID" from queue "active" to queue "corrupt"`.
    pub fn log_lines(&self) -> [String; 2] {
        [
            format!("{}: {}", self.name, self.reason),
            format!(
                "saving corrupt file \"{}\" from queue \"{}\" to queue \"{}\"",
                self.name,
                self.from_queue,
                QueueName::Corrupt
            ),
        ]
    }
}

/// Move the file at `path` (in one of the queues of `dirs`) to
/// `corrupt/` under the same name, and make the move durable.
pub fn quarantine(
    dirs: &QueueDirs,
    path: &Path,
    reason: &dyn fmt::Display,
) -> Result<Quarantined, Error> {
    let bad_name = || {
        let e = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a queue file name");
        Error::io("quarantine", path, e)
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.starts_with('.'))
        .ok_or_else(bad_name)?;
    let from_queue = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or("?");
    let corrupt = dirs.dir(QueueName::Corrupt);
    let to = corrupt.join(name);
    fs::rename(path, &to).map_err(|e| Error::io("rename", path, e))?;
    File::open(&corrupt)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync", &corrupt, e))?;
    Ok(Quarantined {
        name: name.to_string(),
        from_queue: from_queue.to_string(),
        to,
        reason: reason.to_string(),
    })
}
