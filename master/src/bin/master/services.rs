//! What master.cf asks for, made concrete: for each entry, the program to
//! run, its arguments (`-c DIR -n NAME -t TYPE`, `-u` when unprivileged,
//! `-C` when it is to chroot itself, `-p MAXPROC` when it has a process
//! limit, `-v`, then the entry's own, `-o name=value` included), who it
//! runs as, and the sockets or named pipe it listens on; or why it is
//! skipped (its program does not exist yet).

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
    /// Column 5, when the master is root (else nobody could chroot): the
    /// child is started as root with `-C` and chroots itself into
    /// `queue_directory`, then drops to `mail_owner` when unprivileged.
    pub(crate) chroot: bool,
    /// Column 6, for every type but inet: wake it up this often. A
    /// conditional wake-up (`?`) is not done: the master cannot tell when
    /// the service was first used.
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
/// `root`: the master runs as root, so chrooted services can chroot.
pub(crate) fn plan(config: &Config, master_cf: &MasterCf, verbose: bool, root: bool) -> Vec<Plan> {
    let daemon_dir = PathBuf::from(config.expand("$daemon_directory"));
    let queue_dir = PathBuf::from(config.expand("$queue_directory"));
    let interfaces = interfaces(config);
    let default_process_limit = config
        .get_int("default_process_limit")
        .map_err(|e| e.to_string())
        .and_then(|n| {
            u32::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("invalid default_process_limit: {n}"))
        });
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
                    default_process_limit: &default_process_limit,
                    verbose,
                    root,
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
    default_process_limit: &'a Result<u32, String>,
    verbose: bool,
    root: bool,
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
        _ => vec![local_endpoint(entry, cx.queue_dir)],
    };
    let process_limit = match (entry.process_limit(), cx.default_process_limit) {
        (Some(n), _) => n,
        (None, Ok(n)) => *n,
        (None, Err(e)) => {
            return Plan::Skip {
                id,
                reason: e.clone(),
            };
        }
    };
    let wakeup = match (entry.kind(), entry.wakeup()) {
        (ServiceType::Inet, _) => None,
        (
            _,
            Wakeup {
                seconds: Some(n),
                conditional: false,
            },
        ) if n > 0 => Some(Duration::from_secs(n.into())),
        _ => None,
    };
    let chroot = entry.is_chrooted() && cx.root;
    let mut args = vec![
        "-c".to_owned(),
        cx.config_dir.display().to_string(),
        "-n".to_owned(),
        entry.name().to_owned(),
        "-t".to_owned(),
        entry.kind_text().to_owned(),
    ];
    if entry.is_unprivileged() {
        args.push("-u".to_owned());
    }
    if chroot {
        args.push("-C".to_owned());
    }
    if process_limit > 0 {
        args.extend(["-p".to_owned(), process_limit.to_string()]);
    }
    if cx.verbose {
        args.push("-v".to_owned());
    }
    args.extend(entry.args().iter().cloned());
    Plan::Run(Service {
        id,
        program,
        args,
        unprivileged: entry.is_unprivileged(),
        chroot,
        wakeup,
        endpoints,
    })
}

/// Where a service other than inet listens: `$queue_directory/private`
/// or `public`, by column 3.
fn local_endpoint(entry: &Entry, queue_dir: &Path) -> Endpoint {
    let dir = if entry.is_private() {
        "private"
    } else {
        "public"
    };
    let path = queue_dir.join(dir).join(entry.name());
    match entry.kind() {
        ServiceType::UnixDgram => Endpoint::UnixDgram(path),
        ServiceType::Fifo => Endpoint::Fifo(path),
        // unix, and pass: a pass service gets connections handed over a
        // unix stream socket (by postscreen), so the master's part is
        // the same. (inet does not come here.)
        _ => Endpoint::Unix(path),
    }
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
        setup_as(master_cf, true)
    }

    /// `root`: whether the master runs as root.
    fn setup_as(master_cf: &str, root: bool) -> (tempfile::TempDir, Vec<Plan>) {
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
        let plans = plan(&config, &mcf, false, root);
        (dir, plans)
    }

    #[test]
    fn smtpd_gets_its_name_type_config_and_overrides() {
        let (dir, plans) = setup(
            "2525 inet n - n - - smtpd\n  -o smtpd_banner=hi -v\n\
             qmgr unix n - n 300 1 qmgr\n\
             pickup fifo n - n 60 1 smtpd\n\
             relay unix n n y 60 - smtpd\n\
             flush unix n - n 1000? 0 smtpd\n\
             postlog unix-dgram n - n - 1 smtpd\n\
             smtpd pass - - y - - smtpd\n",
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
                "-u",
                "-p",
                "100",
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
        let Plan::Run(pickup) = &plans[2] else {
            panic!("{plans:?}")
        };
        assert_eq!(
            pickup.endpoints,
            [Endpoint::Fifo(dir.path().join("spool/public/pickup"))]
        );
        assert_eq!(pickup.wakeup, Some(Duration::from_secs(60)));
        assert_eq!(pickup.args[6..], ["-u", "-p", "1"]);
        let Plan::Run(relay) = &plans[3] else {
            panic!("{plans:?}")
        };
        assert_eq!(
            relay.endpoints,
            [Endpoint::Unix(dir.path().join("spool/public/relay"))]
        );
        assert!(!relay.unprivileged && relay.chroot);
        assert_eq!(relay.args[6..], ["-C", "-p", "100"], "root, chrooted");
        assert_eq!(relay.wakeup, Some(Duration::from_secs(60)));
        let Plan::Run(flush) = &plans[4] else {
            panic!("{plans:?}")
        };
        assert_eq!(flush.wakeup, None, "conditional wake-ups are not done");
        assert_eq!(flush.args[6..], ["-u"], "maxproc 0: no limit, no -p");
        let Plan::Run(postlog) = &plans[5] else {
            panic!("{plans:?}")
        };
        assert_eq!(
            postlog.endpoints,
            [Endpoint::UnixDgram(dir.path().join("spool/public/postlog"))]
        );
        let Plan::Run(pass) = &plans[6] else {
            panic!("{plans:?}")
        };
        assert_eq!(
            pass.endpoints,
            [Endpoint::Unix(dir.path().join("spool/private/smtpd"))]
        );
        assert_eq!(pass.args[6..], ["-u", "-C", "-p", "100"]);
    }

    /// Without root nobody can chroot: the column is ignored, as the
    /// other privilege steps are.
    #[test]
    fn not_as_root_chroot_is_not_asked_for() {
        let (_dir, plans) = setup_as("2525 inet n - y - 3 smtpd\n", false);
        let Plan::Run(smtpd) = &plans[0] else {
            panic!("{plans:?}")
        };
        assert!(!smtpd.chroot);
        assert_eq!(smtpd.args[6..], ["-u", "-p", "3"]);
    }

    #[test]
    fn default_process_limit_fills_in_a_dash() {
        let (dir, _) = setup("");
        let main_cf = std::fs::read_to_string(dir.path().join("main.cf")).unwrap();
        std::fs::write(
            dir.path().join("main.cf"),
            format!("{main_cf}default_process_limit = 7\n"),
        )
        .unwrap();
        let config = Config::load(dir.path(), &[]).unwrap();
        let mcf =
            MasterCf::parse(b"2525 inet n - n - - smtpd\n", "master.cf", &mut |_| {}).unwrap();
        let Plan::Run(smtpd) = &plan(&config, &mcf, false, false)[0] else {
            panic!()
        };
        assert_eq!(smtpd.args[6..], ["-u", "-p", "7"]);
    }
}
