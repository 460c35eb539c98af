//! The instance `postfix` works on: its directories, accounts and who
//! runs the command, read once from the configuration.

use std::path::PathBuf;

use conf::Config;

/// What the commands need to know about the instance.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) config: Config,
    pub(crate) config_dir: PathBuf,
    pub(crate) queue_dir: PathBuf,
    pub(crate) daemon_dir: PathBuf,
    pub(crate) data_dir: PathBuf,
    pub(crate) mail_owner: String,
    pub(crate) setgid_group: String,
    pub(crate) syslog_name: String,
    /// Root may change owners; an ordinary user runs everything as
    /// itself, and the steps that need root are skipped.
    pub(crate) is_root: bool,
}

impl Instance {
    /// The instance of `config`, whose directory is `config_dir`.
    pub(crate) fn new(config: Config, config_dir: PathBuf, is_root: bool) -> Instance {
        let text = |name: &str| config.get(name).ok().flatten().unwrap_or_default();
        let syslog_name = match text("syslog_name") {
            name if name.is_empty() => "postfix".to_owned(),
            name => name,
        };
        Instance {
            queue_dir: PathBuf::from(text("queue_directory")),
            daemon_dir: PathBuf::from(text("daemon_directory")),
            data_dir: PathBuf::from(text("data_directory")),
            mail_owner: text("mail_owner"),
            setgid_group: text("setgid_group"),
            syslog_name,
            config,
            config_dir,
            is_root,
        }
    }
}
