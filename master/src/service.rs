//! The daemon's side of the master.cf `chroot` column (Postfix's
//! `chroot_uid()`, which every server skeleton calls): the master starts
//! a chrooted service as root with `-C` (and `-u` when it is
//! unprivileged), and the daemon, once it has read its configuration and
//! opened everything outside the queue it needs (tables, TLS files,
//! resolver configuration, logs), calls [`enter_chroot`]: chroot into
//! `queue_directory`, chdir to the new `/`, and for an unprivileged
//! service drop to `mail_owner` for good (setgid, setgroups to that one
//! group, setuid), before it reads any input.
//!
//! `-C` and not Postfix's `-c`: our daemons take `-c config_dir`.

use std::path::PathBuf;

use conf::Config;
use nix::unistd::{Gid, Uid, User};

/// The main.cf parameters [`enter_chroot`] reads, for the CONFIGURATION
/// PARAMETERS sections of the daemons that call it.
pub const PARAMETERS: &[&str] = &["mail_owner", "queue_directory"];

/// Why a daemon could not enter its chroot or drop its privileges: it
/// must not go on serving (it would run as root, or outside the jail).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Conf(#[from] conf::config::Error),
    #[error("parameter mail_owner: unknown user name value: {0}")]
    UnknownOwner(String),
    #[error("parameter mail_owner: user {0} has privileged user ID")]
    PrivilegedOwner(String),
    #[error("parameter mail_owner: look up {name}: {source}")]
    Lookup { name: String, source: nix::Error },
    #[error("chroot {path}: {source}")]
    Chroot { path: PathBuf, source: nix::Error },
    #[error("{step}: {source}")]
    Credentials {
        step: &'static str,
        source: nix::Error,
    },
}

/// Who an unprivileged daemon becomes: `mail_owner`'s ids, looked up
/// before the chroot (the passwd file is outside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: Uid,
    pub gid: Gid,
}

impl Owner {
    /// `mail_owner`'s ids, refusing root as Postfix does.
    pub fn from_config(config: &Config) -> Result<Owner, Error> {
        let name = config.get("mail_owner")?.unwrap_or_default();
        let user = User::from_name(&name)
            .map_err(|source| Error::Lookup {
                name: name.clone(),
                source,
            })?
            .ok_or_else(|| Error::UnknownOwner(name.clone()))?;
        if user.uid.is_root() {
            return Err(Error::PrivilegedOwner(name));
        }
        Ok(Owner {
            uid: user.uid,
            gid: user.gid,
        })
    }
}

/// Chroot into `queue_directory` and chdir to `/`, so that the queue's
/// relative paths (`incoming/...`) keep working; then, when `unprivileged`,
/// become `mail_owner` for good (Postfix's set_ugid(): setgid, setgroups
/// to that group alone, setuid). Call it before the process starts
/// threads: credentials then change for the one thread there is.
///
/// Inside the jail, `/dev/log` is `$queue_directory/dev/log` (where
/// Debian's rsyslog listens for a chrooted Postfix); files opened before
/// stay open.
pub fn enter_chroot(config: &Config, unprivileged: bool) -> Result<(), Error> {
    let owner = if unprivileged {
        Some(Owner::from_config(config)?)
    } else {
        None
    };
    let path = PathBuf::from(config.get("queue_directory")?.unwrap_or_default());
    nix::unistd::chroot(&path).map_err(|source| Error::Chroot {
        path: path.clone(),
        source,
    })?;
    nix::unistd::chdir("/").map_err(|source| Error::Chroot { path, source })?;
    if let Some(owner) = owner {
        drop_to(owner)?;
    }
    Ok(())
}

/// setgid, setgroups, setuid: for good, real, effective and saved ids.
fn drop_to(owner: Owner) -> Result<(), Error> {
    let step = |step, r: nix::Result<()>| r.map_err(|source| Error::Credentials { step, source });
    step("setgid", nix::unistd::setgid(owner.gid))?;
    step("setgroups", nix::unistd::setgroups(&[owner.gid]))?;
    step("setuid", nix::unistd::setuid(owner.uid))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lines: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.cf"), lines).unwrap();
        let config = Config::load(dir.path(), &[]).unwrap();
        (dir, config)
    }

    /// A root or unknown mail_owner stops the daemon before the chroot:
    /// it must not serve as root.
    #[test]
    fn mail_owner_must_exist_and_not_be_root() {
        let (_d, root) = config("mail_owner = root\nqueue_directory = /nonexistent\n");
        assert!(matches!(
            enter_chroot(&root, true),
            Err(Error::PrivilegedOwner(name)) if name == "root"
        ));
        let (_d, unknown) = config("mail_owner = no-such-user-x\n");
        let err = enter_chroot(&unknown, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter mail_owner: unknown user name value: no-such-user-x"
        );
        let (_d, nobody) = config("mail_owner = nobody\n");
        if let Ok(owner) = Owner::from_config(&nobody) {
            assert!(!owner.uid.is_root());
        }
    }

    /// Without the privilege to chroot (a missing directory for root),
    /// the error names the directory and nothing changed.
    #[test]
    fn a_failed_chroot_is_an_error_naming_the_directory() {
        let (_d, config) = config("queue_directory = /nonexistent/queue\n");
        let err = enter_chroot(&config, false).unwrap_err();
        assert!(
            err.to_string().starts_with("chroot /nonexistent/queue: "),
            "{err}"
        );
        assert!(std::path::Path::new("/proc/self/root").exists());
    }
}
