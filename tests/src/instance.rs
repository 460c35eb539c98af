//! A throw-away mail system root for one test: `etc/` (the config
//! directory: main.cf, master.cf, maps), `spool/` (queue_directory),
//! `mail/` (mail_spool_directory), `data/` and `log/`, all under one
//! temporary directory.
//!
//! main.cf and master.cf come from `tests/templates/` unless a test gives
//! its own. In templates, parameters and files, `{name}` placeholders are
//! filled in: `{root}`, `{etc}`, `{spool}`, `{mail}`, `{data}`, `{log}`,
//! `{port}` (the SMTP port), `{user}` and `{group}` (the invoking user's),
//! `{mail_owner}` and `{setgid_group}` (the invoking user's, or under root
//! `postfix`/`postdrop` — else `nobody`/`nogroup` — since Postfix and our
//! master refuse a privileged `mail_owner`), `{bin}` (where our binaries
//! are), plus any set with [`Builder::placeholder`]. Postfix's own
//! `${name}` is never touched.
//!
//! Under root the instance root is made 0755 and `data/` is given to
//! `mail_owner`, so that services that drop to it can reach their files.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, SystemTime};

use nix::unistd::{Gid, Group, Uid, User};
use tempfile::TempDir;

use crate::{Daemon, binary, free_port};

const MAIN_CF: &str = include_str!("../templates/main.cf");
const MASTER_CF: &str = include_str!("../templates/master.cf");

/// Set to keep every instance directory, even after a passing test.
pub const KEEP_ENV: &str = "E2E_KEEP";

/// A temporary instance; see the module documentation. Removed on drop
/// when the test passed, kept (and its path printed) when it failed.
/// Bind daemons to variables declared after the instance, so that they
/// are dropped, and stopped, before their directory goes.
#[derive(Debug)]
pub struct Instance {
    root: PathBuf,
    dir: Option<TempDir>,
    port: u16,
    vars: Vec<(String, String)>,
}

/// How to build an [`Instance`]: templates, parameter overrides, files.
#[derive(Debug, Clone)]
pub struct Builder {
    main_cf: String,
    master_cf: String,
    params: Vec<(String, String)>,
    files: Vec<(PathBuf, String)>,
    port: Option<u16>,
    vars: Vec<(String, String)>,
}

impl Instance {
    /// An instance from the default templates.
    pub fn new() -> Instance {
        Instance::builder().build()
    }

    pub fn builder() -> Builder {
        Builder {
            main_cf: MAIN_CF.to_owned(),
            master_cf: MASTER_CF.to_owned(),
            params: Vec::new(),
            files: Vec::new(),
            port: None,
            vars: Vec::new(),
        }
    }

    /// The temporary root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/rel`.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// `etc/`: main.cf, master.cf and maps; `MAIL_CONFIG` for our programs.
    pub fn config_dir(&self) -> PathBuf {
        self.path("etc")
    }

    /// `spool/`: queue_directory.
    pub fn queue_dir(&self) -> PathBuf {
        self.path("spool")
    }

    /// `mail/`: mail_spool_directory, where mbox files are delivered.
    pub fn mail_dir(&self) -> PathBuf {
        self.path("mail")
    }

    /// `log/`: daemon output and maillog_file.
    pub fn log_dir(&self) -> PathBuf {
        self.path("log")
    }

    /// The SMTP port of the `127.0.0.1:{port}` service in master.cf.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, as clients such as swaks take it.
    pub fn smtp_addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Writes `root/rel` (creating directories), placeholders filled in;
    /// for a map or a main.cf changed while the instance runs.
    ///
    /// # Panics
    /// If the file cannot be written.
    pub fn write(&self, rel: impl AsRef<Path>, contents: &str) {
        let path = self.path(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        }
        fs::write(&path, fill(contents, &self.vars))
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Sets `name = value` in main.cf, replacing an earlier setting.
    pub fn set_param(&self, name: &str, value: &str) {
        let path = self.config_dir().join("main.cf");
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        self.write("etc/main.cf", &set_param(&text, name, value));
    }

    /// Our binary `program`, with `MAIL_CONFIG` pointing at this
    /// instance's `etc/` and the instance root as working directory.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(binary::our_binary(program));
        cmd.env("MAIL_CONFIG", self.config_dir())
            .current_dir(&self.root);
        cmd
    }

    /// Runs our `postfix -c ETC args` to completion.
    ///
    /// # Panics
    /// If it cannot be run.
    pub fn postfix(&self, args: &[&str]) -> std::process::Output {
        self.command("postfix")
            .arg("-c")
            .arg(self.config_dir())
            .args(args)
            .output()
            .expect("run our postfix")
    }

    /// Our `master -d -c etc` in the foreground, once it says `daemon
    /// started`.
    ///
    /// # Panics
    /// If it does not start within 30 seconds.
    pub fn start_master(&self) -> Daemon {
        let mut cmd = self.command("master");
        cmd.arg("-d").arg("-c").arg(self.config_dir());
        let log = self.log_dir().join("master.log");
        let master = Daemon::spawn(cmd, log).unwrap_or_else(|e| panic!("{e}"));
        let ready = format!(
            "postfix/master[{}]: daemon started -- version 3.7.11, configuration {}",
            master.pid(),
            self.config_dir().display()
        );
        master
            .wait_for_line(&ready, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{e}"));
        master
    }

    /// A guard that kills the master of this instance (its process group)
    /// when dropped, so that a test failing half-way leaves nothing
    /// running.
    pub fn kill_master_on_drop(&self) -> KillMaster<'_> {
        KillMaster(self)
    }

    /// Starts `cmd` as a [`Daemon`] logging to `log/<program>.log` and
    /// waits for `ready_line`.
    ///
    /// # Panics
    /// See [`Daemon::start`].
    pub fn start(&self, cmd: Command, ready_line: &str) -> Daemon {
        let program = Path::new(cmd.get_program())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "daemon".to_owned());
        let log = (1..)
            .map(|n| match n {
                1 => self.log_dir().join(format!("{program}.log")),
                n => self.log_dir().join(format!("{program}-{n}.log")),
            })
            .find(|p| !p.exists())
            .expect("some numbered log file name is free");
        Daemon::start(cmd, log, ready_line)
    }
}

impl Default for Instance {
    fn default() -> Instance {
        Instance::new()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        if thread::panicking() {
            let path = dir.keep();
            eprintln!("test failed; instance kept in {}", path.display());
        } else if env::var_os(KEEP_ENV).is_some() {
            let path = dir.keep();
            eprintln!("{KEEP_ENV} is set; instance kept in {}", path.display());
        }
    }
}

impl Builder {
    /// Uses `template` as main.cf instead of `tests/templates/main.cf`.
    pub fn main_cf(mut self, template: &str) -> Builder {
        template.clone_into(&mut self.main_cf);
        self
    }

    /// Uses `template` as master.cf instead of `tests/templates/master.cf`.
    pub fn master_cf(mut self, template: &str) -> Builder {
        template.clone_into(&mut self.master_cf);
        self
    }

    /// Sets `name = value` in main.cf, replacing the template's setting.
    pub fn param(mut self, name: &str, value: &str) -> Builder {
        self.params.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds the file `rel` (relative to the root, e.g. `etc/access`).
    pub fn file(mut self, rel: impl Into<PathBuf>, contents: &str) -> Builder {
        self.files.push((rel.into(), contents.to_owned()));
        self
    }

    /// Uses `port` for SMTP instead of a [`free_port`].
    pub fn port(mut self, port: u16) -> Builder {
        self.port = Some(port);
        self
    }

    /// Fills `{name}` with `value` too (e.g. a second port).
    pub fn placeholder(mut self, name: &str, value: &str) -> Builder {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Creates the directories and writes the files.
    ///
    /// # Panics
    /// If the temporary directory or a file cannot be created.
    pub fn build(self) -> Instance {
        let dir = tempfile::Builder::new()
            .prefix("e2e-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create the instance directory: {e}"));
        let root = dir.path().to_path_buf();
        let port = self.port.unwrap_or_else(free_port);
        let mut vars = standard_vars(&root, port);
        // A test's own placeholders come first, so they win.
        vars.splice(0..0, self.vars);
        let inst = Instance {
            root,
            dir: Some(dir),
            port,
            vars,
        };
        for sub in ["etc", "spool", "mail", "data", "log"] {
            let path = inst.path(sub);
            fs::create_dir(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        }
        let main_cf = self
            .params
            .iter()
            .fold(self.main_cf, |text, (name, value)| {
                set_param(&text, name, value)
            });
        inst.write("etc/main.cf", &main_cf);
        inst.write("etc/master.cf", &self.master_cf);
        for (rel, contents) in &self.files {
            inst.write(rel, contents);
        }
        if Uid::effective().is_root() {
            open_to_mail_owner(&inst);
        }
        for rel in [PathBuf::from("etc/main.cf"), PathBuf::from("etc/master.cf")]
            .iter()
            .chain(self.files.iter().map(|(rel, _)| rel))
        {
            backdate(&inst.path(rel));
        }
        inst
    }
}

/// Under root: the root directory traversable, `data/` owned by the
/// unprivileged `mail_owner`.
fn open_to_mail_owner(inst: &Instance) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(inst.root(), fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", inst.root().display()));
    let (owner, _) = system_accounts();
    let uid = User::from_name(&owner).ok().flatten().map(|u| u.uid);
    nix::unistd::chown(&inst.path("data"), uid, None)
        .unwrap_or_else(|e| panic!("chown {}: {e}", inst.path("data").display()));
}

/// The unprivileged account and group root runs use for `mail_owner` and
/// `setgid_group`.
pub fn system_accounts() -> (String, String) {
    let user = ["postfix", "nobody"]
        .into_iter()
        .find(|u| User::from_name(u).ok().flatten().is_some())
        .expect("a postfix or nobody user");
    let group = ["postdrop", "nogroup"]
        .into_iter()
        .find(|g| Group::from_name(g).ok().flatten().is_some())
        .expect("a postdrop or nogroup group");
    (user.to_owned(), group.to_owned())
}

/// Sets the mtime of a just-written file a minute back. Postfix's
/// programs wait up to two seconds before reading a file changed in the
/// last second ("file is too new"), which would slow every test that runs
/// the real `postconf` or `postmap` on a fresh instance. Only files
/// written before anything runs are backdated: a file changed later must
/// look changed.
fn backdate(path: &Path) {
    let then = SystemTime::now() - Duration::from_secs(60);
    let file = fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    file.set_modified(then)
        .unwrap_or_else(|e| panic!("set mtime of {}: {e}", path.display()));
}

fn standard_vars(root: &Path, port: u16) -> Vec<(String, String)> {
    let dir = |sub: &str| root.join(sub).display().to_string();
    let user = User::from_uid(Uid::current())
        .ok()
        .flatten()
        .map_or_else(|| Uid::current().to_string(), |u| u.name);
    let group = Group::from_gid(Gid::current())
        .ok()
        .flatten()
        .map_or_else(|| Gid::current().to_string(), |g| g.name);
    let (mail_owner, setgid_group) = if Uid::effective().is_root() {
        system_accounts()
    } else {
        (user.clone(), group.clone())
    };
    let bin = binary::bin_dirs()
        .into_iter()
        .next()
        .unwrap_or_else(|| binary::workspace_root().join("target/debug"));
    [
        ("root", root.display().to_string()),
        ("etc", dir("etc")),
        ("spool", dir("spool")),
        ("mail", dir("mail")),
        ("data", dir("data")),
        ("log", dir("log")),
        ("port", port.to_string()),
        ("user", user),
        ("group", group),
        ("mail_owner", mail_owner),
        ("setgid_group", setgid_group),
        ("bin", bin.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Replaces each `{name}` of `vars` in `text`, except where `$` comes
/// right before it (Postfix's `${name}`, pipe(8)'s `${user}`).
fn fill(text: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (at, _) in text.match_indices('{') {
        if at < done || text[..at].ends_with('$') {
            continue;
        }
        let after = &text[at + 1..];
        let hit = vars.iter().find(|(name, _)| {
            after
                .strip_prefix(name.as_str())
                .is_some_and(|rest| rest.starts_with('}'))
        });
        if let Some((name, value)) = hit {
            out.push_str(&text[done..at]);
            out.push_str(value);
            done = at + name.len() + 2;
        }
    }
    out.push_str(&text[done..]);
    out
}

/// main.cf `text` with `name = value` in place of the first logical line
/// setting `name` (later ones and their continuation lines are dropped),
/// or at the end.
fn set_param(text: &str, name: &str, value: &str) -> String {
    let setting = format!("{name} = {value}");
    let mut out: Vec<&str> = Vec::new();
    let mut placed = false;
    let mut skipping = false;
    for line in text.lines() {
        let continues = line.starts_with([' ', '\t']) && !line.trim().is_empty();
        if continues && skipping {
            continue;
        }
        skipping = !continues && sets(line, name);
        if !skipping {
            out.push(line);
        } else if !placed {
            out.push(&setting);
            placed = true;
        }
    }
    if !placed {
        out.push(&setting);
    }
    let mut joined = out.join("\n");
    joined.push('\n');
    joined
}

/// Whether the start of a logical line sets parameter `name`.
fn sets(line: &str, name: &str) -> bool {
    !line.starts_with('#')
        && line
            .split_once('=')
            .is_some_and(|(key, _)| key.trim_end() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fill_replaces_known_placeholders_only() {
        let v = vars(&[("root", "/t"), ("port", "2525")]);
        assert_eq!(fill("a {root}/x {port}{root}", &v), "a /t/x 2525/t");
        assert_eq!(fill("{unknown} {root", &v), "{unknown} {root");
        assert_eq!(fill("{{root}}", &v), "{/t}");
    }

    #[test]
    fn fill_leaves_postfix_expansions_alone() {
        let v = vars(&[("user", "me"), ("root", "/t")]);
        assert_eq!(
            fill("argv=/bin/x ${user} {user} $root {root}", &v),
            "argv=/bin/x ${user} me $root /t"
        );
    }

    #[test]
    fn set_param_replaces_in_place_with_continuations() {
        let text = "# mydestination = old comment\na = 1\nmydestination = x,\n  y\nb = 2\n";
        assert_eq!(
            set_param(text, "mydestination", "localhost"),
            "# mydestination = old comment\na = 1\nmydestination = localhost\nb = 2\n"
        );
    }

    #[test]
    fn set_param_appends_and_drops_duplicates() {
        assert_eq!(set_param("a = 1\n", "b", "2"), "a = 1\nb = 2\n");
        assert_eq!(set_param("b=1\nb =  3\n", "b", "2"), "b = 2\n");
        // A name that only starts the same is another parameter.
        assert_eq!(set_param("bb = 1\n", "b", "2"), "bb = 1\nb = 2\n");
    }
}

/// See [`Instance::kill_master_on_drop`].
#[derive(Debug)]
pub struct KillMaster<'a>(&'a Instance);

impl Drop for KillMaster<'_> {
    fn drop(&mut self) {
        if let Ok(Some(pid)) = master::pidfile::running(&self.0.queue_dir()) {
            let pid = i32::try_from(pid).expect("pids fit in i32");
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
