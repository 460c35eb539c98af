//! Reading the configuration the master runs on (main.cf, master.cf, who
//! the services run as) and making the queue directories with Postfix's
//! owners and modes (`postfix-files`).

use std::ffi::CString;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use conf::Config;
use conf::master_cf::MasterCf;
use nix::unistd::{Gid, Group, Uid, User, chown};
use queue::{QueueDirs, QueueName};
use tracing::warn;

use crate::services::{self, Plan};
use crate::spawn::Credentials;
use crate::supervise::Settings;

/// One reading of the configuration.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) queue_dir: PathBuf,
    pub(crate) settings: Settings,
    pub(crate) plans: Vec<Plan>,
    /// `setgid_group`, when the master runs as root.
    pub(crate) setgid_gid: Option<Gid>,
    /// `mail_owner`'s name (informational when not root).
    pub(crate) mail_owner: String,
}

/// Read `dir/main.cf` and `dir/master.cf`.
pub(crate) fn load(dir: &Path, verbose: bool) -> anyhow::Result<(Config, Loaded)> {
    let config = Config::load(dir, &[]).with_context(|| format!("{}/main.cf", dir.display()))?;
    let master_cf = MasterCf::read(&dir.join("master.cf"), &mut |w| {
        warn!(target: "master", "{w}");
    })
    .map_err(|e| anyhow::anyhow!("{}", e.with_location()))?;
    let text = |name: &str| -> anyhow::Result<String> {
        Ok(config
            .get(name)
            .with_context(|| format!("{}/main.cf", dir.display()))?
            .unwrap_or_default())
    };
    let queue_dir = PathBuf::from(text("queue_directory")?);
    let throttle = config
        .get_time("service_throttle_time")
        .with_context(|| format!("{}/main.cf", dir.display()))?;
    let mail_owner = text("mail_owner")?;
    let root = Uid::effective().is_root();
    let (credentials, setgid_gid) = if root {
        let main_cf = dir.join("main.cf");
        let credentials = owner_credentials(&main_cf, &mail_owner)?;
        let group = text("setgid_group")?;
        let gid = match Group::from_name(&group)? {
            Some(g) => g.gid,
            None => bail!(
                "file {}: parameter setgid_group: unknown group name: {group}",
                main_cf.display()
            ),
        };
        (Some(credentials), Some(gid))
    } else {
        (None, None)
    };
    let plans = services::plan(&config, &master_cf, verbose, root);
    let settings = Settings {
        throttle,
        credentials,
    };
    Ok((
        config,
        Loaded {
            queue_dir,
            settings,
            plans,
            setgid_gid,
            mail_owner,
        },
    ))
}

/// `mail_owner`'s ids, refusing a privileged one as Postfix does.
fn owner_credentials(main_cf: &Path, name: &str) -> anyhow::Result<Credentials> {
    let Some(user) = User::from_name(name)? else {
        bail!(
            "file {}: parameter mail_owner: unknown user name value: {name}",
            main_cf.display()
        );
    };
    if user.uid.is_root() {
        bail!(
            "file {}: parameter mail_owner: user {name} has privileged user ID",
            main_cf.display()
        );
    }
    Ok(Credentials {
        name: CString::new(name).context("mail_owner")?,
        uid: user.uid,
        gid: user.gid,
    })
}

/// As root, give `maillog_file` to `mail_owner` (creating it, mode
/// 0600): every daemon appends its own lines to it, and the daemons run
/// as `mail_owner` (Postfix's postlogd writes for them instead).
pub(crate) fn make_maillog(config: &conf::Config, loaded: &Loaded) -> anyhow::Result<()> {
    let Some(owner) = &loaded.settings.credentials else {
        return Ok(());
    };
    let path = config.get("maillog_file")?.unwrap_or_default();
    if path.is_empty() || path.starts_with("/dev/") {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("open {path}"))?;
    chown(Path::new(&path), Some(owner.uid), None).with_context(|| format!("chown {path}"))?;
    Ok(())
}

/// Create the queue directories; as root, give them to `mail_owner`,
/// and `maildrop` and `public` to group `setgid_group` too.
pub(crate) fn make_queue(loaded: &Loaded) -> anyhow::Result<()> {
    let dirs = QueueDirs::new(&loaded.queue_dir);
    dirs.create_all().context("queue directories")?;
    let Some(owner) = &loaded.settings.credentials else {
        return Ok(());
    };
    for q in QueueName::ALL {
        let group = match q {
            QueueName::Maildrop | QueueName::Public => loaded.setgid_gid,
            _ => None,
        };
        let path = dirs.dir(q);
        chown(&path, Some(owner.uid), group)
            .with_context(|| format!("chown {}", path.display()))?;
    }
    Ok(())
}
