//! Real peer programs the e2e tests talk to or compare against: Postfix's
//! own `postconf`/`postmap`, swaks, smtp-source, dnsmasq, procmail,
//! python3. A missing peer skips the test with a message, except under
//! `CI=true`, where it fails the test: CI installs every peer
//! (`scripts/test`), so a skip there would hide a broken install.

use std::env;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::binary;

/// Searched after `$PATH`: Postfix's programs live in `/usr/sbin`, which
/// an ordinary user's `$PATH` often lacks.
const SYSTEM_DIRS: [&str; 4] = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// The real peer program `name`, or `None` when it is not installed.
///
/// # Panics
/// When it is missing and `$CI` is `true`.
pub fn peer(name: &str) -> Option<PathBuf> {
    match decide(name, find(name), env::var_os("CI").as_deref()) {
        Ok(found) => found,
        Err(message) => panic!("{message}"),
    }
}

/// Gets the peer or prints `skipped: ...` and returns from the calling
/// test (which must return `()`).
///
/// ```no_run
/// let swaks = e2e::require_peer!("swaks");
/// ```
#[macro_export]
macro_rules! require_peer {
    ($name:expr) => {
        match $crate::peer($name) {
            ::std::option::Option::Some(path) => path,
            ::std::option::Option::None => {
                eprintln!(
                    "skipped: peer `{}` is not installed (scripts/test installs it)",
                    $name
                );
                return;
            }
        }
    };
}

/// The rule, apart from the environment: a found peer is used; a missing
/// one is a skip (`Ok(None)`), or an error under `CI=true`.
fn decide(
    name: &str,
    found: Option<PathBuf>,
    ci: Option<&OsStr>,
) -> Result<Option<PathBuf>, String> {
    match found {
        Some(path) => Ok(Some(path)),
        None if ci == Some(OsStr::new("true")) => Err(format!(
            "peer `{name}` is required under CI=true, and it is not installed \
             (scripts/test installs it; did the install fail?)"
        )),
        None => Ok(None),
    }
}

/// `name` on `$PATH`, then in the system directories, never one of our
/// own binaries (a developer may have `target/debug` on `$PATH`).
fn find(name: &str) -> Option<PathBuf> {
    let path_dirs = env::var_os("PATH")
        .map(|p| env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let dirs = path_dirs
        .into_iter()
        .chain(SYSTEM_DIRS.iter().map(PathBuf::from));
    let ours: Vec<PathBuf> = binary::bin_dirs()
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    dirs.filter(|dir| !is_one_of(dir, &ours))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_one_of(dir: &Path, ours: &[PathBuf]) -> bool {
    dir.canonicalize().is_ok_and(|d| ours.contains(&d))
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(value: &str) -> Option<&OsStr> {
        Some(OsStr::new(value))
    }

    #[test]
    fn a_found_peer_is_used_with_or_without_ci() {
        let sh = PathBuf::from("/bin/sh");
        assert_eq!(decide("sh", Some(sh.clone()), None), Ok(Some(sh.clone())));
        assert_eq!(decide("sh", Some(sh.clone()), ci("true")), Ok(Some(sh)));
    }

    #[test]
    fn a_missing_peer_is_a_skip_outside_ci() {
        assert_eq!(decide("swaks", None, None), Ok(None));
        assert_eq!(decide("swaks", None, ci("false")), Ok(None));
        assert_eq!(decide("swaks", None, ci("")), Ok(None));
    }

    #[test]
    fn a_missing_peer_is_an_error_under_ci_true() {
        let err = decide("swaks", None, ci("true")).unwrap_err();
        assert!(
            err.contains("peer `swaks` is required under CI=true"),
            "{err}"
        );
    }

    #[test]
    fn find_sees_sh_and_not_a_made_up_name() {
        assert!(find("sh").is_some());
        assert_eq!(find("no-such-peer-program-x7"), None);
    }

    #[test]
    fn executables_need_an_x_bit() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("tool");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        assert!(!is_executable(&file));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_executable(&file));
        assert!(!is_executable(tmp.path()));
    }
}
