//! Our smtpd on its own, without a master: the instance's queue
//! directories are created, a listener is bound on the instance's SMTP
//! port and handed over as file descriptor 3 (`scripts/with-listener`),
//! as the master will hand it, and the test waits for smtpd's readiness
//! line.

use std::process::Command;

use crate::daemon::READY_TIMEOUT;
use crate::{Daemon, Instance, binary};

impl Instance {
    /// Starts our smtpd on `127.0.0.1:{port}` with this instance's
    /// configuration, and waits until it is ready.
    ///
    /// # Panics
    /// If the queue directories cannot be made, or smtpd does not start.
    pub fn start_smtpd(&self) -> Daemon {
        queue::QueueDirs::new(self.queue_dir())
            .create_all()
            .unwrap_or_else(|e| panic!("cannot create the queue directories: {e}"));
        let mut cmd = Command::new(binary::workspace_root().join("scripts/with-listener"));
        cmd.arg(self.smtp_addr())
            .arg(binary::our_binary("smtpd"))
            .arg("-c")
            .arg(self.config_dir())
            .current_dir(self.root());
        let log = (1..)
            .map(|n| self.log_dir().join(format!("smtpd-{n}.log")))
            .find(|p| !p.exists())
            .expect("some numbered log file name is free");
        let daemon = Daemon::spawn(cmd, log).unwrap_or_else(|e| panic!("{e}"));
        // with-listener execs smtpd, which keeps its process ID.
        let ready = format!("postfix/smtpd[{}]: ready", daemon.pid());
        if let Err(e) = daemon.wait_for_line(&ready, READY_TIMEOUT) {
            panic!("{e}\n{}", daemon.report());
        }
        daemon
    }
}
