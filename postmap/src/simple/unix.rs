//! `unix:passwd.byname` and `unix:group.byname`: the system's user and
//! group databases as tables (Postfix `dict_unix.c`), which the default
//! `local_recipient_maps` (`proxy:unix:passwd.byname $alias_maps`) uses to
//! know the local users. Values are the `/etc/passwd` and `/etc/group`
//! line shapes.

use super::fold_key;
use crate::table::{Error, OpenOptions, Opened, Table};

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

    #[test]
    fn other_names_are_refused_as_postfix_does() {
        let err = open("hosts.byname", &OpenOptions::default()).expect_err("unknown");
        assert_eq!(err.to_string(), "unknown table: unix:hosts.byname");
    }
}
