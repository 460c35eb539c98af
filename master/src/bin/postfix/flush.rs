//! `postfix flush`: Postfix runs `postqueue -f`, which asks qmgr through
//! `public/qmgr` to retry deferred mail. Without qmgr listening there the
//! answer is postqueue's: the mail system is down, exit 69.

use std::path::Path;

use crate::say::{Message, Program};

/// EX_UNAVAILABLE, postqueue's status when it cannot reach qmgr.
pub(crate) const EX_UNAVAILABLE: u8 = 69;

/// The messages and exit status of a flush request for `queue_dir`.
pub(crate) fn flush(queue_dir: &Path) -> (Vec<Message>, u8) {
    let socket = queue_dir.join("public/qmgr");
    let mut messages = Vec::new();
    if let Err(e) = std::fs::symlink_metadata(&socket) {
        messages.push(
            Message::warning(format!(
                "unable to look up public/qmgr: {}",
                conf::io_reason(&e)
            ))
            .of(Program::Postqueue),
        );
        messages.push(
            Message::fatal("Cannot flush mail queue - mail system is down").of(Program::Postqueue),
        );
    } else {
        // The socket is there, but our qmgr does not take flush requests.
        messages.push(
            Message::fatal(
                "Cannot flush mail queue - deferred mail flushing needs a qmgr that takes \
                 flush requests, which this suite does not have yet",
            )
            .of(Program::Postqueue),
        );
    }
    (messages, EX_UNAVAILABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_qmgr_the_mail_system_is_down() {
        let dir = tempfile::tempdir().unwrap();
        let (messages, status) = flush(dir.path());
        let lines: Vec<String> = messages.iter().map(|m| m.stderr_line("postfix")).collect();
        assert_eq!(
            lines,
            [
                "postqueue: warning: unable to look up public/qmgr: No such file or directory",
                "postqueue: fatal: Cannot flush mail queue - mail system is down",
            ]
        );
        assert_eq!(status, 69);
    }
}
