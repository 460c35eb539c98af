//! `unix:passwd.byname` and `unix:group.byname`: the system's user and
//! group databases as tables (Postfix `dict_unix.c`), which the default
//! `local_recipient_maps` (`proxy:unix:passwd.byname $alias_maps`) uses to
//! know the local users. Values are the `/etc/passwd` and `/etc/group`
//! line shapes.
//!
//! A process about to chroot (smtpd with master.cf `chroot = y`) calls
//! [`snapshot_files`] first: from then on these tables answer from the
//! `/etc/passwd` and `/etc/group` read at that moment, which the jail
//! cannot see (Postfix asks its unchrooted proxymap instead).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::fold_key;
use crate::table::{Error, OpenOptions, Opened, Table};

/// The user and group files as read by [`snapshot_files`]: name → line.
#[derive(Debug, Default)]
struct Snapshot {
    passwd: HashMap<String, String>,
    group: HashMap<String, String>,
}

static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();

/// Read `/etc/passwd` and `/etc/group` now; every `unix:` table of this
/// process answers from them from then on. Only the files are seen, not
/// other NSS sources. Fails if a file cannot be read.
pub fn snapshot_files() -> std::io::Result<()> {
    let read = |path: &str| -> std::io::Result<HashMap<String, String>> {
        Ok(std::fs::read_to_string(path)?
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| Some((l.split_once(':')?.0.to_string(), l.to_string())))
            .collect())
    };
    let snapshot = Snapshot {
        passwd: read("/etc/passwd")?,
        group: read("/etc/group")?,
    };
    // A second call keeps the first snapshot: both come from one jail.
    let _ = SNAPSHOT.set(snapshot);
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Database {
    Passwd,
    Group,
}

#[derive(Debug)]
pub struct Unix {
    spec: String,
    database: Database,
    fold: bool,
}

/// Open `unix:passwd.byname` or `unix:group.byname`.
pub fn open(name: &str, opts: &OpenOptions) -> Result<Opened, Error> {
    let database = match name {
        "passwd.byname" => Database::Passwd,
        "group.byname" => Database::Group,
        _ => return Err(Error::Open(format!("unknown table: unix:{name}"))),
    };
    Ok(Opened::new(Unix {
        spec: format!("unix:{name}"),
        database,
        fold: opts.fold,
    }))
}

impl Table for Unix {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, Error> {
        let key = fold_key(key, self.fold);
        if let Some(snapshot) = SNAPSHOT.get() {
            let lines = match self.database {
                Database::Passwd => &snapshot.passwd,
                Database::Group => &snapshot.group,
            };
            return Ok(lines.get(key.as_ref()).cloned());
        }
        let failed = |e: nix::Error| Error::Lookup {
            spec: self.spec.clone(),
            reason: e.desc().to_string(),
        };
        match self.database {
            Database::Passwd => Ok(nix::unistd::User::from_name(&key)
                .map_err(failed)?
                .map(|u| {
                    format!(
                        "{}:{}:{}:{}:{}:{}:{}",
                        u.name,
                        u.passwd.to_string_lossy(),
                        u.uid,
                        u.gid,
                        u.gecos.to_string_lossy(),
                        u.dir.display(),
                        u.shell.display()
                    )
                })),
            Database::Group => Ok(nix::unistd::Group::from_name(&key)
                .map_err(failed)?
                .map(|g| {
                    format!(
                        "{}:{}:{}:{}",
                        g.name,
                        g.passwd.to_string_lossy(),
                        g.gid,
                        g.mem.join(",")
                    )
                })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_in_both_databases() {
        let opts = OpenOptions::default();
        let passwd = open("passwd.byname", &opts).expect("opens").table;
        let root = passwd.lookup("ROOT").expect("lookup").expect("root exists");
        assert!(
            root.starts_with("root:") && root.contains(":0:0:"),
            "{root}"
        );
        assert_eq!(passwd.lookup("no-such-user-here").expect("lookup"), None);
        let group = open("group.byname", &opts).expect("opens").table;
        let wheel = group.lookup("root").expect("lookup").expect("group root");
        assert!(
            wheel.starts_with("root:") && wheel.contains(":0:"),
            "{wheel}"
        );
    }

    /// After the snapshot (which other tests in this binary then share:
    /// their answers are the same) lookups give the files' lines.
    #[test]
    fn a_snapshot_answers_from_the_files() {
        snapshot_files().expect("read /etc/passwd and /etc/group");
        let passwd = open("passwd.byname", &OpenOptions::default())
            .expect("opens")
            .table;
        let file = std::fs::read_to_string("/etc/passwd").expect("read");
        let line = file.lines().find(|l| l.starts_with("root:")).expect("root");
        assert_eq!(
            passwd.lookup("root").expect("lookup").as_deref(),
            Some(line)
        );
        assert_eq!(passwd.lookup("no-such-user-here").expect("lookup"), None);
    }

    #[test]
    fn other_names_are_refused_as_postfix_does() {
        let err = open("hosts.byname", &OpenOptions::default()).expect_err("unknown");
        assert_eq!(err.to_string(), "unknown table: unix:hosts.byname");
    }
}
