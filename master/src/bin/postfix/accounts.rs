//! `mail_owner` and `setgid_group`: whether they exist, and the commands
//! that create them when they do not (the issue asks `postfix check` to
//! say how, which Postfix itself leaves to the installer).

use std::path::Path;

use nix::unistd::{Group, User};

use crate::say::Message;

/// What the two accounts look like on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accounts {
    pub(crate) owner: Option<(u32, u32)>,
    pub(crate) group: Option<u32>,
}

/// Looks up `mail_owner` (uid, gid) and `setgid_group` (gid).
pub(crate) fn look_up(mail_owner: &str, setgid_group: &str) -> Accounts {
    let owner = User::from_name(mail_owner)
        .ok()
        .flatten()
        .map(|u| (u.uid.as_raw(), u.gid.as_raw()));
    let group = Group::from_name(setgid_group)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw());
    Accounts { owner, group }
}

/// Postfix's messages for missing accounts (mail_params.c: fatal, because
/// nothing can run without them), each followed by the command that
/// creates the account. `group_exists` says whether a group named like
/// the missing user is already there.
pub(crate) fn report(
    accounts: &Accounts,
    main_cf: &Path,
    mail_owner: &str,
    setgid_group: &str,
    queue_dir: &Path,
    group_exists: impl Fn(&str) -> bool,
) -> Vec<Message> {
    let mut out = Vec::new();
    let file = main_cf.display();
    if accounts.owner.is_none() {
        out.push(
            Message::fatal(format!(
                "file {file}: parameter mail_owner: unknown user name value: {mail_owner}"
            ))
            .of_postfix(),
        );
        let group = if group_exists(mail_owner) {
            format!("--gid {mail_owner}")
        } else {
            "--user-group".to_owned()
        };
        out.push(Message::info(format!(
            "to create it: useradd --system {group} --home-dir {} --no-create-home \
             --shell /usr/sbin/nologin {mail_owner}",
            queue_dir.display()
        )));
    }
    if accounts.group.is_none() {
        out.push(
            Message::fatal(format!(
                "file {file}: parameter setgid_group: unknown group name: {setgid_group}"
            ))
            .of_postfix(),
        );
        out.push(Message::info(format!(
            "to create it: groupadd --system {setgid_group}"
        )));
    }
    out
}

/// Postfix's refusals of accounts that exist but would not separate
/// privileges: a mail_owner with uid 0, a setgid_group with gid 0, or
/// both sharing a group. Only root drops privileges, so only root needs
/// these.
pub(crate) fn privileges(
    accounts: &Accounts,
    main_cf: &Path,
    mail_owner: &str,
    setgid_group: &str,
) -> Vec<Message> {
    let file = main_cf.display();
    let mut out = Vec::new();
    if let Some((0, _)) = accounts.owner {
        out.push(format!(
            "file {file}: parameter mail_owner: user {mail_owner} has privileged user ID"
        ));
    }
    if accounts.group == Some(0) {
        out.push(format!(
            "file {file}: parameter setgid_group: group {setgid_group} has privileged group ID"
        ));
    }
    if let (Some((_, gid)), Some(group)) = (accounts.owner, accounts.group)
        && gid == group
        && out.is_empty()
    {
        out.push(format!(
            "file {file}: parameters mail_owner and setgid_group: user {mail_owner} and \
             group {setgid_group} have the same group ID: {gid}"
        ));
    }
    // Postfix stops at the first one.
    out.truncate(1);
    out.into_iter()
        .map(|text| Message::fatal(text).of_postfix())
        .collect()
}

/// Whether a group called `name` exists.
pub(crate) fn group_exists(name: &str) -> bool {
    Group::from_name(name).ok().flatten().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists() {
        let found = look_up("root", "root");
        assert_eq!(found.owner, Some((0, 0)));
        assert_eq!(found.group, Some(0));
    }

    #[test]
    fn missing_accounts_come_with_the_commands_that_create_them() {
        let none = Accounts {
            owner: None,
            group: None,
        };
        let lines: Vec<String> = report(
            &none,
            Path::new("/e/main.cf"),
            "pf",
            "pfdrop",
            Path::new("/q"),
            |_| false,
        )
        .iter()
        .map(|m| m.stderr_line("postfix"))
        .collect();
        assert_eq!(
            lines,
            [
                "postfix: fatal: file /e/main.cf: parameter mail_owner: unknown user name value: pf",
                "postfix/postfix-script: to create it: useradd --system --user-group \
                 --home-dir /q --no-create-home --shell /usr/sbin/nologin pf",
                "postfix: fatal: file /e/main.cf: parameter setgid_group: unknown group name: pfdrop",
                "postfix/postfix-script: to create it: groupadd --system pfdrop",
            ]
        );
        let with_group = report(&none, Path::new("/m"), "pf", "g", Path::new("/q"), |_| true);
        assert!(with_group[1].text.contains("--gid pf "), "{with_group:?}");
    }

    #[test]
    fn privileged_or_shared_ids_are_refused() {
        let main_cf = Path::new("/e/main.cf");
        let texts = |owner, group| -> Vec<String> {
            let found = Accounts { owner, group };
            privileges(&found, main_cf, "pf", "pd")
                .iter()
                .map(|m| m.stderr_line("postfix"))
                .collect()
        };
        assert_eq!(
            texts(Some((0, 0)), Some(0)),
            [
                "postfix: fatal: file /e/main.cf: parameter mail_owner: user pf has privileged user ID"
            ]
        );
        assert_eq!(
            texts(Some((5, 6)), Some(0)),
            [
                "postfix: fatal: file /e/main.cf: parameter setgid_group: group pd has privileged group ID"
            ]
        );
        assert_eq!(
            texts(Some((5, 6)), Some(6)),
            [
                "postfix: fatal: file /e/main.cf: parameters mail_owner and setgid_group: \
              user pf and group pd have the same group ID: 6"
            ]
        );
        assert!(texts(Some((5, 6)), Some(7)).is_empty());
    }

    #[test]
    fn present_accounts_say_nothing() {
        let ok = Accounts {
            owner: Some((5, 5)),
            group: Some(6),
        };
        assert!(report(&ok, Path::new("/m"), "a", "b", Path::new("/q"), |_| true).is_empty());
    }
}
