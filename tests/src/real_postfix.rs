//! The distribution's Postfix as a private instance on a loopback port
//! (`scripts/real-postfix`), the oracle for differential tests: its
//! smtpd's replies and its cleanup's log lines.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::unistd::Uid;
use tempfile::TempDir;

use crate::{binary, free_port};

/// A running real Postfix; stopped on drop.
#[derive(Debug)]
pub struct RealPostfix {
    dir: TempDir,
    port: u16,
}

impl RealPostfix {
    /// Starts an instance with `files` (name, contents) in its directory
    /// and `extra` main.cf lines, in which `{dir}` stands for that
    /// directory; or `None` (with a message) when Postfix cannot run here:
    /// not root, or not installed.
    ///
    /// # Panics
    /// Under `CI=true` when it cannot run, and when the start fails.
    pub fn start(files: &[(&str, &[u8])], extra: &[String]) -> Option<RealPostfix> {
        crate::peer("postfix")?;
        if !Uid::effective().is_root() {
            let why = "the real Postfix needs root";
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
            eprintln!("skipped: {why}");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("real-postfix.")
            .tempdir()
            .expect("temporary directory");
        for (name, contents) in files {
            fs::write(dir.path().join(name), contents).expect("write a file of the instance");
        }
        let dir_text = dir.path().display().to_string();
        let extra: Vec<String> = extra
            .iter()
            .map(|l| l.replace("{dir}", &dir_text))
            .collect();
        let port = free_port();
        let status = Command::new(binary::workspace_root().join("scripts/real-postfix"))
            .arg("start")
            .arg(dir.path())
            .arg(port.to_string())
            .args(&extra)
            .status()
            .expect("run scripts/real-postfix");
        assert!(status.success(), "scripts/real-postfix start failed");
        Some(RealPostfix { dir, port })
    }

    /// The instance's directory (`etc/`, `spool/`, `maillog`, files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn queue_dir(&self) -> PathBuf {
        self.dir.path().join("spool")
    }

    /// The instance's log so far.
    pub fn maillog(&self) -> String {
        fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for RealPostfix {
    fn drop(&mut self) {
        let _ = Command::new(binary::workspace_root().join("scripts/real-postfix"))
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}
