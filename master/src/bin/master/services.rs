//! What master.cf asks for, made concrete: for each entry, the program to
//! run, its arguments (`-c DIR -n NAME -t TYPE`, `-v`, then the entry's
//! own, `-o name=value` included), who it runs as, and the sockets it
//! listens on; or why it is skipped (its program does not exist yet, or
//! its type is not supported yet).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conf::Config;
use conf::master_cf::{MasterCf, Service as Entry, ServiceType, Wakeup};

use crate::listeners::{self, Endpoint, Interfaces};

/// One service to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    /// `name/type`, as Postfix names services in log lines.
    pub(crate) id: String,
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    /// Column 4: drop to `mail_owner` (when the master is root).
    pub(crate) unprivileged: bool,
    /// Column 5.
    pub(crate) chroot: bool,
    /// Column 6, for unix services: wake it up this often. A conditional
    /// wake-up (`?`) is not done: the master cannot tell when the service
    /// was first used.
    pub(crate) wakeup: Option<Duration>,
    pub(crate) endpoints: Vec<Endpoint>,
}

/// A master.cf entry: run it, or say why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    Run(Service),
    Skip { id: String, reason: String },
}

/// The plans for every entry of `master_cf`, in file order.
pub(crate) fn plan(config: &Config, master_cf: &MasterCf, verbose: bool) -> Vec<Plan> {
    let daemon_dir = PathBuf::from(config.expand("$daemon_directory"));
    let queue_dir = PathBuf::from(config.expand("$queue_directory"));
    let interfaces = interfaces(config);
    master_cf
        .services()
        .iter()
        .map(|entry| {
            plan_one(
                entry,
                &Context {
                    config_dir: config.dir(),
                    daemon_dir: &daemon_dir,
                    queue_dir: &queue_dir,
                    interfaces: &interfaces,
                    verbose,
                },
            )
        })
        .collect()
}

struct Context<'a> {
    config_dir: &'a Path,
    daemon_dir: &'a Path,
    queue_dir: &'a Path,
    interfaces: &'a Result<Interfaces, String>,
    verbose: bool,
}

fn plan_one(entry: &Entry, cx: &Context<'_>) -> Plan {
    let id = format!("{}/{}", entry.name(), entry.kind_text());
    let program = cx.daemon_dir.join(entry.command());
    if !program.is_file() {
        return Plan::Skip {
            id,
            reason: format!("{} does not exist yet", program.display()),
        };
    }
    let endpoints = match entry.kind() {
        ServiceType::Inet => {
            let interfaces = match cx.interfaces {
                Ok(interfaces) => interfaces,
                Err(e) => {
                    return Plan::Skip {
                        id,
                        reason: e.clone(),
                    };
                }
            };
            match listeners::inet_addresses(entry.name(), interfaces) {
                Ok(addrs) => addrs.into_iter().map(Endpoint::Tcp).collect(),
                Err(e) => {
                    return Plan::Skip {
                        id,
                        reason: e.to_string(),
                    };
                }
            }
        }
        ServiceType::Unix => {
            let dir = if entry.is_private() {
                "private"
            } else {
                "public"
            };
            vec![Endpoint::Unix(cx.queue_dir.join(dir).join(entry.name()))]
        }
        other => {
            return Plan::Skip {
                id,
                reason: format!("service type {} is not supported yet", other.as_str()),
            };
        }
    };
    let wakeup = match (entry.kind(), entry.wakeup()) {
        (
            ServiceType::Unix,
            Wakeup {
                seconds: Some(n),
                conditional: false,
            },
        ) if n > 0 => Some(Duration::from_secs(n.into())),
        _ => None,
    };
    let mut args = vec![
        "-c".to_owned(),
        cx.config_dir.display().to_string(),
        "-n".to_owned(),
        entry.name().to_owned(),
        "-t".to_owned(),
        entry.kind_text().to_owned(),
    ];
    if cx.verbose {
        args.push("-v".to_owned());
    }
    args.extend(entry.args().iter().cloned());
    Plan::Run(Service {
        id,
        program,
        args,
        unprivileged: entry.is_unprivileged(),
        chroot: entry.is_chrooted(),
        wakeup,
        endpoints,
    })
}

/// What `inet_interfaces` and `inet_protocols` say.
fn interfaces(config: &Config) -> Result<Interfaces, String> {
    let (mut v4, mut v6) = (false, false);
    for word in config
        .get_list("inet_protocols")
        .map_err(|e| e.to_string())?
    {
        match word.as_str() {
            "all" => (v4, v6) = (true, true),
            "ipv4" => v4 = true,
            "ipv6" => v6 = true,
            _ => {}
        }
    }
    if config.expand("$inet_interfaces").trim() == "all" {
        return Ok(Interfaces::All { v4, v6 });
    }
    let addrs: Vec<IpAddr> = config
        .interface_addresses()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|i| i.addr)
        .collect();
    Ok(Interfaces::Addresses(addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(master_cf: &str) -> (tempfile::TempDir, Vec<Plan>) {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(bin.join("smtpd"), "").unwrap();
        let main_cf = format!(
            "daemon_directory = {}\nqueue_directory = {}/spool\n\
             inet_interfaces = loopback-only\ninet_protocols = ipv4\n",
            bin.display(),
            dir.path().display()
        );
        std::fs::write(dir.path().join("main.cf"), main_cf).unwrap();
        let config = Config::load(dir.path(), &[]).unwrap();
        let mcf = MasterCf::parse(master_cf.as_bytes(), "master.cf", &mut |_| {}).unwrap();
        let plans = plan(&config, &mcf, false);
        (dir, plans)
    }

    #[test]
    fn smtpd_gets_its_name_type_config_and_overrides() {
        let (dir, plans) = setup(
            "2525 inet n - n - - smtpd\n  -o smtpd_banner=hi -v\n\
             qmgr unix n - n 300 1 qmgr\n\
             pickup fifo n - n 60 1 smtpd\n\
             relay unix n n y 60 - smtpd\n\
             flush unix n - n 1000? 0 smtpd\n",
        );
        let Plan::Run(smtpd) = &plans[0] else {
            panic!("{plans:?}")
        };
        assert_eq!(smtpd.id, "2525/inet");
        assert_eq!(smtpd.program, dir.path().join("bin/smtpd"));
        let config_dir = dir.path().display().to_string();
        assert_eq!(
            smtpd.args,
            [
                "-c",
                &config_dir,
                "-n",
                "2525",
                "-t",
                "inet",
                "-o",
                "smtpd_banner=hi",
                "-v"
            ]
        );
        assert_eq!(
            smtpd.endpoints,
            [Endpoint::Tcp("127.0.0.1:2525".parse().unwrap())]
        );
        assert!(smtpd.unprivileged && !smtpd.chroot);
        assert_eq!(smtpd.wakeup, None);
        assert!(matches!(&plans[1], Plan::Skip { id, reason }
            if id == "qmgr/unix" && reason.ends_with("qmgr does not exist yet")));
        assert!(matches!(&plans[2], Plan::Skip { reason, .. }
            if reason == "service type fifo is not supported yet"));
        let Plan::Run(relay) = &plans[3] else {
            panic!("{plans:?}")
        };
        assert_eq!(
            relay.endpoints,
            [Endpoint::Unix(dir.path().join("spool/public/relay"))]
        );
        assert!(!relay.unprivileged && relay.chroot);
        assert_eq!(relay.wakeup, Some(Duration::from_secs(60)));
        let Plan::Run(flush) = &plans[4] else {
            panic!("{plans:?}")
        };
        assert_eq!(flush.wakeup, None, "conditional wake-ups are not done");
    }
}
