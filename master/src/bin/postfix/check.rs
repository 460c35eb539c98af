//! `postfix check`: the checks of postfix-script's `check-fatal` and
//! `check-warn` that apply to our layout, plus the ones the issue adds
//! (world-writable queue directories, missing accounts with the commands
//! that create them, unknown parameters, stale indexed tables).
//! Ownership is checked only when root runs the command: an ordinary
//! user's instance belongs to that user.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::accounts;
use crate::instance::Instance;
use crate::layout::{self, Ids, Owner};
use crate::params;
use crate::say::{Message, Severity};
use crate::tables;

/// How deep the walk of the configuration directory goes.
const MAX_DEPTH: usize = 8;

/// Every finding, in Postfix's order; a fatal one stops the checks that
/// depend on it.
pub(crate) fn run(inst: &Instance) -> Vec<Message> {
    let mut out = Vec::new();
    let master_cf = inst.config_dir.join("master.cf");
    let Ok(master_text) = fs::read_to_string(&master_cf) else {
        out.push(Message::fatal(format!(
            "no {} file found",
            master_cf.display()
        )));
        return out;
    };
    let found = accounts::look_up(&inst.mail_owner, &inst.setgid_group);
    let mut missing = accounts::report(
        &found,
        &inst.config_dir.join("main.cf"),
        &inst.mail_owner,
        &inst.setgid_group,
        &inst.queue_dir,
        accounts::group_exists,
    );
    if inst.is_root {
        missing.extend(accounts::privileges(
            &found,
            &inst.config_dir.join("main.cf"),
            &inst.mail_owner,
            &inst.setgid_group,
        ));
    } else {
        // Nothing runs as mail_owner when an ordinary user starts the
        // suite, so a missing account is only worth a warning.
        for m in &mut missing {
            if m.severity == Severity::Fatal {
                m.severity = Severity::Warning;
            }
        }
    }
    let fatal = missing.iter().any(Message::is_fatal);
    out.extend(missing);
    if fatal {
        return out;
    }
    let ids = match (inst.is_root, found.owner, found.group) {
        (true, Some(mail_owner), Some(setgid_group)) => Some(Ids {
            mail_owner,
            setgid_group,
        }),
        _ => None,
    };
    match layout::create_missing(&inst.queue_dir) {
        Ok(created) => {
            for entry in created.iter().filter(|_| ids.is_some()) {
                if let Err(e) = layout::apply(entry, ids.as_ref()) {
                    out.push(Message::warning(format!(
                        "{}: {}",
                        entry.path.display(),
                        conf::io_reason(&e)
                    )));
                }
            }
        }
        Err(e) => {
            out.push(Message::warning(format!(
                "{}: {}",
                inst.queue_dir.display(),
                conf::io_reason(&e)
            )));
            out.push(Message::fatal("unable to create missing queue directories"));
            return out;
        }
    }
    // postfix-script's check-warn passes, in its order.
    out.extend(root_entries(inst, ids.is_some()));
    walk_config(&inst.config_dir, inst.is_root, &mut out);
    out.extend(data_directory(inst, ids.as_ref()));
    if let Some(ids) = &ids {
        out.extend(queue_owners(inst, ids));
    }
    out.extend(writable_queues(inst));
    out.extend(damaged(&inst.queue_dir));
    out.extend(params::check(&inst.config, &master_text));
    out.extend(tables::check(&inst.config));
    out
}

/// `$queue_directory/.` and `pid`: owned by root, then not group or
/// other writable.
fn root_entries(inst: &Instance, check_owner: bool) -> Vec<Message> {
    let entries: Vec<_> = layout::entries(&inst.queue_dir)
        .into_iter()
        .filter(|e| e.owner == Owner::Root)
        .filter_map(|e| layout::stat(&e.path).ok().map(|st| (e, st)))
        .collect();
    let mut out = Vec::new();
    for (entry, (_, uid, _)) in entries.iter().filter(|_| check_owner) {
        if *uid != 0 {
            out.push(Message::warning(format!(
                "not owned by root: {}",
                entry.path.display()
            )));
        }
    }
    for (entry, (mode, _, _)) in &entries {
        if layout::is_too_writable(entry, *mode) {
            out.push(Message::warning(format!(
                "group or other writable: {}",
                entry.path.display()
            )));
        }
    }
    out
}

/// The mail_owner directories in `ls` order, maildrop last; then the
/// setgid_group ones, public before maildrop (postfix-script's order).
fn queue_owners(inst: &Instance, ids: &Ids) -> Vec<Message> {
    let mut owned: Vec<_> = layout::entries(&inst.queue_dir)
        .into_iter()
        .filter(|e| e.owner == Owner::MailOwner)
        .collect();
    owned.sort_by_key(|e| (e.path.ends_with("maildrop"), e.path.clone()));
    let mut out = Vec::new();
    for entry in &owned {
        if let Ok((_, uid, _)) = layout::stat(&entry.path)
            && uid != ids.mail_owner.0
        {
            out.push(Message::warning(format!(
                "not owned by {}: {}",
                inst.mail_owner,
                entry.path.display()
            )));
        }
    }
    let mut grouped: Vec<_> = owned.into_iter().filter(|e| e.setgid_group).collect();
    grouped.sort_by_key(|e| e.path.ends_with("maildrop"));
    for entry in grouped {
        if let Ok((_, _, gid)) = layout::stat(&entry.path)
            && gid != ids.setgid_group
        {
            out.push(Message::warning(format!(
                "not owned by group {}: {}",
                inst.setgid_group,
                entry.path.display()
            )));
        }
    }
    out
}

/// Queue directories writable beyond their postfix-files mode (Postfix
/// does not look; the issue asks for it), in `ls` order.
fn writable_queues(inst: &Instance) -> Vec<Message> {
    let mut queues: Vec<_> = layout::entries(&inst.queue_dir)
        .into_iter()
        .filter(|e| e.is_queue)
        .collect();
    queues.sort_by(|a, b| a.path.cmp(&b.path));
    queues
        .into_iter()
        .filter(|e| {
            layout::stat(&e.path).is_ok_and(|(mode, _, _)| layout::is_too_writable(e, mode))
        })
        .map(|e| Message::warning(format!("group or other writable: {}", e.path.display())))
        .collect()
}

/// postfix-script's `find $config_directory/.`, in two passes as there:
/// everything not owned by root (when root runs this), then everything
/// group or other writable.
fn walk_config(config_dir: &Path, is_root: bool, out: &mut Vec<Message>) {
    let found = config_tree(config_dir);
    if is_root {
        for (path, meta) in &found {
            if meta.uid() != 0 {
                out.push(Message::warning(format!(
                    "not owned by root: {}",
                    path.display()
                )));
            }
        }
    }
    for (path, meta) in &found {
        if meta.mode() & 0o022 != 0 {
            out.push(Message::warning(format!(
                "group or other writable: {}",
                path.display()
            )));
        }
    }
}

/// Everything under `config_dir/.` in find(1)'s pre-order, with what it
/// points to (find -L), not descending into symlinked directories.
fn config_tree(config_dir: &Path) -> Vec<(std::path::PathBuf, fs::Metadata)> {
    let mut found = Vec::new();
    let mut todo = vec![(config_dir.join("."), 0)];
    while let Some((path, depth)) = todo.pop() {
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        let is_link = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        let descend = meta.is_dir() && !is_link && depth < MAX_DEPTH;
        found.push((path.clone(), meta));
        if !descend {
            continue;
        }
        let Ok(dir) = fs::read_dir(&path) else {
            continue;
        };
        let mut children: Vec<_> = dir.filter_map(Result::ok).map(|e| e.path()).collect();
        // Popped from the end: reverse order keeps the output sorted.
        children.sort_unstable_by(|a, b| b.cmp(a));
        todo.extend(children.into_iter().map(|c| (c, depth + 1)));
    }
    found
}

/// `$data_directory` belongs to mail_owner and is not writable by others.
fn data_directory(inst: &Instance, ids: Option<&Ids>) -> Vec<Message> {
    let mut out = Vec::new();
    if inst.data_dir.as_os_str().is_empty() {
        return out;
    }
    let top = inst.data_dir.join(".");
    let Ok(meta) = fs::metadata(&top) else {
        return out;
    };
    if let Some(ids) = ids
        && meta.uid() != ids.mail_owner.0
    {
        out.push(Message::warning(format!(
            "not owned by {}: {}",
            inst.mail_owner,
            top.display()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        out.push(Message::warning(format!(
            "group or other writable: {}",
            top.display()
        )));
    }
    out
}

/// Files in `corrupt/`, as postfix-script lists them.
fn damaged(queue_dir: &Path) -> Vec<Message> {
    let Ok(dir) = fs::read_dir(queue_dir.join("corrupt")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| Message::warning(format!("damaged message: corrupt/{n}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn instance(dir: &Path, extra: &str) -> Instance {
        let etc = dir.join("etc");
        fs::create_dir_all(&etc).unwrap();
        let user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .unwrap()
            .unwrap()
            .name;
        let group = nix::unistd::Group::from_gid(nix::unistd::getgid())
            .unwrap()
            .unwrap()
            .name;
        fs::write(
            etc.join("main.cf"),
            format!(
                "queue_directory = {}/spool\nmail_owner = {user}\nsetgid_group = {group}\n{extra}",
                dir.display()
            ),
        )
        .unwrap();
        fs::write(etc.join("master.cf"), "smtp inet n - n - - smtpd\n").unwrap();
        let config = conf::Config::load(&etc, &[]).unwrap();
        Instance::new(config, etc, false)
    }

    fn texts(found: &[Message]) -> Vec<String> {
        found.iter().map(|m| m.stderr_line("postfix")).collect()
    }

    #[test]
    fn a_clean_instance_passes_and_gets_its_queue() {
        let dir = tempfile::tempdir().unwrap();
        let inst = instance(dir.path(), "");
        assert_eq!(texts(&run(&inst)), Vec::<String>::new());
        assert!(dir.path().join("spool/maildrop").is_dir());
        assert!(dir.path().join("spool/pid").is_dir());
    }

    #[test]
    fn world_writable_queue_and_config_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let inst = instance(dir.path(), "");
        run(&inst);
        let hold = dir.path().join("spool/hold");
        fs::set_permissions(&hold, fs::Permissions::from_mode(0o777)).unwrap();
        let main_cf = dir.path().join("etc/main.cf");
        fs::set_permissions(&main_cf, fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(
            texts(&run(&inst)),
            [
                format!(
                    "postfix/postfix-script: warning: group or other writable: {}/etc/./main.cf",
                    dir.path().display()
                ),
                format!(
                    "postfix/postfix-script: warning: group or other writable: {}",
                    hold.display()
                ),
            ]
        );
    }

    #[test]
    fn missing_master_cf_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let inst = instance(dir.path(), "");
        fs::remove_file(dir.path().join("etc/master.cf")).unwrap();
        let found = run(&inst);
        assert!(found[0].is_fatal(), "{found:?}");
        assert!(found[0].text.ends_with("/etc/master.cf file found"));
    }

    #[test]
    fn a_missing_owner_is_a_warning_for_an_ordinary_user() {
        let dir = tempfile::tempdir().unwrap();
        let inst = instance(dir.path(), "mail_owner = nosuchuser\n");
        let found = run(&inst);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .text
                .contains("unknown user name value: nosuchuser")
        );
        assert!(found[1].text.starts_with("to create it: useradd"));
        assert!(!found.iter().any(Message::is_fatal));
    }

    #[test]
    fn an_uncreatable_queue_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let inst = instance(dir.path(), "");
        // A file where the queue directory should be.
        fs::write(dir.path().join("spool"), "").unwrap();
        let found = run(&inst);
        let last = found.last().unwrap();
        assert!(last.is_fatal(), "{found:?}");
        assert_eq!(last.text, "unable to create missing queue directories");
    }

    #[test]
    fn damaged_messages_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let inst = instance(dir.path(), "");
        run(&inst);
        fs::write(dir.path().join("spool/corrupt/4ABC"), "x").unwrap();
        assert_eq!(
            texts(&run(&inst)),
            ["postfix/postfix-script: warning: damaged message: corrupt/4ABC"]
        );
    }
}
